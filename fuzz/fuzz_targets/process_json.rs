//! `process.json` decoding on hostile bytes: never a panic, and the result agrees with an
//! independent decoding through `serde_json::Value` (see `oracle.rs`).

#![no_main]

mod oracle;

use libfuzzer_sys::fuzz_target;
use oracle::{boolean, string, strings, uint32, Object};
use tinyshim::v02::process_json::{decode_process, ProcessState};

fn expect(object: &Object) -> Option<ProcessState> {
    Some(ProcessState {
        terminal: boolean(object, "terminal")?,
        exec: boolean(object, "exec")?,
        stdin: string(object, "containerdStdin")?,
        stdout: string(object, "containerdStdout")?,
        stderr: string(object, "containerdStderr")?,
        runtime_args: strings(object, "runtimeArgs")?,
        no_pivot_root: boolean(object, "noPivotRoot")?,
        checkpoint: string(object, "checkpoint")?,
        root_uid: uint32(object, "rootUID")?,
        root_gid: uint32(object, "rootGID")?,
    })
}

fuzz_target!(|data: &[u8]| {
    oracle::check(data, decode_process, expect);
});
