//! What stands at each end of the pumps, through the real binary: the process gets exactly the
//! shim's three pipes, owned by `rootUID`/`rootGID`; client FIFO paths may be `/dev/null`, empty
//! or a symlink to a FIFO; output pipes and FIFOs get their larger capacity.

use std::os::unix::fs::{symlink, FileTypeExt, MetadataExt};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;
use tinyshim_testkit::container::Container;
use tinyshim_testkit::fake::Fake;
use tinyshim_testkit::on_both_pump_paths;
use tinyshim_testkit::process::edit_process_json;
use tinyshim_testkit::procfs::{comm, open_fds, pipes_of};
use tinyshim_testkit::pump_path::PumpPath;
use tinyshim_testkit::spec::Spec;
use tinyshim_testkit::wait::{eventually, LONG};

/// Waits until `pid` runs `name` (runc's init has exec'd the process).
fn wait_comm(pid: i32, name: &str) {
    eventually(LONG, &format!("process {pid} runs {name}"), || {
        comm(pid) == name
    });
}

/// The inodes of the pipes behind `fds` of `pid`, sorted, each checked to be a pipe of group
/// `gid`.
fn pipe_inodes(pid: i32, fds: &[i32], gid: u32) -> Vec<u64> {
    let mut inodes: Vec<u64> = fds
        .iter()
        .map(|fd| {
            let meta = std::fs::metadata(format!("/proc/{pid}/fd/{fd}")).expect("stat");
            assert!(meta.file_type().is_fifo(), "{pid} fd {fd} is a pipe");
            assert_eq!(meta.gid(), gid, "{pid} fd {fd}");
            meta.ino()
        })
        .collect();
    inodes.sort_unstable();
    inodes
}

#[test]
fn a_process_holds_only_the_shims_three_pipes_owned_by_root_uid_and_gid() {
    // The fake runtime, unlike runc, leaves the pipes as the shim made them: owner and group.
    let fake = Fake::sh("exec sleep 1000");
    let mut options = fake.container.init_options();
    options.root_ids = (1000, 1001);
    let mut init = fake.container.spawn("init", &options);
    let pid = init.wait_pid();
    let mut inodes = Vec::new();
    for fd in 0..3 {
        let meta = std::fs::metadata(format!("/proc/{pid}/fd/{fd}")).expect("stat");
        assert!(meta.file_type().is_fifo(), "fd {fd} is a pipe");
        assert_eq!((meta.uid(), meta.gid()), (1000, 1001), "fd {fd}");
        inodes.push(meta.ino());
    }
    inodes.sort_unstable();
    inodes.dedup();
    assert_eq!(inodes.len(), 3, "three distinct pipes");
    // The host's `sh` and `sleep` are dynamically linked: the loader holds a library open as
    // descriptor 3 for a moment after each exec, while a descriptor the shim leaked would stay.
    wait_comm(pid, "sleep");
    eventually(
        LONG,
        &format!("process {pid} holds only 0, 1 and 2"),
        || open_fds(pid) == [0, 1, 2],
    );
    fake.assert_calls_started_clean();
    kill(Pid::from_raw(pid), Signal::SIGKILL).expect("kill");
    assert_eq!(init.finish().exit_status, b"137");

    // runc hands the owner of init's stdio to the container's user (root here) and keeps the
    // group; what the container holds is the shim's own pipes, and nothing else.
    let container = Container::new(Spec::command(&["cat"]));
    let mut options = container.init_options();
    options.root_ids = (1000, 1001);
    let mut init = container.spawn("init", &options);
    let pid = init.wait_pid();
    container.start();
    wait_comm(pid, "cat");
    assert_eq!(open_fds(pid), vec![0, 1, 2]);
    let shim = init.shim_pid();
    assert_eq!(
        pipe_inodes(pid, &[0, 1, 2], 1001),
        pipe_inodes(shim, &pipes_of(shim), 1001)
    );

    // An exec the same.
    let mut exec = container.spawn_exec("cat", &["cat"], false);
    let exec_pid = exec.wait_pid();
    wait_comm(exec_pid, "cat");
    assert_eq!(open_fds(exec_pid), vec![0, 1, 2]);
    let exec_shim = exec.shim_pid();
    assert_eq!(
        pipe_inodes(exec_pid, &[0, 1, 2], 0),
        pipe_inodes(exec_shim, &pipes_of(exec_shim), 0)
    );
    exec.dir.close_stdin().expect("control");
    assert_eq!(exec.finish().exit_status, b"0");
    init.dir.close_stdin().expect("control");
    assert_eq!(init.finish().exit_status, b"0");
}

fn dev_null_or_empty_client_fifo_paths_work(path: PumpPath) {
    // A broken stdout or stderr would kill `echo` with SIGPIPE or fail it; a stdin that never
    // ends would leave `cat` waiting.
    let script = "cat; echo out || exit 8; echo err >&2 || exit 9; exit 7";
    for paths in [
        ["/dev/null", "/dev/null", "/dev/null"],
        ["", "/dev/null", ""],
        ["/dev/null", "", "/dev/null"],
    ] {
        let container = Container::new(Spec::sh(script).on(path));
        let mut init = container.spawn_prepared("init", &container.init_options(), |dir| {
            edit_process_json(dir, |v| {
                for (key, fifo) in ["containerdStdin", "containerdStdout", "containerdStderr"]
                    .iter()
                    .zip(paths)
                {
                    v[*key] = Value::from(fifo);
                }
            })
        });
        init.wait_pid();
        container.start();
        let end = init.finish();
        // Nothing reaches the daemon's FIFOs, which no one opened for writing.
        assert_eq!(end.stdout, b"", "{paths:?}");
        assert_eq!(end.stderr, b"", "{paths:?}");
        assert_eq!(end.exit_status, b"7", "{paths:?}");
        assert_eq!(init.shim_log(), "", "{paths:?}");
    }
}

#[test]
fn a_symlink_to_the_stdout_fifo_works() {
    let container = Container::new(Spec::sh("echo through the link; exit 6"));
    let link = container.scratch().join("stdout-link");
    let mut init = container.spawn_prepared("init", &container.init_options(), |d| {
        symlink(&d.stdout_path, &link).expect("symlink");
        edit_process_json(d, |v| {
            v["containerdStdout"] = Value::from(link.display().to_string())
        });
    });
    init.wait_pid();
    container.start();
    let end = init.finish();
    assert_eq!(end.stdout, b"through the link\n");
    assert_eq!(end.exit_status, b"6");
}

on_both_pump_paths!(dev_null_or_empty_client_fifo_paths_work);
