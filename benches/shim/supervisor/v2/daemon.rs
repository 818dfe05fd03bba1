//! One private containerd 1.6 for the whole v2 section and the ctr commands it runs, the same
//! command lines for every shim: only `--runtime` differs.
//!
//! * The daemon logs at `info`, containerd's default: at `debug` it would pass `-debug` to
//!   every shim, which then logs each call.
//! * ctr's own command lines come from the test kit ([`Ctr`]'s run and exec builders: the shared
//!   busybox rootfs, `--read-only`, `--env PATH=/bin`, a tmpfs on `/tmp`, FIFOs in the daemon's
//!   scratch directory), run here without the kit's reader threads so that only ctr is timed.
//! * A shim's CPU is its own `utime + stime` from `/proc/<pid>/stat`: every thread of it, none
//!   of its children (runc and the container are children, and their times only ever reach
//!   the shim's `cutime`/`cstime`, which are not read).

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use tinyshim_testkit::containerd::options::Options;
use tinyshim_testkit::containerd::Containerd;
use tinyshim_testkit::ctr::{Ctr, Mode};
use tinyshim_testkit::driver;
use tinyshim_testkit::footprint;

use super::timed::{self, Stdin, Timed};
use crate::probes;
use crate::stream;

/// The annotation the runc shims (and tinyshim) group containers into one shim by.
const GROUP_ANNOTATION: &str = "io.containerd.runc.v2.group";
/// What a sleeping container runs.
const SLEEPER: [&str; 2] = ["sleep", "600"];
/// How long a ctr command that takes milliseconds may take before it counts as a hang.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// How often a transfer through `ctr run` looks for the shim ctr is starting.
const SHIM_POLL: Duration = Duration::from_millis(2);
/// The terminal the tail-loss runs give ctr.
const ROWS: u16 = 24;
const COLS: u16 = 80;

/// The private containerd every v2 figure is taken under. Threads may share it to start or
/// remove many containers at once.
pub struct Daemon {
    containerd: Containerd,
    next_id: AtomicU64,
}

/// A sleeping container, through its shim.
pub struct Task<'d> {
    daemon: &'d Daemon,
    runtime: String,
    id: String,
    shim: i32,
}

/// One transfer of a container's stdout to the benchmark's reader.
#[derive(Debug, Clone, Copy)]
pub struct Transfer {
    /// What arrived.
    pub bytes: u64,
    /// From the first byte to the last.
    pub elapsed: Duration,
    /// The shim's own CPU from ctr's spawn to the last byte.
    pub cpu_seconds: f64,
}

impl Transfer {
    /// MiB/s from the first byte to the last.
    pub fn mib_per_s(&self) -> f64 {
        self.bytes as f64 / (1u64 << 20) as f64 / self.elapsed.as_secs_f64()
    }

    /// The shim's CPU seconds per GiB moved.
    pub fn cpu_per_gib(&self) -> f64 {
        self.cpu_seconds / (self.bytes as f64 / (1u64 << 30) as f64)
    }
}

fn mode(terminal: bool) -> Mode {
    if terminal {
        Mode::Terminal
    } else {
        Mode::Attached
    }
}

/// ctr on a terminal: under `script` (the terminal), else ctr alone.
fn command(line: &[String], terminal: bool) -> Result<std::process::Command, String> {
    if terminal {
        Ok(timed::script(line))
    } else {
        timed::plain(line)
    }
}

fn stdin_for(terminal: bool) -> Stdin {
    if terminal {
        Stdin::Held
    } else {
        Stdin::Null
    }
}

impl Daemon {
    /// Starts the daemon, failing the benchmark with its log if it does not answer.
    pub fn start() -> Daemon {
        let options = Options {
            log_level: "info".into(),
            ..Options::go_shim()
        };
        Daemon {
            containerd: Containerd::start(options),
            next_id: AtomicU64::new(0),
        }
    }

    /// Stops the daemon after deleting whatever tasks remain; returns what went wrong.
    pub fn shut_down(self) -> Vec<String> {
        self.containerd.shut_down()
    }

    fn ctr(&self, runtime: &str) -> Ctr {
        self.containerd
            .ctr()
            .with_runtime(runtime)
            .with_timeout(COMMAND_TIMEOUT)
    }

