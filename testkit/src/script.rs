//! Executable scripts a test writes for the shim or the daemon to run: runtime wrappers, fake
//! runtimes, hooks.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Writes `text` to `path` as an executable script.
pub fn write_script(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("chmod 755 {}: {e}", path.display()));
}
