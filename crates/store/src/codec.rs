//! Byte layouts of every key and value the store writes (see docs/storage.md): log records,
//! index records, dataset meta, pipe state and full-run state.

use pumphouse_value::{bin, hash::hash_hex, Map, Value};

use crate::StoreError;

/// Version byte leading every stored record; bump on a format change.
pub const FORMAT: u8 = 1;
/// Version byte of dataset records and log records since the log moved out of fjall into
/// its own file (format 1: the log was a fjall partition; such stores are refused).
pub const LOG_FORMAT: u8 = 2;

// ---- meta partition keys ----

pub fn ds_key(dataset: &str) -> Vec<u8> {
    [b"ds:".as_slice(), dataset.as_bytes()].concat()
}
pub fn pop_key(dataset: &str) -> Vec<u8> {
    [b"pop:".as_slice(), dataset.as_bytes()].concat()
}
pub fn pipe_key(pipe: &str) -> Vec<u8> {
    [b"pipe:".as_slice(), pipe.as_bytes()].concat()
}
/// Marker `runp:<pipe>\0<num>` so a pipe's interrupted full runs can be found by pipe.
pub fn run_marker_key(pipe: &str, num: u64) -> Vec<u8> {
    let mut k = [b"runp:".as_slice(), pipe.as_bytes(), b"\0"].concat();
    k.extend_from_slice(&num.to_be_bytes());
    k
}
pub fn run_marker_prefix(pipe: &str) -> Vec<u8> {
    [b"runp:".as_slice(), pipe.as_bytes(), b"\0"].concat()
}

// ---- runs partition keys: <num> = run state, <num><chunk> = seen-bitset chunk ----

pub fn run_key(num: u64) -> [u8; 8] {
    num.to_be_bytes()
}
pub fn chunk_key(num: u64, chunk: u32) -> [u8; 12] {
    let mut k = [0u8; 12];
    k[..8].copy_from_slice(&num.to_be_bytes());
    k[8..].copy_from_slice(&chunk.to_be_bytes());
    k
}

pub fn be_u64(b: &[u8], what: &'static str) -> Result<u64, StoreError> {
    let a: [u8; 8] = b
        .get(..8)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| StoreError::corrupt(what, "short key or value"))?;
    Ok(u64::from_be_bytes(a))
}

// ---- dataset meta ----

const META_LEN: usize = 49;

/// Per-dataset counters, rewritten at every commit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DatasetMeta {
    /// Internal number naming the dataset's index partition (`d<num>_idx`) and log file
    /// (`logs/<num>.log`).
    pub num: u64,
    pub next_offset: u64,
    pub live: u64,
    pub versions: u64,
    /// Next dense entity number (one per distinct `_id`, the seen-bitset index).
    pub next_dense: u64,
    /// Committed length of the log file in bytes.
    pub log_end: u64,
}

impl DatasetMeta {
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(META_LEN);
        v.push(LOG_FORMAT);
        for x in [
            self.num,
            self.next_offset,
            self.live,
            self.versions,
            self.next_dense,
            self.log_end,
        ] {
            v.extend_from_slice(&x.to_be_bytes());
        }
        v
    }
    pub fn decode(b: &[u8]) -> Result<Self, StoreError> {
        if b.len() == 41 && b[0] == FORMAT {
            return Err(StoreError::OldFormat);
        }
        if b.len() != META_LEN || b[0] != LOG_FORMAT {
            return Err(StoreError::corrupt(
                "dataset meta",
                format!("{} bytes, version {:?}", b.len(), b.first()),
            ));
        }
        let f = |i: usize| be_u64(&b[1 + 8 * i..], "dataset meta");
        Ok(DatasetMeta {
            num: f(0)?,
            next_offset: f(1)?,
            live: f(2)?,
            versions: f(3)?,
            next_dense: f(4)?,
            log_end: f(5)?,
        })
    }
}

// ---- index records: key = _id bytes ----

/// The `_id` index entry: where the latest version is and what it looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdxRecord {
    pub offset: u64,
    pub dense: u64,
    pub hash: u128,
    pub deleted: bool,
    /// Byte position of the version's record in the log file.
    pub pos: u64,
}

impl IdxRecord {
    pub fn encode(&self) -> [u8; 41] {
        let mut b = [0u8; 41];
        b[..8].copy_from_slice(&self.offset.to_be_bytes());
        b[8..16].copy_from_slice(&self.dense.to_be_bytes());
        b[16..32].copy_from_slice(&self.hash.to_be_bytes());
        b[32] = self.deleted as u8;
        b[33..].copy_from_slice(&self.pos.to_be_bytes());
        b
    }
    pub fn decode(b: &[u8]) -> Result<Self, StoreError> {
        if b.len() != 41 {
            return Err(StoreError::corrupt(
                "index record",
                format!("{} bytes", b.len()),
            ));
        }
        let hash = u128::from_be_bytes(
            b[16..32]
                .try_into()
                .map_err(|_| StoreError::corrupt("index record", "hash"))?,
        );
        Ok(IdxRecord {
            offset: be_u64(b, "index record")?,
            dense: be_u64(&b[8..], "index record")?,
            hash,
            deleted: b[32] == 1,
            pos: be_u64(&b[33..], "index record")?,
        })
    }
}

