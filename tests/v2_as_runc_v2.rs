//! The shim under test (`TINYSHIM_V2_SHIM`) installed as `containerd-shim-runc-v2` in a
//! directory first on containerd's `PATH`, driven as `io.containerd.runc.v2` with the runc
//! options ctr sends for that runtime only (`--runc-binary`, `--runc-root`): how Docker 20.10,
//! which knows no other shim, would run it. (`--runc-systemd-cgroup` is left out: this host
//! has no systemd.)

use std::os::unix::fs::symlink;

use tinyshim_testkit::containerd::options::{Options, ShimUnderTest, GO_RUNC_RUNTIME};
use tinyshim_testkit::containerd::Containerd;
use tinyshim_testkit::host::which;
use tinyshim_testkit::scratch::Scratch;
use tinyshim_testkit::script::write_script;
use tinyshim_testkit::wait::LONG;

#[test]
fn installed_as_the_runc_shim_it_runs_with_the_runc_binary_and_root_ctr_asks_for() {
    let shim = ShimUnderTest::selected().binary();
    let dir = Scratch::new("as-runc");
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).expect("create bin/");
    symlink(&shim, bin.join("containerd-shim-runc-v2")).expect("install the shim as runc's");
    let calls = dir.path().join("runc-calls");
    let wrapper = dir.path().join("runc-wrapper");
    let runc = which("runc").expect("runc is installed");
    let script = format!(
        "#!/bin/sh\necho \"$*\" >> {calls}\nexec {runc} \"$@\"\n",
        calls = calls.display(),
        runc = runc.display()
    );
    write_script(&wrapper, &script);
    let root = dir.path().join("runc-root");

    let containerd = Containerd::start(Options {
        runtime: GO_RUNC_RUNTIME.into(),
        shim_dir: Some(bin.clone()),
        ..Options::go_shim()
    });
    let ctr = containerd.ctr();
    let output = ctr
        .run("c1", &["sh", "-c", "echo from-c1; sleep 1000"])
        .flag("--runc-binary")
        .flag(&wrapper.display().to_string())
        .flag("--runc-root")
        .flag(&root.display().to_string())
        .detached()
        .ok();
    ctr.wait_for_status("c1", "RUNNING", LONG);
    // Like the default root, the one given gets a directory per namespace.
    let state = root.join(ctr.namespace());
    let serving = containerd.shim_pid("c1");
    assert_eq!(
        std::fs::read_link(format!("/proc/{serving}/exe")).ok(),
        Some(std::fs::canonicalize(&shim).expect("the shim's real path")),
        "the shim serving c1 ({output})"
    );
    assert!(
        state.join("c1/state.json").exists(),
        "runc's state of c1 is not in {}",
        state.display()
    );
    assert!(
        !containerd.runc_root().join("c1").exists(),
        "runc's state of c1 went to the default root too"
    );
    let exec = ctr.exec("c1", "e1", &["echo", "from-exec"]).attached().ok();
    assert_eq!(exec.stdout_text(), "from-exec\n");

    ctr.kill("c1", "SIGKILL").ok();
    ctr.wait_for_status("c1", "STOPPED", LONG);
    assert_eq!(ctr.delete_task_status("c1"), 137);
    assert!(
        !state.join("c1").exists(),
        "runc's state of c1 outlived the task"
    );
    let calls = std::fs::read_to_string(&calls).expect("the wrapper recorded its calls");
    let root_flag = format!("--root {}", state.display());
    for command in ["create", "start", "exec", "delete"] {
        assert!(
            calls
                .lines()
                .any(|line| line.contains(&root_flag) && line.contains(&format!(" {command} "))),
            "no `runc {command}` with {root_flag} among the wrapper's calls:\n{calls}"
        );
    }
}
