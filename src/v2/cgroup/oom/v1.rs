//! The v1 side of the watcher: an eventfd per cgroup, tied to its OOM notifications.

use std::os::fd::AsFd;
use std::path::Path;

use mio::Interest;
use nix::errno::Errno;
use nix::sys::eventfd::{EfdFlags, EventFd};

use super::{OomWatcher, Source};
use crate::error::{Error, Result};
use crate::event_loop::Registry;

impl<R: Copy, K: Clone> OomWatcher<R, K> {
    /// v1: an eventfd the kernel signals on an OOM of `memcg`, registered with the loop.
    pub(super) fn event_fd(
        &mut self,
        registry: &mut impl Registry<R>,
        memcg: &Path,
        counter: &Path,
    ) -> Result<Source> {
        let fd = EventFd::from_flags(EfdFlags::EFD_NONBLOCK | EfdFlags::EFD_CLOEXEC)
            .map_err(|e| Error::os("eventfd", e))?;
        match tie_to_oom_control(&fd, memcg, counter) {
            Ok(()) => {}
            Err((_, Errno::ENOENT | Errno::ENODEV)) => return Ok(Source::Nothing),
            Err((context, e)) => return Err(Error::os(context, e)),
        }
        let token = registry
            .register(fd.as_fd(), Interest::READABLE, self.route)
            .map_err(|e| Error::os("epoll_ctl eventfd", e))?;
        Ok(Source::EventFd { fd, token })
    }
}

/// Registers `fd` for OOM notifications of `memcg`: `"<eventfd> <oom_control fd>"` written in
/// one `write` to its `cgroup.event_control`. The `memory.oom_control` descriptor only names
/// the file to the kernel and is closed at once. An error comes with the call and path it is
/// about.
pub(super) fn tie_to_oom_control(
    fd: &EventFd,
    memcg: &Path,
    counter: &Path,
) -> std::result::Result<(), (String, Errno)> {
    use std::io::Write;
    use std::os::fd::AsRawFd;

    let failed = |call: &str, path: &Path| {
        let context = format!("{call} {}", path.display());
        move |e: std::io::Error| {
            let errno = Errno::from_raw(e.raw_os_error().unwrap_or(nix::libc::EIO));
            (context, errno)
        }
    };
    let oom_control = std::fs::File::open(counter).map_err(failed("open", counter))?;
    let control_path = memcg.join("cgroup.event_control");
    let mut control = std::fs::OpenOptions::new()
        .write(true)
        .open(&control_path)
        .map_err(failed("open", &control_path))?;
    let line = format!("{} {}", fd.as_raw_fd(), oom_control.as_raw_fd());
    match control.write(line.as_bytes()) {
        Ok(n) if n == line.len() => Ok(()),
        Ok(_) => Err((
            format!("write {} (short)", control_path.display()),
            Errno::EIO,
        )),
        Err(e) => Err(failed("write", &control_path)(e)),
    }
}
