//! What tinyshim's v2 shim answers to input containerd never sends, on the socket of a running
//! task, through the kit's raw ttrpc client (messages hand-encoded with the kit's protobuf
//! writer, independent of the shim's own types): one table of inputs, each with the reply's
//! gRPC code and what its message must name; after each, a good State call is still answered,
//! no process is left behind and runc knows no other container.
//!
//! Every test here is tinyshim-only: the codes and messages are tinyshim's promises (most
//! match the Go shim's, which is not the point), so they fail at once under
//! `TINYSHIM_V2_SHIM=go`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tinyshim_testkit::bundle::{self, ConfigOptions};
use tinyshim_testkit::containerd::options::{require_tinyshim, Options};
use tinyshim_testkit::containerd::Containerd;
use tinyshim_testkit::procfs::children;
use tinyshim_testkit::protobuf::MessageWriter;
use tinyshim_testkit::scratch::Scratch;
use tinyshim_testkit::ttrpc_client::{
    code, process_request, status, Client, Reply, Request, TASK_SERVICE,
};
use tinyshim_testkit::wait::{eventually, LONG};

/// The stream of the State call that checks a bad input did no harm: above every id a test
/// uses, since a connection must raise its ids call by call.
const UNHARMED_STREAM: u32 = 100_001;

/// The task every test talks to.
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
        assert_eq!(self.containerd.runc_containers(), [ID], "runc's containers");
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

/// `UpdateTaskRequest{1 id, 2 resources Any{1 type_url, 2 value}}`.
fn update_request(id: &str, type_url: &str, value: &[u8]) -> Vec<u8> {
    let any = MessageWriter::new()
        .string(1, type_url)
        .bytes(2, value)
        .finish();
    MessageWriter::new().string(1, id).message(2, &any).finish()
}

/// The type URL of an OCI `LinuxResources` in an Update.
const RESOURCES: &str = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources";

/// A bundle for a task other than `c1`, on the shared rootfs.
fn spare_bundle(dir: &Path) -> PathBuf {
    let bundle = dir.join("bundle");
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
    bundle
}

/// Bytes that do not decode as any message: field 1, length-delimited, announces five bytes
/// and has one.
const TRUNCATED: [u8; 3] = [0x0a, 0x05, b'x'];

mod tinyshim_only {
    use super::*;
    use tinyshim_testkit::ttrpc_client::{header, Frame, MAX_PAYLOAD, TYPE_REQUEST};

    /// How a bad input is sent.
    enum Input {
        /// A well-formed call of `method` of `service` with `payload`.
        Call(&'static str, &'static str, Vec<u8>),
        /// A frame of its own on `stream`.
        Frame { stream: u32, payload: Vec<u8> },
    }

    /// A bad input and its answer: the code, and what the message must contain.
    struct Case {
        what: &'static str,
        input: Input,
        code: i32,
        names: String,
    }

    fn call(method: &'static str, payload: Vec<u8>) -> Input {
        Input::Call(TASK_SERVICE, method, payload)
    }

