//! Stdin and the control FIFO through the real binary and a real runc, for a process with pipes:
//! the container sees EOF only once both the client's writer and the shim's own are gone (control
//! message `0`), and lines that are not control messages change nothing. (Terminals are in
//! `terminal.rs`, the control flood in `hostile_input.rs`.)

use std::io::Write;

use tinyshim_testkit::container::Container;
use tinyshim_testkit::driver::open_fifo_writer;
use tinyshim_testkit::fifo_reads::read_until;
use tinyshim_testkit::on_both_pump_paths;
use tinyshim_testkit::process::wait_control_read;
use tinyshim_testkit::procfs::{fds_on, threads};
use tinyshim_testkit::pump_path::PumpPath;
use tinyshim_testkit::spec::Spec;
use tinyshim_testkit::wait::{eventually, LONG};

fn close_stdin_is_no_eof_while_the_client_still_writes(path: PumpPath) {
    let container = Container::new(Spec::command(&["cat"]).on(path));
    let (mut init, _) = container.run();
    let stdin = init.dir.stdin_path.clone().expect("stdin FIFO");
    let mut writer = open_fifo_writer(&stdin).expect("stdin writer");
    writer.write_all(b"one\n").expect("write");
    let stdout = init.dir.stdout.as_mut().expect("stdout");
    read_until(stdout, LONG, |out| out.ends_with(b"one\n"));
    init.dir.close_stdin().expect("control");
    let shim = init.shim_pid();
    eventually(LONG, "the shim dropped its stdin writer", || {
        fds_on(shim, &stdin) == 1
    });
    // The client's writer is still open: cat still takes input.
    writer.write_all(b"two\n").expect("write");
    let stdout = init.dir.stdout.as_mut().expect("stdout");
    read_until(stdout, LONG, |out| out.ends_with(b"two\n"));
    drop(writer);
    let end = init.finish();
    assert_eq!(end.stdout, b"", "EOF once the client closed too");
    assert_eq!(end.exit_status, b"0");
}

fn a_closed_client_writer_is_no_eof_until_close_stdin(path: PumpPath) {
    let container = Container::new(Spec::command(&["cat"]).on(path));
    let (mut init, _) = container.run();
    for line in [&b"one\n"[..], b"two\n"] {
        // Each writer is closed at once; the shim's own writer keeps the FIFO from EOF.
        init.type_in(line);
        let stdout = init.dir.stdout.as_mut().expect("stdout");
        read_until(stdout, LONG, |out| out.ends_with(line));
    }
    init.dir.close_stdin().expect("control");
    let end = init.finish();
    assert_eq!(end.stdout, b"", "EOF");
    assert_eq!(end.exit_status, b"0");
}

#[test]
fn malformed_control_lines_are_skipped_and_the_shim_keeps_working() {
    let container = Container::new(Spec::command(&["cat"]));
    let (mut init, _) = container.run();
    let mut long = vec![b'9'; 200];
    long.extend_from_slice(b" 0 0 0\n");
    let garbage: [&[u8]; 8] = [
        b"garbage\n",
        b"0 0\n",
        b"\xff\xfe\x00\x01\n",
        b"1 80\n",
        b"x 0 0\n",
        &long,
        b"1 80 24\n",
        b"   \n",
    ];
    for line in garbage {
        (&init.dir.control).write_all(line).expect("write control");
    }
    wait_control_read(&init.dir);
    // None of it closed stdin: after the client's writer closes, cat still takes input.
    init.type_in(b"still here\n");
    let stdout = init.dir.stdout.as_mut().expect("stdout");
    read_until(stdout, LONG, |out| out.ends_with(b"still here\n"));
    assert_eq!(threads(init.shim_pid()), "1");
    init.dir.close_stdin().expect("control");
    let end = init.finish();
    assert_eq!(end.stdout, b"");
    assert_eq!(end.exit_status, b"0");
}

on_both_pump_paths!(
    close_stdin_is_no_eof_while_the_client_still_writes,
    a_closed_client_writer_is_no_eof_until_close_stdin,
);
