//! Sesam's mixed-type ordering (sesam-spec 1.4): null < boolean < number (int, float and
//! decimal compared by value) < date/datetime < uuid < NI < URI < string < dict < list < bytes.
//! Dicts compare by their key-sorted pairs. `Value`'s `Ord` and `Eq` follow this order, so
//! `1 == 1.0` holds, as in Sesam's `eq`.

use std::cmp::Ordering;
use std::str::FromStr;

use bigdecimal::BigDecimal;
use num_bigint::BigInt;

use crate::Value;

fn rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Int(_) | Value::BigInt(_) | Value::Float(_) | Value::Decimal(_) => 2,
        Value::Date(_) | Value::DateTime(_) => 3,
        Value::Uuid(_) => 4,
        Value::Ni(_) => 5,
        Value::Uri(_) => 6,
        Value::String(_) => 7,
        Value::Dict(_) => 8,
        Value::List(_) => 9,
        Value::Bytes(_) => 10,
    }
}

/// A number as an exact decimal, for cross-type comparison. NaN and infinities give `None`.
pub fn to_bigdecimal(v: &Value) -> Option<BigDecimal> {
    match v {
        Value::Int(i) => Some(BigDecimal::from(*i)),
        Value::BigInt(b) => Some(BigDecimal::from(BigInt::clone(b))),
        Value::Decimal(d) => Some(BigDecimal::clone(d)),
        Value::Float(f) if f.is_finite() => BigDecimal::from_str(&format!("{f:e}")).ok(),
        _ => None,
    }
}

fn cmp_numbers(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Float(x), Value::Float(y)) => x.total_cmp(y),
        (Value::Int(x), Value::Float(y)) if x.unsigned_abs() < (1 << 53) => {
            (*x as f64).total_cmp(y)
        }
        (Value::Float(x), Value::Int(y)) if y.unsigned_abs() < (1 << 53) => {
            x.total_cmp(&(*y as f64))
        }
        _ => match (to_bigdecimal(a), to_bigdecimal(b)) {
            (Some(x), Some(y)) => x.cmp(&y),
            // NaN and infinities: fall back to float order.
            _ => as_f64(a).total_cmp(&as_f64(b)),
        },
    }
}

/// Any number as f64 (lossy for big values).
pub fn as_f64(v: &Value) -> f64 {
    use num_traits::ToPrimitive;
    match v {
        Value::Int(i) => *i as f64,
        Value::BigInt(b) => b.to_f64().unwrap_or(f64::NAN),
        Value::Float(f) => *f,
        Value::Decimal(d) => d.to_f64().unwrap_or(f64::NAN),
        _ => f64::NAN,
    }
}

/// The total order of sesam-spec 1.4.
pub fn compare(a: &Value, b: &Value) -> Ordering {
    let (ra, rb) = (rank(a), rank(b));
    if ra != rb {
        return ra.cmp(&rb);
    }
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Ni(x), Value::Ni(y)) | (Value::Uri(x), Value::Uri(y)) => x.cmp(y),
        (Value::Uuid(x), Value::Uuid(y)) => x.cmp(y),
        (Value::Bytes(x), Value::Bytes(y)) => x.cmp(y),
        (Value::DateTime(x), Value::DateTime(y)) => x.cmp(y),
        (Value::Date(x), Value::Date(y)) => x.cmp(y),
        (Value::Date(x), Value::DateTime(y)) => x.at_midnight().cmp(y).then(Ordering::Less),
        (Value::DateTime(x), Value::Date(y)) => x.cmp(&y.at_midnight()).then(Ordering::Greater),
        (Value::List(x), Value::List(y)) => cmp_seq(x.iter(), y.iter()),
        (Value::Dict(x), Value::Dict(y)) => {
            let mut xs: Vec<_> = x.iter().collect();
            let mut ys: Vec<_> = y.iter().collect();
            xs.sort_by(|p, q| p.0.cmp(q.0));
            ys.sort_by(|p, q| p.0.cmp(q.0));
            for (p, q) in xs.iter().zip(ys.iter()) {
                let o = p.0.cmp(q.0).then_with(|| compare(p.1, q.1));
                if o != Ordering::Equal {
                    return o;
                }
            }
            xs.len().cmp(&ys.len())
        }
        _ => cmp_numbers(a, b),
    }
}

fn cmp_seq<'a>(
    mut x: impl Iterator<Item = &'a Value>,
    mut y: impl Iterator<Item = &'a Value>,
) -> Ordering {
    loop {
        match (x.next(), y.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(p), Some(q)) => {
                let o = compare(p, q);
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        compare(self, other) == Ordering::Equal
    }
}
impl Eq for Value {}
impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(compare(self, other))
    }
}
impl Ord for Value {
    fn cmp(&self, other: &Self) -> Ordering {
        compare(self, other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transit::from_str;

    #[test]
    fn mixed_types_sort_by_rank() {
        let mut v = from_str(r#"["~bAA==", [1], {"a":1}, "s", "~rhttp://x/", "~:a:b", "~u531a379e-31bb-4ce1-8690-158dceb64be6", "~t2015-01-01", 3, true, null]"#).unwrap();
        let Value::List(l) = &mut v else { panic!() };
        let orig = l.clone();
        l.sort();
        let mut expected = orig.clone();
        expected.reverse();
        assert_eq!(*l, expected);
    }

    #[test]
    fn numbers_compare_across_types() {
        let v = from_str(r#"[1, 1.0, "~f1.00", 2, 1.5, 123456789012345678901234567890]"#).unwrap();
        let l = v.as_slice();
        assert_eq!(l[0], l[1]);
        assert_eq!(l[0], l[2]);
        assert!(l[4] > l[0] && l[4] < l[3]);
        assert!(l[5] > l[3]);
        assert_eq!(Value::Float(0.1), from_str("\"~f0.1\"").unwrap());
    }

    #[test]
    fn dicts_compare_by_sorted_pairs() {
        let a = from_str(r#"{"b":1,"a":2}"#).unwrap();
        let b = from_str(r#"{"a":2,"b":1}"#).unwrap();
        let c = from_str(r#"{"a":3}"#).unwrap();
        assert_eq!(a, b);
        assert!(a < c);
        assert_eq!("A".cmp("a"), compare(&Value::from("A"), &Value::from("a")));
    }
}
