//! Sesam's cron dialect (sesam-spec 4.2): `minute hour day-of-month month day-of-week [year]`,
//! UTC, no seconds field. `* , - /` everywhere, `?` = `*` in day-of-month and day-of-week,
//! `L` (last day of the month; `5L` = last Friday), month and weekday names.
//! Day-of-week is 0-6 from Sunday (7 is Sunday too). When both day fields are restricted a
//! day matches either (classic cron); when one is `*` or `?`, only the other counts.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc};

/// A parsed cron expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cron {
    minutes: u64,
    hours: u32,
    /// Bits 1..=31.
    dom: u32,
    dom_last: bool,
    dom_any: bool,
    /// Bits 1..=12.
    months: u16,
    /// Bits 0..=6.
    dow: u8,
    /// `nL`: the last such weekday of the month (bits 0..=6).
    dow_last: u8,
    dow_any: bool,
    /// Allowed years (1970..=2099); `None` = any.
    years: Option<Vec<bool>>,
    text: String,
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

struct Field<'a> {
    name: &'static str,
    lo: u32,
    hi: u32,
    names: &'a [&'a str],
    names_from: u32,
}

impl Cron {
    /// Parses an expression; the error says which field is wrong and why.
    pub fn parse(s: &str) -> Result<Cron, String> {
        let parts: Vec<&str> = s.split_whitespace().collect();
        if parts.len() != 5 && parts.len() != 6 {
            return Err(format!(
                "cron expression {s:?} has {} fields; Sesam's cron has 5 (minute hour day-of-month month day-of-week) and an optional year, e.g. \"0 0 ? * *\"",
                parts.len()
            ));
        }
        let f = |name, lo, hi| Field {
            name,
            lo,
            hi,
            names: &[],
            names_from: 0,
        };
        let minutes = bits(parts[0], &f("minute", 0, 59), s)?;
        let hours = bits(parts[1], &f("hour", 0, 23), s)? as u32;
        let (dom_any, dom_last, dom) = match parts[2] {
            "*" | "?" => (true, false, 0),
            "L" => (false, true, 0),
            p => (false, false, bits(p, &f("day-of-month", 1, 31), s)? as u32),
        };
        let month_field = Field {
            name: "month",
            lo: 1,
            hi: 12,
            names: &MONTHS,
            names_from: 1,
        };
        let months = bits(parts[3], &month_field, s)? as u16;
        let dow_field = Field {
            name: "day-of-week",
            lo: 0,
            hi: 7,
            names: &DAYS,
            names_from: 0,
        };
        let (dow_any, dow_last, dow) = match parts[4] {
            "*" | "?" => (true, 0, 0),
            p if p.len() > 1 && p.ends_with('L') => {
                let d = bits(&p[..p.len() - 1], &dow_field, s)?;
                (false, fold_sunday(d), 0)
            }
            p => (false, 0, fold_sunday(bits(p, &dow_field, s)?)),
        };
        let years = match parts.get(5) {
            None | Some(&"*") | Some(&"?") => None,
            Some(p) => {
                let mut v = vec![false; 130];
                let b = bits128(p, &f("year", 1970, 2099), s)?;
                for (i, slot) in v.iter_mut().enumerate() {
                    *slot = b[i];
                }
                Some(v)
            }
        };
        Ok(Cron {
            minutes,
            hours,
            dom,
            dom_last,
            dom_any,
            months,
            dow,
            dow_last,
            dow_any,
            years,
            text: s.to_string(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first matching minute strictly after `t`, or `None` if none within ten years.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let start = t.with_second(0)?.with_nanosecond(0)? + Duration::minutes(1);
        let mut day = start.date_naive();
        let (mut h0, mut m0) = (start.hour(), start.minute());
        for _ in 0..3700 {
            if self.day_matches(day) {
                for h in h0..24 {
                    if self.hours & (1 << h) == 0 {
                        continue;
                    }
                    let from = if h == h0 { m0 } else { 0 };
                    if let Some(m) = (from..60).find(|m| self.minutes & (1 << m) != 0) {
                        return day.and_hms_opt(h, m, 0).map(|d| d.and_utc());
                    }
                }
            }
            day = day.succ_opt()?;
            (h0, m0) = (0, 0);
        }
        None
    }

    fn day_matches(&self, d: NaiveDate) -> bool {
        if let Some(years) = &self.years {
            let i = d.year() - 1970;
            if !(0..130).contains(&i) || !years[i as usize] {
                return false;
            }
        }
        if self.months & (1 << d.month()) == 0 {
            return false;
        }
        let last_day = last_day_of_month(d);
        let dom_ok = self.dom_last && d.day() == last_day || self.dom & (1 << d.day()) != 0;
        let wd = d.weekday().num_days_from_sunday();
        let dow_ok =
            self.dow & (1 << wd) != 0 || (self.dow_last & (1 << wd) != 0 && d.day() + 7 > last_day);
        match (self.dom_any, self.dow_any) {
            (true, true) => true,
            (true, false) => dow_ok,
            (false, true) => dom_ok,
            (false, false) => dom_ok || dow_ok,
        }
    }
}

fn last_day_of_month(d: NaiveDate) -> u32 {
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|n| n.pred_opt())
        .map_or(28, |p| p.day())
}

/// Day 7 is Sunday as well.
fn fold_sunday(b: u64) -> u8 {
    ((b & 0x7f) | ((b >> 7) & 1)) as u8
}

fn bits(p: &str, f: &Field, expr: &str) -> Result<u64, String> {
    let b = bits128(p, f, expr)?;
    Ok((f.lo..=f.hi.min(63)).fold(0u64, |acc, v| {
        if b[(v - f.lo) as usize] {
            acc | (1 << v)
        } else {
            acc
        }
    }))
}

/// The set of values a field allows, indexed from `f.lo`.
fn bits128(p: &str, f: &Field, expr: &str) -> Result<Vec<bool>, String> {
    let err = |why: String| format!("cron expression {expr:?}: {} field {p:?}: {why}", f.name);
    let mut out = vec![false; (f.hi - f.lo + 1) as usize];
    for item in p.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s
                    .parse()
                    .ok()
                    .filter(|&s| s > 0)
                    .ok_or_else(|| err(format!("step {s:?} is not a positive number")))?;
                (r, step)
            }
            None => (item, 1),
        };
        let (a, b) = match range {
            "*" | "?" => (f.lo, f.hi),
            r => match r.split_once('-') {
                Some((a, b)) => (value(a, f).map_err(&err)?, value(b, f).map_err(&err)?),
                None => {
                    let a = value(r, f).map_err(&err)?;
                    (a, if item.contains('/') { f.hi } else { a })
                }
            },
        };
        if a > b {
            return Err(err(format!("range {a}-{b} runs backwards")));
        }
        let mut v = a;
        while v <= b {
            out[(v - f.lo) as usize] = true;
            v += step;
        }
    }
    Ok(out)
}

