//! The process's limit on open files, which bounds the connections the simulator keeps: a
//! connection accepted past it has no descriptor left, so it would wait in the listen queue
//! (locking every new client out) instead of being answered 503.

/// The connection cap in force: `configured`, or half the process's soft limit on open files
/// when that is lower, which leaves the other half to the process itself (its files, its
/// database connections, the simulator's webhook deliveries) and to refusing connections
/// past the cap with an answer.
pub(crate) fn connection_cap(configured: usize) -> usize {
    match soft_limit() {
        Some(limit) => configured.min(usize::try_from(limit / 2).unwrap_or(usize::MAX)).max(1),
        None => configured,
    }
}

/// The soft limit on open files, when the platform has one and it is finite.
#[cfg(unix)]
#[allow(clippy::useless_conversion, reason = "`rlim_t` is u64 on Linux and macOS, but i64 on the BSDs")]
fn soft_limit() -> Option<u64> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes only the struct it is given, which lives for the call.
    let read = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    if read != 0 || limit.rlim_cur == libc::RLIM_INFINITY {
        return None;
    }
    u64::try_from(limit.rlim_cur).ok()
}

/// Windows has no such per-process limit on sockets.
#[cfg(not(unix))]
fn soft_limit() -> Option<u64> {
    None
}
