//! The library's top-level modules import each other without loops: every
//! `crate::…` path in `src/` is an arrow from the module of its file to the
//! module it names, and the arrows must form no cycle. A failure prints the
//! cycle, file by file, so it can be cut where it is least natural.
//!
//! The README's layout tree and docs/architecture.md's table name every
//! source file and folder, and the README names no path that is gone.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The top-level module a library file belongs to: `src/check/policy.rs` →
/// `check`, `src/numbers.rs` → `numbers`; `None` for `lib.rs` (the pipeline
/// itself, which may use every module) and the binary.
fn module_of(path: &Path) -> Option<String> {
    let relative = path.strip_prefix("src").ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    if first == "bin" || first == "lib.rs" {
        return None;
    }
    Some(first.trim_end_matches(".rs").to_string())
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a line without its `//` comment (doc comments included).
fn code(line: &str) -> &str {
    line.split("//").next().unwrap_or("")
}

/// The top-level modules a line names through `crate::`: `crate::check::…`
/// and each first name of a group `crate::{check, data::Data}`.
fn named_modules(line: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = code(line);
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                names.push(name);
            }
        } else {
            names.push(
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect(),
            );
        }
    }
    names
}

/// Arrows between top-level modules, each with the first place it was seen.
fn arrows() -> BTreeMap<(String, String), String> {
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    files.sort();
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(f)).collect();
    let mut arrows = BTreeMap::new();
    for file in &files {
        let Some(from) = module_of(file) else {
            continue;
        };
        let text = std::fs::read_to_string(file).expect("a readable source file");
        for (n, line) in text.lines().enumerate() {
            for to in named_modules(line) {
                if to != from && modules.contains(&to) {
                    arrows
                        .entry((from.clone(), to))
                        .or_insert_with(|| format!("{}:{}", file.display(), n + 1));
                }
            }
        }
    }
    arrows
}

