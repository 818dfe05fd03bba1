//! A `runc` of the test's own first on containerd's `PATH`: a shell script that stands in for
//! some calls (a checkpoint criu cannot make here, a `create` that hangs) and hands the rest to
//! the real runc. The shim under test is linked beside it, so that containerd finds both there.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use crate::containerd::options::{Options, ShimUnderTest};
use crate::host::which;
use crate::scratch::Scratch;
use crate::script::write_script;

/// The directory holding the wrapper, and a scratch directory for what the script writes.
pub struct RuncWrapper {
    bin: PathBuf,
    dir: Scratch,
}

impl RuncWrapper {
    /// A wrapper running `script`, in which `RUNC` names the real runc and `DIR` a scratch
    /// directory of the test's.
    pub fn new(label: &str, script: &str) -> RuncWrapper {
        let dir = Scratch::new(label);
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).expect("create bin/");
        let runc = which("runc").expect("runc is installed");
        let script = script
            .replace("RUNC", &runc.display().to_string())
            .replace("DIR", &dir.path().display().to_string());
        write_script(&bin.join("runc"), &script);
        RuncWrapper { bin, dir }
    }

    /// The scratch directory `DIR` names in the script.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The shim under test's options, with the wrapper (and the shim, when it is tinyshim)
    /// first on containerd's `PATH`.
    pub fn options(&self) -> Options {
        let shim = ShimUnderTest::selected();
        let mut options = shim.options();
        if shim == ShimUnderTest::Tinyshim {
            let binary = shim.binary();
            let name = binary.file_name().expect("the shim's name");
            let link = self.bin.join(name);
            if link.symlink_metadata().is_err() {
                symlink(&binary, link).expect("link the shim beside the wrapper");
            }
        }
        options.shim_dir = Some(self.bin.clone());
        options
    }
}
