//! Table tests of the digest check: which images are ECR tags, and how each running container is marked.

use std::collections::BTreeMap;

use super::*;

const PROD: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/web:prod";

/// Registry, region, repository and tag.
type Parts = (&'static str, &'static str, &'static str, &'static str);

#[test]
fn ecr_images_by_tag_are_recognised_and_others_are_not() {
    let cases: [(&str, Option<Parts>); 9] = [
        (
            PROD,
            Some(("123456789012", "eu-west-1", "team/web", "prod")),
        ),
        (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/web",
            Some(("123456789012", "us-east-1", "web", "latest")),
        ),
        (
            "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/web:1",
            Some(("123456789012", "us-gov-west-1", "web", "1")),
        ),
        (
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/web:1",
            Some(("123456789012", "cn-north-1", "web", "1")),
        ),
        (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/web@sha256:ab",
            None,
        ),
        ("nginx:1.27", None),
        ("public.ecr.aws/nginx/nginx:1", None),
        ("1234.dkr.ecr.us-east-1.amazonaws.com/web:1", None),
        ("123456789012.dkr.ecr.us-east-1.example.com/web:1", None),
    ];
    for (image, expected) in cases {
        let got = ecr_tag(image);
        let got = got.as_ref().map(|t| {
            (
                t.registry_id.as_str(),
                t.region.as_str(),
                t.repository.as_str(),
                t.tag.as_str(),
            )
        });
        assert_eq!(got, expected, "{image}");
    }
}

fn running(image: &str, digest: Option<&str>) -> RunningImage {
    RunningImage {
        task: "t1".to_owned(),
        container: "web".to_owned(),
        image: image.to_owned(),
        digest: digest.map(str::to_owned),
    }
}

#[test]
fn each_container_is_marked_against_its_pin_or_what_ecr_says_of_its_tag() {
    let resolved = BTreeMap::from([(PROD.to_owned(), Resolved::Digest("sha256:bbb".to_owned()))]);
    let elsewhere = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/other:x";
    let cases = [
        (running(PROD, Some("sha256:bbb")), Mark::Match),
        (
            running(PROD, Some("sha256:aaa")),
            Mark::NoMatch {
                expected: "sha256:bbb".to_owned(),
            },
        ),
        (
            running(PROD, None),
            Mark::Unchecked("ECS reports no digest for the container yet".to_owned()),
        ),
        (running("web@sha256:ccc", Some("sha256:ccc")), Mark::Match),
        (
            running("web@sha256:ccc", Some("sha256:aaa")),
            Mark::NoMatch {
                expected: "sha256:ccc".to_owned(),
            },
        ),
        (
            running("nginx:1", Some("sha256:aaa")),
            Mark::Unchecked("not an ECR image".to_owned()),
        ),
        (
            running(elsewhere, Some("sha256:aaa")),
            Mark::Unchecked("ECR was not asked".to_owned()),
        ),
    ];
    for (image, expected) in cases {
        assert_eq!(mark(&image, &resolved), expected, "{image:?}");
    }
    let gone = BTreeMap::from([(PROD.to_owned(), Resolved::NotFound)]);
    assert!(matches!(
        mark(&running(PROD, Some("sha256:a")), &gone),
        Mark::Unchecked(_)
    ));
    let denied = BTreeMap::from([(
        PROD.to_owned(),
        Resolved::Unknown("AccessDeniedException".to_owned()),
    )]);
    assert_eq!(
        mark(&running(PROD, Some("sha256:a")), &denied),
        Mark::Unchecked("ECR: AccessDeniedException".to_owned())
    );
}

#[test]
fn only_a_container_on_another_digest_fails_the_check_and_the_reason_names_it() {
    let resolved = BTreeMap::from([(
        PROD.to_owned(),
        Resolved::Digest("sha256:bbbbbbbbbbbbbbbbbbbbbbbb".to_owned()),
    )]);
    let all_match = [running(PROD, Some("sha256:bbbbbbbbbbbbbbbbbbbbbbbb"))];
    assert_eq!(mismatch(&all_match, &resolved), None);
    let unchecked = [running("nginx:1", Some("sha256:a")), running(PROD, None)];
    assert_eq!(mismatch(&unchecked, &resolved), None);
    let mut moved = running(PROD, Some("sha256:aaaaaaaaaaaaaaaaaaaaaaaa"));
    moved.task = "t2".to_owned();
    let reason = mismatch(&[all_match[0].clone(), moved], &resolved).unwrap_or_default();
    assert!(
        reason.starts_with(
            "image digests no_match: task t2 container web runs sha256:aaaaaaaaaaaa but"
        ),
        "{reason}"
    );
    assert!(
        reason.contains(&format!("{PROD} points to sha256:bbbbbbbbbbbb now")),
        "{reason}"
    );
    assert!(!reason.contains("t1"), "{reason}");
}
