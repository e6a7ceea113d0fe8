//! Streams the entities of a large embedded `entities` array straight from the config file
//! (see `jsonpos::Located::raw`), one at a time, so memory does not grow with the array.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use pumphouse_value::transit::{Mode, ValueSeed};
use pumphouse_value::Value;
use serde::de::{Deserializer, SeqAccess, Visitor};

use crate::jsonpos::RawRange;

/// Calls `f(index, entity)` for every element of the array; stops at the first error.
pub fn for_each_entity(
    file: &Path,
    range: &RawRange,
    f: impl FnMut(usize, Value) -> Result<(), String>,
) -> Result<(), String> {
    let mut fh = File::open(file).map_err(|e| format!("cannot open {}: {e}", file.display()))?;
    fh.seek(SeekFrom::Start((range.bom + range.start) as u64))
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let reader = BufReader::with_capacity(1 << 16, fh.take((range.end - range.start) as u64));
    let mut de = serde_json::Deserializer::from_reader(reader);
    (&mut de)
        .deserialize_seq(Each { f })
        .map_err(|e| format!("{}: {e}", file.display()))
}

struct Each<F> {
    f: F,
}

impl<'de, F: FnMut(usize, Value) -> Result<(), String>> Visitor<'de> for Each<F> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of entities")
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        while let Some(v) = seq.next_element_seed(ValueSeed(Mode::Transit))? {
            (self.f)(i, v).map_err(serde::de::Error::custom)?;
            i += 1;
        }
        Ok(())
    }
}
