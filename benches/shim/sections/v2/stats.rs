//! What a Stats call costs the shim, the call containerd makes for `ctr task metrics` and the
//! kubelet's every stats poll of every container: `containerd.task.v2.Task/Stats` with
//! `StatsRequest{1 id}`, sent by the test kit's raw ttrpc client straight to the shim's own
//! socket (its bundle's `address` file), so that neither ctr nor containerd is in the figure.
//! The container is the idle shim's one sleeping container of [`super::memory`].
//!
//! Two figures, both the shim's CPU per call over all its threads ([`ThreadCpu`]: schedstat,
//! nanoseconds; a tick-counting `utime` would read 0 or 10 ms for one call):
//!
//! * one call on its own: [`SINGLE_CALLS`] calls per run, the shims taking turns call by call
//!   and each shim's calls [`SPACING`] apart, so that each finds the shim idle again; the run's
//!   median;
//! * [`IN_A_ROW`] calls back to back on one connection (each sent once the last one's reply
//!   arrived), the total divided by their number: what a burst of polls costs per call.
//!
//! Each window closes [`AFTER_REPLY`] after the last reply, so that the work a shim does once
//! its reply is written (and the thread's switch-out that brings its count up to date) is in.

use std::path::Path;
use std::time::Duration;

use tinyshim_testkit::driver;
use tinyshim_testkit::ttrpc_client::{self, code, Client, TASK_SERVICE};

use super::figures::{Rows, Series, Target};
use super::Bench;
use crate::probes::ThreadCpu;
use crate::supervisor::v2::Task;

/// Single calls per shim and run.
const SINGLE_CALLS: usize = 9;
/// Between two single calls to the same shim.
const SPACING: Duration = Duration::from_millis(100);
/// Calls in the burst.
const IN_A_ROW: usize = 1000;
/// From the last reply to the end of the CPU window.
const AFTER_REPLY: Duration = Duration::from_millis(20);
/// From connecting to the first measured call: the shim's accept and its first read are not
/// the call's.
const AFTER_CONNECT: Duration = Duration::from_millis(100);

/// The Stats figures of every shim, in microseconds of shim CPU per call.
pub struct Stats {
    single_us: Series,
    in_a_row_us: Series,
}

/// A connection to one shim's socket, and what it is for.
struct Caller {
    shim: usize,
    pid: i32,
    id: String,
    client: Client,
}

impl Caller {
    /// One Stats call, failing unless the shim answers OK with a payload.
    fn stats(&mut self) -> Result<(), String> {
        let request = ttrpc_client::process_request(&self.id, "");
        let reply = self
            .client
            .call(TASK_SERVICE, "Stats", &request)
            .map_err(|e| format!("Stats: {e}"))?;
        if reply.code != code::OK {
            return Err(format!("Stats: code {}: {}", reply.code, reply.message));
        }
        if reply.payload.is_empty() {
            return Err("Stats answered OK with no metrics".into());
        }
        Ok(())
    }

    /// The shim's CPU in microseconds for `calls` Stats calls in a row.
    fn measure(&mut self, calls: usize) -> Result<f64, String> {
        let before = ThreadCpu::now(&[self.pid])?;
        for _ in 0..calls {
            self.stats()?;
        }
        driver::pause(AFTER_REPLY);
        let cpu = before.since()?;
        Ok(cpu.as_secs_f64() * 1e6 / calls as f64)
    }
}

impl Stats {
    /// No figures yet.
    pub fn new(shims: usize, runs: usize) -> Stats {
        Stats {
            single_us: Series::new(shims, runs),
            in_a_row_us: Series::new(shims, runs),
        }
    }

    /// Both figures for the shim of each of `sleepers`, which sleep and are otherwise left
    /// alone.
    pub fn measure(&mut self, bench: &Bench<'_>, run: usize, sleepers: &[(usize, Task<'_>)]) {
        let mut callers = Vec::new();
        for shim in bench.order(run) {
            let Some((_, task)) = sleepers.iter().find(|(s, _)| *s == shim) else {
                continue;
            };
            match bench
                .daemon
                .task_socket(task)
                .and_then(|socket| connect(&socket))
            {
                Ok(client) => callers.push(Caller {
                    shim,
                    pid: task.shim(),
                    id: task.id().to_string(),
                    client,
                }),
                Err(error) => bench.failed(shim, "connecting to the shim for Stats", &error),
            }
        }
        driver::pause(AFTER_CONNECT);
        let mut broken = vec![false; callers.len()];
        for _ in 0..SINGLE_CALLS {
            for (caller, broken) in callers.iter_mut().zip(&mut broken) {
                if *broken {
                    continue;
                }
                match caller.measure(1) {
                    Ok(us) => self.single_us.add(caller.shim, run, us),
                    Err(error) => {
                        // One failure is the run's figure: the rest would measure a shim in
                        // an unknown state.
                        *broken = true;
                        bench.failed(caller.shim, "one Stats call", &error);
                        self.single_us.add(caller.shim, run, f64::NAN);
                    }
                }
            }
            driver::pause(SPACING);
        }
        for (caller, broken) in callers.iter_mut().zip(broken) {
            let us = if broken {
                f64::NAN
            } else {
                caller.measure(IN_A_ROW).unwrap_or_else(|error| {
                    bench.failed(caller.shim, "Stats calls in a row", &error);
                    f64::NAN
                })
            };
            self.in_a_row_us.add(caller.shim, run, us);
        }
    }

    /// The table's rows.
    pub fn rows(&self, rows: &mut Rows<'_>) {
        rows.figure(
            format!(
                "shim CPU µs for one Stats call on the idle shim (raw ttrpc; median of \
                 {SINGLE_CALLS}, {} ms apart)",
                SPACING.as_millis()
            ),
            &self.single_us,
            1,
            Target::None,
        );
        rows.figure(
            format!("shim CPU µs per Stats call, {IN_A_ROW} in a row on one connection"),
            &self.in_a_row_us,
            1,
            Target::None,
        );
    }
}

fn connect(socket: &Path) -> Result<Client, String> {
    Client::connect(socket).map_err(|e| e.to_string())
}
