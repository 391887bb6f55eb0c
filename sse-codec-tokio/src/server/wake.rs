//! The subscriptions of a log waiting for its next append: a place for
//! each one's waker, all taken and woken by each append, in a wave that the
//! subscriptions it wakes help along from the threads that poll them.
//!
//! What `tokio::sync::watch` or `Notify` would do for a subscription, for
//! 16 bytes of list and a 4-byte slot number per subscription, instead of a
//! boxed wait future (160 bytes) each.

use super::line::CacheLine;
use core::task::Waker;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// The wakers of a log's subscriptions, by slot.
#[derive(Debug)]
pub(crate) struct Wakers {
    inner: Mutex<Inner>,
    /// Whether a wave of wake-ups is under way: set and cleared under the
    /// lock, read without it by [`help`](Self::help) at every poll of every
    /// subscription, so on a line apart from the lock's.
    waving: CacheLine<AtomicBool>,
    /// Whether a task is carrying the wave on (see [`wake_all`](Self::wake_all)).
    carried: AtomicBool,
}

#[derive(Debug)]
struct Inner {
    /// A place per subscription, by [`Slot`]: `Some` while it waits.
    wakers: Vec<Option<Waker>>,
    /// Places of subscriptions that have gone, for the next ones.
    free: Vec<u32>,
    /// The place the wave under way takes the next waker from.
    next: usize,
}

/// A subscription's place in its log's [`Wakers`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Slot(u32);

/// Wakers taken out per hold of the lock by [`Wakers::wake_all`], so that
/// the subscriptions it wakes, registering again, wait for it briefly.
const WAKE_BATCH: usize = 32;

