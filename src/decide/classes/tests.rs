//! The classification against the model: every leaf member path in exactly one class, none stale.

use std::collections::BTreeMap;

use ecs_model::Kind;

use super::*;

/// The leaf member paths of RegisterTaskDefinition as the embedded model has them.
fn leaves() -> Vec<String> {
    ecs_model::model()
        .member_paths("RegisterTaskDefinition")
        .into_iter()
        .filter(|(_, kind)| *kind == Kind::Scalar)
        .map(|(path, _)| path)
        .collect()
}

#[test]
fn every_member_path_of_the_model_is_classified_once() {
    let mut named: BTreeMap<&str, usize> = BTreeMap::new();
    for (path, _) in RUNS {
        *named.entry(path).or_default() += 1;
    }
    for (_, paths) in POWERS {
        for path in paths {
            *named.entry(path).or_default() += 1;
        }
    }
    let twice: Vec<_> = named.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "named in more than one place: {twice:?}");
    let leaves = leaves();
    let unclassified: Vec<_> = leaves
        .iter()
        .filter(|p| !named.contains_key(p.as_str()))
        .collect();
    assert!(
        unclassified.is_empty(),
        "the model has member paths the classification does not name; add each to RUNS (with why) or \
         to a group of POWERS in src/decide/classes.rs: {unclassified:?}"
    );
    let stale: Vec<_> = named
        .keys()
        .filter(|p| !leaves.iter().any(|l| l == *p))
        .collect();
    assert!(stale.is_empty(), "named but not in the model: {stale:?}");
}

#[test]
fn each_group_has_its_members_and_unknown_paths_are_unclassified() {
    for privilege in Privilege::ALL {
        assert!(
            !paths_of(privilege).is_empty(),
            "{privilege:?} has no member"
        );
    }
    assert_eq!(class_of("containerDefinitions[].image"), Class::Runs);
    assert_eq!(
        class_of("containerDefinitions[].privileged"),
        Class::Power(Privilege::Privileged)
    );
    assert_eq!(
        class_of("containerDefinitions[].somethingNew"),
        Class::Unclassified
    );
}
