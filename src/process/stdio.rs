//! A process's stdio: pipes or a terminal, between the container and the client's FIFOs.
//!
//! With pipes, the shim makes three, hands the container's ends to the runtime and pumps its own
//! ends to and from the FIFOs. With a terminal, the PTY master arrives from the runtime over a
//! console socket (or, for legacy runtimes, is made by the shim), and two pumps join it to the
//! FIFOs: master to stdout, stdin to master. Either way the shim also holds a writer on the stdin
//! FIFO (the client's EOF reaches the container only once the frontend drops it) and an idle
//! reader on each output FIFO (see [`output`](crate::process::output)).

use std::os::fd::OwnedFd;
use std::process::Stdio;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::event_loop::Registry;
use crate::io::fifo;
use crate::io::pipe;
use crate::io::pump::{Endpoint, Flow, Pump};
use crate::process::output::{ClientOutput, Output};
use crate::process::pumps::PumpMaker;
use crate::process::terminal::{Terminal, TerminalClient};
use crate::process::{ProcessKey, ProcessRoute, Source};
use crate::runtime::ConsoleArg;

mod setup;

use setup::open_target;
pub use setup::{OutputTarget, StdioSetup};

/// A pump's failure, for the frontend's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PumpFailure {
    /// `stdin`, `stdout` or `stderr`.
    pub stream: &'static str,
    /// `splice` or `read/write`.
    pub path: &'static str,
    /// The error.
    pub errno: nix::errno::Errno,
}

/// The streams of a process.
#[derive(Debug)]
enum Streams<R> {
    Pipes {
        stdin: Option<Pump>,
        stdout: Output,
        stderr: Output,
    },
    Terminal(Terminal<R>),
    /// Closed, or not made yet.
    Closed,
}

/// A process's stdio, its descriptors registered under routes of type `R`.
#[derive(Debug)]
pub struct ProcessStdio<R> {
    pumps: PumpMaker,
    /// The shim's own writer on the stdin FIFO.
    stdin_closer: Option<OwnedFd>,
    streams: Streams<R>,
}

