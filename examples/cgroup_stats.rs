//! What one Stats call costs: reads the cgroup of a process as the v2 shim's Stats does, many
//! times, and prints the mean time per call and the size of the answer.
//!
//! ```text
//! cargo run --release --example cgroup_stats -- PID [ROUNDS]
//! strace -c -f target/release/examples/cgroup_stats PID 1000   # syscalls, /1000 per call
//! ```

use std::process::ExitCode;
use std::time::Instant;

use tinyshim::v2::cgroup::{Cgroup, Host};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(pid) = args.next().and_then(|pid| pid.parse::<i32>().ok()) else {
        eprintln!("usage: cgroup_stats PID [ROUNDS]");
        return ExitCode::from(2);
    };
    let rounds: u32 = args.next().and_then(|n| n.parse().ok()).unwrap_or(1000);
    let host = match Host::detect() {
        Ok(host) => host,
        Err(e) => {
            eprintln!("cgroup_stats: {e}");
            return ExitCode::FAILURE;
        }
    };
    let cgroup = match host.cgroup_of(pid) {
        Ok(cgroup) => cgroup,
        Err(e) => {
            eprintln!("cgroup_stats: {e}");
            return ExitCode::FAILURE;
        }
    };
    match &cgroup {
        Cgroup::Unified(dir) => println!("v2 cgroup {}", dir.display()),
        Cgroup::V1(paths) => {
            for dir in paths.dirs() {
                println!("v1 cgroup {}", dir.display());
            }
        }
    }
    let started = Instant::now();
    let mut bytes = 0;
    for _ in 0..rounds {
        match cgroup.stats(&host) {
            Ok(any) => bytes = any.value.len(),
            Err(e) => {
                eprintln!("cgroup_stats: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let each = started.elapsed() / rounds.max(1);
    println!("{rounds} Stats calls: {each:?} each, {bytes} bytes of metrics");
    ExitCode::SUCCESS
}
