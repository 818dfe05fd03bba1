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
use crate::event_loop::Registry;
use crate::process::drain::{AfterEof, DrainEnd, DrainPolicy};
use crate::process::output::FifoEnd;
use crate::process::phase::Rules;
use crate::process::stdio::{OutputTarget, StdioSetup};
use crate::process::{Failure, LaunchPlan, ProcessKey};
use crate::reaper;
use crate::runtime::Runtime;
use crate::supervisor::{Frontend, LaunchAt, Notice, Supervisor};
use command_lines::CommandLines;
use control::{ControlParser, Message};
use process_dir::{ProcessDir, CONTROL_FIFO, EXIT_FIFO, PROCESS_JSON};
use shim_log::{capitalized, in_original_words, Level, ShimLog};

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

/// Where the frontend's own readiness leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The control FIFO.
    Control,
}

/// The runtime calls of the frontend's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// `delete`, after which the shim ends.
    Delete,
}

/// The core as this frontend drives it.
type Core = Supervisor<Route, Call>;

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
    match ProcessShim::start(args, log) {
        Ok((mut core, mut shim)) => {
            if let Err(error) = core.run(&mut shim) {
                shim.ending = Ending::Done(Outcome::failure(error));
            }
            shim.finish(&mut core)
        }
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

/// The shim of one process: everything of the protocol's own that it holds.
struct ProcessShim<'a> {
    log: &'a ShimLog,
    dir: ProcessDir,
    control: OwnedFd,
    control_token: Option<Token>,
    parser: ControlParser,
    /// The exit FIFO's write end: held, never written, closed by the kernel when the shim
    /// exits, which is the daemon's exit notification.
    _exit: OwnedFd,
    process: ProcessKey,
    /// An exec process ends without `delete`, and has no `kill --all`.
    exec: bool,
    runtime: Runtime,
    commands: CommandLines,
    ending: Ending,
}

impl<'a> ProcessShim<'a> {
    /// Set-up, in the original's order: signals, subreaper, `exit`, `control`, `process.json`,
    /// the checkpoint config, the client FIFOs, pipes or console, then the runtime.
    fn start(args: &Args, log: &'a ShimLog) -> Result<(Core, ProcessShim<'a>)> {
        let path = nix::unistd::getcwd().map_err(|e| Error::os("getcwd", e))?;
        let config = Config {
            // The daemon kills a shim whose start takes too long; the original bounded no call.
            runtime_timeout: None,
            ..Config::from_env(&path)
        };
        let mut core = Core::boot(config)?;
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
        let runtime = Runtime::find(&args.runtime, &core.config().search_path)?;
        let commands = CommandLines {
            args: state.runtime_args.clone(),
            id: args.id.clone(),
            bundle: args.bundle.clone(),
            process_dir: dir.path.clone(),
        };
        let control_token = core
            .registry()
            .register(control.as_fd(), Interest::READABLE, Route::Control)
            .map_err(|e| Error::os("epoll_ctl control", e))?;
        let exec = state.exec;
        let rules = Rules {
            // The daemon runs `start` itself once the pid file appeared.
            start_after_launch: true,
            kill_all_on_exit: !exec,
        };
        let setup = StdioSetup {
            stdin: &state.stdin,
            stdout: OutputTarget::Fifo(&state.stdout),
            stderr: OutputTarget::Fifo(&state.stderr),
            terminal: state.terminal,
            owner: (state.root_uid, state.root_gid),
            fifo_end: FifoEnd::WithProcess,
            null_to_container: false,
        };
        let fifos = [&state.stdin, &state.stdout, &state.stderr];
        let launched = core.launch(rules, DRAIN, setup, LaunchAt::Now, |console| {
            // `exec` comes first, as in the original: a checkpoint restores the container's
            // init, never an exec process.
            let launch = match &checkpoint {
                _ if exec => commands.exec(console),
                Some((checkpoint, config)) => commands.restore(
                    checkpoint,
                    config,
                    console,
                    state.no_pivot_root,
                    SystemTime::now(),
                ),
                None => commands.create(console, state.no_pivot_root),
            };
            LaunchPlan {
                runtime: runtime.clone(),
                launch,
                cwd: Some(args.bundle.clone()),
                pid_file: commands.pid_file(),
                start: None,
                kill_all: (!exec).then(|| commands.kill_all()),
            }
        });
        let process = launched.map_err(|error| in_original_words(error, &fifos))?;
        let shim = ProcessShim {
            log,
            dir,
            control,
            control_token,
            parser: ControlParser::new(),
            _exit: exit,
            process,
            exec,
            runtime,
            commands,
            ending: Ending::No,
        };
        Ok((core, shim))
    }
}

