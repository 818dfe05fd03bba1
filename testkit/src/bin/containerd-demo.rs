//! `containerd-demo`: runs a busybox container through tinyshim's v2 shim under a private
//! containerd 1.6 (own root, state, sockets and namespace; CRI off), as `make demo` shows it,
//! then prints what the shim cost and stops the daemon, leaving nothing behind.

use std::path::PathBuf;
use std::process::ExitCode;

use tinyshim_testkit::containerd::options::Options;
use tinyshim_testkit::containerd::Containerd;
use tinyshim_testkit::procfs::proc_status;

const USAGE: &str = "usage: containerd-demo --shim <path to containerd-shim-tinyshim-v2>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let shim = match args.as_slice() {
        [flag, path] if flag == "--shim" => PathBuf::from(path),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let Some(shim_dir) = std::fs::canonicalize(&shim)
        .ok()
        .and_then(|p| p.parent().map(|d| d.to_path_buf()))
    else {
        eprintln!("containerd-demo: no shim at {}", shim.display());
        return ExitCode::FAILURE;
    };
    let options = Options {
        shim_dir: Some(shim_dir),
        ..Options::tinyshim_named()
    };
    let containerd = Containerd::start(options);
    let ctr = containerd.ctr();
    println!(
        "containerd 1.6 at {} (namespace {}), runtime io.containerd.tinyshim.v2",
        containerd.address().display(),
        containerd.namespace()
    );
    let detached = ctr.run("demo-sleeper", &["sleep", "600"]).detached();
    if !detached.success() {
        eprintln!("{detached}");
        return ExitCode::FAILURE;
    }
    let pid = containerd.shim_pid("demo-sleeper");
    let field = |name: &str| proc_status(pid, name).unwrap_or_default();
    // A shim binary built a moment ago is still dirty in the page cache, and its mapped pages
    // would count as the shim's Private_Dirty until written back.
    nix::unistd::sync();
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    let memory = |name: &str| {
        rollup
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let run = ctr
        .run(
            "demo",
            &[
                "sh",
                "-c",
                "echo \"hello from busybox $(hostname) via containerd and tinyshim\"; \
                 echo 'and this line went through stderr' >&2; exit 7",
            ],
        )
        .rm()
        .attached();
    print!("{}", run.stdout_text());
    eprint!("{}", run.stderr_text());
    println!(
        "ctr run exited with {:?}; the sleeping container's shim (pid {pid}): {} thread(s), Pss {}, Private_Dirty {}",
        run.code(),
        field("Threads"),
        memory("Pss:"),
        memory("Private_Dirty:")
    );
    let problems = containerd.shut_down();
    for problem in &problems {
        eprintln!("containerd-demo: {problem}");
    }
    if run.code() == Some(7) && problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
