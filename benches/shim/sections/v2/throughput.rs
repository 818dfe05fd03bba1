//! A container's stdout through each shim to the benchmark's reader: `--v2-mib` through
//! `ctr run` and `ctr task exec` without a terminal, `--v2-tty-mib` through both with `-t`
//! under `script`; MiB/s from the first byte to the last, and the shim's own CPU per GiB.
//! Beside them, the terminal's ceiling: the same writer on one PTY under `script` alone, no
//! shim and no ctr (through a shim the bytes cross two: the container's and `script`'s).

use std::time::Instant;

use tinyshim_testkit::bundle::HOST_BUSYBOX;

use super::figures::{Rows, Series, Target};
use super::Bench;
use crate::chart::{Chart, Shade, BASELINE};
use crate::report::median;
use crate::stream;
use crate::supervisor::v2::{self, Stdin, Task, Transfer, V2Shim};
use crate::Options;

const PIPE_PANEL: &str = "v2: stdout MiB/s, no terminal";
/// The most the ceiling's transfer moves: a PTY under `script` alone reaches its steady rate
/// within a few MiB, and a whole GiB would add ten seconds to every run of `make bench`.
const CEILING_BYTES: u64 = 256 << 20;
const TERMINAL_PANEL: &str = "v2: stdout MiB/s, terminal";

/// Which ctr command carries the output, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Run,
    Exec,
    RunTerminal,
    ExecTerminal,
}

const ROUTES: [Route; 4] = [
    Route::Run,
    Route::Exec,
    Route::RunTerminal,
    Route::ExecTerminal,
];

impl Route {
    fn terminal(self) -> bool {
        matches!(self, Route::RunTerminal | Route::ExecTerminal)
    }

    fn exec(self) -> bool {
        matches!(self, Route::Exec | Route::ExecTerminal)
    }

    fn command(self) -> &'static str {
        match self {
            Route::Run => "ctr run",
            Route::Exec => "ctr task exec",
            Route::RunTerminal => "ctr run -t",
            Route::ExecTerminal => "ctr task exec -t",
        }
    }

    fn bytes(self, options: &Options) -> u64 {
        if self.terminal() {
            options.v2_tty_bytes
        } else {
            options.v2_bytes
        }
    }

    fn targets(self) -> (Target, Target) {
        if self.terminal() {
            (Target::TimesGoAtLeast(1.5), Target::AtMost(8.0))
        } else {
            (Target::TimesGoAtLeast(2.0), Target::AtMost(0.2))
        }
    }
}

/// What the ceiling's transfer moves.
fn ceiling_bytes(options: &Options) -> u64 {
    options.v2_tty_bytes.min(CEILING_BYTES)
}

/// `bytes` as the labels print it.
fn size(bytes: u64) -> String {
    if bytes % (1 << 30) == 0 {
        format!("{} GiB", bytes >> 30)
    } else {
        format!("{} MiB", bytes >> 20)
    }
}

/// Every transfer's figures.
pub struct Throughput {
    mib_per_s: Vec<Series>,
    cpu_per_gib: Vec<Series>,
    /// MiB/s of the writer under `script` alone, by run.
    ceiling: Vec<f64>,
}

impl Throughput {
    /// No figures yet.
    pub fn new(shims: usize, runs: usize) -> Throughput {
        Throughput {
            mib_per_s: vec![Series::new(shims, runs); ROUTES.len()],
            cpu_per_gib: vec![Series::new(shims, runs); ROUTES.len()],
            ceiling: Vec::new(),
        }
    }

