//! Descriptors a shim inherited but does not own.
//!
//! containerd opens everything close-on-exec, but a leaky parent (a wrapper script, another
//! daemon) would otherwise pass its descriptors on to the runtime and into every container, and
//! keep them open in the shim for its whole life.

/// Closes every descriptor above `last`. Call it before the process opens anything of its own:
/// nothing may own those numbers yet. (Rust's start-up code has already reopened any of 0, 1
/// and 2 that was closed on `/dev/null`, so the shim's own opens never take those numbers.)
pub fn close_above(last: u32) {
    let first = last.saturating_add(1);
    // SAFETY: close_range takes no pointers; the caller guarantees that nothing in the process
    // owns a descriptor above `last`, so no owner is left holding a closed number.
    let closed = unsafe { nix::libc::syscall(nix::libc::SYS_close_range, first, u32::MAX, 0u32) };
    if closed == 0 {
        return;
    }
    // Kernels before 5.9 have no close_range: close what /proc lists instead.
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    let inherited: Vec<i32> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&fd: &i32| u32::try_from(fd).is_ok_and(|fd| fd > last))
        .collect();
    for fd in inherited {
        // SAFETY: as above, no owner exists for these numbers; the directory handle used to list
        // them is already closed, so closing a stale number fails harmlessly with EBADF.
        unsafe {
            nix::libc::close(fd);
        }
    }
}
