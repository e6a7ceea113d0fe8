//! Reads a JSON array of entities from a byte stream one element at a time, so a response of
//! any size is parsed with memory for one entity. A single object is accepted as a one-entity
//! array. Truncated or malformed input is an error naming the element it broke in.

use std::io::{BufRead, BufReader, Read};

use pumphouse_value::transit::{Mode, ValueSeed};
use pumphouse_value::Value;
use serde::de::DeserializeSeed;

enum State {
    Start,
    InArray { first: bool },
    Single,
    End,
}

pub struct ArrayReader<R: Read> {
    r: BufReader<R>,
    state: State,
    index: usize,
    /// The bytes of the element being read: each element is cut out of the stream first and
    /// parsed from a slice (serde_json reading a `Read` byte by byte was ~40% of a pull).
    elem: Vec<u8>,
}

impl<R: Read> ArrayReader<R> {
    pub fn new(r: R) -> Self {
        ArrayReader {
            r: BufReader::with_capacity(1 << 16, r),
            state: State::Start,
            index: 0,
            elem: Vec::with_capacity(4096),
        }
    }

    fn peek(&mut self) -> Result<Option<u8>, String> {
        loop {
            let buf = self
                .r
                .fill_buf()
                .map_err(|e| format!("reading the body failed: {e}"))?;
            match buf.first() {
                None => return Ok(None),
                Some(b) if b.is_ascii_whitespace() => self.r.consume(1),
                Some(&b) => return Ok(Some(b)),
            }
        }
    }

    fn entity(&mut self) -> Result<Value, String> {
        let i = self.index;
        match self.peek()? {
            Some(b'{') => {}
            None => {
                return Err(format!(
                    "the JSON ended before element {i} (truncated response)"
                ))
            }
            Some(b) => {
                return Err(format!(
                    "element {i} is not an entity (a JSON object); it starts with {:?}",
                    b as char
                ))
            }
        }
        self.cut_element()?;
        let mut de = serde_json::Deserializer::from_slice(&self.elem);
        let v = ValueSeed(Mode::Transit)
            .deserialize(&mut de)
            .and_then(|v| de.end().map(|_| v))
            .map_err(|e| format!("invalid JSON in element {i}: {e}"))?;
        self.index += 1;
        Ok(v)
    }

