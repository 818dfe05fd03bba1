//! `make bench`: what one tinyshim costs per container, with real busybox containers and runc:
//! the v0.2 shim measured against a direct pipe and against conmon, and the v2 shim (section
//! `v2`) against the Go and the Rust runc shims under one private containerd 1.6, and against the
//! Go shim under that containerd's CRI plugin (section `cri`: the kubelet's log path and exec
//! probes). A program that prints figures, not a test: nothing here asserts a timing.
//!
//! Every figure is the median of `--runs` runs (default 5). Targets are printed beside the figures
//! they apply to.
//!
//! The parts: [`probes`] read what a supervisor costs from `/proc`; [`supervisor`] holds the
//! supervisors under test (tinyshim and conmon behind one interface, the three v2 shims behind
//! another); [`sections`] are the measurements, each adding rows to the [`report`] and bars to a
//! [`chart`].

use std::path::PathBuf;
use std::time::Duration;

use tinyshim_testkit::host;

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
    /// Bytes per transfer through the v2 shims without a terminal.
    pub v2_bytes: u64,
    /// Bytes per transfer through the v2 shims on a terminal.
    pub v2_tty_bytes: u64,
    /// Containers at once per v2 shim, each in its own shim and then grouped into one.
    pub v2_many: usize,
    /// `ctr run -t` runs per v2 shim in the tail-loss count, spread over the runs.
    pub tail_runs: usize,
    /// Where to write the SVG chart of the v0.2 sections.
    pub chart: Option<PathBuf>,
    /// Where to write the SVG chart of the v2 section.
    pub v2_chart: Option<PathBuf>,
    /// Run one section only.
    pub only: Option<String>,
    /// In the v2 section, the stdout transfers only: many runs of them settle a throughput
    /// comparison in minutes, where a whole run of the section takes one.
    pub v2_throughput_only: bool,
}

fn parse_options() -> Options {
    let mut options = Options {
        runs: 5,
        bytes: 1 << 30,
        tty_bytes: 256 << 20,
        many: 50,
        idle: Duration::from_secs(10),
        v2_bytes: 1 << 30,
        v2_tty_bytes: 1 << 30,
        v2_many: 20,
        tail_runs: 50,
        chart: None,
        v2_chart: None,
        only: None,
        v2_throughput_only: false,
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
            "--v2-mib" => options.v2_bytes = number("--v2-mib") << 20,
            "--v2-tty-mib" => options.v2_tty_bytes = number("--v2-tty-mib") << 20,
            "--v2-many" => options.v2_many = (number("--v2-many") as usize).max(1),
            "--tail-runs" => options.tail_runs = number("--tail-runs") as usize,
            "--chart" => options.chart = args.next().map(PathBuf::from),
            "--v2-chart" => options.v2_chart = args.next().map(PathBuf::from),
            "--only" => options.only = args.next(),
            "--v2-throughput-only" => options.v2_throughput_only = true,
            "--quick" => {
                options.runs = 1;
                options.bytes = 256 << 20;
                options.tty_bytes = 64 << 20;
                options.many = 10;
                options.idle = Duration::from_secs(2);
                options.v2_bytes = 64 << 20;
                options.v2_tty_bytes = 64 << 20;
                options.v2_many = 4;
                options.tail_runs = 10;
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
    host::require_runc();
    println!(
        "tinyshim bench: {} run(s) per figure, {} MiB transfers ({} MiB on the terminal), {} containers at once",
        options.runs,
        options.bytes >> 20,
        options.tty_bytes >> 20,
        options.many
    );
    if options.only.as_deref().is_none_or(|only| only == "v2") {
        println!(
            "v2: {} MiB transfers ({} MiB on the terminal), {} containers at once, \
             {} tail-loss runs per shim",
            options.v2_bytes >> 20,
            options.v2_tty_bytes >> 20,
            options.v2_many,
            options.tail_runs
        );
    }
    let mut report = report::Report::default();
    for (name, section) in sections::ALL {
        if options.only.as_deref().is_none_or(|only| only == name) {
            section(&options, &mut report);
        }
    }
    report.print();
    let captions = [
        (
            &options.chart,
            &report.chart,
            "one supervisor unless noted; conmon supervises the same runc container",
        ),
        (
            &options.v2_chart,
            &report.v2_chart,
            "one private containerd 1.6, the same ctr commands for the three shims",
        ),
    ];
    for (path, chart, what) in captions {
        // A chart no section drew in would only overwrite a full one with an empty frame.
        if let (Some(path), false) = (path, chart.is_empty()) {
            let caption = format!(
                "medians of {} run(s) per figure (`make bench`); {what}",
                options.runs
            );
            std::fs::write(path, chart.svg(&caption)).expect("write chart");
            println!("chart written to {}", path.display());
        }
    }
}
