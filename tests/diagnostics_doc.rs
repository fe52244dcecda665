//! `docs/diagnostics.md` is generated from the code: its tables list every
//! diagnostic code written in `src/` (each `"xos::AREA::NAME"` literal), by
//! area, with the source files that raise it. The descriptions are the only
//! hand-written part; they are kept by code when the tables are rewritten.
//!
//! The test fails when the page differs from what the code generates: a new
//! code, a removed one, a code raised from another file. Rewrite the page
//! with `UPDATE_DIAGNOSTICS=1 cargo test --test diagnostics_doc`; a new code
//! then gets its message from the code as a first description, to be
//! reworded by hand.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const PAGE: &str = "docs/diagnostics.md";

/// The page's text before the tables.
const INTRO: &str = "# Diagnostics

Every problem xos reports has a stable **code** `xos::AREA::NAME`, a message,
the file, line and column it is about (when it is about a file), the
underlined source and a help line. `xos check --error-format json` prints them
as a JSON array (`severity`, `code`, `message`, `file`, `line`, `column`,
`help`, `labels`); `xos serve` returns the same objects. Codes are stable:
scripts and editors may match on them.

This page is generated from the code: the tables list every code the source
raises and where (`tests/diagnostics_doc.rs` fails when the page is stale;
`UPDATE_DIAGNOSTICS=1 cargo test --test diagnostics_doc` rewrites it, keeping
the descriptions). The checker's codes each have a fixture in
[`tests/fixtures/check/`](../tests/fixtures/check/), the data codes one in
[`tests/fixtures/data/`](../tests/fixtures/data/), with their rendered form
snapshotted in `tests/snapshots/`. Warnings are marked *warning*; every other
code is an error.
";

/// Each area's heading and what it covers, in page order.
const AREAS: &[(&str, &str)] = &[
    ("io", "Reading and writing files"),
    ("parse", "Syntax of `.xos` files"),
    ("check", "Checking specs and policies"),
    ("config", "`xos.toml`"),
    (
        "require",
        "Organisation-wide requirements (`[require]` in `xos.toml`)",
    ),
    ("data", "Data files"),
    ("run", "`xos run`"),
    ("render", "Memo templates"),
    ("plan", "`xos plan`"),
    ("diff", "`xos diff`"),
    ("sql", "`xos sql`"),
    ("watch", "`xos watch`"),
    ("serve", "`xos serve`"),
    ("analysis", "Analysis warnings"),
    ("diagnostic", "Lists of diagnostics"),
    ("internal", "Internal errors"),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every code in `src/`, with the files that write it and the first string
/// literal after its first occurrence (the message, for a new code).
fn codes_in_source() -> BTreeMap<String, (BTreeSet<String>, String)> {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    files.sort();
    let mut codes: BTreeMap<String, (BTreeSet<String>, String)> = BTreeMap::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read source");
        let relative = file
            .strip_prefix(root())
            .expect("under the root")
            .to_string_lossy()
            .replace('\\', "/");
        let mut rest = text.as_str();
        while let Some(at) = rest.find("\"xos::") {
            let after = &rest[at + 1..];
            let end = after.find('"').unwrap_or(after.len());
            let code = &after[..end];
            rest = &after[end.min(after.len())..];
            let parts: Vec<&str> = code.split("::").collect();
            let well_formed = parts.len() == 3
                && parts[1..].iter().all(|p| {
                    !p.is_empty()
                        && p.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                });
            if !well_formed {
                continue;
            }
            let message = first_literal(&rest[1.min(rest.len())..]);
            let entry = codes
                .entry(code.to_string())
                .or_insert_with(|| (BTreeSet::new(), message));
            entry.0.insert(relative.clone());
        }
    }
    codes
}

/// The first string literal in `text`, unescaped roughly (for a first
/// description only).
fn first_literal(text: &str) -> String {
    let window = &text[..text.len().min(400)];
    let Some(open) = window.find('"') else {
        return String::new();
    };
    let body = &window[open + 1..];
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                // A line continuation: the next line's indentation is not text.
                Some('\n') => {
                    let rest: String = chars.clone().collect();
                    let skip = rest.len() - rest.trim_start().len();
                    for _ in 0..rest[..skip].chars().count() {
                        chars.next();
                    }
                }
                Some(next) => out.push(next),
                None => {}
            },
            '"' => break,
            _ => out.push(c),
        }
    }
    out.replace('|', "\\|")
}

/// The descriptions on the page, by code: the last cell of each table row
/// whose first cell is a code.
fn descriptions(page: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in page.lines() {
        let Some(rest) = line.strip_prefix("| `xos::") else {
            continue;
        };
        let Some(end) = rest.find('`') else { continue };
        let code = format!("xos::{}", &rest[..end]);
        if let Some((_, description)) = line.trim_end_matches('|').rsplit_once(" | ") {
            out.insert(code, description.trim().to_string());
        }
    }
    out
}