    /// Moves the bytes of one JSON object (the stream is at its `{`) into `elem`: brackets are
    /// counted outside strings until the one that closes it. Its syntax is checked by the
    /// parser afterwards.
    fn cut_element(&mut self) -> Result<(), String> {
        self.elem.clear();
        let (mut depth, mut in_str, mut esc) = (0usize, false, false);
        loop {
            let buf = self
                .r
                .fill_buf()
                .map_err(|e| format!("reading the body failed: {e}"))?;
            if buf.is_empty() {
                return Err(format!(
                    "the JSON ended inside element {} (truncated response)",
                    self.index
                ));
            }
            let mut end = None;
            let mut k = 0;
            while k < buf.len() {
                if in_str {
                    if esc {
                        esc = false;
                        k += 1;
                        continue;
                    }
                    // Jump to the next quote or backslash (most bytes are string content).
                    match memchr::memchr2(b'"', b'\\', &buf[k..]) {
                        None => k = buf.len(),
                        Some(j) => {
                            k += j;
                            if buf[k] == b'\\' {
                                esc = true;
                            } else {
                                in_str = false;
                            }
                            k += 1;
                        }
                    }
                    continue;
                }
                match buf[k] {
                    b'"' => in_str = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            end = Some(k + 1);
                            break;
                        }
                    }
                    _ => {}
                }
                k += 1;
            }
            let n = end.unwrap_or(buf.len());
            self.elem.extend_from_slice(&buf[..n]);
            self.r.consume(n);
            if end.is_some() {
                return Ok(());
            }
        }
    }

    /// The next entity, or `None` after the closing `]`.
    pub fn next_entity(&mut self) -> Result<Option<Value>, String> {
        loop {
            match self.state {
                State::End => return Ok(None),
                State::Start => match self.peek()? {
                    Some(b'[') => {
                        self.r.consume(1);
                        self.state = State::InArray { first: true };
                    }
                    Some(b'{') => self.state = State::Single,
                    None => return Err("the response body is empty; expected a JSON array".into()),
                    Some(b) => {
                        return Err(format!(
                            "expected a JSON array of entities, but the body starts with {:?}",
                            b as char
                        ))
                    }
                },
                State::Single => {
                    let e = self.entity()?;
                    self.state = State::End;
                    self.trailing()?;
                    return Ok(Some(e));
                }
                State::InArray { first } => {
                    match self.peek()? {
                        Some(b']') => {
                            self.r.consume(1);
                            self.state = State::End;
                            self.trailing()?;
                            return Ok(None);
                        }
                        Some(b',') if !first => self.r.consume(1),
                        None => {
                            return Err(format!(
                                "the JSON ended after element {} without a closing ']' (truncated response)",
                                self.index.saturating_sub(1)
                            ))
                        }
                        Some(b) if !first => {
                            return Err(format!(
                                "expected ',' or ']' after element {}, found {:?}",
                                self.index - 1,
                                b as char
                            ))
                        }
                        Some(_) => {}
                    }
                    let e = self.entity()?;
                    self.state = State::InArray { first: false };
                    return Ok(Some(e));
                }
            }
        }
    }

    fn trailing(&mut self) -> Result<(), String> {
        match self.peek()? {
            None => Ok(()),
            Some(b) => Err(format!(
                "unexpected {:?} after the end of the JSON",
                b as char
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Result<Vec<Value>, String> {
        let mut r = ArrayReader::new(text.as_bytes());
        let mut out = vec![];
        while let Some(e) = r.next_entity()? {
            out.push(e);
        }
        Ok(out)
    }

    #[test]
    fn reads_arrays_objects_and_reports_truncation() {
        assert_eq!(
            all(" [ {\"_id\":\"a\",\"x\":[1,{\"y\":\"]\"}]} , {\"_id\":\"b\"} ] ")
                .unwrap()
                .len(),
            2
        );
        assert_eq!(all("[]").unwrap().len(), 0);
        assert_eq!(all("{\"_id\":\"a\"}").unwrap().len(), 1);
        let e = all("[{\"_id\":\"a\"},{\"_id\":\"b\",\"n\":").unwrap_err();
        assert!(e.contains("element 1") && e.contains("truncated"), "{e}");
        let e = all("[{\"_id\":\"a\"}").unwrap_err();
        assert!(e.contains("truncated"), "{e}");
        let e = all("[{\"_id\":\"a\"} {\"_id\":\"b\"}]").unwrap_err();
        assert!(e.contains("expected ','"), "{e}");
        let e = all("<html>").unwrap_err();
        assert!(e.contains("JSON array"), "{e}");
        let e = all("[1]").unwrap_err();
        assert!(e.contains("not an entity"), "{e}");
        let e = all("[{\"_id\":\"a\",\"x\":]}]").unwrap_err();
        assert!(e.contains("invalid JSON in element 0"), "{e}");
        // Brackets and quotes inside strings do not end an element.
        let v = all(r#"[{"s":"}]\\\"{[","t":{"u":[1,{}]}},{"_id":"z"}]"#).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].get("s"), Some(&Value::String("}]\\\"{[".into())));
        // An element longer than the read buffer (64 KiB).
        let long = format!("[{{\"s\":\"{}\"}}]", "x".repeat(200_000));
        assert_eq!(
            all(&long).unwrap()[0]
                .get("s")
                .unwrap()
                .as_str()
                .unwrap()
                .len(),
            200_000
        );
        let t = all("[{\"d\":\"~t2024-01-01T00:00:00Z\"}]").unwrap();
        assert!(matches!(t[0].get("d"), Some(Value::DateTime(_))));
    }
}
