//! The binaries of the workspace that the tests and the benchmarks run, found where the cargo
//! that built the test put them: the v0.2 shim under test and the fake runtime.
//!
//! The tests need root, runc and busybox-static (`make deps` installs them); [`crate::host`]
//! checks for those. Where a binary is missing the tests fail with a message saying so: a check
//! that did not run is not a pass.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The cargo profile directory the running test or benchmark was built into (`target/debug` or
/// `target/release`): cargo puts test executables in its `deps` folder and the workspace's
/// binaries beside it.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the path of the running executable");
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.file_name().is_some_and(|name| name == "deps") {
        dir.pop();
    }
    dir
}

/// A binary of the workspace, built by the same cargo as the test.
pub fn workspace_binary(name: &str) -> PathBuf {
    let path = profile_dir().join(name);
    if !path.exists() {
        build_testkit_binaries();
    }
    assert!(
        path.exists(),
        "{} was not built (cargo build --workspace --bins builds it; make test does)",
        path.display()
    );
    path
}

/// `cargo test` builds the binaries of the packages whose integration tests it runs, and the
/// test kit has none, so on a clean target `fake-runtime` and `shim-driver` exist only if
/// something else built them. Builds them once, with the cargo running the tests (which holds
/// no lock on the target directory while tests run).
fn build_testkit_binaries() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let Some(cargo) = std::env::var_os("CARGO") else {
            return;
        };
        let mut command = Command::new(cargo);
        command
            .args([
                "build",
                "--offline",
                "--package",
                "tinyshim-testkit",
                "--bins",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if profile_dir()
            .file_name()
            .is_some_and(|name| name == "release")
        {
            command.arg("--release");
        }
        let _ = command.status();
    });
}

/// The v0.2 shim under test: the one cargo built, or `TINYSHIM_SHIM` (the benchmarks point it at
/// the statically linked release binary that `make build` installs).
pub fn shim_binary() -> PathBuf {
    std::env::var_os("TINYSHIM_SHIM")
        .filter(|path| !path.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_binary("containerd-shim"))
}

/// The failure-injecting runtime (documented at the top of `src/bin/fake-runtime.rs`).
pub fn fake_runtime() -> String {
    workspace_binary("fake-runtime").display().to_string()
}
