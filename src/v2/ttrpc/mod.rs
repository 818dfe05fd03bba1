//! ttrpc, containerd's small RPC protocol over unix sockets, written for the one-thread loop.

pub mod call;
pub mod connection;
pub mod frame;
pub mod socket;
