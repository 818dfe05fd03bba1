//! The kill counter of a cgroup's OOM watch: reading it, and the rule that says when what it
//! reads is a kill to report.

use std::path::Path;

use super::{Api, RECHECKS};
use crate::error::Result;
use crate::v2::cgroup::parse;
use crate::v2::cgroup::read::Files;

/// What the kill counter file said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Count {
    /// The file is gone: so is the cgroup.
    Gone,
    /// The file has no `oom_kill` line (a v1 kernel before 4.13).
    NoCounter,
    /// `oom_kill`.
    Kills(u64),
}

/// Why a counter is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Why {
    /// The kernel notified.
    Notified,
    /// A [`Recheck`] of index `attempt` came due.
    Recheck(usize),
    /// The caller asked ([`OomWatcher::check`]).
    Asked,
}

/// What a look at a counter concludes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// A kill to report.
    Killed,
    /// Nothing to report.
    Quiet,
    /// Nothing yet: look again after the delay of this index in [`RECHECKS`].
    Recheck(usize),
    /// The cgroup is gone; the watch can let its descriptor go.
    Gone,
}

/// The counter rule: a kill only when the counter rose above what was reported.
pub(super) fn judge(api: Api, reported: u64, count: Count, why: Why) -> Verdict {
    let next_recheck = match (api, why) {
        (Api::V1, Why::Notified) => Some(0),
        (Api::V1, Why::Recheck(attempt)) => Some(attempt + 1).filter(|&n| n < RECHECKS.len()),
        _ => None,
    };
    match count {
        Count::Gone => Verdict::Gone,
        Count::Kills(kills) if kills > reported => Verdict::Killed,
        Count::Kills(_) => next_recheck.map_or(Verdict::Quiet, Verdict::Recheck),
        // Without a counter a v1 notification is all there is, as for the Go shim.
        Count::NoCounter if api == Api::V1 && why == Why::Notified => Verdict::Killed,
        Count::NoCounter => Verdict::Quiet,
    }
}

/// Reads the `oom_kill` count of a counter file.
pub(super) fn read_count(path: &Path) -> Result<Count> {
    let mut files = Files::new();
    Ok(match files.read_host(path)? {
        None => Count::Gone,
        Some(text) => parse::flat_value(text, "oom_kill").map_or(Count::NoCounter, Count::Kills),
    })
}
