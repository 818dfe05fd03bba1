//! The files the daemon writes for the shim: `process.json` and, for a restore, the checkpoint's
//! `config.json`.
//!
//! `process.json` is containerd's `ProcessState`: the OCI `process` object with containerd's keys
//! beside it. The shim reads only containerd's keys and `terminal`; everything else (`args`, `env`,
//! `capabilities` as a list or an object, `consoleSize`, ...) is the runtime's business and is
//! skipped without being stored. Every key may be absent or `null`, as Go's encoder may leave it.
//! Decoding is a pure function of the bytes; the size cap of [`read_limited`] and serde_json's
//! nesting limit keep it bounded on any file.

use serde::Deserialize;
use std::path::Path;

use crate::error::{Error, Result};
use crate::io::input::{json_object, read_limited};

/// The keys of `process.json` the shim uses, with Go's zero values for absent or `null` keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessState {
    /// The process gets a pseudo-terminal instead of pipes.
    pub terminal: bool,
    /// An exec (`AddProcess`) process rather than the container's init.
    pub exec: bool,
    /// The client's stdin FIFO (empty means `/dev/null`).
    pub stdin: String,
    /// The client's stdout FIFO.
    pub stdout: String,
    /// The client's stderr FIFO (never opened for a terminal process).
    pub stderr: String,
    /// Global runtime flags, inserted before the runtime subcommand.
    pub runtime_args: Vec<String>,
    /// Pass `--no-pivot` to `create` and `restore`.
    pub no_pivot_root: bool,
    /// Checkpoint directory; non-empty means restore instead of create.
    pub checkpoint: String,
    /// Owner of the stdio pipes and of a legacy console slave.
    pub root_uid: u32,
    /// Group of the stdio pipes and of a legacy console slave.
    pub root_gid: u32,
}

#[derive(Deserialize)]
struct RawProcessState {
    terminal: Option<bool>,
    exec: Option<bool>,
    #[serde(rename = "containerdStdin")]
    stdin: Option<String>,
    #[serde(rename = "containerdStdout")]
    stdout: Option<String>,
    #[serde(rename = "containerdStderr")]
    stderr: Option<String>,
    #[serde(rename = "runtimeArgs")]
    runtime_args: Option<Vec<String>>,
    #[serde(rename = "noPivotRoot")]
    no_pivot_root: Option<bool>,
    checkpoint: Option<String>,
    #[serde(rename = "rootUID")]
    root_uid: Option<u32>,
    #[serde(rename = "rootGID")]
    root_gid: Option<u32>,
}

/// Decodes `process.json` bytes. The error is serde_json's, with line and column.
pub fn decode_process(bytes: &[u8]) -> std::result::Result<ProcessState, serde_json::Error> {
    let raw: RawProcessState = json_object(bytes)?;
    Ok(ProcessState {
        terminal: raw.terminal.unwrap_or_default(),
        exec: raw.exec.unwrap_or_default(),
        stdin: raw.stdin.unwrap_or_default(),
        stdout: raw.stdout.unwrap_or_default(),
        stderr: raw.stderr.unwrap_or_default(),
        runtime_args: raw.runtime_args.unwrap_or_default(),
        no_pivot_root: raw.no_pivot_root.unwrap_or_default(),
        checkpoint: raw.checkpoint.unwrap_or_default(),
        root_uid: raw.root_uid.unwrap_or_default(),
        root_gid: raw.root_gid.unwrap_or_default(),
    })
}

/// The checkpoint's `config.json` flags that become `restore` options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckpointConfig {
    /// `--tcp-established`.
    pub tcp: bool,
    /// `--ext-unix-sk`.
    pub unix_sockets: bool,
    /// `--shell-job`.
    pub shell: bool,
    /// One `--empty-ns <ns>` per entry.
    pub empty_ns: Vec<String>,
}

#[derive(Deserialize)]
struct RawCheckpointConfig {
    tcp: Option<bool>,
    #[serde(rename = "unixSockets")]
    unix_sockets: Option<bool>,
    shell: Option<bool>,
    #[serde(rename = "emptyNS")]
    empty_ns: Option<Vec<String>>,
}

/// Decodes a checkpoint `config.json`. Unknown keys (`created`, `name`, `exit`) are skipped.
pub fn decode_checkpoint(bytes: &[u8]) -> std::result::Result<CheckpointConfig, serde_json::Error> {
    let raw: RawCheckpointConfig = json_object(bytes)?;
    Ok(CheckpointConfig {
        tcp: raw.tcp.unwrap_or_default(),
        unix_sockets: raw.unix_sockets.unwrap_or_default(),
        shell: raw.shell.unwrap_or_default(),
        empty_ns: raw.empty_ns.unwrap_or_default(),
    })
}

/// Reads and decodes `process.json` at `path`.
pub fn load_process(path: &Path) -> Result<ProcessState> {
    let bytes = read_limited(path)?;
    decode_process(&bytes).map_err(|e| Error::invalid(format!("decode {}", path.display()), e))
}

/// Reads and decodes the checkpoint config at `path`.
pub fn load_checkpoint(path: &Path) -> Result<CheckpointConfig> {
    let bytes = read_limited(path)?;
    decode_checkpoint(&bytes).map_err(|e| Error::invalid(format!("decode {}", path.display()), e))
}

#[cfg(test)]
mod tests;
