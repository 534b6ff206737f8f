//! The environment as the worker reads it: each variable by name, its value trimmed, an empty one unset.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

/// A bad variable: its name, and what is wrong with its value.
pub type Problem = (&'static str, String);

/// The variables, by name.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    /// Name -> value, as given.
    values: BTreeMap<String, String>,
    /// Every name asked for, so that a test can hold the documented list of variables to what is read.
    asked: RefCell<BTreeSet<&'static str>>,
}

impl Vars {
    /// The variables `pairs` gives (name, value); a later one of the same name wins.
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        Self {
            values: pairs.into_iter().collect(),
            asked: RefCell::default(),
        }
    }

    /// The value of `name`, trimmed; `None` when it is unset or empty.
    pub fn get(&self, name: &'static str) -> Option<String> {
        self.asked.borrow_mut().insert(name);
        self.values
            .get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// Every name whose value was asked for so far.
    pub fn asked(&self) -> BTreeSet<&'static str> {
        self.asked.borrow().clone()
    }

    /// The variables whose names `keep` takes, as (name, value) pairs.
    pub fn pairs(&self, keep: impl Fn(&str) -> bool) -> Vec<(String, String)> {
        self.values
            .iter()
            .filter(|(k, _)| keep(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_trimmed_and_an_empty_one_is_unset() {
        let vars = Vars::new([
            ("A".to_owned(), " x ".to_owned()),
            ("B".to_owned(), "  ".to_owned()),
        ]);
        assert_eq!(vars.get("A").as_deref(), Some("x"));
        assert_eq!(vars.get("B"), None);
        assert_eq!(vars.get("C"), None);
        assert_eq!(vars.asked(), BTreeSet::from(["A", "B", "C"]));
    }
}
