//! The subscriptions of a log waiting for its next append: a place for
//! each one's waker, all taken and woken by each append.
//!
//! What `tokio::sync::watch` or `Notify` would do for a subscription, for
//! 16 bytes of list and a 4-byte slot number per subscription, instead of a
//! boxed wait future (160 bytes) each.

use core::task::Waker;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The wakers of a log's subscriptions, by slot.
#[derive(Debug)]
pub(crate) struct Wakers {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// A place per subscription, by [`Slot`]: `Some` while it waits.
    wakers: Vec<Option<Waker>>,
    /// Places of subscriptions that have gone, for the next ones.
    free: Vec<u32>,
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
            }),
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
    pub(crate) fn wake_all(&self) {
        let mut at = 0;
        loop {
            let mut batch: [Option<Waker>; WAKE_BATCH] = [const { None }; WAKE_BATCH];
            let mut taken = 0;
            let done = {
                let mut inner = self.lock();
                let places = inner.wakers.get_mut(at..).unwrap_or_default();
                for place in places {
                    at += 1;
                    if let Some(waker) = place.take() {
                        batch[taken] = Some(waker);
                        taken += 1;
                        if taken == WAKE_BATCH {
                            break;
                        }
                    }
                }
                at >= inner.wakers.len()
            };
            for waker in batch.into_iter().flatten() {
                waker.wake();
            }
            if done {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counter() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (Arc::clone(&count), Waker::from(count))
    }

    fn woken(count: &Count) -> usize {
        count.0.load(Ordering::SeqCst)
    }

    #[test]
    fn each_registration_is_woken_once() {
        let wakers = Wakers::new();
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

    #[test]
    fn a_new_waker_replaces_the_old_and_a_removed_one_is_not_woken() {
        let wakers = Wakers::new();
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
}
