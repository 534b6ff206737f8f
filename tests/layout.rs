//! The source's layout holds: the pure decisions (`src/decide/`) use no AWS SDK, no tokio and no I/O; each
//! layer uses only the layers listed before it in `lib.rs`; and in the worker and in `crates/ecs-sim`
//! alike, no file imports another that imports it back, directly or round a circle, and every file opens
//! with a `//!` line and keeps its code to 400 lines.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, each allowed to use only the ones before it.
const LAYERS: [&str; 5] = ["decide", "aws", "ops", "runtime", "cli"];
/// What a pure decision may not use: the AWS SDK, the async runtime, HTTP, and the standard library's I/O.
const IMPURE: [&str; 14] = [
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
const MAX_CODE_LINES: usize = 400;

/// A crate whose layout is checked: its `src/` folder and the name its binary uses it by.
#[derive(Debug, Clone, Copy)]
struct Tree {
    /// The crate's folder, relative to the worker's (`""` for the worker itself).
    folder: &'static str,
    /// The crate's name in paths (`ecs_deployment`, `ecs_sim`).
    name: &'static str,
}

/// The worker's own crate.
const WORKER: Tree = Tree {
    folder: "",
    name: "ecs_deployment",
};
/// Every crate held to the same rules of cycles, opening lines and length.
const TREES: [Tree; 2] = [
    WORKER,
    Tree {
        folder: "crates/ecs-sim",
        name: "ecs_sim",
    },
];

/// One source file of a crate.
#[derive(Debug)]
struct Source {
    /// The path from the worker's folder (`src/decide/rollout.rs`, `crates/ecs-sim/src/api.rs`).
    path: PathBuf,
    /// Its module path: `decide::rollout` is `["decide", "rollout"]`; `lib.rs` is empty.
    module: Vec<String>,
    /// The whole text.
    text: String,
    /// Whether the file holds only tests (`tests.rs`, `fixtures.rs`).
    test_only: bool,
    /// Whether it is the crate's `main.rs`, which uses the library by its crate name.
    main: bool,
}

impl Source {
    /// The code without its tests: the text before its `#[cfg(test)]` module, or nothing for a test file.
    fn code(&self) -> &str {
        if self.test_only {
            return "";
        }
        match self.text.find("\n#[cfg(test)]") {
            Some(at) => &self.text[..at],
            None => &self.text,
        }
    }

    /// The layer the file belongs to: its place in [`LAYERS`], or past them for `lib.rs` and `main.rs`.
    fn layer(&self) -> usize {
        self.module
            .first()
            .and_then(|top| LAYERS.iter().position(|l| l == top))
            .unwrap_or(LAYERS.len())
    }
}

/// Every `.rs` file under the `src/` of `tree`.
fn sources(tree: Tree) -> Vec<Source> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.join(tree.folder).join("src");
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
            let shown = Path::new(tree.folder).join("src").join(&relative);
            let mut module: Vec<String> = relative
                .with_extension("")
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if module.last().is_some_and(|m| m == "mod" || m == "lib") {
                module.pop();
            }
            let name = relative
                .file_name()
                .map(|n| n.to_string_lossy().into_owned());
            found.push(Source {
                text: std::fs::read_to_string(&path).expect("a source file"),
                test_only: matches!(name.as_deref(), Some("tests.rs" | "fixtures.rs")),
                main: relative == Path::new("main.rs"),
                path: shown,
                module,
            });
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    assert!(
        found.len() > 10,
        "only {} source files found under {}",
        found.len(),
        root.display()
    );
    found
}

/// The code's lines that are not comments.
fn code_lines(code: &str) -> impl Iterator<Item = &str> {
    code.lines().filter(|l| !l.trim_start().starts_with("//"))
}

