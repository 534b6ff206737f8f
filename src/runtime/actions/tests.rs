//! The message actions read from a message, and what each of them asks for.

use std::collections::BTreeMap;

use super::*;

const BODY: &str =
    r#"{"family": "web", "containerDefinitions": [{"name": "web", "image": "nginx"}]}"#;

fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn the_action_attribute_picks_what_a_message_does() {
    let deploy = Action::read(BODY, &attrs(&[("service", "web")])).expect("valid");
    assert!(matches!(deploy, Action::Deploy(_)), "{deploy:?}");
    assert_eq!(deploy.name(), "deploy");
    let explicit = Action::read(BODY, &attrs(&[("service", "web"), ("action", " deploy ")]));
    assert_eq!(explicit, Ok(deploy));

    let image = Action::read(
        r#"{"web": "nginx:1.28"}"#,
        &attrs(&[("service", "web"), ("action", "image"), ("cluster", "prod")]),
    )
    .expect("valid");
    let Action::Image(Image { images, .. }) = &image else {
        panic!("{image:?}");
    };
    assert_eq!(images["web"], "nginx:1.28");
    assert_eq!(
        (image.target(), image.cluster()),
        (Target::Service("web".into()), Some("prod"))
    );

    let unknown = format!(
        "message attribute 'action' (\"promote\") is not one of {}",
        Action::NAMES.join(", ")
    );
    for name in ["deploy", "image", "redeploy", "rollback"] {
        assert!(unknown.contains(name), "{unknown}");
    }
    let cases = [
        (
            r#"{"web": "nginx"}"#,
            vec![("service", "false"), ("action", "image")],
            "action 'image' changes what a service runs",
        ),
        (
            BODY,
            vec![("service", "web"), ("action", "image")],
            "the image must be a string",
        ),
        (
            BODY,
            vec![("service", "web"), ("action", "promote")],
            unknown.as_str(),
        ),
        (
            r#"{"web": "nginx"}"#,
            vec![("action", "image")],
            "message attribute 'service' is missing",
        ),
        (
            "{}",
            vec![("service", "false"), ("action", "redeploy")],
            "action 'redeploy' changes what a service runs",
        ),
    ];
    let rollback = |revision: &str| {
        Action::read(
            "{}",
            &attrs(&[
                ("service", "web"),
                ("action", "rollback"),
                ("revision", revision),
            ]),
        )
    };
    for good in ["web:12", "arn:aws:ecs:us-east-1:1:task-definition/web:12"] {
        let Ok(Action::Rollback(Rollback {
            revision: Some(named),
            ..
        })) = rollback(good)
        else {
            panic!("{good}");
        };
        assert_eq!(named, good);
    }
    assert!(matches!(
        rollback(" "),
        Ok(Action::Rollback(Rollback { revision: None, .. }))
    ));
    let redeploy = Action::read(
        "ignored",
        &attrs(&[("service", "web"), ("action", "redeploy")]),
    );
    assert!(matches!(redeploy, Ok(Action::Redeploy(_))), "{redeploy:?}");
    for bad in [
        "web",
        "web:x",
        "arn:aws:ecs:us-east-1:1:service/web:1",
        ":3",
        "a b:1",
    ] {
        let err = rollback(bad).expect_err(bad);
        assert!(err.contains("message attribute 'revision'"), "{bad}: {err}");
    }
    for (body, attributes, part) in cases {
        let err = Action::read(body, &attrs(&attributes)).expect_err(part);
        assert!(err.contains(part), "{attributes:?}: {err}");
    }
}

#[test]
fn every_action_is_listed_once_under_its_own_name() {
    let mut names = Action::NAMES.to_vec();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), Action::NAMES.len(), "{:?}", Action::NAMES);
    // Only the actions that deploy a revision registered earlier record beside that revision's own record.
    let reusing: Vec<&str> = [
        Action::read(BODY, &attrs(&[("service", "web")])),
        Action::read(
            r#"{"web": "x"}"#,
            &attrs(&[("service", "web"), ("action", "image")]),
        ),
        Action::read("", &attrs(&[("service", "web"), ("action", "redeploy")])),
        Action::read("", &attrs(&[("service", "web"), ("action", "rollback")])),
    ]
    .into_iter()
    .map(|a| a.expect("valid"))
    .filter(Action::reuses_revision)
    .map(|a| a.name())
    .collect();
    assert_eq!(reusing, ["redeploy", "rollback"]);
}
