//! Tail loss on a terminal: `ctr run -t` of a container printing 1 MiB, on a terminal the
//! benchmark owns and reads until every slave closed, so that any byte missing was lost
//! between the container and ctr. `--tail-runs` runs per shim, spread over the runs, the shims
//! taking turns run by run.

use super::figures::{Count, Rows};
use super::Bench;

/// What each run prints.
const BYTES: u64 = 1 << 20;

/// Runs that lost bytes, by shim.
pub struct TailLoss {
    counts: Vec<Count>,
}

impl TailLoss {
    /// None yet.
    pub fn new(shims: usize) -> TailLoss {
        TailLoss {
            counts: vec![Count::default(); shims],
        }
    }

    /// This run's share of `--tail-runs` for each shim.
    pub fn measure(&mut self, bench: &Bench<'_>, run: usize) {
        let (total, runs) = (bench.options.tail_runs, bench.options.runs);
        let share = total / runs + usize::from(run < total % runs);
        for _ in 0..share {
            for shim in bench.order(run) {
                let count = &mut self.counts[shim];
                count.tries += 1;
                match bench.daemon.tail_run(bench.runtime(shim), BYTES) {
                    Ok(received) if received < BYTES => {
                        count.hits += 1;
                        eprintln!(
                            "v2: {}: ctr run -t lost {} of {BYTES} bytes",
                            bench.shims[shim].name(),
                            BYTES - received
                        );
                    }
                    Ok(received) if received > BYTES => {
                        count.failed += 1;
                        let error = format!("{received} bytes arrived of the {BYTES} written");
                        bench.failed(shim, "ctr run -t (tail loss)", &error);
                    }
                    Ok(_) => {}
                    Err(error) => {
                        count.failed += 1;
                        bench.failed(shim, "ctr run -t (tail loss)", &error);
                    }
                }
            }
        }
    }

    /// The table's row.
    pub fn rows(&self, rows: &mut Rows<'_>) {
        rows.counts(
            format!(
                "runs of ctr run -t printing {} MiB that lost bytes",
                BYTES >> 20
            ),
            &self.counts,
        );
    }
}