impl Frontend for ProcessShim<'_> {
    type Route = Route;
    type Call = Call;

    fn begin(&mut self, core: &mut Core) {
        // The client may have written before the control FIFO was registered.
        self.read_control(core);
    }

    fn done(&mut self, _core: &mut Core) -> bool {
        matches!(self.ending, Ending::Done(_))
    }

    fn handle(&mut self, core: &mut Core, notice: Notice<Route, Call>) {
        match notice {
            Notice::Frontend(Route::Control) => self.read_control(core),
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
                core.close_stdio(key);
                self.delete_then(core, Outcome::success());
            }
            Notice::LaunchFailed(_, failure) => match failure {
                // The runtime explained itself in log.json; an error entry here would hide it.
                Failure::Runtime { .. } => self.delete_then(core, Outcome::success()),
                Failure::Shim(error) => self.delete_then(core, Outcome::failure(error)),
            },
            Notice::CallFinished(call) if call.tag == Call::Delete => {
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
            Notice::Terminate
            | Notice::Launched(_)
            | Notice::Started(_)
            | Notice::StartFailed(..)
            | Notice::CallFinished(_) => {}
        }
    }
}

impl ProcessShim<'_> {
    /// Runs `delete` for init, then ends with `then`; an exec ends at once.
    fn delete_then(&mut self, core: &mut Core, then: Outcome) {
        if self.exec {
            self.ending = Ending::Done(then);
            return;
        }
        // Like kill, delete runs in the shim's directory with /dev/null stdio; its failure is
        // ignored as in the original (the container may already be gone), but noted.
        match core.spawn_call(
            &self.runtime,
            &self.commands.delete(),
            None,
            false,
            Call::Delete,
        ) {
            Ok(_) => self.ending = Ending::Deleting { then },
            Err((error, _)) => {
                self.log.write(Level::Warn, &error.to_string());
                self.ending = Ending::Done(then);
            }
        }
    }

    fn read_control(&mut self, core: &mut Core) {
        let mut parser = std::mem::take(&mut self.parser);
        let mut buffer = [0u8; CONTROL_READ];
        let process = self.process;
        for _ in 0..CONTROL_READS_PER_RUN {
            match nix::unistd::read(&self.control, &mut buffer) {
                Ok(0) => break,
                Ok(n) => parser.feed(&buffer[..n], |message| match message {
                    Message::CloseStdin => core.close_stdin(process),
                    Message::Resize { width, height } => core.resize(process, width, height),
                }),
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
            core.registry().again(token);
        }
    }

    /// The last step: whatever the outcome, nothing the shim started outlives it.
    fn finish(mut self, core: &mut Core) -> Outcome {
        let outcome = match std::mem::replace(&mut self.ending, Ending::No) {
            Ending::Done(outcome) => outcome,
            _ => Outcome::success(),
        };
        let reaped = core
            .process(self.process)
            .is_some_and(|p| p.phase().status().is_some());
        if !reaped {
            // A start that failed: pass on what output there is, then kill what the runtime may
            // have left (a half-created container, an exec whose pid file was bad).
            core.flush_outputs(self.process);
            reaper::kill_and_reap_children();
        }
        core.remove(self.process);
        outcome
    }
}