    /// A container or exec id not used before in this daemon.
    fn unique(&self, what: &str) -> String {
        format!("{what}-{}", self.next_id.fetch_add(1, Ordering::SeqCst))
    }

    /// `ctr run -d` of a sleeping container through `runtime`, in the shim of `group` if given
    /// (the grouping annotation), else in a shim of its own. Returns it with the time ctr took,
    /// from spawn to exit: ctr returns once containerd's Start returned, when the task is
    /// RUNNING (checked afterwards, untimed).
    pub fn start_sleeping(
        &self,
        runtime: &str,
        group: Option<&str>,
    ) -> Result<(Task<'_>, Duration), String> {
        let id = self.unique("sleeper");
        let ctr = self.ctr(runtime);
        let mut launch = ctr.run(&id, &SLEEPER);
        if let Some(group) = group {
            launch = launch
                .flag("--annotation")
                .flag(&format!("{GROUP_ANNOTATION}={group}"));
        }
        let line = launch.command_line(Mode::Detached);
        let elapsed = Timed::spawn(timed::plain(&line)?, Stdin::Null, false)?
            .wait(Instant::now() + COMMAND_TIMEOUT)?;
        let mut task = Task {
            daemon: self,
            runtime: runtime.to_string(),
            id,
            shim: 0,
        };
        match self.running_shim(&ctr, &task.id) {
            Ok(shim) => {
                task.shim = shim;
                Ok((task, elapsed))
            }
            Err(error) => {
                let _ = task.remove();
                Err(error)
            }
        }
    }

    /// The shim serving task `id`, once ctr lists the task as RUNNING.
    fn running_shim(&self, ctr: &Ctr, id: &str) -> Result<i32, String> {
        let task = ctr.try_tasks()?.into_iter().find(|task| task.id == id);
        match task {
            Some(task) if task.status == "RUNNING" => {}
            other => {
                return Err(format!(
                    "task {id} is not RUNNING after ctr run -d: {other:?}"
                ))
            }
        }
        self.containerd
            .find_shim_pid(id)
            .ok_or_else(|| format!("no shim listens on task {id}'s socket"))
    }

    /// The socket of the shim serving `task`, from its bundle's `address` file: every one of
    /// the three shims writes it there, as containerd 1.6 reads it back on a restart.
    pub fn task_socket(&self, task: &Task<'_>) -> Result<PathBuf, String> {
        let bundle = self.containerd.bundle(&task.id);
        footprint::read_address(&bundle)
            .ok_or_else(|| format!("no address file in {}", bundle.display()))
    }

    /// `ctr task exec` of `true` in `task`, timed from spawn to ctr's exit.
    pub fn exec_true(&self, task: &Task<'_>) -> Result<Duration, String> {
        let exec_id = self.unique("true");
        let line = self
            .ctr(&task.runtime)
            .exec(&task.id, &exec_id, &["true"])
            .command_line(Mode::Attached);
        Timed::spawn(timed::plain(&line)?, Stdin::Null, false)?
            .wait(Instant::now() + COMMAND_TIMEOUT)
    }

