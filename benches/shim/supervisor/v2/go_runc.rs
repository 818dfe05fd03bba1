//! The Go runc shim of the Debian containerd package, selected by its runtime name, as every
//! containerd client selects it (ctr then sends it the runc options, as Docker does).

use tinyshim_testkit::containerd::options::GO_RUNC_RUNTIME;
use tinyshim_testkit::host;

use super::V2Shim;
use crate::chart::{Palette, GREENS};

/// `containerd-shim-runc-v2`, runtime `io.containerd.runc.v2`.
pub struct GoRunc;

impl V2Shim for GoRunc {
    fn name(&self) -> &str {
        "Go runc"
    }

    fn heading(&self) -> &str {
        "Go runc v2"
    }

    fn palette(&self) -> Palette {
        GREENS
    }

    fn runtime(&self) -> Result<String, String> {
        // containerd resolves the name on its PATH, which is the benchmark's.
        host::which("containerd-shim-runc-v2")
            .map(|_| GO_RUNC_RUNTIME.to_string())
            .ok_or_else(|| "not installed (apt-get install containerd)".to_string())
    }
}