// ---- log records (payloads of the log file's frames, `logfile.rs`) ----

/// The fixed part of a log record, readable without decoding the body.
#[derive(Debug)]
pub struct LogHeader<'a> {
    pub deleted: bool,
    pub ts: i64,
    pub previous: Option<u64>,
    /// Byte position of the previous version's record (set with `previous`).
    pub previous_pos: u64,
    pub hash: u128,
    pub id: &'a str,
    /// `bin`-encoded dict of the user properties, in their original order.
    pub body: &'a [u8],
}

/// Appends a log record: version, flags, ts, previous+1, [previous position], hash, id, body.
/// `previous` is the offset and byte position of the previous version.
pub fn encode_log(
    out: &mut Vec<u8>,
    deleted: bool,
    ts: i64,
    previous: Option<(u64, u64)>,
    hash: u128,
    id: &str,
) {
    out.push(LOG_FORMAT);
    out.push(deleted as u8);
    bin::varint(out, ((ts << 1) ^ (ts >> 63)) as u64);
    bin::varint(out, previous.map_or(0, |p| p.0 + 1));
    if let Some((_, pos)) = previous {
        bin::varint(out, pos);
    }
    out.extend_from_slice(&hash.to_be_bytes());
    bin::varint(out, id.len() as u64);
    out.extend_from_slice(id.as_bytes());
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn byte(&mut self) -> Result<u8, StoreError> {
        let x = *self
            .b
            .get(self.pos)
            .ok_or_else(|| StoreError::corrupt("log record", "truncated"))?;
        self.pos += 1;
        Ok(x)
    }
    fn varint(&mut self) -> Result<u64, StoreError> {
        let (mut u, mut shift) = (0u64, 0);
        loop {
            let x = self.byte()?;
            if shift > 63 {
                return Err(StoreError::corrupt("log record", "varint too long"));
            }
            u |= ((x & 0x7f) as u64) << shift;
            if x < 0x80 {
                return Ok(u);
            }
            shift += 7;
        }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], StoreError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.b.len())
            .ok_or_else(|| StoreError::corrupt("log record", "truncated"))?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }
}

pub fn decode_header(b: &[u8]) -> Result<LogHeader<'_>, StoreError> {
    let mut c = Cursor { b, pos: 0 };
    if c.byte()? != LOG_FORMAT {
        return Err(StoreError::corrupt("log record", "unknown format version"));
    }
    let deleted = c.byte()? == 1;
    let z = c.varint()?;
    let ts = ((z >> 1) as i64) ^ -((z & 1) as i64);
    let previous = c.varint()?.checked_sub(1);
    let previous_pos = match previous {
        Some(_) => c.varint()?,
        None => 0,
    };
    let hash = u128::from_be_bytes(
        c.take(16)?
            .try_into()
            .map_err(|_| StoreError::corrupt("log record", "hash"))?,
    );
    let n = c.varint()? as usize;
    let id = std::str::from_utf8(c.take(n)?)
        .map_err(|_| StoreError::corrupt("log record", "_id not utf-8"))?;
    Ok(LogHeader {
        deleted,
        ts,
        previous,
        previous_pos,
        hash,
        id,
        body: &b[c.pos..],
    })
}

/// The user properties of a record as a dict (original order).
pub fn decode_body(h: &LogHeader<'_>) -> Result<Map, StoreError> {
    decode_body_with_room(h, 2, None)
}

/// As `decode_body`, with room for `extra` more keys; with `keys`, only those properties.
fn decode_body_with_room(
    h: &LogHeader<'_>,
    extra: usize,
    keys: Option<&[String]>,
) -> Result<Map, StoreError> {
    if h.body.first() != Some(&9) {
        return Err(StoreError::corrupt("log record", "body is not a dict"));
    }
    Ok(match keys {
        None => bin::decode_dict(h.body, extra)?,
        Some(keys) => bin::decode_dict_only(h.body, keys, extra)?,
    })
}

/// The entity as readers see it: user properties, then `_id`, `_deleted`, `_updated`,
/// `_previous`, `_ts`, `_hash`.
pub fn decode_entity(offset: u64, b: &[u8]) -> Result<Value, StoreError> {
    decode_entity_only(offset, b, None)
}

