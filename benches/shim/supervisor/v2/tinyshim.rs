//! tinyshim's v2 shim, selected by its absolute path: `TINYSHIM_SHIM_V2` (the static binary
//! `make build` produced, which `make bench` passes) or the one cargo built beside the benchmark.

use std::path::PathBuf;

use tinyshim_testkit::binaries;
use tinyshim_testkit::containerd::options::TINYSHIM_BINARY;

use super::V2Shim;
use crate::chart::{Palette, BLUES};

/// `containerd-shim-tinyshim-v2`.
pub struct TinyshimV2;

impl V2Shim for TinyshimV2 {
    fn name(&self) -> &str {
        "tinyshim"
    }

    fn heading(&self) -> &str {
        "tinyshim v2 (ratio to Go)"
    }

    fn palette(&self) -> Palette {
        BLUES
    }

    fn runtime(&self) -> Result<String, String> {
        let binary = std::env::var_os("TINYSHIM_SHIM_V2")
            .filter(|path| !path.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| binaries::workspace_binary(TINYSHIM_BINARY));
        // containerd takes a runtime for a path only when it is absolute.
        std::fs::canonicalize(&binary)
            .map(|path| path.display().to_string())
            .map_err(|e| format!("no shim at {}: {e}", binary.display()))
    }
}
