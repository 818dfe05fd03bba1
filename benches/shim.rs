//! `make bench`: what one tinyshim costs per container, measured against a direct pipe and
//! against conmon, with real busybox containers and runc. A program that prints figures, not a
//! test: nothing here asserts a timing.
//!
//! Every figure is the median of `--runs` runs (default 5). Targets are printed beside the figures
//! they apply to.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use tinyshim_testkit::driver;
use tinyshim_testkit::harness::{self as common, proc_status, Container, Proc, Spec};

const GIB: u64 = 1 << 30;
const MIB: f64 = 1024.0 * 1024.0;

struct Options {
    runs: usize,
    bytes: u64,
    tty_bytes: u64,
    many: usize,
    idle: Duration,
    chart: Option<PathBuf>,
    /// Run one section only: throughput, memory, many or latency.
    only: Option<String>,
}

fn parse_options() -> Options {
    let mut options = Options {
        runs: 5,
        bytes: GIB,
        tty_bytes: GIB,
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
            "--runs" => options.runs = number("--runs") as usize,
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
            other => panic!("unknown option {other}; see benches/shim.rs"),
        }
    }
    options
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// Reads `file` (made non-blocking) to EOF through a 64 KiB buffer, the way the daemon's copy
/// loop does; returns the bytes and the time from the first byte to EOF.
fn drain(file: &mut File) -> (u64, Duration) {
    let flags = nix::fcntl::fcntl(file.as_fd(), nix::fcntl::FcntlArg::F_GETFL).expect("F_GETFL");
    let flags = nix::fcntl::OFlag::from_bits_truncate(flags) | nix::fcntl::OFlag::O_NONBLOCK;
    nix::fcntl::fcntl(file.as_fd(), nix::fcntl::FcntlArg::F_SETFL(flags)).expect("F_SETFL");
    let mut buffer = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    let mut first: Option<Instant> = None;
    loop {
        match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                first.get_or_insert_with(Instant::now);
                total += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let mut fds = [PollFd::new(file.as_fd(), PollFlags::POLLIN)];
                let _ = poll(&mut fds, PollTimeout::NONE);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("read: {e}"),
        }
    }
    (total, first.map(|f| f.elapsed()).unwrap_or_default())
}

/// The container's command writing `bytes` (a multiple of 64 KiB) to stdout in 64 KiB writes,
/// without newlines (a terminal would expand them).
fn writer_script(bytes: u64) -> String {
    format!(
        "dd if=/dev/zero bs=65536 count={} 2>/dev/null",
        bytes / 65536
    )
}

/// CPU seconds (utime + stime) of `pid` from `/proc/<pid>/stat`.
fn cpu_seconds(pid: i32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    let ticks = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100) as f64;
    Some((utime + stime) / ticks)
}

/// `smaps_rollup` fields in kB.
fn smaps(pid: i32) -> Memory {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    let field = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(f64::NAN)
    };
    Memory {
        rss: field("Rss:"),
        pss: field("Pss:"),
        private_dirty: field("Private_Dirty:"),
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Memory {
    rss: f64,
    pss: f64,
    private_dirty: f64,
}

/// Context switches of every thread of `pid`.
fn context_switches(pid: i32) -> u64 {
    let mut total = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let status = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
        for line in status.lines() {
            if let Some(v) = line
                .strip_prefix("voluntary_ctxt_switches:")
                .or_else(|| line.strip_prefix("nonvoluntary_ctxt_switches:"))
            {
                total += v.trim().parse::<u64>().unwrap_or(0);
            }
        }
    }
    total
}

fn descriptor_count(pid: i32) -> usize {
    common::open_fds(pid).len()
}

fn threads(pid: i32) -> f64 {
    proc_status(pid, "Threads")
        .and_then(|t| t.parse().ok())
        .unwrap_or(f64::NAN)
}

/// One transfer through the shim.
struct Transfer {
    mib_per_s: f64,
    cpu_per_gib: f64,
    peak_rss_kb: f64,
}

