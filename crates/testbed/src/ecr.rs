//! Images in moto's ECR: pushed, tags moved and deleted, as a registry would have them.

use crate::local::{ACCOUNT_ID, REGION};

/// The image `repository:tag` in the test account's ECR registry, as a task definition names it.
pub fn ecr_image(repository: &str, tag: &str) -> String {
    format!("{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/{repository}:{tag}")
}

/// Pushes an image whose one layer is `content` to `repository` (created if missing) as `tag`, and returns
/// its digest. Different contents give different digests.
pub async fn push_image(
    ecr: &aws_sdk_ecr::Client,
    repository: &str,
    tag: &str,
    content: &str,
) -> String {
    let created = ecr
        .create_repository()
        .repository_name(repository)
        .send()
        .await;
    if let Err(e) = created {
        let exists = e
            .as_service_error()
            .is_some_and(|e| e.is_repository_already_exists_exception());
        assert!(exists, "create ECR repository {repository}: {e:?}");
    }
    let layer: String = content
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(64)
        .map(|b| format!("{:x}", b % 16))
        .collect();
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 1,
            "digest": format!("sha256:{layer}"),
        },
        "layers": [{
            "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
            "size": content.len(),
            "digest": format!("sha256:{layer}"),
        }],
    });
    put_manifest(ecr, repository, tag, &manifest.to_string()).await
}

/// Points `tag` of `repository` at the image `to` (another tag) points to, as `docker tag` and
/// `docker push` would; returns the digest.
pub async fn move_tag(ecr: &aws_sdk_ecr::Client, repository: &str, tag: &str, to: &str) -> String {
    let image = ecr
        .batch_get_image()
        .repository_name(repository)
        .image_ids(
            aws_sdk_ecr::types::ImageIdentifier::builder()
                .image_tag(to)
                .build(),
        )
        .send()
        .await
        .expect("batch get image");
    let manifest = image
        .images()
        .first()
        .and_then(|i| i.image_manifest())
        .unwrap_or_else(|| panic!("{repository}:{to} is not in ECR"))
        .to_owned();
    put_manifest(ecr, repository, tag, &manifest).await
}

/// Deletes `tag` from `repository`, as `aws ecr batch-delete-image` would: a pull by it fails after.
pub async fn delete_tag(ecr: &aws_sdk_ecr::Client, repository: &str, tag: &str) {
    ecr.batch_delete_image()
        .repository_name(repository)
        .image_ids(
            aws_sdk_ecr::types::ImageIdentifier::builder()
                .image_tag(tag)
                .build(),
        )
        .send()
        .await
        .expect("delete the tag");
}

async fn put_manifest(
    ecr: &aws_sdk_ecr::Client,
    repository: &str,
    tag: &str,
    manifest: &str,
) -> String {
    ecr.put_image()
        .repository_name(repository)
        .image_tag(tag)
        .image_manifest(manifest)
        .send()
        .await
        .expect("put image")
        .image()
        .and_then(|i| i.image_id())
        .and_then(|id| id.image_digest())
        .expect("put image answers a digest")
        .to_owned()
}
