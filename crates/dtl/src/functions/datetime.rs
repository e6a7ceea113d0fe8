//! Date and time: `datetime datetime-parse datetime-format datetime-plus datetime-diff
//! datetime-shift now is-datetime`, with IANA zones from `chrono-tz`.

use chrono::{Datelike, Months, NaiveDateTime, Offset, TimeZone};
use chrono_tz::Tz;
use pumphouse_value::{DateTime, Value};

use super::strftime;
use super::{spec, Spec};
use crate::ast::Call;
use crate::error::EvalResult;
use crate::eval::{map_values, Scope};

pub const SPECS: &[Spec] = &[
    spec("datetime", 1, 2, datetime),
    spec("datetime-parse", 2, 3, datetime_parse),
    spec("datetime-format", 2, 3, datetime_format),
    spec("datetime-plus", 3, 3, datetime_plus),
    spec("datetime-diff", 3, 3, datetime_diff),
    spec("datetime-shift", 3, 3, datetime_shift),
    spec("now", 0, 0, now),
    spec("is-datetime", 1, 1, is_datetime),
];

fn as_dt(v: &Value) -> Option<DateTime> {
    match v {
        Value::DateTime(d) => Some(*d),
        Value::Date(d) => Some(d.at_midnight()),
        _ => None,
    }
}

fn tz(v: &Value) -> Option<Tz> {
    v.as_str()?.parse::<Tz>().ok()
}

/// Casts ISO text or nanoseconds since the epoch to a datetime.
fn to_datetime(v: &Value) -> Option<Value> {
    match v {
        Value::DateTime(_) => Some(v.clone()),
        Value::Date(d) => Some(Value::DateTime(d.at_midnight())),
        Value::Int(n) => Some(Value::DateTime(DateTime::from_nanos(*n as i128))),
        Value::String(s) => {
            let s = s.trim();
            if let Some(d) = DateTime::parse(s) {
                return Some(Value::DateTime(d));
            }
            if let Ok(d) = chrono::DateTime::parse_from_rfc3339(s) {
                return Some(Value::DateTime(DateTime::from_naive(&d.naive_utc())));
            }
            for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
                if let Ok(n) = NaiveDateTime::parse_from_str(s, f) {
                    return Some(Value::DateTime(DateTime::from_naive(&n)));
                }
            }
            pumphouse_value::Date::parse(s).map(|d| Value::DateTime(d.at_midnight()))
        }
        _ => None,
    }
}

fn datetime(c: &Call, sc: &Scope) -> EvalResult<Value> {
    super::numbers::cast(c, sc, to_datetime)
}

fn datetime_parse(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let zone = if c.args.len() == 3 {
        match tz(&sc.arg(c, 0)?) {
            Some(z) => z,
            None => return Ok(Value::Null),
        }
    } else {
        Tz::UTC
    };
    let fmt = sc.arg(c, c.args.len() - 2)?;
    let Some(fmt) = fmt.as_str() else {
        return Ok(Value::Null);
    };
    Ok(map_values(sc.arg(c, c.args.len() - 1)?, |v| {
        let p = strftime::parse(fmt, v.as_str()?)?;
        let utc = match p.offset {
            Some(off) => off.from_local_datetime(&p.naive).single()?.naive_utc(),
            None => zone.from_local_datetime(&p.naive).earliest()?.naive_utc(),
        };
        Some(Value::DateTime(DateTime::from_naive(&utc)))
    }))
}

fn datetime_format(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let zone = if c.args.len() == 3 {
        match tz(&sc.arg(c, 0)?) {
            Some(z) => z,
            None => return Ok(Value::Null),
        }
    } else {
        Tz::UTC
    };
    let fmt = sc.arg(c, c.args.len() - 2)?;
    let Some(fmt) = fmt.as_str() else {
        return Ok(Value::Null);
    };
    Ok(map_values(sc.arg(c, c.args.len() - 1)?, |v| {
        let n = as_dt(&v)?.to_naive()?;
        let local = zone.from_utc_datetime(&n);
        let off = local.offset().fix().local_minus_utc();
        let abbr = local.format("%Z").to_string();
        Some(Value::String(strftime::format(
            fmt,
            &local.naive_local(),
            off,
            &abbr,
        )))
    }))
}