/// The first cycle found by a depth-first search, as a list of modules
/// whose last one imports the first.
fn find_cycle(arrows: &BTreeMap<(String, String), String>) -> Option<Vec<String>> {
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to) in arrows.keys() {
        next.entry(from).or_default().push(to);
    }
    fn visit<'a>(
        node: &'a str,
        next: &BTreeMap<&'a str, Vec<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|n| *n == node) {
            return Some(path[i..].iter().map(|s| s.to_string()).collect());
        }
        if done.contains(node) {
            return None;
        }
        path.push(node);
        for to in next.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(to, next, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node);
        None
    }
    let mut done = BTreeSet::new();
    for node in next.keys() {
        if let Some(cycle) = visit(node, &next, &mut Vec::new(), &mut done) {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn top_level_modules_import_each_other_without_cycles() {
    let arrows = arrows();
    assert!(
        arrows.len() > 10,
        "the scan found too few imports ({}): is it reading src/?",
        arrows.len()
    );
    if let Some(cycle) = find_cycle(&arrows) {
        let mut message = format!("import cycle: {} → {}\n", cycle.join(" → "), cycle[0]);
        for (i, from) in cycle.iter().enumerate() {
            let to = &cycle[(i + 1) % cycle.len()];
            let at = &arrows[&(from.clone(), to.clone())];
            message.push_str(&format!("  {from} → {to} at {at}\n"));
        }
        panic!("{message}");
    }
}

#[test]
fn the_scan_sees_a_planted_cycle() {
    let mut arrows = BTreeMap::new();
    arrows.insert(("a".to_string(), "b".to_string()), "a.rs:1".to_string());
    arrows.insert(("b".to_string(), "c".to_string()), "b.rs:1".to_string());
    arrows.insert(("c".to_string(), "a".to_string()), "c.rs:1".to_string());
    assert_eq!(
        find_cycle(&arrows),
        Some(vec!["a".to_string(), "b".to_string(), "c".to_string()])
    );
    arrows.remove(&("c".to_string(), "a".to_string()));
    assert_eq!(find_cycle(&arrows), None);
}

#[test]
fn grouped_and_inline_paths_are_read() {
    assert_eq!(
        named_modules("use crate::{check, data::Data};"),
        ["check", "data"]
    );
    assert_eq!(
        named_modules("    let x = crate::numbers::number(1.0); // crate::stats"),
        ["numbers"]
    );
    assert!(named_modules("/// see crate::check").is_empty());
}

/// Only the checker builds a `Plan`: a struct literal `Plan {` anywhere else
/// in the library (outside `impl` and the definition) fails this test.
#[test]
fn only_the_checker_builds_a_plan() {
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    let mut literals = Vec::new();
    for file in &files {
        if file.starts_with("src/check") {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("a readable source file");
        for (n, line) in text.lines().enumerate() {
            let code = code(line);
            let Some(i) = code.find("Plan {") else {
                continue;
            };
            let before = &code[..i];
            let named_plan = !before.ends_with(|c: char| c.is_alphanumeric() || c == '_');
            let before_trimmed = before.trim_end();
            let definition = before_trimmed.ends_with("struct")
                || before_trimmed.ends_with("->")
                || before.contains("impl");
            if named_plan && !definition {
                literals.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        literals.is_empty(),
        "a Plan built outside src/check/:\n{}",
        literals.join("\n")
    );
}

/// The README's layout tree as entries: the first word of a line at column 0
/// (`src/check/`) with the text of its continuation lines.
fn readme_layout() -> BTreeMap<String, String> {
    let readme = std::fs::read_to_string("README.md").expect("README.md is readable");
    let section = &readme[readme.find("\n## Layout").expect("a Layout section")..];
    let tree = &section[section.find("```\n").expect("a tree in the Layout section") + 4..];
    let tree = &tree[..tree.find("```").expect("the tree's closing fence")];
    let mut entries = BTreeMap::new();
    let mut key = String::new();
    for line in tree.lines() {
        if !line.starts_with(' ') {
            key = line.split_whitespace().next().unwrap_or("").to_string();
        }
        let text: &mut String = entries.entry(key.clone()).or_default();
        text.push_str(line);
        text.push('\n');
    }
    entries
}

#[test]
fn the_documented_layout_matches_the_tree() {
    let layout = readme_layout();
    let architecture =
        std::fs::read_to_string("docs/architecture.md").expect("docs/architecture.md is readable");
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    let mut missing = Vec::new();
    for file in &files {
        let parts: Vec<&str> = file
            .strip_prefix("src")
            .expect("under src/")
            .iter()
            .map(|c| c.to_str().expect("a UTF-8 file name"))
            .collect();
        let (folder, name) = parts.split_at(parts.len() - 1);
        let stem = name[0].trim_end_matches(".rs");
        if folder.is_empty() {
            // A top-level file: its own line in the README, a row in the table.
            if !layout.contains_key(&format!("src/{}", name[0])) {
                missing.push(format!("README.md: src/{}", name[0]));
            }
            if name[0] != "lib.rs" && !architecture.contains(&format!("`{}`", name[0])) {
                missing.push(format!("docs/architecture.md: `{}`", name[0]));
            }
            continue;
        }
        let folder = folder.join("/");
        match layout.get(&format!("src/{folder}/")) {
            None => missing.push(format!("README.md: src/{folder}/")),
            Some(text) => {
                let words: BTreeSet<&str> = text
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .collect();
                if stem != "mod" && !words.contains(stem) {
                    missing.push(format!("README.md: {stem} under src/{folder}/"));
                }
            }
        }
        if !architecture.contains(&format!("`{folder}/`")) {
            missing.push(format!("docs/architecture.md: `{folder}/`"));
        }
    }
    // And nothing the README names under src/ is gone.
    for key in layout.keys().filter(|k| k.starts_with("src/")) {
        if !Path::new(key).exists() {
            missing.push(format!("README.md names {key}, which does not exist"));
        }
    }
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "the documented layout is out of date:\n{}",
        missing.join("\n")
    );
}
