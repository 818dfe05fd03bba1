//! `shim-driver`: runs one container through the shim the way containerd v0.2.x does, relaying
//! stdio, and exits with the container's status. The demo and the benchmarks use it.

use std::io;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use tinyshim_testkit::driver::{self, ProcessDir, ProcessOptions};
use tinyshim_testkit::{bundle, relay};

const USAGE: &str = "\
usage: shim-driver [options] <bundle> [-- <command> [args...]]
       shim-driver make-bundle <dir>

Runs the bundle's process through containerd-shim as containerd v0.2.x would: process directory,
FIFOs, process.json, shim, `<runtime> start`, stdio relay, exit status.

options:
  --runtime <name>   OCI runtime (default: runc)
  --shim <path>      shim binary (default: containerd-shim beside this program)
  --state <dir>      state directory (default: $TMPDIR/tinyshim-driver)
  --id <id>          container id (default: tinyshim-<pid>)
  --tty              give the process a terminal
  --size <W>x<H>     terminal size sent before start (default 80x24)
  --no-stdin         no stdin FIFO (the shim gets /dev/null)
  --timing           print start-up and transfer timing to stderr

make-bundle writes <dir>/config.json and a busybox root filesystem in <dir>/rootfs, built from
the host's /bin/busybox (Debian package busybox-static).
";

struct Options {
    runtime: String,
    shim: PathBuf,
    state: PathBuf,
    id: String,
    tty: bool,
    size: (u16, u16),
    stdin: bool,
    timing: bool,
    bundle: PathBuf,
    command: Vec<String>,
}

