//! Exec probes: [`EXECS`] ExecSyncs of `true` in a row (each once the last one answered) in
//! each pod's sleeping container, as a kubelet runs a liveness or readiness probe's exec. Each
//! ExecSync is a whole exec through the shim: Exec with its FIFOs, Start (runc exec), the exit,
//! Wait, Delete. Timed from the first call to the last answer; the pod shim's CPU over the same
//! calls from all its threads ([`ThreadCpu`], nanoseconds), taken [`AFTER_LAST`] after the last
//! answer. Both per [`EXECS`] calls.

use std::time::{Duration, Instant};

use tinyshim_testkit::cri::Cri;
use tinyshim_testkit::driver;

use super::daemon::PodShim;
use super::{attempt, Bench};
use crate::probes::ThreadCpu;
use crate::sections::v2::figures::{Rows, Series, Target};

/// ExecSyncs per shim and run.
const EXECS: usize = 100;
/// What each runs.
const COMMAND: [&str; 1] = ["true"];
/// From the last answer to the shim's CPU sample.
const AFTER_LAST: Duration = Duration::from_millis(20);

/// The exec probes' figures, per [`EXECS`] calls.
pub struct ExecProbes {
    cpu_ms: Series,
    wall_ms: Series,
}

impl ExecProbes {
    /// No figures yet.
    pub fn new(shims: usize, runs: usize) -> ExecProbes {
        ExecProbes {
            cpu_ms: Series::new(shims, runs),
            wall_ms: Series::new(shims, runs),
        }
    }

    /// The execs in each of `pods`, the shims taking turns.
    pub fn measure(&mut self, bench: &Bench<'_>, run: usize, pods: &[PodShim]) {
        for shim in bench.order(run) {
            let Some(pod) = pods.iter().find(|pod| pod.shim == shim) else {
                continue;
            };
            let (cpu, wall) = match probes(bench.daemon.cri(), pod) {
                Ok((cpu, wall)) => (cpu.as_secs_f64() * 1e3, wall.as_secs_f64() * 1e3),
                Err(error) => {
                    bench.failed(shim, "ExecSyncs", &error);
                    (f64::NAN, f64::NAN)
                }
            };
            self.cpu_ms.add(shim, run, cpu);
            self.wall_ms.add(shim, run, wall);
        }
    }

    /// The table's rows.
    pub fn rows(&self, rows: &mut Rows<'_>) {
        let what = format!("{EXECS} ExecSyncs of `{}` in a row", COMMAND.join(" "));
        rows.figure(
            format!("CRI exec: shim CPU ms per {what}"),
            &self.cpu_ms,
            1,
            Target::None,
        );
        rows.figure(
            format!("CRI exec: ms from the first call to the last answer, {what}"),
            &self.wall_ms,
            0,
            Target::None,
        );
    }
}

/// The shim's CPU and the wall time of the [`EXECS`] calls in `pod`'s sleeping container.
fn probes(cri: &Cri, pod: &PodShim) -> Result<(Duration, Duration), String> {
    attempt(|| {
        let before = ThreadCpu::now(&[pod.pid])?;
        let started = Instant::now();
        for call in 1..=EXECS {
            let answer = cri
                .try_exec_sync(&pod.sleeper, &COMMAND, 0)
                .map_err(|status| format!("ExecSync {call}: {status}"))?;
            if answer.exit_code != 0 {
                return Err(format!("ExecSync {call}: exit code {}", answer.exit_code));
            }
        }
        let wall = started.elapsed();
        driver::pause(AFTER_LAST);
        Ok((before.since()?, wall))
    })
}
