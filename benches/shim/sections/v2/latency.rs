//! How long the daemon's commands take through each shim: `ctr run -d` of a sleeping container
//! until ctr returns with the task RUNNING, and `ctr task exec` of `true` in it until ctr
//! returns. Both are wall-clock from spawning ctr to its exit, so they include ctr and
//! containerd, which are the same for every shim.

use super::figures::{Rows, Series, Target};
use super::Bench;

/// Samples of each per run and shim: a start varies by tens of milliseconds with runc's own
/// work.
const SAMPLES_PER_RUN: usize = 4;

/// Start and exec times of every shim.
pub struct Latency {
    start_ms: Series,
    exec_ms: Series,
}

impl Latency {
    /// No figures yet.
    pub fn new(shims: usize, runs: usize) -> Latency {
        Latency {
            start_ms: Series::new(shims, runs),
            exec_ms: Series::new(shims, runs),
        }
    }

    /// [`SAMPLES_PER_RUN`] starts and execs per shim, the shims taking turns sample by sample;
    /// each container is removed before the next shim's starts.
    pub fn measure(&mut self, bench: &Bench<'_>, run: usize) {
        for _ in 0..SAMPLES_PER_RUN {
            for shim in bench.order(run) {
                let (task, started) = match bench.daemon.start_sleeping(bench.runtime(shim), None) {
                    Ok(started) => started,
                    Err(error) => {
                        bench.failed(shim, "ctr run -d", &error);
                        self.start_ms.add(shim, run, f64::NAN);
                        continue;
                    }
                };
                self.start_ms.add(shim, run, started.as_secs_f64() * 1000.0);
                let exec = match bench.daemon.exec_true(&task) {
                    Ok(elapsed) => elapsed.as_secs_f64() * 1000.0,
                    Err(error) => {
                        bench.failed(shim, "ctr task exec true", &error);
                        f64::NAN
                    }
                };
                self.exec_ms.add(shim, run, exec);
                bench.remove_all(vec![(shim, task)]);
            }
        }
    }

    /// The table's rows.
    pub fn rows(&self, rows: &mut Rows<'_>) {
        rows.figure(
            "ms, ctr run -d until it returns with the task RUNNING".into(),
            &self.start_ms,
            1,
            Target::NoMoreThanGo,
        );
        rows.figure(
            "ms, ctr task exec of true until it returns".into(),
            &self.exec_ms,
            1,
            Target::NoMoreThanGo,
        );
    }
}
