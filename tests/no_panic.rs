//! No input makes xos panic: arbitrary text, and the shipped examples with
//! random deletions, insertions and truncations, through parse, check and fmt.

use proptest::prelude::*;
use xos::check::{LoadOptions, check_source};
use xos::diagnostic::{SourceFile, render};
use xos::syntax::fmt::format_source;

const EXAMPLES: [(&str, &str); 5] = [
    (
        "examples/checkout/checkout.xos",
        include_str!("../examples/checkout/checkout.xos"),
    ),
    (
        "examples/latency_guard/search.xos",
        include_str!("../examples/latency_guard/search.xos"),
    ),
    (
        "examples/multiarm/pricing.xos",
        include_str!("../examples/multiarm/pricing.xos"),
    ),
    ("rules/default.xos", include_str!("../rules/default.xos")),
    ("rules/strict.xos", include_str!("../rules/strict.xos")),
];

/// Runs every stage; only a panic can fail this.
fn exercise(path: &str, text: &str) {
    let source = SourceFile::new(path, text);
    let diagnostics = match check_source(&source, &LoadOptions::default()) {
        Ok(checked) => checked.warnings,
        Err(errors) => errors,
    };
    for d in diagnostics.iter() {
        let _ = render(d, false, 80);
        let _ = d.to_json();
    }
    if let Ok(formatted) = format_source(&source) {
        let again = format_source(&SourceFile::new(path, formatted.clone()));
        assert_eq!(again.ok().as_deref(), Some(formatted.as_str()));
    }
    let _ = xos::check::check_policy_source(&source);
}

/// Cuts the text at a char boundary near `at`.
fn boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[derive(Clone, Debug)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, String),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let snippet = prop_oneof![
        Just("{".to_string()),
        Just("}".to_string()),
        Just("\"".to_string()),
        Just("//".to_string()),
        Just("%".to_string()),
        Just(" relative".to_string()),
        Just(" and ".to_string()),
        Just("(".to_string()),
        Just("{{".to_string()),
        Just("\\".to_string()),
        Just("é".to_string()),
        Just("0.1pp".to_string()),
        "[ -~\n]{0,8}",
    ];
    prop_oneof![
        (any::<usize>(), 0usize..40).prop_map(|(at, len)| Edit::Delete(at, len)),
        (any::<usize>(), snippet).prop_map(|(at, s)| Edit::Insert(at, s)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut text = text.to_string();
    for e in edits {
        if text.is_empty() {
            break;
        }
        match e {
            Edit::Delete(at, len) => {
                let start = boundary(&text, at % text.len());
                let end = boundary(&text, start + len);
                text.replace_range(start..end, "");
            }
            Edit::Insert(at, s) => {
                let at = boundary(&text, at % (text.len() + 1));
                text.insert_str(at, s);
            }
            Edit::Truncate(at) => {
                let at = boundary(&text, at % (text.len() + 1));
                text.truncate(at);
            }
        }
    }
    text
}

proptest! {
    // `PROPTEST_CASES=20000 cargo test --release --test no_panic` for a long run.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300)
    ))]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        exercise("fuzz.xos", &text);
    }

    #[test]
    fn arbitrary_language_soup(text in "(experiment|policy|rule|when|then|because|primary|guardrail|any|all|no|not|and|or|[a-z_.]{1,6}|[0-9_.]{1,4}(%|pp|d)?|relative|[{}()=,<>!\"]|==|//|\n| ){0,60}") {
        exercise("soup.xos", &text);
    }

    #[test]
    fn edited_examples(which in 0usize..EXAMPLES.len(), edits in proptest::collection::vec(edit(), 1..6)) {
        let (path, text) = EXAMPLES[which];
        exercise(path, &apply(text, &edits));
    }
}
