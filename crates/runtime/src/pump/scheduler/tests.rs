//! Scheduling on a virtual clock: nothing here sleeps.

use std::collections::BTreeSet;

use chrono::{TimeZone, Utc};
use serde_json::json;

use super::*;

const S: i64 = 1_000_000;

fn spec(pump: serde_json::Value) -> PumpSpec {
    PumpSpec::parse(&pump, false).unwrap()
}

fn ids(v: &[Launch]) -> Vec<(&str, RunKind)> {
    v.iter().map(|l| (l.pipe.as_str(), l.kind)).collect()
}

/// Runs every launch to completion at once and returns the launch times of `pipe`.
fn simulate(s: &mut Scheduler, from: i64, to: i64, step: i64) -> Vec<(i64, Launch)> {
    let mut out = vec![];
    let mut t = from;
    while t <= to {
        for l in s.poll(t) {
            s.finished(&l.pipe);
            out.push((t, l));
        }
        t += step;
    }
    out
}

#[test]
fn interval_runs_every_interval_within_the_jitter() {
    let mut s = Scheduler::new(4, 7);
    s.configure(
        0,
        vec![("p".into(), spec(json!({"schedule_interval": 10})))],
        &BTreeSet::new(),
        false,
    );
    let runs = simulate(&mut s, 0, 100 * S, S / 10);
    assert!(
        (9..=11).contains(&runs.len()),
        "{} runs in 100 s",
        runs.len()
    );
    for w in runs.windows(2) {
        let gap = w[1].0 - w[0].0;
        assert!(
            (95 * S / 10..=106 * S / 10).contains(&gap),
            "gap {gap} µs is outside 10 s ± 5 %"
        );
    }
    // The jitter really varies the gaps.
    let gaps: BTreeSet<i64> = runs.windows(2).map(|w| w[1].0 - w[0].0).collect();
    assert!(gaps.len() > 1);
}

#[test]
fn default_interval_is_sesams() {
    let p = PumpSpec::parse(&json!({}), true).unwrap();
    assert_eq!(
        p.trigger,
        Trigger::Interval {
            seconds: 30.0,
            jitter: 0.05
        }
    );
    let p = PumpSpec::parse(&json!({}), false).unwrap();
    assert_eq!(
        p.trigger,
        Trigger::Interval {
            seconds: 900.0,
            jitter: 0.05
        }
    );
}

#[test]
fn cron_midnight_runs_once_a_day_at_midnight() {
    let start = Utc
        .with_ymd_and_hms(2024, 3, 5, 13, 7, 0)
        .unwrap()
        .timestamp_micros();
    let mut s = Scheduler::new(4, 1);
    s.configure(
        start,
        vec![("p".into(), spec(json!({"cron_expression": "0 0 ? * *"})))],
        &BTreeSet::new(),
        false,
    );
    let runs = simulate(&mut s, start, start + 3 * 86_400 * S, 60 * S);
    let times: Vec<String> = runs
        .iter()
        .map(|(t, _)| {
            DateTime::<Utc>::from_timestamp_micros(*t)
                .unwrap()
                .to_rfc3339()
        })
        .collect();
    assert_eq!(
        times,
        [
            "2024-03-06T00:00:00+00:00",
            "2024-03-07T00:00:00+00:00",
            "2024-03-08T00:00:00+00:00"
        ]
    );
}

#[test]
fn rescan_cron_queues_a_rescan() {
    let start = Utc
        .with_ymd_and_hms(2024, 3, 5, 23, 0, 0)
        .unwrap()
        .timestamp_micros();
    let mut s = Scheduler::new(4, 1);
    s.configure(
        start,
        vec![(
            "p".into(),
            spec(json!({"schedule_interval": 600, "rescan_cron_expression": "30 23 * * *"})),
        )],
        &BTreeSet::new(),
        false,
    );
    let runs = simulate(&mut s, start, start + 3600 * S, 60 * S);
    let rescans: Vec<i64> = runs
        .iter()
        .filter(|(_, l)| l.kind == RunKind::Rescan)
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(rescans, [start + 1800 * S]);
    assert!(
        runs.iter()
            .filter(|(_, l)| l.kind == RunKind::Scheduled)
            .count()
            >= 5
    );
}

