//! Stats through a private containerd 1.6 and `ctr task metrics`: what tinyshim's v2 shim
//! answers agrees with the Go runc shim's answer for the same container, CPU time rises under a
//! busy loop, and (tinyshim-only) a container whose cgroup is gone is NotFound.

use std::time::Duration;

use serde_json::Value;
use tinyshim_testkit::containerd::options::{Options, GO_RUNC_RUNTIME};
use tinyshim_testkit::containerd::Containerd;
use tinyshim_testkit::ctr::Ctr;
use tinyshim_testkit::wait::LONG;

/// `ctr task metrics --format json` of `id`, decoded.
fn metrics(ctr: &Ctr, id: &str) -> Value {
    let output = ctr.ok(&["tasks", "metrics", "--format", "json", id]);
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{output}: {e}"))
}

/// The top-level messages and the memory usage entry's fields, which clients read.
fn shape(metrics: &Value) -> Vec<String> {
    let mut keys: Vec<String> = metrics
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    keys
}

#[test]
fn task_metrics_have_the_go_shims_messages_and_values_for_the_same_container() {
    let containerd = Containerd::start(Options::tinyshim());
    let ctr = containerd.ctr();
    let go = ctr.clone().with_runtime(GO_RUNC_RUNTIME);
    ctr.run("tiny", &["sleep", "1000"]).detached().ok();
    go.run("go", &["sleep", "1000"]).detached().ok();
    ctr.wait_for_status("tiny", "RUNNING", LONG);
    ctr.wait_for_status("go", "RUNNING", LONG);
    let (tiny, go) = (metrics(&ctr, "tiny"), metrics(&ctr, "go"));
    // blkio is present for both; its entries depend on what each container happened to read.
    assert_eq!(shape(&tiny), shape(&go), "{tiny:#}\n{go:#}");
    for field in [
        "/pids/current",
        "/memory/usage/limit",
        "/memory/hierarchical_memory_limit",
    ] {
        assert_eq!(tiny.pointer(field), go.pointer(field), "{field}");
    }
    let usage = |m: &Value| m.pointer("/memory/usage/usage").and_then(Value::as_u64);
    let (tiny_usage, go_usage) = (usage(&tiny).unwrap_or(0), usage(&go).unwrap_or(0));
    assert!(
        tiny_usage > 0 && tiny_usage.abs_diff(go_usage) < 8 << 20,
        "memory in use: tinyshim {tiny_usage}, Go {go_usage}"
    );
    for m in [&tiny, &go] {
        assert!(
            m.pointer("/cpu/usage/total").and_then(Value::as_u64) > Some(0),
            "{m:#}"
        );
        assert!(m.pointer("/cpu/throttling").is_some(), "{m:#}");
        assert!(m.pointer("/memory/kernel_tcp").is_some(), "{m:#}");
    }
}

#[test]
fn the_cpu_time_task_metrics_report_rises_under_a_busy_loop() {
    let containerd = Containerd::start(Options::under_test());
    let ctr = containerd.ctr();
    ctr.run("busy", &["sh", "-c", "while :; do :; done"])
        .detached()
        .ok();
    ctr.wait_for_status("busy", "RUNNING", LONG);
    let cpu = |ctr: &Ctr| {
        metrics(ctr, "busy")
            .pointer("/cpu/usage/total")
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    let before = cpu(&ctr);
    std::thread::sleep(Duration::from_millis(500));
    let after = cpu(&ctr);
    // Half a second of a spinning loop is far more than 50 ms of CPU, even on a loaded host.
    assert!(
        after > before + 50_000_000,
        "cpu.usage.total went from {before} to {after} ns"
    );
}

mod tinyshim_only {
    use super::*;
    use tinyshim_testkit::containerd::options::require_tinyshim;
    use tinyshim_testkit::ttrpc_client::{code, Client, TASK_SERVICE};

    /// The cgroup directories of `pid`, one per v1 hierarchy (or its unified one).
    fn cgroup_dirs(pid: u32) -> Vec<std::path::PathBuf> {
        let table = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).expect("its cgroups");
        let mounts = tinyshim_testkit::mounts::cgroup_hierarchies();
        table
            .lines()
            .filter_map(|line| {
                let mut fields = line.splitn(3, ':');
                let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
                let mount = mounts.iter().find(|mount| {
                    let name = mount.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    let mounted: Vec<&str> = name.split(',').collect();
                    controllers
                        .split(',')
                        .any(|c| !c.is_empty() && mounted.contains(&c))
                })?;
                Some(mount.join(path.trim_start_matches('/')))
            })
            .filter(|dir| dir.is_dir())
            .collect()
    }

    #[test]
    fn stats_of_a_container_whose_cgroup_is_gone_is_not_found() {
        require_tinyshim("NotFound once the cgroup is gone");
        let containerd = Containerd::start(Options::under_test());
        let ctr = containerd.ctr();
        ctr.run("short", &["sleep", "1"]).detached().ok();
        let task = ctr.wait_for_status("short", "RUNNING", LONG);
        let dirs = cgroup_dirs(task.pid);
        assert!(!dirs.is_empty(), "no cgroup directory for {}", task.pid);
        ctr.wait_for_status("short", "STOPPED", LONG);
        // What systemd does to a scope whose processes are gone.
        for dir in &dirs {
            std::fs::remove_dir(dir).unwrap_or_else(|e| panic!("rmdir {}: {e}", dir.display()));
        }
        let mut client = Client::connect(&containerd.task_socket("short")).expect("connect");
        let request = tinyshim_testkit::protobuf::MessageWriter::new()
            .string(1, "short")
            .finish();
        let reply = client.call(TASK_SERVICE, "Stats", &request).expect("Stats");
        assert_eq!(reply.code, code::NOT_FOUND, "{reply:?}");
        assert!(reply.message.contains("does not exist"), "{reply:?}");
    }
}
