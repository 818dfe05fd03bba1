//! The containerd runtime v2 shims under test: tinyshim's `containerd-shim-tinyshim-v2`, the Go
//! `containerd-shim-runc-v2` of the Debian package and the Rust runc shim of
//! containerd/rust-extensions, all run by one private containerd 1.6.
//!
//! The v0.2 [`super::Supervisor`] trait does not fit them: it hands each supervisor the whole
//! job of starting a container and giving the benchmark the daemon's end of its output, because
//! tinyshim's v0.2 shim and conmon are driven by different programs. Under containerd the
//! daemon and `ctr` do all the driving, the same for every shim, and the v2 figures need what
//! that trait has no words for: an exec into a running container, containers grouped into one
//! shim, the time ctr takes. So what differs between the three is only which binary
//! `ctr run --runtime` selects ([`V2Shim`]), and [`Daemon`] is the one driver they share: the
//! same ctr command lines for all three, by construction.

use crate::chart::Palette;

mod daemon;
mod go_runc;
mod rust_runc;
mod timed;
mod tinyshim;

pub use daemon::{Daemon, Task, Transfer};
pub use go_runc::GoRunc;
pub use rust_runc::RustRunc;
pub use timed::{read_output, script, transfer_timeout, Stdin};
pub use tinyshim::TinyshimV2;

/// A containerd runtime v2 shim that containerd can start for a container.
pub trait V2Shim {
    /// Its short name in the chart and the messages.
    fn name(&self) -> &str;

    /// Its column heading in the table.
    fn heading(&self) -> &str;

    /// Its colours in the chart.
    fn palette(&self) -> Palette;

    /// What `ctr run --runtime` selects it with, or why it cannot run here (its column then
    /// says so).
    fn runtime(&self) -> Result<String, String>;
}

/// The shim the targets are set for: the first column.
pub const UNDER_TEST: usize = 0;
/// The shim every ratio is taken to: the second column.
pub const REFERENCE: usize = 1;

/// The three shims in the order of the table's columns: [`UNDER_TEST`], [`REFERENCE`], then
/// the Rust shim.
pub fn all() -> [Box<dyn V2Shim>; 3] {
    [Box::new(TinyshimV2), Box::new(GoRunc), Box::new(RustRunc)]
}
