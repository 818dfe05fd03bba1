//! Checkpoint and restore through the v2 shim under test (`TINYSHIM_V2_SHIM`). `criu check`
//! fails on this host's kernel, so the runc the shim finds first on containerd's `PATH` is a
//! wrapper of the test's: it writes down every command line, answers `checkpoint` itself (or
//! fails it with a criu log, when told to), turns `restore` into the `runc run --detach` it
//! stands for, and hands everything else to the real runc. The real thing, for hosts where criu
//! works, is the ignored test at the end.

use std::path::{Path, PathBuf};

use tinyshim_testkit::bundle::{self, ConfigOptions};
use tinyshim_testkit::containerd::options::Options;
use tinyshim_testkit::containerd::Containerd;
use tinyshim_testkit::protobuf::MessageWriter;
use tinyshim_testkit::runc_wrapper::RuncWrapper;
use tinyshim_testkit::scratch::Scratch;
use tinyshim_testkit::ttrpc_client::{code, process_request, Client, TASK_SERVICE};
use tinyshim_testkit::wait::LONG;

/// What `checkpoint` writes to criu's log when told to fail.
const CRIU_LOG: &str = "Error (criu/cr-dump.c:1788): Dumping FAILED.";

/// The runc wrapper (see the module documentation): `CALLS` is where it writes command lines,
/// `FAIL` a file whose presence makes `checkpoint` fail, `RUNC` the real runc.
const WRAPPER: &str = r#"#!/bin/sh
echo "$*" >> CALLS
case " $* " in
*" checkpoint "*)
  work=
  while [ $# -gt 0 ]; do
    [ "$1" = --work-path ] && work=$2
    shift
  done
  if [ -e FAIL ]; then
    echo "CRIU_LOG" > "$work/dump.log"
    echo 'criu failed: type NOTIFY errno 0' >&2
    exit 1
  fi
  exit 0 ;;
*" restore "*)
  set -- "$@" END
  while [ "$1" != END ]; do
    case "$1" in
    restore) set -- "$@" run ;;
    --image-path|--work-path|--parent-path) shift ;;
    --no-subreaper) ;;
    --pid-file|--console-socket|--bundle|--root|--log|--log-format) set -- "$@" "$1" "$2"; shift ;;
    *) set -- "$@" "$1" ;;
    esac
    shift
  done
  shift
  exec RUNC "$@" ;;
esac
exec RUNC "$@"
"#;

/// A daemon running the shim under test, which finds the wrapper as `runc`; the file the
/// wrapper writes command lines to, and the one that makes `checkpoint` fail.
struct Wrapped {
    containerd: Containerd,
    calls: PathBuf,
    fail: PathBuf,
    _wrapper: RuncWrapper,
}

impl Wrapped {
    fn start() -> Wrapped {
        let script = WRAPPER
            .replace("CALLS", "DIR/runc-calls")
            .replace("FAIL", "DIR/fail")
            .replace("CRIU_LOG", CRIU_LOG);
        let wrapper = RuncWrapper::new("ckpt", &script);
        let containerd = Containerd::start(wrapper.options());
        Wrapped {
            containerd,
            calls: wrapper.dir().join("runc-calls"),
            fail: wrapper.dir().join("fail"),
            _wrapper: wrapper,
        }
    }

    /// The runc command lines of `subcommand`, as the wrapper wrote them.
    fn calls_of(&self, subcommand: &str) -> Vec<Vec<String>> {
        std::fs::read_to_string(&self.calls)
            .unwrap_or_default()
            .lines()
            .map(|line| line.split(' ').map(str::to_string).collect::<Vec<_>>())
            .filter(|words| words.iter().any(|w| w == subcommand))
            .collect()
    }
}

/// The value after `flag` in `words`.
fn value<'a>(words: &'a [String], flag: &str) -> Option<&'a str> {
    let at = words.iter().position(|w| w == flag)?;
    words.get(at + 1).map(String::as_str)
}

