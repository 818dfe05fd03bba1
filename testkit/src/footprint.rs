//! What a private containerd's shims may leave on the host outside its scratch directory, noted
//! as the test goes by every client of the daemon ([`crate::containerd::Containerd`],
//! [`crate::ctr::Ctr`], [`crate::cri::Cri`]), so that the clean-up knows what to look for once
//! the bundle directories that named it are gone.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What this daemon's shims may have left on the host outside the scratch directory, gathered
/// while the test runs because the bundle directories that name them go away with their tasks.
#[derive(Debug, Default)]
pub(crate) struct Footprint {
    /// Container ids this namespace has used.
    pub(crate) ids: BTreeSet<String>,
    /// Shim sockets read from bundles' `address` files or found listening in shim processes.
    pub(crate) sockets: BTreeSet<PathBuf>,
}

impl Footprint {
    /// Notes every bundle of `bundles` (a namespace's directory of the v2 task plugin's state):
    /// its container id and the socket in its `address` file.
    pub(crate) fn record_bundles(&mut self, bundles: &Path) {
        for entry in std::fs::read_dir(bundles).into_iter().flatten().flatten() {
            if let Some(id) = entry.file_name().to_str() {
                self.ids.insert(id.to_string());
            }
            if let Some(socket) = read_address(&entry.path()) {
                self.sockets.insert(socket);
            }
        }
    }
}

/// The socket path in `<bundle>/address`, without its `unix://` scheme.
pub fn read_address(bundle: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(bundle.join("address")).ok()?;
    let text = text.trim();
    let path = text.strip_prefix("unix://").unwrap_or(text);
    (!path.is_empty()).then(|| PathBuf::from(path))
}

#[cfg(test)]
mod tests;
