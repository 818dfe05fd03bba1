//! The shim's life, from set-up to exit, in one thread and one loop.
//!
//! ```text
//! Starting --runtime exits 0, pid read--> Running --target reaped--> Draining --outputs at EOF-->
//!    |                                                                (init: kill --all first)
//!    +--runtime fails / bad pid / no terminal--+          close FIFOs, init: Deleting --> Done
//!                                              +--> init: Deleting --> Done (exit 0 or 1)
//! ```
//!
//! Everything happens in [`Shim::run_loop`]: pumps, control messages, console receive and
//! reaping never stop, whatever the phase (the fix for moby#34683, where the original stopped
//! reaping while it waited for an exec's output). The runtime children are spawned without
//! waiting and their exits are learned from the same SIGCHLD reaping as every other child.

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime};

use mio::{Events, Interest, Poll, Token};
use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::signalfd::SignalFd;
use nix::sys::stat::{fstat, Mode};
use nix::unistd::Pid;

use crate::console::{self, ConsoleSocket, LegacyConsole};
use crate::control::{ControlParser, Message};
use crate::error::{Error, Result};
use crate::log::{Level, ShimLog};
use crate::pidfile;
use crate::pump::{self, Endpoint, Flow, Pump};
use crate::reactor::{self, PumpId, CONSOLE_CONNECTION, CONSOLE_LISTENER, CONTROL, SIGNALS};
use crate::reaper;
use crate::runtime::{ConsoleArg, Runtime};
use crate::spec::{self, CheckpointConfig, ProcessState};
use crate::stdio;

/// The exit FIFO's name in the process directory.
pub const EXIT_FIFO: &str = "exit";
/// The control FIFO's name in the process directory.
pub const CONTROL_FIFO: &str = "control";
/// The exit status file's name in the process directory.
pub const EXIT_STATUS: &str = "exitStatus";

/// Readiness events taken per `epoll_wait`; more simply wait for the next call.
const EVENTS: usize = 16;

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

/// Where the process is in its life.
#[derive(Debug)]
enum Phase {
    /// The runtime's create, exec or restore is running.
    Starting { runtime: Pid },
    /// The target process (from the pid file) runs.
    Running { target: Pid },
    /// The target was reaped: waiting for `kill --all` (init) and for every output to end.
    Draining { kill: Option<Pid> },
    /// The runtime's `delete` runs; `then` is how the shim ends afterwards.
    Deleting { delete: Pid, then: Outcome },
    /// Nothing left to do.
    Done(Outcome),
}

/// The terminal of a `terminal: true` process, before and after its master arrives.
#[derive(Debug)]
struct Terminal {
    /// Waiting for the runtime's connection (console-socket protocol).
    socket: Option<ConsoleSocket>,
    /// The PTY the shim made itself (legacy protocol); its master is attached once the runtime
    /// succeeds, when the container holds the slave.
    legacy: Option<LegacyConsole>,
    /// The attached master, kept for resizes.
    master: Option<OwnedFd>,
    /// The legacy slave the shim holds until the process has exited (see [`console`]).
    held_slave: Option<OwnedFd>,
    /// A resize that came before the master: applied when it arrives.
    pending_size: Option<(u16, u16)>,
    /// Why the master could not be received; reported once the runtime has exited.
    error: Option<Error>,
    /// Client ends waiting for the master: the stdin FIFO reader and the stdout FIFO writer.
    client_stdin: Option<OwnedFd>,
    client_stdout: Option<OwnedFd>,
}

impl Terminal {
    fn resize(&mut self, width: u16, height: u16) {
        // A legacy master exists from the start: sizing it at once lets an `exec -d` process
        // see its size from its first instruction.
        let master = self
            .master
            .as_ref()
            .or(self.legacy.as_ref().map(|legacy| &legacy.master));
        match master {
            // Errors are ignored as in the original: the master only fails once it hung up.
            Some(master) => {
                let _ = console::resize(master.as_fd(), width, height);
            }
            None => self.pending_size = Some((width, height)),
        }
    }
}

/// Runs the shim to its end. The caller writes `error` to `shim-log.json`.
pub fn run(args: &Args, log: &ShimLog) -> Outcome {
    match Shim::start(args, log) {
        Ok(mut shim) => shim.run_loop(),
        Err(error) => Outcome::failure(error),
    }
}