#[test]
fn disabled_pipes_do_not_run_until_enabled() {
    let mut s = Scheduler::new(4, 1);
    let disabled: BTreeSet<String> = ["p".to_string()].into();
    s.configure(
        0,
        vec![("p".into(), spec(json!({"schedule_interval": 1})))],
        &disabled,
        false,
    );
    assert!(simulate(&mut s, 0, 10 * S, S / 2).is_empty());
    s.input_changed("p");
    assert!(
        s.poll(11 * S).is_empty(),
        "a disabled pipe ignores input changes too"
    );
    s.set_enabled("p", true, 11 * S);
    assert!(!simulate(&mut s, 11 * S, 20 * S, S / 2).is_empty());
    s.set_enabled("p", false, 20 * S);
    assert!(simulate(&mut s, 20 * S, 40 * S, S / 2).is_empty());
}

#[test]
fn concurrency_limit_and_one_run_per_pipe() {
    let mut s = Scheduler::new(2, 1);
    let pipes = (0..5)
        .map(|i| (format!("p{i}"), spec(json!({"schedule_interval": 1}))))
        .collect();
    s.configure(0, pipes, &BTreeSet::new(), false);
    let first = s.poll(2 * S);
    assert_eq!(first.len(), 2, "only two at once");
    assert_eq!(s.running(), 2);
    // While they run, time passes: nothing more starts, and the running pipes are not doubled.
    assert!(s.poll(5 * S).is_empty());
    s.finished(&first[0].pipe);
    let next = s.poll(5 * S);
    assert_eq!(next.len(), 1);
    assert_ne!(
        next[0].pipe, first[1].pipe,
        "a running pipe is never started twice"
    );
    // Everyone gets a turn: the queue is first come, first served.
    let mut seen: BTreeSet<String> = first.iter().chain(&next).map(|l| l.pipe.clone()).collect();
    for _ in 0..10 {
        for p in seen.clone() {
            s.finished(&p);
        }
        seen.extend(s.poll(6 * S).into_iter().map(|l| l.pipe));
    }
    assert_eq!(seen.len(), 5);
}

#[test]
fn startup_and_input_changed_run_soon() {
    let mut s = Scheduler::new(4, 1);
    s.configure(
        0,
        vec![
            ("a".into(), spec(json!({"run_at_startup": true}))),
            ("b".into(), spec(json!({}))),
            ("m".into(), spec(json!({"mode": "manual"}))),
        ],
        &BTreeSet::new(),
        true,
    );
    assert_eq!(ids(&s.poll(0)), [("a", RunKind::Startup)]);
    s.input_changed("b");
    s.input_changed("m");
    assert_eq!(
        ids(&s.poll(S)),
        [("b", RunKind::InputChanged)],
        "manual pipes are never scheduled"
    );
    s.set_paused(true);
    s.finished("b");
    s.input_changed("b");
    assert!(
        s.poll(10_000 * S).is_empty(),
        "disable_user_pipes stops the scheduler"
    );
    assert_eq!(s.next_wakeup(), None);
}

#[test]
fn a_missed_cron_run_happens_right_after_a_restart() {
    let day = 86_400 * S;
    let start = Utc
        .with_ymd_and_hms(2024, 3, 5, 22, 0, 0)
        .unwrap()
        .timestamp_micros();
    let pipes = || {
        vec![(
            "p".to_string(),
            spec(json!({"cron_expression": "0 0 ? * *", "rescan_cron_expression": "0 1 ? * *"})),
        )]
    };
    let mut s = Scheduler::new(4, 1);
    s.configure(start, pipes(), &BTreeSet::new(), false);
    let saved = s.durable_next();
    assert_eq!(saved.len(), 2, "{saved:?}");
    // The node is down over midnight and comes back at 00:30 the next day.
    let back = start + day / 12 + day / 48 + 2 * day;
    let mut s = Scheduler::new(4, 1);
    s.configure(back, pipes(), &BTreeSet::new(), false);
    s.restore(&saved);
    assert_eq!(
        ids(&s.poll(back)),
        [("p", RunKind::Rescan)],
        "the missed runs happen at once (rescan wins)"
    );
    // Intervals of an hour or less are not kept.
    let mut s = Scheduler::new(4, 1);
    s.configure(
        0,
        vec![("q".into(), spec(json!({"schedule_interval": 60})))],
        &BTreeSet::new(),
        false,
    );
    assert!(s.durable_next().is_empty());
}
