//! A path runtime of dockerd 20.10 (`daemon.json` `"runtimes": {"crun": {"path": ...}}`, run
//! with `--runtime crun`): dockerd passes the path to the shim under test (`TINYSHIM_V2_SHIM`,
//! as `containerd-shim-runc-v2`) as runc's `binary_name`, with runc's `root`, and the shim runs
//! every runtime call through that binary with that root.

use tinyshim_testkit::crun::crun_program;
use tinyshim_testkit::docker::{DockerOptions, Dockerd, BUSYBOX_IMAGE};
use tinyshim_testkit::host::which;
use tinyshim_testkit::scratch::Scratch;
use tinyshim_testkit::script::write_script;
use tinyshim_testkit::wait::LONG;

#[test]
fn docker_run_runtime_crun_runs_the_container_and_its_exec_through_crun() {
    assert!(
        which("crun").is_some(),
        "crun is not installed (apt-get install crun; make deps does it)"
    );
    let bin = Scratch::new("crun-bin");
    let crun = crun_program(bin.path());
    // The log of the runtime's calls is what proves the shim took the path dockerd sent.
    let calls = bin.path().join("calls");
    let wrapper = bin.path().join("crun-logged");
    let script = format!(
        "#!/bin/sh\necho \"$*\" >> {calls}\nexec {crun} \"$@\"\n",
        calls = calls.display()
    );
    write_script(&wrapper, &script);
    let dockerd = Dockerd::start_with(DockerOptions {
        runtimes: vec![("crun".into(), wrapper)],
    });
    let docker = dockerd.docker();
    docker.import_busybox();

    let script = "echo ready; exec sleep 1000";
    docker.ok(&[
        "run",
        "-d",
        "--runtime",
        "crun",
        "--name",
        "c1",
        BUSYBOX_IMAGE,
        "sh",
        "-c",
        script,
    ]);
    docker.wait_for_output("c1", "ready\n", LONG);
    let exec = docker.output(&["exec", "c1", "sh", "-c", "echo from-exec; exit 6"]);
    assert_eq!(
        (exec.code(), exec.stdout_text().as_str()),
        (Some(6), "from-exec\n"),
        "{exec}"
    );
    docker.ok(&["stop", "-t", "1", "c1"]);
    assert_eq!(
        docker.inspect("c1", "{{.State.Status}} {{.State.ExitCode}}"),
        "exited 137"
    );
    docker.ok(&["rm", "c1"]);
    let calls = std::fs::read_to_string(&calls).expect("the wrapper logged its calls");
    // dockerd 20.10 gives every runtime runc's root, `<exec-root>/runtime-runc`.
    let root_flag = format!("--root {}", dockerd.runc_root().display());
    for command in ["create", "start", "exec", "kill", "delete"] {
        assert!(
            calls
                .lines()
                .any(|line| line.contains(&root_flag) && line.contains(&format!(" {command} "))),
            "no `crun {command}` with {root_flag} among the wrapper's calls:\n{calls}"
        );
    }
}
