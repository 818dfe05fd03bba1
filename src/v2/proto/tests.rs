//! Unit tests of [`super`]: decoding bytes measured on the wire, and field numbers checked
//! against encodings written out by hand from containerd's `.proto` files.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prost::Message;

use super::events::{
    forward_request, Event, TaskCheckpointed, TaskCreate, TaskDelete, TaskExecAdded,
    TaskExecStarted, TaskExit, TaskIo, TaskOom, TaskPaused, TaskResumed, TaskStart,
};
use super::google::{Any, Timestamp, UnpackError};
use super::runc::Options;
use super::task::{CreateTaskRequest, DeleteResponse, Empty, StateResponse};
use super::types::{Mount, Status};

/// The key byte of field `tag` (below 16) with wire type `wire_type`.
fn key(tag: u8, wire_type: u8) -> u8 {
    tag << 3 | wire_type
}

/// Field `tag` holding the short string or bytes `value` (below 128 bytes).
fn field_bytes(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![
        key(tag, 2),
        u8::try_from(value.len()).expect("a short value"),
    ];
    out.extend_from_slice(value);
    out
}

/// Field `tag` holding the varint `value` (below 128).
fn field_small_varint(tag: u8, value: u8) -> Vec<u8> {
    assert!(value < 128);
    vec![key(tag, 0), value]
}

#[test]
fn the_measured_delete_response_decodes_and_reencodes_to_the_same_bytes() {
    let measured = [
        0x08, 0xef, 0x94, 0x01, 0x10, 0x89, 0x01, 0x1a, 0x0b, 0x08, 0xb7, 0x8c, 0xba, 0xd8, 0x06,
        0x10, 0xf9, 0x95, 0xce, 0x49,
    ];
    let response = DeleteResponse::decode(&measured[..]).expect("the measured bytes");
    assert_eq!(response.pid, 19055);
    assert_eq!(response.exit_status, 137);
    let exited_at = response.exited_at.expect("an exit time");
    assert_eq!(
        exited_at,
        Timestamp {
            seconds: 1_796_113_975,
            nanos: 154_372_857
        }
    );
    assert_eq!(
        exited_at.to_system_time(),
        Some(UNIX_EPOCH + Duration::new(1_796_113_975, 154_372_857))
    );
    assert_eq!(response.encode_to_vec(), measured);
}

#[test]
fn the_28_byte_runc_options_any_of_ctr_is_empty_options() {
    let mut wire = vec![key(1, 2), 26];
    wire.extend_from_slice(b"containerd.runc.v1.Options");
    assert_eq!(wire.len(), 28);
    assert_eq!(Any::pack(&Options::default()).encode_to_vec(), wire);
    let any = Any::decode(wire.as_slice()).expect("the 28 bytes");
    assert_eq!(any.unpack::<Options>(), Ok(Options::default()));
}

#[test]
fn runc_options_with_a_runtime_binary_decode_from_field_6() {
    // ctr --runc-binary /usr/bin/crun: Options{binary_name (6)} inside Any.value (2).
    let options = field_bytes(6, b"/usr/bin/crun");
    let mut wire = field_bytes(1, b"containerd.runc.v1.Options");
    wire.extend(field_bytes(2, &options));
    assert_eq!(wire.len(), 45);
    let any = Any::decode(wire.as_slice()).expect("the options Any");
    let decoded: Options = any.unpack().expect("runc options");
    assert_eq!(
        decoded,
        Options {
            binary_name: "/usr/bin/crun".into(),
            ..Options::default()
        }
    );
}

#[test]
fn every_runc_option_has_containerds_field_number() {
    let options = Options {
        no_pivot_root: true,
        no_new_keyring: true,
        shim_cgroup: "s".into(),
        io_uid: 4,
        io_gid: 5,
        binary_name: "b".into(),
        root: "r".into(),
        criu_path: "c".into(),
        systemd_cgroup: true,
        criu_image_path: "i".into(),
        criu_work_path: "w".into(),
    };
    let wire: Vec<u8> = [
        field_small_varint(1, 1),
        field_small_varint(2, 1),
        field_bytes(3, b"s"),
        field_small_varint(4, 4),
        field_small_varint(5, 5),
        field_bytes(6, b"b"),
        field_bytes(7, b"r"),
        field_bytes(8, b"c"),
        field_small_varint(9, 1),
        field_bytes(10, b"i"),
        field_bytes(11, b"w"),
    ]
    .concat();
    assert_eq!(options.encode_to_vec(), wire);
}

