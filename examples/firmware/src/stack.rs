//! How deep the stack has been: cortex-m-rt's `paint-stack` fills it with
//! [`STACK_PAINT_VALUE`] at reset, and calls scrub the paint off as they go.
//!
//! ```text
//! _stack_end                      first word scrubbed         _stack_start
//! |  painted, never reached  ...  |   used at some point  ...  |
//! low addresses                                         high addresses
//! ```
//!
//! The firmware's one `unsafe`: reading the linker's symbols and the
//! untouched words below the stack pointer.

#![allow(unsafe_code)]

use cortex_m_rt::STACK_PAINT_VALUE;

extern "C" {
    /// Lowest address of the stack (the end of static RAM), from `link.x`.
    static _stack_end: u32;
    /// Highest address of the stack, where it starts, from `link.x`.
    static _stack_start: u32;
}

/// `(deepest use so far, stack size)`, in bytes.
///
/// Counts from the bottom up to the first scrubbed word; a frame that
/// happened to store the paint value at its far end would go uncounted,
/// which a stack this shallow makes unlikely.
pub(crate) fn usage() -> (usize, usize) {
    // Only the symbols' addresses are used, never their values.
    let bottom = core::ptr::addr_of!(_stack_end) as usize;
    let top = core::ptr::addr_of!(_stack_start) as usize;
    let sp = cortex_m::register::msp::read() as usize;
    let mut addr = bottom;
    while addr < sp {
        // SAFETY: `bottom..sp` is RAM that link.x reserves for the stack and
        // below the stack pointer, so no live object or reference covers it;
        // `addr` is 4-aligned (link.x asserts `_stack_end % 4 == 0`).
        let word = unsafe { core::ptr::read_volatile(addr as *const u32) };
        if word != STACK_PAINT_VALUE {
            break;
        }
        addr += 4;
    }
    (top - addr, top - bottom)
}
