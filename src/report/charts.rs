//! The chart kinds, as plain data plus drawing code. Builders in `data` fill them from output
//! files; `render` writes them. Each chart's `data_csv` lists exactly the values drawn.

use std::fmt::Write as _;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::render::{Chart, DrawResult, colour, font, grid, padded, px, scale, tick};
use crate::format::csv_field as csv;
use crate::format::num;

/// One point of a line: the median (or the single run's value) and optional 50 % and 90 % bands.
#[derive(Debug, Clone, PartialEq)]
pub struct BandPoint {
    pub x: f64,
    pub mid: f64,
    /// (25th, 75th percentile).
    pub band50: Option<(f64, f64)>,
    /// (5th, 95th percentile).
    pub band90: Option<(f64, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Vec<BandPoint>,
    /// Palette index; `None` draws the series in grey (a baseline behind the others).
    pub colour: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    pub title: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// A count (firms, approvals): whole-number ticks only.
    pub integer: bool,
}

/// The grey of a baseline drawn behind coloured variants.
const BASELINE_GREY: RGBColor = RGBColor(110, 110, 110);

fn series_colour(c: Option<usize>) -> RGBColor {
    c.map_or(BASELINE_GREY, colour)
}

/// Height of the legend strip under a chart's title.
const LEGEND_H: u32 = 26;

/// The legend of a chart as one strip under its title, so it never covers data: a short line (or
/// dot) in each series' colour and its label, wrapped into rows; returns the area left below it.
pub fn legend_strip<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    items: &[(String, RGBColor)],
    dots: bool,
) -> Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    if items.len() < 2 {
        return Ok(root.clone());
    }
    let (w, _) = root.dim_in_pixel();
    let k = scale();
    let widths: Vec<i32> =
        items.iter().map(|(label, _)| ((34.0 + 7.0 * label.chars().count() as f64 + 18.0) * k) as i32).collect();
    let row_h = px(LEGEND_H);
    let mut rows = vec![Vec::new()];
    let mut x = 0;
    for (i, width) in widths.iter().enumerate() {
        if x + width > w as i32 - 20 && !rows.last().is_some_and(Vec::is_empty) {
            rows.push(Vec::new());
            x = 0;
        }
        rows.last_mut().expect("a row").push(i);
        x += width;
    }
    let height = row_h * rows.len() as u32;
    let (strip, rest) = root.split_vertically(height);
    for (r, row) in rows.iter().enumerate() {
        let total: i32 = row.iter().map(|&i| widths[i]).sum();
        let mut x = (w as i32 - total) / 2;
        let y = r as i32 * row_h as i32 + row_h as i32 / 2;
        for &i in row {
            let (label, c) = &items[i];
            let at = |v: u32| x + px(v) as i32;
            if dots {
                strip.draw(&Circle::new((at(14), y), px(5), c.filled()))?;
            } else {
                strip.draw(&PathElement::new(vec![(at(4), y), (at(26), y)], c.stroke_width(px(3))))?;
            }
            let style = font(13).pos(Pos::new(HPos::Left, VPos::Center));
            strip.draw(&Text::new(label.clone(), (at(32), y), style))?;
            x += widths[i];
        }
    }
    Ok(rest)
}

/// The chart's title in a font that fits its width (22 px at most).
pub fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    let (w, _) = root.dim_in_pixel();
    // DejaVu Sans averages about 0.55 em per character.
    let fits = ((w as f64 - 24.0) / (0.55 * title.chars().count().max(1) as f64)).floor() as u32;
    root.titled(title, font(((f64::from(fits) / scale()).floor() as u32).clamp(12, 22)))
}

/// How a [`BandChart`] shows its bands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Style {
    /// Shaded 90 % and 50 % bands around a median line (x continuous: years).
    Bands,
    /// A dot per point with 90 % (thin) and 50 % (thick) bars; medians joined when `connect`.
    Markers { connect: bool },
}