fn value(s: &str, f: &Field) -> Result<u32, String> {
    let up = s.to_ascii_uppercase();
    if let Some(i) = f.names.iter().position(|n| *n == up) {
        return Ok(i as u32 + f.names_from);
    }
    match s.parse::<u32>() {
        Ok(v) if (f.lo..=f.hi).contains(&v) => Ok(v),
        Ok(v) => Err(format!("{v} is outside {}-{}", f.lo, f.hi)),
        Err(_) => Err(format!(
            "{s:?} is not a number{}",
            if f.names.is_empty() {
                String::new()
            } else {
                format!(" or a name ({})", f.names.join(", "))
            }
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn next(expr: &str, t: DateTime<Utc>) -> DateTime<Utc> {
        Cron::parse(expr).unwrap().next_after(t).unwrap()
    }

    #[test]
    fn midnight_with_question_mark() {
        assert_eq!(
            next("0 0 ? * *", at(2024, 3, 5, 13, 7)),
            at(2024, 3, 6, 0, 0)
        );
        assert_eq!(
            next("0 0 ? * *", at(2024, 3, 6, 0, 0)),
            at(2024, 3, 7, 0, 0)
        );
    }

    #[test]
    fn steps_lists_names_and_last() {
        assert_eq!(
            next("0/10 * * * *", at(2024, 3, 5, 13, 7)),
            at(2024, 3, 5, 13, 10)
        );
        assert_eq!(
            next("0/5 14,18 * * ?", at(2024, 3, 5, 15, 0)),
            at(2024, 3, 5, 18, 0)
        );
        // 2024-03-09 is a Saturday: the next weekday 10:15 is Monday the 11th.
        assert_eq!(
            next("15 10 ? * MON-FRI", at(2024, 3, 8, 11, 0)),
            at(2024, 3, 11, 10, 15)
        );
        assert_eq!(
            next("15 10 L * ?", at(2024, 2, 1, 0, 0)),
            at(2024, 2, 29, 10, 15)
        );
        // Last Friday of March 2024 is the 29th.
        assert_eq!(
            next("0 12 ? * 5L", at(2024, 3, 1, 0, 0)),
            at(2024, 3, 29, 12, 0)
        );
        assert_eq!(
            next("0 0 1 JAN ? 2030", at(2024, 3, 1, 0, 0)),
            at(2030, 1, 1, 0, 0)
        );
    }

    #[test]
    fn errors_name_the_field() {
        let e = Cron::parse("0 25 * * *").unwrap_err();
        assert!(
            e.contains("hour field") && e.contains("outside 0-23"),
            "{e}"
        );
        let e = Cron::parse("0 0 * *").unwrap_err();
        assert!(e.contains("4 fields"), "{e}");
        let e = Cron::parse("0 0 ? FOO *").unwrap_err();
        assert!(e.contains("month field"), "{e}");
    }
}
