//! Terminal sizes.

use std::os::fd::{AsRawFd, BorrowedFd};

nix::ioctl_write_ptr_bad!(
    /// `ioctl(fd, TIOCSWINSZ, &winsize)`, which nix does not wrap.
    set_window_size,
    nix::libc::TIOCSWINSZ,
    nix::libc::winsize
);

/// Sets the terminal size: `width` columns, `height` rows. The kernel sends SIGWINCH to the
/// terminal's foreground process group.
pub fn resize(master: BorrowedFd<'_>, width: u16, height: u16) -> nix::Result<()> {
    let size = nix::libc::winsize {
        ws_row: height,
        ws_col: width,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one `winsize` through the pointer, which points to a live local
    // of exactly that type; the descriptor is borrowed, so it is open for the whole call.
    unsafe { set_window_size(master.as_raw_fd(), &size) }.map(drop)
}
