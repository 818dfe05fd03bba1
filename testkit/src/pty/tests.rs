use std::process::Command;
use std::time::Duration;

use super::*;

const TIMEOUT: Duration = Duration::from_secs(30);

fn sh(script: &str) -> Command {
    let mut command = Command::new("/bin/sh");
    command.arg("-c").arg(script);
    command
}

#[test]
fn output_arrives_complete_and_unchanged() {
    // 1 MiB of lines: any loss, or a \n turned into \r\n, changes the count.
    let script = "i=0; while [ $i -lt 16384 ]; do \
                  echo 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde; \
                  i=$((i+1)); done";
    let output = Terminal::spawn(sh(script), 24, 80)
        .expect("spawn")
        .finish(TIMEOUT);
    assert!(output.status.success());
    assert_eq!(output.output.len(), 1 << 20);
    assert_eq!(output.output.iter().filter(|&&b| b == b'\r').count(), 0);
}

#[test]
fn the_child_sees_the_initial_size_and_a_resize() {
    let terminal = Terminal::spawn(
        sh("trap 'stty size; exit 0' WINCH; stty size; while :; do sleep 0.01; done"),
        33,
        99,
    )
    .expect("spawn");
    terminal.wait_for(b"33 99\n", TIMEOUT);
    terminal.resize(40, 120);
    let output = terminal.finish(TIMEOUT);
    assert_eq!(output.text(), "33 99\n40 120\n");
}

#[test]
fn the_terminal_is_the_childs_controlling_terminal() {
    // /dev/tty opens only for a process with a controlling terminal.
    let output = Terminal::spawn(sh("echo ok > /dev/tty"), 24, 80)
        .expect("spawn")
        .finish(TIMEOUT);
    assert_eq!(output.text(), "ok\n");
}

#[test]
fn typed_input_reaches_the_child_without_echo() {
    let terminal = Terminal::spawn(sh("read line; echo \"got $line\""), 24, 80).expect("spawn");
    terminal.write(b"hello\n");
    let output = terminal.finish(TIMEOUT);
    assert_eq!(output.text(), "got hello\n");
}
