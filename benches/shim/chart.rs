//! The SVG chart: panels of horizontal bars side by side, each scaled to its longest bar, which
//! the sections fill as they measure. BENCHMARKS.md shows a copy of the one `make bench` writes
//! (docs/bench-chart.svg).

/// Three shades of one hue: the bars of one supervisor share it.
#[derive(Debug, Clone, Copy)]
pub struct Palette {
    strong: &'static str,
    medium: &'static str,
    light: &'static str,
}

/// Which of a palette's shades a bar takes: a supervisor's main figure is strong.
#[derive(Debug, Clone, Copy)]
pub enum Shade {
    /// A supervisor's main figure.
    Strong,
    /// A second figure.
    Medium,
    /// A third figure.
    Light,
}

impl Palette {
    /// The colour of `shade` in this palette.
    pub fn colour(&self, shade: Shade) -> &'static str {
        match shade {
            Shade::Strong => self.strong,
            Shade::Medium => self.medium,
            Shade::Light => self.light,
        }
    }
}

/// tinyshim's colours.
pub const BLUES: Palette = Palette {
    strong: "#2b7bb9",
    medium: "#6baed6",
    light: "#9ecae1",
};

/// conmon's colours.
pub const ORANGES: Palette = Palette {
    strong: "#d95f02",
    medium: "#fc8d62",
    light: "#fdae6b",
};

/// The Go runc shim's colours.
pub const GREENS: Palette = Palette {
    strong: "#1b9e77",
    medium: "#66c2a4",
    light: "#b2e2cd",
};

/// The Rust runc shim's colours.
pub const PURPLES: Palette = Palette {
    strong: "#7570b3",
    medium: "#9e9ac8",
    light: "#cbc9e2",
};

/// The colour of a figure measured without any supervisor, such as the direct pipe.
pub const BASELINE: &str = "#999999";

/// Panels in the order their first bar was added.
#[derive(Debug, Default)]
pub struct Chart {
    panels: Vec<Panel>,
}

#[derive(Debug)]
struct Panel {
    title: String,
    bars: Vec<Bar>,
}

#[derive(Debug)]
struct Bar {
    label: String,
    /// NaN for a figure that was not measured (a supervisor that is not installed).
    value: f64,
    colour: &'static str,
}

/// Horizontal room for one panel, and the room its labels take before the bars start.
const PANEL_WIDTH: f64 = 410.0;
const LABEL_WIDTH: f64 = 165.0;
/// The longest bar of a panel.
const BAR_LENGTH: f64 = 190.0;
const BAR_HEIGHT: f64 = 22.0;
/// Vertical distance from one bar to the next.
const BAR_PITCH: f64 = 38.0;
const MARGIN: f64 = 10.0;
/// Where the first bar starts, below the panels' titles.
const TOP: f64 = 40.0;
/// The chart keeps this size for up to two panels of six bars, so that its place in
/// BENCHMARKS.md does not move when a panel has fewer.
const MIN_WIDTH: f64 = 2.0 * PANEL_WIDTH;
const MIN_HEIGHT: f64 = 300.0;

impl Chart {
    /// Adds a bar at the bottom of the panel titled `panel`, which is added at the right if new.
    pub fn bar(&mut self, panel: &str, label: impl Into<String>, value: f64, colour: &'static str) {
        let bar = Bar {
            label: label.into(),
            value,
            colour,
        };
        match self.panels.iter_mut().find(|p| p.title == panel) {
            Some(existing) => existing.bars.push(bar),
            None => self.panels.push(Panel {
                title: panel.to_string(),
                bars: vec![bar],
            }),
        }
    }

    /// Whether no section drew a bar in it.
    pub fn is_empty(&self) -> bool {
        self.panels.is_empty()
    }

    /// The chart as an SVG document, with `caption` under the panels.
    pub fn svg(&self, caption: &str) -> String {
        let most_bars = self.panels.iter().map(|p| p.bars.len()).max().unwrap_or(0);
        let width = (self.panels.len() as f64 * PANEL_WIDTH).max(MIN_WIDTH);
        let height = (TOP + most_bars as f64 * BAR_PITCH + 3.0 * MARGIN).max(MIN_HEIGHT);
        let mut out = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">
<rect width="{width}" height="{height}" fill="white"/>
<text x="{MARGIN}" y="{}" fill="gray">{caption}</text>
"#,
            height - MARGIN
        );
        for (index, panel) in self.panels.iter().enumerate() {
            panel.draw(&mut out, MARGIN + index as f64 * PANEL_WIDTH);
        }
        out.push_str("</svg>\n");
        out
    }
}

impl Panel {
    /// Appends the panel with its left edge at `x0`.
    fn draw(&self, out: &mut String, x0: f64) {
        let max = self
            .bars
            .iter()
            .map(|bar| bar.value)
            .filter(|v| v.is_finite())
            .fold(1.0, f64::max);
        out.push_str(&format!(
            r#"<text x="{x0}" y="20" font-size="14" font-weight="bold">{}</text>
"#,
            self.title
        ));
        for (index, bar) in self.bars.iter().enumerate() {
            let y = TOP + index as f64 * BAR_PITCH;
            let (length, value) = if bar.value.is_finite() {
                (bar.value / max * BAR_LENGTH, format!("{:.0}", bar.value))
            } else {
                (0.0, "n/a".to_string())
            };
            out.push_str(&format!(
                r#"<text x="{x0}" y="{}" >{}</text><rect x="{}" y="{y}" width="{length:.1}" height="{BAR_HEIGHT}" fill="{}"/><text x="{}" y="{}">{value}</text>
"#,
                y + 15.0,
                bar.label,
                x0 + LABEL_WIDTH,
                bar.colour,
                x0 + LABEL_WIDTH + 5.0 + length,
                y + 15.0,
            ));
        }
    }
}
