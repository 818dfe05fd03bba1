//! Making a process's pumps, each end registered under the route to one of the process's
//! sources, with the configured pump path.

use crate::error::{Error, Result};
use crate::event_loop::Registry;
use crate::io::pump::{Endpoint, Pump};
use crate::process::{ProcessKey, ProcessRoute, Source};

/// Makes a process's pumps, both ends routed to the process's source.
#[derive(Debug, Clone, Copy)]
pub struct PumpMaker {
    key: ProcessKey,
    force_copy: bool,
}

impl PumpMaker {
    /// The pumps of process `key`, on the copy path if `force_copy`.
    pub fn new(key: ProcessKey, force_copy: bool) -> PumpMaker {
        PumpMaker { key, force_copy }
    }

    /// A pump from `from` to `to` for `source`.
    pub fn make<R: ProcessRoute>(
        &self,
        registry: &mut impl Registry<R>,
        source: Source,
        from: Endpoint,
        to: Endpoint,
    ) -> Result<Pump> {
        let route = R::to(self.key, source);
        Pump::new(from, to, self.force_copy, registry, (route, route))
            .map_err(|e| Error::os(format!("epoll_ctl {} pump", source.name()), e))
    }
}
