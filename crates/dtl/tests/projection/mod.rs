//! Shared by the conformance and golden tests: a program run on a source that holds only
//! the properties `Program::source_properties` names must give what it gives on the whole
//! entity (the dataset source relies on it).

use pumphouse_dtl::{EvalContext, EvalError, Output, Program};
use pumphouse_value::transit::to_string;
use pumphouse_value::Value;

/// A source that hands the program only the properties `source_properties` names (and the
/// `_` ones), as the dataset source does, must give the same result as the whole entity.
pub fn same_when_projected(
    prog: &Program,
    source: &Value,
    ctx: &EvalContext,
    out: &Result<Output, EvalError>,
) -> Result<bool, String> {
    let (Some(keys), Some(m)) = (prog.source_properties(), source.as_dict()) else {
        return Ok(false);
    };
    let mut p = m.clone();
    p.retain(|k, _| k.starts_with('_') || keys.contains(k));
    let projected = prog.transform(&Value::Dict(p), ctx);
    let show_out = |o: &Result<Output, EvalError>| match o {
        Ok(o) => format!(
            "{} created {}",
            o.target.as_ref().map_or("null".into(), to_string),
            to_string(&Value::List(o.created.clone()))
        ),
        Err(e) => format!("error {:?}", e.kind),
    };
    if show_out(out) != show_out(&projected) {
        return Err(format!(
            "reading only {keys:?} of the source changed the result: {} instead of {}",
            show_out(&projected),
            show_out(out)
        ));
    }
    Ok(true)
}
