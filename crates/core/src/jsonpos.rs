//! A JSON parser that remembers where each value starts (line and column by JSON path), so
//! configuration errors can name the file, the line and the JSON path. Produces the same
//! `serde_json::Value` as serde_json (numbers keep their exact text) and reports syntax errors
//! with line and column.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::excise::{chars, Cut};

/// A position in a file, 1-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

/// A parsed document plus the start position of every value, keyed by JSON path
/// (`$`, `$[0]`, `$[0].source.type`).
#[derive(Debug, Default, Clone)]
pub struct Located {
    pub value: Value,
    pub positions: HashMap<String, Pos>,
    /// Large `entities` arrays left unparsed (their value is `Value::Null`): JSON path →
    /// byte range in the text, so they can be streamed from the file instead of held in memory.
    pub raw: HashMap<String, RawRange>,
}

/// A byte range of the original text (after any BOM) and where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawRange {
    pub start: usize,
    pub end: usize,
    pub pos: Pos,
    /// Bytes skipped at the front of the file (a UTF-8 BOM).
    pub bom: usize,
}

/// `entities` arrays longer than this many bytes are left raw (see `Located::raw`).
pub const RAW_ENTITIES_BYTES: usize = 1 << 20;
/// Positions are recorded for at most this many elements of one array.
const MAX_POSITIONS_PER_ARRAY: usize = 1000;

impl Located {
    /// The position of a path, or of its nearest located ancestor.
    pub fn pos(&self, path: &str) -> Option<Pos> {
        let mut p = path.to_string();
        loop {
            if let Some(pos) = self.positions.get(&p) {
                return Some(*pos);
            }
            let cut = p.rfind(['.', '['])?;
            p.truncate(cut);
        }
    }
}

/// A syntax error with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

/// Parses a JSON document (a leading UTF-8 BOM is allowed).
pub fn parse(text: &str) -> Result<Located, SyntaxError> {
    parse_inner(text, None)
}

/// Parses a file read by `excise::read`: each cut `[]` becomes a `RawRange` of the original
/// file, and lines and columns are those of the original file. Arrays left in the text are
/// parsed, whatever their size.
pub fn parse_cut(text: &str, cuts: &HashMap<usize, Cut>) -> Result<Located, SyntaxError> {
    parse_inner(text, Some(cuts))
}

fn parse_inner(text: &str, cuts: Option<&HashMap<usize, Cut>>) -> Result<Located, SyntaxError> {
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let text = &text[bom..];
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
        line: 1,
        line_start: 0,
        positions: HashMap::new(),
        raw: HashMap::new(),
        bom,
        cuts,
        col_shift: None,
        col_cache: Default::default(),
    };
    p.ws();
    let v = p.value("$".to_string(), 0)?;
    p.ws();
    if p.i < p.s.len() {
        return Err(p.err("unexpected text after the JSON value"));
    }
    Ok(Located {
        value: v,
        positions: p.positions,
        raw: p.raw,
    })
}

/// Appends a key to a JSON path: `.key`, or `['key']` when it is not a plain name.
pub fn child(path: &str, key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
    {
        format!("{path}.{key}")
    } else {
        format!("{path}[{}]", serde_json::to_string(key).unwrap_or_default())
    }
}

pub fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    line: usize,
    line_start: usize,
    positions: HashMap<String, Pos>,
    raw: HashMap<String, RawRange>,
    bom: usize,
    cuts: Option<&'a HashMap<usize, Cut>>,
    /// (line start, columns): the line starting at this offset continues a line of the
    /// original file that was this many characters long before it (after a cut).
    col_shift: Option<(usize, usize)>,
    /// (line start, offset, characters from the line start to the offset) of the last `pos`,
    /// so a long line (minified JSON) is counted once, not once per value.
    col_cache: std::cell::Cell<(usize, usize, usize)>,
}

