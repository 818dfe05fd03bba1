//! The mechanisms that move a process's bytes and hand over its terminal: pumps, client FIFOs,
//! the container's pipes, the console socket, the legacy PTY, terminal sizes, input files, and
//! the descriptors a shim inherited.

pub mod console_socket;
pub mod fifo;
pub mod inherited;
pub mod input;
pub mod legacy_pty;
pub mod pipe;
pub mod pump;
pub mod terminal;