/// Small multiples of lines with bands over a numeric x (years, or a swept parameter): fan charts,
/// single-run time series, sweep charts.
#[derive(Debug, Clone, PartialEq)]
pub struct BandChart {
    pub title: String,
    pub x_label: String,
    pub panels: Vec<Panel>,
    /// Years on the x axis (integer ticks) rather than a parameter.
    pub x_is_year: bool,
    pub style: Style,
}

impl BandChart {
    /// Four panels read best as 2 x 2, others in rows of three.
    fn max_cols(&self) -> usize {
        if self.panels.len() == 4 { 2 } else { 3 }
    }

    /// Every series label with its colour, in order of first appearance.
    fn legend(&self) -> Vec<(String, RGBColor)> {
        let mut items: Vec<(String, RGBColor)> = Vec::new();
        for s in self.panels.iter().flat_map(|p| &p.series) {
            if !items.iter().any(|(l, _)| l == &s.label) {
                items.push((s.label.clone(), series_colour(s.colour)));
            }
        }
        items
    }

    /// Rows the legend strip takes (0 without a legend), for the chart's height.
    fn legend_rows(&self) -> u32 {
        let items = self.legend();
        if items.len() < 2 {
            return 0;
        }
        let (_, cols) = grid(self.panels.len(), self.max_cols());
        let width = PANEL_W as i32 * cols as i32 - 20;
        let (mut rows, mut x) = (1, 0);
        for (label, _) in &items {
            let w = 34 + 7 * label.chars().count() as i32 + 18;
            if x + w > width && x > 0 {
                rows += 1;
                x = 0;
            }
            x += w;
        }
        rows
    }
}

const PANEL_W: u32 = 430;
const PANEL_H: u32 = 330;
const TITLE_H: u32 = 40;

