//! `--many` sleeping containers per supervisor at once: Pss per supervisor once they share their
//! code pages. One supervisor's containers are all stopped before the next one's start.

use std::time::Duration;

use tinyshim_testkit::driver;

use super::{side_by_side, MEMORY_PANEL, SIDE_BY_SIDE};
use crate::chart::Shade;
use crate::probes;
use crate::report::{whole, Report};
use crate::supervisor::{Supervised, Supervisor};
use crate::Options;

/// Runs the section.
pub fn run(options: &Options, report: &mut Report) {
    let many = options.many;
    eprintln!("memory: {many} sleeping containers");
    let supervisors = side_by_side();
    let per_supervisor: Vec<f64> = supervisors
        .iter()
        .map(|supervisor| {
            if supervisor.available() {
                pss_each(supervisor.as_ref(), many)
            } else {
                f64::NAN
            }
        })
        .collect();

    report.table(&SIDE_BY_SIDE).row(
        format!("Pss kB per supervisor, {many} at once"),
        per_supervisor.iter().map(|&pss| whole(pss)).collect(),
        "<= 150",
    );
    for (supervisor, &pss) in supervisors.iter().zip(&per_supervisor) {
        report.chart.bar(
            MEMORY_PANEL,
            format!("{} Pss, {many} running", supervisor.name()),
            pss,
            supervisor.palette().colour(Shade::Light),
        );
    }
}

/// The mean Pss of `supervisor` over `many` of its containers running at once.
fn pss_each(supervisor: &dyn Supervisor, many: usize) -> f64 {
    let running: Vec<Box<dyn Supervised>> =
        (0..many).map(|_| supervisor.start_sleeping()).collect();
    driver::pause(Duration::from_millis(500));
    probes::sync_page_cache();
    let total: f64 = running
        .iter()
        .map(|sleeping| probes::memory(&sleeping.pids()).pss)
        .sum();
    for sleeping in running {
        sleeping.stop();
    }
    total / many as f64
}
