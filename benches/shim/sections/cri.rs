//! tinyshim's v2 shim beside the Go runc shim under a kubelet's calls: one private containerd
//! 1.6 with its CRI plugin, a pod of each shim, the same CRI calls for both (only the pod's
//! runtime handler differs: see [`daemon`]). What a node pays its shims for:
//!
//! * [`log_path`]: a container's stdout into the CRI log file, the path every line a pod
//!   prints takes (the shim's pipe to containerd's log writer);
//! * [`exec_probes`]: ExecSync of `true` in a running container, a liveness or readiness
//!   probe's exec.
//!
//! Interleaved as the v2 section is: in each of the `--runs` runs a pod is started for each
//! shim, each measurement is taken for each shim in turn (the order rotated by one shim per
//! run), and the pods are removed, their shims gone and nothing of them left before the next
//! run. Each figure is the median over the runs; each ratio to the Go shim the median of the
//! ratios within each run. A measurement that fails is printed as it happens and again under
//! the table, and shows as `n/a`.

use std::any::Any;
use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};

use crate::report::Report;
use crate::Options;

use super::v2::figures::Rows;

mod daemon;
mod exec_probes;
mod log_path;

use daemon::{CriDaemon, PodShim, Route};

/// What the section's parts share.
pub struct Bench<'a> {
    /// The one daemon.
    pub daemon: &'a CriDaemon,
    /// The shims, in the table's order, with their runtime handlers.
    routes: &'a [Route],
    problems: RefCell<Vec<String>>,
}

impl Bench<'_> {
    /// The shims that run here, in the order run `run` takes them.
    pub fn order(&self, run: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.routes.len())
            .filter(|&shim| self.routes[shim].binary.is_ok())
            .collect();
        if !order.is_empty() {
            let len = order.len();
            order.rotate_left(run % len);
        }
        order
    }

    /// Notes that `what` failed for `shim`.
    pub fn failed(&self, shim: usize, what: &str, error: &str) {
        let problem = format!("{}: {what}: {error}", self.routes[shim].shim.name());
        eprintln!("cri: {problem}");
        self.problems.borrow_mut().push(problem);
    }

    /// Notes something wrong that is no one shim's.
    fn problem(&self, problem: String) {
        eprintln!("cri: {problem}");
        self.problems.borrow_mut().push(problem);
    }
}

/// `work`'s value, or the message it panicked with: the test kit's CRI client fails a test on
/// an error or a hang, and here either is one measurement's figure.
pub fn attempt<T>(work: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    panic::catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|payload| Err(message(payload)))
}

/// The first line of a panic's message (the kit's messages go on with containerd's log, which
/// the panic already printed).
fn message(payload: Box<dyn Any + Send>) -> String {
    let text = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a panic without a message".into());
    text.lines().next().unwrap_or_default().to_string()
}

/// Runs the section.
pub fn run(options: &Options, report: &mut Report) {
    let routes = [Route::tinyshim(), Route::go()];
    for route in &routes {
        match &route.binary {
            Ok(binary) => eprintln!(
                "cri: {} is handler {:?}, {}",
                route.shim.name(),
                route.handler,
                binary.display()
            ),
            Err(why) => eprintln!("cri: {}: {why}", route.shim.name()),
        }
    }
    let daemon = CriDaemon::start(&routes);
    let bench = Bench {
        daemon: &daemon,
        routes: &routes,
        problems: RefCell::default(),
    };
    let (count, runs) = (routes.len(), options.runs);
    let mut log_path = log_path::LogPath::new(count, runs);
    let mut exec_probes = exec_probes::ExecProbes::new(count, runs);
    for run in 0..runs {
        eprintln!("cri run {}/{runs}", run + 1);
        let mut pods: Vec<PodShim> = Vec::new();
        for shim in bench.order(run) {
            match daemon.start_pod(shim, &routes[shim], &format!("bench-{run}-{shim}")) {
                Ok(pod) => pods.push(pod),
                Err(error) => bench.failed(shim, "starting a pod", &error),
            }
        }
        log_path.measure(&bench, run, &pods);
        exec_probes.measure(&bench, run, &pods);
        for pod in pods {
            let shim = pod.shim;
            if let Err(error) = daemon.remove_pod(pod) {
                bench.failed(shim, "removing the pod", &error);
            }
        }
        let left = daemon.leftovers();
        if !left.is_empty() {
            bench.problem(format!("left after run {}: {left:?}", run + 1));
        }
    }

    let Bench { problems, .. } = bench;
    let mut problems = problems.into_inner();
    problems.extend(daemon.shut_down());

    let missing: Vec<Option<String>> = routes.iter().map(|r| r.binary.clone().err()).collect();
    let headings: Vec<&str> = routes.iter().map(|r| r.shim.heading()).collect();
    let mut rows = Rows::new(report.table(&headings), missing);
    log_path.rows(&mut rows);
    exec_probes.rows(&mut rows);
    for route in &routes {
        if let Err(why) = &route.binary {
            report.note(format!("cri: {}: {why}", route.shim.name()));
        }
    }
    for problem in problems {
        report.note(format!("cri problem: {problem}"));
    }
}
