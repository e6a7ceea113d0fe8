//! Reads a config file into memory without its large `entities` arrays, so loading a project
//! whose embedded data is hundreds of MB takes little memory. The file is read in chunks; a
//! structural scanner copies the text, and an array that is the value of an `entities` key
//! and grows past `jsonpos::RAW_ENTITIES_BYTES` is replaced by `[]`. Each replacement is a
//! `Cut` that `jsonpos::parse_cut` turns into a `RawRange` of the original file (streamed by
//! `rawstream`), keeping the line and column of everything after it.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use crate::jsonpos::RAW_ENTITIES_BYTES;

const CHUNK: usize = 1 << 20;

/// One array left out: `[]` stands at `at` in the text (after any BOM) for the original bytes
/// `start..end` (also after the BOM).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cut {
    pub start: usize,
    pub end: usize,
    /// Line breaks inside the original array.
    pub lines: usize,
    /// Column of the closing `]` in the original file.
    pub end_col: usize,
}

/// The text of a file with its large arrays cut out, and the cuts by text offset (after BOM).
pub struct Excised {
    pub text: String,
    pub cuts: HashMap<usize, Cut>,
}

/// Reads `file`, cutting out large `entities` arrays. Invalid UTF-8 outside the cut arrays is
/// an error, as with `read_to_string`.
pub fn read(file: &Path) -> std::io::Result<Excised> {
    let mut fh = std::fs::File::open(file)?;
    let mut sc = Scanner::default();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match fh.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        sc.feed(&buf[..n]);
    }
    sc.finish();
    let bom = if sc.out.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let cuts = sc
        .cuts
        .into_iter()
        .map(|(at, c)| {
            (
                at - bom,
                Cut {
                    start: c.start - bom,
                    end: c.end - bom,
                    ..c
                },
            )
        })
        .collect();
    let text = String::from_utf8(sc.out)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    Ok(Excised { text, cuts })
}

/// An `entities` array being copied, which becomes a cut once it is long enough.
#[derive(Clone, Copy)]
struct Candidate {
    /// Offset of `[` in the file and in the output.
    start: usize,
    out_at: usize,
    /// Depth outside the array.
    depth: u32,
    lines: usize,
    cut: bool,
}

#[derive(Default)]
struct Scanner {
    out: Vec<u8>,
    cuts: Vec<(usize, Cut)>,
    /// File offset of the next byte fed.
    pos: usize,
    depth: u32,
    in_str: bool,
    escaped: bool,
    /// The first bytes of the string being read, up to 10 (enough to recognise `entities"`).
    key: Vec<u8>,
    /// The last string read was `"entities"`; `colon`: and a `:` followed it.
    last_entities: bool,
    colon: bool,
    lines: usize,
    /// File offset where the current line starts (after the last line break; after a BOM).
    nl_at: usize,
    /// Characters of the current line before the chunk being fed (when it started earlier).
    col_before: usize,
    cand: Option<Candidate>,
}

/// Characters (not bytes) of UTF-8 text.
pub(crate) fn chars(b: &[u8]) -> usize {
    b.iter().filter(|&&c| c & 0xC0 != 0x80).count()
}

impl Scanner {
    /// The column of `b[i]` in the file, `b` being the chunk being fed.
    fn col(&self, b: &[u8], i: usize) -> usize {
        if self.nl_at >= self.pos {
            chars(&b[self.nl_at - self.pos..=i])
        } else {
            self.col_before + chars(&b[..=i])
        }
    }