#[test]
fn ctr_task_checkpoint_dumps_a_running_container_and_leaves_it_running() {
    let wrapped = Wrapped::start();
    let ctr = wrapped.containerd.ctr();
    ctr.run("c1", &["sleep", "1000"]).detached().ok();
    ctr.wait_for_status("c1", "RUNNING", LONG);
    ctr.ok(&["tasks", "checkpoint", "c1"]);
    let checkpoints = wrapped.calls_of("checkpoint");
    assert_eq!(checkpoints.len(), 1, "{checkpoints:?}");
    let words = &checkpoints[0];
    assert!(words.iter().any(|w| w == "--leave-running"), "{words:?}");
    assert_eq!(words.last().map(String::as_str), Some("c1"), "{words:?}");
    assert!(value(words, "--image-path").is_some(), "{words:?}");
    assert!(value(words, "--work-path").is_some(), "{words:?}");
    // containerd paused it for the dump and resumed it afterwards.
    assert_eq!(ctr.task("c1").expect("c1").status, "RUNNING");
}

mod tinyshim_only {
    use super::*;
    use tinyshim_testkit::containerd::options::require_tinyshim;

    /// `CheckpointTaskRequest{1 id, 2 path, 3 options}` with every option of
    /// `containerd.runc.v1.CheckpointOptions` set.
    fn checkpoint_request(id: &str, image: &Path, work: &Path) -> Vec<u8> {
        let options = MessageWriter::new()
            .bool(1, true)
            .bool(2, true)
            .bool(3, true)
            .bool(4, true)
            .bool(5, true)
            .string(6, "network")
            .string(6, "ipc")
            .string(8, &image.display().to_string())
            .string(9, &work.display().to_string())
            .string(10, "/parent")
            .finish();
        let any = MessageWriter::new()
            .string(1, "containerd.runc.v1.CheckpointOptions")
            .bytes(2, &options)
            .finish();
        MessageWriter::new()
            .string(1, id)
            .string(2, "/not/this/path")
            .message(3, &any)
            .finish()
    }

    #[test]
    fn every_checkpoint_option_reaches_runc_and_a_failed_dump_keeps_crius_log() {
        require_tinyshim("checkpoint options and criu's log");
        let wrapped = Wrapped::start();
        let ctr = wrapped.containerd.ctr();
        ctr.run("c1", &["sleep", "1000"]).detached().ok();
        ctr.wait_for_status("c1", "RUNNING", LONG);
        let scratch = Scratch::new("images");
        let (image, work) = (scratch.path().join("image"), scratch.path().join("work"));
        let mut client = Client::connect(&wrapped.containerd.task_socket("c1")).expect("connect");
        let request = checkpoint_request("c1", &image, &work);
        let reply = client
            .call(TASK_SERVICE, "Checkpoint", &request)
            .expect("Checkpoint");
        assert_eq!(reply.code, code::OK, "{reply:?}");
        let words = wrapped
            .calls_of("checkpoint")
            .pop()
            .expect("a checkpoint call");
        let tail: Vec<&str> = words
            .iter()
            .skip_while(|w| *w != "checkpoint")
            .map(String::as_str)
            .collect();
        let (image, work) = (image.display().to_string(), work.display().to_string());
        assert_eq!(
            tail,
            [
                "checkpoint",
                "--image-path",
                &image,
                "--work-path",
                &work,
                "--tcp-established",
                "--ext-unix-sk",
                "--shell-job",
                "--file-locks",
                "--empty-ns",
                "network",
                "--empty-ns",
                "ipc",
                "--parent-path",
                "/parent",
                "c1"
            ]
        );

        std::fs::write(&wrapped.fail, "").expect("make checkpoint fail");
        let plain = MessageWriter::new()
            .string(1, "c1")
            .string(2, &image)
            .finish();
        let failed = client
            .call(TASK_SERVICE, "Checkpoint", &plain)
            .expect("Checkpoint");
        assert_eq!(failed.code, code::UNKNOWN, "{failed:?}");
        let kept = wrapped.containerd.bundle("c1").join("criu-dump.log");
        assert!(
            failed.message.contains(&kept.display().to_string())
                && failed.message.contains("criu failed"),
            "{failed:?}"
        );
        let log = std::fs::read_to_string(&kept).expect("criu's log kept in the bundle");
        assert_eq!(log.trim(), CRIU_LOG);
        let work_dirs = wrapped.calls_of("checkpoint");
        let default_work = work_dirs
            .last()
            .and_then(|words| value(words, "--work-path"))
            .expect("a work path");
        assert!(
            !Path::new(default_work).exists(),
            "{default_work} left behind"
        );
    }