    /// `bytes` of stdout from a new container through `runtime`, by `ctr run` (`-t` under
    /// `script` if `terminal`), read from ctr's (or script's) stdout. The shim does not exist
    /// when ctr is spawned, so its CPU is all it used until the last byte, start-up included; a
    /// thread finds it while ctr starts it, and it is sampled at the last byte, while it still
    /// runs.
    pub fn transfer_run(
        &self,
        runtime: &str,
        terminal: bool,
        bytes: u64,
    ) -> Result<Transfer, String> {
        let id = self.unique("writer");
        let writer = stream::writer_script(bytes);
        let line = self
            .ctr(runtime)
            .run(&id, &["sh", "-c", &writer])
            .rm()
            .command_line(mode(terminal));
        let deadline = Instant::now() + timed::transfer_timeout(bytes);
        let containerd = &self.containerd;
        let stop = AtomicBool::new(false);
        thread::scope(|scope| {
            let finder = Cell::new(Some(scope.spawn(|| loop {
                if let Some(pid) = containerd.find_shim_pid(&id) {
                    return Some(pid);
                }
                if stop.load(Ordering::SeqCst) || Instant::now() > deadline {
                    return None;
                }
                driver::pause(SHIM_POLL);
            })));
            let cpu = Cell::new(None);
            let sample = || {
                // The shim started long before the container wrote: the finder has it, or is
                // in its last look.
                stop.store(true, Ordering::SeqCst);
                let shim = finder.take().and_then(|f| f.join().ok()).flatten();
                cpu.set(Some(
                    shim.map_or(f64::NAN, |pid| probes::cpu_seconds(&[pid])),
                ));
            };
            let received = timed::read_output(
                command(&line, terminal)?,
                stdin_for(terminal),
                bytes,
                deadline,
                &sample,
            );
            // Short of bytes: the shim is sampled now, if it still runs.
            if cpu.get().is_none() {
                sample();
            }
            let received = received?;
            Ok(Transfer {
                bytes: received.bytes,
                elapsed: received.first_to_last,
                cpu_seconds: cpu.get().unwrap_or(f64::NAN),
            })
        })
    }

    /// `bytes` of stdout from an exec in `task` (`ctr task exec`, `-t` under `script` if
    /// `terminal`); the shim's CPU from ctr's spawn to the last byte.
    pub fn transfer_exec(
        &self,
        task: &Task<'_>,
        terminal: bool,
        bytes: u64,
    ) -> Result<Transfer, String> {
        let exec_id = self.unique("writer");
        let writer = stream::writer_script(bytes);
        let line = self
            .ctr(&task.runtime)
            .exec(&task.id, &exec_id, &["sh", "-c", &writer])
            .command_line(mode(terminal));
        let before = probes::cpu_seconds(&[task.shim]);
        let mut after = f64::NAN;
        let received = timed::read_output(
            command(&line, terminal)?,
            stdin_for(terminal),
            bytes,
            Instant::now() + timed::transfer_timeout(bytes),
            || after = probes::cpu_seconds(&[task.shim]),
        )?;
        if after.is_nan() {
            after = probes::cpu_seconds(&[task.shim]);
        }
        Ok(Transfer {
            bytes: received.bytes,
            elapsed: received.first_to_last,
            cpu_seconds: after - before,
        })
    }

    /// `ctr run -t` of a container printing `bytes` through `runtime`, on a terminal the
    /// benchmark owns and reads to its end (the test kit's [`tinyshim_testkit::pty`]): the
    /// bytes that reached it.
    pub fn tail_run(&self, runtime: &str, bytes: u64) -> Result<u64, String> {
        let id = self.unique("tail");
        let writer = stream::writer_script(bytes);
        let ctr = self.ctr(runtime);
        let terminal = ctr
            .run(&id, &["sh", "-c", &writer])
            .rm()
            .terminal(ROWS, COLS);
        // The kit fails a test that hangs; here a hang is one run's figure.
        let finished = panic::catch_unwind(AssertUnwindSafe(|| terminal.finish(COMMAND_TIMEOUT)))
            .map_err(|_| {
            format!("ctr run -t {id} did not finish within {COMMAND_TIMEOUT:?}")
        })?;
        if !finished.status.success() {
            // ctr's own message, if any, comes after the container's output.
            let start = finished.output.len().saturating_sub(500);
            return Err(format!(
                "ctr run -t {id}: {}: {}",
                finished.status,
                String::from_utf8_lossy(&finished.output[start..]).trim_matches('\0')
            ));
        }
        Ok(finished.output.len() as u64)
    }
}

impl Task<'_> {
    /// Its container (and task) id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The pid of the shim serving it.
    pub fn shim(&self) -> i32 {
        self.shim
    }

    /// Kills and deletes the task, then the container.
    pub fn remove(self) -> Result<(), String> {
        let ctr = self.daemon.ctr(&self.runtime);
        let task: &[&str] = &["tasks", "delete", "--force", &self.id];
        let container: &[&str] = &["containers", "delete", &self.id];
        for args in [task, container] {
            let output = ctr.try_output(args)?;
            if !output.success() {
                return Err(output.to_string());
            }
        }
        Ok(())
    }
}