impl Chart for BandChart {
    fn size(&self) -> (u32, u32) {
        let (rows, cols) = grid(self.panels.len(), self.max_cols());
        (PANEL_W * cols as u32, PANEL_H * rows as u32 + TITLE_H + LEGEND_H * self.legend_rows())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB::ErrorType> {
        let root = titled(root, &self.title)?;
        let root = legend_strip(&root, &self.legend(), matches!(self.style, Style::Markers { connect: false }))?;
        let (rows, cols) = grid(self.panels.len(), self.max_cols());
        let areas = root.split_evenly((rows, cols));
        for (panel, area) in self.panels.iter().zip(&areas) {
            let points = || panel.series.iter().flat_map(|s| &s.points);
            let (x0, x1) = points().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.x), b.max(p.x)));
            let (y0, y1) = points().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
                let lo = p.band90.map_or(p.mid, |b| b.0).min(p.band50.map_or(p.mid, |b| b.0)).min(p.mid);
                let hi = p.band90.map_or(p.mid, |b| b.1).max(p.band50.map_or(p.mid, |b| b.1)).max(p.mid);
                (a.min(lo), b.max(hi))
            });
            let (x0, x1) = if x1 > x0 && self.style == Style::Bands { (x0, x1) } else { padded(x0, x1) };
            let (y0, y1) = if panel.integer { padded(y0.min(0.0), y1.max(3.0)) } else { padded(y0.min(0.0), y1) };
            let integer = panel.integer;
            // Whole numbers only for counts: at most six labels, never a fraction.
            let y_labels = if integer { ((y1 - y0).floor() as usize + 1).clamp(2, 6) } else { 6 };
            let mut chart = ChartBuilder::on(area)
                .caption(&panel.title, font(16))
                .margin(8)
                .margin_right(16)
                .x_label_area_size(px(38))
                .y_label_area_size(px(58))
                .build_cartesian_2d(x0..x1, y0..y1)?;
            let x_is_year = self.x_is_year;
            chart
                .configure_mesh()
                .x_desc(&self.x_label)
                .y_desc(&panel.y_label)
                .x_labels(6)
                .y_labels(y_labels)
                .x_label_formatter(&|v| if x_is_year { format!("{:.0}", v) } else { tick(*v) })
                .y_label_formatter(&|v| if integer && (v - v.round()).abs() > 1e-9 { String::new() } else { tick(*v) })
                .label_style(font(13))
                .axis_desc_style(font(14))
                .light_line_style(WHITE.mix(0.0))
                .draw()?;
            for series in &panel.series {
                let c = series_colour(series.colour);
                match self.style {
                    Style::Bands => {
                        for (wide, alpha) in [(true, 0.15), (false, 0.30)] {
                            let band = |p: &BandPoint| if wide { p.band90 } else { p.band50 };
                            let lows: Vec<(f64, f64)> =
                                series.points.iter().filter_map(|p| band(p).map(|b| (p.x, b.0))).collect();
                            let highs: Vec<(f64, f64)> =
                                series.points.iter().filter_map(|p| band(p).map(|b| (p.x, b.1))).collect();
                            if lows.len() >= 2 {
                                let polygon: Vec<(f64, f64)> =
                                    lows.into_iter().chain(highs.into_iter().rev()).collect();
                                chart.draw_series(std::iter::once(Polygon::new(polygon, c.mix(alpha).filled())))?;
                            }
                        }
                    }
                    Style::Markers { .. } => {
                        for p in &series.points {
                            for (band, width) in [(p.band90, 1), (p.band50, 4)] {
                                if let Some((lo, hi)) = band {
                                    chart.draw_series(std::iter::once(PathElement::new(
                                        vec![(p.x, lo), (p.x, hi)],
                                        c.mix(0.8).stroke_width(width),
                                    )))?;
                                }
                            }
                        }
                    }
                }
            }
            for series in &panel.series {
                let c = series_colour(series.colour);
                let joined = !matches!(self.style, Style::Markers { connect: false });
                let line: Vec<(f64, f64)> =
                    if joined { series.points.iter().map(|p| (p.x, p.mid)).collect() } else { Vec::new() };
                if series.points.len() == 1 || matches!(self.style, Style::Markers { .. }) {
                    chart.draw_series(series.points.iter().map(|p| Circle::new((p.x, p.mid), 4, c.filled())))?;
                }
                chart.draw_series(LineSeries::new(line, c.stroke_width(2)))?;
            }
        }
        Ok(())
    }

    fn slides(&self) -> Vec<Self> {
        self.panels
            .iter()
            .map(|p| BandChart {
                title: format!("{}: {}", self.title, p.title),
                panels: vec![p.clone()],
                ..self.clone()
            })
            .collect()
    }

    fn data_csv(&self) -> String {
        let mut out = format!("panel,series,{},mid,q25,q75,q05,q95\n", if self.x_is_year { "year" } else { "x" });
        for panel in &self.panels {
            for s in &panel.series {
                for p in &s.points {
                    let b = |b: Option<(f64, f64)>| b.map_or((String::new(), String::new()), |(l, h)| (num(l), num(h)));
                    let ((a, b2), (c, d)) = (b(p.band50), b(p.band90));
                    let _ = writeln!(
                        out,
                        "{},{},{},{},{a},{b2},{c},{d}",
                        csv(&panel.title),
                        csv(&s.label),
                        num(p.x),
                        num(p.mid)
                    );
                }
            }
        }
        out
    }
}

/// A reference the estimate is compared with (a calibration target, the model's causal effect), drawn
/// as a wide grey bar behind the estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// Target estimate and its 95 % interval, when the targets file gives them.
    pub interval: Option<(f64, f64, f64)>,
    /// What the reference says, e.g. "target +, significant".
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ForestRow {
    pub label: String,
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
    /// Note shown under the row's label (e.g. t and n, a sign-match rate).
    pub note: String,
    pub reference: Option<Reference>,
    /// What the study found for this row (e.g. "study: +, significant"), shown above its bar.
    pub finding: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ForestPanel {
    pub title: String,
    pub rows: Vec<ForestRow>,
}

/// Estimates with intervals, one row each, in panels, with a zero line: policy effects, survey
/// coefficients, calibration fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Forest {
    pub title: String,
    pub x_label: String,
    pub panels: Vec<ForestPanel>,
    pub max_cols: usize,
    /// One x scale for every panel (the same quantity in each), so panels compare at a glance.
    pub shared_x: bool,
}

