//! CRI's options for a runtime it does not take for runc (`runtimeoptions.v1.Options`, from
//! containerd's `pkg/runtimeoptions/v1/api.proto`): where the runtime's own TOML options are.

use super::google::TypeUrl;

/// `runtimeoptions.v1.Options`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct RuntimeOptions {
    /// The type of the runtime's options, as the runtime entry names it (often empty).
    #[prost(string, tag = "1")]
    pub type_url: String,
    /// The runtime entry's `ConfigPath`: a TOML file of the runtime's options.
    #[prost(string, tag = "2")]
    pub config_path: String,
    /// The runtime entry's `options` table as TOML (containerd 1.7 and later, when there is no
    /// `ConfigPath`).
    #[prost(string, tag = "3")]
    pub config_body: String,
}

impl TypeUrl for RuntimeOptions {
    const TYPE_URL: &'static str = "runtimeoptions.v1.Options";
}
