//! `--mib` of stdout (`--tty-mib` on the terminal) through tinyshim's splice, copy and terminal
//! paths, against the same container writing straight into a pipe; with the shim's CPU.

use std::fs::File;
use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};

use tinyshim_testkit::container::Container;
use tinyshim_testkit::pump_path::PumpPath;
use tinyshim_testkit::spec::Spec;

use super::SIDE_BY_SIDE;
use crate::chart::{Shade, BASELINE};
use crate::probes;
use crate::report::{median, Report};
use crate::stream;
use crate::supervisor::{Supervisor, Tinyshim};
use crate::Options;

const MIB: f64 = (1u64 << 20) as f64;
const GIB: f64 = (1u64 << 30) as f64;
const PANEL: &str = "stdout throughput (MiB/s)";

/// One way a transfer takes through a supervisor.
struct Route<'a> {
    /// Its name in the rows, after the supervisor's in the chart.
    name: &'static str,
    supervisor: &'a dyn Supervisor,
    terminal: bool,
    /// Its bar's shade of the supervisor's palette.
    shade: Shade,
    /// The targets of its ratio to the direct pipe and of its CPU per GiB; empty where none is
    /// set.
    ratio_target: &'static str,
    cpu_target: &'static str,
}

/// One transfer through a supervisor.
struct Transfer {
    mib_per_s: f64,
    cpu_per_gib: f64,
    peak_rss_kb: f64,
}

/// Runs the section.
pub fn run(options: &Options, report: &mut Report) {
    let splice = Tinyshim::on(PumpPath::Splice);
    let copy = Tinyshim::on(PumpPath::Copy);
    let routes = [
        Route {
            name: "splice",
            supervisor: &splice,
            terminal: false,
            shade: Shade::Strong,
            ratio_target: ">= 0.9",
            cpu_target: "<= 0.2",
        },
        Route {
            name: "copy",
            supervisor: &copy,
            terminal: false,
            shade: Shade::Medium,
            ratio_target: ">= 0.9",
            cpu_target: "<= 0.2",
        },
        Route {
            name: "terminal",
            supervisor: &splice,
            terminal: true,
            shade: Shade::Light,
            ratio_target: "",
            cpu_target: "",
        },
    ];
    let bytes = |route: &Route| {
        if route.terminal {
            options.tty_bytes
        } else {
            options.bytes
        }
    };
    let runs = options.runs;
    let mut direct = Vec::new();
    let mut transfers: Vec<Vec<Transfer>> = routes.iter().map(|_| Vec::new()).collect();
    for run in 0..runs {
        eprintln!("throughput run {}/{runs}", run + 1);
        direct.push(direct_transfer(options.bytes));
        for (route, transfers) in routes.iter().zip(&mut transfers) {
            transfers.push(transfer(route.supervisor, bytes(route), route.terminal));
        }
    }
    let figure =
        |transfers: &[Transfer], f: fn(&Transfer) -> f64| median(transfers.iter().map(f).collect());

    let direct_mib = median(direct);
    let table = report.table(&SIDE_BY_SIDE);
    table.row(
        "stdout MiB/s, direct pipe",
        vec![String::new(), format!("{direct_mib:.0}")],
        "",
    );
    for (route, transfers) in routes.iter().zip(&transfers) {
        let mib = figure(transfers, |t| t.mib_per_s);
        table.row(
            format!("stdout MiB/s, {} (ratio to direct)", route.name),
            vec![format!("{mib:.0} ({:.2})", mib / direct_mib), String::new()],
            route.ratio_target,
        );
    }
    for (route, transfers) in routes.iter().zip(&transfers) {
        table.row(
            format!("shim CPU s per GiB, {}", route.name),
            vec![
                format!("{:.3}", figure(transfers, |t| t.cpu_per_gib)),
                String::new(),
            ],
            route.cpu_target,
        );
    }
    let pipes: Vec<(&Route, &Vec<Transfer>)> = routes
        .iter()
        .zip(&transfers)
        .filter(|(route, _)| !route.terminal)
        .collect();
    let names: Vec<&str> = pipes.iter().map(|(route, _)| route.name).collect();
    let peaks: Vec<String> = pipes
        .iter()
        .map(|(_, transfers)| format!("{:.0}", figure(transfers, |t| t.peak_rss_kb)))
        .collect();
    table.row(
        format!("peak RSS during transfer, kB ({})", names.join(" / ")),
        vec![peaks.join(" / "), String::new()],
        "",
    );

    report.chart.bar(PANEL, "direct pipe", direct_mib, BASELINE);
    for (route, transfers) in routes.iter().zip(&transfers) {
        report.chart.bar(
            PANEL,
            format!("{} {}", route.supervisor.name(), route.name),
            figure(transfers, |t| t.mib_per_s),
            route.supervisor.palette().colour(route.shade),
        );
    }
}

/// `bytes` through `supervisor`, read the way the daemon reads; the supervisor's CPU and peak
/// memory are sampled at the reader's EOF, while it still runs.
fn transfer(supervisor: &dyn Supervisor, bytes: u64, terminal: bool) -> Transfer {
    let mut streaming = supervisor
        .start_streaming(bytes, terminal)
        .unwrap_or_else(|| panic!("{} cannot stream", supervisor.name()));
    let pids = streaming.pids();
    let (total, elapsed) = stream::drain(streaming.output());
    // The supervisor is still alive here (tinyshim closed the FIFO and now runs `delete`).
    let cpu = probes::cpu_seconds(&pids);
    let peak = probes::peak_rss_kb(&pids);
    assert_eq!(total, bytes, "every byte arrives");
    streaming.wait_exit();
    Transfer {
        mib_per_s: total as f64 / MIB / elapsed.as_secs_f64(),
        cpu_per_gib: cpu / (total as f64 / GIB),
        peak_rss_kb: peak,
    }
}

/// MiB/s of the same container with `runc run` writing straight into a pipe read the same way.
fn direct_transfer(bytes: u64) -> f64 {
    let container = Container::new(Spec::sh(&stream::writer_script(bytes)).no_stdin());
    let mut child = Command::new("runc")
        .args(["run", "--bundle"])
        .arg(&container.bundle)
        .arg(&container.id)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("runc run");
    let mut stdout = File::from(OwnedFd::from(child.stdout.take().expect("piped stdout")));
    let (total, elapsed) = stream::drain(&mut stdout);
    let _ = child.wait();
    assert_eq!(total, bytes, "every byte arrives");
    total as f64 / MIB / elapsed.as_secs_f64()
}
