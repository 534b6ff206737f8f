//! Whether a running container runs what its image tag points to now: the `match` / `no_match` check of
//! a moved tag, decided from the digest ECS reports for the container and what ECR answers for the tag.

use std::collections::BTreeMap;

/// How many characters of a digest a reason shows (`sha256:` and 12 hex digits).
const DIGEST_SHOWN: usize = 19;

/// An image in an ECR repository named by tag: what BatchGetImage needs to resolve it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct EcrTag {
    /// The account id in the registry host, which BatchGetImage takes as `registryId`.
    pub registry_id: String,
    /// The region in the registry host: the ECR endpoint to ask.
    pub region: String,
    /// The repository, which may hold slashes.
    pub repository: String,
    /// The tag; `latest` when the image names none, as Docker reads it.
    pub tag: String,
}

/// The ECR repository and tag of `image`, when it is a private ECR image named by tag
/// (`ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn]/REPOSITORY[:TAG]`); `None` for any other image,
/// including one pinned by digest.
pub fn ecr_tag(image: &str) -> Option<EcrTag> {
    if image.contains('@') {
        return None;
    }
    let (host, path) = image.split_once('/')?;
    let labels: Vec<&str> = host.split('.').collect();
    let [
        registry_id,
        "dkr",
        ecr,
        region,
        "amazonaws",
        "com",
        rest @ ..,
    ] = labels.as_slice()
    else {
        return None;
    };
    let valid = (*ecr == "ecr" || *ecr == "ecr-fips")
        && (rest.is_empty() || rest == ["cn"])
        && registry_id.len() == 12
        && registry_id.chars().all(|c| c.is_ascii_digit())
        && !region.is_empty()
        && !path.is_empty();
    if !valid {
        return None;
    }
    let (repository, tag) = path.rsplit_once(':').unwrap_or((path, "latest"));
    Some(EcrTag {
        registry_id: (*registry_id).to_owned(),
        region: (*region).to_owned(),
        repository: repository.to_owned(),
        tag: tag.to_owned(),
    })
}

/// What ECR answered for one image tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// The digest the tag points to now.
    Digest(String),
    /// ECR has no such tag (any more).
    NotFound,
    /// ECR could not be asked or refused: unreachable, access denied, or another failure, in its words.
    Unknown(String),
}

/// One container of a running task, as DescribeTasks reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningImage {
    /// The task's id, to name it.
    pub task: String,
    /// The container's name.
    pub container: String,
    /// The image it was started from, as the task definition names it.
    pub image: String,
    /// The digest it runs, once ECS knows it.
    pub digest: Option<String>,
}

/// How one running container compares with what its image reference points to now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    /// It runs the digest its tag points to (or its pinned digest).
    Match,
    /// It runs another digest than `expected`.
    NoMatch {
        /// The digest the image reference points to now.
        expected: String,
    },
    /// Nothing to compare with, and why: not an ECR image, ECR unreachable or denied, no digest yet.
    Unchecked(String),
}

/// Compares `running` with what its image points to now: its pinned digest, or ECR's answer for its tag
/// in `resolved` (by image).
pub fn mark(running: &RunningImage, resolved: &BTreeMap<String, Resolved>) -> Mark {
    let expected = match running.image.split_once('@') {
        Some((_, pinned)) => pinned.to_owned(),
        None if ecr_tag(&running.image).is_none() => {
            return Mark::Unchecked("not an ECR image".to_owned());
        }
        None => match resolved.get(&running.image) {
            Some(Resolved::Digest(digest)) => digest.clone(),
            Some(Resolved::NotFound) => {
                return Mark::Unchecked("the tag is not in ECR any more".to_owned());
            }
            Some(Resolved::Unknown(why)) => return Mark::Unchecked(format!("ECR: {why}")),
            None => return Mark::Unchecked("ECR was not asked".to_owned()),
        },
    };
    match &running.digest {
        Some(digest) if *digest == expected => Mark::Match,
        Some(_) => Mark::NoMatch { expected },
        None => Mark::Unchecked("ECS reports no digest for the container yet".to_owned()),
    }
}

/// Why the running containers fail the digest check, naming each that runs another digest than its image
/// points to now; `None` when none does. Unchecked containers do not fail it.
pub fn mismatch(running: &[RunningImage], resolved: &BTreeMap<String, Resolved>) -> Option<String> {
    let wrong: Vec<String> = running
        .iter()
        .filter_map(|r| match mark(r, resolved) {
            Mark::NoMatch { expected } => Some(format!(
                "task {} container {} runs {} but {} points to {} now",
                r.task,
                r.container,
                short(r.digest.as_deref().unwrap_or("?")),
                r.image,
                short(&expected)
            )),
            Mark::Match | Mark::Unchecked(_) => None,
        })
        .collect();
    if wrong.is_empty() {
        return None;
    }
    Some(format!(
        "image digests no_match: {}; the tag moved while the tasks started: send another redeploy",
        wrong.join("; ")
    ))
}

/// The digest as reasons and tables show it.
pub fn short(digest: &str) -> &str {
    digest.get(..DIGEST_SHOWN).unwrap_or(digest)
}

#[cfg(test)]
mod tests;
