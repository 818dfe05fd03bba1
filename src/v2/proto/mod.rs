//! The protobuf messages the v2 shim exchanges with containerd.
