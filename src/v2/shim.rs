//! The serving shim: the frontend of the core that speaks runtime v2 to containerd. It joins
//! the [`Server`] (containerd's calls in), the [`TaskService`] (what they do), the events
//! [`Publisher`] (what happened, out to containerd) and the log, and owns the shim's own life:
//! it exits once containerd asked it to shut down with no task left (or SIGTERM came with
//! none), after the events it still holds have reached containerd.

use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::error::Result;
use crate::event_loop::Registry;
use crate::supervisor::{Frontend, Notice};
use crate::v2::cli::args::Args;
use crate::v2::events::{Publisher, Routes};
use crate::v2::log::{Level, Log};
use crate::v2::proto::task::Empty;
use crate::v2::route::Route;
use crate::v2::server::{Lost, Server, DESCRIPTOR_RESERVE, FRAME_PATIENCE};
use crate::v2::task::request::TaskRequest;
use crate::v2::task::{Child, Core, Outside, TaskService};
use crate::v2::ttrpc::call::CallError;

/// How long the shim, once asked to exit, waits for containerd to file its last events.
pub const FLUSH_LIMIT: Duration = Duration::from_secs(5);

/// The serving shim.
#[derive(Debug)]
pub struct TaskShim {
    server: Server,
    tasks: TaskService,
    events: Publisher<Route>,
    log: Log,
    /// Set once the shim is to exit: when it must, at the latest.
    exit_by: Option<Instant>,
    /// containerd asked for a Shutdown since its last Create.
    shutdown_asked: bool,
}

/// Serves `listener` (bound at `socket_path`) for `args` until the shim is to exit, its
/// working directory the first bundle.
pub fn serve(
    args: &Args,
    listener: OwnedFd,
    socket_path: Option<PathBuf>,
    log: Log,
    config: Config,
) -> Result<()> {
    let ttrpc_address = config
        .ttrpc_address
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}.ttrpc", args.address)));
    let mut core = Core::boot(config)?;
    let server = Server::new(listener, socket_path, &mut core.registry())?;
    let routes = Routes {
        socket: Route::Events,
        retry: Route::EventsRetry,
    };
    let mut shim = TaskShim {
        server,
        tasks: TaskService::new(&args.namespace),
        events: Publisher::new(ttrpc_address, args.namespace.clone(), routes),
        log,
        exit_by: None,
        shutdown_asked: false,
    };
    let served = core.run(&mut shim);
    shim.server.close(&mut core.registry());
    shim.events.close(&mut core.registry());
    served
}

impl Frontend for TaskShim {
    type Route = Route;
    type Call = Child;

    fn begin(&mut self, core: &mut Core) {
        self.accept(core);
    }

    fn handle(&mut self, core: &mut Core, notice: Notice<Route, Child>) {
        match notice {
            Notice::Frontend(Route::Listener | Route::AcceptRetry) => self.accept(core),
            Notice::Frontend(Route::RoomLook) => {
                let lost = self.server.on_room_look(&mut core.registry());
                if !lost.is_empty() {
                    let message = format!(
                        "hung up on {} connection(s) whose frames had not grown for {} s while \
                         others waited for room",
                        lost.len(),
                        FRAME_PATIENCE.as_secs()
                    );
                    self.log.write(Level::Warning, &message);
                }
                self.lost(core, lost);
            }
            Notice::Frontend(Route::Connection(key)) => self.on_connection(core, key),
            Notice::Frontend(Route::Events) => self.events.on_socket(&mut core.registry()),
            Notice::Frontend(Route::EventsRetry) => self.events.on_retry(&mut core.registry()),
            Notice::Frontend(Route::ExitDeadline) => {}
            Notice::Frontend(Route::Oom) => {
                let mut out = Outside {
                    core,
                    server: &mut self.server,
                    events: &mut self.events,
                    log: &self.log,
                };
                self.tasks.on_oom(&mut out);
            }
            Notice::Terminate if self.tasks.is_empty() => self.exit_soon(core),
            Notice::Terminate => {
                let message = format!("ignored SIGTERM: {} task(s) still served", self.tasks.len());
                self.log.write(Level::Warning, &message);
            }
            notice => {
                let mut out = Outside {
                    core,
                    server: &mut self.server,
                    events: &mut self.events,
                    log: &self.log,
                };
                self.tasks.on_notice(&mut out, notice);
            }
        }
    }

    fn done(&mut self, core: &mut Core) -> bool {
        for warning in self.events.take_warnings() {
            self.log.write(Level::Warning, &warning);
        }
        // A Shutdown refused while a container was served holds once none is: containerd
        // does not ask again (a Create it gave up on, a runtime killed for overstaying).
        if self.shutdown_asked && self.tasks.is_empty() {
            self.exit_soon(core);
        }
        // What is still running (the removal of a half-made container) is waited for too, so
        // that nothing outlives the shim.
        self.exit_by.is_some_and(|by| {
            let flushed = self.events.is_empty() && !core.calls_in_flight();
            flushed || Instant::now() >= by
        })
    }
}

impl TaskShim {
    #[inline(never)]
    fn accept(&mut self, core: &mut Core) {
        let daemon = self.events.daemon_pid();
        let accepted = self.server.accept(&mut core.registry(), daemon);
        for _ in 0..accepted.refused {
            self.log
                .write(Level::Warning, "refused a connection from another user");
        }
        if !accepted.shed.is_empty() {
            let message = format!(
                "hung up on {} idle connection(s) to keep {DESCRIPTOR_RESERVE} descriptors free",
                accepted.shed.len()
            );
            self.log.write(Level::Warning, &message);
        }
        self.lost(core, accepted.shed);
    }

    /// Connections closed: what was parked for them goes, and a peer waiting in the listen
    /// queue for a descriptor gets the one freed.
    fn lost(&mut self, core: &mut Core, lost: Vec<Lost>) {
        if lost.is_empty() {
            return;
        }
        for lost in lost {
            self.tasks.connection_lost(lost);
        }
        if self.server.starved() {
            self.accept(core);
        }
    }

    #[inline(never)]
    fn on_connection(&mut self, core: &mut Core, key: usize) {
        let mut calls = Vec::new();
        self.server.on_ready(key, &mut core.registry(), &mut calls);
        for (reply, call) in calls {
            let mut out = Outside {
                core: &mut *core,
                server: &mut self.server,
                events: &mut self.events,
                log: &self.log,
            };
            match TaskRequest::of(&call) {
                None => out.answer::<Empty>(reply, Err(CallError::unknown_service(&call.service))),
                Some(Err(error)) => out.answer::<Empty>(reply, Err(error)),
                Some(Ok(request)) => {
                    match request {
                        TaskRequest::Shutdown(_) => self.shutdown_asked = true,
                        // containerd still uses a shim it creates a container in.
                        TaskRequest::Create(_) => self.shutdown_asked = false,
                        _ => {}
                    }
                    self.tasks.serve(&mut out, reply, request);
                }
            }
        }
        if let Some(lost) = self.server.close_if_gone(key, &mut core.registry()) {
            self.lost(core, vec![lost]);
        }
    }

    /// Exits once the events are flushed, or after [`FLUSH_LIMIT`].
    fn exit_soon(&mut self, core: &mut Core) {
        if self.exit_by.is_some() {
            return;
        }
        let by = Instant::now() + FLUSH_LIMIT;
        self.exit_by = Some(by);
        core.registry().set_timer(by, Route::ExitDeadline);
        self.server.stop_listening(&mut core.registry());
    }
}