impl Forest {
    /// The x range of a set of rows: estimates, intervals and reference intervals, with zero.
    fn range<'a>(rows: impl Iterator<Item = &'a ForestRow>) -> (f64, f64) {
        let (mut lo, mut hi) = (0.0f64, 0.0f64);
        for r in rows {
            lo = lo.min(r.low).min(r.estimate);
            hi = hi.max(r.high).max(r.estimate);
            if let Some((_, l, h)) = r.reference.as_ref().and_then(|r| r.interval) {
                lo = lo.min(l);
                hi = hi.max(h);
            }
        }
        padded(lo, hi)
    }
}

impl Chart for Forest {
    fn size(&self) -> (u32, u32) {
        let (rows, cols) = grid(self.panels.len(), self.max_cols);
        let n = self.panels.iter().map(|p| p.rows.len()).max().unwrap_or(1) as u32;
        (560 * cols as u32, (90 + 42 * n) * rows as u32 + TITLE_H)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB::ErrorType> {
        let root = titled(root, &self.title)?;
        let (rows, cols) = grid(self.panels.len(), self.max_cols);
        let areas = root.split_evenly((rows, cols));
        // Labels (13 px) and the notes under them (11 px) share the label area.
        let label_px = self
            .panels
            .iter()
            .flat_map(|p| &p.rows)
            .map(|r| (r.label.chars().count() * 7).max(r.note.chars().count() * 6))
            .max()
            .unwrap_or(56) as u32;
        let shared = Self::range(self.panels.iter().flat_map(|p| &p.rows));
        for (panel, area) in self.panels.iter().zip(&areas) {
            let n = panel.rows.len() as i32;
            let (lo, hi) = if self.shared_x { shared } else { Self::range(panel.rows.iter()) };
            let labels: Vec<String> = panel.rows.iter().map(|r| r.label.clone()).collect();
            let mut chart = ChartBuilder::on(area)
                .caption(&panel.title, font(16))
                .margin(8)
                .margin_right(20)
                .x_label_area_size(px(38))
                .y_label_area_size(px((label_px + 16).clamp(60, 260)))
                .build_cartesian_2d(lo..hi, -1..n)?;
            chart
                .configure_mesh()
                .x_desc(&self.x_label)
                .x_labels(6)
                .y_labels((n + 2) as usize)
                .x_label_formatter(&|v| tick(*v))
                .y_label_formatter(&|y| {
                    let i = n - 1 - *y;
                    if (0..n).contains(&i) { labels[i as usize].clone() } else { String::new() }
                })
                .label_style(font(13))
                .axis_desc_style(font(14))
                .light_line_style(WHITE.mix(0.0))
                .draw()?;
            chart.draw_series(std::iter::once(PathElement::new(vec![(0.0, -1), (0.0, n)], BLACK.mix(0.5))))?;
            for (i, r) in panel.rows.iter().enumerate() {
                let y = n - 1 - i as i32;
                if let Some(reference) = &r.reference {
                    let grey = RGBColor(120, 120, 120);
                    if let Some((e, l, h)) = reference.interval {
                        chart.draw_series(std::iter::once(ErrorBar::new_horizontal(
                            y,
                            l,
                            e,
                            h,
                            grey.mix(0.35).stroke_width(6),
                            0,
                        )))?;
                    }
                }
                let c = colour(0);
                chart.draw_series(std::iter::once(ErrorBar::new_horizontal(
                    y,
                    r.low,
                    r.estimate,
                    r.high,
                    c.stroke_width(2),
                    10,
                )))?;
                chart.draw_series(std::iter::once(Circle::new((r.estimate, y), 5, c.filled())))?;
                let grey = BLACK.mix(0.75);
                // Under the label, in the label area: clear of the bars and of the zero line.
                if !r.note.is_empty() {
                    let (px, py) = chart.backend_coord(&(lo, y));
                    let base = area.get_base_pixel();
                    let style = font(11).color(&grey).pos(Pos::new(HPos::Right, VPos::Top));
                    area.draw(&Text::new(r.note.clone(), (px - base.0 - 8, py - base.1 + 9), style))?;
                }
                // Above the bar at the right: the study's finding; below it: the reference's text.
                let right = |text: &str, up: bool| {
                    let style =
                        font(11).color(&grey).pos(Pos::new(HPos::Right, if up { VPos::Bottom } else { VPos::Top }));
                    EmptyElement::at((hi, y)) + Text::new(text.to_string(), (-4, if up { -7 } else { 7 }), style)
                };
                if let Some(finding) = &r.finding {
                    chart.draw_series(std::iter::once(right(finding, true)))?;
                }
                if let Some(reference) = r.reference.as_ref().filter(|x| !x.text.is_empty()) {
                    chart.draw_series(std::iter::once(right(&reference.text, false)))?;
                }
            }
        }
        Ok(())
    }

    fn slides(&self) -> Vec<Self> {
        self.panels
            .iter()
            .map(|p| Forest { title: self.title.clone(), panels: vec![p.clone()], max_cols: 1, ..self.clone() })
            .collect()
    }

    fn data_csv(&self) -> String {
        let mut out = String::from(
            "panel,row,estimate,low,high,note,finding,reference,reference_estimate,reference_low,reference_high\n",
        );
        for panel in &self.panels {
            for r in &panel.rows {
                let (text, e, l, h) = match &r.reference {
                    Some(rf) => match rf.interval {
                        Some((e, l, h)) => (rf.text.clone(), num(e), num(l), num(h)),
                        None => (rf.text.clone(), String::new(), String::new(), String::new()),
                    },
                    None => Default::default(),
                };
                let _ = writeln!(
                    out,
                    "{},{},{},{},{},{},{},{},{e},{l},{h}",
                    csv(&panel.title),
                    csv(&r.label),
                    num(r.estimate),
                    num(r.low),
                    num(r.high),
                    csv(&r.note),
                    csv(r.finding.as_deref().unwrap_or_default()),
                    csv(&text)
                );
            }
        }
        out
    }
}

/// Complementary cumulative degree distributions, log-log.
#[derive(Debug, Clone, PartialEq)]
pub struct Degrees {
    pub title: String,
    /// (label, [(degree k >= 1, share of nodes with degree >= k)]).
    pub series: Vec<(String, Vec<(f64, f64)>)>,
}

impl Degrees {
    /// Kinds of actors in greys (colours mean clusters in a run's report).
    fn shade(i: usize) -> RGBColor {
        [RGBColor(30, 30, 30), RGBColor(150, 150, 150), RGBColor(90, 90, 90)][i % 3]
    }
}

impl Chart for Degrees {
    fn size(&self) -> (u32, u32) {
        (720, 520 + LEGEND_H)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB::ErrorType> {
        let kmax = self.series.iter().flat_map(|s| &s.1).map(|p| p.0).fold(1.0, f64::max);
        let pmin = self.series.iter().flat_map(|s| &s.1).map(|p| p.1).fold(1.0, f64::min);
        let root = titled(root, &self.title)?;
        let items: Vec<(String, RGBColor)> =
            self.series.iter().enumerate().map(|(i, s)| (s.0.clone(), Self::shade(i))).collect();
        let root = legend_strip(&root, &items, true)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(14)
            .x_label_area_size(px(44))
            .y_label_area_size(px(70))
            .build_cartesian_2d((1.0..kmax * 1.3).log_scale(), (pmin * 0.7..1.05).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("degree k (active alliances), log scale")
            .y_desc("share of actors with degree >= k, log scale")
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| format!("{v:.2}"))
            .label_style(font(13))
            .axis_desc_style(font(14))
            .draw()?;
        for (i, (_, points)) in self.series.iter().enumerate() {
            let c = Self::shade(i);
            chart.draw_series(LineSeries::new(points.iter().copied(), c.stroke_width(2)))?;
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, c.filled())))?;
        }
        Ok(())
    }

    fn data_csv(&self) -> String {
        let mut out = String::from("series,k,share_at_least_k\n");
        for (label, points) in &self.series {
            for (k, p) in points {
                let _ = writeln!(out, "{},{},{}", csv(label), num(*k), num(*p));
            }
        }
        out
    }
}