fn shim_transfer(bytes: u64, terminal: bool, copy: bool) -> Transfer {
    let mut spec = Spec::sh(&writer_script(bytes)).no_stdin();
    if terminal {
        spec = spec.tty();
    }
    if copy {
        spec = spec.copy_path();
    }
    let container = Container::new(spec);
    let (mut init, _) = container.run();
    let shim = init.shim_pid();
    let stdout = init.dir.stdout.as_mut().expect("stdout reader");
    let (total, elapsed) = drain(stdout);
    // The shim is still alive here: it closed the FIFO and now runs `delete`.
    let cpu = cpu_seconds(shim).unwrap_or(f64::NAN);
    let peak = proc_status(shim, "VmHWM")
        .and_then(|v| v.trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(f64::NAN);
    assert_eq!(total, bytes, "every byte arrives");
    init.wait_shim(Duration::from_secs(60));
    Transfer {
        mib_per_s: total as f64 / MIB / elapsed.as_secs_f64(),
        cpu_per_gib: cpu / (total as f64 / GIB as f64),
        peak_rss_kb: peak,
    }
}

/// The same container with runc run writing straight into a pipe read the same way.
fn direct_transfer(bytes: u64) -> f64 {
    let container = Container::new(Spec::sh(&writer_script(bytes)).no_stdin());
    let mut child = Command::new("runc")
        .args(["run", "--bundle"])
        .arg(&container.bundle)
        .arg(&container.id)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("runc run");
    let mut stdout = File::from(std::os::fd::OwnedFd::from(
        child.stdout.take().expect("piped stdout"),
    ));
    let (total, elapsed) = drain(&mut stdout);
    let _ = child.wait();
    assert_eq!(total, bytes, "every byte arrives");
    total as f64 / MIB / elapsed.as_secs_f64()
}

/// A container that sleeps, supervised by a shim; the shim's pid and the container's handle.
fn sleeping_shim(spec: Spec) -> (Container, Proc) {
    let container = Container::new(spec);
    let (init, _) = container.run();
    (container, init)
}

/// A container that sleeps, supervised by conmon (double-forked: the monitor is not our child).
struct Conmon {
    container: Container,
    pid: i32,
    dir: PathBuf,
}

fn conmon_available() -> bool {
    common::which("conmon").is_some()
}

fn sleeping_conmon(script: &str) -> Conmon {
    let container = Container::new(Spec::sh(script).no_stdin());
    let dir = container.scratch().join("conmon");
    for sub in ["exits", "sockets"] {
        std::fs::create_dir_all(dir.join(sub)).expect("conmon dirs");
    }
    let runc = common::which("runc").expect("runc");
    let status = Command::new("conmon")
        .args([
            "-c",
            &container.id,
            "-u",
            &container.id,
            "-n",
            &container.id,
        ])
        .arg("-r")
        .arg(&runc)
        .arg("-b")
        .arg(&container.bundle)
        .arg("-p")
        .arg(dir.join("pid"))
        .arg("-P")
        .arg(dir.join("conmon.pid"))
        .arg("-l")
        .arg(format!("k8s-file:{}", dir.join("log").display()))
        .arg("--exit-dir")
        .arg(dir.join("exits"))
        .arg("--socket-dir-path")
        .arg(dir.join("sockets"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("spawn conmon");
    assert!(status.success(), "conmon failed to create the container");
    // conmon's parent returns before the runtime has created the container.
    let pid_file = dir.join("pid");
    common::eventually(
        Duration::from_secs(30),
        "conmon's container pid file",
        || pid_file.exists(),
    );
    container.start();
    let pid = std::fs::read_to_string(dir.join("conmon.pid"))
        .ok()
        .and_then(|p| p.trim().parse().ok())
        .expect("conmon pid file");
    Conmon {
        container,
        pid,
        dir,
    }
}

impl Drop for Conmon {
    fn drop(&mut self) {
        let _ = driver::run_runtime("runc", &[], &["kill", &self.container.id, "KILL"]);
        let exit = self.dir.join("exits").join(&self.container.id);
        common::eventually(Duration::from_secs(20), "conmon exit file", || {
            exit.exists()
        });
        let _ = driver::run_runtime("runc", &[], &["delete", "--force", &self.container.id]);
    }
}

fn sync() {
    let _ = Command::new("sync").status();
}

struct Row {
    figure: String,
    tinyshim: String,
    other: String,
    target: String,
}

fn row(figure: &str, tinyshim: String, other: String, target: &str) -> Row {
    Row {
        figure: figure.into(),
        tinyshim,
        other,
        target: target.into(),
    }
}

fn main() {
    let options = parse_options();
    common::require_runc();
    println!(
        "tinyshim bench: {} run(s) per figure, {} MiB transfers ({} MiB on the terminal), {} containers at once",
        options.runs.max(1),
        options.bytes >> 20,
        options.tty_bytes >> 20,
        options.many
    );
    let mut report = Report::default();
    let sections: [(&str, Section); 4] = [
        ("throughput", throughput),
        ("memory", memory),
        ("many", many_at_once),
        ("latency", latency),
    ];
    for (name, section) in sections {
        if options.only.as_deref().is_none_or(|only| only == name) {
            section(&options, &mut report);
        }
    }
    print_table(&report.rows);
    if let Some(path) = &options.chart {
        std::fs::write(path, report.chart.svg()).expect("write chart");
        println!("chart written to {}", path.display());
    }
}

/// One part of the benchmark, adding its rows and chart figures to the report.
type Section = fn(&Options, &mut Report);

/// The table's rows and the chart's figures, filled by the sections that ran.
struct Report {
    rows: Vec<Row>,
    chart: Chart,
}

impl Default for Report {
    fn default() -> Report {
        Report {
            rows: Vec::new(),
            chart: Chart {
                direct: f64::NAN,
                splice: f64::NAN,
                copy: f64::NAN,
                terminal: f64::NAN,
                shim_pss: f64::NAN,
                shim_dirty: f64::NAN,
                shim_many: f64::NAN,
                conmon_pss: f64::NAN,
                conmon_dirty: f64::NAN,
                conmon_many: f64::NAN,
            },
        }
    }
}

/// A conmon figure, or `n/a` where conmon is not installed.
fn conmon_figure(value: f64) -> String {
    if value.is_nan() {
        "n/a".to_string()
    } else {
        format!("{value:.0}")
    }
}

/// 1 GiB of stdout: direct pipe, splice, copy and terminal paths, with the shim's CPU.
fn throughput(options: &Options, report: &mut Report) {
    let runs = options.runs.max(1);
    let mut direct = Vec::new();
    let mut splice = Vec::new();
    let mut copy = Vec::new();
    let mut tty = Vec::new();
    for run in 0..runs {
        eprintln!("throughput run {}/{runs}", run + 1);
        direct.push(direct_transfer(options.bytes));
        splice.push(shim_transfer(options.bytes, false, false));
        copy.push(shim_transfer(options.bytes, false, true));
        tty.push(shim_transfer(options.tty_bytes, true, false));
    }
    let direct_mib = median(direct.clone());
    let figure =
        |transfers: &[Transfer], f: fn(&Transfer) -> f64| median(transfers.iter().map(f).collect());
    let splice_mib = figure(&splice, |t| t.mib_per_s);
    let copy_mib = figure(&copy, |t| t.mib_per_s);
    let tty_mib = figure(&tty, |t| t.mib_per_s);
    report.rows.push(row(
        "stdout MiB/s, direct pipe",
        String::new(),
        format!("{direct_mib:.0}"),
        "",
    ));
    for (name, mib) in [
        ("splice", splice_mib),
        ("copy", copy_mib),
        ("terminal", tty_mib),
    ] {
        report.rows.push(row(
            &format!("stdout MiB/s, {name} (ratio to direct)"),
            format!("{mib:.0} ({:.2})", mib / direct_mib),
            String::new(),
            if name == "terminal" { "" } else { ">= 0.9" },
        ));
    }
    for (name, transfers) in [("splice", &splice), ("copy", &copy), ("terminal", &tty)] {
        report.rows.push(row(
            &format!("shim CPU s per GiB, {name}"),
            format!("{:.3}", figure(transfers, |t| t.cpu_per_gib)),
            String::new(),
            if name == "terminal" { "" } else { "<= 0.2" },
        ));
    }
    report.rows.push(row(
        "peak RSS during transfer, kB (splice / copy)",
        format!(
            "{:.0} / {:.0}",
            figure(&splice, |t| t.peak_rss_kb),
            figure(&copy, |t| t.peak_rss_kb)
        ),
        String::new(),
        "",
    ));

    report.chart.direct = direct_mib;
    report.chart.splice = splice_mib;
    report.chart.copy = copy_mib;
    report.chart.terminal = tty_mib;
}

/// One sleeping container: memory, idle wake-ups, threads and descriptors, shim and conmon.
fn memory(options: &Options, report: &mut Report) {
    let runs = options.runs.max(1);
    eprintln!("memory: one sleeping container");
    sync();
    let mut shim_memory = Vec::new();
    let mut conmon_memory = Vec::new();
    let mut shim_idle = Vec::new();
    let mut conmon_idle = Vec::new();
    let mut shim_fds = 0;
    let mut shim_threads = f64::NAN;
    let mut conmon_fds = 0;
    let mut conmon_threads = f64::NAN;
    for run in 0..runs {
        eprintln!("memory/idle run {}/{runs}", run + 1);
        let (_container, init) = sleeping_shim(Spec::sh("sleep 600").no_stdin());
        let pid = init.shim_pid();
        driver::pause(Duration::from_millis(300));
        sync();
        shim_memory.push(smaps(pid));
        shim_fds = descriptor_count(pid);
        shim_threads = threads(pid);
        let before = context_switches(pid);
        driver::pause(options.idle);
        shim_idle.push((context_switches(pid) - before) as f64);
        if conmon_available() {
            let conmon = sleeping_conmon("sleep 600");
            driver::pause(Duration::from_millis(300));
            sync();
            conmon_memory.push(smaps(conmon.pid));
            conmon_fds = descriptor_count(conmon.pid);
            conmon_threads = threads(conmon.pid);
            let before = context_switches(conmon.pid);
            driver::pause(options.idle);
            conmon_idle.push((context_switches(conmon.pid) - before) as f64);
        }
    }
    let memory_median =
        |values: &[Memory], f: fn(&Memory) -> f64| median(values.iter().map(f).collect());
    for (name, f, target) in [
        (
            "Rss kB, one sleeping container",
            (|m: &Memory| m.rss) as fn(&Memory) -> f64,
            "",
        ),
        (
            "Pss kB, one sleeping container",
            |m: &Memory| m.pss,
            "<= 400",
        ),
        (
            "Private_Dirty kB, one sleeping container",
            |m: &Memory| m.private_dirty,
            "<= 100",
        ),
    ] {
        report.rows.push(row(
            name,
            format!("{:.0}", memory_median(&shim_memory, f)),
            conmon_figure(memory_median(&conmon_memory, f)),
            target,
        ));
    }
    report.rows.push(row(
        &format!("context switches in {} s idle", options.idle.as_secs()),
        format!("{:.0}", median(shim_idle)),
        conmon_figure(median(conmon_idle)),
        "0",
    ));
    report.rows.push(row(
        "threads",
        format!("{shim_threads:.0}"),
        conmon_figure(conmon_threads),
        "1",
    ));
    report.rows.push(row(
        "open descriptors",
        shim_fds.to_string(),
        if conmon_available() {
            conmon_fds.to_string()
        } else {
            "n/a".into()
        },
        "<= 16",
    ));

    report.chart.shim_pss = memory_median(&shim_memory, |m| m.pss);
    report.chart.shim_dirty = memory_median(&shim_memory, |m| m.private_dirty);
    report.chart.conmon_pss = memory_median(&conmon_memory, |m| m.pss);
    report.chart.conmon_dirty = memory_median(&conmon_memory, |m| m.private_dirty);
}

/// Pss per supervisor with many sleeping containers at once.
fn many_at_once(options: &Options, report: &mut Report) {
    eprintln!("memory: {} sleeping containers", options.many);
    let many_pss = |start: &dyn Fn() -> i32| -> f64 {
        let pids: Vec<i32> = (0..options.many).map(|_| start()).collect();
        driver::pause(Duration::from_millis(500));
        sync();
        let total: f64 = pids.iter().map(|&pid| smaps(pid).pss).sum();
        total / options.many as f64
    };
    let shims = std::cell::RefCell::new(Vec::new());
    let shim_many = many_pss(&|| {
        let (container, init) = sleeping_shim(Spec::sh("sleep 600").no_stdin());
        let pid = init.shim_pid();
        shims.borrow_mut().push((container, init));
        pid
    });
    shims.borrow_mut().clear();
    let conmons = std::cell::RefCell::new(Vec::new());
    let conmon_many = if conmon_available() {
        let pss = many_pss(&|| {
            let conmon = sleeping_conmon("sleep 600");
            let pid = conmon.pid;
            conmons.borrow_mut().push(conmon);
            pid
        });
        conmons.borrow_mut().clear();
        pss
    } else {
        f64::NAN
    };
    report.rows.push(row(
        &format!("Pss kB per supervisor, {} at once", options.many),
        format!("{shim_many:.0}"),
        conmon_figure(conmon_many),
        "<= 150",
    ));

    report.chart.shim_many = shim_many;
    report.chart.conmon_many = conmon_many;
}

/// Start-up and exit latency. runc's own `create` varies by tens of milliseconds from run to run,
/// so the shim's share is measured inside each run: the runtime is `fake-runtime` stamping the
/// moment it starts, then exec'ing runc, which splits spawn-to-pid-file into the shim's start-up
/// and runc's `create`. The time `fake-runtime` itself takes to start and stamp, measured by
/// spawning it directly, is subtracted. `runc create` alone, interleaved, gives the comparison.
fn latency(options: &Options, report: &mut Report) {
    let runs = options.runs.max(1) * 4;
    let mut shim_share = Vec::new();
    let mut runc_in_shim = Vec::new();
    let mut create_alone = Vec::new();
    let mut exit_latency = Vec::new();
    let mut stamp_cost = Vec::new();
    for _ in 0..runs {
        create_alone.push(runc_create_alone());
        stamp_cost.push(fake_runtime_start_ms());
        let mut spec = Spec::sh("sleep 600").no_stdin();
        spec.runtime = common::fake_runtime();
        let container = Container::new(spec);
        let stamps = container.scratch().join("runtime-started");
        let runc = common::which("runc").expect("runc");
        let mut container = container;
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
    report.rows.push(row(
        "start-up ms: the shim's share (spawn to runtime start)",
        format!(
            "{:.2} ({shim_share:.2} - {stamp_cost:.2})",
            shim_share - stamp_cost
        ),
        String::new(),
        "<= 2",
    ));
    report.rows.push(row(
        "start-up ms: runc create under the shim (runc create alone)",
        format!("{:.1} ({:.1})", median(runc_in_shim), median(create_alone)),
        String::new(),
        "",
    ));
    report.rows.push(row(
        "exit ms: runc kill to exit-FIFO hang-up",
        format!("{:.1}", median(exit_latency)),
        String::new(),
        "",
    ));
}

/// Milliseconds from spawning `fake-runtime` directly to its start stamp.
fn fake_runtime_start_ms() -> f64 {
    let scratch = common::Scratch::new("stamp");
    let stamps = scratch.path().join("stamp");
    let spawned = monotonic_ns();
    let status = Command::new(common::fake_runtime())
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
fn wait_for_file(path: &std::path::Path, since: Instant) -> f64 {
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

fn print_table(rows: &[Row]) {
    let width = |f: fn(&Row) -> &str, title: &str| {
        rows.iter()
            .map(|r| f(r).len())
            .chain([title.len()])
            .max()
            .unwrap_or(0)
    };
    let w = [
        width(|r| &r.figure, "figure"),
        width(|r| &r.tinyshim, "tinyshim"),
        width(|r| &r.other, "direct / conmon"),
        width(|r| &r.target, "target"),
    ];
    let line = |a: &str, b: &str, c: &str, d: &str| {
        println!(
            "| {a:<w0$} | {b:>w1$} | {c:>w2$} | {d:<w3$} |",
            w0 = w[0],
            w1 = w[1],
            w2 = w[2],
            w3 = w[3]
        )
    };
    println!();
    line("figure", "tinyshim", "direct / conmon", "target");
    println!(
        "|{}|{}:|{}:|{}|",
        "-".repeat(w[0] + 2),
        "-".repeat(w[1] + 1),
        "-".repeat(w[2] + 1),
        "-".repeat(w[3] + 2)
    );
    for r in rows {
        line(&r.figure, &r.tinyshim, &r.other, &r.target);
    }
    println!();
}

/// Two bar charts in one SVG: throughput against the direct pipe, and memory per supervisor.
struct Chart {
    direct: f64,
    splice: f64,
    copy: f64,
    terminal: f64,
    shim_pss: f64,
    shim_dirty: f64,
    shim_many: f64,
    conmon_pss: f64,
    conmon_dirty: f64,
    conmon_many: f64,
}

impl Chart {
    fn svg(&self) -> String {
        let mut out = String::from(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="820" height="300" font-family="sans-serif" font-size="12">
<rect width="820" height="300" fill="white"/>
<text x="10" y="290" fill="gray">medians of the runs of `make bench`; one supervisor unless noted; conmon supervises the same runc container</text>
"#,
        );
        let bars = |out: &mut String, x0: f64, title: &str, items: &[(&str, f64, &str)]| {
            let max = items
                .iter()
                .map(|i| i.1)
                .filter(|v| v.is_finite())
                .fold(1.0, f64::max);
            out.push_str(&format!(
                r#"<text x="{}" y="20" font-size="14" font-weight="bold">{title}</text>
"#,
                x0
            ));
            for (index, (label, value, colour)) in items.iter().enumerate() {
                let y = 40.0 + index as f64 * 38.0;
                let length = if value.is_finite() {
                    value / max * 190.0
                } else {
                    0.0
                };
                out.push_str(&format!(
                    r#"<text x="{x0}" y="{}" >{label}</text><rect x="{}" y="{}" width="{length:.1}" height="22" fill="{colour}"/><text x="{}" y="{}">{}</text>
"#,
                    y + 15.0,
                    x0 + 165.0,
                    y,
                    x0 + 170.0 + length,
                    y + 15.0,
                    if value.is_finite() { format!("{value:.0}") } else { "n/a".into() }
                ));
            }
        };
        bars(
            &mut out,
            10.0,
            "stdout throughput (MiB/s)",
            &[
                ("direct pipe", self.direct, "#999999"),
                ("tinyshim splice", self.splice, "#2b7bb9"),
                ("tinyshim copy", self.copy, "#6baed6"),
                ("tinyshim terminal", self.terminal, "#9ecae1"),
            ],
        );
        bars(
            &mut out,
            420.0,
            "memory per supervisor (kB)",
            &[
                ("tinyshim Pss", self.shim_pss, "#2b7bb9"),
                ("conmon Pss", self.conmon_pss, "#d95f02"),
                ("tinyshim Private_Dirty", self.shim_dirty, "#6baed6"),
                ("conmon Private_Dirty", self.conmon_dirty, "#fc8d62"),
                ("tinyshim Pss, 50 running", self.shim_many, "#9ecae1"),
                ("conmon Pss, 50 running", self.conmon_many, "#fdae6b"),
            ],
        );
        out.push_str("</svg>\n");
        out
    }
}
