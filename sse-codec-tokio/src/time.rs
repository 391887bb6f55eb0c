//! Deadlines that never overflow.

use core::time::Duration;
use tokio::time::Instant;

/// `after` from now; [`Duration::MAX`] (or anything that would overflow
/// `Instant`) is thirty years away: never, for a timer.
pub(crate) fn deadline(after: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(after)
        .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365 * 30))
}
