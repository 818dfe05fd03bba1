//! Unit tests of [`super`].

use super::*;

/// What containerd v0.2.3 wrote: capabilities as a list, no consoleSize, terminal present.
const V023: &str = r#"{"terminal":false,"user":{"uid":0,"gid":0},"args":["sh"],"env":["PATH=/bin"],"cwd":"/","capabilities":["CAP_CHOWN"],"exec":false,"containerdStdin":"/b/init-stdin","containerdStdout":"/b/init-stdout","containerdStderr":"/b/init-stderr","runtimeArgs":null,"noPivotRoot":false,"checkpoint":"","rootUID":0,"rootGID":0}
"#;

/// What the v0.2.x head wrote: capabilities as an object, consoleSize omitted, terminal
/// omitted (omitempty), oomScoreAdj, runtimeArgs present.
const HEAD: &str = r#"{"user":{"uid":0,"gid":0,"additionalGids":[10]},"args":["sh","-c","x"],"cwd":"/","capabilities":{"bounding":["CAP_KILL"],"effective":["CAP_KILL"],"inheritable":["CAP_KILL"],"permitted":["CAP_KILL"]},"oomScoreAdj":0,"exec":true,"containerdStdin":"","containerdStdout":"/b/x-stdout","containerdStderr":"/b/x-stderr","runtimeArgs":["--systemd-cgroup"],"noPivotRoot":true,"checkpoint":"/cp/one","rootUID":1000,"rootGID":1001}"#;

#[test]
fn v0_2_3_decodes() {
    let state = decode_process(V023.as_bytes()).expect("decodes");
    assert!(!state.terminal && !state.exec);
    assert_eq!(state.stdout, "/b/init-stdout");
    assert!(state.runtime_args.is_empty());
}

#[test]
fn branch_head_decodes() {
    let state = decode_process(HEAD.as_bytes()).expect("decodes");
    assert!(!state.terminal && state.exec && state.no_pivot_root);
    assert_eq!(state.stdin, "");
    assert_eq!(state.runtime_args, vec!["--systemd-cgroup"]);
    assert_eq!(state.checkpoint, "/cp/one");
    assert_eq!((state.root_uid, state.root_gid), (1000, 1001));
}

#[test]
fn console_size_and_unknown_keys_are_skipped() {
    let json =
        r#"{"terminal":true,"consoleSize":{"height":24,"width":80},"future":{"a":[1,{"b":null}]}}"#;
    let state = decode_process(json.as_bytes()).expect("decodes");
    assert!(state.terminal);
}

#[test]
fn null_everywhere_means_go_zero_values() {
    let json = r#"{"terminal":null,"exec":null,"containerdStdout":null,"runtimeArgs":null,"rootUID":null}"#;
    assert_eq!(
        decode_process(json.as_bytes()).expect("decodes"),
        ProcessState::default()
    );
}

#[test]
fn wrong_types_and_bad_bytes_are_errors_not_panics() {
    let cases: &[&[u8]] = &[
        b"",
        b"[]",
        b"null",
        b"{\"terminal\":\"yes\"}",
        b"{\"rootUID\":-1}",
        b"{\"rootUID\":4294967296}",
        b"{\"rootUID\":1.5}",
        b"{\"runtimeArgs\":[1]}",
        b"{\"containerdStdout\":\"\xff\"}",
        b"{\"exec\":true",
        b"{\"exec\":true}garbage",
    ];
    for case in cases {
        assert!(decode_process(case).is_err(), "{case:?}");
    }
}

#[test]
fn deep_nesting_never_overflows_the_stack() {
    let deep = |key: &str| {
        let mut json = format!("{{\"{key}\":");
        json.push_str(&"[".repeat(100_000));
        json.push_str(&"]".repeat(100_000));
        json.push('}');
        json
    };
    // serde_json skips an ignored value iteratively, so a deep unknown value decodes.
    assert_eq!(
        decode_process(deep("args").as_bytes()).expect("decodes"),
        ProcessState::default()
    );
    // A deep value where the shim expects a string list is a type error at the first level.
    assert!(decode_process(deep("runtimeArgs").as_bytes()).is_err());
    let mut objects = "{\"a\":".repeat(100_000);
    objects.push_str("null");
    objects.push_str(&"}".repeat(100_000));
    assert!(decode_process(objects.as_bytes()).is_ok());
}

#[test]
fn only_regular_files_are_read_and_a_fifo_does_not_block() {
    let dir = std::env::temp_dir().join(format!("tinyshim-spec-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).expect("mkdir");
    let fifo = dir.join("process.json");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).expect("mkfifo");
    // Before the fix, this open waited forever for a writer.
    for path in [&fifo, &dir] {
        let error = read_limited(path)
            .expect_err("not a regular file")
            .to_string();
        assert_eq!(error, format!("{}: not a regular file", path.display()));
    }
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn checkpoint_config_decodes() {
    let json = r#"{"created":"2017-01-01T00:00:00Z","name":"cp","tcp":true,"unixSockets":false,"shell":true,"exit":false,"emptyNS":["network","ipc"]}"#;
    assert_eq!(
        decode_checkpoint(json.as_bytes()).expect("decodes"),
        CheckpointConfig {
            tcp: true,
            unix_sockets: false,
            shell: true,
            empty_ns: vec!["network".into(), "ipc".into()],
        }
    );
    assert!(decode_checkpoint(b"{\"emptyNS\":\"network\"}").is_err());
}

#[test]
fn an_array_of_the_fields_is_refused_as_go_refuses_it() {
    // serde would fill the structs from their fields in order; the daemon's decoder, and so the
    // shim's, takes objects only (found by the fuzzer).
    let error = decode_checkpoint(b"[null,    null, null,null]").expect_err("an array");
    assert!(error.to_string().contains("a JSON object"), "{error}");
    let error = decode_process(b" [true, false]").expect_err("an array");
    assert!(error.to_string().contains("a JSON object"), "{error}");
}
