//! strptime/strftime for DTL: the documented tokens `%d %e %H %I %m %M %p %S %f %y %Y %z %%`
//! plus month/weekday names and `%j`, read and written the way Python does.

use chrono::{Datelike, FixedOffset, NaiveDate, NaiveDateTime, Timelike};

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const DAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// What `parse` read: the wall-clock time and the `%z` offset if there was one.
pub struct Parsed {
    pub naive: NaiveDateTime,
    pub offset: Option<FixedOffset>,
}

struct Reader<'a> {
    s: &'a [u8],
    i: usize,
}

impl Reader<'_> {
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.i;
        while self.i < self.s.len() && self.i - start < max && self.s[self.i].is_ascii_digit() {
            self.i += 1;
        }
        if self.i - start < min {
            return None;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .ok()?
            .parse()
            .ok()
    }

    fn name(&mut self, names: &[&str]) -> Option<usize> {
        let rest = std::str::from_utf8(&self.s[self.i..])
            .ok()?
            .to_ascii_lowercase();
        for (n, full) in names.iter().enumerate() {
            if rest.starts_with(full) {
                self.i += full.len();
                return Some(n);
            }
        }
        for (n, full) in names.iter().enumerate() {
            if rest.starts_with(&full[..3]) {
                self.i += 3;
                return Some(n);
            }
        }
        None
    }
}

/// Reads `text` with `format`; the whole text must match.
pub fn parse(format: &str, text: &str) -> Option<Parsed> {
    let mut r = Reader {
        s: text.as_bytes(),
        i: 0,
    };
    let (mut y, mut mo, mut d, mut h, mut mi, mut sec, mut nanos) =
        (1900i32, 1u32, 1u32, 0u32, 0u32, 0u32, 0u32);
    let mut pm: Option<bool> = None;
    let mut offset = None;
    let mut f = format.chars().peekable();
    while let Some(c) = f.next() {
        if c != '%' {
            if c.is_whitespace() {
                while r.i < r.s.len() && r.s[r.i].is_ascii_whitespace() {
                    r.i += 1;
                }
                continue;
            }
            let mut buf = [0u8; 4];
            let enc = c.encode_utf8(&mut buf).as_bytes();
            if !r.s[r.i..].starts_with(enc) {
                return None;
            }
            r.i += enc.len();
            continue;
        }
        match f.next()? {
            'd' => d = r.digits(1, 2)?,
            'e' => {
                while r.i < r.s.len() && r.s[r.i] == b' ' {
                    r.i += 1;
                }
                d = r.digits(1, 2)?;
            }
            'm' => mo = r.digits(1, 2)?,
            'Y' => y = r.digits(4, 4)? as i32,
            'y' => {
                let v = r.digits(2, 2)? as i32;
                y = if v <= 68 { 2000 + v } else { 1900 + v };
            }
            'H' | 'I' => h = r.digits(1, 2)?,
            'M' => mi = r.digits(1, 2)?,
            'S' => sec = r.digits(1, 2)?,
            'f' => {
                let start = r.i;
                let v = r.digits(1, 9)?;
                nanos = v * 10u32.pow(9 - (r.i - start) as u32);
            }
            'p' => {
                let rest = std::str::from_utf8(&r.s[r.i..]).ok()?.to_ascii_lowercase();
                pm = Some(if rest.starts_with("pm") {
                    true
                } else if rest.starts_with("am") {
                    false
                } else {
                    return None;
                });
                r.i += 2;
            }
            'z' => offset = Some(read_offset(&mut r)?),
            'b' | 'B' => mo = r.name(&MONTHS)? as u32 + 1,
            'a' | 'A' => {
                r.name(&DAYS)?;
            }
            '%' => {
                if r.s.get(r.i) != Some(&b'%') {
                    return None;
                }
                r.i += 1;
            }
            _ => return None,
        }
    }
    if r.i != r.s.len() {
        return None;
    }
    if let Some(pm) = pm {
        if !(1..=12).contains(&h) {
            return None;
        }
        h = h % 12 + if pm { 12 } else { 0 };
    }
    let naive = NaiveDate::from_ymd_opt(y, mo, d)?.and_hms_nano_opt(h, mi, sec, nanos)?;
    Some(Parsed { naive, offset })
}

fn read_offset(r: &mut Reader) -> Option<FixedOffset> {
    match r.s.get(r.i)? {
        b'Z' | b'z' => {
            r.i += 1;
            return FixedOffset::east_opt(0);
        }
        b'+' | b'-' => {}
        _ => return None,
    }
    let sign = if r.s[r.i] == b'-' { -1 } else { 1 };
    r.i += 1;
    let hh = r.digits(2, 2)? as i32;
    if r.s.get(r.i) == Some(&b':') {
        r.i += 1;
    }
    let mm = r.digits(2, 2)? as i32;
    FixedOffset::east_opt(sign * (hh * 3600 + mm * 60))
}

fn cap(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// Writes `t` (already in the wanted zone, `offset_secs` east of UTC) with `format`.
pub fn format(format: &str, t: &NaiveDateTime, offset_secs: i32, zone: &str) -> String {
    let mut out = String::new();
    let mut f = format.chars();
    while let Some(c) = f.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(tok) = f.next() else {
            out.push('%');
            break;
        };
        let h12 = match t.hour() % 12 {
            0 => 12,
            h => h,
        };
        let s = match tok {
            'Y' => format!("{:04}", t.year()),
            'y' => format!("{:02}", t.year().rem_euclid(100)),
            'm' => format!("{:02}", t.month()),
            'd' => format!("{:02}", t.day()),
            'e' => format!("{:>2}", t.day()),
            'H' => format!("{:02}", t.hour()),
            'I' => format!("{h12:02}"),
            'M' => format!("{:02}", t.minute()),
            'S' => format!("{:02}", t.second()),
            'f' => format!("{:06}", t.nanosecond() / 1000),
            'p' => (if t.hour() < 12 { "AM" } else { "PM" }).to_owned(),
            'j' => format!("{:03}", t.ordinal()),
            'b' => cap(&MONTHS[t.month0() as usize][..3]),
            'B' => cap(MONTHS[t.month0() as usize]),
            'a' => cap(&DAYS[t.weekday().num_days_from_monday() as usize][..3]),
            'A' => cap(DAYS[t.weekday().num_days_from_monday() as usize]),
            'z' => {
                let sign = if offset_secs < 0 { '-' } else { '+' };
                let a = offset_secs.abs();
                format!("{sign}{:02}{:02}", a / 3600, a / 60 % 60)
            }
            'Z' => zone.to_owned(),
            'T' => format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second()),
            '%' => "%".to_owned(),
            other => format!("%{other}"),
        };
        out.push_str(&s);
    }
    out
}
