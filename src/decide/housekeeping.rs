//! Which revisions of a family are deregistered after a deployment settles (`KEEP_REVISIONS`): the ACTIVE
//! ones older than the newest N, never one a service runs or would roll back to.

use std::collections::BTreeSet;

/// The most revisions deregistered after one deployment: DeregisterTaskDefinition's sustained rate is one a
/// second, shared with every other caller in the account, so a backlog is worked off a few at a time.
pub const MAX_DEREGISTERED: usize = 5;

/// The revisions to deregister: of `newest_first` (a family's ACTIVE revisions, newest first), those past
/// the newest `keep` that are not `protected`, at most [`MAX_DEREGISTERED`] of them, oldest first.
pub fn to_deregister(
    newest_first: &[String],
    keep: usize,
    protected: &BTreeSet<String>,
) -> Vec<String> {
    let mut old: Vec<String> = newest_first
        .iter()
        .skip(keep)
        .filter(|arn| !protected.contains(*arn))
        .cloned()
        .collect();
    old.reverse();
    old.truncate(MAX_DEREGISTERED);
    old
}

#[cfg(test)]
mod tests {
    use super::*;

    fn revisions(numbers: &[u32]) -> Vec<String> {
        numbers
            .iter()
            .map(|n| format!("arn:aws:ecs:us-east-1:1:task-definition/web:{n}"))
            .collect()
    }

    #[test]
    fn old_revisions_go_but_never_one_in_use_or_to_roll_back_to() {
        let all = revisions(&[9, 8, 7, 6, 5, 4]);
        let protected: BTreeSet<String> = revisions(&[6, 4]).into_iter().collect();
        assert_eq!(to_deregister(&all, 2, &protected), revisions(&[5, 7]));
        assert_eq!(to_deregister(&all, 6, &protected), Vec::<String>::new());
        assert_eq!(
            to_deregister(&all, 10, &BTreeSet::new()),
            Vec::<String>::new()
        );
        // A backlog is worked off the oldest first, a few at a time.
        let many = revisions(&(1..=20).rev().collect::<Vec<_>>());
        assert_eq!(
            to_deregister(&many, 1, &BTreeSet::new()),
            revisions(&[1, 2, 3, 4, 5])
        );
    }
}
