//! The core both frontends drive: the boot, the one [`EventLoop`] and its run, the signalfd,
//! every supervised [`Process`] and every runtime call in flight.
//!
//! A frontend is a [`Frontend`]: its own routes (for its descriptors and deadlines) and its own
//! call tags (what it parks under a runtime call of its own) are its own types, which the core
//! carries without looking inside. [`Supervisor::boot`] blocks the signals and makes the shim a
//! subreaper; [`Supervisor::run`] hands the frontend every [`Notice`] it must act on (its own
//! sources being ready, a process launched, exited, finished, a call of its own returned) until
//! the frontend says it is done. Everything else (pumps, console sockets, reaping, the phase
//! machine, drains, `start` and `kill --all` calls) happens here.
//!
//! Reaping loses nothing: every child is reaped on every SIGCHLD, whatever the phase. A child
//! that is a runtime call completes that call; one that is a process's pid moves the process on;
//! any other is kept, while some launch is in flight, in case it is a process that exited before
//! the launch call returned and its pid file could be read (bounded, and forgotten once no launch
//! is in flight: then it can only be an orphan nobody asked for).

mod calls;
mod effects;
mod exits;

use std::collections::VecDeque;
use std::fmt::Debug;
use std::io;
use std::os::fd::AsFd;
use std::time::Instant;

use mio::Interest;
use nix::sys::signalfd::SignalFd;
use nix::unistd::Pid;
use slab::Slab;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::event_loop::{EventLoop, Registry, Scoped};
use crate::process::drain::{DrainEnd, DrainPolicy};
use crate::process::phase::{Event, Refused, Rules};
use crate::process::stdio::{ProcessStdio, PumpFailure, StdioSetup};
use crate::process::{Failure, LaunchPlan, Process, ProcessKey, ProcessRoute, Source};
use crate::reaper::{self, ExitStatus};
use crate::runtime::call::{Calls, Finished, Stream};
use crate::runtime::ConsoleArg;

/// Most exits kept for a pid nobody has claimed yet.
const UNCLAIMED_EXITS: usize = 1024;

/// When a process is launched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaunchAt {
    /// At once.
    Now,
    /// When a client starts it (a restore, which makes and starts the process in one call).
    Start,
}

/// Where a readiness or a deadline leads; `F` is the frontend's own routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<F> {
    /// The signalfd.
    Signals,
    /// One of a process's sources.
    Process(ProcessKey, Source),
    /// A captured output of a runtime call.
    CallOutput(Pid, Stream),
    /// The time limit of a runtime call.
    CallDeadline(Pid),
    /// A descriptor or deadline of the frontend's.
    Frontend(F),
}

impl<F: Copy> ProcessRoute for Route<F> {
    fn to(key: ProcessKey, source: Source) -> Route<F> {
        Route::Process(key, source)
    }
}

/// Who waits for a runtime call; `C` is what a frontend parks under its own calls.
#[derive(Debug)]
enum CallTag<C> {
    Launch(ProcessKey),
    Start(ProcessKey),
    KillAll(ProcessKey),
    Frontend(C),
}

/// What a frontend must act on.
#[derive(Debug)]
pub enum Notice<F, C> {
    /// A source or deadline of the frontend's.
    Frontend(F),
    /// SIGTERM or SIGINT arrived.
    Terminate,
    /// The process exists; its pid is in its phase.
    Launched(ProcessKey),
    /// The launch failed, and why.
    LaunchFailed(ProcessKey, Failure),
    /// The `start` call succeeded.
    Started(ProcessKey),
    /// The `start` call failed, and why.
    StartFailed(ProcessKey, Failure),
    /// The process was reaped: its exit status is known, the exit is not final yet.
    Exited(ProcessKey, ExitStatus),
    /// The exit is final: its outputs are drained (or the drain gave up).
    Finished(ProcessKey, DrainEnd),
    /// A runtime call (or another child) of the frontend's returned.
    CallFinished(Finished<C>),
    /// A pump stopped on an error; the stream ended there.
    PumpFailed(ProcessKey, PumpFailure),
    /// Something went wrong that the shim survived.
    Warning(String),
}

/// A frontend of the core: the protocol a shim speaks to its daemon.
pub trait Frontend {
    /// Where its own descriptors' readiness and deadlines lead.
    type Route: Copy + Debug;
    /// What it parks under a runtime call of its own.
    type Call: Debug;

    /// Runs once, before the first wait: its own sources may have been ready before they were
    /// registered.
    fn begin(&mut self, core: &mut Supervisor<Self::Route, Self::Call>);

