//! The cgroup metrics a Stats call answers with, packed in an `Any` as
//! `io.containerd.cgroups.v1.Metrics` on cgroup v1 and hybrid hosts and
//! `io.containerd.cgroups.v2.Metrics` on unified ones.
//!
//! Both are derived by hand from containerd/cgroups: `stats/v1/metrics.proto` and
//! `v2/stats/metrics.proto` as containerd 1.6.20 vendors them (cgroups v1.0.4), field by field,
//! plus the fields later cgroups releases added to the v2 message (PSI, bursts, peaks, split
//! workingset counters, `oom_group_kill`, hugetlb `failcnt`, network), which keep every older
//! number. containerd 1.6 skips the newer fields as unknown; 1.7 and 2.x read them. The v1
//! message has not changed since.
//!
//! The type URLs are the bare protobuf names: containerd resolves an `Any` by exact name, and a
//! `type.googleapis.com/` prefix would not be found.
//!
//! Where each field comes from is [`crate::v2::cgroup`]'s business; the field docs name the
//! cgroupfs file so that a reader can check a value against the kernel's.

pub mod v1;
pub mod v2;

#[cfg(test)]
mod tests;