impl<R: ProcessRoute> ProcessStdio<R> {
    /// Opens the client's FIFOs without blocking and makes the pipes or the terminal; returns
    /// the stdio to hand the launch call (the container's pipe ends, or `/dev/null` with a
    /// terminal).
    pub fn open(
        key: ProcessKey,
        setup: StdioSetup<'_>,
        config: &Config,
        registry: &mut impl Registry<R>,
    ) -> Result<(ProcessStdio<R>, [Stdio; 3])> {
        let mut stdio = ProcessStdio {
            pumps: PumpMaker::new(key, config.force_copy),
            stdin_closer: None,
            streams: Streams::Closed,
        };
        // `/dev/null` stdin is EOF from the start: the container gets it without a pump, and
        // without the shim holding anything when `/dev/null` goes to the container itself.
        let client_stdin = if setup.terminal || !setup.null(setup.stdin) {
            let stdin = fifo::open_client_fifo(setup.stdin)?;
            stdio.stdin_closer = Some(stdin.writer);
            (!stdin.null).then_some(stdin.reader)
        } else {
            None
        };
        let null_stdin = setup.null(setup.stdin);
        let null_stdout = !setup.terminal && setup.null_output(&setup.stdout);
        let null_stderr = setup.null_output(&setup.stderr);
        let fifo_end = setup.fifo_end;
        let stdout_target = if null_stdout {
            None
        } else {
            Some(open_target(setup.stdout)?)
        };
        if setup.terminal {
            let Some((client, stdout_sink)) = stdout_target else {
                return Err(Error::invalid("terminal", "no stdout"));
            };
            let client = TerminalClient {
                stdin: client_stdin,
                stdout: Output {
                    name: "stdout",
                    pump: None,
                    client,
                    fifo_end,
                },
                stdout_sink,
            };
            let terminal = Terminal::open(client, config, setup.owner, key, registry)?;
            stdio.streams = Streams::Terminal(terminal);
            return Ok((stdio, [Stdio::null(), Stdio::null(), Stdio::null()]));
        }
        let stderr_target = if null_stderr {
            None
        } else {
            Some(open_target(setup.stderr)?)
        };
        let (uid, gid) = setup.owner;
        let mut child: [Stdio; 3] = [Stdio::null(), Stdio::null(), Stdio::null()];
        // Without a client stdin the shim's end is dropped here, which is the container's EOF.
        let stdin_pump = match (client_stdin, null_stdin) {
            (_, true) => None,
            (client, false) => {
                let pipe = pipe::container_pipe(uid, gid, true)?;
                child[0] = pipe.container.into();
                match client {
                    Some(client) => Some(stdio.pumps.make(
                        registry,
                        Source::Stdin,
                        Endpoint::plain(client),
                        Endpoint::plain(pipe.shim),
                    )?),
                    None => None,
                }
            }
        };
        let mut output =
            |name, source, target: Option<(Option<ClientOutput>, OwnedFd)>, slot: &mut Stdio| {
                let Some((client, sink)) = target else {
                    return Ok::<_, Error>(Output {
                        name,
                        pump: None,
                        client: None,
                        fifo_end,
                    });
                };
                let pipe = pipe::container_pipe(uid, gid, false)?;
                *slot = pipe.container.into();
                let pump = stdio.pumps.make(
                    registry,
                    source,
                    Endpoint::plain(pipe.shim),
                    Endpoint::plain(sink),
                )?;
                Ok(Output {
                    name,
                    pump: Some(pump.with_elastic_capacity()),
                    client,
                    fifo_end,
                })
            };
        let [_, stdout_slot, stderr_slot] = &mut child;
        let stdout = output("stdout", Source::Stdout, stdout_target, stdout_slot)?;
        let stderr = output("stderr", Source::Stderr, stderr_target, stderr_slot)?;
        stdio.streams = Streams::Pipes {
            stdin: stdin_pump,
            stdout,
            stderr,
        };
        // The shim keeps no copy of the container's ends: once the container is gone, the stdin
        // pump sees EPIPE and the output pumps see EOF.
        Ok((stdio, child))
    }

