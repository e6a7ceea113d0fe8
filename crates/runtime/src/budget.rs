//! A byte budget shared by two threads of a pipe run: the encoding stage takes bytes before it
//! hands a batch on and waits while the batches in flight hold too many; the sink gives them
//! back once it staged the batch. A batch larger than the whole budget still passes when
//! nothing else is in flight, so a single large batch never waits forever. `close` wakes and
//! releases every waiter (the consumer ended), so a run that stops early can join its threads.

use std::sync::{Condvar, Mutex, PoisonError};

pub struct ByteBudget {
    limit: u64,
    state: Mutex<State>,
    freed: Condvar,
}

#[derive(Default)]
struct State {
    used: u64,
    closed: bool,
}

impl ByteBudget {
    pub fn new(limit: u64) -> ByteBudget {
        ByteBudget {
            limit,
            state: Mutex::new(State::default()),
            freed: Condvar::new(),
        }
    }

    /// Waits until `n` more bytes fit (or nothing is in flight), then takes them. Returns
    /// false, taking nothing, once the budget is closed.
    pub fn take(&self, n: u64) -> bool {
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        while !st.closed && st.used > 0 && st.used + n > self.limit {
            st = self.freed.wait(st).unwrap_or_else(PoisonError::into_inner);
        }
        if st.closed {
            return false;
        }
        st.used += n;
        true
    }

    /// Gives back `n` bytes taken earlier.
    pub fn give(&self, n: u64) {
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        st.used = st.used.saturating_sub(n);
        self.freed.notify_all();
    }

    /// Ends the budget: every `take`, waiting or later, returns false.
    pub fn close(&self) {
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        st.closed = true;
        self.freed.notify_all();
    }

    #[cfg(test)]
    fn used(&self) -> u64 {
        self.state.lock().unwrap().used
    }
}

#[cfg(test)]
mod tests {
    use super::ByteBudget;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn a_taker_waits_for_room_and_an_oversized_batch_passes_alone() {
        let b = ByteBudget::new(100);
        assert!(
            b.take(150),
            "a batch over the limit passes when nothing is in flight"
        );
        let (tx, rx) = mpsc::channel();
        std::thread::scope(|s| {
            s.spawn(|| tx.send(b.take(10)).unwrap());
            // The second take cannot fit beside the first and waits.
            assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
            b.give(150);
            assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(true));
        });
        assert_eq!(b.used(), 10);
    }

    #[test]
    fn closing_releases_a_waiting_taker_without_taking() {
        let b = ByteBudget::new(100);
        assert!(b.take(90));
        let (tx, rx) = mpsc::channel();
        std::thread::scope(|s| {
            s.spawn(|| tx.send(b.take(20)).unwrap());
            assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
            b.close();
            assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(false));
        });
        assert_eq!(b.used(), 90);
        assert!(!b.take(1));
    }
}
