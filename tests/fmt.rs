//! `xos fmt`: idempotent, keeps comments, and preserves the syntax tree, on
//! every example and every shipped policy; plus the canonical layout of a
//! messy file, snapshotted.

use std::path::{Path, PathBuf};

use xos::diagnostic::SourceFile;
use xos::syntax::fmt::format_source;
use xos::syntax::parse::parse;

fn files() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["examples", "rules"] {
        collect(&root.join(dir), &mut files);
    }
    assert!(files.len() >= 5, "{files:?}");
    files
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "xos") {
            files.push(path);
        }
    }
}

fn format(path: &Path, text: &str) -> String {
    let source = SourceFile::new(path, text);
    format_source(&source).unwrap_or_else(|e| {
        panic!(
            "{}: {:?}",
            path.display(),
            e.iter().map(|d| d.message.clone()).collect::<Vec<_>>()
        )
    })
}

fn comments(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.find("//").map(|i| l[i..].trim_end().to_string()))
        .collect()
}

#[test]
fn idempotent_and_tree_preserving_on_examples_and_rules() {
    for path in files() {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let once = format(&path, &text);
        let twice = format(&path, &once);
        assert_eq!(once, twice, "{} is not idempotent", path.display());
        let before = parse(&SourceFile::new(&path, text.clone())).ok();
        let after = parse(&SourceFile::new(&path, once.clone())).ok();
        assert!(before.is_some());
        assert_eq!(before, after, "{} changed meaning", path.display());
        assert_eq!(
            comments(&text),
            comments(&once),
            "{} lost comments",
            path.display()
        );
    }
}

#[test]
fn shipped_files_are_already_formatted() {
    for path in files() {
        if path.ends_with("multiarm/pricing.xos") {
            // Written on purpose in the one-line style the language allows.
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(
            format(&path, &text),
            text,
            "{} is not canonical",
            path.display()
        );
    }
}

const MESSY: &str = r#"   // Leading comment.
experiment   messy { title "Messy"   owner "me"
  data "m.csv" {units "visitors"}   // trailing
    variants{control 50%   treatment 50%}


   // Own-line comment before the primary.
primary conv=rate(conversions){baseline 12% mde 5%   relative}
  guardrail err = rate(errors) { worsened 0.1pp severe 0.3pp }
settings{alpha 5% prior beta( 1 ,1 )}
rule r { when primary.better
      and  srm.p >   0.01   // inside the condition
  then launch because "Ship it." }
}
// Trailing comment at the end.
"#;

#[test]
fn canonical_layout() {
    let once = format(Path::new("messy.xos"), MESSY);
    assert_eq!(format(Path::new("messy.xos"), &once), once);
    let before = parse(&SourceFile::new("messy.xos", MESSY)).ok();
    let after = parse(&SourceFile::new("messy.xos", once.clone())).ok();
    assert_eq!(before, after);
    assert_eq!(comments(MESSY).len(), comments(&once).len());
    insta::assert_snapshot!(once);
}

#[test]
fn a_file_that_does_not_parse_is_not_formatted() {
    let source = SourceFile::new("bad.xos", "experiment x {");
    assert!(format_source(&source).is_err());
}

/// A file saved with CRLF line endings formats to the same bytes as its LF
/// copy: no `\r` is left inside multi-line strings or comments.
#[test]
fn crlf_files_format_like_their_lf_copies() {
    for path in files() {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let crlf = text.replace('\n', "\r\n");
        let formatted = format(&path, &crlf);
        assert!(!formatted.contains('\r'), "{}", path.display());
        assert_eq!(formatted, format(&path, &text), "{}", path.display());
    }
}
