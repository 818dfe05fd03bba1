//! The core both frontends drive: one [`EventLoop`], the signalfd, every supervised
//! [`Process`] and every runtime call in flight.
//!
//! A frontend adds processes, says how to launch them, registers its own descriptors under
//! [`Route::Frontend`], and calls [`Supervisor::turn`] in a loop; each turn hands back the
//! [`Notice`]s the frontend must act on (its own sources being ready, a process launched, exited,
//! finished, a runtime call of its own returned). Everything else (pumps, console sockets,
//! reaping, the phase machine, drains, `start` and `kill --all` calls) happens here.
//!
//! Reaping loses nothing: every child is reaped on every SIGCHLD, whatever the phase. A child
//! that is a runtime call completes that call; one that is a process's pid moves the process on;
//! any other is kept, while some launch is in flight, in case it is a process that exited before
//! the launch call returned and its pid file could be read (bounded, and forgotten once no launch
//! is in flight: then it can only be an orphan nobody asked for).

mod effects;
mod exits;

use std::collections::VecDeque;
use std::io;
use std::os::fd::AsFd;
use std::process::Stdio;
use std::time::{Duration, Instant};

use mio::Interest;
use nix::sys::signalfd::SignalFd;
use nix::unistd::Pid;
use slab::Slab;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::event_loop::EventLoop;
use crate::process::drain::{DrainEnd, DrainPolicy};
use crate::process::phase::{Event, Phase, Refused, Rules};
use crate::process::stdio::{ConsoleArg, ProcessStdio, PumpFailure, StdioSetup};
use crate::process::{Kind, LaunchPlan, Process, ProcessKey, Source};
use crate::reaper::{self, ExitStatus};
use crate::runtime::call::{Calls, Finished, Stream};
use crate::runtime::{CommandLine, Runtime};

/// How often enlarged output pipes are looked at: a stream idle for this long gives its pages
/// back (see [`crate::io::pipe`]).
pub const CAPACITY_LOOK: Duration = Duration::from_secs(1);

/// Most exits kept for a pid nobody has claimed yet.
const UNCLAIMED_EXITS: usize = 1024;

/// Where a readiness or a deadline leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The signalfd.
    Signals,
    /// One of a process's sources.
    Process(ProcessKey, Source),
    /// A captured output of a runtime call.
    CallOutput(Pid, Stream),
    /// A descriptor or deadline of the frontend's, by the frontend's own number.
    Frontend(usize),
}

/// Who waits for a runtime call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallTag {
    Launch(ProcessKey),
    Start(ProcessKey),
    KillAll(ProcessKey),
    Frontend(u64),
}

/// What a frontend must act on.
#[derive(Debug)]
pub enum Notice {
    /// A source or deadline of the frontend's.
    Frontend(usize),
    /// SIGTERM or SIGINT arrived.
    Terminate,
    /// The process exists; its pid is in its phase.
    Launched(ProcessKey),
    /// The launch failed; the reason is in the process's `failure`.
    LaunchFailed(ProcessKey),
    /// The `start` call succeeded.
    Started(ProcessKey),
    /// The `start` call failed; the reason is in the process's `failure`.
    StartFailed(ProcessKey),
    /// The process was reaped: its exit status is known, the exit is not final yet.
    Exited(ProcessKey, ExitStatus),
    /// The exit is final: its outputs are drained (or the drain gave up).
    Finished(ProcessKey, DrainEnd),
    /// A runtime call of the frontend's returned.
    CallFinished(Finished<u64>),
    /// A pump stopped on an error; the stream ended there.
    PumpFailed(ProcessKey, PumpFailure),
    /// Something went wrong that the shim survived.
    Warning(String),
}

/// The core.
#[derive(Debug)]
pub struct Supervisor {
    /// The loop, where frontends register their own descriptors and deadlines.
    pub lp: EventLoop<Route>,
    config: Config,
    signals: SignalFd,
    processes: Slab<Process>,
    /// The container's stdio ends of processes not launched yet.
    child_stdio: Vec<(ProcessKey, [Stdio; 3])>,
    calls: Calls<CallTag>,
    unclaimed: VecDeque<(Pid, ExitStatus)>,
    notices: Vec<Notice>,
    ready: Vec<Route>,
    failures: Vec<PumpFailure>,
}

