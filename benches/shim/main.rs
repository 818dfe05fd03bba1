//! `make bench`: what one tinyshim costs per container, measured against a direct pipe and
//! against conmon, with real busybox containers and runc. A program that prints figures, not a
//! test: nothing here asserts a timing.
//!
//! Every figure is the median of `--runs` runs (default 5). Targets are printed beside the figures
//! they apply to.
//!
//! The parts: [`probes`] read what a supervisor costs from `/proc`; [`supervisor`] is the one
//! interface every supervisor under test implements (tinyshim, conmon); [`sections`] are the
//! measurements, each adding rows to the [`report`] and bars to the [`chart`].

use std::path::PathBuf;
use std::time::Duration;

use tinyshim_testkit::harness;

mod chart;
mod probes;
mod report;
mod sections;
mod stream;
mod supervisor;

/// What the command line asked for. Every label that embeds a count, a size or a duration takes
/// it from here, so that a `--quick` run never prints the default's numbers.
pub struct Options {
    /// Runs per figure, at least one: a median of nothing is no figure.
    pub runs: usize,
    /// Bytes per transfer on the pipe paths.
    pub bytes: u64,
    /// Bytes per transfer on the terminal, which is an order of magnitude slower.
    pub tty_bytes: u64,
    /// Containers running at once in the `many` section.
    pub many: usize,
    /// How long a sleeping container's supervisor is watched for wake-ups.
    pub idle: Duration,
    /// Where to write the SVG chart.
    pub chart: Option<PathBuf>,
    /// Run one section only.
    pub only: Option<String>,
}

fn parse_options() -> Options {
    let mut options = Options {
        runs: 5,
        bytes: 1 << 30,
        tty_bytes: 1 << 30,
        many: 50,
        idle: Duration::from_secs(10),
        chart: None,
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> u64 {
            args.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} needs a number"))
        };
        match arg.as_str() {
            "--runs" => options.runs = (number("--runs") as usize).max(1),
            "--mib" => options.bytes = number("--mib") << 20,
            "--tty-mib" => options.tty_bytes = number("--tty-mib") << 20,
            "--many" => options.many = number("--many") as usize,
            "--idle-seconds" => options.idle = Duration::from_secs(number("--idle-seconds")),
            "--chart" => options.chart = args.next().map(PathBuf::from),
            "--only" => options.only = args.next(),
            "--quick" => {
                options.runs = 1;
                options.bytes = 256 << 20;
                options.tty_bytes = 64 << 20;
                options.many = 10;
                options.idle = Duration::from_secs(2);
            }
            // cargo bench passes --bench; anything else is a mistake worth seeing.
            "--bench" => {}
            other => panic!("unknown option {other}; see benches/shim/main.rs"),
        }
    }
    options
}

fn main() {
    let options = parse_options();
    if let Some(only) = &options.only {
        // A misspelt section would otherwise run nothing and print no figure, which is easy to miss.
        assert!(
            sections::ALL.iter().any(|(name, _)| name == only),
            "unknown section {only}; the sections are {}",
            sections::ALL.map(|(name, _)| name).join(", ")
        );
    }
    harness::require_runc();
    println!(
        "tinyshim bench: {} run(s) per figure, {} MiB transfers ({} MiB on the terminal), {} containers at once",
        options.runs,
        options.bytes >> 20,
        options.tty_bytes >> 20,
        options.many
    );
    let mut report = report::Report::default();
    for (name, section) in sections::ALL {
        if options.only.as_deref().is_none_or(|only| only == name) {
            section(&options, &mut report);
        }
    }
    report.print();
    if let Some(path) = &options.chart {
        let caption = format!(
            "medians of {} run(s) per figure (`make bench`); one supervisor unless noted; conmon supervises the same runc container",
            options.runs
        );
        std::fs::write(path, report.chart.svg(&caption)).expect("write chart");
        println!("chart written to {}", path.display());
    }
}
