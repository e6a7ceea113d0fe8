//! The JSON protocols: the `json` source (JSON pull client, sesam-spec 5.4, 9.1), the `json`
//! sink (JSON push client, 7.2, 9.2) and the `http` transform (9.3).

mod sender;
pub mod sink;
pub mod source;
pub mod transform;

use pumphouse_value::Value;

/// A JSON body holding `entities` as an array (transit-encoded).
pub fn array_body(entities: &[Value]) -> String {
    let mut out = String::with_capacity(entities.len() * 64 + 2);
    out.push('[');
    for (i, e) in entities.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        pumphouse_value::transit::write(&mut out, e, pumphouse_value::transit::Mode::Transit);
    }
    out.push(']');
    out
}
