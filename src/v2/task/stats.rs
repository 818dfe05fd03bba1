//! Stats: the container's cgroup metrics (`io.containerd.cgroups.v1.Metrics` on v1 and hybrid
//! hosts, `.v2.Metrics` on unified ones), read on the loop from the cgroup found at Create: a
//! few dozen small kernel-made files, under a tenth of a millisecond, so that containerd, which
//! asks each shim in turn, is never held up. NotFound once the cgroup is gone (containerd skips
//! those without a word).

use crate::v2::cgroup::StatsError;
use crate::v2::proto::task::{StatsRequest, StatsResponse};
use crate::v2::proto::ttrpc::Code;
use crate::v2::ttrpc::call::CallError;

use super::{not_created, shim_error, Answer, Step, TaskService};

impl TaskService {
    #[inline(never)]
    pub(super) fn stats(&mut self, request: &StatsRequest) -> Answer<Step<StatsResponse>> {
        let host = self.cgroups.host().map_err(shim_error)?;
        let container = self
            .containers
            .get(&request.id)
            .ok_or_else(|| not_created(&request.id))?;
        let Some(cgroup) = &container.cgroup else {
            return Err(CallError::new(
                Code::NotFound,
                format!("container {}: no cgroup", request.id),
            ));
        };
        match cgroup.stats(host) {
            Ok(stats) => Ok(Step::Answer(StatsResponse { stats: Some(stats) })),
            Err(gone @ StatsError::Gone { .. }) => {
                Err(CallError::new(Code::NotFound, gone.to_string()))
            }
            Err(StatsError::Failed(e)) => Err(shim_error(e)),
        }
    }
}
