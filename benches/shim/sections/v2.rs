//! tinyshim's v2 shim beside the Go and the Rust runc shims, under one private containerd 1.6
//! with the same busybox rootfs and the same ctr command lines for all three (only `--runtime`
//! differs: see [`crate::supervisor::v2`]).
//!
//! Interleaved: in each of the `--runs` runs every measurement is taken for each shim in turn,
//! in an order rotated by one shim per run, so that whatever else the host does hits all three
//! alike. Each figure is the median over the runs (of the run's own median where a run takes
//! several samples); each ratio to the Go shim is the median of the ratios within each run.
//!
//! A measurement that fails (a shim that hangs, crashes or answers wrongly) is printed as it
//! happens and again under the table, and shows as `n/a`; the others are still taken.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt;
use std::thread;
use std::time::{Duration, Instant};

use tinyshim_testkit::{driver, procfs};

use crate::probes;
use crate::report::Report;
use crate::supervisor::v2::{self, Daemon, Task, V2Shim};
use crate::Options;

pub(super) mod figures;
mod latency;
mod memory;
mod stats;
mod tail_loss;
mod throughput;

use figures::Rows;

/// What every part of the section shares.
pub struct Bench<'a> {
    /// The command line's options.
    pub options: &'a Options,
    /// The one daemon.
    pub daemon: &'a Daemon,
    /// The shims, in the table's order.
    pub shims: &'a [Box<dyn V2Shim>],
    /// Each shim's `--runtime`, or why it cannot run.
    runtimes: Vec<Result<String, String>>,
    problems: RefCell<Vec<String>>,
}

impl Bench<'_> {
    /// The shims that run here, in the order run `run` takes them.
    pub fn order(&self, run: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.shims.len())
            .filter(|&shim| self.runtimes[shim].is_ok())
            .collect();
        if !order.is_empty() {
            let len = order.len();
            order.rotate_left(run % len);
        }
        order
    }

    /// Shim `shim`'s `--runtime` (one [`Bench::order`] gave).
    pub fn runtime(&self, shim: usize) -> &str {
        self.runtimes[shim].as_deref().unwrap_or_default()
    }

    /// Notes that `what` failed for `shim`.
    pub fn failed(&self, shim: usize, what: &str, error: &str) {
        let problem = format!("{}: {what}: {error}", self.shims[shim].name());
        eprintln!("v2: {problem}");
        self.problems.borrow_mut().push(problem);
    }

    /// Removes `tasks` ([`PARALLEL`] at a time), then waits for their shims to exit, so that
    /// none is left to share its pages with the next one measured; notes what would not go.
    pub fn remove_all(&self, tasks: Vec<(usize, Task<'_>)>) {
        let shims: BTreeSet<(usize, i32)> = tasks
            .iter()
            .map(|(shim, task)| (*shim, task.shim()))
            .collect();
        for (shim, result) in in_parallel(tasks, |(shim, task)| (shim, task.remove())) {
            if let Err(error) = result {
                self.failed(shim, "removing a container", &error);
            }
        }
        let deadline = Instant::now() + SHIM_EXIT_TIMEOUT;
        for (shim, pid) in shims {
            while !procfs::ended(pid) && Instant::now() < deadline {
                driver::pause(Duration::from_millis(5));
            }
            if !procfs::ended(pid) {
                let error = format!(
                    "shim {pid} still runs {SHIM_EXIT_TIMEOUT:?} after its tasks were deleted"
                );
                self.failed(shim, "removing a container", &error);
            }
        }
    }

    /// Notes that other processes run `pids`' executable, whose pages they then share: their
    /// Pss is lower than it would be alone.
    pub fn check_alone(&self, shim: usize, pids: &[i32], what: &str) {
        let others = probes::others_running_the_same_binary(pids);
        if !others.is_empty() {
            let error = format!(
                "{} other processes run the same binary (pids {others:?}): its Pss is shared with them",
                others.len()
            );
            self.failed(shim, what, &error);
        }
    }
}

/// How many containers start or go at once where only the state once all of them run is
/// measured: ctr spends most of its time waiting for runc and the shim.
const PARALLEL: usize = 4;
/// How long a shim may take to exit once its last task was deleted.
const SHIM_EXIT_TIMEOUT: Duration = Duration::from_secs(10);

