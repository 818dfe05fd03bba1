//! A container's stdout into its CRI log: in each shim's pod, a container running
//! `sh -c 'yes <63 characters> | head -c 134217728'`, 128 MiB of 64-byte lines, which the shim
//! pipes to containerd and containerd's CRI log writer writes to the container's log file, one
//! line per entry (`<time> stdout F <line>`).
//!
//! Timed from just before StartContainer to the first moment both the container has exited
//! (ContainerStatus EXITED, which CRI reports once it deleted the task) and its log holds all
//! 2 097 152 lines, which the benchmark counts as the file grows. The shim's CPU over the same
//! window is that of all the pod shim's threads ([`ThreadCpu`], nanoseconds; its children,
//! runc and the container, are not in it), taken [`AFTER_DONE`] later; per GiB of output.
//! Beside it, the shim's context switches per MiB over the same window: how often it woke up,
//! which is what its CPU on this path mostly pays for. Every line is checked afterwards,
//! outside the window.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tinyshim_testkit::cri::api::ContainerState;
use tinyshim_testkit::cri::{self, Cri};
use tinyshim_testkit::driver;

use super::daemon::PodShim;
use super::{attempt, Bench};
use crate::probes::{self, ThreadCpu};
use crate::sections::v2::figures::{Rows, Series, Target};

/// What the container writes.
const BYTES: u64 = 128 << 20;
/// Each line of it but its newline: 63 characters, 64 bytes a line.
const LINE: &str = "tinyshim-bench-cri-log-path-0123456789-abcdefghijklmnopqrstuvwx";
const _: () = assert!(LINE.len() == 63);
const LINES: u64 = BYTES / (LINE.len() as u64 + 1);
/// The container's name in its pod, and its log file's in the pod's log directory.
const NAME: &str = "yes";
/// How often the log and the container's state are looked at.
const POLL: Duration = Duration::from_millis(10);
/// How often the container's state is asked while the log is still short of lines.
const STATE_POLL: Duration = Duration::from_millis(250);
/// How long a log may stay short of lines, unchanged, once the container has exited: it then
/// lost them.
const QUIET: Duration = Duration::from_secs(3);
/// The most a transfer may take.
const TIMEOUT: Duration = Duration::from_secs(180);
/// From the end of the window to the shim's CPU sample.
const AFTER_DONE: Duration = Duration::from_millis(20);
const GIB: f64 = (1u64 << 30) as f64;

/// The log path's figures.
pub struct LogPath {
    cpu_per_gib: Series,
    seconds: Series,
    switches_per_mib: Series,
}

/// One transfer.
struct Transfer {
    cpu: Duration,
    wall: Duration,
    /// The shim's context switches, voluntary or not, over its threads.
    switches: u64,
}

impl LogPath {
    /// No figures yet.
    pub fn new(shims: usize, runs: usize) -> LogPath {
        LogPath {
            cpu_per_gib: Series::new(shims, runs),
            seconds: Series::new(shims, runs),
            switches_per_mib: Series::new(shims, runs),
        }
    }

    /// One transfer in each of `pods`, the shims taking turns.
    pub fn measure(&mut self, bench: &Bench<'_>, run: usize, pods: &[PodShim]) {
        for shim in bench.order(run) {
            let Some(pod) = pods.iter().find(|pod| pod.shim == shim) else {
                continue;
            };
            let (cpu, seconds, switches) = match transfer(bench.daemon.cri(), pod) {
                Ok(done) => (
                    done.cpu.as_secs_f64() / (BYTES as f64 / GIB),
                    done.wall.as_secs_f64(),
                    done.switches as f64 / (BYTES >> 20) as f64,
                ),
                Err(error) => {
                    bench.failed(shim, "the CRI log transfer", &error);
                    (f64::NAN, f64::NAN, f64::NAN)
                }
            };
            self.cpu_per_gib.add(shim, run, cpu);
            self.seconds.add(shim, run, seconds);
            self.switches_per_mib.add(shim, run, switches);
        }
    }

    /// The table's rows.
    pub fn rows(&self, rows: &mut Rows<'_>) {
        let what = format!(
            "{} MiB of {}-byte lines (yes into head -c) into the CRI log",
            BYTES >> 20,
            LINE.len() + 1
        );
        rows.figure(
            format!("CRI log: shim CPU s per GiB, {what}"),
            &self.cpu_per_gib,
            3,
            Target::AtMost(0.3),
        );
        rows.figure(
            format!("CRI log: s from StartContainer to exited with all of it logged, {what}"),
            &self.seconds,
            2,
            Target::None,
        );
        rows.figure(
            "CRI log: shim context switches per MiB (its wake-ups), the same transfer".into(),
            &self.switches_per_mib,
            0,
            Target::None,
        );
    }
}