/// As `decode_entity`; with `keys`, only the user properties named there (the `_`
/// properties always).
pub fn decode_entity_only(
    offset: u64,
    b: &[u8],
    keys: Option<&[String]>,
) -> Result<Value, StoreError> {
    let h = decode_header(b)?;
    let mut m = decode_body_with_room(&h, 6, keys)?;
    m.insert("_id".into(), Value::String(h.id.to_owned()));
    m.insert("_deleted".into(), Value::Bool(h.deleted));
    m.insert("_updated".into(), Value::Int(offset as i64));
    m.insert(
        "_previous".into(),
        h.previous.map_or(Value::Null, |p| Value::Int(p as i64)),
    );
    m.insert("_ts".into(), Value::Int(h.ts));
    m.insert("_hash".into(), Value::String(hash_hex(h.hash)));
    Ok(Value::Dict(m))
}

/// The transit JSON of a log record as `decode_entity` + `transit::write` would write it,
/// without building a `Value` (the body never holds `_` keys, so the generated ones follow).
pub fn entity_json(offset: u64, b: &[u8], out: &mut Vec<u8>) -> Result<(), StoreError> {
    use pumphouse_value::bin_json;
    let h = decode_header(b)?;
    out.push(b'{');
    if h.body.first() != Some(&9) {
        return Err(StoreError::corrupt("log record", "body is not a dict"));
    }
    if bin_json::write_dict_members(h.body, out)? > 0 {
        out.push(b',');
    }
    out.extend_from_slice(b"\"_id\":");
    bin_json::write_str(out, h.id);
    out.extend_from_slice(if h.deleted {
        b",\"_deleted\":true,\"_updated\":"
    } else {
        b",\"_deleted\":false,\"_updated\":"
    });
    bin_json::push_i64(out, offset as i64);
    out.extend_from_slice(b",\"_previous\":");
    match h.previous {
        Some(p) => bin_json::push_i64(out, p as i64),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"_ts\":");
    bin_json::push_i64(out, h.ts);
    out.extend_from_slice(b",\"_hash\":\"");
    out.extend_from_slice(hash_hex(h.hash).as_bytes());
    out.extend_from_slice(b"\"}");
    Ok(())
}

// ---- pipe state and run state: `bin`-encoded dicts ----

pub fn encode_value(v: &Value) -> Vec<u8> {
    let mut out = vec![FORMAT];
    bin::encode(v, &mut out);
    out
}

pub fn decode_value(b: &[u8], what: &'static str) -> Result<Value, StoreError> {
    match b.split_first() {
        Some((&FORMAT, rest)) => Ok(bin::decode(rest)?),
        _ => Err(StoreError::corrupt(what, "unknown format version")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_record_round_trips() {
        let mut m = Map::default();
        m.insert("b".into(), Value::Int(1));
        m.insert("_id".into(), Value::from("x"));
        m.insert("a".into(), Value::from("y"));
        let mut out = Vec::new();
        encode_log(&mut out, true, -5, Some((3, 900)), 77, "x");
        pumphouse_value::hash::EntityEncoder::default().encode(&m, &mut out);
        let h = decode_header(&out).unwrap();
        assert_eq!(
            (h.deleted, h.ts, h.previous, h.previous_pos, h.hash, h.id),
            (true, -5, Some(3), 900, 77, "x")
        );
        let e = decode_entity(9, &out).unwrap();
        let keys: Vec<_> = e.as_dict().unwrap().keys().cloned().collect();
        assert_eq!(
            keys,
            [
                "b",
                "a",
                "_id",
                "_deleted",
                "_updated",
                "_previous",
                "_ts",
                "_hash"
            ]
        );
        assert!(decode_header(&out[..10]).is_err());
        let mut json = Vec::new();
        entity_json(9, &out, &mut json).unwrap();
        assert_eq!(
            String::from_utf8(json).unwrap(),
            pumphouse_value::transit::to_string(&e)
        );
    }

    #[test]
    fn fixed_records_round_trip() {
        let r = IdxRecord {
            offset: 5,
            dense: 2,
            hash: u128::MAX - 1,
            deleted: true,
            pos: u64::MAX - 7,
        };
        assert_eq!(IdxRecord::decode(&r.encode()).unwrap(), r);
        let m = DatasetMeta {
            num: 1,
            next_offset: 2,
            live: 3,
            versions: 4,
            next_dense: 5,
            log_end: 6,
        };
        assert_eq!(DatasetMeta::decode(&m.encode()).unwrap(), m);
        let mut old = m.encode()[..41].to_vec();
        old[0] = FORMAT;
        assert!(matches!(
            DatasetMeta::decode(&old),
            Err(StoreError::OldFormat)
        ));
    }
}
