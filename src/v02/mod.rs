//! The containerd v0.2.x frontend: `containerd-shim <id> <bundle> <runtime>`, one process per
//! shim, as docs/PROTOCOL-v0.2.md describes.
//!
//! ```text
//! launch (create | exec -d | restore) --pid read--> running --reaped--> exitStatus written,
//!    |                                                                  init: kill --all,
//!    +--runtime fails---------> init: delete --> exit 0             drain, close the FIFOs,
//!    +--bad pid / no terminal-> init: delete --> exit 1 + error     init: delete --> exit 0
//! ```
//!
//! The core does the supervising; this module adds what is the protocol's own: the process
//! directory and its `exit` and `control` FIFOs, `process.json`, `exitStatus`, `shim-log.json`,
//! and the exit sequence. Control messages and reaping never stop, whatever the phase (the fix
//! for moby#34683, where the original stopped reaping while it waited for an exec's output).

pub mod command_lines;
pub mod control;
pub mod process_dir;
pub mod process_json;
pub mod shim_log;

use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use mio::{Interest, Token};
use nix::errno::Errno;
use nix::fcntl::OFlag;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::process::drain::{AfterEof, DrainEnd, DrainPolicy};
use crate::process::phase::{Phase, Rules};
use crate::process::stdio::{OutputTarget, StdioSetup};
use crate::process::{Failure, Kind, LaunchPlan, ProcessKey};
use crate::reaper;
use crate::runtime::Runtime;
use crate::supervisor::{Notice, Route, Supervisor};
use command_lines::CommandLines;
use control::{ControlParser, Message};
use process_dir::{ProcessDir, CONTROL_FIFO, EXIT_FIFO, PROCESS_JSON};
use shim_log::{Level, ShimLog};

/// How long, once the process has exited, its last output waits for a client that takes
/// nothing: a full FIFO, or unread bytes in a FIFO nobody has open (the daemon restarting with
/// live-restore; when it is back it reopens the FIFOs and reads). Then the shim gives up, closes
/// the FIFOs and exits, so that a client that never reads cannot keep it forever.
pub const CLIENT_LINGER: Duration = Duration::from_secs(30);

/// The drain of a v0.2 process: the FIFOs close when it ends, so it waits for a reader of
/// unread bytes; an output held open by something the process left behind (an exec's
/// background child) is waited for however long, as the original did.
const DRAIN: DrainPolicy = DrainPolicy {
    client: CLIENT_LINGER,
    silence: None,
    after_eof: AfterEof::Reader,
};

/// The frontend's own route: the control FIFO.
const CONTROL: usize = 0;
/// The tag of the `delete` call.
const DELETE: u64 = 0;

/// Bytes read from the control FIFO per `read`. The FIFO holds what the daemon wrote until then.
const CONTROL_READ: usize = 256;

/// Control reads per wake-up before other sources get their turn: a flood of control bytes must
/// not starve the pumps or the reaper.
const CONTROL_READS_PER_RUN: usize = 16;

/// The shim's positional arguments.
#[derive(Debug, Clone)]
pub struct Args {
    /// The container id.
    pub id: String,
    /// The bundle directory.
    pub bundle: PathBuf,
    /// The runtime name or path.
    pub runtime: String,
}

/// How the shim ends: its exit status and, for status 1, the error for `shim-log.json`.
#[derive(Debug)]
pub struct Outcome {
    /// The process exit status.
    pub code: u8,
    /// The fatal error, written as the single `error` entry.
    pub error: Option<Error>,
}

impl Outcome {
    fn success() -> Outcome {
        Outcome {
            code: 0,
            error: None,
        }
    }

    fn failure(error: Error) -> Outcome {
        Outcome {
            code: 1,
            error: Some(error),
        }
    }
}

/// Runs the shim to its end. The caller writes `error` to `shim-log.json`.
pub fn run(args: &Args, log: &ShimLog) -> Outcome {
    match Shim::start(args, log) {
        Ok(shim) => shim.run(),
        Err(error) => Outcome::failure(error),
    }
}

/// How far the end of the shim has come.
#[derive(Debug)]
enum Ending {
    /// Not ending yet.
    No,
    /// The runtime's `delete` runs; `then` is how the shim ends afterwards.
    Deleting { then: Outcome },
    /// Nothing left to do.
    Done(Outcome),
}

