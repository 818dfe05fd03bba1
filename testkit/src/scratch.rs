//! Where the tests write: cargo's `target/tmp` for what outlives one test (the shared rootfs,
//! the image archives), a scratch directory per test for what does not, and names unique within
//! the test process.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::binaries::profile_dir;

/// Where tests keep files that outlive one test: cargo's `target/tmp`.
pub fn target_tmp() -> PathBuf {
    let profile = profile_dir();
    let target = profile.parent().map(Path::to_path_buf).unwrap_or(profile);
    target.join("tmp")
}

/// A directory removed when dropped.
#[derive(Debug)]
pub struct Scratch(pub PathBuf);

impl Scratch {
    /// A fresh, empty directory under the target's temp dir.
    pub fn new(label: &str) -> Scratch {
        let dir = target_tmp()
            .join("scratch")
            .join(format!("{label}-{}", unique()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Scratch(dir)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A number unique within this test process.
pub fn unique() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

/// The canonical form of `path`, which is how the shim names its own directory (`getcwd`).
pub fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).expect("canonical path")
}