/// Bars in panels: one value per label (clusters, fates), the same label in the same colour in
/// every panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Bars {
    pub title: String,
    pub panels: Vec<BarPanel>,
    /// Labels in palette order, for bars coloured by label (clusters keep their colour in every
    /// chart of a report).
    pub palette: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BarPanel {
    pub title: String,
    pub y_label: String,
    pub bars: Vec<(String, f64)>,
    /// How the panel's bars are coloured.
    pub colour: BarColour,
}

/// Bars coloured by their label (a label in one colour in every panel), all in one palette colour
/// (the panel's cluster), or grey (a total).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BarColour {
    ByLabel,
    Palette(usize),
    Grey,
}

impl Bars {
    /// Wide enough for every bar's label under it.
    fn panel_width(&self) -> u32 {
        let n = self.panels.iter().map(|p| p.bars.len()).max().unwrap_or(1) as u32;
        let longest = self.panels.iter().flat_map(|p| &p.bars).map(|b| b.0.chars().count()).max().unwrap_or(4) as u32;
        (80 + n * (7 * longest + 18).max(70)).max(380)
    }
    fn max_cols(&self) -> usize {
        if self.panel_width() * 3 > 1800 { 2 } else { 3 }
    }
    /// Columns that leave no empty panel: the most (up to one more than `max_cols`, and at most
    /// 1,800 px wide) that divide the panels (8 narrow panels: 2 x 4; 3 wide ones: 3 x 1).
    fn cols(&self) -> usize {
        let n = self.panels.len().max(1);
        let fits = |c: usize| c as u32 * self.panel_width() <= 1800;
        (1..=(self.max_cols() + 1).min(n)).rev().find(|&c| n.is_multiple_of(c) && fits(c)).unwrap_or(1)
    }
}

