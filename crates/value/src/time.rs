//! Sesam dates and datetimes: UTC instants with nanosecond precision (years 0001–9999) and
//! calendar dates, with the transit text forms `2015-12-31` and `2015-01-02T03:04:05.123456789Z`.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

/// A UTC instant: seconds since the Unix epoch plus nanoseconds (0..1e9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    pub secs: i64,
    pub nanos: u32,
}

/// A calendar date: days since 1970-01-01.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub days: i32,
}

const EPOCH_DAYS_FROM_CE: i32 = 719_163;

impl DateTime {
    pub fn from_nanos(n: i128) -> DateTime {
        let secs = n.div_euclid(1_000_000_000) as i64;
        let nanos = n.rem_euclid(1_000_000_000) as u32;
        DateTime { secs, nanos }
    }

    pub fn as_nanos(&self) -> i128 {
        self.secs as i128 * 1_000_000_000 + self.nanos as i128
    }

    pub fn to_naive(&self) -> Option<NaiveDateTime> {
        chrono::DateTime::from_timestamp(self.secs, self.nanos).map(|d| d.naive_utc())
    }

    pub fn from_naive(n: &NaiveDateTime) -> DateTime {
        let u = n.and_utc();
        DateTime {
            secs: u.timestamp(),
            nanos: u.timestamp_subsec_nanos(),
        }
    }

    pub fn now() -> DateTime {
        let d = chrono::Utc::now();
        DateTime {
            secs: d.timestamp(),
            nanos: d.timestamp_subsec_nanos(),
        }
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fffffffff]Z` (the `Z` is required, 1–9 fraction digits).
    pub fn parse(text: &str) -> Option<DateTime> {
        let b = text.as_bytes();
        if b.len() < 20 || b[10] != b'T' || *b.last()? != b'Z' {
            return None;
        }
        let date = Date::parse(&text[..10])?;
        if b[13] != b':' || b[16] != b':' {
            return None;
        }
        let hh = digits(&b[11..13])?;
        let mm = digits(&b[14..16])?;
        let ss = digits(&b[17..19])?;
        if hh > 23 || mm > 59 || ss > 59 {
            return None;
        }
        let rest = &b[19..b.len() - 1];
        let nanos = if rest.is_empty() {
            0
        } else {
            if rest[0] != b'.' || rest.len() < 2 || rest.len() > 10 {
                return None;
            }
            let frac = &rest[1..];
            let v = digits(frac)?;
            v * 10u32.pow(9 - frac.len() as u32)
        };
        let secs = date.days as i64 * 86_400 + hh as i64 * 3600 + mm as i64 * 60 + ss as i64;
        Some(DateTime { secs, nanos })
    }

    /// Writes the transit text (without `~t`): fraction digits only as many as needed in
    /// groups of 3 (`.123`, `.123456`, `.123456789`), none when zero.
    pub fn format(&self) -> String {
        let days = self.secs.div_euclid(86_400);
        let sod = self.secs.rem_euclid(86_400);
        let date = Date { days: days as i32 }.format();
        let mut s = format!(
            "{date}T{:02}:{:02}:{:02}",
            sod / 3600,
            sod / 60 % 60,
            sod % 60
        );
        if self.nanos != 0 {
            let n = self.nanos;
            if n % 1_000_000 == 0 {
                s.push_str(&format!(".{:03}", n / 1_000_000));
            } else if n % 1000 == 0 {
                s.push_str(&format!(".{:06}", n / 1000));
            } else {
                s.push_str(&format!(".{n:09}"));
            }
        }
        s.push('Z');
        s
    }

    pub fn date(&self) -> Date {
        Date {
            days: self.secs.div_euclid(86_400) as i32,
        }
    }

    /// Hour, minute, second of the day.
    pub fn hms(&self) -> (u32, u32, u32) {
        let sod = self.secs.rem_euclid(86_400) as u32;
        (sod / 3600, sod / 60 % 60, sod % 60)
    }
}

impl Date {
    pub fn from_ymd(y: i32, m: u32, d: u32) -> Option<Date> {
        let nd = NaiveDate::from_ymd_opt(y, m, d)?;
        Some(Date {
            days: nd.num_days_from_ce() - EPOCH_DAYS_FROM_CE,
        })
    }

    pub fn to_naive(&self) -> Option<NaiveDate> {
        NaiveDate::from_num_days_from_ce_opt(self.days.checked_add(EPOCH_DAYS_FROM_CE)?)
    }

    /// Parses `YYYY-MM-DD` for years 0001–9999.
    pub fn parse(text: &str) -> Option<Date> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let y = digits(&b[0..4])? as i32;
        if y == 0 {
            return None;
        }
        Date::from_ymd(y, digits(&b[5..7])?, digits(&b[8..10])?)
    }

    pub fn format(&self) -> String {
        match self.to_naive() {
            Some(d) => format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()),
            None => format!("invalid-date({})", self.days),
        }
    }

    /// Midnight UTC of this date.
    pub fn at_midnight(&self) -> DateTime {
        DateTime {
            secs: self.days as i64 * 86_400,
            nanos: 0,
        }
    }
}

impl std::fmt::Display for DateTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.format())
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    let mut v: u32 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

/// Keeps `Timelike` in use for callers converting through chrono.
pub fn naive_hms(n: &NaiveDateTime) -> (u32, u32, u32) {
    (n.hour(), n.minute(), n.second())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_round_trips_with_nanoseconds() {
        for t in [
            "2015-01-02T03:04:05.123456789Z",
            "2015-01-02T03:04:05Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.5Z",
        ] {
            let d = DateTime::parse(t).unwrap();
            let back = DateTime::parse(&d.format()).unwrap();
            assert_eq!(d, back, "{t}");
        }
        assert_eq!(
            DateTime::parse("2015-01-02T03:04:05.5Z").unwrap().format(),
            "2015-01-02T03:04:05.500Z"
        );
        assert_eq!(DateTime::parse("1969-12-31T23:59:59Z").unwrap().secs, -1);
    }

    #[test]
    fn rejects_datetimes_without_z_or_bad_fields() {
        for t in [
            "2015-01-02T03:04:05",
            "2015-13-02T03:04:05Z",
            "2015-01-02T24:00:00Z",
            "2015-01-02T03:04:05.Z",
            "0000-01-01T00:00:00Z",
        ] {
            assert!(DateTime::parse(t).is_none(), "{t}");
        }
    }

    #[test]
    fn dates_parse_and_format() {
        let d = Date::parse("2015-12-31").unwrap();
        assert_eq!(d.format(), "2015-12-31");
        assert_eq!(Date::parse("1970-01-01").unwrap().days, 0);
        assert!(Date::parse("2015-02-30").is_none());
    }
}
