//! Numbers as people read them: the one place that turns an `f64` into text
//! for diagnostics, reasons, the explanation and the memo.
//!
//! Each function is one written form; a module that shows a number picks the
//! form, never its own `format!`. None of these is used for the JSON report,
//! which carries the numbers themselves.

/// A number for a reason, a fact list or a memo: up to four decimals without
/// trailing zeros, scientific (`1e-5`, `2.35e-12`) when tiny or huge; `n/a`
/// when not finite.
pub fn number(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return if x == 0.0 {
            "0".to_string()
        } else {
            "n/a".to_string()
        };
    }
    if x.abs() < 1e-4 || x.abs() >= 1e9 {
        let s = format!("{x:.3e}");
        return match s.split_once('e') {
            Some((mantissa, exp)) => {
                format!(
                    "{}e{exp}",
                    mantissa.trim_end_matches('0').trim_end_matches('.')
                )
            }
            None => s,
        };
    }
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// A number as the user wrote it, without float noise: `0.1`, not
/// `0.10000000000000001` (rounded to 9 decimals).
pub fn written(v: f64) -> String {
    let rounded = (v * 1e9).round() / 1e9;
    format!("{rounded}")
}

/// A fraction as a percentage to at most three decimals: `0.5` → `50%`.
pub fn share(fraction: f64) -> String {
    let p = fraction * 100.0;
    let rounded = (p * 1000.0).round() / 1000.0;
    format!("{rounded}%")
}

/// A p-value for messages: four decimals, scientific when below 1e-4,
/// `< 1e-300` when it underflowed to 0.
pub fn p_value(p: f64) -> String {
    if p == 0.0 {
        // Below the smallest double: the exact value is not representable.
        "< 1e-300".to_string()
    } else if p < 1e-4 {
        format!("{p:.2e}")
    } else {
        format!("{p:.4}")
    }
}

/// A value from a data file in a message: four decimals, scientific at or
/// above 1e6 or below 1e-3.
pub fn data_value(x: f64) -> String {
    if x.abs() >= 1e6 || (x != 0.0 && x.abs() < 1e-3) {
        format!("{x:.4e}")
    } else {
        format!("{x:.4}")
    }
}

/// The sign of a difference as the memo prints it: `+`, `−` (U+2212) or
/// nothing for zero.
pub fn sign(x: f64) -> &'static str {
    if x > 0.0 {
        "+"
    } else if x < 0.0 {
        "−"
    } else {
        ""
    }
}

/// A signed percentage with two decimals: `0.0123` → `+1.23%`.
pub fn signed_percent(x: f64) -> String {
    format!("{}{:.2}%", sign(x), (x * 100.0).abs())
}

/// A percentage with one decimal: `0.975` → `97.5%`.
pub fn percent1(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// A percentage with two decimals: `0.0512` → `5.12%`.
pub fn percent2(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

/// A percentage without trailing zeros: `5%`, `97.5%`.
pub fn percent(x: f64) -> String {
    format!("{}%", number(x * 100.0))
}

/// A count with thousands separators: `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(number(0.0), "0");
        assert_eq!(number(0.05), "0.05");
        assert_eq!(number(0.00001), "1e-5");
        assert_eq!(number(2.345e-12), "2.345e-12");
        assert_eq!(number(-0.01234567), "-0.0123");
        assert_eq!(number(20000.0), "20000");
        assert_eq!(number(f64::NAN), "n/a");
    }

    #[test]
    fn written_numbers_lose_float_noise() {
        assert_eq!(written(0.1 + 0.2), "0.3");
        assert_eq!(written(5.0), "5");
        assert_eq!(share(0.5), "50%");
        assert_eq!(share(1.0 / 3.0), "33.333%");
    }

    #[test]
    fn p_values_and_data_values() {
        assert_eq!(p_value(0.0), "< 1e-300");
        assert_eq!(p_value(0.00001), "1.00e-5");
        assert_eq!(p_value(0.04), "0.0400");
        assert_eq!(data_value(2.5), "2.5000");
        assert_eq!(data_value(2e6), "2.0000e6");
    }

    #[test]
    fn percentages_and_counts() {
        assert_eq!(signed_percent(0.0123), "+1.23%");
        assert_eq!(signed_percent(-0.5), "−50.00%");
        assert_eq!(percent1(0.975), "97.5%");
        assert_eq!(percent2(0.0512), "5.12%");
        assert_eq!(percent(0.05), "5%");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234), "1,234");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