    #[test]
    fn every_bad_input_gets_its_code_and_a_message_naming_what_is_wrong() {
        let target = Target::start();
        // An exec that has exited, for the Kill that comes too late.
        target
            .containerd
            .ctr()
            .exec(ID, "e1", &["true"])
            .detached()
            .ok();
        eventually(LONG, "the exec exits", || {
            target
                .client()
                .call(TASK_SERVICE, "State", &process_request(ID, "e1"))
                .ok()
                .and_then(|reply| reply.fields().ok()?.uint(4))
                == Some(status::STOPPED)
        });
        let scratch = Scratch::new("bundle");
        let bundle = spare_bundle(scratch.path());
        let regular = scratch.path().join("regular-file");
        std::fs::write(&regular, "").expect("create a regular file");
        let directory = scratch.path().join("a-directory");
        std::fs::create_dir(&directory).expect("create a directory");
        let empty_bundle = scratch.path().join("empty-bundle");
        std::fs::create_dir(&empty_bundle).expect("create an empty bundle");
        let text = |path: &Path| path.display().to_string();
        let unknown = "no-such-task";
        let state = Request::new(TASK_SERVICE, "State", &process_request(ID, "")).encode();
        let cases = [
            Case {
                what: "a Request envelope that does not decode",
                input: Input::Frame {
                    stream: 101,
                    payload: TRUNCATED.to_vec(),
                },
                code: code::INVALID_ARGUMENT,
                names: "request".into(),
            },
            Case {
                what: "an even stream id",
                input: Input::Frame {
                    stream: 2,
                    payload: state,
                },
                code: code::INVALID_ARGUMENT,
                names: "StreamID".into(),
            },
            Case {
                what: "a method payload that does not decode",
                input: call("State", TRUNCATED.to_vec()),
                code: code::INVALID_ARGUMENT,
                names: "unmarshalling".into(),
            },
            Case {
                what: "an unknown service",
                input: Input::Call("containerd.task.v9.Nope", "State", process_request(ID, "")),
                code: code::UNIMPLEMENTED,
                names: "service containerd.task.v9.Nope".into(),
            },
            Case {
                what: "an unknown method",
                input: call("Frobnicate", process_request(ID, "")),
                code: code::UNIMPLEMENTED,
                names: "method Frobnicate".into(),
            },
            Case {
                what: "State of an unknown task",
                input: call("State", process_request(unknown, "")),
                code: code::NOT_FOUND,
                names: unknown.into(),
            },
            Case {
                what: "Kill of an unknown task",
                input: call("Kill", kill_request(unknown, "", 9)),
                code: code::NOT_FOUND,
                names: unknown.into(),
            },
            Case {
                what: "Start of an unknown task",
                input: call("Start", process_request(unknown, "")),
                code: code::NOT_FOUND,
                names: unknown.into(),
            },
            Case {
                what: "State of an unknown exec",
                input: call("State", process_request(ID, "no-such-exec")),
                code: code::NOT_FOUND,
                names: "no-such-exec".into(),
            },
            Case {
                what: "Start of an exec never added",
                input: call("Start", process_request(ID, "never-added")),
                code: code::NOT_FOUND,
                names: "never-added".into(),
            },
            Case {
                what: "Kill of an exec that has exited",
                input: call("Kill", kill_request(ID, "e1", 9)),
                code: code::NOT_FOUND,
                names: "process already finished".into(),
            },
            Case {
                what: "a second Create of an existing id",
                input: call("Create", create_request(ID, &bundle, "")),
                code: code::ALREADY_EXISTS,
                names: ID.into(),
            },
            Case {
                what: "Create with stdout a regular file",
                input: call(
                    "Create",
                    create_request("to-file", &bundle, &text(&regular)),
                ),
                code: code::INVALID_ARGUMENT,
                names: text(&regular),
            },
            Case {
                what: "Create with stdout a directory",
                input: call(
                    "Create",
                    create_request("to-dir", &bundle, &text(&directory)),
                ),
                code: code::INVALID_ARGUMENT,
                names: text(&directory),
            },
            Case {
                what: "Update with resources of another type",
                input: call(
                    "Update",
                    update_request(ID, "containerd.runc.v1.Options", b"{}"),
                ),
                code: code::INVALID_ARGUMENT,
                names: "containerd.runc.v1.Options".into(),
            },
            Case {
                what: "Update with resources that are not JSON",
                input: call("Update", update_request(ID, RESOURCES, b"{\"memory\":")),
                code: code::INVALID_ARGUMENT,
                names: "resources".into(),
            },
            Case {
                what: "Update of an unknown task",
                input: call("Update", update_request(unknown, RESOURCES, b"{}")),
                code: code::NOT_FOUND,
                names: unknown.into(),
            },
            Case {
                what: "Checkpoint with options of another type",
                input: call(
                    "Checkpoint",
                    MessageWriter::new()
                        .string(1, ID)
                        .string(2, "/tmp/image")
                        .message(
                            3,
                            &MessageWriter::new()
                                .string(1, "containerd.runc.v1.Options")
                                .finish(),
                        )
                        .finish(),
                ),
                code: code::INVALID_ARGUMENT,
                names: "containerd.runc.v1.Options".into(),
            },
            Case {
                what: "Create of a bundle without config.json",
                input: call("Create", create_request("no-config", &empty_bundle, "")),
                code: code::NOT_FOUND,
                names: text(&empty_bundle.join("config.json")),
            },
        ];
        for case in cases {
            let mut client = target.client();
            let reply = match case.input {
                Input::Call(service, method, payload) => client.call(service, method, &payload),
                Input::Frame { stream, payload } => {
                    let frame = Frame {
                        stream_id: stream,
                        kind: TYPE_REQUEST,
                        flags: 0,
                        payload,
                    };
                    client
                        .send_raw(&frame.encode())
                        .and_then(|()| client.reply(stream))
                }
            };
            let reply = reply.unwrap_or_else(|e| panic!("{}: no reply: {e}", case.what));
            assert_eq!(reply.code, case.code, "{}: {reply:?}", case.what);
            assert!(
                reply.message.contains(&case.names),
                "{}: the message {:?} does not name {:?}",
                case.what,
                reply.message,
                case.names
            );
            target.assert_unharmed(&mut client);
        }
        assert_eq!(
            std::fs::read(&regular).expect("the regular file"),
            b"",
            "the shim wrote into the regular file"
        );
    }

    #[test]
    fn an_update_of_a_stopped_container_is_refused_without_running_runc() {
        let target = Target::start();
        let ctr = target.containerd.ctr();
        ctr.run("stopped", &["true"]).detached().ok();
        ctr.wait_for_status("stopped", "STOPPED", LONG);
        let socket = target.containerd.task_socket("stopped");
        let mut client = Client::connect(&socket).expect("connect");
        let reply = client
            .call(
                TASK_SERVICE,
                "Update",
                &update_request("stopped", RESOURCES, b"{}"),
            )
            .expect("a reply");
        assert_refused(&reply, code::FAILED_PRECONDITION, "stopped container");
        ctr.ok(&["tasks", "delete", "stopped"]);
        target.assert_unharmed(&mut target.client());
    }

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
}
