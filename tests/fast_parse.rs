//! The hand-written fast path (`xos::syntax::fast`) against pest, the
//! grammar of record (`parse::parse_with_pest`: pest and the walk over its
//! pairs, as `parse` ran before the fast path existed).
//!
//! For every text: when pest accepts it, the fast path builds the very same
//! tree — spans included — and when pest rejects it (or its walk answers a
//! diagnostic), the fast path declines with `None`, so the error comes from
//! pest unchanged. Spans take no part in `==` on syntax trees, so trees are
//! compared by their `Debug` text, which prints every span and every
//! number's shortest round-trip digits (and `-0.0`).
//!
//! The texts: every `.xos` file in the repository, hand-written edge cases,
//! and specs with random edits (bytes and tokens deleted, inserted,
//! duplicated, moved; whitespace, byte-order marks and comments inserted).
//! `FAST_PARSE_CASES` sets how many mutated specs are tried (default 5,000
//! so `cargo test` stays quick):
//!
//! ```sh
//! FAST_PARSE_CASES=1000000 cargo test --release --test fast_parse -- --nocapture
//! ```
//!
//! Such a run (58 s, 2026-12-01) found no disagreement: 243,620 mutated
//! specs stayed valid and were read the same, 756,380 were rejected by both.
//! The seed is random on every run; a failure prints the smallest text.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use xos::diagnostic::SourceFile;
use xos::syntax::{fast, parse};

use common::xos_files;

/// What the two paths did with one text.
#[derive(Debug, PartialEq)]
enum Agreement {
    /// Pest accepted it and the fast path built the same tree.
    Same,
    /// Pest rejected it and the fast path declined.
    BothRejected,
}

/// Runs both paths on `text`; `Err` says how they disagree.
fn compare(text: &str) -> Result<Agreement, String> {
    let source = SourceFile::new("case.xos", text);
    let pest = parse::parse_with_pest(&source);
    let fast = fast::parse_file(text);
    match (pest, fast) {
        (Ok(expected), Some(got)) => {
            let (expected, got) = (format!("{expected:?}"), format!("{got:?}"));
            if expected == got {
                return Ok(Agreement::Same);
            }
            let at = expected
                .bytes()
                .zip(got.bytes())
                .position(|(a, b)| a != b)
                .unwrap_or(expected.len().min(got.len()));
            let window = |tree: &str| {
                let mut from = at.saturating_sub(300).min(tree.len());
                while !tree.is_char_boundary(from) {
                    from -= 1;
                }
                tree[from..boundary(tree, at + 200)].to_string()
            };
            Err(format!(
                "the trees differ at byte {at} of their Debug text\n--- pest:\n…{}…\n--- fast:\n…{}…",
                window(&expected),
                window(&got)
            ))
        }
        (Ok(_), None) => Err("pest accepts the file but the fast path declined it".to_string()),
        (Err(_), None) => Ok(Agreement::BothRejected),
        (Err(errors), Some(got)) => Err(format!(
            "pest rejects the file ({:?}) but the fast path parsed it: {got:?}",
            errors.iter().map(|d| d.message.clone()).collect::<Vec<_>>()
        )),
    }
}

/// Every `.xos` file of the repository (examples, rules, fixtures, fuzz
/// regressions, bench inputs), sorted.
fn repository_files() -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    for dir in ["examples", "rules", "tests", "bench"] {
        xos_files(&root.join(dir), &mut paths);
    }
    paths.sort();
    paths
        .into_iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).ok()?;
            Some((path.strip_prefix(root).unwrap_or(&path).to_path_buf(), text))
        })
        .collect()
}

