//! Model-based test: random writes (new, changed, unchanged, deleted, filtered), commits,
//! dropped writers, full runs with deletion tracking, interrupted runs, reopen, populated,
//! dataset deletion, manual pipe state and `_id` tables, checked after every step against a simple
//! in-memory model of the committed state. Seeded: a failure names its seed.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use pumphouse_store::{ManualClock, PipeState, ReadOptions, Store, StoreOptions, Writer};
use pumphouse_value::hash::{entity_hash, hash_hex};
use pumphouse_value::{Map, Value};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

type Props = Vec<(String, i64)>;

#[derive(Clone, Debug, PartialEq)]
struct MVersion {
    props: Props,
    id: String,
    deleted: bool,
    previous: Option<u64>,
    ts: i64,
}

#[derive(Clone, Debug, Default)]
struct MDataset {
    exists: bool,
    log: Vec<MVersion>,
    latest: BTreeMap<String, u64>,
    populated: bool,
    /// Persisted full run: pipe and the ids seen so far.
    run: Option<(String, BTreeSet<String>)>,
}

impl MDataset {
    fn live(&self) -> u64 {
        self.latest
            .values()
            .filter(|o| !self.log[**o as usize].deleted)
            .count() as u64
    }
    fn append(&mut self, id: &str, props: Props, deleted: bool, ts: i64) {
        let previous = self.latest.get(id).copied();
        self.latest.insert(id.to_owned(), self.log.len() as u64);
        self.log.push(MVersion {
            props,
            id: id.to_owned(),
            deleted,
            previous,
            ts,
        });
        self.exists = true;
    }
}

fn sorted(p: &Props) -> Props {
    let mut p = p.clone();
    p.sort();
    p
}

/// The model's writer: the working copy of one dataset and whether it tracks a full run.
struct MWriter {
    ds: String,
    pipe: String,
    work: MDataset,
    full: bool,
}

impl MWriter {
    fn write(&mut self, id: &str, props: Props, deleted: bool, filtered: bool, ts: i64) {
        let prev = self
            .work
            .latest
            .get(id)
            .map(|o| self.work.log[*o as usize].clone());
        if filtered {
            if prev.is_some_and(|p| !p.deleted) {
                self.work.append(id, props, true, ts);
            }
            return;
        }
        let same = prev.is_some_and(|p| p.deleted == deleted && sorted(&p.props) == sorted(&props));
        if !same {
            self.work.append(id, props, deleted, ts);
        }
        if self.full {
            if let Some((_, seen)) = self.work.run.as_mut() {
                seen.insert(id.to_owned());
            }
        }
    }

    fn finish(&mut self, populated: bool, ts: i64) {
        let seen = self.work.run.take().map(|r| r.1).unwrap_or_default();
        let gone: Vec<(String, Props)> = self
            .work
            .latest
            .iter()
            .map(|(id, o)| (id, &self.work.log[*o as usize]))
            .filter(|(id, v)| !v.deleted && !seen.contains(*id))
            .map(|(id, v)| (id.clone(), v.props.clone()))
            .collect();
        for (id, props) in gone {
            self.work.append(&id, props, true, ts);
        }
        self.work.exists = true;
        self.full = false;
        if populated {
            self.work.populated = true;
        }
    }
}

fn entity(rng: &mut Rng, w: &MWriter) -> (Value, String, Props, bool, bool) {
    let id = format!("e{}", rng.below(12));
    let existing = w
        .work
        .latest
        .get(&id)
        .map(|o| w.work.log[*o as usize].props.clone());
    let props: Props = match existing {
        Some(p) if rng.chance(40) => p.into_iter().rev().collect(),
        _ => {
            let mut p = vec![("a".to_owned(), rng.below(3) as i64)];
            if rng.chance(50) {
                p.push(("b".to_owned(), rng.below(2) as i64));
            }
            if rng.chance(30) {
                p.reverse();
            }
            p
        }
    };
    let mut m = Map::default();
    for (k, v) in &props {
        m.insert(k.clone(), Value::Int(*v));
        if rng.chance(10) {
            m.insert("_junk".into(), Value::Int(1));
        }
    }
    m.insert("_id".into(), Value::String(id.clone()));
    let (mut deleted, mut filtered) = (false, false);
    match rng.below(10) {
        0 | 1 => {
            m.insert("_deleted".into(), Value::Bool(true));
            deleted = true;
        }
        2 => {
            m.insert("_filtered".into(), Value::Bool(true));
            filtered = true;
        }
        3 => {
            m.insert(
                "_deleted".into(),
                if rng.chance(50) {
                    Value::Bool(false)
                } else {
                    Value::from("yes")
                },
            );
        }
        _ => {}
    }
    (Value::Dict(m), id, props, deleted, filtered)
}

