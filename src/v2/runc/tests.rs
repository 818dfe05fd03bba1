//! Unit tests of [`super`].

use super::*;

fn text(command: CommandLine) -> String {
    command
        .args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn lines(settings: &Settings) -> CommandLines<'_> {
    CommandLines {
        settings,
        id: "c1",
        bundle: Path::new("/b"),
    }
}

const GLOBAL: &str = "--root /run/containerd/runc/ns --log /b/log.json --log-format json";

#[test]
fn default_options_give_runc_in_the_namespaces_root() {
    let settings = Settings::new(None, "ns");
    assert_eq!(settings.binary, "runc");
    assert_eq!(settings.root, Path::new("/run/containerd/runc/ns"));
    let options = Options {
        binary_name: "/usr/bin/crun".into(),
        root: "/r".into(),
        systemd_cgroup: true,
        io_uid: 7,
        io_gid: 8,
        ..Options::default()
    };
    let settings = Settings::new(Some(&options), "ns");
    assert_eq!(settings.binary, "/usr/bin/crun");
    assert_eq!(settings.io_owner, (7, 8));
    assert_eq!(
        text(lines(&settings).start()),
        "--root /r/ns --log /b/log.json --log-format json --systemd-cgroup start c1"
    );
}

#[test]
fn every_command_line_has_go_runcs_form() {
    let mut settings = Settings::new(None, "ns");
    let socket = Path::new("/tmp/s/pty.sock");
    assert_eq!(
        text(lines(&settings).create(ConsoleArg::None)),
        format!("{GLOBAL} create --bundle /b --pid-file /b/init.pid c1")
    );
    settings.no_pivot_root = true;
    settings.no_new_keyring = true;
    assert_eq!(
        text(lines(&settings).create(ConsoleArg::Socket(socket))),
        format!(
            "{GLOBAL} create --bundle /b --pid-file /b/init.pid --console-socket /tmp/s/pty.sock \
             --no-pivot --no-new-keyring c1"
        )
    );
    assert_eq!(
        text(lines(&settings).exec(Path::new("/b/e.json"), Path::new("/b/e.pid"), ConsoleArg::Socket(socket))),
        format!("{GLOBAL} exec --process /b/e.json --pid-file /b/e.pid --console-socket /tmp/s/pty.sock --detach c1")
    );
    assert_eq!(
        text(lines(&settings).kill(9, true)),
        format!("{GLOBAL} kill --all c1 9")
    );
    assert_eq!(
        text(lines(&settings).kill(15, false)),
        format!("{GLOBAL} kill c1 15")
    );
    assert_eq!(
        text(lines(&settings).delete()),
        format!("{GLOBAL} delete --force c1")
    );
    assert_eq!(
        text(lines(&settings).freeze(true)),
        format!("{GLOBAL} pause c1")
    );
    assert_eq!(
        text(lines(&settings).freeze(false)),
        format!("{GLOBAL} resume c1")
    );
    assert_eq!(
        text(lines(&settings).ps()),
        format!("{GLOBAL} ps --format json c1")
    );
    assert_eq!(
        text(lines(&settings).update(Path::new("/b/r.json"))),
        format!("{GLOBAL} update --resources /b/r.json c1")
    );
    settings.systemd_cgroup = true;
    assert_eq!(
        text(lines(&settings).update(Path::new("/b/r.json"))),
        format!("{GLOBAL} --systemd-cgroup update --resources /b/r.json c1")
    );
}

#[test]
fn checkpoint_has_the_go_shims_flags_and_leaves_the_container_running_unless_asked() {
    let settings = Settings::new(None, "ns");
    let (image, work) = (Path::new("/img"), Path::new("/b/work/criu-work"));
    assert_eq!(
        text(lines(&settings).checkpoint(image, work, &CheckpointOptions::default())),
        format!("{GLOBAL} checkpoint --image-path /img --work-path /b/work/criu-work --leave-running c1")
    );
    let every = CheckpointOptions {
        exit: true,
        open_tcp: true,
        external_unix_sockets: true,
        terminal: true,
        file_locks: true,
        empty_namespaces: vec!["network".into(), "ipc".into()],
        cgroups_mode: "soft".into(),
        image_path: "/ignored/here".into(),
        work_path: "/ignored/too".into(),
        parent_path: "/parent".into(),
    };
    assert_eq!(
        text(lines(&settings).checkpoint(image, work, &every)),
        format!(
            "{GLOBAL} checkpoint --image-path /img --work-path /b/work/criu-work \
             --tcp-established --ext-unix-sk --shell-job --file-locks --empty-ns network \
             --empty-ns ipc --parent-path /parent c1"
        )
    );
}

#[test]
fn restore_detaches_without_a_subreaper_into_the_init_pid_file() {
    let mut settings = Settings::new(None, "ns");
    let socket = Path::new("/tmp/s/pty.sock");
    assert_eq!(
        text(lines(&settings).restore(Path::new("/cp"), None, ConsoleArg::None)),
        format!(
            "{GLOBAL} restore --image-path /cp --detach --pid-file /b/init.pid --no-subreaper \
             --bundle /b c1"
        )
    );
    settings.criu_work_path = Some("/w".into());
    settings.no_pivot_root = true;
    assert_eq!(
        text(lines(&settings).restore(
            Path::new("/cp"),
            Some(Path::new("/parent")),
            ConsoleArg::Socket(socket)
        )),
        format!(
            "{GLOBAL} restore --image-path /cp --work-path /w --parent-path /parent --detach \
             --pid-file /b/init.pid --console-socket /tmp/s/pty.sock --no-pivot --no-subreaper \
             --bundle /b c1"
        )
    );
}

#[test]
fn ps_output_and_the_log_s_last_error_are_read() {
    assert_eq!(parse_ps(b"[12,34]\n"), Some(vec![12, 34]));
    assert_eq!(parse_ps(b"null"), Some(vec![]));
    assert_eq!(parse_ps(b"garbage"), None);
    let dir = std::env::temp_dir().join(format!("tinyshim-runc-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join(LOG_FILE),
        "{\"level\":\"warning\",\"msg\":\"w\"}\n{\"level\":\"error\",\"msg\":\"first\"}\n\
         {\"level\":\"error\",\"msg\":\"container \\\"c1\\\" does not exist\"}\nnot json\n",
    )
    .expect("write log");
    assert_eq!(
        last_error(&dir).as_deref(),
        Some("container \"c1\" does not exist")
    );
    std::fs::remove_dir_all(&dir).expect("clean up");
    assert_eq!(last_error(&dir), None);
}
