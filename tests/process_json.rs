//! `process.json` through the real binary: as each daemon version wrote it, it decodes and the
//! process runs; large or deeply nested where the shim skips the value, it still runs; anything
//! the shim cannot read is the documented refusal naming the file (docs/INPUTS.md).

use std::path::PathBuf;

use serde_json::{json, Map, Value};
use tinyshim::io::input::MAX_INPUT_BYTES;
use tinyshim_testkit::container::Container;
use tinyshim_testkit::driver::ProcessDir;
use tinyshim_testkit::fake::Fake;
use tinyshim_testkit::process::edit_process_json;
use tinyshim_testkit::spec::Spec;

fn process_json(dir: &ProcessDir) -> PathBuf {
    dir.dir.join("process.json")
}

/// `process.json` with an `env` padded with entries of 64 KiB up to `bytes` in all.
fn pad_env(dir: &ProcessDir, bytes: usize) {
    edit_process_json(dir, |value| {
        let env = value["env"].as_array_mut().expect("env");
        let entry = "x".repeat(64 * 1024);
        for i in 0..bytes / entry.len() + 1 {
            env.push(Value::from(format!("PAD{i}={entry}")));
        }
    });
}

/// `[[[...]]]` nested `depth` levels deep.
fn nested(depth: usize) -> String {
    let mut text = "[".repeat(depth);
    text.push_str(&"]".repeat(depth));
    text
}

/// Puts `"key": <raw JSON>` first in `process.json`.
fn prepend_key(dir: &ProcessDir, key: &str, raw: &str) {
    let path = process_json(dir);
    let text = std::fs::read_to_string(&path).expect("read process.json");
    let rest = text.strip_prefix('{').expect("an object");
    std::fs::write(&path, format!("{{\"{key}\":{raw},{rest}")).expect("write");
}

// ----------------------------------------------------------------------------------------------
// As each daemon version wrote it

/// Runs a container whose `process.json` was rewritten by `edit`: the shim must decode it and
/// treat the process as a non-terminal one (stdout and stderr apart).
fn runs_with_process_json(edit: impl FnOnce(&mut Map<String, Value>)) {
    let container = Container::new(Spec::sh("echo out; echo err >&2; exit 5").no_stdin());
    let mut init = container.spawn_prepared("init", &container.init_options(), |dir| {
        edit_process_json(dir, |value| {
            edit(value.as_object_mut().expect("process.json is an object"))
        })
    });
    init.wait_pid();
    container.start();
    let end = init.finish();
    assert_eq!(end.stdout, b"out\n");
    assert_eq!(end.stderr, b"err\n");
    assert_eq!(end.exit_status, b"5");
    assert_eq!(init.shim_log(), "");
}

#[test]
fn process_json_of_v0_2_3_decodes() {
    runs_with_process_json(|p| {
        p.insert("capabilities".into(), json!(["CAP_KILL", "CAP_CHOWN"]));
        p.insert("runtimeArgs".into(), Value::Null);
        p.insert("terminal".into(), json!(false));
        p.remove("consoleSize");
    });
}

#[test]
fn process_json_of_the_branch_head_decodes() {
    runs_with_process_json(|p| {
        assert!(p["capabilities"].is_object());
        p.remove("terminal");
        p.remove("consoleSize");
        p.insert("oomScoreAdj".into(), json!(0));
        p.insert(
            "user".into(),
            json!({"uid": 0, "gid": 0, "additionalGids": [10]}),
        );
    });
}

#[test]
fn process_json_with_a_console_size_decodes() {
    runs_with_process_json(|p| {
        p.insert("consoleSize".into(), json!({"height": 24, "width": 80}));
    });
}

#[test]
fn process_json_with_unknown_keys_decodes() {
    runs_with_process_json(|p| {
        p.insert(
            "aFutureKey".into(),
            json!({"nested": [1, {"deep": null}], "s": "x"}),
        );
        p.insert("apparmorProfile".into(), json!("docker-default"));
        p.insert("selinuxLabel".into(), json!(""));
        p.insert(
            "rlimits".into(),
            json!([{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]),
        );
    });
}

#[test]
fn a_ten_megabyte_process_json_runs_normally() {
    let container = Container::new(Spec::sh("echo ok"));
    let mut init = container.spawn_prepared("init", &container.init_options(), |d| {
        pad_env(d, 10 << 20);
    });
    let size = std::fs::metadata(process_json(&init.dir))
        .expect("stat")
        .len();
    assert!(size > 10 << 20, "process.json is {size} bytes");
    init.wait_pid();
    container.start();
    let end = init.finish();
    assert_eq!(end.stdout, b"ok\n");
    assert_eq!(end.exit_status, b"0");
}

#[test]
fn a_value_nested_100_000_levels_where_the_shim_skips_it_runs_normally() {
    let fake = Fake::sh("echo ok; exit 3");
    let mut init = fake
        .container
        .spawn_prepared("init", &fake.container.init_options(), |d| {
            prepend_key(d, "future", &nested(100_000))
        });
    init.wait_pid();
    let end = init.finish();
    assert_eq!(end.stdout, b"ok\n");
    assert_eq!(end.exit_status, b"3");
    fake.assert_nothing_left("deep unknown key");
}

// ----------------------------------------------------------------------------------------------
// What the shim cannot read

#[test]
fn bad_process_json_is_one_error_naming_it() {
    type Prepare = fn(&ProcessDir);
    let cases: &[(&str, Prepare, &str)] = &[
        (
            "missing",
            |d| std::fs::remove_file(process_json(d)).expect("remove"),
            "open ",
        ),
        (
            "empty",
            |d| std::fs::write(process_json(d), b"").expect("write"),
            "decode ",
        ),
        (
            "wrong types",
            |d| {
                std::fs::write(process_json(d), br#"{"terminal":"yes","rootUID":-1}"#)
                    .expect("write")
            },
            "decode ",
        ),
        (
            "not UTF-8",
            |d| {
                std::fs::write(process_json(d), b"{\"containerdStdout\":\"/tmp/\xff\xfe\"}")
                    .expect("write")
            },
            "decode ",
        ),
        (
            "nested 100 000 levels where a list is expected",
            |d| prepend_key(d, "runtimeArgs", &nested(100_000)),
            "decode ",
        ),
        (
            "over 16 MiB",
            |d| pad_env(d, MAX_INPUT_BYTES as usize),
            "larger than 16777216 bytes",
        ),
        (
            "a directory",
            |d| {
                std::fs::remove_file(process_json(d)).expect("remove");
                std::fs::create_dir(process_json(d)).expect("mkdir");
            },
            "not a regular file",
        ),
        (
            "a FIFO nobody writes",
            |d| {
                std::fs::remove_file(process_json(d)).expect("remove");
                nix::unistd::mkfifo(&process_json(d), nix::sys::stat::Mode::S_IRWXU)
                    .expect("mkfifo");
            },
            "not a regular file",
        ),
    ];
    let fake = Fake::sh("echo never");
    for (i, (case, prepare, needle)) in cases.iter().enumerate() {
        let mut proc = fake.container.spawn_prepared(
            &format!("p{i}"),
            &fake.container.init_options(),
            |dir| prepare(dir),
        );
        let path = process_json(&proc.dir).display().to_string();
        let error = fake.assert_refused(&mut proc, case, needle);
        assert!(
            error.contains(&path),
            "{case}: {error:?} does not name {path}"
        );
    }
    assert_eq!(fake.calls(), Vec::new(), "the runtime ran");
}
