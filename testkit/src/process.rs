//! One process supervised by a v0.2 shim, seen from the daemon's side: the process directory
//! with the daemon's ends of its FIFOs, the shim, its normal end or documented refusal, and what
//! it wrote to `shim-log.json`.

use std::fs::File;
use std::io::Write;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};
use serde_json::Value;

use crate::driver::{self, ProcessDir};
use crate::fifo_reads::{queued_bytes, read_to_eof_both};
use crate::pump_path;
use crate::wait::{eventually, LONG};

/// One shim-supervised process: its directory (the daemon's descriptors) and the shim.
#[derive(Debug)]
pub struct Proc {
    /// The process directory and the daemon's ends.
    pub dir: ProcessDir,
    /// The shim.
    pub shim: Child,
}

/// What a process left once its shim finished normally.
#[derive(Debug)]
pub struct Finished {
    /// Everything read from the stdout FIFO until EOF (empty if the test took the reader).
    pub stdout: Vec<u8>,
    /// The same for stderr.
    pub stderr: Vec<u8>,
    /// `exitStatus` as written (decimal, no newline), read once the exit FIFO hung up; empty
    /// when there is none.
    pub exit_status: Vec<u8>,
}

impl Proc {
    /// The shim's pid.
    pub fn shim_pid(&self) -> i32 {
        self.shim.id() as i32
    }

    /// Waits for the pid file, panicking with the shim's error if it never comes.
    pub fn wait_pid(&mut self) -> i32 {
        match self.dir.wait_for_pid(&mut self.shim, LONG) {
            Ok(pid) => pid,
            Err(e) => panic!("the shim did not start the process: {e}"),
        }
    }

    /// Waits for the shim to exit, killing it and failing the test after `timeout`. The shim's
    /// I/O counters are taken for [`pump_path`] while it is a zombie, before it is reaped.
    pub fn wait_shim(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        let pid = nix::unistd::Pid::from_raw(self.shim_pid());
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
        loop {
            match waitid(Id::Pid(pid), flags) {
                Ok(WaitStatus::StillAlive) => {}
                Ok(_) => {
                    pump_path::observe(self.shim_pid(), &self.dir.dir);
                    return self.shim.wait().expect("reap the shim");
                }
                // A `try_wait` reaped it already, and std kept its status.
                Err(_) => return self.shim.wait().expect("the shim's status"),
            }
            if Instant::now() > deadline {
                let _ = self.shim.kill();
                let _ = self.shim.wait();
                panic!("the shim did not exit within {timeout:?}");
            }
            driver::pause(Duration::from_millis(10));
        }
    }

    /// The daemon's writer on the stdin FIFO (the shim must hold its reader already).
    pub fn open_stdin(&self) -> File {
        let path = self.dir.stdin_path.as_ref().expect("a stdin FIFO");
        driver::open_fifo_writer(path).expect("open the stdin FIFO for writing")
    }

    /// Writes `bytes` to the stdin FIFO through a writer of its own, closed afterwards (the
    /// daemon's writer for one `docker attach` input).
    pub fn type_in(&self, bytes: &[u8]) {
        self.open_stdin().write_all(bytes).expect("write stdin");
    }

    /// The normal end: reads what is left of stdout and stderr to EOF (both at once, so that
    /// neither can block the other), waits for the exit FIFO to hang up, reads `exitStatus`,
    /// and checks that the shim exits 0 with no error entry.
    pub fn finish(&mut self) -> Finished {
        let [stdout, stderr] =
            read_to_eof_both([self.dir.stdout.as_mut(), self.dir.stderr.as_mut()], LONG);
        assert!(self.dir.wait_exit(LONG), "the exit FIFO did not hang up");
        let exit_status = std::fs::read(self.dir.dir.join("exitStatus")).unwrap_or_default();
        let shim = self.wait_shim(LONG);
        assert!(shim.success(), "shim exit {shim}; log: {}", self.shim_log());
        assert_eq!(
            self.shim_errors(),
            Vec::<String>::new(),
            "error entries from a shim that exited 0"
        );
        Finished {
            stdout,
            stderr,
            exit_status,
        }
    }

    /// The documented refusal (docs/INPUTS.md): the shim exits 1 having written exactly one
    /// entry to `shim-log.json`, an error, and the exit FIFO hangs up. Returns the message.
    pub fn refused(&mut self) -> String {
        let status = self.wait_shim(LONG);
        assert_eq!(
            status.code(),
            Some(1),
            "shim exit {status}; log: {}",
            self.shim_log()
        );
        let message = the_one_error(&self.shim_log());
        assert!(self.dir.wait_exit(LONG), "the exit FIFO did not hang up");
        message
    }

    /// `shim-log.json`'s content.
    pub fn shim_log(&self) -> String {
        std::fs::read_to_string(self.dir.dir.join("shim-log.json")).unwrap_or_default()
    }

    /// The entries of `shim-log.json`, each checked to be a JSON object.
    pub fn shim_log_entries(&self) -> Vec<Value> {
        parse_shim_log(&self.shim_log())
    }

    /// The messages of the `error` entries.
    pub fn shim_errors(&self) -> Vec<String> {
        self.shim_log_entries()
            .into_iter()
            .filter(|e| e["level"] == "error")
            .map(|e| e["msg"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.shim.try_wait() {
            let _ = self.shim.kill();
            let _ = self.shim.wait();
        }
    }
}

/// The entries of a `shim-log.json` text, failing the test unless it is a stream of JSON values.
pub fn parse_shim_log(text: &str) -> Vec<Value> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .map(|entry| entry.expect("shim-log.json holds valid JSON"))
        .collect()
}

/// The message of the one entry of a `shim-log.json` text, failing the test unless there is
/// exactly one and it is an error.
pub fn the_one_error(log: &str) -> String {
    let entries = parse_shim_log(log);
    assert_eq!(entries.len(), 1, "one entry in shim-log.json: {log}");
    assert_eq!(entries[0]["level"], "error", "an error: {log}");
    entries[0]["msg"].as_str().expect("msg").to_string()
}

/// Waits until the shim has read every byte written to its control FIFO. The shim acts on each
/// message in the call that read it, in its only thread, so whatever the test does next (input
/// to the container, say) comes after every message took effect.
pub fn wait_control_read(dir: &ProcessDir) {
    eventually(LONG, "the shim reads the whole control FIFO", || {
        queued_bytes(&dir.control) == 0
    });
}

/// Rewrites the `process.json` the driver wrote, as another daemon version (or an attacker)
/// would have written it.
pub fn edit_process_json(dir: &ProcessDir, edit: impl FnOnce(&mut Value)) {
    let path = dir.dir.join("process.json");
    let mut value: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read process.json")).expect("JSON");
    edit(&mut value);
    std::fs::write(&path, serde_json::to_vec(&value).expect("encode")).expect("write");
}
