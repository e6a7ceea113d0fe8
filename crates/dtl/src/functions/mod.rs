//! The expression-function library: one `SPECS` table per module, looked up by name at
//! compile time only (a call stores the function pointer).

use crate::ast::FnImpl;

pub mod arith;
pub mod compare;
pub mod crypto;
pub mod datetime;
pub mod dicts;
pub mod json;
pub mod lists;
pub mod logic;
pub mod math;
pub mod misc;
pub mod ni;
pub mod numbers;
pub mod phone;
pub mod sets;
pub mod strftime;
pub mod strings;
pub mod text;

/// Unlimited arity.
pub const MANY: usize = usize::MAX;

/// One expression function: name, arity range and implementation.
pub struct Spec {
    pub name: &'static str,
    pub min: usize,
    pub max: usize,
    pub f: FnImpl,
}

/// Shorthand for table entries.
pub const fn spec(name: &'static str, min: usize, max: usize, f: FnImpl) -> Spec {
    Spec { name, min, max, f }
}

fn tables() -> [&'static [Spec]; 14] {
    [
        compare::SPECS,
        logic::SPECS,
        lists::SPECS,
        sets::SPECS,
        strings::SPECS,
        dicts::SPECS,
        math::SPECS,
        numbers::SPECS,
        datetime::SPECS,
        json::SPECS,
        ni::SPECS,
        misc::SPECS,
        crypto::SPECS,
        phone::SPECS,
    ]
}

/// The function called `name`.
pub fn lookup(name: &str) -> Option<&'static Spec> {
    tables().into_iter().flatten().find(|s| s.name == name)
}

/// Every function name.
pub fn names() -> impl Iterator<Item = &'static str> {
    tables().into_iter().flatten().map(|s| s.name)
}
