//! A terminal process's PTY, in each of its states: waiting for the runtime to send the master
//! over the console socket, made by the shim for a legacy runtime, joined to the client's FIFOs,
//! or failed.
//!
//! Once joined, two pumps move its bytes: master to the stdout FIFO, stdin FIFO to the master.
//! Each owns its own duplicate of the master, so each can close independently; the shim keeps the
//! master itself for resizes.

use std::os::fd::{AsFd, OwnedFd};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::event_loop::Registry;
use crate::io::console_socket::ConsoleSocket;
use crate::io::legacy_pty::{self, LegacyConsole};
use crate::io::pump::{Endpoint, Pump};
use crate::io::terminal;
use crate::process::output::Output;
use crate::process::pumps::PumpMaker;
use crate::process::{ProcessKey, ProcessRoute, Source};
use crate::runtime::ConsoleArg;

/// The client's ends of a terminal process, waiting for the master.
#[derive(Debug)]
pub struct TerminalClient {
    /// The stdin FIFO's reader, when there is a client stdin.
    pub stdin: Option<OwnedFd>,
    /// The stdout stream, without its pump yet.
    pub stdout: Output,
    /// The stdout FIFO's writer, the future pump's sink.
    pub stdout_sink: OwnedFd,
}

/// A terminal in each of its states, its descriptors registered under routes of type `R`.
#[derive(Debug)]
pub enum Terminal<R> {
    /// The console socket waits for the runtime's master.
    AwaitingConsole {
        /// The socket.
        socket: ConsoleSocket<R>,
        /// The client's ends.
        client: TerminalClient,
        /// A resize that came before the master, applied when it arrives.
        size: Option<(u16, u16)>,
    },
    /// The shim made the PTY; its master is joined to the FIFOs once the runtime returned,
    /// when the container holds the slave.
    Legacy {
        /// The PTY.
        pty: LegacyConsole,
        /// The client's ends.
        client: TerminalClient,
    },
    /// The master is joined to the FIFOs.
    Attached {
        /// The master, kept for resizes.
        master: OwnedFd,
        /// Stdin FIFO to master.
        stdin: Option<Pump>,
        /// Master to stdout FIFO.
        stdout: Output,
        /// The legacy slave the shim holds until the process has exited.
        held_slave: Option<OwnedFd>,
    },
    /// No usable master will come, for this reason (until it is reported).
    Failed(Error),
    /// No master will come and nothing is left to report: the runtime failed, or the failure
    /// was reported.
    Gone,
}

impl<R: ProcessRoute> Terminal<R> {
    /// A console socket to listen on, or a legacy PTY.
    pub fn open(
        client: TerminalClient,
        config: &Config,
        owner: (u32, u32),
        key: ProcessKey,
        registry: &mut impl Registry<R>,
    ) -> Result<Terminal<R>> {
        if config.legacy_console {
            let pty = legacy_pty::open_legacy(owner.0, owner.1)?;
            return Ok(Terminal::Legacy { pty, client });
        }
        let route = R::to(key, Source::Console);
        let socket = ConsoleSocket::listen(&config.console_dir, registry, route, route)?;
        Ok(Terminal::AwaitingConsole {
            socket,
            client,
            size: None,
        })
    }