/// The store's entity in model form; also checks `_hash`.
fn to_model(v: &Value) -> (u64, MVersion) {
    let m = v.as_dict().unwrap();
    let keys: Vec<&str> = m.keys().map(|k| k.as_str()).collect();
    let n = keys.len();
    assert_eq!(
        &keys[n - 6..],
        ["_id", "_deleted", "_updated", "_previous", "_ts", "_hash"]
    );
    let props = m
        .iter()
        .take(n - 6)
        .map(|(k, v)| (k.clone(), v.as_i64().unwrap()))
        .collect();
    assert_eq!(m["_hash"].as_str().unwrap(), hash_hex(entity_hash(v)));
    let version = MVersion {
        props,
        id: m["_id"].as_str().unwrap().to_owned(),
        deleted: m["_deleted"] == Value::Bool(true),
        previous: m["_previous"].as_i64().map(|p| p as u64),
        ts: m["_ts"].as_i64().unwrap(),
    };
    (m["_updated"].as_i64().unwrap() as u64, version)
}

fn check(
    store: &Store,
    model: &BTreeMap<String, MDataset>,
    pipes: &BTreeMap<String, i64>,
    rng: &mut Rng,
    ctx: &str,
) {
    for (name, d) in model {
        let info = store.dataset_info(name).unwrap();
        if !d.exists {
            assert!(info.is_none(), "{ctx}: {name} should not exist");
            assert!(store.read(name, ReadOptions::all()).is_err());
            continue;
        }
        let info = info.unwrap_or_else(|| panic!("{ctx}: {name} missing"));
        assert_eq!(
            info.version_count,
            d.log.len() as u64,
            "{ctx}: {name} versions"
        );
        assert_eq!(
            info.last_offset,
            (d.log.len() as u64).checked_sub(1),
            "{ctx}"
        );
        assert_eq!(info.live_count, d.live(), "{ctx}: {name} live");
        assert_eq!(info.populated, d.populated, "{ctx}: {name} populated");
        for _ in 0..3 {
            let opts = ReadOptions {
                since: if rng.chance(50) {
                    None
                } else {
                    Some(rng.below(d.log.len() as u64 + 2))
                },
                limit: if rng.chance(50) {
                    None
                } else {
                    Some(rng.below(6) as usize)
                },
                history: rng.chance(50),
                deleted: rng.chance(50),
            };
            let start = opts.since.map_or(0, |s| s + 1);
            let expected: Vec<(u64, MVersion)> = d
                .log
                .iter()
                .enumerate()
                .map(|(o, v)| (o as u64, v.clone()))
                .filter(|(o, v)| {
                    *o >= start
                        && (opts.deleted || !v.deleted)
                        && (opts.history || d.latest[&v.id] == *o)
                })
                .take(opts.limit.unwrap_or(usize::MAX))
                .collect();
            let got: Vec<(u64, MVersion)> = store
                .read(name, opts)
                .unwrap()
                .map(|v| to_model(&v.unwrap()))
                .collect();
            assert_eq!(got, expected, "{ctx}: {name} read {opts:?}");
        }
        for i in 0..12 {
            let id = format!("e{i}");
            let got = store.get(name, &id).unwrap().map(|v| to_model(&v));
            let expected = d.latest.get(&id).map(|o| (*o, d.log[*o as usize].clone()));
            assert_eq!(got, expected, "{ctx}: {name} get {id}");
        }
    }
    for (p, n) in pipes {
        assert_eq!(
            store.pipe_state(p).unwrap().last_seen,
            Value::Int(*n),
            "{ctx}: pipe {p}"
        );
    }
}

