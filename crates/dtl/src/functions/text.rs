//! Python-compatible text forms used by `string`, `json` and `group-by`: JSON with `", "`
//! and `": "` separators and sorted keys, and Python's float repr.

use std::fmt::Write as _;

use pumphouse_value::transit::{decimal_text, typed_text, write_str, Mode};
use pumphouse_value::Value;

pub use pumphouse_value::pyfmt::py_float;

/// JSON text the way Python's `json.dumps(sort_keys=True)` writes it. `mode` decides
/// whether typed values are transit strings (`~r…`) or plain text.
pub fn py_json(v: &Value, mode: Mode) -> String {
    let mut out = String::new();
    write_json(&mut out, v, mode);
    out
}

fn write_json(out: &mut String, v: &Value, mode: Mode) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::BigInt(b) => {
            let _ = write!(out, "{b}");
        }
        Value::Float(f) => out.push_str(&py_float(*f)),
        Value::Decimal(d) if mode == Mode::Plain => out.push_str(&decimal_text(d)),
        Value::String(s) => write_str(out, s),
        Value::List(l) => {
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json(out, x, mode);
            }
            out.push(']');
        }
        Value::Dict(m) => {
            let mut pairs: Vec<_> = m.iter().collect();
            pairs.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, x)) in pairs.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_str(out, k);
                out.push_str(": ");
                write_json(out, x, mode);
            }
            out.push('}');
        }
        other => write_str(out, &typed_text(other, mode)),
    }
}

/// The `string` cast of one value (`None` for null or undecodable bytes).
pub fn py_str(v: &Value) -> Option<String> {
    Some(match v {
        Value::Null => return None,
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::BigInt(b) => b.to_string(),
        Value::Float(f) => py_float(*f),
        Value::Decimal(d) => decimal_text(d),
        Value::List(_) | Value::Dict(_) => py_json(v, Mode::Plain),
        Value::Bytes(b) => String::from_utf8(b.clone()).ok()?,
        Value::Ni(s) => format!("~:{s}"),
        other => typed_text(other, Mode::Plain),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_float_repr() {
        assert_eq!(py_float(124.4), "124.4");
        assert_eq!(py_float(1.0), "1.0");
        assert_eq!(py_float(1e16), "1e+16");
        assert_eq!(py_float(1.5e-5), "1.5e-05");
        assert_eq!(py_float(0.0001), "0.0001");
    }
}