/// Everything the running shim owns.
struct Shim<'a> {
    log: &'a ShimLog,
    poll: Poll,
    signals: SignalFd,
    control: OwnedFd,
    parser: ControlParser,
    /// The exit FIFO's write end: held, never written, closed by the kernel when the shim exits,
    /// which is the daemon's exit notification.
    _exit: OwnedFd,
    state: ProcessState,
    runtime: Runtime,
    force_copy: bool,
    /// The shim's own writer on the stdin FIFO, dropped by control message 0.
    stdin_closer: Option<OwnedFd>,
    /// Idle readers on the stdout and stderr FIFOs.
    idle_readers: Vec<OwnedFd>,
    pumps: [Option<Pump>; 3],
    terminal: Option<Terminal>,
    phase: Phase,
    /// Sources that yielded with work left, as a bit per pump plus [`CONTROL_PENDING`].
    pending: u8,
    /// Whether the target's exit was seen; if not at the end, its leftovers are killed.
    target_reaped: bool,
}

/// The `pending` bit of the control FIFO.
const CONTROL_PENDING: u8 = 1 << 3;

fn pump_bit(id: PumpId) -> u8 {
    1 << id as u8
}

impl<'a> Shim<'a> {
    /// Set-up, in the original's order: signals, subreaper, `exit`, `control`, `process.json`,
    /// the checkpoint config, the client FIFOs, pipes or console, then the runtime.
    fn start(args: &Args, log: &'a ShimLog) -> Result<Shim<'a>> {
        let signals = reaper::block_signals()?;
        reaper::become_subreaper()?;
        let process_dir = nix::unistd::getcwd().map_err(|e| Error::os("getcwd", e))?;
        let exit = open_state_fifo(&process_dir, EXIT_FIFO, OFlag::O_WRONLY)?;
        let control = open_state_fifo(&process_dir, CONTROL_FIFO, OFlag::O_RDWR)?;
        let state = spec::load_process(&process_dir.join("process.json"))?;
        let checkpoint = match state.checkpoint.as_str() {
            "" => None,
            // A relative checkpoint is relative to the process directory, where the original
            // read its config; the runtime runs in the bundle, so it gets the absolute path.
            dir => {
                let dir = process_dir.join(dir);
                let config = spec::load_checkpoint(&dir.join("config.json"))?;
                Some((dir, config))
            }
        };
        let runtime = Runtime::new(
            &args.runtime,
            state.runtime_args.clone(),
            &args.id,
            &args.bundle,
            &process_dir,
        )?;
        let poll = Poll::new().map_err(|e| Error::os("epoll_create1", e))?;
        for (fd, token) in [(signals.as_fd(), SIGNALS), (control.as_fd(), CONTROL)] {
            reactor::register(poll.registry(), fd, token, Interest::READABLE)
                .map_err(|e| Error::os("epoll_ctl", e))?;
        }
        let stdin = stdio::open_client_fifo(&state.stdin)?;
        // `/dev/null` stdin is EOF from the start: the container gets it without a pump.
        let client_stdin = (!stdin.null).then_some(stdin.reader);
        let stdout = stdio::open_output_fifo(&state.stdout)?;
        let mut shim = Shim {
            log,
            poll,
            signals,
            control,
            parser: ControlParser::new(),
            _exit: exit,
            force_copy: env_switch(pump::NO_SPLICE_ENV),
            stdin_closer: Some(stdin.writer),
            idle_readers: vec![stdout.reader],
            pumps: [None, None, None],
            terminal: None,
            phase: Phase::Done(Outcome::success()),
            pending: 0,
            target_reaped: false,
            state,
            runtime,
        };
        let child_stdio = if shim.state.terminal {
            shim.prepare_terminal(client_stdin, stdout.writer)?;
            [Stdio::null(), Stdio::null(), Stdio::null()]
        } else {
            let stderr = stdio::open_output_fifo(&shim.state.stderr)?;
            shim.idle_readers.push(stderr.reader);
            shim.prepare_pipes(client_stdin, stdout.writer, stderr.writer)?
        };
        let runtime_pid = shim.spawn_start(checkpoint.as_ref(), child_stdio)?;
        shim.phase = Phase::Starting {
            runtime: runtime_pid,
        };
        Ok(shim)
    }

    /// Makes the three pipes, registers the pumps, and returns the container's ends.
    fn prepare_pipes(
        &mut self,
        client_stdin: Option<OwnedFd>,
        client_stdout: OwnedFd,
        client_stderr: OwnedFd,
    ) -> Result<[Stdio; 3]> {
        let [stdin, stdout, stderr] =
            stdio::container_pipes(self.state.root_uid, self.state.root_gid)?;
        // Without a client stdin the shim's end is dropped here, which is the container's EOF.
        if let Some(client_stdin) = client_stdin {
            self.add_pump(
                PumpId::Stdin,
                Endpoint::plain(client_stdin),
                Endpoint::plain(stdin.shim),
            )?;
        }
        self.add_pump(
            PumpId::Stdout,
            Endpoint::plain(stdout.shim),
            Endpoint::plain(client_stdout),
        )?;
        self.add_pump(
            PumpId::Stderr,
            Endpoint::plain(stderr.shim),
            Endpoint::plain(client_stderr),
        )?;
        // The shim keeps no copy of the container's ends: once the container is gone, the stdin
        // pump sees EPIPE and the output pumps see EOF.
        Ok([
            stdin.container.into(),
            stdout.container.into(),
            stderr.container.into(),
        ])
    }

    /// Listens on a console socket, or opens a legacy PTY.
    fn prepare_terminal(
        &mut self,
        client_stdin: Option<OwnedFd>,
        client_stdout: OwnedFd,
    ) -> Result<()> {
        let mut terminal = Terminal {
            socket: None,
            legacy: None,
            master: None,
            held_slave: None,
            pending_size: None,
            error: None,
            client_stdin,
            client_stdout: Some(client_stdout),
        };
        if env_switch(console::LEGACY_CONSOLE_ENV) {
            terminal.legacy = Some(console::open_legacy(
                self.state.root_uid,
                self.state.root_gid,
            )?);
        } else {
            terminal.socket = Some(ConsoleSocket::listen(self.poll.registry())?);
        }
        self.terminal = Some(terminal);
        Ok(())
    }

    fn add_pump(&mut self, id: PumpId, source: Endpoint, sink: Endpoint) -> Result<()> {
        let pump = Pump::new(id, source, sink, self.force_copy, self.poll.registry())
            .map_err(|e| Error::os(format!("epoll_ctl {id:?} pump"), e))?;
        self.pumps[id as usize] = Some(pump);
        Ok(())
    }

    /// Spawns `create`, `exec` or `restore` in the bundle.
    fn spawn_start(
        &self,
        checkpoint: Option<&(PathBuf, CheckpointConfig)>,
        stdio: [Stdio; 3],
    ) -> Result<Pid> {
        let console = match &self.terminal {
            Some(Terminal {
                socket: Some(socket),
                ..
            }) => ConsoleArg::Socket(socket.path()),
            Some(Terminal {
                legacy: Some(legacy),
                ..
            }) => ConsoleArg::Legacy(&legacy.slave),
            _ => ConsoleArg::None,
        };
        // `exec` comes first, as in the original: a checkpoint restores the container's init,
        // never an exec process.
        let argv = match checkpoint {
            _ if self.state.exec => self.runtime.exec_argv(console),
            Some((dir, config)) => self.runtime.restore_argv(
                dir,
                config,
                console,
                self.state.no_pivot_root,
                SystemTime::now(),
            ),
            None => self.runtime.create_argv(console, self.state.no_pivot_root),
        };
        self.runtime.spawn(&argv, Some(&self.runtime.bundle), stdio)
    }

    fn run_loop(&mut self) -> Outcome {
        let mut events = Events::with_capacity(EVENTS);
        // The runtime may have exited, and the client may have written, before registration.
        self.on_signals();
        self.read_control();
        for id in PumpId::ALL {
            self.run_pump(id);
        }
        loop {
            self.advance();
            if let Phase::Done(_) = self.phase {
                break;
            }
            let timeout = (self.pending != 0).then_some(Duration::ZERO);
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    self.phase = Phase::Done(Outcome::failure(Error::os("epoll_wait", e)));
                }
                continue;
            }
            let pending = std::mem::take(&mut self.pending);
            for event in events.iter() {
                self.dispatch(event.token());
            }
            if pending & CONTROL_PENDING != 0 {
                self.read_control();
            }
            for id in PumpId::ALL {
                if pending & pump_bit(id) != 0 {
                    self.run_pump(id);
                }
            }
        }
        self.finish()
    }

    fn dispatch(&mut self, token: Token) {
        match token {
            SIGNALS => self.on_signals(),
            CONTROL => self.read_control(),
            CONSOLE_LISTENER | CONSOLE_CONNECTION => self.poll_console(),
            other => {
                if let Some(id) = PumpId::of(other) {
                    self.run_pump(id);
                }
            }
        }
    }

    fn on_signals(&mut self) {
        if !reaper::drain_signals(&self.signals) {
            return;
        }
        match self.phase {
            // Only the runtime is reaped while it runs: the target's pid is not known yet, and a
            // target that exits at once must stay a zombie until the pid file names it.
            Phase::Starting { runtime } => {
                if let Some(code) = reaper::reap_one(runtime) {
                    self.runtime_exited(code);
                }
            }
            _ => self.reap_children(),
        }
    }

    fn reap_children(&mut self) {
        reaper::reap_all(|pid, code| self.child_exited(pid, code));
    }

    fn child_exited(&mut self, pid: Pid, code: i32) {
        match &mut self.phase {
            Phase::Running { target } if *target == pid => self.target_exited(code),
            Phase::Draining { kill } if *kill == Some(pid) => *kill = None,
            Phase::Deleting { delete, .. } if *delete == pid => {
                if let Phase::Deleting { then, .. } =
                    std::mem::replace(&mut self.phase, Phase::Done(Outcome::success()))
                {
                    self.phase = Phase::Done(then);
                }
            }
            // An orphan reparented to the shim, now reaped so it does not stay a zombie.
            _ => {}
        }
    }

    fn runtime_exited(&mut self, code: i32) {
        if code != 0 {
            // No terminal will come: the socket and its directory go now.
            if let Some(terminal) = &mut self.terminal {
                terminal.socket = None;
            }
            // The runtime explained itself in log.json; an error entry here would hide it.
            self.delete_then(Outcome::success());
            return;
        }
        match self.target() {
            Ok(target) => {
                self.phase = Phase::Running { target };
                self.reap_children();
            }
            Err(error) => self.delete_then(Outcome::failure(error)),
        }
    }

    /// The target process: the pid file's pid, which must be the shim's child, with its terminal
    /// when it has one.
    fn target(&mut self) -> Result<Pid> {
        // The terminal first: a runtime that could not hand over a usable terminal has usually
        // written no pid file either, and "no pid file" would hide the cause.
        if self.terminal.is_some() {
            self.require_master()?;
        }
        let path = self.runtime.pid_file();
        let bytes = spec::read_limited(&path)?;
        let pid = pidfile::parse(&bytes)
            .map(Pid::from_raw)
            .map_err(|e| Error::invalid(format!("pid file {}", path.display()), e))?;
        if !reaper::is_child(pid) {
            return Err(Error::invalid(
                format!("pid file {}", path.display()),
                format!("process {pid} is not a child of the shim"),
            ));
        }
        Ok(pid)
    }

    /// Once the runtime succeeded, the terminal must be there: the runtime sends it before it
    /// exits, so whatever has not arrived by now never will.
    fn require_master(&mut self) -> Result<()> {
        self.poll_console();
        let Some(terminal) = &mut self.terminal else {
            return Ok(());
        };
        if let Some(legacy) = terminal.legacy.take() {
            terminal.held_slave = Some(legacy.held_slave);
            self.attach_master(legacy.master);
        }
        let Some(terminal) = &mut self.terminal else {
            return Ok(());
        };
        if let Some(error) = terminal.error.take() {
            return Err(error);
        }
        if terminal.master.is_some() {
            return Ok(());
        }
        let socket = terminal
            .socket
            .take()
            .map(|s| s.path().display().to_string())
            .unwrap_or_default();
        Err(Error::invalid(
            format!("console socket {socket}"),
            format!("{} exited without sending a terminal", self.runtime.name),
        ))
    }

    fn poll_console(&mut self) {
        let Some(terminal) = &mut self.terminal else {
            return;
        };
        let Some(socket) = &mut terminal.socket else {
            return;
        };
        match socket.receive(self.poll.registry()) {
            Ok(None) => {}
            Ok(Some(master)) => {
                terminal.socket = None;
                self.attach_master(master);
            }
            Err(error) => {
                terminal.socket = None;
                terminal.error.get_or_insert(error);
            }
        }
    }

    /// Starts the two terminal pumps: master to stdout FIFO, stdin FIFO to master. Each pump
    /// owns its own duplicate of the master, so each can close independently.
    fn attach_master(&mut self, master: OwnedFd) {
        if let Err(error) = self.try_attach_master(master) {
            if let Some(terminal) = &mut self.terminal {
                terminal.error.get_or_insert(error);
            }
        }
    }

    fn try_attach_master(&mut self, master: OwnedFd) -> Result<()> {
        let Some(terminal) = &mut self.terminal else {
            return Ok(());
        };
        let duplicate = |fd: &OwnedFd| {
            fd.try_clone()
                .map_err(|e| Error::os("fcntl F_DUPFD_CLOEXEC terminal master", e))
        };
        let output = duplicate(&master)?;
        let input = duplicate(&master)?;
        let client_stdout = terminal.client_stdout.take();
        let client_stdin = terminal.client_stdin.take();
        if let Some((width, height)) = terminal.pending_size.take() {
            let _ = console::resize(master.as_fd(), width, height);
        }
        terminal.master = Some(master);
        if let Some(client_stdout) = client_stdout {
            self.add_pump(
                PumpId::Stdout,
                Endpoint::terminal(output),
                Endpoint::plain(client_stdout),
            )?;
            self.run_pump(PumpId::Stdout);
        }
        if let Some(client_stdin) = client_stdin {
            self.add_pump(
                PumpId::Stdin,
                Endpoint::plain(client_stdin),
                Endpoint::terminal(input),
            )?;
            self.run_pump(PumpId::Stdin);
        }
        Ok(())
    }

    fn target_exited(&mut self, code: i32) {
        self.target_reaped = true;
        // From now on the container's own holders of the slave decide when the output ends.
        if let Some(terminal) = &mut self.terminal {
            terminal.held_slave = None;
        }
        write_exit_status(code);
        let kill = if self.state.exec {
            None
        } else {
            self.spawn_quietly(self.runtime.kill_all_argv())
        };
        self.phase = Phase::Draining { kill };
    }

    /// Runs `delete` for init, then ends with `then`; an exec ends at once.
    fn delete_then(&mut self, then: Outcome) {
        self.phase = match self.state.exec {
            true => Phase::Done(then),
            false => match self.spawn_quietly(self.runtime.delete_argv()) {
                Some(delete) => Phase::Deleting { delete, then },
                None => Phase::Done(then),
            },
        };
    }

    /// Spawns `kill` or `delete` with `/dev/null` stdio in the process directory. Their failure
    /// is ignored as in the original (the container may already be gone), but noted as a warning.
    fn spawn_quietly(&self, argv: Vec<std::ffi::OsString>) -> Option<Pid> {
        let stdio = [Stdio::null(), Stdio::null(), Stdio::null()];
        match self.runtime.spawn(&argv, None, stdio) {
            Ok(pid) => Some(pid),
            Err(error) => {
                self.log.write(Level::Warn, &error.to_string());
                None
            }
        }
    }

    /// Moves the phase on where that depends on state rather than on an event.
    fn advance(&mut self) {
        if let Phase::Draining { kill: None } = self.phase {
            let drained = [PumpId::Stdout, PumpId::Stderr]
                .iter()
                .all(|&id| self.pumps[id as usize].as_ref().is_none_or(Pump::finished));
            if drained {
                self.close_io();
                self.delete_then(Outcome::success());
            }
        }
    }

    fn read_control(&mut self) {
        let mut parser = std::mem::take(&mut self.parser);
        let mut buffer = [0u8; CONTROL_READ];
        let mut reads = 0;
        loop {
            if reads == CONTROL_READS_PER_RUN {
                self.pending |= CONTROL_PENDING;
                break;
            }
            reads += 1;
            match nix::unistd::read(&self.control, &mut buffer) {
                Ok(0) => break,
                Ok(n) => parser.feed(&buffer[..n], |message| self.apply(message)),
                Err(Errno::EINTR) => continue,
                // EAGAIN: the FIFO is empty. Nothing else can fail on a FIFO opened O_RDWR.
                Err(_) => break,
            }
        }
        self.parser = parser;
    }

    fn apply(&mut self, message: Message) {
        match message {
            Message::CloseStdin => self.stdin_closer = None,
            Message::Resize { width, height } => {
                if let Some(terminal) = &mut self.terminal {
                    terminal.resize(width, height);
                }
            }
        }
    }

    fn run_pump(&mut self, id: PumpId) {
        let Some(pump) = &mut self.pumps[id as usize] else {
            return;
        };
        let flow = pump.run();
        match flow {
            Flow::Wait => {}
            Flow::Yield => self.pending |= pump_bit(id),
            Flow::Eof | Flow::SinkClosed | Flow::Failed(_) => self.pump_ended(id, flow),
        }
    }

    /// An output pump keeps its FIFO writer until every output has ended (a client reconnecting
    /// meanwhile must not see EOF early); the stdin pump closes both ends at once, which is what
    /// gives the container EOF on its stdin.
    fn pump_ended(&mut self, id: PumpId, flow: Flow) {
        if let Flow::Failed(errno) = flow {
            let how = match &self.pumps[id as usize] {
                Some(pump) if pump.copying() => "read/write",
                _ => "splice",
            };
            self.log.write(
                Level::Warn,
                &format!("{id:?} pump: {how}: {}", errno.desc()),
            );
        }
        let registry = self.poll.registry();
        match id {
            PumpId::Stdin => {
                if let Some(pump) = self.pumps[id as usize].take() {
                    pump.close(registry);
                }
            }
            PumpId::Stdout | PumpId::Stderr => {
                if let Some(pump) = &mut self.pumps[id as usize] {
                    pump.close_source(registry);
                }
            }
        }
    }

    /// Closes the FIFOs, the pipes and the terminal.
    fn close_io(&mut self) {
        let registry = self.poll.registry();
        for slot in &mut self.pumps {
            if let Some(pump) = slot.take() {
                pump.close(registry);
            }
        }
        self.stdin_closer = None;
        self.idle_readers.clear();
        self.terminal = None;
    }

    /// The last step: whatever the outcome, nothing the shim started outlives it.
    fn finish(&mut self) -> Outcome {
        let outcome = match std::mem::replace(&mut self.phase, Phase::Done(Outcome::success())) {
            Phase::Done(outcome) => outcome,
            _ => Outcome::success(),
        };
        if !self.target_reaped {
            // A start that failed: pass on what output there is, then kill what the runtime
            // may have left (a half-created container, an exec whose pid file was bad).
            for id in [PumpId::Stdout, PumpId::Stderr] {
                self.run_pump(id);
            }
            reaper::kill_and_reap_children();
        }
        self.close_io();
        outcome
    }
}