impl Chart for Bars {
    fn size(&self) -> (u32, u32) {
        let (rows, cols) = grid(self.panels.len(), self.cols());
        (self.panel_width() * cols as u32, 360 * rows as u32 + TITLE_H)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB::ErrorType> {
        let root = titled(root, &self.title)?;
        let (rows, cols) = grid(self.panels.len(), self.cols());
        let areas = root.split_evenly((rows, cols));
        for (panel, area) in self.panels.iter().zip(&areas) {
            let n = panel.bars.len() as i32;
            let hi = panel.bars.iter().map(|b| b.1).fold(0.0, f64::max);
            let lo = panel.bars.iter().map(|b| b.1).fold(0.0, f64::min);
            let (_, hi) = padded(lo, hi);
            let names: Vec<String> = panel.bars.iter().map(|b| b.0.clone()).collect();
            let mut chart = ChartBuilder::on(area)
                .caption(&panel.title, font(16))
                .margin(8)
                .margin_right(16)
                .x_label_area_size(px(70))
                .y_label_area_size(px(58))
                // An integer range a..b has b - a + 1 segments.
                .build_cartesian_2d((0..n - 1).into_segmented(), lo.min(0.0)..hi)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .y_desc(&panel.y_label)
                .y_labels(6)
                .y_label_formatter(&|v| tick(*v))
                .x_labels(names.len() + 1)
                .x_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i) => names.get(*i as usize).cloned().unwrap_or_default(),
                    _ => String::new(),
                })
                .label_style(font(12))
                .axis_desc_style(font(14))
                .draw()?;
            for (i, (label, value)) in panel.bars.iter().enumerate() {
                let c = match panel.colour {
                    // A label outside the palette (a baseline) is grey.
                    BarColour::ByLabel => self.palette.iter().position(|l| l == label).map_or(BASELINE_GREY, colour),
                    BarColour::Palette(k) => colour(k),
                    BarColour::Grey => BASELINE_GREY,
                };
                let i = i as i32;
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(SegmentValue::Exact(i), 0.0), (SegmentValue::Exact(i + 1), *value)],
                    c.mix(0.85).filled(),
                )))?;
                let text = EmptyElement::at((SegmentValue::CenterOf(i), *value))
                    + Text::new(tick(*value), (-10, -16), font(12));
                chart.draw_series(std::iter::once(text))?;
            }
        }
        Ok(())
    }

    fn slides(&self) -> Vec<Self> {
        self.panels.iter().map(|p| Bars { panels: vec![p.clone()], ..self.clone() }).collect()
    }

    fn data_csv(&self) -> String {
        let mut out = String::from("panel,bar,value\n");
        for p in &self.panels {
            for (label, v) in &p.bars {
                let _ = writeln!(out, "{},{},{}", csv(&p.title), csv(label), num(*v));
            }
        }
        out
    }
}

