//! Heap allocations per event, for every contender on every workload and
//! feeding: a count, not a timing.
//!
//! ```text
//! cargo run --profile bench -p sse-codec-benches --bin alloc-per-event
//! ```
//!
//! Each cell is one full pass, decoder construction included, divided by
//! the events dispatched; `SSE_BENCH_SCALE` scales the workloads as for the
//! benches. Calls to `alloc` and `realloc` both count; frees do not.

// A global allocator is an `unsafe impl`; nothing else here is unsafe.
#![allow(unsafe_code)]

use sse_codec_benches::{CONTENDERS, FEEDINGS, WORKLOADS};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counts allocation calls and bytes, and leaves the work to `System`.
struct Counting {
    calls: AtomicU64,
    bytes: AtomicU64,
}

impl Counting {
    fn note(&self, size: usize) {
        self.calls.fetch_add(1, Relaxed);
        self.bytes.fetch_add(size as u64, Relaxed);
    }

    fn snapshot(&self) -> (u64, u64) {
        (self.calls.load(Relaxed), self.bytes.load(Relaxed))
    }
}

// SAFETY: every method forwards its arguments unchanged to `System`, which
// upholds the `GlobalAlloc` contract; the counters are plain atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.note(layout.size());
        // SAFETY: the caller's obligations are those of `System.alloc`.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.note(layout.size());
        // SAFETY: the caller's obligations are those of `System.alloc_zeroed`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's obligations are those of `System.dealloc`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.note(new_size);
        // SAFETY: the caller's obligations are those of `System.realloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static HEAP: Counting = Counting {
    calls: AtomicU64::new(0),
    bytes: AtomicU64::new(0),
};

fn main() {
    println!(
        "Heap allocations per event (alloc + realloc calls / events; bytes allocated / event in parentheses), {}={}",
        sse_codec_benches::SCALE_VAR,
        sse_codec_benches::scale(),
    );
    println!();
    print!("| workload | feeding |");
    for c in CONTENDERS {
        print!(" {} |", c.name());
    }
    println!();
    print!("|---|---|");
    for _ in CONTENDERS {
        print!("---:|");
    }
    println!();
    for workload in WORKLOADS {
        let input = workload.generate();
        for feeding in FEEDINGS {
            print!("| {} | {} |", workload.name, feeding.name());
            for contender in CONTENDERS {
                if !contender.runs(workload, feeding) {
                    print!(" – |");
                    continue;
                }
                let (calls, bytes) = HEAP.snapshot();
                let tally = contender.run(&input.bytes, feeding);
                let (calls_after, bytes_after) = HEAP.snapshot();
                if !contender.is_baseline() {
                    assert_eq!(
                        tally.events,
                        input.events,
                        "{} {}",
                        contender.name(),
                        workload.name
                    );
                }
                let per_event = |n: u64| n as f64 / input.events as f64;
                print!(
                    " {} ({}) |",
                    fmt(per_event(calls_after - calls)),
                    fmt(per_event(bytes_after - bytes)),
                );
            }
            println!();
        }
    }
}

/// Three significant digits, without exponent noise for zero.
fn fmt(x: f64) -> String {
    if x == 0.0 {
        "0".to_owned()
    } else if x < 0.001 {
        format!("{x:.1e}")
    } else if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}
