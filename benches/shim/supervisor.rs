//! A supervisor under test: the process a container daemon leaves beside each container to run
//! it, pump its output and report its exit. The v0.2 sections measure every supervisor through
//! this one interface, so the measurement method stays in the section, the same for all of them.
//! The containerd v2 shims, which one daemon drives alike, have an interface of their own
//! ([`v2`] says why).

use std::fs::File;

use crate::chart::Palette;

mod conmon;
mod tinyshim;
pub mod v2;

pub use conmon::Conmon;
pub use tinyshim::Tinyshim;

/// The container's command while a section measures its supervisor at rest.
const SLEEPER: &str = "sleep 600";

/// One kind of supervisor, able to start containers under itself.
pub trait Supervisor {
    /// Its name in the table and the chart.
    fn name(&self) -> &str;

    /// Its colours in the chart.
    fn palette(&self) -> Palette;

    /// Whether it can run here: a supervisor that is not installed shows as `n/a`.
    fn available(&self) -> bool;

    /// Starts a container that sleeps, and returns once the container runs.
    fn start_sleeping(&self) -> Box<dyn Supervised>;

    /// Starts a container writing `bytes` (a multiple of 64 KiB) to its stdout, on a terminal if
    /// `terminal`, and returns once it runs. `None` where this supervisor gives the benchmark no
    /// reader to time the way a daemon reads the output.
    fn start_streaming(&self, bytes: u64, terminal: bool) -> Option<Box<dyn Streaming>>;
}

/// A running container and its supervisor.
pub trait Supervised {
    /// The supervisor's processes, not the container's: what the probes charge to it.
    fn pids(&self) -> Vec<i32>;

    /// Stops the container and its supervisor, and removes the container.
    fn stop(self: Box<Self>);
}

/// A container writing its output through its supervisor.
pub trait Streaming: Supervised {
    /// The daemon's end of the container's stdout.
    fn output(&mut self) -> &mut File;

    /// After the output's EOF: waits for the supervisor to see the container exit and exit too.
    fn wait_exit(self: Box<Self>);
}
