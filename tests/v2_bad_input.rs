//! What tinyshim's v2 shim answers to input containerd never sends, on the socket of a running
//! task, through the kit's raw ttrpc client (messages hand-encoded with the kit's protobuf
//! writer, independent of the shim's own types). For each input: the reply's gRPC code, a
//! message naming the offending thing, a good State call still answered afterwards, and no
//! process left behind.
//!
//! Every test here is tinyshim-only: the codes and messages are tinyshim's promises (most
//! match the Go shim's, which is not the point), so they fail at once under
//! `TINYSHIM_V2_SHIM=go`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tinyshim_testkit::bundle::{self, ConfigOptions};
use tinyshim_testkit::containerd::{require_tinyshim, Containerd, Options};
use tinyshim_testkit::harness::{self, eventually, Scratch, LONG};
use tinyshim_testkit::procfs::children;
use tinyshim_testkit::protobuf::MessageWriter;
use tinyshim_testkit::ttrpc_client::{
    code, process_request, status, Client, Reply, Request, TASK_SERVICE,
};

/// The task every test talks to.
/// The stream of the State call that checks a bad input did no harm: above every id a test
/// uses, since a connection must raise its ids call by call.
const UNHARMED_STREAM: u32 = 100_001;

const ID: &str = "c1";

/// A daemon with `c1` running `sleep` on tinyshim, and what its shim looked like before the
/// test's input.
struct Target {
    containerd: Containerd,
    socket: PathBuf,
    shim: i32,
    /// The shim's children (the container's init), zombies included.
    children: Vec<i32>,
}

impl Target {
    fn start() -> Target {
        require_tinyshim("exact gRPC codes and messages for bad input");
        let containerd = Containerd::start(Options::under_test());
        let ctr = containerd.ctr();
        ctr.run(ID, &["sleep", "1000"]).detached().ok();
        ctr.wait_for_status(ID, "RUNNING", LONG);
        let socket = containerd.task_socket(ID);
        let shim = containerd.shim_pid(ID);
        let children = child_pids(shim);
        Target {
            containerd,
            socket,
            shim,
            children,
        }
    }

    fn client(&self) -> Client {
        Client::connect(&self.socket).expect("connect to the task's socket")
    }

