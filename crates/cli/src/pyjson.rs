//! Python's `json.dumps` output, byte for byte, for the options sesam-py uses (`sort_keys`,
//! `indent`, `ensure_ascii`, and sesam-py's HTML escaping), so expected files written by
//! `pumphouse update` equal those written by sesam-py and comparisons match its verdicts.

use std::fmt::Write as _;

use serde_json::Value as Json;

#[derive(Clone, Copy)]
pub struct Style {
    pub indent: Option<usize>,
    pub ensure_ascii: bool,
    pub html_escape: bool,
}

pub fn dumps(v: &Json, style: Style) -> String {
    let mut out = String::new();
    write(&mut out, v, style, 0);
    out
}

fn newline(out: &mut String, style: Style, level: usize) {
    if let Some(n) = style.indent {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', n * level));
    }
}

fn write(out: &mut String, v: &Json, style: Style, level: usize) {
    let item_sep = if style.indent.is_some() { "," } else { ", " };
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => out.push_str(&number(&n.to_string())),
        Json::String(s) => string(out, s, style),
        Json::Array(a) => {
            if a.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                newline(out, style, level + 1);
                write(out, x, style, level + 1);
            }
            newline(out, style, level);
            out.push(']');
        }
        Json::Object(m) => {
            if m.is_empty() {
                out.push_str("{}");
                return;
            }
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                newline(out, style, level + 1);
                string(out, k, style);
                out.push_str(": ");
                write(out, &m[*k], style, level + 1);
            }
            newline(out, style, level);
            out.push('}');
        }
    }
}

/// A JSON number as Python prints it: integers as written, floats by `repr`.
pub fn number(text: &str) -> String {
    if !text.contains(['.', 'e', 'E']) {
        return text.to_string();
    }
    let f: f64 = text.parse().unwrap_or(f64::NAN);
    float_repr(f)
}

pub use pumphouse_value::pyfmt::py_float as float_repr;

fn string(out: &mut String, s: &str, style: Style) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' if style.html_escape => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if style.ensure_ascii && !c.is_ascii() => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_python_output() {
        let v: Json = serde_json::from_str(r#"[{"b": 1.0, "a": "ø<&>", "c": [], "d": {}, "e": 1e16, "f": 0.00001, "g": 123456789012345678901234}]"#).unwrap();
        let s = dumps(
            &v,
            Style {
                indent: Some(2),
                ensure_ascii: true,
                html_escape: true,
            },
        );
        assert_eq!(
            s,
            "[\n  {\n    \"a\": \"\\u00f8\\u003c\\u0026\\u003e\",\n    \"b\": 1.0,\n    \"c\": [],\n    \"d\": {},\n    \"e\": 1e+16,\n    \"f\": 1e-05,\n    \"g\": 123456789012345678901234\n  }\n]"
        );
        let compact = dumps(
            &serde_json::json!({"b": [1, 2], "a": null}),
            Style {
                indent: None,
                ensure_ascii: false,
                html_escape: false,
            },
        );
        assert_eq!(compact, r#"{"a": null, "b": [1, 2]}"#);
        assert_eq!(float_repr(0.1), "0.1");
        assert_eq!(float_repr(1e15), "1000000000000000.0");
        assert_eq!(float_repr(1.5e-7), "1.5e-07");
    }
}
