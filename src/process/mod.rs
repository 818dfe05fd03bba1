//! One supervised process as a value: how it is launched, where it is in its life, its stdio,
//! and its exit with the drain that follows. A shim holds one (v0.2) or many (a v2 container's
//! init and its exec processes).
//!
//! A process knows nothing of the core that drives it: it registers its descriptors and
//! deadlines through whatever [`Registry`] it is handed, under routes of the core's type `R`,
//! which only has to say how it carries a process's key and source ([`ProcessRoute`]). The phase
//! is moved on by the pure [`phase::next`]; everything else here carries out what it decides.

pub mod drain;
pub mod output;
pub mod phase;
pub mod pumps;
pub mod stdio;
pub mod terminal;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Instant, SystemTime};

use crate::event_loop::{Registry, TimerId};
use crate::process::drain::{Check, Drain, DrainEnd, DrainPolicy, Progress};
use crate::process::phase::{Effect, Event, Phase, Refused, Rules};
use crate::process::stdio::ProcessStdio;
use crate::reaper::ExitStatus;
use crate::runtime::{CommandLine, Runtime};

/// A process's key in the supervisor, stable for its life.
pub type ProcessKey = usize;

/// Which of a process's sources an event is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Either end of the stdin pump.
    Stdin,
    /// Either end of the stdout pump (pipe or terminal).
    Stdout,
    /// Either end of the stderr pump.
    Stderr,
    /// The console socket's listener or connection.
    Console,
    /// The drain's next look.
    Drain,
    /// The next look at enlarged output pipes.
    Capacity,
}

impl Source {
    /// The stream's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Source::Stdin => "stdin",
            Source::Stdout => "stdout",
            Source::Stderr => "stderr",
            Source::Console => "console",
            Source::Drain => "drain",
            Source::Capacity => "capacity",
        }
    }
}

/// A route of the loop that can lead to one of a process's sources.
pub trait ProcessRoute: Copy {
    /// The route to `source` of process `key`.
    fn to(key: ProcessKey, source: Source) -> Self;
}

/// How a process is launched and what follows, decided by the frontend once the stdio is made
/// (the launch's command line names the console socket).
#[derive(Debug, Clone)]
pub struct LaunchPlan {
    /// The runtime binary.
    pub runtime: Runtime,
    /// `create`, `exec -d` or `restore`, which makes the process and writes its pid file.
    pub launch: CommandLine,
    /// Where the launch runs (the bundle); `None` for the shim's own working directory.
    pub cwd: Option<PathBuf>,
    /// The pid file the launch writes.
    pub pid_file: PathBuf,
    /// `start`, for processes that wait for one.
    pub start: Option<CommandLine>,
    /// `kill --all`, for processes whose rules ask for it on exit.
    pub kill_all: Option<CommandLine>,
}

/// Why a launch or a start failed.
#[derive(Debug)]
pub enum Failure {
    /// The runtime itself failed; it explains itself in its own log.
    Runtime {
        /// How it ended.
        status: ExitStatus,
        /// Its last line on stderr, when captured.
        message: String,
    },
    /// The shim could not use what the runtime left (pid file, terminal), or could not run it.
    Shim(crate::error::Error),
}

/// The exit of a process, from the moment it was reaped: when, and the drain of its outputs.
#[derive(Debug)]
struct Exit {
    at: SystemTime,
    drain: Draining,
}

/// The drain after an exit.
#[derive(Debug)]
enum Draining {
    /// Under way, with the deadline of its next look if one is set.
    Running {
        drain: Drain,
        look: Option<(TimerId, Instant)>,
    },
    /// Over.
    Ended(DrainEnd),
}

/// One supervised process, its stdio registered under routes of type `R`.
#[derive(Debug)]
pub struct Process<R> {
    rules: Rules,
    phase: Phase,
    stdio: ProcessStdio<R>,
    drain_policy: DrainPolicy,
    plan: LaunchPlan,
    /// The container's ends of the stdio of a planned process, until its launch takes them.
    launch_stdio: Option<[Stdio; 3]>,
    exit: Option<Exit>,
    /// The next look at enlarged output pipes, while some are.
    capacity_look: Option<TimerId>,
}

impl<R: ProcessRoute> Process<R> {
    /// A process whose launch call is under way, or, given the container's ends of its stdio
    /// (`launch_stdio`), one planned to be launched by its start.
    pub fn new(
        rules: Rules,
        drain_policy: DrainPolicy,
        stdio: ProcessStdio<R>,
        plan: LaunchPlan,
        launch_stdio: Option<[Stdio; 3]>,
    ) -> Process<R> {
        Process {
            rules,
            phase: if launch_stdio.is_some() {
                Phase::Planned
            } else {
                Phase::Launching
            },
            stdio,
            drain_policy,
            plan,
            launch_stdio,
            exit: None,
            capacity_look: None,
        }
    }

    /// The container's ends of a planned process's stdio, for its launch.
    pub fn take_launch_stdio(&mut self) -> [Stdio; 3] {
        self.launch_stdio
            .take()
            .unwrap_or_else(|| [Stdio::null(), Stdio::null(), Stdio::null()])
    }

    /// Where it is in its life.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// How it is launched.
    pub fn plan(&self) -> &LaunchPlan {
        &self.plan
    }

