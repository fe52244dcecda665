//! Looks: the moments at which an experiment's data was read.
//!
//! `data "daily.csv" { look "date" }` names the column that says which look
//! a row belongs to. In an aggregated file every look has one row per
//! variant with the **cumulative** units and sums up to that look; in a
//! row-level file each unit's row carries its look, and a look's data is
//! every row up to it. Looks are ordered by their value, which is one of
//! (the whole column the same kind):
//!
//! - an integer (`1`, `2`, … or a day number);
//! - an ISO 8601 date, `YYYY-MM-DD`;
//! - an ISO 8601 date and time, `YYYY-MM-DDTHH:MM[:SS]` (or with a space
//!   for the `T`; a trailing `Z` is accepted), read as UTC.
//!
//! The latest look is the current one: `Data::variants` is its data.

use super::VariantData;

/// One look's cumulative data, in the plan's variant and metric order.
#[derive(Clone, Debug, PartialEq)]
pub struct Look {
    /// The look's value as written in the file (`2026-11-03`).
    pub label: String,
    /// Each variant's cumulative data up to this look, in the plan's order.
    pub variants: Vec<VariantData>,
}

/// A look value, ordered within its kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LookKey {
    /// A whole number (a look index, a day number).
    Integer(i64),
    /// Days since 1970-01-01.
    Date(i64),
    /// Seconds since 1970-01-01T00:00:00Z.
    DateTime(i64),
}

impl LookKey {
    /// What kind of value it is, for messages.
    pub fn kind(self) -> &'static str {
        match self {
            LookKey::Integer(_) => "an integer",
            LookKey::Date(_) => "a date",
            LookKey::DateTime(_) => "a date and time",
        }
    }

    /// Whether two keys are of the same kind (only those can be ordered).
    pub fn same_kind(self, other: LookKey) -> bool {
        std::mem::discriminant(&self) == std::mem::discriminant(&other)
    }
}

/// What a look column holds, for the help of an unparseable value.
pub const LOOK_FORMATS: &str =
    "a look is an integer, a date `YYYY-MM-DD` or a date and time `YYYY-MM-DDTHH:MM:SS`";

/// Parses a look value (surrounding blanks ignored); `None` when it is none
/// of the accepted forms or names a day that does not exist (`2026-02-30`).
pub fn parse_look(text: &str) -> Option<LookKey> {
    let text = text.trim();
    if let Ok(n) = text.parse::<i64>() {
        return Some(LookKey::Integer(n));
    }
    let (date, time) = match text.split_once(['T', ' ']) {
        Some((date, time)) => (date, Some(time.strip_suffix('Z').unwrap_or(time))),
        None => (text, None),
    };
    let days = parse_date(date)?;
    let Some(time) = time else {
        return Some(LookKey::Date(days));
    };
    let mut parts = time.split(':');
    let hour = two_digits(parts.next()?)?;
    let minute = two_digits(parts.next()?)?;
    let second = match parts.next() {
        Some(s) => two_digits(s)?,
        None => 0,
    };
    if parts.next().is_some() || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some(LookKey::DateTime(
        days * 86_400 + i64::from(hour * 3600 + minute * 60 + second),
    ))
}

fn two_digits(text: &str) -> Option<u32> {
    (text.len() == 2 && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// `YYYY-MM-DD` → days since 1970-01-01 (proleptic Gregorian calendar).
fn parse_date(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = &text[range];
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let month_days = days_in_month(year, month)?;
    (1..=month_days)
        .contains(&day)
        .then(|| days_from_civil(year, month, day))
}

/// The days of `month` (1 to 12) of `year` in the proleptic Gregorian
/// calendar; `None` for a month outside 1 to 12.
pub fn days_in_month(year: i64, month: i64) -> Option<i64> {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => Some(31),
        4 | 6 | 9 | 11 => Some(30),
        2 if leap => Some(29),
        2 => Some(28),
        _ => None,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date: Howard Hinnant's
/// `days_from_civil` (<https://howardhinnant.github.io/date_algorithms.html>),
/// the inverse of `civil_from_days` in `serve/app.rs`.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_dates_and_times_parse_and_order() {
        assert_eq!(parse_look(" 7 "), Some(LookKey::Integer(7)));
        assert_eq!(parse_look("1970-01-01"), Some(LookKey::Date(0)));
        assert_eq!(parse_look("2000-02-29"), Some(LookKey::Date(11_016)));
        assert_eq!(parse_look("2026-11-30"), Some(LookKey::Date(20_787)));
        assert_eq!(parse_look("1969-12-31"), Some(LookKey::Date(-1)));
        assert_eq!(
            parse_look("1970-01-02T00:00:01Z"),
            Some(LookKey::DateTime(86_401))
        );
        assert_eq!(
            parse_look("1970-01-01 01:02"),
            Some(LookKey::DateTime(3_720))
        );
        assert!(parse_look("2026-11-09") > parse_look("2026-11-08"));
        assert!(parse_look("10") > parse_look("9"));
    }

    #[test]
    fn what_is_not_a_look_is_refused() {
        for bad in [
            "",
            "monday",
            "2026-02-30",
            "2025-02-29",
            "2026-13-01",
            "2026-1-01",
            "26-01-01",
            "2026-01-01T25:00",
            "2026-01-01T10",
            "2026-01-01T10:00:00:00",
            "1.5",
        ] {
            assert_eq!(parse_look(bad), None, "{bad}");
        }
    }

    #[test]
    fn kinds_are_told_apart() {
        let (a, b) = (parse_look("1").unwrap(), parse_look("2026-01-01").unwrap());
        assert!(!a.same_kind(b));
        assert!(a.same_kind(LookKey::Integer(5)));
    }
}
