//! Streams the entities of a large embedded `entities` array straight from the config file
//! (see `jsonpos::Located::raw`) so memory does not grow with the array. The file is read in
//! 4 MiB chunks; a small structural scanner (strings, nesting, commas) cuts each chunk into
//! elements, and each element is parsed from its byte slice (serde_json's fast slice reader,
//! not its per-byte `io::Read` path). `for_each_id` checks every element's `_id` without
//! building the entity, for validation before a run.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use pumphouse_value::transit::{Mode, ValueSeed};
use pumphouse_value::Value;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::jsonpos::RawRange;

const CHUNK: usize = 4 << 20;

/// Calls `f(index, entity)` for every element of the array; stops at the first error.
pub fn for_each_entity(
    file: &Path,
    range: &RawRange,
    mut f: impl FnMut(usize, Value) -> Result<(), String>,
) -> Result<(), String> {
    for_each_slice(file, range, |index, line, bytes| {
        let v = match std::str::from_utf8(bytes) {
            // One UTF-8 check of the whole element instead of one per string.
            Ok(text) => parse_entity(serde_json::Deserializer::from_str(text)),
            // The slice reader reports where the bad byte is.
            Err(_) => parse_entity(serde_json::Deserializer::from_slice(bytes)),
        };
        f(index, v.map_err(|e| parse_error(file, line, index, &e))?)
    })
}

fn parse_entity<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
) -> Result<Value, serde_json::Error> {
    let v = ValueSeed(Mode::Transit).deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// Calls `f(index, _id)` for every element of the array (`None`: the element has no `_id`),
/// checking the JSON of every element but building only the `_id` value.
pub fn for_each_id(
    file: &Path,
    range: &RawRange,
    mut f: impl FnMut(usize, Option<&Value>) -> Result<(), String>,
) -> Result<(), String> {
    for_each_slice(file, range, |index, line, bytes| {
        let id = match std::str::from_utf8(bytes) {
            Ok(text) => parse_id(serde_json::Deserializer::from_str(text)),
            Err(_) => parse_id(serde_json::Deserializer::from_slice(bytes)),
        };
        f(
            index,
            id.map_err(|e| parse_error(file, line, index, &e))?.as_ref(),
        )
    })
}

fn parse_id<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
) -> Result<Option<Value>, serde_json::Error> {
    let id = (&mut de).deserialize_any(IdOnly)?;
    de.end()?;
    Ok(id)
}

fn parse_error(file: &Path, line: usize, index: usize, e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let msg = msg.split(" at line ").next().unwrap_or(&msg);
    format!(
        "{}:{}: entity {index}: {msg}",
        file.display(),
        line + e.line().saturating_sub(1)
    )
}

/// Visits an entity's keys, keeping only the value of `_id`.
struct IdOnly;