impl Supervisor {
    /// A core reading `signals` (the signalfd of [`reaper::block_signals`]).
    pub fn new(config: Config, signals: SignalFd) -> Result<Supervisor> {
        let mut lp = EventLoop::new().map_err(|e| Error::os("epoll_create1", e))?;
        lp.register(signals.as_fd(), Interest::READABLE, Route::Signals)
            .map_err(|e| Error::os("epoll_ctl signalfd", e))?;
        Ok(Supervisor {
            lp,
            config,
            signals,
            processes: Slab::new(),
            child_stdio: Vec::new(),
            calls: Calls::default(),
            unclaimed: VecDeque::new(),
            notices: Vec::new(),
            ready: Vec::new(),
            failures: Vec::new(),
        })
    }

    /// The configuration the shim started with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Adds a process and opens its stdio; it launches once [`Supervisor::launch`] says how.
    pub fn add_process(
        &mut self,
        kind: Kind,
        rules: Rules,
        drain_policy: DrainPolicy,
        setup: StdioSetup<'_>,
    ) -> Result<ProcessKey> {
        let key = self.processes.vacant_key();
        let (stdio, child) = ProcessStdio::open(key, setup, &self.config, &mut self.lp)?;
        let inserted = self.processes.insert(Process {
            kind,
            rules,
            phase: Phase::Launching,
            stdio,
            drain_policy,
            plan: None,
            exited_at: None,
            waiters: Vec::new(),
            failure: None,
            drain: None,
            drain_end: None,
            capacity_look: None,
        });
        debug_assert_eq!(inserted, key);
        self.child_stdio.push((key, child));
        Ok(key)
    }