impl Parser<'_> {
    /// A cut array (`parse_cut`) at the current offset: recorded as raw, skipped.
    fn cut(&mut self, path: &str, here: Pos) -> bool {
        let Some(cut) = self.cuts.and_then(|c| c.get(&self.i)).copied() else {
            return false;
        };
        if self.s.get(self.i..self.i + 2) != Some(b"[]".as_slice()) {
            return false;
        }
        self.positions.insert(path.to_string(), here);
        self.raw.insert(
            path.to_string(),
            RawRange {
                start: cut.start,
                end: cut.end,
                pos: here,
                bom: self.bom,
            },
        );
        self.i += 2;
        self.line += cut.lines;
        self.line_start = self.i;
        self.col_shift = Some((self.i, cut.end_col));
        true
    }

    /// Skips one value without building it, keeping line counts; `false` on a syntax error
    /// (the caller then parses normally to report it).
    fn skip(&mut self, depth: usize) -> bool {
        if depth > 256 {
            return false;
        }
        self.ws();
        match self.s.get(self.i) {
            Some(b'{') | Some(b'[') => {
                let close = if self.s[self.i] == b'{' { b'}' } else { b']' };
                self.i += 1;
                self.ws();
                if self.s.get(self.i) == Some(&close) {
                    self.i += 1;
                    return true;
                }
                loop {
                    if close == b'}' {
                        self.ws();
                        if self.s.get(self.i) != Some(&b'"') || !self.skip_string() {
                            return false;
                        }
                        self.ws();
                        if self.s.get(self.i) != Some(&b':') {
                            return false;
                        }
                        self.i += 1;
                    }
                    if !self.skip(depth + 1) {
                        return false;
                    }
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(c) if *c == close => {
                            self.i += 1;
                            return true;
                        }
                        _ => return false,
                    }
                }
            }
            Some(b'"') => self.skip_string(),
            Some(_) => {
                let start = self.i;
                while let Some(c) = self.s.get(self.i) {
                    if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.') {
                        self.i += 1;
                    } else {
                        break;
                    }
                }
                self.i > start
            }
            None => false,
        }
    }

    fn skip_string(&mut self) -> bool {
        self.i += 1;
        loop {
            match self.s.get(self.i) {
                None | Some(b'\n') => return false,
                Some(b'"') => {
                    self.i += 1;
                    return true;
                }
                Some(b'\\') => self.i += 2,
                Some(_) => self.i += 1,
            }
        }
    }

    fn pos(&self) -> Pos {
        let end = self.i.min(self.s.len());
        let (from, base) = match self.col_cache.get() {
            (ls, at, n) if ls == self.line_start && at <= end => (at, n),
            _ => (self.line_start, 0),
        };
        let n = base + chars(&self.s[from..end]);
        self.col_cache.set((self.line_start, end, n));
        let col = n
            + 1
            + match self.col_shift {
                Some((at, cols)) if at == self.line_start => cols,
                _ => 0,
            };
        Pos {
            line: self.line,
            col,
        }
    }

    fn err(&self, msg: &str) -> SyntaxError {
        SyntaxError {
            pos: self.pos(),
            message: msg.to_string(),
        }
    }

    fn ws(&mut self) {
        while let Some(&c) = self.s.get(self.i) {
            match c {
                b'\n' => {
                    self.i += 1;
                    self.line += 1;
                    self.line_start = self.i;
                }
                b' ' | b'\t' | b'\r' => self.i += 1,
                _ => break,
            }
        }
    }

    fn value(&mut self, path: String, depth: usize) -> Result<Value, SyntaxError> {
        if depth > 256 {
            return Err(self.err("JSON nested too deeply"));
        }
        let here = self.pos();
        if self.cuts.is_some() {
            if self.cut(&path, here) {
                return Ok(Value::Null);
            }
        } else if path.ends_with(".entities") && self.s.get(self.i) == Some(&b'[') {
            let (i, line, line_start) = (self.i, self.line, self.line_start);
            if self.skip(depth) && self.i - i > RAW_ENTITIES_BYTES {
                self.positions.insert(path.clone(), here);
                self.raw.insert(
                    path,
                    RawRange {
                        start: i,
                        end: self.i,
                        pos: here,
                        bom: self.bom,
                    },
                );
                return Ok(Value::Null);
            }
            (self.i, self.line, self.line_start) = (i, line, line_start);
        }
        self.positions.insert(path.clone(), here);
        match self.s.get(self.i) {
            None => Err(self.err("unexpected end of file, expected a value")),
            Some(b'{') => self.object(path, depth),
            Some(b'[') => self.array(path, depth),
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b't') => self.word("true", Value::Bool(true)),
            Some(b'f') => self.word("false", Value::Bool(false)),
            Some(b'n') => self.word("null", Value::Null),
            Some(c) if *c == b'-' || c.is_ascii_digit() => self.number(),
            Some(_) => Err(self
                .err("expected a JSON value (object, array, string, number, true, false or null)")),
        }
    }

    fn word(&mut self, w: &str, v: Value) -> Result<Value, SyntaxError> {
        if self.s[self.i..].starts_with(w.as_bytes()) {
            self.i += w.len();
            Ok(v)
        } else {
            Err(self
                .err("expected a JSON value (object, array, string, number, true, false or null)"))
        }
    }

    fn number(&mut self) -> Result<Value, SyntaxError> {
        let start = self.i;
        while let Some(c) = self.s.get(self.i) {
            if c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E') {
                self.i += 1;
            } else {
                break;
            }
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
        match serde_json::from_str::<serde_json::Number>(text) {
            Ok(n) => Ok(Value::Number(n)),
            Err(_) => {
                self.i = start;
                Err(self.err(&format!("invalid number {text:?}")))
            }
        }
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        let start = self.i;
        self.i += 1;
        loop {
            match self.s.get(self.i) {
                None => {
                    self.i = start;
                    return Err(self.err("unterminated string"));
                }
                Some(b'"') => break,
                Some(b'\\') => self.i += 2,
                Some(b'\n') => return Err(self.err("line break inside a string (write it as \\n)")),
                Some(_) => self.i += 1,
            }
        }
        self.i += 1;
        let raw =
            std::str::from_utf8(&self.s[start..self.i]).map_err(|_| self.err("invalid UTF-8"))?;
        serde_json::from_str::<String>(raw).map_err(|e| {
            let mut err = self.err(&format!("invalid string: {e}"));
            err.pos.col = err.pos.col.saturating_sub(raw.chars().count());
            err
        })
    }

    fn object(&mut self, path: String, depth: usize) -> Result<Value, SyntaxError> {
        self.i += 1;
        let mut m = Map::new();
        self.ws();
        if self.s.get(self.i) == Some(&b'}') {
            self.i += 1;
            return Ok(Value::Object(m));
        }
        loop {
            self.ws();
            if self.s.get(self.i) != Some(&b'"') {
                return Err(self.err(if self.s.get(self.i) == Some(&b'}') {
                    "trailing comma before '}' (JSON does not allow it)"
                } else {
                    "expected a property name in double quotes"
                }));
            }
            let key = self.string()?;
            self.ws();
            if self.s.get(self.i) != Some(&b':') {
                return Err(self.err(&format!("expected ':' after property name {key:?}")));
            }
            self.i += 1;
            self.ws();
            let v = self.value(child(&path, &key), depth + 1)?;
            m.insert(key, v);
            self.ws();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Value::Object(m));
                }
                _ => {
                    return Err(self
                        .err("expected ',' or '}' after a property value (is a comma missing?)"))
                }
            }
        }
    }

    fn array(&mut self, path: String, depth: usize) -> Result<Value, SyntaxError> {
        self.i += 1;
        let mut a = Vec::new();
        self.ws();
        if self.s.get(self.i) == Some(&b']') {
            self.i += 1;
            return Ok(Value::Array(a));
        }
        loop {
            self.ws();
            if self.s.get(self.i) == Some(&b']') {
                return Err(self.err("trailing comma before ']' (JSON does not allow it)"));
            }
            let v = if a.len() < MAX_POSITIONS_PER_ARRAY {
                self.value(index(&path, a.len()), depth + 1)?
            } else {
                let saved = std::mem::take(&mut self.positions);
                let v = self.value(index(&path, a.len()), depth + 1);
                self.positions = saved;
                v?
            };
            a.push(v);
            self.ws();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Value::Array(a));
                }
                _ => {
                    return Err(self
                        .err("expected ',' or ']' after an array element (is a comma missing?)"))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_positions_by_path() {
        let doc = parse("{\n  \"_id\": \"p\",\n  \"source\": {\n    \"type\": \"x\"\n  },\n  \"l\": [1, {\"a b\": 2}]\n}").unwrap();
        assert_eq!(doc.positions["$.source.type"], Pos { line: 4, col: 13 });
        assert_eq!(doc.positions["$.l[1][\"a b\"]"].line, 6);
        assert_eq!(doc.pos("$.source.type.missing").unwrap().line, 4);
        assert_eq!(
            doc.value,
            serde_json::from_str::<Value>(&serde_json::to_string(&doc.value).unwrap()).unwrap()
        );
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let e = parse("{\n  \"a\": \"x\"\n  \"b\": 1\n}").unwrap_err();
        assert_eq!(e.pos, Pos { line: 3, col: 3 });
        assert!(e.message.contains("comma"), "{}", e.message);
        let e = parse("[1,\n 2,\n]").unwrap_err();
        assert_eq!(e.pos.line, 3);
        assert!(parse("{\"a\": tru}").is_err());
        assert!(parse("\u{feff}[]").is_ok());
    }

    #[test]
    fn big_numbers_keep_their_digits() {
        let doc = parse("[123456789012345678901234567890, 1.50]").unwrap();
        assert_eq!(
            serde_json::to_string(&doc.value).unwrap(),
            "[123456789012345678901234567890,1.50]"
        );
    }
}
