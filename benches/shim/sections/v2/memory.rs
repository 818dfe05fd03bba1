//! What a shim costs in memory: one shim with one sleeping container (Rss, Pss, Private_Dirty,
//! threads, descriptors) and its wake-ups while idle; `--v2-many` containers each in a shim of
//! its own (Pss per shim); and as many grouped into one shim by the grouping annotation (that
//! shim's Pss).

use std::collections::BTreeSet;
use std::time::Duration;

use tinyshim_testkit::driver;

use super::figures::{Rows, Series, Target};
use super::{in_parallel, Bench};
use crate::chart::{Chart, Shade};
use crate::probes;
use crate::supervisor::v2::{Task, V2Shim};
use crate::Options;

/// How long new shims are left to finish their start-up's work before they are measured.
const SETTLE: Duration = Duration::from_millis(500);
/// The chart's panel.
const PANEL: &str = "v2: memory per container, Pss kB";

/// Every memory figure of every shim.
pub struct Memory {
    rss: Series,
    pss: Series,
    private_dirty: Series,
    threads: Series,
    descriptors: Series,
    idle_switches: Series,
    pss_each: Series,
    pss_grouped: Series,
    grouped_shims: Series,
}

impl Memory {
    /// No figures yet.
    pub fn new(shims: usize, runs: usize) -> Memory {
        let series = Series::new(shims, runs);
        Memory {
            rss: series.clone(),
            pss: series.clone(),
            private_dirty: series.clone(),
            threads: series.clone(),
            descriptors: series.clone(),
            idle_switches: series.clone(),
            pss_each: series.clone(),
            pss_grouped: series.clone(),
            grouped_shims: series,
        }
    }