    #[test]
    fn a_create_from_a_checkpoint_is_restored_by_its_start() {
        require_tinyshim("restore");
        let wrapped = Wrapped::start();
        let ctr = wrapped.containerd.ctr();
        ctr.run("c1", &["sleep", "1000"]).detached().ok();
        ctr.wait_for_status("c1", "RUNNING", LONG);
        let scratch = Scratch::new("restore");
        let bundle = scratch.path().join("bundle");
        bundle::write_bundle(
            &bundle,
            &ConfigOptions {
                args: vec!["sleep".into(), "1000".into()],
                terminal: false,
                pid_namespace: true,
                rootfs: bundle::rootfs(),
            },
        )
        .expect("write a bundle");
        let image = scratch.path().join("image");
        std::fs::create_dir_all(&image).expect("an image directory");
        let create = MessageWriter::new()
            .string(1, "restored")
            .string(2, &bundle.display().to_string())
            .string(8, &image.display().to_string())
            .finish();
        let mut client = Client::connect(&wrapped.containerd.task_socket("c1")).expect("connect");
        let created = client
            .call(TASK_SERVICE, "Create", &create)
            .expect("Create");
        assert_eq!(created.code, code::OK, "{created:?}");
        assert_eq!(created.fields().expect("a response").uint(1), None, "pid 0");
        assert!(wrapped.calls_of("restore").is_empty(), "restored at Create");
        let restored = process_request("restored", "");
        let started = client
            .call(TASK_SERVICE, "Start", &restored)
            .expect("Start");
        assert_eq!(started.code, code::OK, "{started:?}");
        let pid = started
            .fields()
            .expect("a response")
            .uint(1)
            .expect("a pid");
        assert!(tinyshim_testkit::procfs::alive(pid as i32));
        let words = wrapped.calls_of("restore").pop().expect("a restore call");
        assert_eq!(
            value(&words, "--image-path"),
            Some(image.display().to_string().as_str())
        );
        assert!(
            words.iter().any(|w| w == "--detach") && words.iter().any(|w| w == "--no-subreaper")
        );
        let kill = MessageWriter::new()
            .string(1, "restored")
            .uint(3, 9)
            .finish();
        assert_eq!(
            client.call(TASK_SERVICE, "Kill", &kill).expect("Kill").code,
            code::OK
        );
        let wait = client.call(TASK_SERVICE, "Wait", &restored).expect("Wait");
        assert_eq!(wait.fields().expect("a response").uint(1), Some(137));
        let deleted = client
            .call(TASK_SERVICE, "Delete", &restored)
            .expect("Delete");
        assert_eq!(deleted.code, code::OK, "{deleted:?}");
    }
}

/// A dump by the real runc and criu: ignored here, where `criu check` fails.
#[test]
#[ignore = "`criu check` fails on this host's kernel: where it passes, cargo test --test v2_checkpoint -- --ignored"]
fn a_running_container_is_dumped_by_criu_and_goes_on_running() {
    let containerd = Containerd::start(Options::under_test());
    let ctr = containerd.ctr();
    ctr.run("c1", &["sh", "-c", "while :; do sleep 0.1; done"])
        .detached()
        .ok();
    ctr.wait_for_status("c1", "RUNNING", LONG);
    let scratch = Scratch::new("criu");
    let image = scratch.path().join("image");
    ctr.ok(&[
        "tasks",
        "checkpoint",
        "--image-path",
        &image.display().to_string(),
        "c1",
    ]);
    assert!(image.join("inventory.img").exists(), "criu wrote no image");
    assert_eq!(ctr.task("c1").expect("c1").status, "RUNNING");
}