fn generate(page: &str) -> String {
    let codes = codes_in_source();
    let kept = descriptions(page);
    let mut out = String::from(INTRO);
    let mut areas: Vec<(String, String)> = AREAS
        .iter()
        .map(|(area, title)| (area.to_string(), title.to_string()))
        .collect();
    for code in codes.keys() {
        let area = code.split("::").nth(1).unwrap_or_default().to_string();
        if !areas.iter().any(|(a, _)| *a == area) {
            areas.push((area.clone(), format!("`xos::{area}`")));
        }
    }
    for (area, title) in areas {
        let prefix = format!("xos::{area}::");
        let rows: Vec<_> = codes
            .iter()
            .filter(|(code, _)| code.starts_with(&prefix))
            .collect();
        if rows.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "\n## {title}\n\n| code | raised in | when |\n| --- | --- | --- |\n"
        ));
        for (code, (files, message)) in rows {
            let description = kept
                .get(code)
                .cloned()
                .unwrap_or_else(|| format!("message: “{message}”"));
            let files: Vec<String> = files.iter().map(|f| format!("`{f}`")).collect();
            out.push_str(&format!(
                "| `{code}` | {} | {description} |\n",
                files.join(", ")
            ));
        }
    }
    out
}

#[test]
fn the_diagnostics_page_lists_every_code_of_the_source() {
    let path = root().join(PAGE);
    let page = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = generate(&page);
    if std::env::var_os("UPDATE_DIAGNOSTICS").is_some() {
        std::fs::write(&path, &generated).expect("write the page");
        return;
    }
    let listed = descriptions(&page);
    let codes = codes_in_source();
    let missing: Vec<&String> = codes.keys().filter(|c| !listed.contains_key(*c)).collect();
    let stale: Vec<&String> = listed.keys().filter(|c| !codes.contains_key(*c)).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "{PAGE} is stale: codes not documented {missing:?}, documented codes the source no longer \
         has {stale:?}; run `UPDATE_DIAGNOSTICS=1 cargo test --test diagnostics_doc` and describe \
         the new codes"
    );
    assert!(
        page == generated,
        "{PAGE} differs from what the code generates (a code raised from another file?); run \
         `UPDATE_DIAGNOSTICS=1 cargo test --test diagnostics_doc`"
    );
}

/// A new code's first description is its message from the code: the page
/// must not keep one, so every code is described in words.
#[test]
fn every_code_is_described_in_words() {
    let page = std::fs::read_to_string(root().join(PAGE)).expect("the page exists");
    let undescribed: Vec<String> = descriptions(&page)
        .into_iter()
        .filter(|(_, d)| d.starts_with("message: “") || d.is_empty())
        .map(|(code, _)| code)
        .collect();
    assert!(
        undescribed.is_empty(),
        "describe these codes in {PAGE}: {undescribed:?}"
    );
}

/// The project's own docs stand alone: no page points to a design document
/// outside the repository, and the CI recipe installs from no placeholder.
#[test]
fn the_docs_stand_alone() {
    let mut pages = vec![root().join("README.md")];
    for entry in std::fs::read_dir(root().join("docs"))
        .expect("docs")
        .flatten()
    {
        if entry.path().extension().is_some_and(|e| e == "md") {
            pages.push(entry.path());
        }
    }
    for page in pages {
        let text = std::fs::read_to_string(&page).expect("read page");
        for (n, line) in text.lines().enumerate() {
            assert!(
                !line.contains("DESIGN.md") && !line.contains("DESIGN §"),
                "{}:{}: points to DESIGN.md, which is not in the repository: {line}",
                page.display(),
                n + 1
            );
            assert!(
                !line.contains("github.com/OWNER") && !line.contains("example.com/"),
                "{}:{}: a placeholder address: {line}",
                page.display(),
                n + 1
            );
        }
    }
}

/// The language reference names every shipped policy of `rules/` and says
/// that `[require]` is enforced.
#[test]
fn the_language_reference_lists_every_shipped_policy_and_require() {
    let page = std::fs::read_to_string(root().join("docs/language.md")).expect("language.md");
    let mut policies = 0;
    for entry in std::fs::read_dir(root().join("rules"))
        .expect("rules")
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".xos") {
            policies += 1;
            assert!(
                page.contains(&format!("(../rules/{name})")),
                "docs/language.md does not link the shipped policy rules/{name}"
            );
        }
    }
    assert!(policies >= 4, "{policies} shipped policies");
    assert!(page.contains("[require]") && page.contains("**enforced**"));
    assert!(!page.contains("currently ignored"));
}