fn parse() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let own_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let tmp = std::env::var_os("TMPDIR").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    let mut options = Options {
        runtime: "runc".into(),
        shim: own_dir.join("containerd-shim"),
        state: tmp.join("tinyshim-driver"),
        id: format!("tinyshim-{}", std::process::id()),
        tty: false,
        size: (80, 24),
        stdin: true,
        timing: false,
        bundle: PathBuf::new(),
        command: Vec::new(),
    };
    let mut bundle = None;
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--runtime" => options.runtime = value("--runtime")?,
            // The shim runs in the process directory: a relative path must not depend on that.
            "--shim" => {
                let shim = PathBuf::from(value("--shim")?);
                options.shim = std::fs::canonicalize(&shim)
                    .map_err(|e| format!("--shim {}: {e}", shim.display()))?;
            }
            "--state" => options.state = value("--state")?.into(),
            "--id" => options.id = value("--id")?,
            "--tty" => options.tty = true,
            "--no-stdin" => options.stdin = false,
            "--timing" => options.timing = true,
            "--size" => {
                let text = value("--size")?;
                let (w, h) = text.split_once('x').ok_or("--size is <W>x<H>")?;
                options.size = (
                    w.parse().map_err(|_| "bad width")?,
                    h.parse().map_err(|_| "bad height")?,
                );
            }
            "-h" | "--help" => return Err(String::new()),
            "--" => {
                options.command = args.by_ref().collect();
                break;
            }
            other if other.starts_with('-') => return Err(format!("unknown option {other}")),
            other => bundle = Some(PathBuf::from(other)),
        }
    }
    let bundle = bundle.ok_or("missing <bundle>")?;
    options.bundle =
        std::fs::canonicalize(&bundle).map_err(|e| format!("bundle {}: {e}", bundle.display()))?;
    Ok(options)
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("make-bundle") {
        return match argv.get(2) {
            Some(dir) => match make_bundle(Path::new(dir)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("shim-driver: make-bundle {dir}: {e}");
                    ExitCode::FAILURE
                }
            },
            None => {
                eprint!("{USAGE}");
                ExitCode::from(2)
            }
        };
    }
    let options = match parse() {
        Ok(options) => options,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("shim-driver: {message}");
            }
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(status) => {
            eprintln!("shim-driver: {} exited with status {status}", options.id);
            ExitCode::from(u8::try_from(status).unwrap_or(255))
        }
        Err(message) => {
            eprintln!("shim-driver: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(options: &Options) -> Result<u32, String> {
    let mut process = driver::bundle_process(&options.bundle)
        .map_err(|e| format!("{}/config.json: {e}", options.bundle.display()))?;
    process["terminal"] = options.tty.into();
    if !options.command.is_empty() {
        process["args"] = options.command.clone().into();
    }
    // runc reads the bundle's config.json, not process.json, for init: keep them in agreement.
    let config_path = options.bundle.join("config.json");
    let config_text = std::fs::read(&config_path).map_err(|e| e.to_string())?;
    let mut config: serde_json::Value =
        serde_json::from_slice(&config_text).map_err(|e| e.to_string())?;
    if config["process"] != process {
        config["process"] = process.clone();
        std::fs::write(
            &config_path,
            serde_json::to_vec_pretty(&config).unwrap_or_default(),
        )
        .map_err(|e| format!("{}: {e}", config_path.display()))?;
    }
    let process_options = ProcessOptions {
        process,
        stdin: options.stdin,
        ..ProcessOptions::default()
    };
    let made_state = !options.state.exists();
    let mut dir = ProcessDir::create(&options.state, &options.id, "init", &process_options)
        .map_err(|e| format!("process directory: {e}"))?;
    let result = supervise(options, &mut dir);
    let _ = dir.remove();
    if made_state {
        // Only when empty: another driver may be using the same default directory.
        let _ = std::fs::remove_dir(&options.state);
    }
    result
}

fn supervise(options: &Options, dir: &mut ProcessDir) -> Result<u32, String> {
    let spawned = Instant::now();
    let mut shim = dir
        .spawn_shim(
            &options.shim,
            &options.id,
            &options.bundle,
            &options.runtime,
            &[],
        )
        .map_err(|e| format!("spawn {}: {e}", options.shim.display()))?;
    let pid = dir.wait_for_pid(&mut shim, Duration::from_secs(120))?;
    let created = spawned.elapsed();
    if options.tty {
        let _ = dir.resize(options.size.0, options.size.1);
    }
    if let Err(e) = driver::runtime_start(&options.runtime, &[], &options.id) {
        let _ = driver::run_runtime(&options.runtime, &[], &["delete", "--force", &options.id]);
        let _ = shim.wait();
        return Err(e.to_string());
    }
    let started = Instant::now();
    let stdin = io::stdin();
    let use_input = options.stdin;
    let mut input = stdin.lock();
    let input_fd = stdin.as_fd();
    let relayed = relay::relay(
        dir,
        use_input.then_some(&mut input as &mut dyn io::Read),
        use_input.then_some(input_fd),
        &mut io::stdout().lock(),
        &mut io::stderr().lock(),
    )
    .map_err(|e| format!("relay: {e}"))?;
    let elapsed = started.elapsed();
    let _ = shim.wait();
    if options.timing {
        let mib = relayed.stdout as f64 / (1024.0 * 1024.0);
        eprintln!(
            "shim-driver: pid {pid}; shim to pid file {:.1} ms; {} stdout bytes, {} stderr bytes in {:.3} s ({:.0} MiB/s)",
            created.as_secs_f64() * 1000.0,
            relayed.stdout,
            relayed.stderr,
            elapsed.as_secs_f64(),
            mib / elapsed.as_secs_f64()
        );
    }
    dir.exit_status()
        .ok_or_else(|| "no exitStatus after the exit FIFO closed".to_string())
}

fn make_bundle(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let dir = std::fs::canonicalize(dir)?;
    let rootfs = bundle::busybox_rootfs(&dir.join("rootfs"))?;
    bundle::write_bundle(
        &dir,
        &bundle::ConfigOptions {
            args: vec!["sh".into()],
            terminal: false,
            pid_namespace: true,
            rootfs,
        },
    )
}