/// Whether `code` names `token` where an identifier or path starts (not inside a longer name).
fn names(code: &str, token: &str) -> bool {
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
type Reference = (bool, Vec<String>);

/// The module paths `code` refers to: every `crate::a::b` (with `{...}` groups spread out), every
/// `<crate>::a::b` (in `main.rs`, `crate` being `tree`'s name), and every `use child::...` of a module the
/// file declares.
fn paths(code: &str, tree: Tree) -> Vec<Reference> {
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
fn spread(text: &str, mut path: Vec<String>, found: &mut Vec<Vec<String>>) {
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
fn imports(sources: &[Source], tree: Tree) -> BTreeMap<usize, BTreeSet<usize>> {
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

#[test]
fn the_scanner_sees_what_it_looks_for() {
    assert!(names("use tokio::time::Instant;", "tokio"));
    assert!(names("    let t = tokio::spawn(x);", "tokio"));
    assert!(!names("// no tokio here", "tokio"));
    assert!(!names("use my_tokio_clone::X;", "tokio"));
    assert!(names("use aws_sdk_ecs::Client;", "aws_sdk_"));
    let found = paths(
        "mod shapes;\nuse crate::decide::{marker::{self, Plan}, names::short_arn};\n\
         let x = crate::ops::http::bind(a);\npub use shapes::{service_state, ServiceEvent};",
        WORKER,
    );
    let path = |relative: bool, p: &[&str]| (relative, p.iter().map(|s| s.to_string()).collect());
    for expected in [
        path(false, &["decide", "marker", "self"]),
        path(false, &["decide", "names", "short_arn"]),
        path(false, &["ops", "http", "bind"]),
        path(true, &["shapes", "service_state"]),
    ] {
        assert!(found.contains(&expected), "{expected:?} not in {found:?}");
    }
}

#[test]
fn pure_decisions_use_no_aws_sdk_no_tokio_and_no_io() {
    let mut impure = Vec::new();
    for source in sources(WORKER)
        .iter()
        .filter(|s| s.module.first().is_some_and(|m| m == "decide"))
    {
        // Tests included: a decision's tests need nothing but the decision.
        for token in IMPURE {
            if names(&source.text, token) {
                impure.push(format!("{} uses {token}", source.path.display()));
            }
        }
    }
    assert!(
        impure.is_empty(),
        "src/decide/ holds pure decisions only; move what does I/O to src/aws/ or src/runtime/:\n{}",
        impure.join("\n")
    );
}

#[test]
fn each_layer_uses_only_the_layers_before_it() {
    let sources = sources(WORKER);
    let mut upward = Vec::new();
    for (from, targets) in imports(&sources, WORKER) {
        for to in targets {
            if sources[to].layer() > sources[from].layer() {
                upward.push(format!(
                    "{} uses {}",
                    sources[from].path.display(),
                    sources[to].path.display()
                ));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "a layer may use only those before it ({}):\n{}",
        LAYERS.join(" < "),
        upward.join("\n")
    );
}

#[test]
fn no_file_imports_one_that_imports_it_back() {
    let mut shown = Vec::new();
    for tree in TREES {
        shown.extend(circles(tree));
    }
    assert!(shown.is_empty(), "import circles:\n{}", shown.join("\n"));
}

/// The import circles among the files of `tree`, each shown as a path of files.
fn circles(tree: Tree) -> Vec<String> {
    let sources = sources(tree);
    let edges = imports(&sources, tree);
    assert!(
        edges.values().map(BTreeSet::len).sum::<usize>() > 20,
        "too few imports read in {}: {edges:?}",
        tree.name
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

#[test]
fn every_file_says_what_it_is_and_keeps_its_code_short() {
    let mut wrong = Vec::new();
    for source in TREES.into_iter().flat_map(sources) {
        if !source.text.starts_with("//! ") {
            wrong.push(format!(
                "{} does not open with a `//!` line saying what it is",
                source.path.display()
            ));
        }
        let lines = source.code().lines().count();
        if lines > MAX_CODE_LINES {
            wrong.push(format!(
                "{} has {lines} lines of code, more than {MAX_CODE_LINES}: split it by job",
                source.path.display()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