    /// Every route for each shim in turn; the execs run in `sleepers`, one per shim.
    pub fn measure(&mut self, bench: &Bench<'_>, run: usize, sleepers: &[(usize, Task<'_>)]) {
        for (index, route) in ROUTES.into_iter().enumerate() {
            if route == Route::RunTerminal {
                match ceiling(ceiling_bytes(bench.options)) {
                    Ok(mib) => self.ceiling.push(mib),
                    Err(error) => eprintln!("v2: script alone: {error}"),
                }
            }
            for shim in bench.order(run) {
                let bytes = route.bytes(bench.options);
                let transfer = if route.exec() {
                    match sleepers.iter().find(|(s, _)| *s == shim) {
                        Some((_, task)) => {
                            bench.daemon.transfer_exec(task, route.terminal(), bytes)
                        }
                        None => Err("no sleeping container to exec in".to_string()),
                    }
                } else {
                    bench
                        .daemon
                        .transfer_run(bench.runtime(shim), route.terminal(), bytes)
                };
                let (mib, cpu) = match transfer {
                    Ok(transfer) => {
                        check_count(bench, shim, route, &transfer, bytes);
                        (transfer.mib_per_s(), transfer.cpu_per_gib())
                    }
                    Err(error) => {
                        bench.failed(shim, route.command(), &error);
                        (f64::NAN, f64::NAN)
                    }
                };
                self.mib_per_s[index].add(shim, run, mib);
                self.cpu_per_gib[index].add(shim, run, cpu);
            }
        }
    }

    /// The table's rows.
    pub fn rows(&self, rows: &mut Rows<'_>, options: &Options) {
        for terminal in [false, true] {
            let routes = ROUTES
                .iter()
                .enumerate()
                .filter(|(_, r)| r.terminal() == terminal);
            for (index, route) in routes.clone() {
                let through = if terminal { " under script" } else { "" };
                rows.figure(
                    format!(
                        "stdout MiB/s, {} through {}{through}",
                        size(route.bytes(options)),
                        route.command()
                    ),
                    &self.mib_per_s[index],
                    0,
                    route.targets().0,
                );
            }
            for (index, route) in routes {
                rows.figure(
                    format!("shim CPU s per GiB, {}", route.command()),
                    &self.cpu_per_gib[index],
                    3,
                    route.targets().1,
                );
            }
        }
        let mut ceiling = vec![String::new(); 3];
        ceiling[0] = format!("{:.0}", median(self.ceiling.clone()));
        rows.text(
            format!(
                "stdout MiB/s, {} on one PTY under script alone, no shim (the terminal's ceiling)",
                size(ceiling_bytes(options))
            ),
            ceiling,
        );
    }

    /// The chart's bars: both routes of each shim without a terminal, then with one beside the
    /// ceiling.
    pub fn bars(&self, chart: &mut Chart, shims: &[Box<dyn V2Shim>]) {
        for (index, route) in ROUTES.into_iter().enumerate() {
            let panel = if route.terminal() {
                TERMINAL_PANEL
            } else {
                PIPE_PANEL
            };
            let shade = if route.exec() {
                Shade::Medium
            } else {
                Shade::Strong
            };
            for (shim, v2shim) in shims.iter().enumerate() {
                chart.bar(
                    panel,
                    format!("{}, {}", v2shim.name(), route.command()),
                    self.mib_per_s[index].median(shim),
                    v2shim.palette().colour(shade),
                );
            }
        }
        chart.bar(
            TERMINAL_PANEL,
            "script alone (ceiling)",
            median(self.ceiling.clone()),
            BASELINE,
        );
    }
}

/// Notes a transfer that did not deliver exactly what the container wrote.
fn check_count(bench: &Bench<'_>, shim: usize, route: Route, transfer: &Transfer, bytes: u64) {
    if transfer.bytes != bytes {
        bench.failed(
            shim,
            route.command(),
            &format!("{} bytes arrived of the {bytes} written", transfer.bytes),
        );
    }
}

/// MiB/s of `bytes` written by the same busybox `dd` straight onto `script`'s terminal.
fn ceiling(bytes: u64) -> Result<f64, String> {
    let line = [HOST_BUSYBOX, "sh", "-c", &stream::writer_script(bytes)].map(String::from);
    let deadline = Instant::now() + v2::transfer_timeout(bytes);
    let received = v2::read_output(v2::script(&line), Stdin::Held, bytes, deadline, || {})?;
    Ok(received.bytes as f64 / (1u64 << 20) as f64 / received.first_to_last.as_secs_f64())
}
