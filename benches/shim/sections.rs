//! The parts of the benchmark, run in this order. Each one measures, then adds its rows to a
//! table of the report and its bars to the chart; a new section is one more file and one more
//! entry in [`ALL`].

use tinyshim_testkit::pump_path::PumpPath;

use crate::report::Report;
use crate::supervisor::{Conmon, Supervisor, Tinyshim};
use crate::Options;

mod cri;
mod latency;
mod many;
mod memory;
mod throughput;
mod v2;

/// One part of the benchmark, adding its rows and chart bars to the report.
pub type Section = fn(&Options, &mut Report);

/// Every section, by the name `--only` selects it with.
pub const ALL: [(&str, Section); 6] = [
    ("throughput", throughput::run),
    ("memory", memory::run),
    ("many", many::run),
    ("latency", latency::run),
    ("v2", v2::run),
    ("cri", cri::run),
];

/// The table of tinyshim's figures beside the direct pipe's or conmon's.
const SIDE_BY_SIDE: [&str; 2] = ["tinyshim", "direct / conmon"];

/// The supervisors the memory sections compare, in the order of [`SIDE_BY_SIDE`]'s columns.
fn side_by_side() -> [Box<dyn Supervisor>; 2] {
    [Box::new(Tinyshim::on(PumpPath::Splice)), Box::new(Conmon)]
}

/// The panel the memory sections draw their bars in.
const MEMORY_PANEL: &str = "memory per supervisor (kB)";
