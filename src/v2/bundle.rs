//! The bundle containerd prepares for a task: what the shim reads of its `config.json`, and the
//! runc settings the shim keeps in it for the `delete` subcommand, which runs after the serving
//! shim is gone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::io::input::{json_object, read_limited};
use crate::v2::runc::Settings;

/// The annotations that group containers into one shim, in the order the Go runc shim tries them:
/// containers with the same value share a shim (a Kubernetes pod).
pub const GROUP_ANNOTATIONS: [&str; 2] = [
    "io.containerd.runc.v2.group",
    "io.kubernetes.cri.sandbox-id",
];

/// Where the shim keeps a task's runc settings in its bundle.
pub const SETTINGS_FILE: &str = "tinyshim-runc.json";

/// What the shim needs of a bundle's `config.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// The OCI annotations.
    pub annotations: BTreeMap<String, String>,
    /// Whether the container has a pid namespace of its own (one without a path): then its
    /// init's death kills every other process in it, otherwise `kill --all` must.
    pub own_pid_namespace: bool,
}

#[derive(Deserialize)]
struct RawConfig {
    annotations: Option<BTreeMap<String, String>>,
    linux: Option<RawLinux>,
}

#[derive(Deserialize)]
struct RawLinux {
    namespaces: Option<Vec<RawNamespace>>,
}

#[derive(Deserialize)]
struct RawNamespace {
    #[serde(rename = "type")]
    kind: Option<String>,
    path: Option<String>,
}

/// Decodes `config.json` bytes; unknown keys are the runtime's business.
pub fn decode_config(bytes: &[u8]) -> std::result::Result<Config, serde_json::Error> {
    let raw: RawConfig = json_object(bytes)?;
    let own_pid_namespace = raw
        .linux
        .and_then(|linux| linux.namespaces)
        .unwrap_or_default()
        .iter()
        .any(|ns| ns.kind.as_deref() == Some("pid") && ns.path.as_deref().unwrap_or("").is_empty());
    Ok(Config {
        annotations: raw.annotations.unwrap_or_default(),
        own_pid_namespace,
    })
}

/// Reads the `config.json` of `bundle`.
pub fn load_config(bundle: &Path) -> Result<Config> {
    let path = bundle.join("config.json");
    let bytes = read_limited(&path)?;
    decode_config(&bytes).map_err(|e| Error::invalid(format!("decode {}", path.display()), e))
}

/// The key that groups a container with others in one shim: the first grouping annotation,
/// else the container's own id.
pub fn group_key(config: &Config, id: &str) -> String {
    GROUP_ANNOTATIONS
        .iter()
        .find_map(|name| config.annotations.get(*name))
        .cloned()
        .unwrap_or_else(|| id.to_string())
}

/// Keeps `settings` in `bundle`.
pub fn save_settings(bundle: &Path, settings: &Settings) -> Result<()> {
    let path = settings_path(bundle);
    let text = serde_json::to_vec(settings).map_err(|e| Error::invalid("runc settings", e))?;
    std::fs::write(&path, text).map_err(|e| Error::os(format!("write {}", path.display()), e))
}

/// The settings kept in `bundle`, if any and readable.
pub fn load_settings(bundle: &Path) -> Option<Settings> {
    let bytes = read_limited(&settings_path(bundle)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn settings_path(bundle: &Path) -> PathBuf {
    bundle.join(SETTINGS_FILE)
}

#[cfg(test)]
mod tests;