    fn feed(&mut self, b: &[u8]) {
        let mut copy_from = 0;
        let mut i = 0;
        if self.pos == 0 && b.starts_with(b"\xEF\xBB\xBF") {
            // A BOM is not a column.
            i = 3;
            self.nl_at = 3;
        }
        while i < b.len() {
            if self.in_str {
                if self.escaped {
                    self.escaped = false;
                    self.key_push(&b[i..i + 1]);
                    i += 1;
                    continue;
                }
                // Jump to the end of the string or its next escape.
                let Some(k) = memchr::memchr2(b'"', b'\\', &b[i..]) else {
                    self.key_push(&b[i..]);
                    i = b.len();
                    continue;
                };
                self.key_push(&b[i..i + k + 1]);
                i += k;
                if b[i] == b'\\' {
                    self.escaped = true;
                } else {
                    self.in_str = false;
                    self.last_entities = self.key == b"entities\"";
                }
                i += 1;
                continue;
            }
            let c = b[i];
            let sig = !matches!(c, b' ' | b'\t' | b'\r' | b'\n');
            match c {
                b'\n' => {
                    self.lines += 1;
                    self.nl_at = self.pos + i + 1;
                }
                b'"' => {
                    self.in_str = true;
                    self.key.clear();
                }
                b'{' | b'[' => {
                    if c == b'[' && self.colon && self.cand.is_none() {
                        self.cand = Some(Candidate {
                            start: self.pos + i,
                            out_at: self.out.len() + (i - copy_from),
                            depth: self.depth,
                            lines: self.lines,
                            cut: false,
                        });
                    }
                    self.depth += 1;
                }
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if let Some(cand) = self.cand.filter(|k| k.depth == self.depth) {
                        self.cand = None;
                        if cand.cut {
                            self.cuts.push((
                                cand.out_at,
                                Cut {
                                    start: cand.start,
                                    end: self.pos + i + 1,
                                    lines: self.lines - cand.lines,
                                    end_col: self.col(b, i),
                                },
                            ));
                            self.out.extend_from_slice(b"[]");
                            copy_from = i + 1;
                        }
                    }
                }
                _ => {}
            }
            if sig {
                self.colon = c == b':' && self.last_entities;
                self.last_entities = false;
            }
            i += 1;
            if let Some(cand) = self.cand.as_mut() {
                if !cand.cut && self.pos + i - cand.start > RAW_ENTITIES_BYTES {
                    cand.cut = true;
                    self.out.extend_from_slice(&b[copy_from..i]);
                    self.out.truncate(cand.out_at);
                    copy_from = i;
                }
            }
        }
        if !self.cand.is_some_and(|k| k.cut) {
            self.out.extend_from_slice(&b[copy_from..]);
        }
        self.col_before = self.col(b, b.len() - 1);
        self.pos += b.len();
    }

    /// Keeps the first bytes of a string (with its closing quote), enough to know `entities`.
    fn key_push(&mut self, b: &[u8]) {
        let n = (10 - self.key.len().min(10)).min(b.len());
        self.key.extend_from_slice(&b[..n]);
    }

    /// At the end of the file: an array still open is cut to its end (the JSON is then
    /// incomplete, which the parser reports).
    fn finish(&mut self) {
        if let Some(cand) = self.cand.take().filter(|k| k.cut) {
            self.cuts.push((
                cand.out_at,
                Cut {
                    start: cand.start,
                    end: self.pos,
                    lines: self.lines - cand.lines,
                    end_col: self.col_before,
                },
            ));
            self.out.extend_from_slice(b"[");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsonpos;

    fn big_array(n: usize, sep: &str) -> String {
        let items: Vec<String> = (0..n)
            .map(|i| format!(r#"{{"_id": "e{i}", "s": "[{{\"entities\": ]é", "entities": [{i}]}}"#))
            .collect();
        format!("[{}]", items.join(sep))
    }

    /// Excising then parsing gives what parsing the whole text gives: values, raw ranges and
    /// the position of every path.
    fn same_as_whole(text: &str) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.json");
        std::fs::write(&file, text).unwrap();
        let ex = read(&file).unwrap();
        let cut = jsonpos::parse_cut(&ex.text, &ex.cuts).unwrap();
        let whole = jsonpos::parse(text).unwrap();
        assert_eq!(cut.value, whole.value);
        assert_eq!(cut.raw, whole.raw);
        assert!(!whole.raw.is_empty());
        assert_eq!(ex.cuts.len(), whole.raw.len());
        assert_eq!(cut.positions, whole.positions);
        for r in cut.raw.values() {
            let t = &text.as_bytes()[r.bom + r.start..r.bom + r.end];
            assert!(t.starts_with(b"[") && t.ends_with(b"]"));
        }
    }

    #[test]
    fn cuts_large_entities_arrays_keeping_positions() {
        let big = big_array(30_000, ",\n  ");
        same_as_whole(&format!(
            "[{{\"_id\": \"a\", \"source\": {{\"entities\": {big},\n \"x\": [1]}}}},\n {{\"entities\" : [{{\"_id\": 1}}], \"entities2\": {big}, \"y\": {{\"entities\":\n{big} , \"z\": true}}}}]\n"
        ));
    }

    #[test]
    fn single_line_and_bom() {
        let big = big_array(30_000, ",");
        same_as_whole(&format!(
            "\u{feff}{{\"_id\": \"a\", \"source\": {{\"entities\": {big}, \"é\": [1, {{}}]}}}}"
        ));
    }

    #[test]
    fn unterminated_array_is_a_syntax_error() {
        let big = big_array(30_000, ",\n");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.json");
        std::fs::write(&file, format!("{{\"entities\": {}", &big[..big.len() - 1])).unwrap();
        let ex = read(&file).unwrap();
        assert!(jsonpos::parse_cut(&ex.text, &ex.cuts).is_err());
    }
}
