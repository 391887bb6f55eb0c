//! A coarse clock shared by the heartbeats of a runtime: one task per
//! runtime and interval counts ticks and wakes the streams whose heartbeat
//! is due.
//!
//! What a `tokio::time::Sleep` per stream would do (112 bytes of heap each,
//! and a clock read per item to know when the stream went idle), for a
//! 24-byte place per waiting stream and one relaxed load per item.

use crate::time::deadline;
use core::pin::pin;
use core::task::Waker;
use core::time::Duration;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError, Weak};
use tokio::runtime::{Handle, Id};
use tokio::time::Sleep;

/// Ticks per interval, for an interval of 4 ms or more.
const BEATS: u32 = 4;

/// The shortest tick: the resolution of Tokio's timer.
const MIN_PERIOD: Duration = Duration::from_millis(1);

/// Wakers taken out per hold of the lock by a tick, so that the streams it
/// wakes, registering again, wait for it briefly (as in `wake.rs`).
const WAKE_BATCH: usize = 32;

/// A stream's place before it first waits: none.
pub(crate) const NO_PLACE: u32 = u32::MAX;

/// An idle interval and the ticks that make it, `beats × period = idle`
/// exactly, so that a heartbeat counted in ticks is never early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Interval {
    /// The interval, rounded up to a whole number of ticks.
    pub(crate) idle: Duration,
    /// `max(idle / 4, 1 ms)`.
    pub(crate) period: Duration,
    /// `idle / period`: 1 to 4.
    pub(crate) beats: u32,
}

impl Interval {
    /// `idle` (at least 1 ms) rounded up to a whole number of ticks: to
    /// whole milliseconds under 4 ms (1 ms ticks), to a multiple of 4 ns
    /// from there (4 ticks). `None` for [`Duration::MAX`] (or within 4 ns
    /// of it, too long to round): never.
    pub(crate) fn new(idle: Duration) -> Option<Self> {
        if idle == Duration::MAX {
            return None;
        }
        let idle = idle.max(MIN_PERIOD);
        if idle < MIN_PERIOD * BEATS {
            // 1 to 4 ms, each a tick.
            let beats = idle.as_nanos().div_ceil(MIN_PERIOD.as_nanos());
            let beats = u32::try_from(beats).ok()?;
            return Some(Interval {
                idle: MIN_PERIOD * beats,
                period: MIN_PERIOD,
                beats,
            });
        }
        let mut period = idle / BEATS;
        if period * BEATS < idle {
            period += Duration::from_nanos(1);
        }
        Some(Interval {
            idle: period.checked_mul(BEATS)?,
            period,
            beats: BEATS,
        })
    }
}

/// Whether tick `now` has reached tick `due`, counting as the tick counter
/// wraps: `due` is less than 2³¹ ticks from `now` either way.
pub(crate) fn reached(now: u32, due: u32) -> bool {
    now.wrapping_sub(due) < 1 << 31
}

/// The clock of the heartbeats on one runtime with one interval: a tick
/// counter, advanced every [`Interval::period`] by a task on the runtime,
/// which wakes each stream at the tick it asked for.
///
/// Streams hold it by `Arc`; the task holds a `Weak` and ends at the first
/// tick after the last stream has gone. If the runtime shuts down, the
/// task is dropped with it: the pulse is then dead, its streams are woken
/// and each finds a live pulse ([`Pulse::current`]) where it is polled next.
#[derive(Debug)]
pub(crate) struct Pulse {
    /// Ticks since the pulse started, wrapping (at 2³² ms, 49 days, for
    /// the shortest period). Advanced by the task only.
    tick: AtomicU32,
    /// Set, under the lock, when the task has gone: the counter stops.
    dead: AtomicBool,
    interval: Interval,
    places: Mutex<Places>,
    /// Registrations (holds of the lock by streams), for tests.
    #[cfg(test)]
    pub(crate) registrations: std::sync::atomic::AtomicUsize,
}

#[derive(Debug)]
struct Places {
    /// A place per stream that has waited, by its number: `Some((waker,
    /// due tick))` while it waits.
    wakers: Vec<Option<(Waker, u32)>>,
    /// Places of streams that have gone, for the next ones.
    free: Vec<u32>,
}

