//! The shim's invocations other than serving, each a short-lived process containerd runs:
//! [`args`] (the command line), [`start`] (find or make the serving shim, print its address)
//! and [`delete`] (clean up after a task whose shim is gone).

pub mod args;
pub mod delete;
pub mod start;
