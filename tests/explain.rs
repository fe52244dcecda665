//! `xos explain`: the compiled plan of every example, snapshotted so that a
//! change to what a spec means shows up in review.

use xos::check::{LoadOptions, load_plan};

#[test]
fn examples() {
    insta::glob!("../examples", "*/*.xos", |path| {
        let relative = path
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap_or(path);
        let checked = load_plan(relative, &LoadOptions::default())
            .unwrap_or_else(|e| panic!("{:?}", e.iter().map(|d| &d.message).collect::<Vec<_>>()));
        insta::assert_snapshot!(xos::explain::explain(&checked.plan));
    });
}