#[test]
fn an_any_of_another_type_is_not_unpacked() {
    let any = Any::pack(&TaskStart {
        container_id: "c1".into(),
        pid: 1,
    });
    assert_eq!(
        any.unpack::<Options>(),
        Err(UnpackError::WrongType {
            expected: "containerd.runc.v1.Options",
            found: "containerd.events.TaskStart".into(),
        })
    );
}

#[test]
fn empty_encodes_to_nothing() {
    assert!(Empty {}.encode_to_vec().is_empty());
    assert_eq!(Empty::decode(&[][..]), Ok(Empty {}));
}

#[test]
fn every_create_task_field_has_containerds_field_number() {
    let request = CreateTaskRequest {
        id: "c".into(),
        bundle: "b".into(),
        rootfs: vec![Mount {
            r#type: "overlay".into(),
            source: "o".into(),
            target: "t".into(),
            options: vec!["ro".into(), "x".into()],
        }],
        terminal: true,
        stdin: "0".into(),
        stdout: "1".into(),
        stderr: "2".into(),
        checkpoint: "k".into(),
        parent_checkpoint: "p".into(),
        options: Some(Any {
            type_url: "u".into(),
            value: vec![7],
        }),
    };
    let mount = [
        field_bytes(1, b"overlay"),
        field_bytes(2, b"o"),
        field_bytes(3, b"t"),
        field_bytes(4, b"ro"),
        field_bytes(4, b"x"),
    ]
    .concat();
    let any = [field_bytes(1, b"u"), field_bytes(2, &[7])].concat();
    let wire: Vec<u8> = [
        field_bytes(1, b"c"),
        field_bytes(2, b"b"),
        field_bytes(3, &mount),
        field_small_varint(4, 1),
        field_bytes(5, b"0"),
        field_bytes(6, b"1"),
        field_bytes(7, b"2"),
        field_bytes(8, b"k"),
        field_bytes(9, b"p"),
        field_bytes(10, &any),
    ]
    .concat();
    assert_eq!(request.encode_to_vec(), wire);
    assert_eq!(CreateTaskRequest::decode(wire.as_slice()), Ok(request));
}

#[test]
fn every_state_response_field_has_containerds_field_number() {
    let response = StateResponse {
        id: "c".into(),
        bundle: "b".into(),
        pid: 9,
        status: Status::Stopped.into(),
        stdin: "0".into(),
        stdout: "1".into(),
        stderr: "2".into(),
        terminal: true,
        exit_status: 3,
        exited_at: Some(Timestamp {
            seconds: 5,
            nanos: 6,
        }),
        exec_id: "e".into(),
    };
    let wire: Vec<u8> = [
        field_bytes(1, b"c"),
        field_bytes(2, b"b"),
        field_small_varint(3, 9),
        field_small_varint(4, 3),
        field_bytes(5, b"0"),
        field_bytes(6, b"1"),
        field_bytes(7, b"2"),
        field_small_varint(8, 1),
        field_small_varint(9, 3),
        field_bytes(10, &[0x08, 5, 0x10, 6]),
        field_bytes(11, b"e"),
    ]
    .concat();
    assert_eq!(response.encode_to_vec(), wire);
    let decoded = StateResponse::decode(wire.as_slice()).expect("a StateResponse");
    assert_eq!(decoded.status(), Status::Stopped);
}

#[test]
fn a_task_status_number_this_shim_does_not_know_reads_as_unknown() {
    let wire = field_small_varint(4, 77);
    let decoded = StateResponse::decode(wire.as_slice()).expect("a StateResponse");
    assert_eq!(decoded.status, 77);
    assert_eq!(decoded.status(), Status::Unknown);
}

#[test]
fn event_type_urls_and_topics_are_containerds() {
    fn names<E: Event>() -> (&'static str, &'static str) {
        (E::TYPE_URL, E::TOPIC)
    }
    assert_eq!(
        [
            names::<TaskCreate>(),
            names::<TaskStart>(),
            names::<TaskExit>(),
            names::<TaskDelete>(),
            names::<TaskExecAdded>(),
            names::<TaskExecStarted>(),
            names::<TaskPaused>(),
            names::<TaskResumed>(),
            names::<TaskCheckpointed>(),
            names::<TaskOom>(),
        ],
        [
            ("containerd.events.TaskCreate", "/tasks/create"),
            ("containerd.events.TaskStart", "/tasks/start"),
            ("containerd.events.TaskExit", "/tasks/exit"),
            ("containerd.events.TaskDelete", "/tasks/delete"),
            ("containerd.events.TaskExecAdded", "/tasks/exec-added"),
            ("containerd.events.TaskExecStarted", "/tasks/exec-started"),
            ("containerd.events.TaskPaused", "/tasks/paused"),
            ("containerd.events.TaskResumed", "/tasks/resumed"),
            ("containerd.events.TaskCheckpointed", "/tasks/checkpointed"),
            ("containerd.events.TaskOOM", "/tasks/oom"),
        ]
    );
}