impl<'de> Visitor<'de> for IdOnly {
    type Value = Option<Value>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an entity (a JSON object with a string _id)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<Value>, A::Error> {
        let mut id = None;
        while let Some(is_id) = map.next_key_seed(IsId)? {
            if is_id {
                id = Some(map.next_value_seed(ValueSeed(Mode::Transit))?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(id)
    }
}

/// A map key, answering whether it is `_id` without allocating.
struct IsId;

impl<'de> DeserializeSeed<'de> for IsId {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for IsId {
    type Value = bool;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a property name")
    }
    fn visit_str<E>(self, v: &str) -> Result<bool, E> {
        Ok(v == "_id")
    }
}

/// Calls `f(index, line, bytes)` with the JSON text of every element of the array at `range`
/// (`line`: the 1-based line in `file` where the element starts).
pub fn for_each_slice(
    file: &Path,
    range: &RawRange,
    mut f: impl FnMut(usize, usize, &[u8]) -> Result<(), String>,
) -> Result<(), String> {
    let mut fh = File::open(file).map_err(|e| format!("cannot open {}: {e}", file.display()))?;
    fh.seek(SeekFrom::Start((range.bom + range.start) as u64))
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let mut input = fh.take((range.end - range.start) as u64);
    let mut sc = Scanner {
        line: range.pos.line,
        ..Scanner::default()
    };
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK);
    let err = |line: usize, m: &str| format!("{}:{line}: {m}", file.display());
    loop {
        // Keep the unfinished element at the front, then fill up.
        let keep = sc.elem.map_or(buf.len(), |s| s.start);
        buf.drain(..keep);
        sc.rebase(keep);
        let want = CHUNK.max(buf.len() * 2);
        let old = buf.len();
        buf.resize(want, 0);
        let n = read_full(&mut input, &mut buf[old..])
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        buf.truncate(old + n);
        if n == 0 {
            return Err(err(
                sc.line,
                "the entities list ends before its closing ']'",
            ));
        }
        match sc.scan(&buf, old, &mut f) {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(Stop::Callback(m)) => return Err(m),
            Err(Stop::Syntax(line, m)) => return Err(err(line, m)),
        }
    }
}

fn read_full(r: &mut impl Read, mut buf: &mut [u8]) -> std::io::Result<usize> {
    let mut total = 0;
    while !buf.is_empty() {
        match r.read(buf) {
            Ok(0) => break,
            Ok(n) => {
                total += n;
                buf = &mut buf[n..];
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(total)
}

enum Stop {
    Syntax(usize, &'static str),
    Callback(String),
}

/// The element being read: where it starts in the buffer, where its text ends so far, and
/// the line it starts on.
#[derive(Clone, Copy)]
struct Elem {
    start: usize,
    end: usize,
    line: usize,
}

#[derive(Default)]
struct Scanner {
    /// Nesting depth: 1 inside the list itself.
    depth: u32,
    in_str: bool,
    escaped: bool,
    elem: Option<Elem>,
    /// Elements passed on so far.
    count: usize,
    /// A ',' was read and no element since.
    after_comma: bool,
    line: usize,
}

impl Scanner {
    /// The buffer dropped its first `n` bytes.
    fn rebase(&mut self, n: usize) {
        if let Some(e) = self.elem.as_mut() {
            e.start -= n;
            e.end -= n;
        }
    }

    /// Scans `buf[from..]`; `Ok(true)` when the list's closing `]` was reached.
    fn scan(
        &mut self,
        buf: &[u8],
        from: usize,
        f: &mut impl FnMut(usize, usize, &[u8]) -> Result<(), String>,
    ) -> Result<bool, Stop> {
        let mut i = from;
        while i < buf.len() {
            if self.in_str {
                if self.escaped {
                    self.escaped = false;
                    i += 1;
                    continue;
                }
                match memchr::memchr2(b'"', b'\\', &buf[i..]) {
                    None => return Ok(false),
                    Some(k) => {
                        i += k;
                        if buf[i] == b'\\' {
                            self.escaped = true;
                        } else {
                            self.in_str = false;
                            self.touch(i);
                        }
                        i += 1;
                        continue;
                    }
                }
            }
            let c = buf[i];
            match c {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' => {}
                _ if self.depth == 0 => {
                    if c != b'[' {
                        return Err(Stop::Syntax(self.line, "expected '[' (a list of entities)"));
                    }
                    self.depth = 1;
                }
                b',' if self.depth == 1 => {
                    self.emit(buf, f)?;
                    self.after_comma = true;
                }
                b']' if self.depth == 1 => {
                    if self.elem.is_some() {
                        self.emit(buf, f)?;
                    } else if self.after_comma {
                        return Err(Stop::Syntax(
                            self.line,
                            "trailing comma before ']' (JSON does not allow it)",
                        ));
                    }
                    self.depth = 0;
                    return Ok(true);
                }
                _ => {
                    if self.depth == 1 && self.elem.is_none() {
                        self.elem = Some(Elem {
                            start: i,
                            end: i,
                            line: self.line,
                        });
                    }
                    match c {
                        b'"' => self.in_str = true,
                        b'{' | b'[' => self.depth += 1,
                        b'}' | b']' => {
                            if self.depth <= 1 {
                                return Err(Stop::Syntax(self.line, "unbalanced '}'"));
                            }
                            self.depth -= 1;
                        }
                        _ => {}
                    }
                    self.touch(i);
                }
            }
            i += 1;
        }
        Ok(false)
    }

    /// The element's text reaches at least to `buf[i]`.
    fn touch(&mut self, i: usize) {
        if let Some(e) = self.elem.as_mut() {
            e.end = i + 1;
        }
    }

    fn emit(
        &mut self,
        buf: &[u8],
        f: &mut impl FnMut(usize, usize, &[u8]) -> Result<(), String>,
    ) -> Result<(), Stop> {
        let Some(e) = self.elem.take() else {
            return Err(Stop::Syntax(
                self.line,
                "empty element: ',' without a value",
            ));
        };
        f(self.count, e.line, &buf[e.start..e.end]).map_err(Stop::Callback)?;
        self.count += 1;
        self.after_comma = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsonpos::Pos;

    fn run(text: &str) -> Result<Vec<(usize, String)>, String> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.json");
        std::fs::write(&file, format!("{{\"entities\": {text}}}")).unwrap();
        let range = RawRange {
            start: 13,
            end: 13 + text.len(),
            pos: Pos { line: 1, col: 15 },
            bom: 0,
        };
        let mut out = vec![];
        for_each_slice(&file, &range, |i, line, b| {
            assert_eq!(i, out.len());
            out.push((line, String::from_utf8(b.to_vec()).unwrap()));
            Ok(())
        })
        .map(|_| out)
    }

    #[test]
    fn cuts_elements_with_nesting_strings_and_lines() {
        let got = run("[ {\"a\": [1, {\"b\": \"],}\\\"\"}]},\n \"x\" ,\n\n 7 ,{} ]").unwrap();
        let want = [
            (1, "{\"a\": [1, {\"b\": \"],}\\\"\"}]}"),
            (2, "\"x\""),
            (4, "7"),
            (4, "{}"),
        ];
        let got: Vec<(usize, &str)> = got.iter().map(|(l, s)| (*l, s.as_str())).collect();
        assert_eq!(got, want);
        assert_eq!(run("[]").unwrap(), vec![]);
    }

    #[test]
    fn structural_errors_name_the_line() {
        let e = run("[{\"_id\": \"a\"},\n]").unwrap_err();
        assert!(e.contains("x.json:2: trailing comma"), "{e}");
        let e = run("[{},,{}]").unwrap_err();
        assert!(e.contains("empty element"), "{e}");
        let e = run("[{}}]").unwrap_err();
        assert!(e.contains("unbalanced"), "{e}");
    }

    #[test]
    fn entities_and_ids_are_parsed_per_element() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.json");
        let text = "[{\"_id\": \"a\", \"x\": [1, 2]},\n{\"x\": 1, \"_id\": 5},\n{\"y\": 1},\n{\"_id\": \"b\", \"bad\": tru}]";
        std::fs::write(&file, text).unwrap();
        let range = RawRange {
            start: 0,
            end: text.len(),
            pos: Pos { line: 1, col: 1 },
            bom: 0,
        };
        let mut ids = vec![];
        let e = for_each_id(&file, &range, |_, id| {
            ids.push(id.map(|v| v.type_name()));
            Ok(())
        })
        .unwrap_err();
        assert_eq!(ids, vec![Some("string"), Some("integer"), None]);
        assert!(e.contains("x.json:4: entity 3: expected ident"), "{e}");
        let mut n = 0;
        let e = for_each_entity(&file, &range, |_, v| {
            assert!(matches!(v, Value::Dict(_)));
            n += 1;
            Ok(())
        })
        .unwrap_err();
        assert_eq!(n, 3);
        assert!(e.contains("entity 3"), "{e}");
    }

    /// Elements are checked for UTF-8 once and parsed as text; a bad byte is still an error
    /// of its element (reported by the slice reader), after the elements before it.
    #[test]
    fn invalid_utf8_is_an_error_of_its_element() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.json");
        let mut text = b"[{\"_id\": \"\xc3\xa6\"},\n{\"_id\": \"b\", \"s\": \"".to_vec();
        text.extend_from_slice(b"\xff\"}]");
        std::fs::write(&file, &text).unwrap();
        let range = RawRange {
            start: 0,
            end: text.len(),
            pos: Pos { line: 1, col: 1 },
            bom: 0,
        };
        let mut ids = vec![];
        let e = for_each_entity(&file, &range, |_, v| {
            ids.push(v.get("_id").cloned());
            Ok(())
        })
        .unwrap_err();
        assert_eq!(ids, vec![Some(Value::from("\u{e6}"))]);
        assert!(e.contains("x.json:2: entity 1: invalid unicode"), "{e}");
    }
}
