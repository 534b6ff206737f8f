//! The forms a policy setting takes besides a plain list: families as `true`, `false` or globs, one glob or
//! many, CPU and memory amounts as ECS writes them, and comma-separated lists.

use serde::Deserialize;

/// A bad setting: the variable, and what is wrong.
pub type Problem = (&'static str, String);

/// A CPU or memory amount as ECS writes it: a number (CPU units, MiB) or text (`"2 vCPU"`, `"4 GB"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(super) enum Amount {
    Number(u64),
    Text(String),
}

impl Amount {
    pub(super) fn value(&self) -> serde_json::Value {
        match self {
            Self::Number(n) => serde_json::Value::from(*n),
            Self::Text(t) => serde_json::Value::from(t.as_str()),
        }
    }
}

/// Families, as `true` (any), `false` (none), or globs.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum Families {
    All(bool),
    Globs(OneOrMany),
}

impl Families {
    /// From a variable: `true`, `false`, or a comma-separated list of globs.
    pub(super) fn from_var(value: &str) -> Self {
        match crate::ops::config::values::parse_bool(value) {
            Some(all) => Self::All(all),
            None => Self::Globs(OneOrMany::Many(split_list(value))),
        }
    }

    pub(super) fn patterns(&self) -> Vec<String> {
        match self {
            Self::All(true) => vec!["*".to_owned()],
            Self::All(false) => Vec::new(),
            Self::Globs(globs) => globs.list(),
        }
    }
}

/// A glob or a list of them.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub(super) fn list(&self) -> Vec<String> {
        match self {
            Self::One(one) => vec![one.clone()],
            Self::Many(many) => many.clone(),
        }
    }
}

/// A limit as given, read as ECS reads the task's `cpu` or `memory`.
pub(super) fn amount(
    given: Option<(Amount, &'static str)>,
    what: &str,
    unit: &str,
    read: fn(&serde_json::Value) -> Option<u64>,
) -> Result<Option<u64>, Problem> {
    given
        .map(|(amount, from)| {
            read(&amount.value()).filter(|n| *n > 0).ok_or_else(|| {
                (
                    from,
                    format!("{what}: {} is not an amount in {unit}", amount.value()),
                )
            })
        })
        .transpose()
}

/// A comma-separated list; a comma inside `{...}` belongs to the glob.
pub fn split_list(text: &str) -> Vec<String> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                items.push(text[start..i].trim().to_owned());
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(text[start..].trim().to_owned());
    items.retain(|i| !i.is_empty());
    items
}