/// A scatter panel: its title and its (label, x, y) points.
pub type ScatterPanel = (String, Vec<(String, f64, f64)>);

/// Labelled points in panels: a Morris screen's mu* against sigma, one point per parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Scatter {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub panels: Vec<ScatterPanel>,
}

impl Scatter {
    /// Two panels a row, three when there are three (no empty panel).
    fn cols(&self) -> usize {
        if self.panels.len() == 3 { 3 } else { 2 }
    }
}

impl Chart for Scatter {
    fn size(&self) -> (u32, u32) {
        let (rows, cols) = grid(self.panels.len(), self.cols());
        (620 * cols as u32, 460 * rows as u32 + TITLE_H)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB::ErrorType> {
        let root = titled(root, &self.title)?;
        let (rows, cols) = grid(self.panels.len(), self.cols());
        let areas = root.split_evenly((rows, cols));
        for ((title, points), area) in self.panels.iter().zip(&areas) {
            let (x1, y1) = points.iter().fold((0.0f64, 0.0f64), |(a, b), p| (a.max(p.1), b.max(p.2)));
            // Room on the right for the labels of the rightmost points.
            let (_, x1) = padded(0.0, x1 * 1.6);
            let (_, y1) = padded(0.0, y1);
            let mut chart = ChartBuilder::on(area)
                .caption(title, font(16))
                .margin(8)
                .margin_right(16)
                .x_label_area_size(px(38))
                .y_label_area_size(px(58))
                .build_cartesian_2d(0.0..x1, 0.0..y1)?;
            chart
                .configure_mesh()
                .x_desc(&self.x_label)
                .y_desc(&self.y_label)
                .x_labels(6)
                .y_labels(6)
                .x_label_formatter(&|v| tick(*v))
                .y_label_formatter(&|v| tick(*v))
                .label_style(font(13))
                .axis_desc_style(font(14))
                .light_line_style(WHITE.mix(0.0))
                .draw()?;
            // The diagonal sigma = mu*: above it, effects depend strongly on the other parameters.
            let d = x1.min(y1);
            chart.draw_series(std::iter::once(PathElement::new(vec![(0.0, 0.0), (d, d)], BLACK.mix(0.3))))?;
            let ink = BLACK.mix(0.8);
            for (label, x, y) in points {
                chart.draw_series(std::iter::once(Circle::new((*x, *y), 5, colour(0).filled())))?;
                let style = font(11).color(&ink).pos(Pos::new(HPos::Left, VPos::Center));
                let text = EmptyElement::at((*x, *y)) + Text::new(label.clone(), (8, 0), style);
                chart.draw_series(std::iter::once(text))?;
            }
        }
        Ok(())
    }

    fn data_csv(&self) -> String {
        let mut out = String::from("panel,label,x,y\n");
        for (title, points) in &self.panels {
            for (label, x, y) in points {
                let _ = writeln!(out, "{},{},{},{}", csv(title), csv(label), num(*x), num(*y));
            }
        }
        out
    }

    fn slides(&self) -> Vec<Self> {
        self.panels.iter().map(|p| Scatter { panels: vec![p.clone()], ..self.clone() }).collect()
    }
}