    /// How the runtime is to be told about the process's terminal.
    pub fn console_arg(&self, key: ProcessKey) -> ConsoleArg<'_> {
        self.processes
            .get(key)
            .map_or(ConsoleArg::None, |p| p.stdio.console_arg())
    }

    /// Spawns the launch call of `key` with the container's stdio.
    pub fn launch(&mut self, key: ProcessKey, plan: LaunchPlan) -> Result<()> {
        let stdio = match self.child_stdio.iter().position(|(k, _)| *k == key) {
            Some(at) => self.child_stdio.swap_remove(at).1,
            None => [Stdio::null(), Stdio::null(), Stdio::null()],
        };
        let spawned = self.calls.spawn(
            &plan.runtime,
            &plan.launch,
            plan.cwd.as_deref(),
            stdio,
            CallTag::Launch(key),
        );
        if let Some(process) = self.processes.get_mut(key) {
            process.plan = Some(plan);
        }
        spawned.map(drop)
    }

    /// Asks a created process to start.
    pub fn start(&mut self, key: ProcessKey) -> std::result::Result<(), Refused> {
        self.apply(key, Event::Start)
    }

    /// The process `key`.
    pub fn process(&self, key: ProcessKey) -> Option<&Process> {
        self.processes.get(key)
    }

    /// The process `key`, to change its stdio or waiters.
    pub fn process_mut(&mut self, key: ProcessKey) -> Option<&mut Process> {
        self.processes.get_mut(key)
    }

    /// Every process, with its key.
    pub fn processes(&self) -> impl Iterator<Item = (ProcessKey, &Process)> {
        self.processes.iter()
    }

    /// Closes the process's stdio and forgets it.
    pub fn remove(&mut self, key: ProcessKey) {
        let Some(mut process) = self.processes.try_remove(key) else {
            return;
        };
        if let Some((_, Some((timer, _)))) = process.drain.take() {
            self.lp.cancel_timer(timer);
        }
        if let Some(timer) = process.capacity_look.take() {
            self.lp.cancel_timer(timer);
        }
        process.stdio.close(&mut self.lp);
        self.child_stdio.retain(|(k, _)| *k != key);
    }

    /// Closes a process's stdio (the FIFOs, pipes and terminal) but keeps the process.
    pub fn close_stdio(&mut self, key: ProcessKey) {
        if let Some(process) = self.processes.get_mut(key) {
            process.stdio.close(&mut self.lp);
        }
    }

    /// Spawns a runtime call of the frontend's; its return comes as
    /// [`Notice::CallFinished`] with `tag`. With `capture`, its stdout and stderr are kept;
    /// otherwise its stdio is `/dev/null`.
    pub fn spawn_call(
        &mut self,
        runtime: &Runtime,
        command: &CommandLine,
        cwd: Option<&std::path::Path>,
        capture: bool,
        tag: u64,
    ) -> Result<Pid> {
        let tag = CallTag::Frontend(tag);
        if capture {
            self.calls
                .spawn_captured(runtime, command, cwd, &mut self.lp, Route::CallOutput, tag)
        } else {
            let stdio = [Stdio::null(), Stdio::null(), Stdio::null()];
            self.calls.spawn(runtime, command, cwd, stdio, tag)
        }
    }

    /// Runs the output pumps once more: what a process that failed to start wrote reaches the
    /// client before the shim gives up.
    pub fn flush_outputs(&mut self, key: ProcessKey) {
        if let Some(process) = self.processes.get_mut(key) {
            for source in [Source::Stdout, Source::Stderr] {
                process
                    .stdio
                    .on_ready(source, &mut self.lp, &mut self.failures);
            }
        }
        self.failures.clear();
    }

    /// Whether runtime calls are in flight.
    pub fn calls_in_flight(&self) -> usize {
        self.calls.len()
    }

    /// Reaps and runs every source once: events may have come before their registration.
    pub fn kick(&mut self, notices: &mut Vec<Notice>) {
        self.reap();
        let keys: Vec<ProcessKey> = self.processes.iter().map(|(k, _)| k).collect();
        for key in keys {
            if let Some(process) = self.processes.get_mut(key) {
                process.stdio.run_all(&mut self.lp, &mut self.failures);
            }
            self.after_io(key);
        }
        notices.append(&mut self.notices);
    }

    /// Waits for the next events and handles what belongs to the core; appends to `notices`
    /// what the frontend must act on.
    pub fn turn(&mut self, notices: &mut Vec<Notice>) -> io::Result<()> {
        let mut ready = std::mem::take(&mut self.ready);
        self.lp.wait(&mut ready)?;
        for route in ready.drain(..) {
            match route {
                Route::Signals => self.on_signals(),
                Route::Process(key, source) => self.on_process(key, source),
                Route::CallOutput(pid, stream) => self.calls.read_output(pid, stream, &mut self.lp),
                Route::Frontend(id) => self.notices.push(Notice::Frontend(id)),
            }
        }
        self.ready = ready;
        notices.append(&mut self.notices);
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
            Source::Drain => {
                if let Some((_, timer)) = &mut process.drain {
                    *timer = None;
                }
            }
            Source::Capacity => {
                process.capacity_look = None;
                // Every pump is looked at (no short-circuit), so each can give its pages back.
                let again = process
                    .stdio
                    .outputs()
                    .filter_map(|output| output.pump.as_mut())
                    .fold(false, |again, pump| pump.look() | again);
                if again {
                    self.look_at_capacity_later(key);
                }
                return;
            }
            _ => process
                .stdio
                .on_ready(source, &mut self.lp, &mut self.failures),
        }
        self.after_io(key);
    }

    /// Reports pump failures, looks at a drain in progress, and makes sure somebody will look at
    /// pipes a stream enlarged.
    fn after_io(&mut self, key: ProcessKey) {
        for failure in self.failures.drain(..) {
            self.notices.push(Notice::PumpFailed(key, failure));
        }
        self.check_drain(key);
        let enlarged = self.processes.get_mut(key).is_some_and(|process| {
            process.capacity_look.is_none()
                && process
                    .stdio
                    .outputs()
                    .any(|output| output.pump.as_ref().is_some_and(|pump| pump.enlarged()))
        });
        if enlarged {
            self.look_at_capacity_later(key);
        }
    }

    fn look_at_capacity_later(&mut self, key: ProcessKey) {
        let at = Instant::now() + CAPACITY_LOOK;
        let timer = self.lp.set_timer(at, Route::Process(key, Source::Capacity));
        if let Some(process) = self.processes.get_mut(key) {
            process.capacity_look = Some(timer);
        }
    }
}
