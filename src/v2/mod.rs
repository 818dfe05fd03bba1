//! The containerd runtime v2 frontend: `containerd-shim-tinyshim-v2`.

pub mod proto;
pub mod ttrpc;
