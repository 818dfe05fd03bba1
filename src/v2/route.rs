//! Where the v2 shim's own readiness and deadlines lead, in the core's loop.

/// A source or deadline of the serving shim's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The listening socket.
    Listener,
    /// A connection to the shim, by its key in the server.
    Connection(usize),
    /// The next attempt to accept, when descriptors ran out.
    AcceptRetry,
    /// The next look at the connections whose frames wait for room.
    RoomLook,
    /// The shim's connection to containerd's events service.
    Events,
    /// The next attempt to reach containerd's events service.
    EventsRetry,
    /// The latest moment to exit once asked to, events flushed or not.
    ExitDeadline,
    /// The OOM watcher's descriptors and its rechecks.
    Oom,
}
