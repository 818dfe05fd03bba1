//! tinyshim's start-up and exit latency. runc's own `create` varies by tens of milliseconds from
//! run to run, so the shim's share is measured inside each run: the runtime is `fake-runtime`
//! stamping the moment it starts, then exec'ing runc, which splits spawn-to-pid-file into the
//! shim's start-up and runc's `create`. The time `fake-runtime` itself takes to start and stamp,
//! measured by spawning it directly, is subtracted. `runc create` alone, interleaved, gives the
//! comparison. It drives the shim through the v0.2 process directory, so it measures tinyshim
//! only.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tinyshim_testkit::binaries;
use tinyshim_testkit::container::Container;
use tinyshim_testkit::driver;
use tinyshim_testkit::host;
use tinyshim_testkit::scratch::Scratch;
use tinyshim_testkit::spec::Spec;

use super::SIDE_BY_SIDE;
use crate::report::{median, Report};
use crate::Options;

/// Start-ups vary more than the other figures: this many times `--runs` of them.
const RUNS_PER_RUN: usize = 4;

/// Runs the section.
pub fn run(options: &Options, report: &mut Report) {
    let runs = options.runs * RUNS_PER_RUN;
    let mut shim_share = Vec::new();
    let mut runc_in_shim = Vec::new();
    let mut create_alone = Vec::new();
    let mut exit_latency = Vec::new();
    let mut stamp_cost = Vec::new();
    for _ in 0..runs {
        create_alone.push(runc_create_alone());
        stamp_cost.push(fake_runtime_start_ms());
        let mut spec = Spec::sh("sleep 600").no_stdin();
        spec.runtime = binaries::fake_runtime();
        let mut container = Container::new(spec);
        let stamps = container.scratch().join("runtime-started");
        let runc = host::which("runc").expect("runc");
        container
            .spec
            .env
            .push(("FAKE_EXEC".into(), runc.display().to_string()));
        container
            .spec
            .env
            .push(("FAKE_STAMP".into(), stamps.display().to_string()));
        let dir = container.process_dir("init", &container.init_options());
        let pid_file = dir.dir.join("pid");
        let spawned = monotonic_ns();
        let mut init = container.spawn_in(dir);
        wait_for_file(&pid_file, Instant::now());
        let pid_seen = monotonic_ns();
        let runtime_started: i128 = std::fs::read_to_string(&stamps)
            .ok()
            .and_then(|text| text.lines().next()?.parse().ok())
            .expect("the runtime's start stamp");
        shim_share.push((runtime_started - spawned) as f64 / 1e6);
        runc_in_shim.push((pid_seen - runtime_started) as f64 / 1e6);
        let _ = init.wait_pid();
        driver::runtime_start("runc", &[], &container.id).expect("runc start");
        let killed = Instant::now();
        driver::run_runtime("runc", &[], &["kill", &container.id, "KILL"]).expect("runc kill");
        assert!(
            init.dir.wait_exit(Duration::from_secs(30)),
            "exit FIFO hang-up"
        );
        exit_latency.push(killed.elapsed().as_secs_f64() * 1000.0);
        init.wait_shim(Duration::from_secs(30));
    }
    let stamp_cost = median(stamp_cost);
    let shim_share = median(shim_share);
    let table = report.table(&SIDE_BY_SIDE);
    table.row(
        "start-up ms: the shim's share (spawn to runtime start)",
        vec![
            format!(
                "{:.2} ({shim_share:.2} - {stamp_cost:.2})",
                shim_share - stamp_cost
            ),
            String::new(),
        ],
        "<= 2",
    );
    table.row(
        "start-up ms: runc create under the shim (runc create alone)",
        vec![
            format!("{:.1} ({:.1})", median(runc_in_shim), median(create_alone)),
            String::new(),
        ],
        "",
    );
    table.row(
        "exit ms: runc kill to exit-FIFO hang-up",
        vec![format!("{:.1}", median(exit_latency)), String::new()],
        "",
    );
}

/// Milliseconds from spawning `fake-runtime` directly to its start stamp.
fn fake_runtime_start_ms() -> f64 {
    let scratch = Scratch::new("stamp");
    let stamps = scratch.path().join("stamp");
    let spawned = monotonic_ns();
    let status = Command::new(binaries::fake_runtime())
        .env("FAKE_STAMP", &stamps)
        .env("FAKE_EXEC", "/bin/true")
        .stdin(Stdio::null())
        .status()
        .expect("spawn fake-runtime");
    assert!(status.success());
    let started: i128 = std::fs::read_to_string(&stamps)
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .expect("stamp");
    (started - spawned) as f64 / 1e6
}

/// `CLOCK_MONOTONIC` in nanoseconds, the clock `fake-runtime` stamps with.
fn monotonic_ns() -> i128 {
    let now = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC).expect("clock");
    now.tv_sec() as i128 * 1_000_000_000 + now.tv_nsec() as i128
}

/// Milliseconds from `since` until `path` exists, polled every 200 µs in both start-up
/// measurements, so that the polling costs them the same CPU.
fn wait_for_file(path: &Path, since: Instant) -> f64 {
    while !path.exists() {
        driver::pause(Duration::from_micros(200));
        assert!(since.elapsed() < Duration::from_secs(30), "no pid file");
    }
    since.elapsed().as_secs_f64() * 1000.0
}

/// `runc create` on its own, spawn to pid file, for the start-up comparison: the command line the
/// shim runs (`--log ... --log-format json` costs runc itself about 10 ms).
fn runc_create_alone() -> f64 {
    let container = Container::new(Spec::sh("sleep 600").no_stdin());
    let pid_file = container.scratch().join("pid");
    let started = Instant::now();
    let mut runc = Command::new("runc")
        .arg("--log")
        .arg(container.scratch().join("log.json"))
        .args(["--log-format", "json", "create", "--bundle"])
        .arg(&container.bundle)
        .arg("--pid-file")
        .arg(&pid_file)
        .arg(&container.id)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("runc create");
    let elapsed = wait_for_file(&pid_file, started);
    assert!(runc.wait().expect("wait runc").success(), "runc create");
    elapsed
}