    /// How the runtime is told about the terminal.
    pub fn console_arg(&self) -> ConsoleArg<'_> {
        match self {
            Terminal::AwaitingConsole { socket, .. } => ConsoleArg::Socket(socket.path()),
            Terminal::Legacy { pty, .. } => ConsoleArg::Legacy(&pty.slave),
            Terminal::Attached { .. } | Terminal::Failed(_) | Terminal::Gone => ConsoleArg::None,
        }
    }

    /// Receives the master if it came; a connection that brings no usable terminal fails it.
    pub fn poll(&mut self, pumps: &PumpMaker, registry: &mut impl Registry<R>) {
        let Terminal::AwaitingConsole { socket, .. } = self else {
            return;
        };
        match socket.receive(registry) {
            Ok(None) => {}
            Ok(Some(master)) => {
                if let Terminal::AwaitingConsole {
                    mut socket,
                    client,
                    size,
                } = std::mem::replace(self, Terminal::Gone)
                {
                    socket.close(registry);
                    if let Some((width, height)) = size {
                        let _ = terminal::resize(master.as_fd(), width, height);
                    }
                    *self = attach(master, client, None, pumps, registry);
                }
            }
            Err(error) => {
                self.stop_awaiting(registry);
                *self = Terminal::Failed(error);
            }
        }
    }

    /// Once the launch call succeeded, the terminal must be there: the runtime sends it before
    /// it exits, so whatever has not arrived by now never will. A legacy terminal is joined to
    /// the FIFOs now. `runtime` names the runtime in the error.
    pub fn require(
        &mut self,
        runtime: &str,
        pumps: &PumpMaker,
        registry: &mut impl Registry<R>,
    ) -> Result<()> {
        self.poll(pumps, registry);
        match std::mem::replace(self, Terminal::Gone) {
            Terminal::Legacy { pty, client } => {
                *self = attach(pty.master, client, Some(pty.held_slave), pumps, registry);
                self.require(runtime, pumps, registry)
            }
            attached @ Terminal::Attached { .. } => {
                *self = attached;
                Ok(())
            }
            Terminal::AwaitingConsole { mut socket, .. } => {
                socket.close(registry);
                Err(Error::invalid(
                    format!("console socket {}", socket.path().display()),
                    format!("{runtime} exited without sending a terminal"),
                ))
            }
            Terminal::Failed(error) => Err(error),
            Terminal::Gone => Err(Error::invalid("terminal", "no terminal will come")),
        }
    }

    /// Gives up on a console socket still waiting for the runtime: the socket and its
    /// directory go now.
    pub fn stop_awaiting(&mut self, registry: &mut impl Registry<R>) {
        if let Terminal::AwaitingConsole { socket, .. } = self {
            socket.close(registry);
            *self = Terminal::Gone;
        }
    }

    /// Sets the terminal size; one that comes before the master is kept for it. Errors are
    /// ignored as in the original: the master only fails once it hung up.
    pub fn resize(&mut self, width: u16, height: u16) {
        match self {
            Terminal::Attached { master, .. } => {
                let _ = terminal::resize(master.as_fd(), width, height);
            }
            // A legacy master exists from the start: sizing it at once lets an `exec -d`
            // process see its size from its first instruction.
            Terminal::Legacy { pty, .. } => {
                let _ = terminal::resize(pty.master.as_fd(), width, height);
            }
            Terminal::AwaitingConsole { size, .. } => *size = Some((width, height)),
            Terminal::Failed(_) | Terminal::Gone => {}
        }
    }

    /// Closes the pumps, the master and the socket.
    pub fn close(self, registry: &mut impl Registry<R>) {
        match self {
            Terminal::Attached {
                stdin, mut stdout, ..
            } => {
                if let Some(pump) = stdin {
                    pump.close(registry);
                }
                stdout.close(registry);
            }
            Terminal::AwaitingConsole { mut socket, .. } => socket.close(registry),
            Terminal::Legacy { .. } | Terminal::Failed(_) | Terminal::Gone => {}
        }
    }
}

/// Joins the master to the FIFOs.
fn attach<R: ProcessRoute>(
    master: OwnedFd,
    client: TerminalClient,
    held_slave: Option<OwnedFd>,
    pumps: &PumpMaker,
    registry: &mut impl Registry<R>,
) -> Terminal<R> {
    let attached = || -> Result<Terminal<R>> {
        let duplicate = || {
            master
                .try_clone()
                .map_err(|e| Error::os("fcntl F_DUPFD_CLOEXEC terminal master", e))
        };
        let stdout_pump = pumps.make(
            registry,
            Source::Stdout,
            Endpoint::terminal(duplicate()?),
            Endpoint::plain(client.stdout_sink),
        )?;
        let stdin = match client.stdin {
            Some(stdin) => Some(pumps.make(
                registry,
                Source::Stdin,
                Endpoint::plain(stdin),
                Endpoint::terminal(duplicate()?),
            )?),
            None => None,
        };
        Ok(Terminal::Attached {
            stdin,
            stdout: Output {
                pump: Some(stdout_pump),
                ..client.stdout
            },
            master,
            held_slave,
        })
    };
    attached().unwrap_or_else(Terminal::Failed)
}
