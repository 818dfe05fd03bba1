//! `ttrpc-probe <socket> <uid> <task id>`: as user `uid` (dropping root first), connects to a
//! shim's socket, calls `State` for the task and prints `code <n>` for the answer, or `closed`
//! when the shim hangs up without one, or `refused: <why>` when it cannot even connect. The
//! tests use it to see what the shim does with a peer of another user.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use tinyshim_testkit::ttrpc_client::{process_request, Client, TASK_SERVICE};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [socket, uid, id] = args.as_slice() else {
        eprintln!("usage: ttrpc-probe <socket> <uid> <task id>");
        return ExitCode::from(2);
    };
    let Ok(uid) = uid.parse::<u32>() else {
        eprintln!("ttrpc-probe: bad uid {uid}");
        return ExitCode::from(2);
    };
    let id_gid = nix::unistd::Gid::from_raw(uid);
    let id_uid = nix::unistd::Uid::from_raw(uid);
    if let Err(e) = nix::unistd::setgroups(&[])
        .and_then(|()| nix::unistd::setresgid(id_gid, id_gid, id_gid))
        .and_then(|()| nix::unistd::setresuid(id_uid, id_uid, id_uid))
    {
        eprintln!("ttrpc-probe: become {uid}: {e}");
        return ExitCode::FAILURE;
    }
    let mut client = match Client::connect(Path::new(socket)) {
        Ok(client) => client,
        Err(e) => {
            println!("refused: {e}");
            return ExitCode::SUCCESS;
        }
    };
    client.set_timeout(Duration::from_secs(5));
    let payload = process_request(id, "");
    match client.call(TASK_SERVICE, "State", &payload) {
        Ok(reply) => println!("code {}", reply.code),
        Err(_) if client.peer_closed(Duration::from_secs(1)) => println!("closed"),
        Err(e) => println!("error: {e}"),
    }
    ExitCode::SUCCESS
}
