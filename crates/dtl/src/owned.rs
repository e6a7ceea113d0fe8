//! When a program may take its source entity by move (`Program::transform_owned`): the
//! default rule starts with `["copy", "*"]` and nothing after it can read the source, so the
//! copy can be the source itself instead of a clone of it. Decided once at compile time,
//! conservatively: after the copy only `add`/`default`/`add-if`/`remove`/`filter`/`discard`
//! whose expressions are constants or `_T` paths.

use crate::ast::{Expr, Patterns, Transform, Var};

/// Whether `rule` (the default rule) can run on a moved source.
pub fn moves_source(rule: &[Transform]) -> bool {
    let Some((
        Transform::Copy {
            include: Patterns::Const(ws),
            exclude: None,
        },
        rest,
    )) = rule.split_first()
    else {
        return false;
    };
    ws.iter().any(|w| w.is_all()) && rest.iter().all(source_free)
}

fn source_free(t: &Transform) -> bool {
    match t {
        Transform::Add { prop, value, .. } => expr_free(prop) && expr_free(value),
        Transform::AddIf { prop, cond, value } => {
            expr_free(prop) && expr_free(value) && cond.as_ref().is_none_or(expr_free)
        }
        Transform::Remove {
            pattern: Patterns::Const(_),
        } => true,
        Transform::Filter(c) | Transform::Discard(c) => c.as_ref().is_none_or(expr_free),
        _ => false,
    }
}

fn expr_free(e: &Expr) -> bool {
    match e {
        Expr::Const(_) => true,
        Expr::Path(p) => p.var == Var::T,
        Expr::Call(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::{compile, EvalContext, Options};
    use pumphouse_value::transit::from_str;

    /// `transform_owned` gives what `transform` gives, for rules that move and rules that
    /// cannot.
    #[test]
    fn owned_and_borrowed_transforms_agree() {
        let src =
            from_str(r#"{"_id": "a", "x": 1, "y": {"z": [1, 2]}, "_deleted": false}"#).unwrap();
        let cases = [
            (r#"[["copy", "*"], ["add", "source", "crm"]]"#, true),
            (
                r#"[["copy", "*"], ["add", "t", "_T.x"], ["remove", "y"], ["default", "x", 5]]"#,
                true,
            ),
            (r#"[["copy", "*"], ["filter", false]]"#, true),
            (r#"[["copy", "*"], ["add", "n", "_S.x"]]"#, false),
            (
                r#"[["copy", "*"], ["add", "n", ["upper", "_T._id"]]]"#,
                false,
            ),
            (r#"[["copy", "*", "y"]]"#, false),
            (r#"[["add", "_id", "b"], ["copy", "*"]]"#, false),
        ];
        for (rule, moves) in cases {
            let rules = serde_json::from_str(&format!(r#"{{"default": {rule}}}"#)).unwrap();
            let p = compile(&rules, &Options::default()).unwrap();
            assert_eq!(p.moves_source, moves, "{rule}");
            let ctx = EvalContext::empty();
            assert_eq!(
                p.transform_owned(src.clone(), &ctx).unwrap(),
                p.transform(&src, &ctx).unwrap(),
                "{rule}"
            );
        }
    }
}
