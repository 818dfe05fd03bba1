//! The v2 section's figures (and the CRI section's, which compares two of the same shims):
//! every sample by shim and run, medians over the runs, ratios to the Go shim taken run by run,
//! and the rows that print them beside their targets.

use crate::report::{median, Table};
use crate::supervisor::v2::{REFERENCE, UNDER_TEST};

/// One figure for every shim: the samples each run took, by shim, then run.
#[derive(Debug, Clone)]
pub struct Series {
    samples: Vec<Vec<Vec<f64>>>,
}

/// The median of the finite values of `values`; NaN for none.
fn finite_median(values: impl IntoIterator<Item = f64>) -> f64 {
    median(values.into_iter().filter(|v| v.is_finite()).collect())
}

impl Series {
    /// No samples yet, for `shims` shims over `runs` runs.
    pub fn new(shims: usize, runs: usize) -> Series {
        Series {
            samples: vec![vec![Vec::new(); runs]; shims],
        }
    }

    /// Adds one sample of `shim` in `run`; NaN for a measurement that failed.
    pub fn add(&mut self, shim: usize, run: usize, value: f64) {
        self.samples[shim][run].push(value);
    }

    /// One value per run: the median of that run's samples.
    fn per_run(&self, shim: usize) -> Vec<f64> {
        self.samples[shim]
            .iter()
            .map(|run| finite_median(run.iter().copied()))
            .collect()
    }

    /// The median over the runs.
    pub fn median(&self, shim: usize) -> f64 {
        finite_median(self.per_run(shim))
    }

    /// The median over the runs of `shim`'s value divided by the Go shim's in the same run.
    pub fn ratio(&self, shim: usize) -> f64 {
        let reference = self.per_run(REFERENCE);
        finite_median(
            self.per_run(shim)
                .into_iter()
                .zip(reference)
                .map(|(value, reference)| value / reference),
        )
    }
}

/// A goal for tinyshim's figure (never asserted: the benchmark only prints whether it is met).
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// None set.
    None,
    /// At most this much.
    AtMost(f64),
    /// Exactly this.
    Exactly(f64),
    /// At least this many times the Go shim's, in the same runs.
    TimesGoAtLeast(f64),
    /// No more than the Go shim's (a time: no slower).
    NoMoreThanGo,
}

impl Target {
    fn text(self) -> String {
        match self {
            Target::None => String::new(),
            Target::AtMost(limit) => format!("<= {limit}"),
            Target::Exactly(value) => format!("{value}"),
            Target::TimesGoAtLeast(times) => format!(">= {times}x Go"),
            Target::NoMoreThanGo => "<= Go".into(),
        }
    }

    /// Whether `value` (with `ratio` to the Go shim) meets it; `None` where it cannot say.
    fn met(self, value: f64, ratio: f64) -> Option<bool> {
        let known = |x: f64| x.is_finite().then_some(x);
        match self {
            Target::None => None,
            Target::AtMost(limit) => known(value).map(|v| v <= limit),
            Target::Exactly(expected) => known(value).map(|v| v == expected),
            Target::TimesGoAtLeast(times) => known(ratio).map(|r| r >= times),
            Target::NoMoreThanGo => known(ratio).map(|r| r <= 1.0),
        }
    }

    /// The target column: the goal and whether tinyshim met it.
    fn cell(self, value: f64, ratio: f64) -> String {
        match self.met(value, ratio) {
            None => self.text(),
            Some(true) => format!("{}: met", self.text()),
            Some(false) => format!("{}: MISSED", self.text()),
        }
    }
}

/// The v2 table: one column per shim, a shim that cannot run here saying so in every row.
pub struct Rows<'a> {
    table: &'a mut Table,
    /// Why each shim did not run, if it did not.
    missing: Vec<Option<String>>,
}

impl<'a> Rows<'a> {
    /// Rows added to `table`; `missing` says, for each shim, why it did not run.
    pub fn new(table: &'a mut Table, missing: Vec<Option<String>>) -> Rows<'a> {
        Rows { table, missing }
    }

    /// A row of medians with `decimals` decimals, each but the Go shim's followed by its ratio
    /// to the Go shim's.
    pub fn figure(&mut self, figure: String, series: &Series, decimals: usize, target: Target) {
        let values = (0..self.missing.len())
            .map(|shim| {
                if self.missing[shim].is_some() {
                    return "not installed".to_string();
                }
                let value = series.median(shim);
                if !value.is_finite() {
                    return "n/a".to_string();
                }
                let ratio = series.ratio(shim);
                if shim == REFERENCE || !ratio.is_finite() {
                    format!("{value:.decimals$}")
                } else {
                    format!("{value:.decimals$} ({ratio:.2})")
                }
            })
            .collect();
        let cell = target.cell(series.median(UNDER_TEST), series.ratio(UNDER_TEST));
        self.table.row(figure, values, &cell);
    }

    /// A row of counts out of a number of tries: `counts[shim]` is (how many, out of), with a
    /// note after it where some tries failed. The target is that none of them counted.
    pub fn counts(&mut self, figure: String, counts: &[Count]) {
        let values = counts
            .iter()
            .enumerate()
            .map(|(shim, count)| {
                if self.missing[shim].is_some() {
                    "not installed".to_string()
                } else {
                    count.text()
                }
            })
            .collect();
        let under_test = &counts[UNDER_TEST];
        let target = format!("0 of {}", under_test.tries);
        let cell = match under_test.tries {
            0 => target,
            _ if under_test.hits == 0 && under_test.failed == 0 => format!("{target}: met"),
            _ => format!("{target}: MISSED"),
        };
        self.table.row(figure, values, &cell);
    }

    /// A row with one text per column.
    pub fn text(&mut self, figure: String, values: Vec<String>) {
        self.table.row(figure, values, "");
    }
}

/// How many of a shim's tries showed something, and how many could not be judged.
#[derive(Debug, Clone, Copy, Default)]
pub struct Count {
    /// Tries that showed it.
    pub hits: usize,
    /// Tries in all.
    pub tries: usize,
    /// Tries that failed before they could show anything.
    pub failed: usize,
}

impl Count {
    fn text(&self) -> String {
        match self.failed {
            0 => format!("{} of {}", self.hits, self.tries),
            failed => format!("{} of {} ({failed} failed)", self.hits, self.tries),
        }
    }
}
