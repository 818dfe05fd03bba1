//! Checkpoint `config.json` decoding on hostile bytes: never a panic, and the result agrees with
//! an independent decoding through `serde_json::Value` (see `oracle.rs`).

#![no_main]

mod oracle;

use libfuzzer_sys::fuzz_target;
use oracle::{boolean, strings, Object};
use tinyshim::v02::process_json::{decode_checkpoint, CheckpointConfig};

fn expect(object: &Object) -> Option<CheckpointConfig> {
    Some(CheckpointConfig {
        tcp: boolean(object, "tcp")?,
        unix_sockets: boolean(object, "unixSockets")?,
        shell: boolean(object, "shell")?,
        empty_ns: strings(object, "emptyNS")?,
    })
}

fuzz_target!(|data: &[u8]| {
    oracle::check(data, decode_checkpoint, expect);
});