/// Opens `exit` or `control` in the process directory, without blocking: the daemon opened its
/// side before starting the shim, so a missing reader on `exit` is an error, not a wait.
fn open_state_fifo(process_dir: &Path, name: &str, access: OFlag) -> Result<OwnedFd> {
    let path = process_dir.join(name);
    let flags = access | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
    let fd = open(Path::new(name), flags, Mode::empty()).map_err(|e| match e {
        Errno::ENXIO => Error::invalid(
            format!("open {}", path.display()),
            "no reader: the daemon must open it before starting the shim",
        ),
        e => Error::os(format!("open {}", path.display()), e),
    })?;
    let stat = fstat(fd.as_fd()).map_err(|e| Error::os(format!("fstat {}", path.display()), e))?;
    if !stdio::is_fifo(&stat) {
        return Err(Error::invalid(
            format!("open {}", path.display()),
            "not a FIFO",
        ));
    }
    Ok(fd)
}

/// Whether a `TINYSHIM_*` switch is on: any value but empty or `0`.
fn env_switch(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|value| !value.is_empty() && value != "0")
}

/// Writes `exitStatus` as bare decimal. A failure is ignored: the daemon may have removed the
/// process directory already, and then nobody will read it.
fn write_exit_status(code: i32) {
    if let Ok(mut file) = File::create(EXIT_STATUS) {
        let _ = file.write_all(code.to_string().as_bytes());
    }
}