impl Places {
    /// Room for one more place: an eighth more at a time (at least 16),
    /// not twice as many, so that the places take at most 27 bytes per
    /// stream (24 and the room to spare) where doubling takes up to 48.
    /// Growing copies the places about 9 times each on average, once per
    /// stream's first wait: cheap beside the stream.
    fn grow(&mut self) {
        let len = self.wakers.len();
        if len == self.wakers.capacity() {
            self.wakers.reserve_exact((len / 8).max(16));
        }
    }
}

/// What [`Pulse::register`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// The waker is woken at the due tick (or when the pulse dies).
    Registered,
    /// The due tick has come (the counter is at the tick given): nothing
    /// to wait for.
    Due(u32),
    /// The pulse is dead: nothing will wake the waker.
    Dead,
}

type Registry = HashMap<(Id, Duration), Weak<Pulse>>;

/// The live pulses by runtime and interval. Dead entries are pruned when a
/// pulse is added, so it holds about as many as are alive.
static PULSES: LazyLock<Mutex<Registry>> = LazyLock::new(Mutex::default);

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing under these locks panics halfway through an update.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Pulse {
    /// The pulse of the current runtime for `interval`, started if there
    /// is none.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime, or in one without the time driver, as
    /// [`tokio::time::sleep`] does: here, in the caller, not in the task.
    pub(crate) fn current(interval: Interval) -> Arc<Pulse> {
        let handle = Handle::current();
        let key = (handle.id(), interval.idle);
        let mut pulses = lock(&PULSES);
        if let Some(pulse) = pulses.get(&key).and_then(Weak::upgrade) {
            if !pulse.is_dead() {
                return pulse;
            }
        }
        // Panics without a time driver, before anything has changed.
        let first = tokio::time::sleep_until(deadline(interval.period));
        let pulse = Arc::new(Pulse {
            tick: AtomicU32::new(0),
            dead: AtomicBool::new(false),
            interval,
            places: Mutex::new(Places {
                wakers: Vec::new(),
                free: Vec::new(),
            }),
            #[cfg(test)]
            registrations: std::sync::atomic::AtomicUsize::new(0),
        });
        pulses.retain(|_, pulse| pulse.strong_count() > 0);
        pulses.insert(key, Arc::downgrade(&pulse));
        drop(pulses);
        let driver = Driver {
            pulse: Arc::downgrade(&pulse),
        };
        // Dropped at once if the runtime is shutting down: the pulse is then
        // dead before anyone waits on it.
        drop(handle.spawn(driver.run(first, interval.period)));
        pulse
    }

    /// The tick counter: one relaxed load.
    #[inline]
    pub(crate) fn now(&self) -> u32 {
        self.tick.load(Ordering::Relaxed)
    }

    /// The interval this pulse counts.
    pub(crate) fn interval(&self) -> Interval {
        self.interval
    }

    /// Whether the task has gone with its runtime: the counter has stopped.
    pub(crate) fn is_dead(&self) -> bool {
        self.dead.load(Ordering::Acquire)
    }

    /// Has `waker` woken at tick `due`, in the place numbered `*place`
    /// (given one first if it is [`NO_PLACE`]). The due tick is checked
    /// again under the lock, so a tick since the caller's look is not
    /// missed.
    ///
    /// # Panics
    ///
    /// With 2³² − 1 streams waiting on one pulse at once.
    pub(crate) fn register(&self, place: &mut u32, waker: &Waker, due: u32) -> Wait {
        let mut places = lock(&self.places);
        #[cfg(test)]
        self.registrations.fetch_add(1, Ordering::Relaxed);
        if self.dead.load(Ordering::Relaxed) {
            return Wait::Dead;
        }
        // Advanced before the task takes the lock to look at due ticks.
        let now = self.now();
        if reached(now, due) {
            return Wait::Due(now);
        }
        if *place == NO_PLACE {
            *place = match places.free.pop() {
                Some(free) => free,
                None => {
                    let next = u32::try_from(places.wakers.len())
                        .ok()
                        .filter(|&n| n != NO_PLACE)
                        .expect("fewer than 2^32 - 1 streams per pulse");
                    places.grow();
                    places.wakers.push(None);
                    next
                }
            };
        }
        let Some(slot) = places.wakers.get_mut(*place as usize) else {
            return Wait::Dead;
        };
        let old = match slot {
            Some((w, at)) if w.will_wake(waker) => {
                *at = due;
                None
            }
            _ => slot.replace((waker.clone(), due)),
        };
        drop(places);
        // Dropped outside the lock: it may be the last handle of its task.
        drop(old);
        Wait::Registered
    }

    /// Gives `place` back: its stream has gone.
    pub(crate) fn remove(&self, place: u32) {
        let old = {
            let mut places = lock(&self.places);
            let old = places.wakers.get_mut(place as usize).and_then(Option::take);
            places.free.push(place);
            old
        };
        drop(old);
    }

    /// Places taken, one per stream that has waited and not gone.
    #[cfg(test)]
    pub(crate) fn places(&self) -> usize {
        let places = lock(&self.places);
        places.wakers.len() - places.free.len()
    }

    /// A tick: advances the counter, then wakes the streams whose tick has
    /// come, [`WAKE_BATCH`] at a time, outside the lock.
    fn advance(&self) {
        let now = self.tick.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        self.wake(|due| reached(now, due));
    }

    /// The task has gone: stops the counter for good and wakes every stream
    /// waiting, to find another pulse.
    fn kill(&self) {
        {
            let _places = lock(&self.places);
            self.dead.store(true, Ordering::Release);
        }
        self.wake(|_| true);
    }

    /// Wakes the waiting streams whose due tick passes `is_due`.
    fn wake(&self, is_due: impl Fn(u32) -> bool) {
        let mut at = 0;
        loop {
            let mut batch: [Option<Waker>; WAKE_BATCH] = [const { None }; WAKE_BATCH];
            let more = {
                let mut places = lock(&self.places);
                let mut taken = 0;
                while taken < WAKE_BATCH {
                    let Some(slot) = places.wakers.get_mut(at) else {
                        break;
                    };
                    at += 1;
                    if matches!(slot, Some((_, due)) if is_due(*due)) {
                        batch[taken] = slot.take().map(|(waker, _)| waker);
                        taken += 1;
                    }
                }
                at < places.wakers.len()
            };
            batch.into_iter().flatten().for_each(Waker::wake);
            if !more {
                return;
            }
        }
    }
}