    /// When it was reaped, once it was.
    pub fn exited_at(&self) -> Option<SystemTime> {
        self.exit.as_ref().map(|exit| exit.at)
    }

    /// Its stdio.
    pub fn stdio(&mut self) -> &mut ProcessStdio<R> {
        &mut self.stdio
    }

    /// Moves the phase on by `event`; the caller carries out the effects.
    pub fn apply(&mut self, event: Event) -> Result<Vec<Effect>, Refused> {
        let (phase, effects) = phase::next(self.phase, self.rules, event)?;
        self.phase = phase;
        Ok(effects)
    }

    /// The process was reaped at `at`: from now on only the container's own holders of a
    /// legacy slave decide when the terminal's output ends, and the drain counts progress from
    /// here.
    pub fn exited(&mut self, at: SystemTime, now: Instant) {
        self.stdio.release_held_slave();
        let moved = self.stdio.outputs().map(|o| o.moved()).sum();
        self.exit = Some(Exit {
            at,
            drain: Draining::Running {
                drain: Drain::new(self.drain_policy, moved, now),
                look: None,
            },
        });
    }

    /// Looks at the drain, if one runs: its end once it has ended (kept for
    /// [`Process::drain_end`]), else `None`, with a look set for when the drain must look again.
    /// `key` names the process in the look's route.
    pub fn look_at_drain(
        &mut self,
        key: ProcessKey,
        registry: &mut impl Registry<R>,
        now: Instant,
    ) -> Option<DrainEnd> {
        let exit = self.exit.as_mut()?;
        let Draining::Running { drain, look } = &mut exit.drain else {
            return None;
        };
        let mut outputs: Vec<&mut dyn Progress> = self
            .stdio
            .outputs()
            .map(|output| output as &mut dyn Progress)
            .collect();
        match drain.check(&mut outputs, now) {
            Check::Wait(next) => {
                // A pending look that comes later than needed is replaced; one that comes early
                // only looks and sets the next.
                let replace = match (*look, next) {
                    (Some((_, at)), Some(needed)) => needed < at,
                    (None, Some(_)) => true,
                    (_, None) => false,
                };
                if let (true, Some(needed)) = (replace, next) {
                    if let Some((id, _)) = look.take() {
                        registry.cancel_timer(id);
                    }
                    let id = registry.set_timer(needed, R::to(key, Source::Drain));
                    *look = Some((id, needed));
                }
                None
            }
            Check::Done(end) => {
                if let Some((id, _)) = look.take() {
                    registry.cancel_timer(id);
                }
                exit.drain = Draining::Ended(end);
                Some(end)
            }
        }
    }

    /// The drain's look deadline passed (it is gone from the loop).
    pub fn drain_look_passed(&mut self) {
        if let Some(Exit {
            drain: Draining::Running { look, .. },
            ..
        }) = &mut self.exit
        {
            *look = None;
        }
    }

    /// How the drain ended; [`DrainEnd::Complete`] for a process whose exit needed none.
    pub fn drain_end(&self) -> DrainEnd {
        match &self.exit {
            Some(Exit {
                drain: Draining::Ended(end),
                ..
            }) => *end,
            _ => DrainEnd::Complete,
        }
    }

    /// After readiness of its outputs: makes sure somebody will look at pipes a stream
    /// enlarged (see [`crate::io::pipe`]), by the route of `key`.
    pub fn watch_capacity(&mut self, key: ProcessKey, registry: &mut impl Registry<R>) {
        let enlarged = self
            .stdio
            .outputs()
            .any(|output| output.pump.as_ref().is_some_and(|pump| pump.enlarged()));
        if enlarged && self.capacity_look.is_none() {
            self.look_at_capacity_later(key, registry);
        }
    }

    fn look_at_capacity_later(&mut self, key: ProcessKey, registry: &mut impl Registry<R>) {
        let at = Instant::now() + CAPACITY_LOOK;
        self.capacity_look = Some(registry.set_timer(at, R::to(key, Source::Capacity)));
    }

    /// The capacity look passed: every enlarged pump is looked at, and gives its pages back once
    /// idle; another look follows while any stays enlarged.
    pub fn look_at_capacity(&mut self, key: ProcessKey, registry: &mut impl Registry<R>) {
        self.capacity_look = None;
        // Every pump is looked at (no short-circuit), so each can give its pages back.
        let again = self
            .stdio
            .outputs()
            .filter_map(|output| output.pump.as_mut())
            .fold(false, |again, pump| pump.look() | again);
        if again {
            self.look_at_capacity_later(key, registry);
        }
    }

    /// Closes its stdio and forgets its deadlines.
    pub fn close(mut self, registry: &mut impl Registry<R>) {
        if let Some(Exit {
            drain:
                Draining::Running {
                    look: Some((id, _)),
                    ..
                },
            ..
        }) = self.exit.take()
        {
            registry.cancel_timer(id);
        }
        if let Some(id) = self.capacity_look.take() {
            registry.cancel_timer(id);
        }
        self.stdio.close(registry);
    }
}

/// How often enlarged output pipes are looked at: a stream idle for this long gives its pages
/// back (see [`crate::io::pipe`]).
pub const CAPACITY_LOOK: std::time::Duration = std::time::Duration::from_secs(1);