    /// How the runtime is told about the terminal.
    pub fn console_arg(&self) -> ConsoleArg<'_> {
        match &self.streams {
            Streams::Terminal(terminal) => terminal.console_arg(),
            Streams::Pipes { .. } | Streams::Closed => ConsoleArg::None,
        }
    }

    /// Runs whatever `source` leads to; a pump that failed is reported in `failures`.
    pub fn on_ready(
        &mut self,
        source: Source,
        registry: &mut impl Registry<R>,
        failures: &mut Vec<PumpFailure>,
    ) {
        match source {
            Source::Console => self.poll_console(registry),
            Source::Stdin | Source::Stdout | Source::Stderr => self.run(source, registry, failures),
            Source::Drain | Source::Capacity => {}
        }
    }

    /// Runs every pump once: at start, when events may have come before registration.
    pub fn run_all(&mut self, registry: &mut impl Registry<R>, failures: &mut Vec<PumpFailure>) {
        self.poll_console(registry);
        for source in [Source::Stdin, Source::Stdout, Source::Stderr] {
            self.run(source, registry, failures);
        }
    }

    fn run(
        &mut self,
        source: Source,
        registry: &mut impl Registry<R>,
        failures: &mut Vec<PumpFailure>,
    ) {
        let (stdin, outputs) = match &mut self.streams {
            Streams::Pipes {
                stdin,
                stdout,
                stderr,
            } => (stdin, [Some(stdout), Some(stderr)]),
            Streams::Terminal(Terminal::Attached { stdin, stdout, .. }) => {
                (stdin, [Some(stdout), None])
            }
            Streams::Terminal(_) | Streams::Closed => return,
        };
        let (flow, copying) = match source {
            Source::Stdin => {
                let Some(pump) = stdin else {
                    return;
                };
                let flow = pump.run(registry);
                let copying = pump.copying();
                // The stdin pump closes both ends at once, which is what gives the container
                // EOF on its stdin.
                if matches!(flow, Flow::Eof | Flow::SinkClosed | Flow::Failed(_)) {
                    if let Some(pump) = stdin.take() {
                        pump.close(registry);
                    }
                }
                (flow, copying)
            }
            Source::Stdout | Source::Stderr => {
                let [stdout, stderr] = outputs;
                let chosen = if source == Source::Stderr {
                    stderr
                } else {
                    stdout
                };
                let Some(output) = chosen else {
                    return;
                };
                let Some(flow) = output.run(registry) else {
                    return;
                };
                (flow, output.copying())
            }
            Source::Console | Source::Drain | Source::Capacity => return,
        };
        if let Flow::Failed(errno) = flow {
            failures.push(PumpFailure {
                stream: source.name(),
                path: if copying { "read/write" } else { "splice" },
                errno,
            });
        }
    }

    fn poll_console(&mut self, registry: &mut impl Registry<R>) {
        if let Streams::Terminal(terminal) = &mut self.streams {
            terminal.poll(&self.pumps, registry);
        }
    }

    /// Once the launch call succeeded, a terminal process must have its terminal (see
    /// [`Terminal::require`]); `runtime` names the runtime in the error.
    pub fn require_terminal(
        &mut self,
        runtime: &str,
        registry: &mut impl Registry<R>,
    ) -> Result<()> {
        match &mut self.streams {
            Streams::Terminal(terminal) => terminal.require(runtime, &self.pumps, registry),
            Streams::Pipes { .. } => Ok(()),
            Streams::Closed => Err(Error::invalid("stdio", "closed before the launch returned")),
        }
    }

    /// Gives up on a console socket still waiting for the runtime (which failed).
    pub fn stop_awaiting_console(&mut self, registry: &mut impl Registry<R>) {
        if let Streams::Terminal(terminal) = &mut self.streams {
            terminal.stop_awaiting(registry);
        }
    }

    /// Sets the terminal size, if the process has one.
    pub fn resize(&mut self, width: u16, height: u16) {
        if let Streams::Terminal(terminal) = &mut self.streams {
            terminal.resize(width, height);
        }
    }

    /// Drops the shim's writer on the stdin FIFO: the container sees EOF once the client's
    /// writers are gone too.
    pub fn close_stdin(&mut self) {
        self.stdin_closer = None;
    }

    /// From the exit on, only the container's own holders of a legacy slave decide when the
    /// terminal's output ends.
    pub fn release_held_slave(&mut self) {
        if let Streams::Terminal(Terminal::Attached { held_slave, .. }) = &mut self.streams {
            *held_slave = None;
        }
    }

    /// The output streams; allocates nothing, since the supervisor asks after every readiness.
    pub fn outputs(&mut self) -> impl Iterator<Item = &mut Output> {
        let (first, second) = match &mut self.streams {
            Streams::Pipes { stdout, stderr, .. } => (Some(stdout), Some(stderr)),
            Streams::Terminal(Terminal::Attached { stdout, .. }) => (Some(stdout), None),
            Streams::Terminal(_) | Streams::Closed => (None, None),
        };
        first.into_iter().chain(second)
    }

    /// Closes the FIFOs, the pipes and the terminal.
    pub fn close(&mut self, registry: &mut impl Registry<R>) {
        self.stdin_closer = None;
        match std::mem::replace(&mut self.streams, Streams::Closed) {
            Streams::Pipes {
                stdin,
                mut stdout,
                mut stderr,
            } => {
                if let Some(pump) = stdin {
                    pump.close(registry);
                }
                stdout.close(registry);
                stderr.close(registry);
            }
            Streams::Terminal(terminal) => terminal.close(registry),
            Streams::Closed => {}
        }
    }
}