/// The writing container in `pod`, timed as the module says; its log is removed afterwards.
fn transfer(cri: &Cri, pod: &PodShim) -> Result<Transfer, String> {
    let script = format!("yes {LINE} | head -c {BYTES}");
    let config = cri::container_config(NAME, &["sh", "-c", &script]);
    let log = pod.pod.log_directory().join(format!("{NAME}.log"));
    let done = attempt(|| {
        let id = cri.create_container(&pod.pod, config);
        let switches = probes::switches_by_thread(&[pod.pid]);
        let before = ThreadCpu::now(&[pod.pid])?;
        let started = Instant::now();
        cri.start_container(&id);
        let wall = wait_until_logged(cri, &id, &log, started)?;
        driver::pause(AFTER_DONE);
        let cpu = before.since()?;
        let switches = probes::switches_since(&switches, &[pod.pid]);
        let status = cri.container_status(&id);
        if status.exit_code != 0 {
            return Err(format!("the container exited {}", status.exit_code));
        }
        Ok(Transfer {
            cpu,
            wall,
            switches,
        })
    });
    let checked = done.and_then(|done| check_log(&log).map(|()| done));
    let _ = std::fs::remove_file(&log);
    checked
}

/// Waits until container `id` has exited and `log` holds [`LINES`] lines; the time from
/// `started` when both first held.
fn wait_until_logged(
    cri: &Cri,
    id: &str,
    log: &Path,
    started: Instant,
) -> Result<Duration, String> {
    let mut counter = LineCounter::new(log.to_path_buf());
    let exited = || cri.container_status(id).state == ContainerState::ContainerExited as i32;
    let (mut has_exited, mut asked) = (false, started);
    let mut grown = Instant::now();
    loop {
        if counter.read_on()? {
            grown = Instant::now();
        }
        let complete = counter.lines >= LINES;
        if !has_exited && (complete || asked.elapsed() >= STATE_POLL) {
            has_exited = exited();
            asked = Instant::now();
        }
        if has_exited && complete {
            return Ok(started.elapsed());
        }
        if has_exited && grown.elapsed() > QUIET {
            return Err(format!(
                "the container exited and its log stopped at {} of {LINES} lines",
                counter.lines
            ));
        }
        if started.elapsed() > TIMEOUT {
            return Err(format!(
                "{} of {LINES} lines logged after {TIMEOUT:?} (exited: {has_exited})",
                counter.lines
            ));
        }
        driver::pause(POLL);
    }
}

/// Counts the lines of a file that is being written, reading only what was added since.
struct LineCounter {
    path: PathBuf,
    file: Option<File>,
    buffer: Vec<u8>,
    lines: u64,
}

impl LineCounter {
    fn new(path: PathBuf) -> LineCounter {
        LineCounter {
            path,
            file: None,
            buffer: vec![0; 1 << 20],
            lines: 0,
        }
    }

    /// Reads to the file's current end; whether anything was added. No file yet is nothing.
    fn read_on(&mut self) -> Result<bool, String> {
        if self.file.is_none() {
            match File::open(&self.path) {
                Ok(file) => self.file = Some(file),
                Err(_) => return Ok(false),
            }
        }
        let Some(file) = self.file.as_mut() else {
            return Ok(false);
        };
        let mut grew = false;
        loop {
            let read = file
                .read(&mut self.buffer)
                .map_err(|e| format!("read {}: {e}", self.path.display()))?;
            if read == 0 {
                return Ok(grew);
            }
            grew = true;
            self.lines += self.buffer[..read].iter().filter(|&&b| b == b'\n').count() as u64;
        }
    }
}

/// Fails unless every entry of `log` is a full stdout line of [`LINE`], and there are
/// [`LINES`] of them.
fn check_log(log: &Path) -> Result<(), String> {
    let file = File::open(log).map_err(|e| format!("open {}: {e}", log.display()))?;
    let mut count = 0u64;
    for line in BufReader::with_capacity(1 << 20, file).lines() {
        let line = line.map_err(|e| format!("read {}: {e}", log.display()))?;
        let mut fields = line.splitn(4, ' ');
        let (_time, stream, tag, text) =
            (fields.next(), fields.next(), fields.next(), fields.next());
        if (stream, tag, text) != (Some("stdout"), Some("F"), Some(LINE)) {
            return Err(format!("entry {} of the log is {line:?}", count + 1));
        }
        count += 1;
    }
    if count != LINES {
        return Err(format!("the log holds {count} of {LINES} lines"));
    }
    Ok(())
}