/// The task that drives a pulse: owns it weakly, so that the pulse goes
/// with its last stream, and kills it if dropped while it is alive.
#[derive(Debug)]
struct Driver {
    pulse: Weak<Pulse>,
}

impl Driver {
    /// Ticks every `period` from `first` until the pulse has gone.
    ///
    /// Each tick is set a `period` after the last one was handled, the way
    /// [`MissedTickBehavior::Delay`](tokio::time::MissedTickBehavior::Delay)
    /// does: ticks never come closer than `period`, so `beats` of them
    /// always span the whole interval. A late runtime makes heartbeats late,
    /// never early.
    async fn run(self, first: Sleep, period: Duration) {
        let mut sleep = pin!(first);
        loop {
            sleep.as_mut().await;
            sleep.as_mut().reset(deadline(period));
            let Some(pulse) = self.pulse.upgrade() else {
                return;
            };
            pulse.advance();
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Alive here only if the runtime dropped the task.
        if let Some(pulse) = self.pulse.upgrade() {
            pulse.kill();
        }
    }
}

/// Live pulses of runtime `id`.
#[cfg(test)]
pub(crate) fn alive(id: Id) -> usize {
    lock(&PULSES)
        .iter()
        .filter(|((rt, _), pulse)| *rt == id && pulse.strong_count() > 0)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::wake::counting::{counter, woken};

    #[test]
    fn intervals_are_whole_ticks() {
        let ms = Duration::from_millis;
        let iv = |idle| Interval::new(idle).map(|i| (i.idle, i.period, i.beats));
        assert_eq!(
            iv(Duration::from_secs(15)),
            Some((ms(15_000), ms(3_750), 4))
        );
        assert_eq!(iv(ms(100)), Some((ms(100), ms(25), 4)));
        assert_eq!(iv(Duration::ZERO), Some((ms(1), ms(1), 1)));
        assert_eq!(iv(Duration::from_micros(2_500)), Some((ms(3), ms(1), 3)));
        assert_eq!(iv(Duration::from_micros(3_500)), Some((ms(4), ms(1), 4)));
        let odd = ms(100) + Duration::from_nanos(1);
        let rounded = ms(100) + Duration::from_nanos(4);
        assert_eq!(iv(odd), Some((rounded, rounded / 4, 4)));
        assert_eq!(iv(Duration::MAX), None);
        assert!(iv(Duration::MAX / 2).is_some());
        // Too long to count in whole ticks: never.
        assert_eq!(iv(Duration::MAX - Duration::from_nanos(1)), None);
    }

    #[test]
    fn due_ticks_are_reached_across_the_wrap() {
        assert!(reached(5, 5) && reached(6, 5) && !reached(4, 5));
        assert!(reached(2, u32::MAX - 1) && !reached(u32::MAX - 1, 2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_tick_wakes_whom_it_is_due_for_once() {
        let interval = Interval::new(Duration::from_millis(100)).unwrap();
        let pulse = Pulse::current(interval);
        assert_eq!(pulse.now(), 0);
        // More than a batch of them, due at ticks 1 and 2.
        let waiting: Vec<_> = (0..100u32)
            .map(|i| {
                let (count, waker) = counter();
                let mut place = NO_PLACE;
                let due = 1 + i % 2;
                assert_eq!(pulse.register(&mut place, &waker, due), Wait::Registered);
                // Again: the same place.
                let before = place;
                assert_eq!(pulse.register(&mut place, &waker, due), Wait::Registered);
                assert_eq!(place, before);
                (count, place, due)
            })
            .collect();
        assert_eq!(pulse.places(), 100);
        // Just after the tick, which the task may take after this one.
        let after = Duration::from_millis(1);
        tokio::time::sleep(interval.period + after).await;
        assert_eq!(pulse.now(), 1);
        assert!(waiting
            .iter()
            .all(|(c, _, due)| woken(c) == (*due == 1).into()));
        tokio::time::sleep(interval.period * 3).await;
        assert_eq!(pulse.now(), 4);
        assert!(waiting.iter().all(|(c, _, _)| woken(c) == 1));
        // A due tick that has come is not waited for.
        let (_, waker) = counter();
        let mut place = NO_PLACE;
        assert_eq!(pulse.register(&mut place, &waker, 4), Wait::Due(4));
        assert_eq!(place, NO_PLACE, "no place taken");
        for (_, place, _) in &waiting {
            pulse.remove(*place);
        }
        assert_eq!(pulse.places(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn one_pulse_per_interval_and_its_task_ends_with_the_last_stream() {
        let id = Handle::current().id();
        let tasks = || Handle::current().metrics().num_alive_tasks();
        let interval = Interval::new(Duration::from_secs(1)).unwrap();
        let pulses: Vec<_> = (0..1000).map(|_| Pulse::current(interval)).collect();
        assert!(pulses.iter().all(|p| Arc::ptr_eq(p, &pulses[0])));
        assert_eq!((alive(id), tasks()), (1, 1));
        let other = Pulse::current(Interval::new(Duration::from_secs(2)).unwrap());
        assert_eq!((alive(id), tasks()), (2, 2));
        let weak = Arc::downgrade(&pulses[0]);
        drop(pulses);
        assert!(weak.upgrade().is_none(), "no one else holds it");
        // The task goes at its next tick.
        tokio::time::sleep(interval.period).await;
        tokio::task::yield_now().await;
        assert_eq!((alive(id), tasks()), (1, 1));
        drop(other);
        tokio::time::sleep(Duration::from_secs(1)).await;
        tokio::task::yield_now().await;
        assert_eq!((alive(id), tasks()), (0, 0));
    }

    #[test]
    fn a_runtime_without_timers_panics_in_the_caller() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let interval = Interval::new(Duration::from_secs(1)).unwrap();
        let made =
            rt.block_on(async { std::panic::catch_unwind(|| Pulse::current(interval)).map(drop) });
        assert!(made.is_err());
        assert_eq!(rt.metrics().num_alive_tasks(), 0, "no task was spawned");
        assert!(std::panic::catch_unwind(|| Pulse::current(interval)).is_err());
    }

    #[test]
    fn a_pulse_dies_with_its_runtime_and_wakes_its_streams() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let interval = Interval::new(Duration::from_secs(1)).unwrap();
        let pulse = rt.block_on(async { Pulse::current(interval) });
        let (count, waker) = counter();
        let mut place = NO_PLACE;
        assert_eq!(pulse.register(&mut place, &waker, 4), Wait::Registered);
        assert!(!pulse.is_dead());
        drop(rt);
        assert!(pulse.is_dead());
        assert_eq!(woken(&count), 1);
        assert_eq!(pulse.register(&mut place, &waker, 4), Wait::Dead);
    }
}
