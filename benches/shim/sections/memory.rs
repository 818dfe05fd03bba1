//! One sleeping container per supervisor: its memory, wake-ups while idle, threads and
//! descriptors. In each run every supervisor gets its own container, started after the previous
//! one's memory was measured; then all of them are watched idle together, and stopped at the
//! end of the run, the last first.

use std::time::Duration;

use tinyshim_testkit::driver;

use super::{side_by_side, MEMORY_PANEL, SIDE_BY_SIDE};
use crate::chart::Shade;
use crate::probes::{self, Memory};
use crate::report::{median, whole, Report};
use crate::supervisor::Supervised;
use crate::Options;

/// One figure of [`Memory`].
type Field = fn(&Memory) -> f64;

/// What one supervisor showed over the runs.
#[derive(Default)]
struct Sleeping {
    memory: Vec<Memory>,
    idle_switches: Vec<f64>,
    /// Of the last run; `None` where the supervisor never ran.
    descriptors: Option<usize>,
    threads: Option<f64>,
}

impl Sleeping {
    fn memory(&self, field: Field) -> f64 {
        median(self.memory.iter().map(field).collect())
    }
}

/// Runs the section.
pub fn run(options: &Options, report: &mut Report) {
    let supervisors = side_by_side();
    let runs = options.runs;
    eprintln!("memory: one sleeping container");
    probes::sync_page_cache();
    let mut found: Vec<Sleeping> = supervisors.iter().map(|_| Sleeping::default()).collect();
    for run in 0..runs {
        eprintln!("memory/idle run {}/{runs}", run + 1);
        let mut running: Vec<(usize, Box<dyn Supervised>, u64)> = Vec::new();
        for (index, supervisor) in supervisors.iter().enumerate() {
            if !supervisor.available() {
                continue;
            }
            let sleeping = supervisor.start_sleeping();
            let pids = sleeping.pids();
            // Measured once the start-up's work is over, not during it.
            driver::pause(Duration::from_millis(300));
            probes::sync_page_cache();
            let found = &mut found[index];
            found.memory.push(probes::memory(&pids));
            found.descriptors = Some(probes::descriptors(&pids));
            found.threads = Some(probes::threads(&pids));
            running.push((index, sleeping, probes::context_switches(&pids)));
        }
        // One idle window for all: a sleeping supervisor has nothing to say to another one, so
        // watching them side by side counts the same wake-ups in half the time.
        driver::pause(options.idle);
        for (index, sleeping, before) in &running {
            let after = probes::context_switches(&sleeping.pids());
            found[*index].idle_switches.push((after - before) as f64);
        }
        while let Some((_, sleeping, _)) = running.pop() {
            sleeping.stop();
        }
    }

    let table = report.table(&SIDE_BY_SIDE);
    let fields: [(&str, Field, &str); 3] = [
        ("Rss kB, one sleeping container", |m| m.rss, ""),
        ("Pss kB, one sleeping container", |m| m.pss, "<= 400"),
        (
            "Private_Dirty kB, one sleeping container",
            |m| m.private_dirty,
            "<= 100",
        ),
    ];
    for (figure, field, target) in fields {
        table.row(
            figure,
            found.iter().map(|f| whole(f.memory(field))).collect(),
            target,
        );
    }
    table.row(
        format!("context switches in {} s idle", options.idle.as_secs()),
        found
            .iter()
            .map(|f| whole(median(f.idle_switches.clone())))
            .collect(),
        "0",
    );
    table.row(
        "threads",
        found
            .iter()
            .map(|f| whole(f.threads.unwrap_or(f64::NAN)))
            .collect(),
        "1",
    );
    table.row(
        "open descriptors",
        found
            .iter()
            .map(|f| f.descriptors.map_or("n/a".into(), |n| n.to_string()))
            .collect(),
        "<= 16",
    );

    let bars: [(&str, Field, Shade); 2] = [
        ("Pss", |m| m.pss, Shade::Strong),
        ("Private_Dirty", |m| m.private_dirty, Shade::Medium),
    ];
    for (name, field, shade) in bars {
        for (supervisor, found) in supervisors.iter().zip(&found) {
            report.chart.bar(
                MEMORY_PANEL,
                format!("{} {name}", supervisor.name()),
                found.memory(field),
                supervisor.palette().colour(shade),
            );
        }
    }
}
