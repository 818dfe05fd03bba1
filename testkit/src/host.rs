//! What the host must provide: programs found on `PATH`, and the check that it can run real
//! containers at all (root, runc, busybox-static; `make deps` installs them). Where they are
//! missing the tests fail with a message saying so: a check that did not run is not a pass.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::bundle;

/// The first executable file named `name` in a `PATH` directory.
pub fn which(name: &str) -> Option<PathBuf> {
    let search = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&search)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            std::fs::metadata(candidate)
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

/// Fails the test, loudly, when the machine cannot run real containers.
pub fn require_runc() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "the integration tests run real containers and need root"
    );
    assert!(
        which("runc").is_some(),
        "runc is not installed (apt-get install runc; make deps does it)"
    );
    assert!(
        Path::new(bundle::HOST_BUSYBOX).exists(),
        "busybox-static is not installed (apt-get install busybox-static; make deps does it)"
    );
}
