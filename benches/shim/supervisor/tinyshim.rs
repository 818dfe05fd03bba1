//! tinyshim's v0.2 `containerd-shim`, driven the way containerd v0.2 drives it (the test kit's
//! `container`: process directory, FIFOs, `process.json`, then `runc start`).

use std::fs::File;
use std::time::Duration;

use tinyshim_testkit::container::Container;
use tinyshim_testkit::process::Proc;
use tinyshim_testkit::pump_path::PumpPath;
use tinyshim_testkit::spec::Spec;

use super::{Streaming, Supervised, Supervisor, SLEEPER};
use crate::chart::{Palette, BLUES};
use crate::stream;

/// The shim `TINYSHIM_SHIM` names (or the one cargo built), on one pump path.
pub struct Tinyshim {
    path: PumpPath,
}

impl Tinyshim {
    /// The shim moving output on `path`.
    pub fn on(path: PumpPath) -> Tinyshim {
        Tinyshim { path }
    }

    fn run(&self, spec: Spec) -> Running {
        let container = Container::new(spec.on(self.path));
        let (init, _) = container.run();
        Running { init, container }
    }
}

impl Supervisor for Tinyshim {
    fn name(&self) -> &str {
        "tinyshim"
    }

    fn palette(&self) -> Palette {
        BLUES
    }

    fn available(&self) -> bool {
        true
    }

    fn start_sleeping(&self) -> Box<dyn Supervised> {
        Box::new(self.run(Spec::sh(SLEEPER).no_stdin()))
    }

    fn start_streaming(&self, bytes: u64, terminal: bool) -> Option<Box<dyn Streaming>> {
        let mut spec = Spec::sh(&stream::writer_script(bytes)).no_stdin();
        if terminal {
            spec = spec.tty();
        }
        Some(Box::new(self.run(spec)))
    }
}

/// A container under its shim.
struct Running {
    init: Proc,
    container: Container,
}

impl Supervised for Running {
    fn pids(&self) -> Vec<i32> {
        vec![self.init.shim_pid()]
    }

    fn stop(self: Box<Self>) {
        let Running { init, container } = *self;
        // Killing the shim first leaves the container to `runc delete --force`, whatever state
        // the shim was in.
        drop(init);
        drop(container);
    }
}

impl Streaming for Running {
    fn output(&mut self) -> &mut File {
        self.init.dir.stdout.as_mut().expect("stdout reader")
    }

    fn wait_exit(mut self: Box<Self>) {
        // After EOF the shim still runs `runc delete` before it exits.
        self.init.wait_shim(Duration::from_secs(60));
    }
}
