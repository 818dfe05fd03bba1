//! What the calls that make processes share (Create, an exec's Start): making the process with
//! its stdio, a `binary://` logger started first as a child of the shim; where an exec's spec
//! and pid file are kept in the bundle; and why a launch failed, in the runtime's words.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use crate::process::output::FifoEnd;
use crate::process::phase::Rules;
use crate::process::stdio::StdioSetup;
use crate::process::{Failure, LaunchPlan, ProcessKey};
use crate::runtime::ConsoleArg;
use crate::supervisor::LaunchAt;
use crate::v2::runc;
use crate::v2::stdio::{open_outputs, parse_outputs};

use super::records::Io;
use super::wait::DRAIN;
use super::{shim_error, Answer, Child, Outside};

/// Makes a process of container `id` with stdio `io` owned by `owner` and launches it as
/// `plan` says, now or at its start; a `binary://` logger is started first, as a child of the shim. Returns the
/// process and the logger's ready pipe.
pub(super) fn launch_process(
    out: &mut Outside,
    id: &str,
    namespace: &str,
    io: &Io,
    owner: (u32, u32),
    (rules, at): (Rules, LaunchAt),
    plan: impl FnOnce(ConsoleArg<'_>) -> LaunchPlan,
) -> Answer<(ProcessKey, Option<OwnedFd>)> {
    let outputs = parse_outputs(&io.stdout, &io.stderr).map_err(shim_error)?;
    let core = &mut *out.core;
    let spawn = |command: &mut std::process::Command, what: &str| {
        let tag = Child::Logger { id: id.to_string() };
        core.spawn_child(command, what, tag).map(drop)
    };
    let opened = open_outputs(&outputs, id, namespace, spawn).map_err(shim_error)?;
    let setup = StdioSetup {
        stdin: &io.stdin,
        stdout: opened.stdout,
        stderr: opened.stderr,
        terminal: io.terminal,
        owner,
        // CRI reads an exec's outputs to EOF before it deletes the exec (ExecSync), as it may
        // any output: each one ends for the client when it has ended for the shim.
        fifo_end: FifoEnd::AtEof,
        null_to_container: true,
    };
    let key = out
        .core
        .launch(rules, DRAIN, setup, at, plan)
        .map_err(shim_error)?;
    Ok((key, opened.ready))
}

/// Where an exec's OCI process goes for `runc exec --process`.
pub fn exec_spec_file(bundle: &Path, exec_id: &str) -> PathBuf {
    bundle.join(format!(".tinyshim-exec-{exec_id}.json"))
}

/// Where `runc exec` writes an exec's pid.
pub fn exec_pid_file(bundle: &Path, exec_id: &str) -> PathBuf {
    bundle.join(format!("{exec_id}.pid"))
}

/// Why a launch or start failed, in the runtime's words where it gave any: its log in the
/// bundle first, then its last line on stderr.
pub(super) fn failure_message(failure: Failure, what: &str, bundle: &std::path::Path) -> String {
    match failure {
        Failure::Runtime { status, message } => {
            let said = runc::last_error(bundle)
                .or_else(|| (!message.is_empty()).then_some(message))
                .unwrap_or_else(|| format!("exit status {}", status.code()));
            format!("OCI runtime {what} failed: {said}")
        }
        Failure::Shim(error) => error.to_string(),
    }
}
