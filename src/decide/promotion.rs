//! What a promotion deploys: the images, pinned by digest, that a source service's running tasks run,
//! container by container, for an `image` message to the target service.

use std::collections::BTreeMap;

/// One container of one running task of the source service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningContainer {
    /// The container's name.
    pub name: String,
    /// The image it was started from, as the task definition names it.
    pub image: String,
    /// The digest it runs, when ECS knows it.
    pub digest: Option<String>,
}

/// The images to promote from `service`'s running containers: each container's image repository pinned
/// to the digest its tasks run. Every task must run the same digest of a container (a rollout still
/// under way does not), and every container's digest must be known.
pub fn promoted_images(
    service: &str,
    running: &[RunningContainer],
) -> Result<BTreeMap<String, String>, String> {
    if running.is_empty() {
        return Err(format!("service '{service}' runs no tasks to promote from"));
    }
    let mut images: BTreeMap<String, String> = BTreeMap::new();
    for container in running {
        let Some(digest) = &container.digest else {
            return Err(format!(
                "ECS does not know the image digest container '{}' of service '{service}' runs; promote once its tasks report it",
                container.name
            ));
        };
        let pinned = format!("{}@{digest}", repository(&container.image));
        match images.get(&container.name) {
            Some(seen) if *seen != pinned => {
                return Err(format!(
                    "the tasks of service '{service}' run different images of container '{}' ({seen} and {pinned}); promote once its rollout is over",
                    container.name
                ));
            }
            _ => {
                images.insert(container.name.clone(), pinned);
            }
        }
    }
    Ok(images)
}

/// An image reference without its tag or digest: `registry/repo:tag@sha256:...` -> `registry/repo`.
fn repository(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    let name_start = image.rfind('/').map_or(0, |i| i + 1);
    match image[name_start..].find(':') {
        Some(colon) => &image[..name_start + colon],
        None => image,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(name: &str, image: &str, digest: Option<&str>) -> RunningContainer {
        RunningContainer {
            name: name.into(),
            image: image.into(),
            digest: digest.map(str::to_owned),
        }
    }

    #[test]
    fn images_are_pinned_to_the_digest_the_tasks_run() {
        let ok = promoted_images(
            "stage",
            &[
                running(
                    "app",
                    "1.dkr.ecr.eu-west-1.amazonaws.com/app:stage",
                    Some("sha256:aa"),
                ),
                running(
                    "app",
                    "1.dkr.ecr.eu-west-1.amazonaws.com/app:stage",
                    Some("sha256:aa"),
                ),
                running(
                    "proxy",
                    "localhost:5000/envoy:v1@sha256:old",
                    Some("sha256:bb"),
                ),
                running("log", "fluent-bit", Some("sha256:cc")),
            ],
        )
        .expect("promotable");
        assert_eq!(ok["app"], "1.dkr.ecr.eu-west-1.amazonaws.com/app@sha256:aa");
        assert_eq!(ok["proxy"], "localhost:5000/envoy@sha256:bb");
        assert_eq!(ok["log"], "fluent-bit@sha256:cc");

        let cases = [
            (vec![], "runs no tasks"),
            (
                vec![running("app", "app:1", None)],
                "does not know the image digest container 'app'",
            ),
            (
                vec![
                    running("app", "app:1", Some("sha256:aa")),
                    running("app", "app:2", Some("sha256:bb")),
                ],
                "run different images of container 'app'",
            ),
        ];
        for (containers, says) in cases {
            let err = promoted_images("stage", &containers).expect_err(says);
            assert!(err.contains(says), "{err}");
        }
    }
}
