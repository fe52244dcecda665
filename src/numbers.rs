//! Numbers as people read them: the one place that turns an `f64` into text
//! for diagnostics, reasons, the explanation and the memo.
//!
//! Each function is one written form; a module that shows a number picks the
//! form, never its own `format!`. The memo (both templates, the `because`
//! interpolation, the facts a rule read) writes every number through
//! [`MetricFormat`], [`p_value`], [`probability`], [`statistic`] and
//! [`general`]: significant digits rather than fixed decimals, one minus
//! sign `−` (U+2212), the unit of the quantity (%, pp, a mean's unit). The
//! JSON report carries the numbers themselves.

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
    let magnitude = (x * 100.0).abs();
    if magnitude.is_finite() {
        format!("{}{}%", sign(x), decimal(magnitude, 2))
    } else {
        format!("{}{magnitude:.2}%", sign(x))
    }
}

/// A percentage with one decimal: `0.975` → `97.5%`.
pub fn percent1(x: f64) -> String {
    percent_with(x, 1)
}

/// A percentage with two decimals: `0.0512` → `5.12%`.
pub fn percent2(x: f64) -> String {
    percent_with(x, 2)
}

/// `x·100` with `decimals` decimals and `%`, as `format!("{:.N}%")` writes
/// it (`-` for a negative value, `NaN%` and `inf%` for the others).
fn percent_with(x: f64, decimals: usize) -> String {
    let scaled = x * 100.0;
    let mut text = if scaled.is_finite() && scaled >= 0.0 && scaled.is_sign_positive() {
        decimal(scaled, decimals)
    } else {
        format!("{scaled:.decimals$}")
    };
    text.push('%');
    text
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

/// A count of units with its noun, grouped as [`thousands`]: `1 unit`,
/// `12,000 units`.
pub fn units(n: u64) -> String {
    format!("{} unit{}", thousands(n), if n == 1 { "" } else { "s" })
}

/// A number of days as written ([`written`]) with its noun: `1 day`,
/// `1.5 days`, `14 days`.
pub fn days(d: f64) -> String {
    let text = written(d);
    format!("{text} day{}", if text == "1" { "" } else { "s" })
}

// ---------------------------------------------------------------------------
// The memo's numbers: significant digits, one minus sign (U+2212), units.
// ---------------------------------------------------------------------------

/// The most decimals any memo number gets: past 12, a value is shown as
/// `< 0.000000000001` rather than with more digits.
const MAX_DECIMALS: usize = 12;

/// How many decimals show `significant` significant digits of `x`
/// (`decimals(0.0018, 2)` = 4, `decimals(240.0, 2)` = 0); 0 for zero and
/// non-finite values, at most 12.
pub fn decimals(x: f64, significant: i32) -> usize {
    if x == 0.0 || !x.is_finite() {
        return 0;
    }
    let magnitude = x.abs().log10().floor() as i32;
    (significant - 1 - magnitude).clamp(0, MAX_DECIMALS as i32) as usize
}

/// `x` with `decimals` decimals and the minus sign `−` (never `-0.00`);
/// `n/a` when not finite.
pub fn fixed(x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    let text = decimal(x.abs(), decimals);
    if x < 0.0 && text.bytes().any(|b| b.is_ascii_digit() && b != b'0') {
        format!("−{text}")
    } else {
        text
    }
}

/// `x` with `decimals` decimals and its sign, `+` or `−` (nothing when it
/// rounds to zero): the form of every lift.
pub fn signed(x: f64, decimals: usize) -> String {
    let text = fixed(x, decimals);
    if x > 0.0 && text.bytes().any(|b| b.is_ascii_digit() && b != b'0') {
        format!("+{text}")
    } else {
        text
    }
}

/// `format!("{:.*}", decimals, x)` for a finite `x ≥ 0`, the same text,
/// computed in integers: the exact value of the double, `m·2^e`, times
/// `10^decimals`, rounded half to even as the standard library rounds. The
/// standard library's exact mode tries Grisu and falls back to Dragon4's
/// big-number arithmetic, which together were a sixth of a Markdown memo
/// (`cargo bench --bench pipeline`); this takes the common case, `x < 2^64`
/// and at most 19 decimals, in a few multiplications, and the rest goes to
/// the standard library. A test holds the two to the same text on random
/// doubles, ties and powers of two.
fn decimal(x: f64, decimals: usize) -> String {
    use std::fmt::Write;
    const TEN: [u128; 20] = {
        let mut t = [1u128; 20];
        let mut i = 1;
        while i < 20 {
            t[i] = t[i - 1] * 10;
            i += 1;
        }
        t
    };
    let bits = x.to_bits();
    let exponent = ((bits >> 52) & 0x7FF) as i32;
    let fraction = bits & ((1 << 52) - 1);
    // `x = mantissa · 2^power` exactly.
    let (mantissa, power) = if exponent == 0 {
        (fraction, -1074)
    } else {
        (fraction | 1 << 52, exponent - 1075)
    };
    let scaled = match TEN.get(decimals) {
        // At most 19 decimals (`TEN`'s last): `mantissa · 10^decimals` <
        // 2^53 · 2^64, which fits with room.
        Some(&ten) if x < 18_446_744_073_709_551_616.0 => u128::from(mantissa) * ten,
        _ => return format!("{x:.decimals$}"),
    };
    // `round_half_even(scaled · 2^power)`.
    let units: u128 = if power >= 0 {
        scaled << power
    } else {
        let shift = power.unsigned_abs();
        if shift >= 127 {
            // `scaled < 2^117`, so `scaled / 2^shift < 1/2`.
            0
        } else {
            let whole = scaled >> shift;
            let rest = scaled & ((1u128 << shift) - 1);
            let half = 1u128 << (shift - 1);
            if rest > half || (rest == half && whole & 1 == 1) {
                whole + 1
            } else {
                whole
            }
        }
    };
    let mut digits = String::with_capacity(40);
    let _ = write!(digits, "{units:0>width$}", width = decimals + 1);
    if decimals > 0 {
        digits.insert(digits.len() - decimals, '.');
    }
    digits
}

/// A number for a sentence when nothing gives its precision: three
/// significant digits, at least none and at most twelve decimals, minus sign
/// `−`: `0.05`, `−0.164`, `12,345` is `12345`.
pub fn general(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    let text = fixed(x, decimals(x, 3));
    // Trailing zeros carry no information without a stated precision.
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// A p-value: four decimals, `< 0.0001` below that (1e-4 is where the
/// fourth decimal stops telling p-values apart; DESIGN's reporting
/// convention, the APA style's `p < .001` with one more digit).
pub fn p_value(p: f64) -> String {
    if !p.is_finite() {
        "n/a".into()
    } else if p < 1e-4 {
        "< 0.0001".into()
    } else {
        decimal(p, 4)
    }
}

/// A p-value in a sentence: `p = 0.0047`, `p < 0.0001`.
pub fn p_is(p: f64) -> String {
    relation("p", &p_value(p))
}

/// `name = value`, or `name < value` / `name > value` when the value is
/// already a bound (`< 0.0001`, `> 99.9%`).
pub fn relation(name: &str, value: &str) -> String {
    if value.starts_with("< ") || value.starts_with("> ") {
        format!("{name} {value}")
    } else {
        format!("{name} = {value}")
    }
}

/// A probability as a percentage with one decimal, `> 99.9%` / `< 0.1%` at
/// the ends (where one decimal would round to a certainty it is not).
pub fn probability(x: f64) -> String {
    if !x.is_finite() {
        "n/a".into()
    } else if x > 0.999 {
        "> 99.9%".into()
    } else if x < 0.001 {
        "< 0.1%".into()
    } else {
        percent_with(x, 1)
    }
}

/// A test statistic (χ², z): two decimals, three significant digits when
/// smaller than 0.1.
pub fn statistic(x: f64) -> String {
    let digits = if x.abs() >= 0.1 {
        2
    } else {
        decimals(x, 3).clamp(2, 6)
    };
    fixed(x, digits)
}

/// How a metric's numbers are written: a rate in percent and its changes in
/// percentage points, a mean or ratio in its own unit; with the decimals
/// that show two significant digits of the narrowest interval's half-width
/// (so a value, its change and its interval share one precision and a
/// change never rounds away: 0.0012% → 0.0030% is `+0.0018 pp`).
#[derive(Clone, Debug, PartialEq)]
pub struct MetricFormat {
    /// A rate: values in %, differences in pp.
    pub rate: bool,
    /// The unit a mean metric declared (`ms`, `EUR`), printed after values.
    pub unit: Option<String>,
    /// Decimals of values and absolute changes (in % / pp for rates).
    pub decimals: usize,
    /// Decimals of relative changes, in %.
    pub relative_decimals: usize,
}

impl MetricFormat {
    /// The format of a metric from its values and its comparisons' lifts and
    /// interval half-widths (absolute, relative), all as fractions for rates.
    pub fn new(
        rate: bool,
        unit: Option<String>,
        values: &[f64],
        changes: &[(Option<f64>, Option<f64>, Option<f64>)],
    ) -> MetricFormat {
        let scale = if rate { 100.0 } else { 1.0 };
        let floor = if rate { 2 } else { 0 };
        let mut decimals = floor;
        let mut by_change = false;
        for (lift, half_width, _) in changes {
            // The interval's width sets the precision; without one, the lift.
            if let Some(x) = half_width.filter(|w| *w > 0.0).or(*lift) {
                decimals = decimals.max(self::decimals(x * scale, 2));
                by_change = true;
            }
        }
        // Without any change to set it (every comparison undefined: a
        // ratio whose control denominator sums to 0), a value still shows
        // three significant digits, never a 0.48 printed as `0`.
        if rate || !by_change {
            for v in values {
                decimals = decimals.max(self::decimals(v * scale, if rate { 2 } else { 3 }));
            }
        }
        let mut relative_decimals = 2;
        for (_, _, rel_half_width) in changes {
            if let Some(w) = rel_half_width.filter(|w| *w > 0.0) {
                relative_decimals = relative_decimals.max(self::decimals(w * 100.0, 2));
            }
        }
        MetricFormat {
            rate,
            unit: unit.filter(|u| !u.is_empty()),
            decimals,
            relative_decimals,
        }
    }

    fn unit(&self, text: String) -> String {
        match (&self.unit, self.rate) {
            (_, true) => text,
            (Some(unit), false) if text != "n/a" => format!("{text} {unit}"),
            _ => text,
        }
    }

    /// A value: `12.00%`, `250.0 ms`.
    pub fn value(&self, v: f64) -> String {
        if self.rate {
            format!("{}%", fixed(v * 100.0, self.decimals))
        } else {
            self.unit(fixed(v, self.decimals))
        }
    }

    /// An absolute change: `+0.60 pp`, `−12.5 ms`.
    pub fn change(&self, d: f64) -> String {
        if self.rate {
            format!("{} pp", signed(d * 100.0, self.decimals))
        } else {
            self.unit(signed(d, self.decimals))
        }
    }

    /// An interval of absolute changes: `[+0.18 pp, +1.01 pp]`.
    pub fn interval(&self, low: f64, high: f64) -> String {
        format!("[{}, {}]", self.change(low), self.change(high))
    }

    /// A relative change: `+4.99%`.
    pub fn relative(&self, r: f64) -> String {
        format!("{}%", signed(r * 100.0, self.relative_decimals))
    }

    /// An interval of relative changes: `[+1.44%, +8.54%]`.
    pub fn relative_interval(&self, low: f64, high: f64) -> String {
        format!("[{}, {}]", self.relative(low), self.relative(high))
    }

    /// A non-negative amount in the metric's change units (an expected
    /// loss, a threshold): `0.02 pp`, `< 0.01 pp` when it rounds to zero.
    pub fn amount(&self, x: f64) -> String {
        if !x.is_finite() {
            return "n/a".into();
        }
        let scaled = if self.rate { x * 100.0 } else { x };
        let mut text = fixed(scaled, self.decimals);
        if scaled > 0.0 && !text.bytes().any(|b| b.is_ascii_digit() && b != b'0') {
            text = format!(
                "< {}",
                fixed(10f64.powi(-(self.decimals as i32)), self.decimals)
            );
        }
        if self.rate {
            format!("{text} pp")
        } else {
            self.unit(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_take_the_singular_only_at_one() {
        assert_eq!(units(1), "1 unit");
        assert_eq!(units(0), "0 units");
        assert_eq!(units(12_000), "12,000 units");
        assert_eq!(days(1.0), "1 day");
        assert_eq!(days(1.5), "1.5 days");
        assert_eq!(days(14.0), "14 days");
    }

    /// `decimal` writes what `format!("{:.N}")` writes: on random doubles of
    /// every magnitude, on exact ties (`k/2^j`, where rounding half to even
    /// decides), on powers of two and their neighbours, and at the ends of
    /// its integer path (2^64, 19 decimals).
    #[test]
    fn decimal_is_the_standard_librarys_text() {
        let check = |x: f64, d: usize| {
            assert_eq!(decimal(x, d), format!("{x:.d$}"), "{x:e} with {d} decimals");
        };
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let cases = if cfg!(debug_assertions) {
            200_000
        } else {
            2_000_000
        };
        for _ in 0..cases {
            let bits = next() & !(1 << 63);
            let x = f64::from_bits(bits);
            let d = (next() % 21) as usize;
            if x.is_finite() {
                check(x, d);
            }
            // Values of a memo's size: 1e-6 to 1e6.
            let y = 10f64.powf((next() % 12_000) as f64 / 1_000.0 - 6.0);
            check(y, d);
        }
        for j in 1..40 {
            for k in 0..200u64 {
                let x = k as f64 / (1u64 << j) as f64;
                for d in 0..=20 {
                    check(x, d);
                }
            }
        }
        for e in -1074_i32..1024 {
            // 2^e from its bits (subnormal below 2^-1022).
            let bits = if e >= -1022 {
                ((e + 1023) as u64) << 52
            } else {
                1 << (e + 1074)
            };
            for y in [bits, bits + 1, bits - 1].map(f64::from_bits) {
                for d in [0, 1, 2, 4, 12, 19, 20] {
                    check(y, d);
                }
            }
        }
        for x in [
            0.0,
            5e-324,
            0.5,
            1.5,
            2.5,
            0.125,
            18_446_744_073_709_549_568.0,
            1.8446744073709552e19,
        ] {
            for d in 0..=25 {
                check(x, d);
            }
        }
    }

    #[test]
    fn percentages_and_p_values_keep_their_text() {
        for x in [
            0.0,
            0.00005,
            0.0123,
            0.975,
            1.0,
            12.345,
            -0.0123,
            -0.0,
            f64::NAN,
            f64::INFINITY,
        ] {
            assert_eq!(percent1(x), format!("{:.1}%", x * 100.0));
            assert_eq!(percent2(x), format!("{:.2}%", x * 100.0));
            assert_eq!(
                signed_percent(x),
                format!("{}{:.2}%", sign(x), (x * 100.0).abs())
            );
        }
    }

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
        assert_eq!(p_value(0.0), "< 0.0001");
        assert_eq!(p_value(0.00001), "< 0.0001");
        assert_eq!(p_value(0.04), "0.0400");
        assert_eq!(p_is(0.0047), "p = 0.0047");
        assert_eq!(p_is(1e-300), "p < 0.0001");
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

#[cfg(test)]
mod memo_tests {
    use super::*;

    #[test]
    fn small_rates_keep_two_significant_digits() {
        // A guardrail rising from 0.0012% to 0.0030% (2.5×) is not 0.00% → 0.00%.
        let f = MetricFormat::new(
            true,
            None,
            &[0.000012, 0.000030],
            &[(Some(0.000018), Some(0.000011), Some(0.9))],
        );
        assert_eq!(f.value(0.000012), "0.0012%");
        assert_eq!(f.value(0.000030), "0.0030%");
        assert_eq!(f.change(0.000018), "+0.0018 pp");
        assert_eq!(f.interval(0.000007, 0.000029), "[+0.0007 pp, +0.0029 pp]");
        // An everyday rate keeps two decimals.
        let f = MetricFormat::new(
            true,
            None,
            &[0.12, 0.126],
            &[(Some(0.006), Some(0.0042), Some(0.035))],
        );
        assert_eq!(f.value(0.12), "12.00%");
        assert_eq!(f.change(-0.0001), "−0.01 pp");
        assert_eq!(f.relative(0.0499), "+4.99%");
        assert_eq!(f.amount(1e-15), "< 0.01 pp");
        assert_eq!(f.amount(0.000211), "0.02 pp");
    }

    #[test]
    fn means_share_one_precision_and_carry_their_unit() {
        let f = MetricFormat::new(
            false,
            Some("ms".into()),
            &[240.0, 250.0],
            &[(Some(10.0), Some(0.4159), Some(0.0017))],
        );
        assert_eq!(f.value(240.0), "240.00 ms");
        assert_eq!(f.change(10.0), "+10.00 ms");
        assert_eq!(f.interval(9.5841, 10.4159), "[+9.58 ms, +10.42 ms]");
        assert_eq!(f.amount(3.882e-13), "< 0.01 ms");
        let f = MetricFormat::new(false, None, &[25.0], &[(Some(0.6), None, None)]);
        assert_eq!(f.change(-0.6), "−0.60");
    }

    #[test]
    fn probabilities_p_values_and_statistics() {
        assert_eq!(probability(0.9996), "> 99.9%");
        assert_eq!(probability(0.0004), "< 0.1%");
        assert_eq!(probability(0.585), "58.5%");
        assert_eq!(p_value(0.8307), "0.8307");
        assert_eq!(relation("srm.p", &p_value(0.0)), "srm.p < 0.0001");
        assert_eq!(relation("primary.p", "0.0047"), "primary.p = 0.0047");
        assert_eq!(statistic(8.0), "8.00");
        assert_eq!(statistic(0.1247), "0.12");
        assert_eq!(statistic(0.01234), "0.0123");
    }

    #[test]
    fn one_minus_sign_and_no_negative_zero() {
        assert_eq!(fixed(-0.1635, 4), "−0.1635");
        assert_eq!(fixed(-0.0001, 2), "0.00");
        assert_eq!(signed(0.0001, 2), "0.00");
        assert_eq!(signed(0.5, 1), "+0.5");
        assert_eq!(general(-0.16351), "−0.164");
        assert_eq!(general(0.05), "0.05");
        assert_eq!(general(20000.0), "20000");
        assert_eq!(decimals(0.0018, 2), 4);
        assert_eq!(decimals(240.0, 2), 0);
    }
}
