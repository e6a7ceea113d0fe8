//! Dependency order: a pipe that reads a dataset (as its source or through a join) runs after
//! the pipe that writes it. Cycles are broken by config order (the run-until-stable loop
//! settles them).

use std::collections::HashMap;

use pumphouse_core::{Pipe, TransformSpec};

/// The datasets a pipe reads: its source's, then those its DTL joins hop to.
pub(crate) fn inputs(p: &Pipe) -> Vec<&str> {
    let mut v: Vec<&str> = p.source.dataset().into_iter().collect();
    for t in &p.transforms {
        if let TransformSpec::Dtl { program, .. } = t {
            v.extend(program.indexes().map(|(d, _)| d));
        }
    }
    v
}

/// Indexes of `pipes` in dependency order (stable: ties keep config order).
pub fn dependency_order(pipes: &[&Pipe]) -> Vec<usize> {
    let producer: HashMap<&str, usize> = pipes
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.sink.dataset().map(|d| (d, i)))
        .collect();
    let deps: Vec<Vec<usize>> = pipes
        .iter()
        .enumerate()
        .map(|(i, p)| {
            inputs(p)
                .into_iter()
                .filter_map(|d| producer.get(d).copied())
                .filter(|&j| j != i)
                .collect()
        })
        .collect();
    let mut done = vec![false; pipes.len()];
    let mut out = Vec::with_capacity(pipes.len());
    while out.len() < pipes.len() {
        let before = out.len();
        for i in 0..pipes.len() {
            if !done[i] && deps[i].iter().all(|&j| done[j]) {
                done[i] = true;
                out.push(i);
            }
        }
        if out.len() == before {
            // A cycle: take the first remaining pipe.
            if let Some(i) = (0..pipes.len()).find(|&i| !done[i]) {
                done[i] = true;
                out.push(i);
            }
        }
    }
    out
}