/// Everything the running shim owns.
struct Shim<'a> {
    log: &'a ShimLog,
    sup: Supervisor,
    dir: ProcessDir,
    control: OwnedFd,
    control_token: Option<Token>,
    parser: ControlParser,
    /// The exit FIFO's write end: held, never written, closed by the kernel when the shim
    /// exits, which is the daemon's exit notification.
    _exit: OwnedFd,
    process: ProcessKey,
    kind: Kind,
    runtime: Runtime,
    commands: CommandLines,
    ending: Ending,
}

impl<'a> Shim<'a> {
    /// Set-up, in the original's order: signals, subreaper, `exit`, `control`, `process.json`,
    /// the checkpoint config, the client FIFOs, pipes or console, then the runtime.
    fn start(args: &Args, log: &'a ShimLog) -> Result<Shim<'a>> {
        let signals = reaper::block_signals()?;
        reaper::become_subreaper()?;
        let path = nix::unistd::getcwd().map_err(|e| Error::os("getcwd", e))?;
        let config = Config::from_env(&path);
        let dir = ProcessDir { path };
        let exit = dir.open_fifo(EXIT_FIFO, OFlag::O_WRONLY)?;
        let control = dir.open_fifo(CONTROL_FIFO, OFlag::O_RDWR)?;
        let state = process_json::load_process(&dir.file(PROCESS_JSON))?;
        let checkpoint = match state.checkpoint.as_str() {
            "" => None,
            // A relative checkpoint is relative to the process directory, where the original
            // read its config; the runtime runs in the bundle, so it gets the absolute path.
            checkpoint => {
                let checkpoint = dir.path.join(checkpoint);
                let config = process_json::load_checkpoint(&checkpoint.join("config.json"))?;
                Some((checkpoint, config))
            }
        };
        let runtime = Runtime::find(&args.runtime, &config.search_path)?;
        let commands = CommandLines {
            args: state.runtime_args.clone(),
            id: args.id.clone(),
            bundle: args.bundle.clone(),
            process_dir: dir.path.clone(),
        };
        let mut sup = Supervisor::new(config, signals)?;
        let control_token = sup
            .lp
            .register(
                control.as_fd(),
                Interest::READABLE,
                Route::Frontend(CONTROL),
            )
            .map_err(|e| Error::os("epoll_ctl control", e))?;
        let kind = if state.exec { Kind::Exec } else { Kind::Init };
        let rules = Rules {
            // The daemon runs `start` itself once the pid file appeared.
            start_after_launch: true,
            kill_all_on_exit: kind == Kind::Init,
        };
        let setup = StdioSetup {
            stdin: &state.stdin,
            stdout: OutputTarget::Fifo(&state.stdout),
            stderr: OutputTarget::Fifo(&state.stderr),
            terminal: state.terminal,
            owner: (state.root_uid, state.root_gid),
        };
        let process = sup.add_process(kind, rules, DRAIN, setup)?;
        let console = sup.console_arg(process);
        // `exec` comes first, as in the original: a checkpoint restores the container's init,
        // never an exec process.
        let launch = match &checkpoint {
            _ if state.exec => commands.exec(console),
            Some((checkpoint, config)) => commands.restore(
                checkpoint,
                config,
                console,
                state.no_pivot_root,
                SystemTime::now(),
            ),
            None => commands.create(console, state.no_pivot_root),
        };
        let plan = LaunchPlan {
            runtime: runtime.clone(),
            launch,
            cwd: Some(args.bundle.clone()),
            pid_file: commands.pid_file(),
            start: None,
            kill_all: (kind == Kind::Init).then(|| commands.kill_all()),
        };
        sup.launch(process, plan)?;
        Ok(Shim {
            log,
            sup,
            dir,
            control,
            control_token,
            parser: ControlParser::new(),
            _exit: exit,
            process,
            kind,
            runtime,
            commands,
            ending: Ending::No,
        })
    }

    fn run(mut self) -> Outcome {
        let mut notices = Vec::new();
        // The runtime may have exited, and the client may have written, before registration.
        self.sup.kick(&mut notices);
        self.read_control();
        loop {
            for notice in notices.drain(..) {
                self.handle(notice);
            }
            if let Ending::Done(_) = self.ending {
                break;
            }
            if let Err(e) = self.sup.turn(&mut notices) {
                self.ending = Ending::Done(Outcome::failure(Error::os("epoll_wait", e)));
            }
        }
        self.finish()
    }

    fn handle(&mut self, notice: Notice) {
        match notice {
            Notice::Frontend(CONTROL) => self.read_control(),
            Notice::Exited(_, status) => self.dir.write_exit_status(status.code()),
            Notice::Finished(key, end) => {
                if let DrainEnd::GaveUp { left, why, waited } = end {
                    self.log.write(
                        Level::Warn,
                        &format!(
                            "gave up the last output after {} s ({why}): {left} byte(s) unread",
                            waited.as_secs()
                        ),
                    );
                }
                self.sup.close_stdio(key);
                self.delete_then(Outcome::success());
            }
            Notice::LaunchFailed(key) => {
                let failure = self.sup.process_mut(key).and_then(|p| p.failure.take());
                match failure {
                    // The runtime explained itself in log.json; an error entry here would hide it.
                    Some(Failure::Runtime { .. }) | None => self.delete_then(Outcome::success()),
                    Some(Failure::Shim(error)) => self.delete_then(Outcome::failure(error)),
                }
            }
            Notice::CallFinished(call) if call.tag == DELETE => {
                if let Ending::Deleting { .. } = self.ending {
                    if let Ending::Deleting { then } =
                        std::mem::replace(&mut self.ending, Ending::No)
                    {
                        self.ending = Ending::Done(then);
                    }
                }
            }
            Notice::PumpFailed(_, failure) => self.log.write(
                Level::Warn,
                &format!(
                    "{} pump: {}: {}",
                    capitalized(failure.stream),
                    failure.path,
                    failure.errno.desc()
                ),
            ),
            Notice::Warning(message) => self.log.write(Level::Warn, &message),
            // Every signal but SIGCHLD is ignored, as the original ignored them all; the daemon
            // runs `start` itself, and no other call is made.
            Notice::Frontend(_)
            | Notice::Terminate
            | Notice::Launched(_)
            | Notice::Started(_)
            | Notice::StartFailed(_)
            | Notice::CallFinished(_) => {}
        }
    }

    /// Runs `delete` for init, then ends with `then`; an exec ends at once.
    fn delete_then(&mut self, then: Outcome) {
        if self.kind == Kind::Exec {
            self.ending = Ending::Done(then);
            return;
        }
        // Like kill, delete runs in the shim's directory with /dev/null stdio; its failure is
        // ignored as in the original (the container may already be gone), but noted.
        match self
            .sup
            .spawn_call(&self.runtime, &self.commands.delete(), None, false, DELETE)
        {
            Ok(_) => self.ending = Ending::Deleting { then },
            Err(error) => {
                self.log.write(Level::Warn, &error.to_string());
                self.ending = Ending::Done(then);
            }
        }
    }

    fn read_control(&mut self) {
        let mut parser = std::mem::take(&mut self.parser);
        let mut buffer = [0u8; CONTROL_READ];
        for _ in 0..CONTROL_READS_PER_RUN {
            match nix::unistd::read(&self.control, &mut buffer) {
                Ok(0) => break,
                Ok(n) => parser.feed(&buffer[..n], |message| self.apply(message)),
                Err(Errno::EINTR) => continue,
                // EAGAIN: the FIFO is empty. Nothing else can fail on a FIFO opened O_RDWR.
                Err(_) => {
                    self.parser = parser;
                    return;
                }
            }
        }
        self.parser = parser;
        // The budget is spent and bytes may be left: come back before sleeping.
        if let Some(token) = self.control_token {
            self.sup.lp.again(token);
        }
    }

    fn apply(&mut self, message: Message) {
        let Some(process) = self.sup.process_mut(self.process) else {
            return;
        };
        match message {
            Message::CloseStdin => process.stdio.close_stdin(),
            Message::Resize { width, height } => process.stdio.resize(width, height),
        }
    }

    /// The last step: whatever the outcome, nothing the shim started outlives it.
    fn finish(mut self) -> Outcome {
        let outcome = match std::mem::replace(&mut self.ending, Ending::No) {
            Ending::Done(outcome) => outcome,
            _ => Outcome::success(),
        };
        let reaped = self
            .sup
            .process(self.process)
            .is_some_and(|p| matches!(p.phase, Phase::Exiting { .. } | Phase::Exited { .. }));
        if !reaped {
            // A start that failed: pass on what output there is, then kill what the runtime may
            // have left (a half-created container, an exec whose pid file was bad).
            self.sup.flush_outputs(self.process);
            reaper::kill_and_reap_children();
        }
        self.sup.remove(self.process);
        outcome
    }
}

fn capitalized(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
