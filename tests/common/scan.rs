//! The layout test's reading of the source: which folders are checked, their files and module paths, and
//! which files each file imports, read from its `crate::` paths and its children's `use` lines.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, each allowed to use only the ones before it.
pub const LAYERS: [&str; 5] = ["decide", "aws", "ops", "runtime", "cli"];

/// What a pure decision may not use: the AWS SDK, the async runtime, HTTP, and the standard library's I/O.
pub const IMPURE: [&str; 14] = [
    "aws_sdk_",
    "aws_config",
    "aws_smithy",
    "tokio",
    "reqwest",
    "axum",
    "std::fs",
    "std::net",
    "std::io",
    "std::process",
    "std::thread",
    "std::env",
    "crate::aws",
    "crate::runtime",
];

/// The longest a source file's code (its tests left out) may be.
pub const MAX_CODE_LINES: usize = 400;

/// A folder of Rust files whose layout is checked: a crate's `src/`, or a crate's `tests/`.
#[derive(Debug, Clone, Copy)]
pub struct Tree {
    /// The folder, relative to the worker's (`src`, `crates/ecs-sim/tests`).
    pub folder: &'static str,
    /// The crate's name in paths (`ecs_deployment`, `ecs_sim`): how its `main.rs` uses its library.
    pub name: &'static str,
    /// Whether the folder holds tests, each file (or each folder's `main.rs`) a test crate of its own with
    /// the shared `common/` beside it: every line of them counts.
    pub tests: bool,
    /// The fewest files and imports the scan must find in it, so that a scanner that reads nothing fails.
    pub expected: (usize, usize),
}

/// The worker's own crate.
pub const WORKER: Tree = Tree {
    folder: "src",
    name: "ecs_deployment",
    tests: false,
    expected: (10, 20),
};

/// Every folder held to the same rules of cycles, opening lines and length: each crate of the workspace,
/// and the tests of the worker and of ecs-sim.
pub const TREES: [Tree; 7] = [
    WORKER,
    Tree {
        folder: "tests",
        name: "ecs_deployment",
        tests: true,
        expected: (10, 5),
    },
    Tree {
        folder: "crates/ecs-sim/src",
        name: "ecs_sim",
        tests: false,
        expected: (10, 20),
    },
    Tree {
        folder: "crates/ecs-sim/tests",
        name: "ecs_sim",
        tests: true,
        expected: (5, 0),
    },
    Tree {
        folder: "crates/bench/src",
        name: "ecs_bench",
        tests: false,
        expected: (5, 5),
    },
    Tree {
        folder: "crates/testbed/src",
        name: "testbed",
        tests: false,
        expected: (1, 0),
    },
    Tree {
        folder: "crates/ecs-model/src",
        name: "ecs_model",
        tests: false,
        expected: (1, 0),
    },
];

/// One source file of a crate.
#[derive(Debug)]
pub struct Source {
    /// The path from the worker's folder (`src/decide/rollout.rs`, `crates/ecs-sim/src/api.rs`).
    pub path: PathBuf,
    /// Its module path: `decide::rollout` is `["decide", "rollout"]`; `lib.rs` is empty.
    pub module: Vec<String>,
    /// The whole text.
    pub text: String,
    /// Whether the file holds only a source file's tests (`tests.rs`, `fixtures.rs`).
    pub test_only: bool,
    /// Whether every line of it counts towards its length: a test file, here or in a tests folder.
    pub all_code: bool,
    /// Whether it is the crate's `main.rs`, which uses the library by its crate name.
    pub main: bool,
}

impl Source {
    /// The code without its tests: the text before its `#[cfg(test)]` module, or nothing for a test file.
    pub fn code(&self) -> &str {
        if self.test_only {
            return "";
        }
        match self.text.find("\n#[cfg(test)]") {
            Some(at) => &self.text[..at],
            None => &self.text,
        }
    }

    /// The layer the file belongs to: its place in [`LAYERS`], or past them for `lib.rs` and `main.rs`.
    pub fn layer(&self) -> usize {
        self.module
            .first()
            .and_then(|top| LAYERS.iter().position(|l| l == top))
            .unwrap_or(LAYERS.len())
    }
}