#[test]
fn a_forwarded_exit_has_containerds_envelope_layout() {
    let exit = TaskExit {
        container_id: "c1".into(),
        id: "c1".into(),
        pid: 42,
        exit_status: 137,
        exited_at: Some(Timestamp {
            seconds: 7,
            nanos: 0,
        }),
    };
    let at = UNIX_EPOCH + Duration::from_secs(8);
    let exit_wire: Vec<u8> = [
        field_bytes(1, b"c1"),
        field_bytes(2, b"c1"),
        field_small_varint(3, 42),
        vec![key(4, 0), 0x89, 0x01],
        field_bytes(5, &[0x08, 7]),
    ]
    .concat();
    let any = [
        field_bytes(1, b"containerd.events.TaskExit"),
        field_bytes(2, &exit_wire),
    ]
    .concat();
    let envelope = [
        field_bytes(1, &[0x08, 8]),
        field_bytes(2, b"k8s.io"),
        field_bytes(3, b"/tasks/exit"),
        field_bytes(4, &any),
    ]
    .concat();
    let wire = field_bytes(1, &envelope);
    assert_eq!(forward_request("k8s.io", at, &exit).encode_to_vec(), wire);
}

#[test]
fn every_task_create_field_has_containerds_field_number() {
    let create = TaskCreate {
        container_id: "c".into(),
        bundle: "b".into(),
        rootfs: vec![Mount::default()],
        io: Some(TaskIo {
            stdin: "0".into(),
            stdout: "1".into(),
            stderr: "2".into(),
            terminal: true,
        }),
        checkpoint: "k".into(),
        pid: 3,
    };
    let io = [
        field_bytes(1, b"0"),
        field_bytes(2, b"1"),
        field_bytes(3, b"2"),
        field_small_varint(4, 1),
    ]
    .concat();
    let wire: Vec<u8> = [
        field_bytes(1, b"c"),
        field_bytes(2, b"b"),
        field_bytes(3, b""),
        field_bytes(4, &io),
        field_bytes(5, b"k"),
        field_small_varint(6, 3),
    ]
    .concat();
    assert_eq!(create.encode_to_vec(), wire);
}

#[test]
fn a_time_before_the_epoch_keeps_a_non_negative_fraction() {
    let before = UNIX_EPOCH - Duration::from_millis(300);
    let stamp = Timestamp::from(before);
    assert_eq!(
        stamp,
        Timestamp {
            seconds: -1,
            nanos: 700_000_000
        }
    );
    assert_eq!(stamp.to_system_time(), Some(before));
}

#[test]
fn go_zero_time_is_year_one_and_a_ten_byte_varint() {
    let year_one = UNIX_EPOCH - Duration::from_secs(62_135_596_800);
    assert_eq!(Timestamp::from(year_one), Timestamp::GO_ZERO_TIME);
    assert_eq!(Timestamp::GO_ZERO_TIME.to_system_time(), Some(year_one));
    // Key byte, then the negative seconds as a ten-byte varint.
    assert_eq!(Timestamp::GO_ZERO_TIME.encode_to_vec().len(), 11);
}

#[test]
fn a_timestamp_with_nanos_out_of_range_names_no_time() {
    for nanos in [-1, 1_000_000_000, i32::MAX] {
        let stamp = Timestamp { seconds: 0, nanos };
        assert_eq!(stamp.to_system_time(), None, "nanos {nanos}");
    }
}

#[test]
fn a_system_time_after_the_epoch_converts_both_ways() {
    let now = SystemTime::now();
    assert_eq!(Timestamp::from(now).to_system_time(), Some(now));
}

#[test]
fn every_task_delete_field_has_containerds_field_number() {
    let delete = TaskDelete {
        container_id: "c".into(),
        pid: 1,
        exit_status: 2,
        exited_at: Some(Timestamp {
            seconds: 3,
            nanos: 0,
        }),
        id: "e".into(),
    };
    let wire: Vec<u8> = [
        field_bytes(1, b"c"),
        field_small_varint(2, 1),
        field_small_varint(3, 2),
        field_bytes(4, &[0x08, 3]),
        field_bytes(5, b"e"),
    ]
    .concat();
    assert_eq!(delete.encode_to_vec(), wire);
}
