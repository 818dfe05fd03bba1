//! The daemon's `config.toml`: its own root, state and sockets, the plugins it does without, and
//! for a CRI-enabled daemon the CRI plugin's table.

use std::path::PathBuf;

use super::options::{ShimUnderTest, CRI_TINYSHIM_HANDLER, GO_RUNC_RUNTIME, TINYSHIM_RUNTIME};
use super::Containerd;

/// The CRI plugin, off unless [`Options::cri`](super::options::Options::cri) asks for it.
const CRI_PLUGIN: &str = "io.containerd.grpc.v1.cri";

/// Plugins this daemon does without; [`crate::containerd`]'s documentation says why each one.
const DISABLED_PLUGINS: [&str; 7] = [
    CRI_PLUGIN,
    "io.containerd.internal.v1.opt",
    "io.containerd.snapshotter.v1.aufs",
    "io.containerd.snapshotter.v1.btrfs",
    "io.containerd.snapshotter.v1.devmapper",
    "io.containerd.snapshotter.v1.zfs",
    "io.containerd.snapshotter.v1.overlayfs",
];

impl Containerd {
    pub(super) fn config_text(&self) -> String {
        // A JSON string is also a valid TOML basic string: same quotes, same escapes.
        let quoted = |path: PathBuf| {
            serde_json::to_string(&path.display().to_string()).expect("a string serializes")
        };
        let disabled: Vec<String> = DISABLED_PLUGINS
            .iter()
            .filter(|name| !(self.options.cri && **name == CRI_PLUGIN))
            .map(|name| format!("\"{name}\""))
            .collect();
        let mut text = format!(
            "version = 2\n\
             root = {root}\n\
             state = {state}\n\
             disabled_plugins = [{disabled}]\n\
             \n\
             [grpc]\n  address = {grpc}\n\
             \n\
             [ttrpc]\n  address = {ttrpc}\n\
             \n\
             [debug]\n  address = \"\"\n  level = {level}\n\
             \n\
             [metrics]\n  address = \"\"\n",
            root = quoted(self.root()),
            state = quoted(self.state()),
            disabled = disabled.join(", "),
            grpc = quoted(self.address()),
            ttrpc = quoted(self.ttrpc_address()),
            level = serde_json::to_string(&self.options.log_level).expect("a string serializes"),
        );
        if self.options.cri {
            text.push_str(&self.cri_config_text());
        }
        text
    }

    /// The CRI plugin's table (see [`Options::cri`](super::options::Options::cri)). `restrict_oom_score_adj` keeps the pods'
    /// OOM scores at or above the test's own (CRI would give the pause process -998), and
    /// AppArmor is off so that on a host that has it CRI loads no profile into its kernel.
    fn cri_config_text(&self) -> String {
        let quoted = |path: PathBuf| {
            serde_json::to_string(&path.display().to_string()).expect("a string serializes")
        };
        let cri = format!("[plugins.\"{CRI_PLUGIN}\"]");
        let runtimes = format!("[plugins.\"{CRI_PLUGIN}\".containerd.runtimes");
        // The Go shim cannot decode the runtimeoptions.v1.Options CRI would then send (its
        // `start` fails with "type with url runtimeoptions.v1.Options: not found"), so it gets
        // none under tinyshim's name.
        let options = match ShimUnderTest::selected() {
            ShimUnderTest::Tinyshim => format!(
                "\n{runtimes}.{CRI_TINYSHIM_HANDLER}.options]\n  ConfigPath = {}\n",
                quoted(self.cri_runtime_config())
            ),
            ShimUnderTest::Go => String::new(),
        };
        format!(
            "\n{cri}\n\
             \x20 sandbox_image = \"{image}\"\n\
             \x20 disable_apparmor = true\n\
             \x20 restrict_oom_score_adj = true\n\
             \x20 enable_selinux = false\n\
             \n{cri_table}.containerd]\n\
             \x20 snapshotter = \"native\"\n\
             \x20 default_runtime_name = \"runc\"\n\
             \n{runtimes}.runc]\n\
             \x20 runtime_type = \"{GO_RUNC_RUNTIME}\"\n\
             \n{runtimes}.{CRI_TINYSHIM_HANDLER}]\n\
             \x20 runtime_type = \"{TINYSHIM_RUNTIME}\"\n\
             {options}\
             \n{cri_table}.cni]\n\
             \x20 bin_dir = {cni_bin}\n\
             \x20 conf_dir = {cni_conf}\n",
            image = crate::image::IMAGE_NAME,
            cri_table = format!("[plugins.\"{CRI_PLUGIN}\""),
            options = options,
            cni_bin = quoted(self.cni_dir().join("bin")),
            cni_conf = quoted(self.cni_dir().join("conf")),
        )
    }
}
