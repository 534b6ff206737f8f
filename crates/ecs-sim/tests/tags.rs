//! Tags on ECS resources, held to ECS's limits.

mod common;

use aws_sdk_ecs::error::ProvideErrorMetadata;
use aws_sdk_ecs::types::Tag;
use common::Stepped;

#[tokio::test]
async fn a_resource_holds_at_most_fifty_tags_and_aws_ones_do_not_count() {
    let bed = Stepped::start().await;
    let arn = bed.register("svc", "app:1", "healthy", false).await;
    let tag = |key: String| Tag::builder().key(key).value("v").build();
    let mut request = bed.ecs.tag_resource().resource_arn(&arn);
    for i in 0..49 {
        request = request.tags(tag(format!("team-{i}")));
    }
    request.send().await.expect("49 tags");
    bed.ecs
        .tag_resource()
        .resource_arn(&arn)
        .tags(tag("aws:cloudformation:stack-name".into()))
        .tags(tag("fiftieth".into()))
        .send()
        .await
        .expect("the fiftieth, and one of AWS's that does not count");
    // Replacing a tag's value adds none.
    bed.ecs
        .tag_resource()
        .resource_arn(&arn)
        .tags(tag("team-0".into()))
        .send()
        .await
        .expect("a value replaced");
    let err = bed
        .ecs
        .tag_resource()
        .resource_arn(&arn)
        .tags(tag("fifty-first".into()))
        .send()
        .await
        .expect_err("a fifty-first tag");
    assert_eq!(err.code(), Some("InvalidParameterException"), "{err:?}");
    let listed = bed
        .ecs
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .expect("list");
    assert_eq!(listed.tags().len(), 51, "the refused call changed nothing");
    bed.ecs
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("team-1")
        .send()
        .await
        .expect("untag");
    bed.ecs
        .tag_resource()
        .resource_arn(&arn)
        .tags(tag("fifty-first".into()))
        .send()
        .await
        .expect("room again");
}
