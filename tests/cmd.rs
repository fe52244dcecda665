//! The command-line contract as data: each `tests/cli/*.toml` names the
//! arguments and the exit code; `.stdout` / `.stderr` files next to it hold
//! the expected output (`TRYCMD=overwrite cargo test --test cmd` rewrites them).

#[test]
fn cli_cases() {
    trycmd::TestCases::new().case("tests/cli/*.toml");
}
