//! Raising the process's limit on open files, as a daemon does, so that `--max-connections` is
//! what the simulator keeps: the library holds its cap within half that limit, and a shell's
//! default (256 on macOS) would make it 128.

/// Raises the soft limit on open files to twice `connections` (the simulator's share is half),
/// within the hard limit. Nothing changes when the limit is already that high or cannot be
/// raised; the simulator then keeps a lower cap and says so.
#[cfg(unix)]
pub(crate) fn raise_for(connections: usize) {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes only the struct it is given, which lives for the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return;
    }
    let wanted = libc::rlim_t::try_from(connections.saturating_mul(2)).unwrap_or(libc::RLIM_INFINITY);
    if limit.rlim_cur >= wanted {
        return;
    }
    let raised = libc::rlimit { rlim_cur: wanted.min(limit.rlim_max), rlim_max: limit.rlim_max };
    // SAFETY: setrlimit only reads the struct it is given. A refusal (macOS refuses more than
    // its OPEN_MAX) leaves the limit as it was, which the simulator's cap already respects.
    let _ = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) };
}

/// Windows has no such limit on sockets.
#[cfg(not(unix))]
pub(crate) fn raise_for(_connections: usize) {}
