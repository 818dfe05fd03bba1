//! The Rust runc shim of containerd/rust-extensions (crate `containerd-runc-shim`, binary
//! `containerd-shim-runc-v2-rs`), selected by its absolute path: `make bench-peers` installs it
//! under `target/peers/`, off every PATH, and `make bench` names it in `TINYSHIM_RUST_SHIM`.

use std::path::{Path, PathBuf};

use super::V2Shim;
use crate::chart::{Palette, PURPLES};

/// Where `make bench-peers` installs it, for a `cargo bench` run without the variable.
const DEFAULT_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/target/peers/bin/containerd-shim-runc-v2-rs"
);

/// `containerd-shim-runc-v2-rs`.
pub struct RustRunc;

impl V2Shim for RustRunc {
    fn name(&self) -> &str {
        "Rust runc"
    }

    fn heading(&self) -> &str {
        "Rust runc v2 (ratio to Go)"
    }

    fn palette(&self) -> Palette {
        PURPLES
    }

    fn runtime(&self) -> Result<String, String> {
        let binary = std::env::var_os("TINYSHIM_RUST_SHIM")
            .filter(|path| !path.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(DEFAULT_PATH).to_path_buf());
        std::fs::canonicalize(&binary)
            .map(|path| path.display().to_string())
            .map_err(|_| "not installed (make bench-peers)".to_string())
    }
}