    /// Acts on one notice.
    fn handle(
        &mut self,
        core: &mut Supervisor<Self::Route, Self::Call>,
        notice: Notice<Self::Route, Self::Call>,
    );

    /// Whether the shim is to stop, asked once the notices of a turn are handled.
    fn done(&mut self, core: &mut Supervisor<Self::Route, Self::Call>) -> bool;
}

/// The core, for a frontend whose routes are `F` and whose call tags are `C`.
#[derive(Debug)]
pub struct Supervisor<F, C> {
    event_loop: EventLoop<Route<F>>,
    config: Config,
    signals: SignalFd,
    /// Boxed: a process is nearly a kilobyte, and a slab grows by doubling, so unboxed the
    /// first process alone took a 3.7 kB block of four and later ones up to half again as much.
    processes: Slab<Box<Process<Route<F>>>>,
    calls: Calls<CallTag<C>>,
    unclaimed: VecDeque<(Pid, ExitStatus)>,
    notices: Vec<Notice<F, C>>,
    /// The routes of one wait, kept between turns so that a turn allocates nothing.
    ready: Vec<Route<F>>,
    failures: Vec<PumpFailure>,
}

impl<F: Copy + Debug, C: Debug> Supervisor<F, C> {
    /// Boots a shim: blocks every asynchronous signal (read from then on through a signalfd),
    /// makes the shim a subreaper, and makes the loop. First thing, before the frontend opens
    /// anything of its own.
    pub fn boot(config: Config) -> Result<Supervisor<F, C>> {
        let signals = reaper::block_signals()?;
        reaper::become_subreaper()?;
        let mut event_loop = EventLoop::new().map_err(|e| Error::os("epoll_create1", e))?;
        event_loop
            .register(signals.as_fd(), Interest::READABLE, Route::Signals)
            .map_err(|e| Error::os("epoll_ctl signalfd", e))?;
        Ok(Supervisor {
            event_loop,
            config,
            signals,
            processes: Slab::new(),
            calls: Calls::default(),
            unclaimed: VecDeque::new(),
            notices: Vec::new(),
            ready: Vec::new(),
            failures: Vec::new(),
        })
    }

    /// Runs the loop for `frontend` until it is done.
    pub fn run<Fr>(&mut self, frontend: &mut Fr) -> Result<()>
    where
        Fr: Frontend<Route = F, Call = C>,
    {
        let mut notices = Vec::new();
        // The runtime may have exited, and the client may have written, before registration.
        self.kick();
        frontend.begin(self);
        loop {
            // Acting on a notice may raise more (a start that cannot even be spawned): all are
            // handled before the loop sleeps.
            while !self.notices.is_empty() {
                notices.append(&mut self.notices);
                for notice in notices.drain(..) {
                    frontend.handle(self, notice);
                }
            }
            if frontend.done(self) {
                return Ok(());
            }
            self.turn().map_err(|e| Error::os("epoll_wait", e))?;
        }
    }

