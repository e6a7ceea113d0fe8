//! The CSV of the `csv_endpoint` sink with Sesam's defaults: a header row, `,` delimiter,
//! `"` quoting only where needed, CRLF line ends, deleted entities skipped, columns from the
//! sink's `columns` or else the first entity's properties (`_id` kept, other `_` ones left
//! out), nested values as JSON.

use serde_json::Value as Json;

/// Writes rows one entity at a time (the header before the first row).
pub struct CsvWriter {
    columns: Option<Vec<String>>,
    header_done: bool,
}

fn field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

impl CsvWriter {
    pub fn new(columns: Option<Vec<String>>) -> Self {
        CsvWriter {
            columns,
            header_done: false,
        }
    }

    /// Appends the row of `e` (and the header first) to `out`; deleted entities give nothing.
    pub fn row(&mut self, e: &Json, out: &mut String) {
        if e.get("_deleted") == Some(&Json::Bool(true)) {
            return;
        }
        let columns = self.columns.get_or_insert_with(|| {
            e.as_object()
                .map(|m| {
                    m.keys()
                        .filter(|k| !k.starts_with('_') || *k == "_id")
                        .cloned()
                        .collect()
                })
                .unwrap_or_default()
        });
        if !self.header_done {
            self.header_done = true;
            out.push_str(
                &columns
                    .iter()
                    .map(|c| field(c))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push_str("\r\n");
        }
        let row: Vec<String> = columns
            .iter()
            .map(|c| match e.get(c) {
                None | Some(Json::Null) => String::new(),
                Some(Json::String(s)) => field(s),
                Some(v) => field(&v.to_string()),
            })
            .collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }

    /// The header alone, when no entity came (only known with configured columns).
    pub fn finish(&mut self, out: &mut String) {
        if !self.header_done {
            if let Some(c) = &self.columns {
                out.push_str(&c.iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
                out.push_str("\r\n");
            }
            self.header_done = true;
        }
    }
}

/// The CSV of `entities`.
pub fn csv(entities: &[Json], columns: Option<Vec<String>>) -> String {
    let mut w = CsvWriter::new(columns);
    let mut out = String::new();
    for e in entities {
        w.row(e, &mut out);
    }
    if out.is_empty() {
        // No live entity and no configured columns: an empty header line, as before.
        w.finish(&mut out);
        if out.is_empty() {
            out.push_str("\r\n");
        }
    }
    out
}

/// The `columns` of a csv_endpoint sink config, if set.
pub fn columns(sink: &Json) -> Option<Vec<String>> {
    sink.get("columns").and_then(Json::as_array).map(|a| {
        a.iter()
            .filter_map(|c| c.as_str().map(str::to_string))
            .collect()
    })
}
