//! What the sections found: tables of medians beside their targets, printed as Markdown at the
//! end, and the chart.

use crate::chart::Chart;

/// The median of `values`; NaN for none, which prints as `n/a`.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// `value` rounded to a whole number, or `n/a` where it was not measured.
pub fn whole(value: f64) -> String {
    if value.is_nan() {
        "n/a".to_string()
    } else {
        format!("{value:.0}")
    }
}

/// One figure: what it is, one value per column of its table, and the target it is held to.
#[derive(Debug)]
pub struct Row {
    figure: String,
    values: Vec<String>,
    target: String,
}

/// Rows under one set of column headings.
#[derive(Debug)]
pub struct Table {
    columns: Vec<String>,
    rows: Vec<Row>,
}

impl Table {
    /// Adds a row; `values` go in the table's columns, in order.
    pub fn row(&mut self, figure: impl Into<String>, values: Vec<String>, target: &str) {
        assert_eq!(
            values.len(),
            self.columns.len(),
            "a value for each column of the table"
        );
        self.rows.push(Row {
            figure: figure.into(),
            values,
            target: target.into(),
        });
    }

    /// Prints the table as Markdown: the figure and the target align left, the values right.
    fn print(&self) {
        let heading = cells("figure", &self.columns, "target");
        let lines: Vec<Vec<&str>> = self
            .rows
            .iter()
            .map(|row| cells(&row.figure, &row.values, &row.target))
            .collect();
        let widths: Vec<usize> = (0..heading.len())
            .map(|column| {
                std::iter::once(&heading)
                    .chain(&lines)
                    .map(|line| line[column].len())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let last = heading.len() - 1;
        let print_line = |line: &[&str]| {
            let mut text = String::from("|");
            for (column, (cell, &width)) in line.iter().zip(&widths).enumerate() {
                if column == 0 || column == last {
                    text.push_str(&format!(" {cell:<width$} |"));
                } else {
                    text.push_str(&format!(" {cell:>width$} |"));
                }
            }
            println!("{text}");
        };
        println!();
        print_line(&heading);
        let mut rule = String::from("|");
        for (column, &width) in widths.iter().enumerate() {
            if column == 0 || column == last {
                rule.push_str(&format!("{}|", "-".repeat(width + 2)));
            } else {
                rule.push_str(&format!("{}:|", "-".repeat(width + 1)));
            }
        }
        println!("{rule}");
        for line in &lines {
            print_line(line);
        }
        println!();
    }
}

/// A line of a table: the figure, the values, the target.
fn cells<'a>(figure: &'a str, values: &'a [String], target: &'a str) -> Vec<&'a str> {
    std::iter::once(figure)
        .chain(values.iter().map(String::as_str))
        .chain([target])
        .collect()
}

/// The tables and the charts, filled by the sections that ran.
#[derive(Debug, Default)]
pub struct Report {
    tables: Vec<Table>,
    notes: Vec<String>,
    /// The bars drawn from the v0.2 figures.
    pub chart: Chart,
    /// The bars drawn from the v2 section's figures.
    pub v2_chart: Chart,
}

impl Report {
    /// The table with these column headings (between the figure and the target), added after
    /// the others if no section used it yet.
    pub fn table(&mut self, columns: &[&str]) -> &mut Table {
        let index = match self.tables.iter().position(|t| t.columns == columns) {
            Some(index) => index,
            None => {
                self.tables.push(Table {
                    columns: columns.iter().map(|c| c.to_string()).collect(),
                    rows: Vec::new(),
                });
                self.tables.len() - 1
            }
        };
        &mut self.tables[index]
    }

    /// A line printed under the tables: what did not run, or went wrong.
    pub fn note(&mut self, text: String) {
        self.notes.push(text);
    }

    /// Prints every table, then the notes.
    pub fn print(&self) {
        for table in &self.tables {
            table.print();
        }
        for note in &self.notes {
            println!("{note}");
        }
    }
}