    /// The configuration the shim started with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The loop, as the frontend registers its own descriptors and deadlines on it.
    pub fn registry(&mut self) -> Scoped<'_, Route<F>, F> {
        Scoped::new(&mut self.event_loop, Route::Frontend)
    }

    /// Makes a process in one step: opens its stdio, asks `plan` how to launch it (the command
    /// line names the console socket the stdio made) and spawns the launch call, now or `at`
    /// its start. Nothing is left behind when it fails.
    pub fn launch(
        &mut self,
        rules: Rules,
        drain_policy: DrainPolicy,
        setup: StdioSetup<'_>,
        at: LaunchAt,
        plan: impl FnOnce(ConsoleArg<'_>) -> LaunchPlan,
    ) -> Result<ProcessKey> {
        let key = self.processes.vacant_key();
        let (mut stdio, child_stdio) =
            ProcessStdio::open(key, setup, &self.config, &mut self.event_loop)?;
        let plan = plan(stdio.console_arg());
        // A process launched at its start keeps the container's stdio until then.
        let kept_stdio = if at == LaunchAt::Start {
            Some(child_stdio)
        } else {
            let spawned = self.spawn_runtime(
                (&plan.runtime, &plan.launch, plan.cwd.as_deref()),
                Some(child_stdio),
                (key, CallTag::Launch),
            );
            if let Err((error, _)) = spawned {
                stdio.close(&mut self.event_loop);
                return Err(error);
            }
            None
        };
        let process = Process::new(rules, drain_policy, stdio, plan, kept_stdio);
        let inserted = self.processes.insert(Box::new(process));
        debug_assert_eq!(inserted, key);
        Ok(key)
    }

    /// Asks a created process to start.
    pub fn start(&mut self, key: ProcessKey) -> std::result::Result<(), Refused> {
        self.apply(key, Event::Start, None)
    }

    /// The process `key`.
    pub fn process(&self, key: ProcessKey) -> Option<&Process<Route<F>>> {
        self.processes.get(key).map(|process| &**process)
    }

    /// Sets the size of the process's terminal, if it has one.
    pub fn resize(&mut self, key: ProcessKey, width: u16, height: u16) {
        if let Some(process) = self.processes.get_mut(key) {
            process.stdio().resize(width, height);
        }
    }

    /// Drops the shim's writer on the process's stdin FIFO: the container sees EOF once the
    /// client's writers are gone too.
    pub fn close_stdin(&mut self, key: ProcessKey) {
        if let Some(process) = self.processes.get_mut(key) {
            process.stdio().close_stdin();
        }
    }

    /// Closes the process's stdio and forgets it.
    pub fn remove(&mut self, key: ProcessKey) {
        if let Some(process) = self.processes.try_remove(key) {
            process.close(&mut self.event_loop);
        }
    }

    /// Closes a process's stdio (the FIFOs, pipes and terminal) but keeps the process.
    pub fn close_stdio(&mut self, key: ProcessKey) {
        if let Some(process) = self.processes.get_mut(key) {
            process.stdio().close(&mut self.event_loop);
        }
    }

    /// Runs the output pumps once more: what a process that failed to start wrote reaches the
    /// client before the shim gives up.
    pub fn flush_outputs(&mut self, key: ProcessKey) {
        if let Some(process) = self.processes.get_mut(key) {
            for source in [Source::Stdout, Source::Stderr] {
                process
                    .stdio()
                    .on_ready(source, &mut self.event_loop, &mut self.failures);
            }
        }
        self.failures.clear();
    }

    /// Reaps and runs every source once: events may have come before their registration.
    fn kick(&mut self) {
        self.reap();
        let keys: Vec<ProcessKey> = self.processes.iter().map(|(k, _)| k).collect();
        for key in keys {
            if let Some(process) = self.processes.get_mut(key) {
                process
                    .stdio()
                    .run_all(&mut self.event_loop, &mut self.failures);
            }
            self.after_io(key);
        }
    }

    /// Waits for the next events and handles what belongs to the core; what the frontend must
    /// act on goes to the notices.
    fn turn(&mut self) -> io::Result<()> {
        let mut ready = std::mem::take(&mut self.ready);
        self.event_loop.wait(&mut ready)?;
        for route in ready.drain(..) {
            match route {
                Route::Signals => self.on_signals(),
                Route::Process(key, source) => self.on_process(key, source),
                Route::CallOutput(pid, stream) => {
                    self.calls.read_output(pid, stream, &mut self.event_loop)
                }
                Route::CallDeadline(pid) => self.on_call_deadline(pid),
                Route::Frontend(route) => self.notices.push(Notice::Frontend(route)),
            }
        }
        self.ready = ready;
        Ok(())
    }

    fn on_signals(&mut self) {
        let received = reaper::drain_signals(&self.signals);
        if received.terminate {
            self.notices.push(Notice::Terminate);
        }
        if received.child {
            self.reap();
        }
    }

    fn on_process(&mut self, key: ProcessKey, source: Source) {
        let Some(process) = self.processes.get_mut(key) else {
            return;
        };
        match source {
            Source::Drain => process.drain_look_passed(),
            Source::Capacity => return process.look_at_capacity(key, &mut self.event_loop),
            _ => process
                .stdio()
                .on_ready(source, &mut self.event_loop, &mut self.failures),
        }
        self.after_io(key);
    }

    /// Reports pump failures, looks at a drain in progress, and makes sure somebody will look at
    /// pipes a stream enlarged.
    fn after_io(&mut self, key: ProcessKey) {
        for failure in self.failures.drain(..) {
            self.notices.push(Notice::PumpFailed(key, failure));
        }
        self.look_at_drain(key);
        if let Some(process) = self.processes.get_mut(key) {
            process.watch_capacity(key, &mut self.event_loop);
        }
    }

    fn look_at_drain(&mut self, key: ProcessKey) {
        let ended = self
            .processes
            .get_mut(key)
            .and_then(|process| process.look_at_drain(key, &mut self.event_loop, Instant::now()));
        if ended.is_some() {
            let _ = self.apply(key, Event::Drained, None);
        }
    }
}