/// An experiment with every item and every form of value, name and number,
/// trivia (comments, a byte-order mark, `\r\n`) in odd places, and trailing
/// trivia before missing optional parts.
const KITCHEN_SINK: &str = "\u{FEFF}// leading comment\r\n\
experiment kitchen_sink { // after the brace
    title \"A \\\"quoted\\\" title\\twith a tab\\\\\" owner \"x\"
    hypothesis \"spans
  two lines\"
    data \"d.csv\" { variant_column \"arm\" units \"visitors\" missing skip look 3 }
    data \"e.csv\"   // no block, a comment after
    variants { control 50% \"Variant B\" 25 \"0\" 25_000.5e-3 x 1E+2 }
    primary conversion = rate ( conversions ) {
        baseline 12%   // twelve
        mde 5% relative
        prior beta(1, 1) empty f() nested g(h(1, \"s\", -2pp), x)
        spaced - 3 \u{FEFF}
        call beta // comment
        (2, 3)
    }
    metric revenue = mean(\"paid users\")   \u{FEFF}
    metric r = ratio(clicks, \"queries\" , extra) // no block
    guardrail latency = mean(ms) { prefer lower worsened -3 severe - 1e2d floor 0.5_0 }
    plan { daily_users 20_000 power 80% duration 14d }
    settings { alpha 5% correction holm }
    sequential { method group_sequential max_units 100_000 }
    policy \"../../rules/default.xos\"
    rule r1 { when not any guardrail (severe and worse) and primary.better or - 2 * 3 + 4 / 5 >= 1pp relative
        then launch because \"ok {{ primary.lift }}\" }
    rule r2 { when all guardrails worsened == no  guardrail\tx then hold because \"h\" }
    rule r3 { when ((a)) != not -b < c <= d > e - -f then rollback because \"\" }
    rule r4 { when any\u{FEFF}guardrail (not severe or x.y.z > 2%) and 1 then hold because \"q\" }
    rule r5 { when a // comment
        and // another
        b then hold because \"c\" }
    test t1 { given primary.better = true, primary.lift = 1pp , srm.p = 0.5, health = blocked expect launch by r1 }
    test t2 { expect hold }
    test t3 { given a = \"s\" expect rollback by otherwise }
    test t4 { given a.b = beta(1, 2), c = -4d relative expect hold by // trailing
        r2 }
}
// trailing comment";

/// A policy with the same care.
const POLICY: &str = "policy p{rule a{when x then hold because \"a\"}otherwise launch because \"b\"
test t{given x=1 expect hold by a}rule b { when not not x and nothing or noting then rollback because \"\\n\" }}";

/// Conditions of one rule, one per line: each is tried alone in a policy.
const CONDITIONS: &str = r#"a
a.b.c
not a
not not not a
- a
- - 1
1.
1.5e
1e5
1E-5
1_000_000
1e999
5% relative
5%relative
5% relativex
5%x
5pp
5p
5d
5dd
2 + 3 * 4 - 5 / 6
a or b and c
not a and b
not a < b
a < not b
- a * b
a - - b
a -- b
(a or b) and c
((((a))))
any guardrail worsened
any guardrails worsened
anyguardrail worsened
any guardrailx worsened
any guardrail (severe and worse)
any guardrail not
any // c
 guardrail x
no guardrail x
all guardrail (a) or b
nothing
notx
and
a and
a ==
a = b
a ! b
a != b
a <= b >= c == d
a.
a..b
.a
_a._b
a.1
x/ /y
x/y
x // comment
then
when
because
or
a.then
"unterminated
"#;

/// Option blocks: each body is tried alone in a `settings` block.
const OPTIONS: &str = r#"alpha 5%
alpha -5%
alpha - 5 %
alpha "text"
alpha ""
alpha "\q"
alpha "\n\t\\\""
alpha holm
alpha beta(1, 1)
alpha beta (1,1)
alpha beta()
alpha beta(,)
alpha beta(1,)
alpha beta(1 2)
alpha beta(gamma(delta("x")))
alpha beta(
alpha 1 beta 2
alpha
5% alpha
alpha 1_
alpha 1__2
alpha 01
alpha 1.5_5e3
alpha 1e+
alpha 0x10
alpha 1relative
alpha 1 relative relative
alpha -
alpha --1
"#;

/// Variants blocks and metric kinds, each tried alone.
const ITEMS: &str = r#"variants { a 1 b 2 }
variants { "a" 1 "" 2 }
variants { " " 1 }
variants { a }
variants { a 1% relative }
variants {}
primary m = rate(x)
primary m = rate()
primary m = rate("x", y)
primary m = rate(x,)
primary m = rate(" ")
primary m = rates(x)
primary m = rate(x) {}
primary m = rate(x) { a 1 } { b 2 }
primary m rate(x)
primaryx m = rate(x)
metric 1 = mean(x)
data "x.csv"
data "x.csv" {
data x.csv
title "x" "y"
title
policy "p" policy "q"
sequential {}
plan
rule r { when a then hold because "x" } rule r { when b then launch because "y" }
test t { given a = 1, expect hold }
test t { given expect hold }
test t { expect hold by }
test t { expect hold by 1 }
test t { given a = 1 b = 2 expect hold }
test t { given then = 1 expect hold }
test t { given a.b.c = x(1) expect launch }
otherwise hold because "x"
"#;

fn policy_with(condition: &str) -> String {
    format!(
        "policy p {{ rule r {{ when {condition} then hold because \"x\" }} otherwise hold because \"y\" }}"
    )
}

/// Hand-written texts around each subtle part of the grammar.
fn edge_cases() -> Vec<String> {
    let mut cases = vec![KITCHEN_SINK.to_string(), POLICY.to_string()];
    cases.extend(CONDITIONS.lines().map(policy_with));
    cases.extend(
        OPTIONS
            .lines()
            .map(|body| format!("experiment e {{ settings {{ {body} }} }}")),
    );
    cases.extend(
        ITEMS
            .lines()
            .map(|item| format!("experiment e {{\n{item}\n}}")),
    );
    cases.extend(
        [
            "",
            "experiment",
            "experiment e",
            "experiment e {",
            "experiment e { }",
            "experiment e { } x",
            "experiment e { } }",
            "experiment e { } // end",
            "experiment e { }\u{FEFF}",
            "\u{FEFF}\u{FEFF} experiment e { }",
            "experiment\u{FEFF}e{}",
            "experimente { }",
            "policy p { }",
            "policy p { otherwise hold because \"x\" otherwise launch because \"y\" }",
            "policy p { data \"x\" }",
            "experiment e { otherwise hold because \"x\" }",
            "policy \"p\" { }",
            "experiment e { data \"x\" \u{FEFF} }",
            "experiment e { data \"x\" \u{FEFF}\n }",
            "experiment e { data \"x\" // c \u{FEFF}\n }",
            "experiment e { data \"x\" // c \"\n }",
            "experiment e { data \"x\" //\n//\n\n }",
            "experiment e { variants { a 1 \u{FEFF}\n b 2 // c\n } }",
            "experiment e { settings { a 1 \u{FEFF}} }",
            "experiment e { metric m = mean(x)\u{2028} }",
            "experiment e { metric m = mean(x)\u{a0} }",
            "experiment e { title \"é χ² \\é\" }",
            "experiment e { title \"\\\u{e9}\" }",
            "experiment é { }",
        ]
        .map(str::to_string),
    );
    cases.push(policy_with(&format!(
        "{}a{}",
        "(".repeat(62),
        ")".repeat(62)
    )));
    cases.push(policy_with(&format!(
        "{}a{}",
        "(".repeat(63),
        ")".repeat(63)
    )));
    cases.push(policy_with(&format!("{}a", "not ".repeat(511))));
    cases.push(policy_with(&format!("{}a", "not ".repeat(512))));
    cases.push(policy_with(&format!("a{}", " and a".repeat(255))));
    cases.push(policy_with(&format!("a{}", " and a".repeat(256))));
    cases.push(policy_with(&format!("{}a", "-".repeat(600))));
    cases.push(format!(
        "experiment e {{ settings {{ a {}1{} }} }}",
        "f(".repeat(62),
        ")".repeat(62)
    ));
    cases.push(format!(
        "experiment e {{ settings {{ a {}1{} }} }}",
        "f(".repeat(63),
        ")".repeat(63)
    ));
    cases
}

#[test]
fn every_repository_file_parses_the_same_on_both_paths() {
    let files = repository_files();
    let mut valid = 0;
    for (path, text) in &files {
        match compare(text) {
            Ok(Agreement::Same) => valid += 1,
            Ok(Agreement::BothRejected) => {}
            Err(why) => panic!("{}: {why}", path.display()),
        }
        // `parse` itself (the scan, then the fast path or pest) answers what
        // pest alone answers, errors included.
        let source = SourceFile::new(path, text.as_str());
        assert_eq!(
            format!("{:?}", parse::parse(&source)),
            format!("{:?}", parse::parse_with_pest(&source)),
            "{}",
            path.display()
        );
    }
    eprintln!("{} files, {valid} valid, all equal", files.len());
    assert!(files.len() >= 150, "only {} .xos files found", files.len());
    assert!(valid >= 120, "only {valid} valid .xos files");
}

#[test]
fn edge_cases_parse_the_same_on_both_paths() {
    let cases = edge_cases();
    let mut same = 0;
    for text in &cases {
        match compare(text) {
            Ok(Agreement::Same) => same += 1,
            Ok(Agreement::BothRejected) => {}
            Err(why) => panic!("{text:?}: {why}"),
        }
    }
    eprintln!("{} edge cases, {same} valid", cases.len());
    assert!(
        same >= 75,
        "only {same} of {} edge cases valid",
        cases.len()
    );
    assert_eq!(compare(KITCHEN_SINK), Ok(Agreement::Same));
    assert_eq!(compare(POLICY), Ok(Agreement::Same));
}

/// Pieces of the language (and of what is not), inserted by the mutations.
const FRAGMENTS: &[&str] = &[
    "experiment ",
    "policy ",
    "data ",
    "variants ",
    "primary ",
    "metric ",
    "guardrail ",
    "plan ",
    "settings ",
    "sequential ",
    "rule ",
    "when ",
    "then ",
    "because ",
    "otherwise ",
    "test ",
    "given ",
    "expect ",
    "by ",
    "title ",
    "owner ",
    "hypothesis ",
    "rate",
    "mean",
    "ratio",
    "launch",
    "hold",
    "rollback",
    "not ",
    "and ",
    "or ",
    "any guardrail ",
    "all guardrails ",
    "no guardrail ",
    "relative",
    "x",
    "_y",
    "a.b",
    "primary.better",
    "true",
    "holm",
    "beta(1, 1)",
    "{",
    "}",
    "(",
    ")",
    ",",
    "=",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "-",
    "*",
    "/",
    ".",
    "%",
    "pp",
    "d",
    "e",
    "E",
    "_",
    "0",
    "7",
    "1_000",
    "2.5",
    "1e5",
    "1e999",
    "5%",
    "0.1pp",
    "14d",
    "-3",
    "\"x\"",
    "\"\"",
    "\" \"",
    "\"a\\nb\"",
    "\"\\q\"",
    "\"//\"",
    "\"",
    "\\",
    "é",
    "χ²",
    "//",
    "#",
];

/// Trivia only: inserted between tokens, it keeps a valid file valid.
const TRIVIA: &[&str] = &[
    " ",
    "\n",
    "\t",
    "\r\n",
    "\u{FEFF}",
    "// c\n",
    "//x\"y{\n",
    "\n// \n\n",
];

/// The char boundary at or after `at`.
fn boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

/// The fragment `index` picks.
fn pick(index: &Index, from: &[&'static str]) -> &'static str {
    from[index.index(from.len())]
}

/// One random edit: `(kind, where, how much, which fragment)`.
type Edit = (u8, Index, Index, Index);

fn apply(text: &mut String, (kind, at, amount, fragment): &Edit) {
    let len = text.len();
    let at = boundary(text, at.index(len + 1));
    let end = |n: usize| boundary(text, at + n);
    match kind % 8 {
        0 => text.insert_str(at, pick(fragment, FRAGMENTS)),
        1 => {
            let end = end(1 + amount.index(8));
            text.replace_range(at..end, "");
        }
        2 => {
            // A whole token: the run of name characters at `at`, or one character.
            let rest = &text[at..];
            let run = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let end = if run > 0 { at + run } else { end(1) };
            text.replace_range(at..end, "");
        }
        3 => {
            let end = end(1 + amount.index(40));
            let copy = text[at..end].to_string();
            text.insert_str(end, &copy);
        }
        4 => {
            // Trivia in place of a character, inside a token as often as not.
            let end = end(1);
            text.replace_range(at..end, pick(fragment, TRIVIA));
        }
        5 | 6 => {
            // Trivia before the name or number at `at`.
            let mut at = at;
            while at > 0 && text.as_bytes()[at - 1].is_ascii_alphanumeric() {
                at -= 1;
            }
            text.insert_str(at, pick(fragment, TRIVIA));
        }
        _ => {
            // Move a slice elsewhere.
            let end = end(1 + amount.index(30));
            let slice = text[at..end].to_string();
            text.replace_range(at..end, "");
            let to = boundary(text, fragment.index(text.len() + 1));
            text.insert_str(to, &slice);
        }
    }
}

#[test]
fn mutated_specs_parse_the_same_on_both_paths() {
    let mut seeds: Vec<String> = repository_files()
        .into_iter()
        .map(|(_, text)| text)
        .filter(|text| compare(text) == Ok(Agreement::Same))
        .collect();
    seeds.extend(
        edge_cases()
            .into_iter()
            .filter(|text| compare(text) == Ok(Agreement::Same)),
    );
    let cases: u32 = std::env::var("FAST_PARSE_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5_000);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        any::<Index>(),
        prop::collection::vec(
            (any::<u8>(), any::<Index>(), any::<Index>(), any::<Index>()),
            1..4,
        ),
    );
    let mutate = |(seed, edits): &(Index, Vec<Edit>)| {
        let mut text = seed.get(&seeds).clone();
        for edit in edits {
            apply(&mut text, edit);
        }
        text
    };
    let same = AtomicUsize::new(0);
    let rejected = AtomicUsize::new(0);
    let result = runner.run(&strategy, |case| {
        let text = mutate(&case);
        match compare(&text) {
            Ok(Agreement::Same) => same.fetch_add(1, Ordering::Relaxed),
            Ok(Agreement::BothRejected) => rejected.fetch_add(1, Ordering::Relaxed),
            Err(why) => return Err(TestCaseError::fail(why)),
        };
        Ok(())
    });
    match result {
        Ok(()) => {}
        Err(TestError::Fail(why, case)) => {
            panic!("{why}\nminimal text: {:?}", mutate(&case))
        }
        Err(error) => panic!("{error}"),
    }
    let (same, rejected) = (same.into_inner(), rejected.into_inner());
    eprintln!("{cases} mutated specs: {same} valid and equal, {rejected} rejected by both");
    // The mutations must exercise both sides: many stay valid (trivia
    // insertions at least), many break the file.
    assert!(
        same * 10 >= cases as usize,
        "only {same} of {cases} mutants were valid"
    );
    assert!(
        rejected * 5 >= cases as usize,
        "only {rejected} of {cases} mutants were invalid"
    );
}

/// pest's error detail is one process-wide flag: parses of files with
/// errors on several threads at once give each file the message it gets
/// alone (a first parse on one thread used to switch the flag off in the
/// middle of another's detailed re-parse).
#[test]
fn errors_are_the_same_when_parsed_on_many_threads_at_once() {
    let texts: Vec<String> = (0..8)
        .map(|i| {
            format!(
                "experiment e{i} {{\n    data \"d.csv\"\n    variants {{ control 50% treatment 50% }}\n    {}\n}}\n",
                ["primay x = rate(c)", "bogus 1", "metric = rate(c)", "rule r when {"][i % 4]
            )
        })
        .collect();
    let alone: Vec<String> = texts
        .iter()
        .map(|text| {
            format!(
                "{:?}",
                parse::parse_with_pest(&SourceFile::new("e.xos", text.as_str()))
            )
        })
        .collect();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..200 {
                    for (text, alone) in texts.iter().zip(&alone) {
                        let source = SourceFile::new("e.xos", text.as_str());
                        assert_eq!(&format!("{:?}", parse::parse_with_pest(&source)), alone);
                    }
                }
            });
        }
    });
}