    /// Starts one sleeping container per shim, watches them all through one idle window, then
    /// measures each shim's memory (after `sync`), threads and descriptors, all in the same
    /// state. Returns the containers, still running, for the Stats calls and the exec transfers.
    pub fn one_sleeping<'d>(&mut self, bench: &Bench<'d>, run: usize) -> Vec<(usize, Task<'d>)> {
        let mut sleepers = Vec::new();
        for shim in bench.order(run) {
            match bench.daemon.start_sleeping(bench.runtime(shim), None) {
                Ok((task, _)) => sleepers.push((shim, task)),
                Err(error) => bench.failed(shim, "starting a sleeping container", &error),
            }
        }
        driver::pause(SETTLE);
        let before: Vec<_> = sleepers
            .iter()
            .map(|(_, task)| probes::switches_by_thread(&[task.shim()]))
            .collect();
        driver::pause(bench.options.idle);
        for ((shim, task), before) in sleepers.iter().zip(&before) {
            let switches = probes::switches_since(before, &[task.shim()]);
            self.idle_switches.add(*shim, run, switches as f64);
        }
        probes::sync_page_cache();
        for (shim, task) in &sleepers {
            let pids = [task.shim()];
            bench.check_alone(*shim, &pids, "memory of one shim");
            let memory = probes::memory(&pids);
            self.rss.add(*shim, run, memory.rss);
            self.pss.add(*shim, run, memory.pss);
            self.private_dirty.add(*shim, run, memory.private_dirty);
            self.threads.add(*shim, run, probes::threads(&pids));
            self.descriptors
                .add(*shim, run, probes::descriptors(&pids) as f64);
        }
        sleepers
    }

    /// `--v2-many` sleeping containers per shim, first each in its own shim, then all in one
    /// group; one shim's containers are removed before the next shim's start.
    pub fn many(&mut self, bench: &Bench<'_>, run: usize) {
        let many = bench.options.v2_many;
        for shim in bench.order(run) {
            let tasks = start_many(bench, shim, None);
            let pss = if tasks.len() == many {
                settle_and_sync();
                let pids: Vec<i32> = tasks.iter().map(|(_, task)| task.shim()).collect();
                bench.check_alone(shim, &pids, "memory of many shims");
                probes::memory(&pids).pss / many as f64
            } else {
                f64::NAN
            };
            self.pss_each.add(shim, run, pss);
            bench.remove_all(tasks);
        }
        for shim in bench.order(run) {
            let group = format!("bench-group-{run}-{shim}");
            let tasks = start_many(bench, shim, Some(&group));
            if tasks.len() == many {
                settle_and_sync();
                let shims: Vec<i32> = tasks
                    .iter()
                    .map(|(_, task)| task.shim())
                    .collect::<BTreeSet<i32>>()
                    .into_iter()
                    .collect();
                bench.check_alone(shim, &shims, "memory of a grouped shim");
                self.pss_grouped.add(shim, run, probes::memory(&shims).pss);
                self.grouped_shims.add(shim, run, shims.len() as f64);
            } else {
                self.pss_grouped.add(shim, run, f64::NAN);
            }
            bench.remove_all(tasks);
        }
    }

    /// The table's rows.
    pub fn rows(&self, rows: &mut Rows<'_>, options: &Options) {
        let one = "one shim with one sleeping container";
        let many = options.v2_many;
        rows.figure(format!("Rss kB, {one}"), &self.rss, 0, Target::None);
        rows.figure(
            format!("Pss kB, {one}"),
            &self.pss,
            0,
            Target::AtMost(600.0),
        );
        rows.figure(
            format!("Private_Dirty kB, {one} (after sync)"),
            &self.private_dirty,
            0,
            Target::None,
        );
        rows.figure(
            "threads of that shim".into(),
            &self.threads,
            0,
            Target::Exactly(1.0),
        );
        rows.figure(
            "open descriptors of that shim".into(),
            &self.descriptors,
            0,
            Target::None,
        );
        rows.figure(
            format!(
                "context switches of all its threads in {} s idle",
                options.idle.as_secs()
            ),
            &self.idle_switches,
            0,
            Target::Exactly(0.0),
        );
        rows.figure(
            format!("Pss kB per shim, {many} containers each in its own shim"),
            &self.pss_each,
            0,
            Target::AtMost(120.0),
        );
        rows.figure(
            format!("Pss kB of the one shim holding {many} grouped containers"),
            &self.pss_grouped,
            0,
            Target::AtMost(1000.0),
        );
        rows.figure(
            format!("shim processes serving the {many} grouped containers"),
            &self.grouped_shims,
            0,
            Target::None,
        );
    }

    /// The chart's bars: Pss per container with one container, with `--v2-many` in as many
    /// shims, and with as many grouped into one shim.
    pub fn bars(&self, chart: &mut Chart, shims: &[Box<dyn V2Shim>], options: &Options) {
        let many = options.v2_many;
        let each = |series: &Series, divisor: f64| -> Vec<f64> {
            (0..shims.len())
                .map(|shim| series.median(shim) / divisor)
                .collect()
        };
        let figures = [
            (
                "1 container".to_string(),
                each(&self.pss, 1.0),
                Shade::Strong,
            ),
            (
                format!("{many} in {many} shims"),
                each(&self.pss_each, 1.0),
                Shade::Medium,
            ),
            (
                format!("{many} in 1 shim"),
                each(&self.pss_grouped, many as f64),
                Shade::Light,
            ),
        ];
        for (label, values, shade) in figures {
            for (shim, value) in shims.iter().zip(values) {
                chart.bar(
                    PANEL,
                    format!("{}, {label}", shim.name()),
                    value,
                    shim.palette().colour(shade),
                );
            }
        }
    }
}

/// `--v2-many` sleeping containers through `shim`, in `group` if given, started a few at a
/// time ([`in_parallel`]); the ones that failed are noted. A group's first container starts alone, as a
/// pod's sandbox does: it is the one that starts the group's shim.
fn start_many<'d>(bench: &Bench<'d>, shim: usize, group: Option<&str>) -> Vec<(usize, Task<'d>)> {
    let daemon = bench.daemon;
    let runtime = bench.runtime(shim);
    let many = bench.options.v2_many;
    let mut started = Vec::new();
    if group.is_some() {
        started.push(daemon.start_sleeping(runtime, group));
    }
    let rest = many - started.len();
    started.extend(in_parallel(vec![(); rest], |()| {
        daemon.start_sleeping(runtime, group)
    }));
    let mut tasks = Vec::new();
    for result in started {
        match result {
            Ok((task, _)) => tasks.push((shim, task)),
            Err(error) => bench.failed(shim, "starting one of many containers", &error),
        }
    }
    tasks
}

fn settle_and_sync() {
    driver::pause(SETTLE);
    probes::sync_page_cache();
}
