//! Unit tests of [`super`].

use super::*;
use std::ffi::OsStr;
use std::time::{Duration, UNIX_EPOCH};

fn runtime(args: &[&str]) -> CommandLines {
    CommandLines {
        args: args.iter().map(|s| s.to_string()).collect(),
        id: "c1".into(),
        bundle: "/b".into(),
        process_dir: "/run/c1/init".into(),
    }
}

fn words(command: CommandLine) -> String {
    display_argv(OsStr::new("rt"), &command.args)
}

#[test]
fn create_is_byte_exact() {
    assert_eq!(
        words(runtime(&[]).create(ConsoleArg::None, false)),
        "rt --log /run/c1/init/log.json --log-format json create --bundle /b --pid-file /run/c1/init/pid c1"
    );
    assert_eq!(
        words(runtime(&["--root", "/r"]).create(ConsoleArg::Socket(Path::new("/tmp/p/pty.sock")), true)),
        "rt --log /run/c1/init/log.json --log-format json --root /r create --bundle /b --console-socket /tmp/p/pty.sock --no-pivot --pid-file /run/c1/init/pid c1"
    );
    assert_eq!(
        words(runtime(&[]).create(ConsoleArg::Legacy(Path::new("/dev/pts/3")), false)),
        "rt --log /run/c1/init/log.json --log-format json create --bundle /b --console /dev/pts/3 --pid-file /run/c1/init/pid c1"
    );
}

#[test]
fn exec_is_byte_exact() {
    assert_eq!(
        words(runtime(&["--debug"]).exec(ConsoleArg::None)),
        "rt --log /run/c1/init/log.json --log-format json --debug exec -d --process /run/c1/init/process.json --pid-file /run/c1/init/pid c1"
    );
    assert_eq!(
        words(runtime(&[]).exec(ConsoleArg::Socket(Path::new("/s")))),
        "rt --log /run/c1/init/log.json --log-format json exec -d --process /run/c1/init/process.json --console-socket /s --pid-file /run/c1/init/pid c1"
    );
}

#[test]
fn restore_is_byte_exact() {
    let now = UNIX_EPOCH + Duration::new(1_500_000_000, 120_000_000);
    let all = CheckpointConfig {
        tcp: true,
        unix_sockets: true,
        shell: true,
        empty_ns: vec!["network".into(), "ipc".into()],
    };
    assert_eq!(
        words(runtime(&["--a"]).restore(Path::new("/cp"), &all, ConsoleArg::None, true, now)),
        "rt --log /run/c1/init/log.json --log-format json --a restore -d --image-path /cp --work-path /cp/criu.work/restore-2017-07-14T02:40:00.12Z --shell-job --tcp-established --ext-unix-sk --no-pivot --empty-ns network --empty-ns ipc --pid-file /run/c1/init/pid c1"
    );
    assert_eq!(
        words(runtime(&[]).restore(Path::new("/cp"), &CheckpointConfig::default(), ConsoleArg::Socket(Path::new("/s")), false, now)),
        "rt --log /run/c1/init/log.json --log-format json restore -d --image-path /cp --work-path /cp/criu.work/restore-2017-07-14T02:40:00.12Z --console-socket /s --pid-file /run/c1/init/pid c1"
    );
}

#[test]
fn kill_and_delete_have_runtime_args_but_no_log() {
    assert_eq!(
        words(runtime(&["--root", "/r"]).kill_all()),
        "rt --root /r kill --all c1 SIGKILL"
    );
    assert_eq!(words(runtime(&[]).delete()), "rt delete c1");
}

#[test]
fn each_command_line_names_its_subcommand_for_messages() {
    let rt = runtime(&["--root", "/r"]);
    assert_eq!(rt.create(ConsoleArg::None, false).subcommand, "create");
    assert_eq!(rt.exec(ConsoleArg::None).subcommand, "exec");
    assert_eq!(rt.kill_all().subcommand, "kill");
    assert_eq!(rt.delete().subcommand, "delete");
}

/// The arguments as one space-separated string, as the expected command lines are written.
fn display_argv(program: &OsStr, argv: &[OsString]) -> String {
    let mut text = program.to_string_lossy().into_owned();
    for arg in argv {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}
