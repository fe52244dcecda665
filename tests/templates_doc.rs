//! `docs/templates.md` documents the template interface: every field of the
//! `memo` value templates see is listed, and its worked override renders as
//! the page says it does.

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn page() -> String {
    std::fs::read_to_string(root().join("docs/templates.md")).expect("docs/templates.md")
}

/// The body of the fenced block right after the `<!-- marker -->` line.
fn block_after(page: &str, marker: &str) -> (String, String) {
    let at = page
        .find(&format!("<!-- {marker}: "))
        .unwrap_or_else(|| panic!("no `{marker}` block in docs/templates.md"));
    let rest = &page[at..];
    let name_end = rest.find(" -->").expect("marker end");
    let name = rest[marker.len() + 6..name_end].trim().to_string();
    let fence = rest.find("```").expect("fence");
    let body_start = fence + rest[fence..].find('\n').expect("fence line") + 1;
    let body_end = body_start + rest[body_start..].find("```").expect("closing fence");
    (name, rest[body_start..body_end].to_string())
}

#[test]
fn the_worked_override_renders_as_documented() {
    let page = page();
    let (template, text) = block_after(&page, "template");
    let (spec, expected) = block_after(&page, "output");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join(&template);
    std::fs::create_dir_all(file.parent().expect("folder")).expect("mkdir");
    std::fs::write(&file, text).expect("write template");
    let folder = file.parent().expect("folder");
    let out = Command::new(env!("CARGO_BIN_EXE_xos"))
        .arg("run")
        .arg(root().join(spec))
        .arg("--templates")
        .arg(folder)
        .output()
        .expect("run xos");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim_end(),
        expected.trim_end()
    );
}

/// Every `pub` field of the structs `memo` is made of (in
/// `src/output/view.rs`) is listed in a table of the page.
#[test]
fn every_memo_field_is_documented() {
    let page = page();
    let view = std::fs::read_to_string(root().join("src/output/view.rs")).expect("view.rs");
    let mut fields = 0;
    let mut in_struct = false;
    for line in view.lines() {
        let line = line.trim();
        if line.starts_with("pub struct ") && line.ends_with('{') {
            in_struct = true;
            continue;
        }
        if in_struct && line == "}" {
            in_struct = false;
            continue;
        }
        if in_struct && let Some(field) = line.strip_prefix("pub ") {
            let name = field.split(':').next().unwrap_or_default().trim();
            fields += 1;
            assert!(
                page.contains(&format!("| `{name}` |")),
                "docs/templates.md does not document the memo field `{name}`"
            );
        }
    }
    assert!(fields >= 40, "only {fields} fields found in view.rs");
}