impl Wakers {
    /// No subscriptions.
    pub(crate) const fn new() -> Self {
        Wakers {
            inner: Mutex::new(Inner {
                wakers: Vec::new(),
                free: Vec::new(),
                next: 0,
            }),
            waving: CacheLine(AtomicBool::new(false)),
            carried: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Nothing under this lock panics halfway through an update.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A place for a new subscription, until [`remove`](Self::remove).
    ///
    /// # Panics
    ///
    /// With 2³² subscriptions of one log at once (each takes more than 64
    /// bytes: 256 GiB of them).
    pub(crate) fn slot(&self) -> Slot {
        let mut inner = self.lock();
        if let Some(free) = inner.free.pop() {
            return Slot(free);
        }
        let slot = u32::try_from(inner.wakers.len()).expect("fewer than 2^32 subscriptions");
        inner.wakers.push(None);
        Slot(slot)
    }

    /// How many places there are: one per subscription.
    #[cfg(test)]
    pub(crate) fn places(&self) -> usize {
        let inner = self.lock();
        inner.wakers.len() - inner.free.len()
    }

    /// Has `waker` woken by the next [`wake_all`](Self::wake_all).
    ///
    /// A wake-up between the subscription's last look and this call is not
    /// lost if the subscription looks again after it: whatever `wake_all`'s
    /// caller stored before calling it is then visible.
    pub(crate) fn register(&self, slot: Slot, waker: &Waker) {
        let mut inner = self.lock();
        if let Some(place) = inner.wakers.get_mut(slot.0 as usize) {
            match place {
                Some(w) if w.will_wake(waker) => {}
                _ => *place = Some(waker.clone()),
            }
        }
    }

    /// Gives `slot` back: its subscription has gone.
    pub(crate) fn remove(&self, slot: Slot) {
        let waker = {
            let mut inner = self.lock();
            let waker = inner.wakers.get_mut(slot.0 as usize).and_then(Option::take);
            inner.free.push(slot.0);
            waker
        };
        // Dropped outside the lock: it may be the last handle of its task.
        drop(waker);
    }

    /// Wakes every subscription registered, once; each registers again
    /// for the next append. The lock is held only to take the wakers out,
    /// [`WAKE_BATCH`] at a time.
    ///
    /// The wake-ups are a wave over the places, which the subscriptions it
    /// wakes help along ([`help`](Self::help)) on whatever threads poll
    /// them. On a Tokio runtime, with more than one batch of places, a
    /// task carries the wave, so that an append returns at once however
    /// many subscriptions wait: waking 10,000 parked tasks takes
    /// milliseconds, and even waking the first batch from the appender's
    /// thread held it up for 2–4 ms (measured: the thread is off the CPU
    /// while the woken tasks start). Otherwise the caller goes on until the
    /// wave has passed every place. Either way the wave never depends on
    /// the helpers. A call during a wave starts it again from the first
    /// place.
    pub(crate) fn wake_all(self: &Arc<Self>) {
        let one_batch = {
            let mut inner = self.lock();
            inner.next = 0;
            self.waving.store(true, Ordering::Release);
            inner.wakers.len() <= WAKE_BATCH
        };
        let runtime = tokio::runtime::Handle::try_current();
        let (false, Ok(runtime)) = (one_batch, runtime) else {
            while self.wake_batch() {}
            return;
        };
        if self.carried.swap(true, Ordering::AcqRel) {
            // The task under way carries this wave too: it goes on while
            // places are left, and looks again before it stops.
            return;
        }
        let wakers = Arc::clone(self);
        runtime.spawn(async move {
            loop {
                while wakers.wake_batch() {}
                wakers.carried.store(false, Ordering::Release);
                // A wave that began after the last batch and found the
                // task still carrying: carry it too.
                if !wakers.waving.load(Ordering::Acquire)
                    || wakers.carried.swap(true, Ordering::AcqRel)
                {
                    break;
                }
            }
        });
    }

    /// Wakes the next [`WAKE_BATCH`] wakers of a wave under way, if any: a
    /// woken subscription's share of the work.
    pub(crate) fn help(&self) {
        if self.waving.load(Ordering::Acquire) {
            self.wake_batch();
        }
    }

    /// Takes the wave's next batch and wakes it; whether places are left.
    fn wake_batch(&self) -> bool {
        let mut batch: [Option<Waker>; WAKE_BATCH] = [const { None }; WAKE_BATCH];
        let more = {
            let mut inner = self.lock();
            let mut at = inner.next;
            let mut taken = 0;
            while taken < WAKE_BATCH {
                let Some(place) = inner.wakers.get_mut(at) else {
                    break;
                };
                at += 1;
                if let Some(waker) = place.take() {
                    batch[taken] = Some(waker);
                    taken += 1;
                }
            }
            inner.next = at;
            let more = at < inner.wakers.len();
            if !more {
                self.waving.store(false, Ordering::Release);
            }
            more
        };
        for waker in batch.into_iter().flatten() {
            waker.wake();
        }
        more
    }
}

/// Wakers that count their wake-ups, for the tests of waker lists.
#[cfg(test)]
pub(crate) mod counting {
    use core::task::Waker;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    /// How many times its waker was woken.
    pub(crate) struct Count(pub(crate) AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A waker and its count.
    pub(crate) fn counter() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (Arc::clone(&count), Waker::from(count))
    }

    /// Wake-ups so far.
    pub(crate) fn woken(count: &Count) -> usize {
        count.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::counting::{counter, woken};
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    #[test]
    fn each_registration_is_woken_once() {
        let wakers = Arc::new(Wakers::new());
        // More than a batch of them.
        let counts: Vec<_> = (0..100)
            .map(|_| {
                let (count, waker) = counter();
                let slot = wakers.slot();
                wakers.register(slot, &waker);
                // Registering again takes no second place.
                wakers.register(slot, &waker);
                (count, waker, slot)
            })
            .collect();
        wakers.wake_all();
        wakers.wake_all();
        assert!(counts.iter().all(|(c, _, _)| woken(c) == 1));
        // The next append wakes only those that registered again.
        let (again, waker, slot) = &counts[70];
        wakers.register(*slot, waker);
        wakers.wake_all();
        assert_eq!(woken(again), 2);
        assert_eq!(counts.iter().map(|(c, _, _)| woken(c)).sum::<usize>(), 101);
    }

    /// A subscription that helps the wave as soon as it is woken.
    struct Helper {
        wakers: Arc<Wakers>,
        woken: AtomicUsize,
    }

    impl Wake for Helper {
        fn wake(self: Arc<Self>) {
            self.woken.fetch_add(1, Ordering::SeqCst);
            self.wakers.help();
        }
    }

    #[test]
    fn woken_subscriptions_help_the_wave_and_each_is_woken_once() {
        let wakers = Arc::new(Wakers::new());
        // No wave: helping wakes nobody.
        let (idle, w_idle) = counter();
        let slot = wakers.slot();
        wakers.register(slot, &w_idle);
        wakers.help();
        assert_eq!(woken(&idle), 0);
        let helpers: Vec<_> = (0..1000)
            .map(|_| {
                let helper = Arc::new(Helper {
                    wakers: Arc::clone(&wakers),
                    woken: AtomicUsize::new(0),
                });
                wakers.register(wakers.slot(), &Waker::from(Arc::clone(&helper)));
                helper
            })
            .collect();
        wakers.wake_all();
        assert_eq!(woken(&idle), 1);
        assert!(helpers.iter().all(|h| h.woken.load(Ordering::SeqCst) == 1));
        assert!(!wakers.waving.load(Ordering::SeqCst));
    }

    #[test]
    fn a_new_waker_replaces_the_old_and_a_removed_one_is_not_woken() {
        let wakers = Arc::new(Wakers::new());
        let (old, w_old) = counter();
        let (new, w_new) = counter();
        let (gone, w_gone) = counter();
        let (s, s_gone) = (wakers.slot(), wakers.slot());
        wakers.register(s, &w_old);
        wakers.register(s, &w_new);
        wakers.register(s_gone, &w_gone);
        wakers.remove(s_gone);
        wakers.wake_all();
        assert_eq!((woken(&old), woken(&new), woken(&gone)), (0, 1, 0));
        // The place is taken again, and starts empty.
        assert_eq!(wakers.slot(), s_gone);
        wakers.wake_all();
        assert_eq!(woken(&gone), 0);
    }

    /// Wakers that only count: nobody helps the wave. One thread, so that
    /// the task runs only when the test lets it.
    #[tokio::test(flavor = "current_thread")]
    async fn on_a_runtime_a_task_carries_a_long_wave_and_the_caller_returns_at_once() {
        let wakers = Arc::new(Wakers::new());
        let counts: Vec<_> = (0..10_000)
            .map(|_| {
                let (count, waker) = counter();
                wakers.register(wakers.slot(), &waker);
                count
            })
            .collect();
        wakers.wake_all();
        // The task wakes them all.
        let now: usize = counts.iter().map(|c| woken(c)).sum();
        assert_eq!(now, 0);
        tokio::task::yield_now().await;
        assert!(counts.iter().all(|c| woken(c) == 1));
        assert!(!wakers.carried.load(Ordering::SeqCst));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn waves_begun_while_the_task_carries_one_are_all_carried() {
        let wakers = Arc::new(Wakers::new());
        let places: Vec<_> = (0..2_000).map(|_| wakers.slot()).collect();
        let mut counts = Vec::new();
        for _ in 0..50 {
            let round: Vec<_> = places
                .iter()
                .map(|&slot| {
                    let (count, waker) = counter();
                    wakers.register(slot, &waker);
                    count
                })
                .collect();
            wakers.wake_all();
            counts.push(round);
        }
        // Each round's wakers were replaced by the next round's before it
        // was woken, or woken: the last round must be woken, each once.
        let last = counts.last().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while last.iter().any(|c| woken(c) == 0) {
            assert!(std::time::Instant::now() < deadline, "a wave was dropped");
            tokio::task::yield_now().await;
        }
        assert!(counts.iter().flatten().all(|c| woken(c) <= 1));
    }
}