    /// The input did no harm: a good State call on `client`, on a stream above every id the
    /// test used (ttrpc wants each call's id higher than the last), or on a new connection if
    /// the shim hung this one up, finds `c1` running, and the shim has the children it had
    /// before (a leaked runtime call, or one left unreaped, would show).
    fn assert_unharmed(&self, client: &mut Client) {
        let state = Request::new(TASK_SERVICE, "State", &process_request(ID, ""));
        let on_same = client
            .send_on(UNHARMED_STREAM, &state)
            .and_then(|()| client.reply(UNHARMED_STREAM));
        let reply = match on_same {
            Ok(reply) => reply,
            Err(_) if client.peer_closed(Duration::ZERO) => self
                .client()
                .call(TASK_SERVICE, "State", &process_request(ID, ""))
                .expect("State on a new connection"),
            Err(error) => panic!("State after the bad input: {error}"),
        };
        assert_eq!(reply.code, code::OK, "State after the bad input: {reply:?}");
        let fields = reply.fields().expect("a StateResponse");
        assert_eq!(fields.uint(4), Some(status::RUNNING), "{reply:?}");
        // A runtime call the input started may still be being reaped.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let now = child_pids(self.shim);
            if now == self.children {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the shim's children are {now:?}, they were {:?} before the input",
                self.children
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// The pids of `pid`'s children, zombies included, sorted.
fn child_pids(pid: i32) -> Vec<i32> {
    let mut pids: Vec<i32> = children(pid).into_iter().map(|(child, _)| child).collect();
    pids.sort_unstable();
    pids
}

/// Fails unless `reply` carries `expected` and a message containing `needle`.
fn assert_refused(reply: &Reply, expected: i32, needle: &str) {
    assert_eq!(reply.code, expected, "{reply:?}");
    assert!(
        reply.message.contains(needle),
        "the message {:?} does not name {needle:?}",
        reply.message
    );
}

/// `KillRequest{1 id, 2 exec_id, 3 signal}`.
fn kill_request(id: &str, exec_id: &str, signal: u64) -> Vec<u8> {
    MessageWriter::new()
        .string(1, id)
        .string(2, exec_id)
        .uint(3, signal)
        .finish()
}

/// `CreateTaskRequest{1 id, 2 bundle, 6 stdout}`: no rootfs mounts (the spec names its
/// root), no terminal, no stdin or stderr.
fn create_request(id: &str, bundle: &Path, stdout: &str) -> Vec<u8> {
    MessageWriter::new()
        .string(1, id)
        .string(2, &bundle.display().to_string())
        .string(6, stdout)
        .finish()
}

/// A bundle for a task other than `c1`, on the shared rootfs.
fn spare_bundle(dir: &Path) -> PathBuf {
    let bundle = dir.join("bundle");
    bundle::write_bundle(
        &bundle,
        &ConfigOptions {
            args: vec!["sleep".into(), "1000".into()],
            terminal: false,
            pid_namespace: true,
            rootfs: harness::rootfs(),
        },
    )
    .expect("write a bundle");
    bundle
}

/// Bytes that do not decode as any message: field 1, length-delimited, announces five bytes
/// and has one.
const TRUNCATED: [u8; 3] = [0x0a, 0x05, b'x'];

mod tinyshim_only {
    use super::*;
    use tinyshim_testkit::ttrpc_client::{header, Frame, MAX_PAYLOAD, TYPE_REQUEST};

    #[test]
    fn a_frame_announcing_more_than_4_mib_is_refused_and_the_next_frame_answered() {
        let target = Target::start();
        let mut client = target.client();
        let length = MAX_PAYLOAD as u32 + 1;
        // Stream ids of their own, clear of the ones the client's calls count from 1.
        let mut frame = header(length, 101, TYPE_REQUEST, 0);
        frame.resize(frame.len() + length as usize, 0);
        client.send_raw(&frame).expect("send the oversized frame");
        let state = Request::new(TASK_SERVICE, "State", &process_request(ID, ""));
        client.send_on(103, &state).expect("send State after it");
        let refused = client.reply(101).expect("a reply to the oversized frame");
        assert_refused(&refused, code::RESOURCE_EXHAUSTED, &length.to_string());
        let answered = client.reply(103).expect("a reply to the next frame");
        assert_eq!(answered.code, code::OK, "{answered:?}");
        target.assert_unharmed(&mut client);
    }

    #[test]
    fn a_request_envelope_that_does_not_decode_is_invalid_argument() {
        let target = Target::start();
        let mut client = target.client();
        let frame = Frame {
            stream_id: 101,
            kind: TYPE_REQUEST,
            flags: 0,
            payload: TRUNCATED.to_vec(),
        };
        client.send_raw(&frame.encode()).expect("send");
        let reply = client.reply(101).expect("a reply");
        assert_eq!(reply.code, code::INVALID_ARGUMENT, "{reply:?}");
        assert!(
            reply.message.to_lowercase().contains("request"),
            "the message {:?} does not say the request is bad",
            reply.message
        );
        target.assert_unharmed(&mut client);
    }

    #[test]
    fn a_method_payload_that_does_not_decode_is_invalid_argument() {
        let target = Target::start();
        let mut client = target.client();
        let reply = client
            .call(TASK_SERVICE, "State", &TRUNCATED)
            .expect("a reply");
        assert_refused(&reply, code::INVALID_ARGUMENT, "State");
        target.assert_unharmed(&mut client);
    }

    #[test]
    fn an_unknown_service_is_unimplemented_and_named() {
        let target = Target::start();
        let mut client = target.client();
        let service = "containerd.task.v9.Nope";
        let reply = client
            .call(service, "State", &process_request(ID, ""))
            .expect("a reply");
        assert_refused(&reply, code::UNIMPLEMENTED, &format!("service {service}"));
        target.assert_unharmed(&mut client);
    }

    #[test]
    fn an_unknown_method_is_unimplemented_and_named() {
        let target = Target::start();
        let mut client = target.client();
        let reply = client
            .call(TASK_SERVICE, "Frobnicate", &process_request(ID, ""))
            .expect("a reply");
        assert_refused(&reply, code::UNIMPLEMENTED, "method Frobnicate");
        target.assert_unharmed(&mut client);
    }

    #[test]
    fn an_even_stream_id_is_invalid_argument() {
        let target = Target::start();
        let mut client = target.client();
        let state = Request::new(TASK_SERVICE, "State", &process_request(ID, ""));
        client.send_on(2, &state).expect("send on stream 2");
        let reply = client.reply(2).expect("a reply on stream 2");
        assert_eq!(reply.code, code::INVALID_ARGUMENT, "{reply:?}");
        assert!(
            reply.message.to_lowercase().contains("stream"),
            "the message {:?} does not name the stream id",
            reply.message
        );
        target.assert_unharmed(&mut client);
    }

    #[test]
    fn state_kill_and_start_of_an_unknown_task_are_not_found_and_name_it() {
        let target = Target::start();
        let mut client = target.client();
        let unknown = "no-such-task";
        for (method, payload) in [
            ("State", process_request(unknown, "")),
            ("Kill", kill_request(unknown, "", 9)),
            ("Start", process_request(unknown, "")),
        ] {
            let reply = client.call(TASK_SERVICE, method, &payload).expect(method);
            assert_refused(&reply, code::NOT_FOUND, unknown);
        }
        target.assert_unharmed(&mut client);
    }

    #[test]
    fn state_of_an_unknown_exec_is_not_found_and_names_it() {
        let target = Target::start();
        let mut client = target.client();
        let reply = client
            .call(TASK_SERVICE, "State", &process_request(ID, "no-such-exec"))
            .expect("a reply");
        assert_refused(&reply, code::NOT_FOUND, "no-such-exec");
        target.assert_unharmed(&mut client);
    }

    #[test]
    fn a_second_create_of_an_existing_id_is_already_exists_and_names_it() {
        let target = Target::start();
        let mut client = target.client();
        let scratch = Scratch::new("bundle");
        let bundle = spare_bundle(scratch.path());
        let reply = client
            .call(TASK_SERVICE, "Create", &create_request(ID, &bundle, ""))
            .expect("a reply");
        assert_refused(&reply, code::ALREADY_EXISTS, ID);
        assert_eq!(target.containerd.runc_containers(), [ID]);
        target.assert_unharmed(&mut client);
    }

    #[test]
    fn start_of_an_exec_never_added_is_not_found() {
        let target = Target::start();
        let mut client = target.client();
        let reply = client
            .call(TASK_SERVICE, "Start", &process_request(ID, "never-added"))
            .expect("a reply");
        assert_refused(&reply, code::NOT_FOUND, "never-added");
        target.assert_unharmed(&mut client);
    }

    #[test]
    fn kill_of_a_process_that_has_exited_is_not_found() {
        let target = Target::start();
        target
            .containerd
            .ctr()
            .exec(ID, "e1", &["true"])
            .detached()
            .ok();
        let mut client = target.client();
        eventually(LONG, "the exec exits", || {
            client
                .call(TASK_SERVICE, "State", &process_request(ID, "e1"))
                .ok()
                .and_then(|reply| reply.fields().ok()?.uint(4))
                == Some(status::STOPPED)
        });
        let reply = client
            .call(TASK_SERVICE, "Kill", &kill_request(ID, "e1", 9))
            .expect("a reply");
        assert_refused(&reply, code::NOT_FOUND, "process already finished");
        // The exited exec stays in the shim until it is deleted.
        let deleted = client
            .call(TASK_SERVICE, "Delete", &process_request(ID, "e1"))
            .expect("Delete the exec");
        assert_eq!(deleted.code, code::OK, "{deleted:?}");
        target.assert_unharmed(&mut client);
    }

    #[test]
    fn create_with_stdout_not_a_fifo_is_invalid_argument_and_leaves_no_container() {
        let target = Target::start();
        let mut client = target.client();
        let scratch = Scratch::new("bundle");
        let bundle = spare_bundle(scratch.path());
        let regular = scratch.path().join("regular-file");
        std::fs::write(&regular, "").expect("create a regular file");
        let directory = scratch.path().join("a-directory");
        std::fs::create_dir(&directory).expect("create a directory");
        for (id, stdout) in [("to-file", &regular), ("to-dir", &directory)] {
            let path = stdout.display().to_string();
            let reply = client
                .call(TASK_SERVICE, "Create", &create_request(id, &bundle, &path))
                .expect("a reply");
            assert_refused(&reply, code::INVALID_ARGUMENT, &path);
            assert_eq!(
                target.containerd.runc_containers(),
                [ID],
                "after stdout {path}"
            );
        }
        assert_eq!(
            std::fs::read(&regular).expect("the regular file"),
            b"",
            "the shim wrote into the regular file"
        );
        target.assert_unharmed(&mut client);
    }

    #[test]
    fn create_with_a_bundle_without_config_json_is_not_found_and_names_the_file() {
        let target = Target::start();
        let mut client = target.client();
        let scratch = Scratch::new("bundle");
        let bundle = scratch.path().join("empty-bundle");
        std::fs::create_dir(&bundle).expect("create an empty bundle");
        let reply = client
            .call(
                TASK_SERVICE,
                "Create",
                &create_request("no-config", &bundle, ""),
            )
            .expect("a reply");
        let config = bundle.join("config.json").display().to_string();
        assert_refused(&reply, code::NOT_FOUND, &config);
        assert_eq!(target.containerd.runc_containers(), [ID]);
        target.assert_unharmed(&mut client);
    }
}