fn run(seed: u64, steps: usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(seed);
    let mut model: BTreeMap<String, MDataset> = ["a", "b"]
        .iter()
        .map(|n| (n.to_string(), MDataset::default()))
        .collect();
    let mut pipes: BTreeMap<String, i64> = BTreeMap::new();
    let clock = Arc::new(ManualClock::new(1));
    let mut step = 0;
    while step < steps {
        let opts = StoreOptions {
            clock: clock.clone(),
            tombstone_batch: 1 + rng.below(3) as usize,
            // Mostly `_id` tables for datasets of a few `_id`s, rebuilt every few versions.
            id_table_min: if rng.chance(70) {
                1 + rng.below(4)
            } else {
                u64::MAX
            },
            ..StoreOptions::default()
        };
        let store = Store::open_with(dir.path(), opts).unwrap();
        check(
            &store,
            &model,
            &pipes,
            &mut rng,
            &format!("seed {seed} step {step} after open"),
        );
        let mut writer: Option<(Writer<'_>, MWriter)> = None;
        while step < steps {
            step += 1;
            let ctx = format!("seed {seed} step {step}");
            clock.set(clock_now(&clock) + 1 + rng.below(3) as i64);
            let ts = clock_now(&clock);
            match rng.below(100) {
                0..=9 if writer.is_none() => {
                    let ds = if rng.chance(50) { "a" } else { "b" };
                    let pipe = format!("p{ds}");
                    let full = rng.chance(35);
                    let mut w = store.writer(ds, &pipe, full).unwrap();
                    if rng.chance(50) {
                        // Batches encoded on a thread of their own, applied later.
                        w.pipeline().unwrap();
                    }
                    let committed = &model[ds];
                    let resumed = !full && committed.run.as_ref().is_some_and(|r| r.0 == pipe);
                    assert_eq!(w.is_full_run(), full || resumed, "{ctx}");
                    assert_eq!(w.resumed(), resumed, "{ctx}");
                    let mut work = committed.clone();
                    if full {
                        work.run = Some((pipe.clone(), BTreeSet::new()));
                    }
                    writer = Some((
                        w,
                        MWriter {
                            ds: ds.to_owned(),
                            pipe,
                            work,
                            full: full || resumed,
                        },
                    ));
                }
                0..=44 => {
                    if let Some((w, mw)) = writer.as_mut() {
                        let mut batch = Vec::new();
                        for _ in 0..1 + rng.below(6) {
                            let (e, id, props, deleted, filtered) = entity(&mut rng, mw);
                            mw.write(&id, props, deleted, filtered, ts);
                            batch.push(e);
                        }
                        w.write(batch).unwrap();
                    }
                }
                45..=64 => {
                    if let Some((w, mw)) = writer.as_mut() {
                        let n = step as i64;
                        if !mw.full && rng.chance(40) {
                            // The last commit of a run (where `_id` tables are rebuilt).
                            w.finish_run(&PipeState::new(Value::Int(n))).unwrap();
                        } else {
                            w.commit(&PipeState::new(Value::Int(n))).unwrap();
                        }
                        mw.work.exists = true; // a commit creates the dataset, even an empty one
                        model.insert(mw.ds.clone(), mw.work.clone());
                        pipes.insert(mw.pipe.clone(), n);
                    }
                }
                65..=72 => {
                    if let Some((w, mw)) = writer.as_mut() {
                        if mw.full {
                            let populated = rng.chance(70);
                            w.finish_full_run(&PipeState::new(Value::Int(step as i64)), populated)
                                .unwrap();
                            mw.finish(populated, ts);
                            model.insert(mw.ds.clone(), mw.work.clone());
                            pipes.insert(mw.pipe.clone(), step as i64);
                        }
                    }
                }
                73..=78 => writer = None,
                79..=83 => break,
                84..=88 => {
                    let ds = if rng.chance(50) { "a" } else { "b" };
                    let on = rng.chance(60);
                    store.set_populated(ds, on).unwrap();
                    let locked = writer.as_ref().is_some_and(|w| w.1.ds == ds);
                    let d = model.get_mut(ds).unwrap();
                    d.populated = on;
                    if on && !locked {
                        d.exists = true;
                    }
                    if let Some((_, mw)) = writer.as_mut().filter(|w| w.1.ds == ds) {
                        mw.work.populated = on;
                    }
                }
                89..=91 => {
                    let ds = if rng.chance(50) { "a" } else { "b" };
                    if writer.as_ref().is_some_and(|w| w.1.ds == ds) {
                        assert!(store.delete_dataset(ds).is_err(), "{ctx}");
                    } else {
                        store.delete_dataset(ds).unwrap();
                        model.insert(ds.to_owned(), MDataset::default());
                    }
                }
                92..=94 if writer.is_none() => {
                    let pipe = if rng.chance(50) { "pa" } else { "pb" };
                    store
                        .set_pipe_state(pipe, &PipeState::new(Value::Int(-(step as i64))))
                        .unwrap();
                    pipes.insert(pipe.to_owned(), -(step as i64));
                    for d in model.values_mut() {
                        if d.run.as_ref().is_some_and(|r| r.0 == pipe) {
                            d.run = None;
                        }
                    }
                }
                _ => {}
            }
            check(&store, &model, &pipes, &mut rng, &ctx);
        }
    }
}

fn clock_now(c: &ManualClock) -> i64 {
    use pumphouse_store::Clock;
    c.now_micros()
}

#[test]
fn random_operations_match_the_model() {
    let seeds: u64 = std::env::var("MODEL_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    for seed in 1..=seeds {
        run(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15), 400);
    }
}
