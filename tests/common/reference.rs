//! Loading the independent reference vectors of `tests/reference/` and
//! comparing against them: every expected field within the file's tolerance
//! (`|a − e| ≤ abs + rel·|e|`; integers and booleans exactly; `null` ⇔
//! `None`). All failures are collected and printed with the case id before
//! the test fails.
//!
//! serde_json (without its `float_roundtrip` feature) may parse a decimal one
//! ulp away from the nearest binary64, which is far outside the tolerance for
//! inputs like `sum_sq = 9.999999999193332e+19` in the `cancel` cases. So every
//! number token is quoted before parsing and read back with Rust's correctly
//! rounded `str::parse`.

use serde::Deserialize;
use serde_json::Value;

#[derive(Clone, Copy)]
pub struct Tolerance {
    pub rel: f64,
    pub abs: f64,
}

#[derive(Deserialize)]
pub struct Case {
    pub id: String,
    #[serde(default)]
    pub kind: Option<String>,
    pub input: Value,
    pub expected: Value,
}

#[derive(Deserialize)]
struct RawFile {
    family: String,
    tolerance: Value,
    cases: Vec<Case>,
}

pub struct RefFile {
    pub tolerance: Tolerance,
    pub cases: Vec<Case>,
}

/// The JSON text with every number token turned into a string token.
fn quote_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some(escaped) = chars.next() {
                    out.push(escaped);
                }
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if c == '-' || c.is_ascii_digit() {
            out.push('"');
            out.push(c);
            while let Some(&d) = chars.peek() {
                if d.is_ascii_digit() || matches!(d, '.' | 'e' | 'E' | '+' | '-') {
                    out.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            out.push('"');
        } else {
            out.push(c);
        }
    }
    out
}

/// A quoted number, correctly rounded; `None` for `null`.
pub fn num(v: &Value) -> Option<f64> {
    v.as_str().and_then(|s| s.parse().ok())
}

/// A quoted integer.
pub fn int(v: &Value) -> Option<u64> {
    v.as_str().and_then(|s| s.parse().ok())
}

pub fn load(name: &str) -> RefFile {
    let path = format!("{}/tests/reference/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let file: RawFile = serde_json::from_str(&quote_numbers(&text))
        .unwrap_or_else(|e| panic!("cannot parse {path}: {e}"));
    assert_eq!(file.family, name);
    assert!(!file.cases.is_empty());
    let tolerance = Tolerance {
        rel: num(&file.tolerance["rel"]).unwrap_or_else(|| panic!("{path}: tolerance.rel")),
        abs: num(&file.tolerance["abs"]).unwrap_or_else(|| panic!("{path}: tolerance.abs")),
    };
    RefFile {
        tolerance,
        cases: file.cases,
    }
}

/// Collects mismatches of one family.
pub struct Checker {
    tol: Tolerance,
    failures: Vec<String>,
    checked: usize,
}

impl Checker {
    pub fn new(tol: Tolerance) -> Self {
        Checker {
            tol,
            failures: Vec::new(),
            checked: 0,
        }
    }

    pub fn float(&mut self, id: &str, field: &str, actual: Option<f64>, expected: &Value) {
        self.float_tol(id, field, actual, expected, self.tol);
    }

    pub fn float_tol(
        &mut self,
        id: &str,
        field: &str,
        actual: Option<f64>,
        expected: &Value,
        tol: Tolerance,
    ) {
        self.checked += 1;
        let ok = match (actual, num(expected)) {
            (None, None) => expected.is_null(),
            (Some(a), Some(e)) => a.is_finite() && (a - e).abs() <= tol.abs + tol.rel * e.abs(),
            _ => false,
        };
        if !ok {
            self.failures.push(format!(
                "{id}: {field}: actual {actual:?}, expected {expected}"
            ));
        }
    }

    pub fn int(&mut self, id: &str, field: &str, actual: Option<u64>, expected: &Value) {
        self.checked += 1;
        if actual != int(expected) {
            self.failures.push(format!(
                "{id}: {field}: actual {actual:?}, expected {expected}"
            ));
        }
    }

    pub fn boolean(&mut self, id: &str, field: &str, actual: Option<bool>, expected: &Value) {
        self.checked += 1;
        if actual != expected.as_bool() {
            self.failures.push(format!(
                "{id}: {field}: actual {actual:?}, expected {expected}"
            ));
        }
    }

    pub fn fail(&mut self, id: &str, message: &str) {
        self.failures.push(format!("{id}: {message}"));
    }

    pub fn finish(self, family: &str) {
        if !self.failures.is_empty() {
            for f in &self.failures {
                eprintln!("{f}");
            }
            panic!(
                "{family}: {} of {} checks failed",
                self.failures.len(),
                self.checked
            );
        }
    }
}

pub fn u(v: &Value, key: &str) -> u64 {
    int(&v[key]).unwrap_or_else(|| panic!("missing integer {key}"))
}

pub fn f(v: &Value, key: &str) -> f64 {
    num(&v[key]).unwrap_or_else(|| panic!("missing number {key}"))
}

pub fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .map(|a| a.iter().filter_map(num).collect())
        .unwrap_or_default()
}