fn plus_one(t: NaiveDateTime, part: &str, n: i64) -> Option<NaiveDateTime> {
    let months = |m: i64| {
        if m >= 0 {
            t.checked_add_months(Months::new(u32::try_from(m).ok()?))
        } else {
            t.checked_sub_months(Months::new(u32::try_from(-m).ok()?))
        }
    };
    let dur =
        |unit_ns: i64| t.checked_add_signed(chrono::Duration::nanoseconds(n.checked_mul(unit_ns)?));
    match part {
        "year" | "years" => months(n.checked_mul(12)?),
        "month" | "months" => months(n),
        "week" | "weeks" => t.checked_add_signed(chrono::Duration::try_weeks(n)?),
        "day" | "days" => t.checked_add_signed(chrono::Duration::try_days(n)?),
        "hour" | "hours" => t.checked_add_signed(chrono::Duration::try_hours(n)?),
        "minute" | "minutes" => t.checked_add_signed(chrono::Duration::try_minutes(n)?),
        "second" | "seconds" => t.checked_add_signed(chrono::Duration::try_seconds(n)?),
        "millisecond" | "milliseconds" => dur(1_000_000),
        "microsecond" | "microseconds" => dur(1_000),
        "nanosecond" | "nanoseconds" => dur(1),
        _ => None,
    }
}

fn datetime_plus(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let part = sc.arg(c, 0)?;
    let n = sc.arg(c, 1)?.as_i64();
    let (Some(part), Some(n)) = (part.as_str(), n) else {
        return Ok(Value::Null);
    };
    Ok(map_values(sc.arg(c, 2)?, |v| {
        let t = plus_one(as_dt(&v)?.to_naive()?, part, n)?;
        Some(Value::DateTime(DateTime::from_naive(&t)))
    }))
}

/// Whole months from `b` to `a` (a − b), truncated toward zero.
fn month_diff(a: &NaiveDateTime, b: &NaiveDateTime) -> i64 {
    let mut m = (a.year() as i64 - b.year() as i64) * 12 + (a.month() as i64 - b.month() as i64);
    let rest = |t: &NaiveDateTime| (t.day(), t.time());
    if m > 0 && rest(a) < rest(b) {
        m -= 1;
    } else if m < 0 && rest(a) > rest(b) {
        m += 1;
    }
    m
}

fn datetime_diff(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let part = sc.arg(c, 0)?;
    let (a, b) = (
        crate::eval::first(sc.arg(c, 1)?),
        crate::eval::first(sc.arg(c, 2)?),
    );
    let (Some(part), Some(a), Some(b)) = (part.as_str(), as_dt(&a), as_dt(&b)) else {
        return Ok(Value::Null);
    };
    let ns = a.as_nanos() - b.as_nanos();
    let unit: i128 = match part {
        "year" | "years" | "month" | "months" => {
            let (Some(x), Some(y)) = (a.to_naive(), b.to_naive()) else {
                return Ok(Value::Null);
            };
            let m = month_diff(&x, &y);
            return Ok(Value::Int(if part.starts_with("year") {
                m / 12
            } else {
                m
            }));
        }
        "week" | "weeks" => 7 * 86_400_000_000_000,
        "day" | "days" => 86_400_000_000_000,
        "hour" | "hours" => 3_600_000_000_000,
        "minute" | "minutes" => 60_000_000_000,
        "second" | "seconds" => 1_000_000_000,
        "millisecond" | "milliseconds" => 1_000_000,
        "microsecond" | "microseconds" => 1_000,
        "nanosecond" | "nanoseconds" => 1,
        _ => return Ok(Value::Null),
    };
    Ok(i64::try_from(ns / unit).map_or(Value::Null, Value::Int))
}

fn datetime_shift(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let (Some(from), Some(to)) = (tz(&sc.arg(c, 0)?), tz(&sc.arg(c, 1)?)) else {
        return Ok(Value::Null);
    };
    Ok(map_values(sc.arg(c, 2)?, |v| {
        let wall = as_dt(&v)?.to_naive()?;
        let instant = from.from_local_datetime(&wall).earliest()?;
        let shifted = instant.with_timezone(&to).naive_local();
        Some(Value::DateTime(DateTime::from_naive(&shifted)))
    }))
}

fn now(_c: &Call, _sc: &Scope) -> EvalResult<Value> {
    Ok(Value::DateTime(DateTime::now()))
}

fn is_datetime(c: &Call, sc: &Scope) -> EvalResult<Value> {
    super::numbers::first_is(c, sc, |v| matches!(v, Value::DateTime(_) | Value::Date(_)))
}
