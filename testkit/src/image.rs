//! A container image of the busybox root filesystem ([`crate::bundle::rootfs`]), made here
//! instead of pulled: the tests have no registry to pull from.
//!
//! * [`layer_tar`]: the rootfs as one uncompressed layer tarball, which `docker import` takes as
//!   it is.
//! * [`docker_archive`]: that layer in a `docker save` archive, which
//!   `ctr images import` turns into an image (CRI's sandbox image, and its containers' image).
//!
//! What containerd 1.6 insists on (measured): the config names `os` and `architecture` and lists
//! the layer's `rootfs.diff_ids` as the sha256 of the *uncompressed* tar, and CRI refuses an image
//! whose config has neither `Entrypoint` nor `Cmd` ("invalid empty entrypoint and cmd in image
//! config"). A `RepoTags` entry `tsbox:1` is stored under its normalised name
//! `docker.io/library/tsbox:1`.
//!
//! Both files are built once per target directory, in a staging file renamed into place, so
//! that test binaries running at once never read a half-written one.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::json;

use crate::bundle;
use crate::scratch::{target_tmp, unique};

/// The tag the archive carries.
pub const TAG: &str = "tsbox:1";
/// The name containerd stores [`TAG`] under, which CRI's `sandbox_image` must equal.
pub const IMAGE_NAME: &str = "docker.io/library/tsbox:1";
/// The image's command: a process that lives until it is killed and dies of SIGKILL, which is
/// all a pod's sandbox (pause) container must do.
pub const CMD: [&str; 2] = ["sleep", "2147483647"];

/// The busybox rootfs as an uncompressed tar (numeric owners, paths relative to the root).
pub fn layer_tar() -> PathBuf {
    static LAYER: OnceLock<PathBuf> = OnceLock::new();
    LAYER
        .get_or_init(|| {
            let path = target_tmp().join("busybox-layer.tar");
            if !path.exists() {
                let rootfs = bundle::rootfs();
                let staging = staging_path(&path);
                run(Command::new("tar")
                    .arg("--create")
                    .arg("--file")
                    .arg(&staging)
                    .arg("--numeric-owner")
                    .arg("--directory")
                    .arg(&rootfs)
                    .arg("."));
                std::fs::rename(&staging, &path).expect("move the layer tar into place");
            }
            path
        })
        .clone()
}

/// A `docker save` archive of the busybox image tagged [`TAG`], running [`CMD`].
pub fn docker_archive() -> PathBuf {
    static ARCHIVE: OnceLock<PathBuf> = OnceLock::new();
    ARCHIVE
        .get_or_init(|| {
            let path = target_tmp().join("busybox-image.tar");
            if !path.exists() {
                build_archive(&path);
            }
            path
        })
        .clone()
}

fn build_archive(path: &Path) {
    let layer = layer_tar();
    let staging = staging_path(path);
    let dir = PathBuf::from(format!("{}.d", staging.display()));
    std::fs::create_dir_all(&dir).expect("create the archive's staging dir");
    std::fs::copy(&layer, dir.join("layer.tar")).expect("copy the layer");
    let diff_id = format!("sha256:{}", sha256_hex(&layer));
    let config = json!({
        "architecture": go_arch(),
        "os": "linux",
        "config": {
            "Cmd": CMD,
            "Env": ["PATH=/bin"],
            "WorkingDir": "/",
        },
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": "tinyshim test kit: the busybox rootfs"}],
    });
    let config_bytes = serde_json::to_vec(&config).expect("a config serializes");
    let config_file = dir.join("config.json");
    std::fs::write(&config_file, &config_bytes).expect("write the image config");
    let config_name = format!("{}.json", sha256_hex(&config_file));
    std::fs::rename(&config_file, dir.join(&config_name)).expect("name the config by digest");
    let manifest = json!([{
        "Config": config_name,
        "RepoTags": [TAG],
        "Layers": ["layer.tar"],
    }]);
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_vec(&manifest).expect("a manifest serializes"),
    )
    .expect("write manifest.json");
    run(Command::new("tar")
        .arg("--create")
        .arg("--file")
        .arg(&staging)
        .arg("--directory")
        .arg(&dir)
        .args(["manifest.json", &config_name, "layer.tar"]));
    std::fs::remove_dir_all(&dir).expect("remove the archive's staging dir");
    std::fs::rename(&staging, path).expect("move the archive into place");
}

/// A file name beside `path` that no other process writes.
fn staging_path(path: &Path) -> PathBuf {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("image");
    path.with_file_name(format!(".{name}.{}", unique()))
}

/// The hex SHA-256 of a file, by coreutils' `sha256sum`.
pub fn sha256_hex(path: &Path) -> String {
    let output = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("run sha256sum (coreutils)");
    assert!(output.status.success(), "sha256sum {}", path.display());
    let text = String::from_utf8_lossy(&output.stdout);
    let hex = text.split_whitespace().next().unwrap_or_default();
    assert_eq!(hex.len(), 64, "sha256sum printed {text:?}");
    hex.to_string()
}

/// GOARCH of this machine, which an image config's `architecture` must match.
fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("spawn {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?}: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}