/// `work` on every item, on [`PARALLEL`] threads.
pub fn in_parallel<T: Send, R: Send>(items: Vec<T>, work: impl Fn(T) -> R + Sync) -> Vec<R> {
    let mut shares: Vec<Vec<T>> = (0..PARALLEL).map(|_| Vec::new()).collect();
    for (index, item) in items.into_iter().enumerate() {
        shares[index % PARALLEL].push(item);
    }
    let work = &work;
    thread::scope(|scope| {
        let workers: Vec<_> = shares
            .into_iter()
            .map(|share| scope.spawn(move || share.into_iter().map(work).collect::<Vec<R>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| {
                worker
                    .join()
                    .expect("a worker starting or removing containers")
            })
            .collect()
    })
}

/// How long each part of a run took, for whoever plans a run of the benchmark.
struct Phases {
    line: String,
    since: Instant,
}

impl Phases {
    fn new(run: String) -> Phases {
        Phases {
            line: format!("{run}:"),
            since: Instant::now(),
        }
    }

    fn done(&mut self, phase: &str) {
        let seconds = self.since.elapsed().as_secs_f64();
        self.line.push_str(&format!(" {phase} {seconds:.1} s,"));
        self.since = Instant::now();
    }
}

impl fmt::Display for Phases {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.line.trim_end_matches(','))
    }
}

/// Runs the section.
pub fn run(options: &Options, report: &mut Report) {
    let shims = v2::all();
    let runtimes: Vec<Result<String, String>> = shims.iter().map(|s| s.runtime()).collect();
    for (shim, runtime) in shims.iter().zip(&runtimes) {
        match runtime {
            Ok(runtime) => eprintln!("v2: {} is --runtime {runtime}", shim.name()),
            Err(why) => eprintln!("v2: {}: {why}", shim.name()),
        }
    }
    let daemon = Daemon::start();
    let bench = Bench {
        options,
        daemon: &daemon,
        shims: &shims,
        runtimes,
        problems: RefCell::default(),
    };
    let (count, runs) = (shims.len(), options.runs);
    let mut memory = memory::Memory::new(count, runs);
    let mut latency = latency::Latency::new(count, runs);
    let mut throughput = throughput::Throughput::new(count, runs);
    let mut stats = stats::Stats::new(count, runs);
    let mut tail_loss = tail_loss::TailLoss::new(count);
    for run in 0..runs {
        let mut phases = Phases::new(format!("v2 run {}/{runs}", run + 1));
        let sleepers = memory.one_sleeping(&bench, run);
        phases.done("one sleeping container");
        let all = !options.v2_throughput_only;
        if all {
            stats.measure(&bench, run, &sleepers);
            phases.done("stats");
        }
        throughput.measure(&bench, run, &sleepers);
        bench.remove_all(sleepers);
        phases.done("throughput");
        if all {
            latency.measure(&bench, run);
            phases.done("start and exec");
            memory.many(&bench, run);
            phases.done("many");
            tail_loss.measure(&bench, run);
            phases.done("tail loss");
        }
        eprintln!("{phases}");
    }

    let Bench {
        runtimes, problems, ..
    } = bench;
    let mut problems = problems.into_inner();
    problems.extend(daemon.shut_down());

    let missing: Vec<Option<String>> = runtimes.iter().map(|r| r.clone().err()).collect();
    let headings: Vec<&str> = shims.iter().map(|shim| shim.heading()).collect();
    let mut rows = Rows::new(report.table(&headings), missing);
    if !options.v2_throughput_only {
        memory.rows(&mut rows, options);
        latency.rows(&mut rows);
        stats.rows(&mut rows);
    }
    throughput.rows(&mut rows, options);
    if !options.v2_throughput_only {
        tail_loss.rows(&mut rows);
        memory.bars(&mut report.v2_chart, &shims, options);
    }
    throughput.bars(&mut report.v2_chart, &shims);
    for (shim, runtime) in shims.iter().zip(&runtimes) {
        if let Err(why) = runtime {
            report.note(format!("v2: {}: {why}", shim.name()));
        }
    }
    for problem in problems {
        report.note(format!("v2 problem: {problem}"));
    }
}
