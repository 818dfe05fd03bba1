//! A CRI-enabled daemon ([`Options::cri`](super::options::Options::cri)): its empty CNI
//! directories, the pods' log directory, the file the tinyshim runtime's `ConfigPath` names, the
//! sandbox image imported before the daemon is handed to the test, and CRI clients for it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Containerd;
use crate::driver;

impl Containerd {
    /// The CRI daemon's empty CNI directories, the pods' log directory and the file named by
    /// the tinyshim runtime's `ConfigPath`.
    pub(super) fn prepare_cri(&mut self) {
        for sub in [self.cni_dir().join("bin"), self.cni_dir().join("conf")] {
            std::fs::create_dir_all(sub).expect("create the CRI daemon's dirs");
        }
        std::fs::create_dir_all(self.pod_logs_dir()).expect("create the pods' log dir");
        // What 1.6 sends as runtimeoptions.v1.Options.config_path: runc options in TOML.
        let root = serde_json::to_string(&self.own_name_runc_root().display().to_string())
            .expect("a string serializes");
        std::fs::write(
            self.cri_runtime_config(),
            format!(
                "# runc options for tinyshim under its own name (CRI ConfigPath)\nRoot = {root}\n"
            ),
        )
        .expect("write the tinyshim runtime's ConfigPath file");
    }

    /// Imports [`crate::image::docker_archive`] as [`crate::image::IMAGE_NAME`] and waits until
    /// CRI lists it: CRI learns of an image ctr imported from an event, and a pod started
    /// before that would make it try to pull the sandbox image from the network.
    pub(super) fn import_sandbox_image(&self) {
        let archive = crate::image::docker_archive();
        self.ctr().ok(&[
            "images",
            "import",
            "--snapshotter",
            "native",
            &archive.display().to_string(),
        ]);
        let cri = self.cri();
        let deadline = Instant::now() + self.options.start_timeout;
        while !cri.has_image(crate::image::IMAGE_NAME) {
            assert!(
                Instant::now() < deadline,
                "CRI did not list the imported {} within {:?}; containerd's log:\n{}",
                crate::image::IMAGE_NAME,
                self.options.start_timeout,
                self.log_tail()
            );
            driver::pause(Duration::from_millis(10));
        }
    }

    /// A CRI client for this daemon (started with [`Options::cri`](super::options::Options::cri)).
    pub fn cri(&self) -> crate::cri::Cri {
        assert!(self.options.cri, "this containerd was started without CRI");
        crate::cri::Cri::connect(self.cri_daemon()).unwrap_or_else(|error| panic!("{error}"))
    }

    /// Where this daemon, its pods' cgroups and logs are, for a [`crate::cri::Cri`].
    pub(super) fn cri_daemon(&self) -> crate::cri::Daemon {
        crate::cri::Daemon {
            address: self.address(),
            log: self.log_path(),
            cgroup_root: self.cgroup_root(),
            pod_logs: self.pod_logs_dir(),
            footprint: Arc::clone(&self.footprint),
        }
    }

    /// The empty CNI `bin` and `conf` directories' parent: host-network pods need no CNI.
    pub(super) fn cni_dir(&self) -> PathBuf {
        self.dir.join("cni")
    }

    /// Where the tests put their pods' log directories (`PodSandboxConfig.log_directory`).
    pub fn pod_logs_dir(&self) -> PathBuf {
        self.dir.join("pod-logs")
    }

    /// The tinyshim runtime's `ConfigPath` file.
    pub fn cri_runtime_config(&self) -> PathBuf {
        self.dir.join("tinyshim-runc.toml")
    }

    /// The runc root the tinyshim runtime's `ConfigPath` file names, in this daemon's scratch
    /// directory: runc keeps the state of its containers in `<this>/k8s.io`.
    pub fn own_name_runc_root(&self) -> PathBuf {
        self.dir.join("runc-own-name")
    }
}
