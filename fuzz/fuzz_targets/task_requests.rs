//! The task service's decoders on hostile payloads. Byte 0 picks a method of the service's table
//! (or one it does not have); the rest is the request message, as a ttrpc Request's payload
//! carries it.
//!
//! Checked on every input:
//! * `TaskRequest::decode` never panics; a refusal is InvalidArgument (Unimplemented for the
//!   unknown method) with a message of at most `MAX_ERROR_MESSAGE` bytes;
//! * a decoded request encodes to bytes that decode to the same request;
//! * the `Any`s inside (Create's runc options or CRI runtime options, Checkpoint's options, and
//!   the runtime options' TOML) unpack, or are refused, without a panic;
//! * `bundle::decode_config` on the same bytes never panics, and the group key of what it
//!   decodes is the container's id or one of the config's annotations.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tinyshim::v2::bundle;
use tinyshim::v2::proto::runc::{CheckpointOptions, Options};
use tinyshim::v2::proto::runtimeoptions::RuntimeOptions;
use tinyshim::v2::proto::ttrpc::Code;
use tinyshim::v2::runtime_options::runc_options;
use tinyshim::v2::task::request::TaskRequest;
use tinyshim::v2::ttrpc::call::MAX_ERROR_MESSAGE;

const METHODS: [&str; 18] = [
    "State", "Create", "Start", "Delete", "Pids", "Pause", "Resume", "Checkpoint", "Kill", "Exec",
    "ResizePty", "CloseIO", "Update", "Wait", "Stats", "Connect", "Shutdown", "Unknown",
];

/// Unpacks the options a request carries, as the service does.
fn unpack_options(request: &TaskRequest) {
    match request {
        TaskRequest::Create(create) => {
            if let Some(any) = &create.options {
                let _ = any.unpack::<Options>();
                if let Ok(cri) = any.unpack::<RuntimeOptions>() {
                    // A config_path names a file: only the body is the input's.
                    if cri.config_path.is_empty() {
                        let _ = runc_options(&cri);
                    }
                }
            }
        }
        TaskRequest::Checkpoint(checkpoint) => {
            if let Some(any) = &checkpoint.options {
                let _ = any.unpack::<CheckpointOptions>();
            }
        }
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, payload)) = data.split_first() else {
        return;
    };
    let method = METHODS[pick as usize % METHODS.len()];
    match TaskRequest::decode(method, payload) {
        Ok(request) => {
            let again = TaskRequest::decode(method, &request.encode_payload())
                .expect("a decoded request encodes to one that decodes");
            assert_eq!(again, request);
            unpack_options(&request);
        }
        Err(error) => {
            let expected = if method == "Unknown" {
                Code::Unimplemented
            } else {
                Code::InvalidArgument
            };
            assert_eq!(error.code(), expected, "{}", error.message());
            assert!(error.message().len() <= MAX_ERROR_MESSAGE);
        }
    }
    if let Ok(config) = bundle::decode_config(payload) {
        let key = bundle::group_key(&config, "the-id");
        assert!(key == "the-id" || config.annotations.values().any(|v| *v == key));
    }
});