/// Every `.rs` file under the `src/` of `tree`.
pub fn sources(tree: Tree) -> Vec<Source> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.join(tree.folder);
    let mut found = Vec::new();
    let mut folders = vec![root.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("a source folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(&root).expect("under src/").to_path_buf();
            let shown = Path::new(tree.folder).join(&relative);
            let mut module: Vec<String> = relative
                .with_extension("")
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            // A folder's `mod.rs` is the folder's module; so is a test crate's `main.rs`.
            if module
                .last()
                .is_some_and(|m| m == "mod" || m == "lib" || (tree.tests && m == "main"))
            {
                module.pop();
            }
            let name = relative
                .file_name()
                .map(|n| n.to_string_lossy().into_owned());
            found.push(Source {
                text: std::fs::read_to_string(&path).expect("a source file"),
                test_only: matches!(name.as_deref(), Some("tests.rs" | "fixtures.rs")),
                all_code: tree.tests || matches!(name.as_deref(), Some("tests.rs" | "fixtures.rs")),
                main: relative == Path::new("main.rs"),
                path: shown,
                module,
            });
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    assert!(
        found.len() >= tree.expected.0,
        "only {} source files found under {}",
        found.len(),
        root.display()
    );
    found
}

/// The code's lines that are not comments.
pub fn code_lines(code: &str) -> impl Iterator<Item = &str> {
    code.lines().filter(|l| !l.trim_start().starts_with("//"))
}

/// Whether `code` names `token` where an identifier or path starts (not inside a longer name).
pub fn names(code: &str, token: &str) -> bool {
    code_lines(code).any(|line| {
        line.match_indices(token).any(|(at, _)| {
            !line[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
    })
}

/// A path the code refers to, and whether it starts at the file's own module (`use child::...`) rather than
/// at the crate's root.
pub type Reference = (bool, Vec<String>);

/// The module paths `code` refers to: every `crate::a::b` (with `{...}` groups spread out), every
/// `<crate>::a::b` (in `main.rs`, `crate` being `tree`'s name), and every `use child::...` of a module the
/// file declares.
pub fn paths(code: &str, tree: Tree) -> Vec<Reference> {
    let by_name = format!("{}::", tree.name);
    let children: BTreeSet<String> = code_lines(code)
        .filter_map(|l| {
            let l = l.trim();
            let l = l.strip_prefix("pub ").unwrap_or(l);
            l.strip_prefix("mod ")?.strip_suffix(';').map(str::to_owned)
        })
        .collect();
    let mut found = Vec::new();
    for line in code_lines(code) {
        for prefix in ["crate::", by_name.as_str()] {
            for (at, _) in line.match_indices(prefix) {
                let before = line[..at].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let mut spread_out = Vec::new();
                spread(&line[at + prefix.len()..], Vec::new(), &mut spread_out);
                found.extend(spread_out.into_iter().map(|p| (false, p)));
            }
        }
        let trimmed = line.trim();
        let used = trimmed
            .strip_prefix("pub use ")
            .or_else(|| trimmed.strip_prefix("use "));
        if let Some(rest) = used
            && let Some((first, _)) = rest.split_once("::")
            && children.contains(first)
        {
            let mut spread_out = Vec::new();
            spread(rest, Vec::new(), &mut spread_out);
            found.extend(spread_out.into_iter().map(|p| (true, p)));
        }
    }
    found
}

/// Reads `a::b::{c, d::e}` after a prefix, pushing each whole path.
pub fn spread(text: &str, mut path: Vec<String>, found: &mut Vec<Vec<String>>) {
    let mut rest = text;
    loop {
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if name.is_empty() {
            if let Some(group) = rest.strip_prefix('{') {
                let mut depth = 1;
                let mut start = 0;
                for (i, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' | ',' if depth == 1 => {
                            spread(group[start..i].trim(), path.clone(), found);
                            start = i + 1;
                            if c == '}' {
                                return;
                            }
                        }
                        '}' => depth -= 1,
                        _ => {}
                    }
                }
            }
            if !path.is_empty() {
                found.push(path);
            }
            return;
        }
        rest = &rest[name.len()..];
        path.push(name);
        match rest.strip_prefix("::") {
            Some(more) => rest = more,
            None => {
                found.push(path);
                return;
            }
        }
    }
}

/// For each file of `tree`, the files its code uses (itself left out).
pub fn imports(sources: &[Source], tree: Tree) -> BTreeMap<usize, BTreeSet<usize>> {
    let by_module: BTreeMap<&[String], usize> = sources
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.test_only && !s.main)
        .map(|(i, s)| (s.module.as_slice(), i))
        .collect();
    let mut edges = BTreeMap::new();
    for (i, source) in sources.iter().enumerate() {
        let mut used = BTreeSet::new();
        for (relative, path) in paths(source.code(), tree) {
            let full: Vec<String> = if relative {
                source.module.iter().cloned().chain(path).collect()
            } else {
                path
            };
            // The longest prefix that is a file's module.
            if let Some(target) = (1..=full.len())
                .rev()
                .find_map(|n| by_module.get(&full[..n]).copied())
                && target != i
            {
                used.insert(target);
            }
        }
        edges.insert(i, used);
    }
    edges
}

/// The import circles among the files of `tree`, each shown as a path of files.
pub fn circles(tree: Tree) -> Vec<String> {
    let sources = sources(tree);
    let edges = imports(&sources, tree);
    assert!(
        edges.values().map(BTreeSet::len).sum::<usize>() >= tree.expected.1,
        "too few imports read in {}: {edges:?}",
        tree.folder
    );
    // Depth-first search; a file met again while it is still on the path closes a circle.
    fn visit(
        at: usize,
        edges: &BTreeMap<usize, BTreeSet<usize>>,
        path: &mut Vec<usize>,
        done: &mut BTreeSet<usize>,
        circles: &mut Vec<Vec<usize>>,
    ) {
        if let Some(start) = path.iter().position(|&p| p == at) {
            circles.push(path[start..].to_vec());
            return;
        }
        if !done.insert(at) {
            return;
        }
        path.push(at);
        for &next in edges.get(&at).into_iter().flatten() {
            visit(next, edges, path, done, circles);
        }
        path.pop();
    }
    let mut circles = Vec::new();
    let mut done = BTreeSet::new();
    for &start in edges.keys() {
        visit(start, &edges, &mut Vec::new(), &mut done, &mut circles);
    }
    circles
        .iter()
        .map(|c| {
            c.iter()
                .map(|&i| sources[i].path.display().to_string())
                .collect::<Vec<_>>()
                .join(" -> ")
        })
        .collect()
}
