//! conmon (the Debian package `make bench` installs), supervising the same runc container as
//! tinyshim does.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use tinyshim_testkit::container::Container;
use tinyshim_testkit::driver;
use tinyshim_testkit::host;
use tinyshim_testkit::spec::Spec;
use tinyshim_testkit::wait;

use super::{Streaming, Supervised, Supervisor, SLEEPER};
use crate::chart::{Palette, ORANGES};

/// conmon from `PATH`.
pub struct Conmon;

impl Supervisor for Conmon {
    fn name(&self) -> &str {
        "conmon"
    }

    fn palette(&self) -> Palette {
        ORANGES
    }

    fn available(&self) -> bool {
        host::which("conmon").is_some()
    }

    fn start_sleeping(&self) -> Box<dyn Supervised> {
        Box::new(Running::start(SLEEPER))
    }

    /// Not measured: conmon writes a container's output to its log file and to the clients of
    /// its attach socket, neither of which is the FIFO a daemon reads from tinyshim.
    fn start_streaming(&self, _bytes: u64, _terminal: bool) -> Option<Box<dyn Streaming>> {
        None
    }
}

/// A container under conmon, which double-forks: the monitor is not our child, so it is found
/// through its pid file and stopped through the runtime.
struct Running {
    container: Container,
    pid: i32,
    dir: PathBuf,
}

impl Running {
    fn start(script: &str) -> Running {
        let container = Container::new(Spec::sh(script).no_stdin());
        let dir = container.scratch().join("conmon");
        for sub in ["exits", "sockets"] {
            std::fs::create_dir_all(dir.join(sub)).expect("conmon dirs");
        }
        let runc = host::which("runc").expect("runc");
        let status = Command::new("conmon")
            .args([
                "-c",
                &container.id,
                "-u",
                &container.id,
                "-n",
                &container.id,
            ])
            .arg("-r")
            .arg(&runc)
            .arg("-b")
            .arg(&container.bundle)
            .arg("-p")
            .arg(dir.join("pid"))
            .arg("-P")
            .arg(dir.join("conmon.pid"))
            .arg("-l")
            .arg(format!("k8s-file:{}", dir.join("log").display()))
            .arg("--exit-dir")
            .arg(dir.join("exits"))
            .arg("--socket-dir-path")
            .arg(dir.join("sockets"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("spawn conmon");
        assert!(status.success(), "conmon failed to create the container");
        // conmon's parent returns before the runtime has created the container.
        let pid_file = dir.join("pid");
        wait::eventually(
            Duration::from_secs(30),
            "conmon's container pid file",
            || pid_file.exists(),
        );
        container.start();
        let pid = std::fs::read_to_string(dir.join("conmon.pid"))
            .ok()
            .and_then(|p| p.trim().parse().ok())
            .expect("conmon pid file");
        Running {
            container,
            pid,
            dir,
        }
    }
}

impl Supervised for Running {
    fn pids(&self) -> Vec<i32> {
        vec![self.pid]
    }

    fn stop(self: Box<Self>) {
        drop(self);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = driver::run_runtime("runc", &[], &["kill", &self.container.id, "KILL"]);
        // conmon writes the exit file once it has reaped the container.
        let exit = self.dir.join("exits").join(&self.container.id);
        wait::eventually(Duration::from_secs(20), "conmon exit file", || {
            exit.exists()
        });
        let _ = driver::run_runtime("runc", &[], &["delete", "--force", &self.container.id]);
    }
}
