//! Turning a chart into files: PNG (for the HTML report and slides) and SVG (for print), each
//! written atomically, with the chart's plotted data beside them as CSV.
//!
//! Text is drawn with DejaVu Sans compiled into the binary (plotters' `ab_glyph` feature, font
//! registered under the family name "sans-serif"), so charts render on machines without any system
//! font. The palette is Okabe and Ito's (2008), distinguishable under the common colour-vision
//! deficiencies.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::observe::write::write_atomic;

/// DejaVu Sans 2.37 (Bitstream Vera licence, see `font/LICENSE-DejaVu.txt`).
static FONT: &[u8] = include_bytes!("font/DejaVuSans.ttf");

/// The family every chart asks for.
pub const FAMILY: &str = "sans-serif";

/// Okabe-Ito colours, most distinct first (blue, orange, bluish green, vermillion, reddish purple,
/// sky blue, yellow, black).
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(213, 94, 0),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
];

pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Registers the embedded font once per process.
pub fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a TrueType font compiled in. Were they unreadable, drawing text would fail
        // with "font unavailable", reported as a chart error, not a panic.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

pub type DrawResult<E> = std::result::Result<(), DrawingAreaErrorKind<E>>;

/// A chart that can draw itself on any plotters backend and list the data it plots.
pub trait Chart {
    /// Pixel size of the PNG (the SVG uses the same user units).
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB::ErrorType>;
    /// The plotted values, as CSV (header first).
    fn data_csv(&self) -> String;
}

/// Writes `<stem>.png`, `<stem>.svg` and `<stem>.csv` into `dir`; returns the PNG path.
pub fn render(chart: &impl Chart, dir: &Path, stem: &str) -> Result<PathBuf> {
    register_font();
    let (w, h) = chart.size();
    let fail = |e: String| Error::Usage(format!("drawing chart `{stem}` failed: {e}"));

    let mut rgb = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
        chart.draw(&root).map_err(|e| fail(e.to_string()))?;
        root.present().map_err(|e| fail(e.to_string()))?;
    }
    let png_path = dir.join(format!("{stem}.png"));
    write_atomic(&png_path, &encode_png(&rgb, w, h).map_err(fail)?)?;

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
        chart.draw(&root).map_err(|e| fail(e.to_string()))?;
        root.present().map_err(|e| fail(e.to_string()))?;
    }
    write_atomic(&dir.join(format!("{stem}.svg")), svg.as_bytes())?;
    write_atomic(&dir.join(format!("{stem}.csv")), chart.data_csv().as_bytes())?;
    Ok(png_path)
}

fn encode_png(rgb: &[u8], w: u32, h: u32) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(rgb).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

/// Font of a given pixel size in the embedded family.
pub fn font(size: u32) -> TextStyle<'static> {
    (FAMILY, size).into_font().color(&BLACK)
}

/// Range with a little headroom, never empty.
pub fn padded(lo: f64, hi: f64) -> (f64, f64) {
    let (lo, hi) = if lo.is_finite() && hi.is_finite() { (lo, hi) } else { (0.0, 1.0) };
    if hi - lo < 1e-12 {
        let pad = if hi.abs() > 1e-12 { hi.abs() * 0.1 } else { 1.0 };
        return (lo - pad, hi + pad);
    }
    let pad = (hi - lo) * 0.06;
    (lo - pad, hi + pad)
}

/// Grid of (rows, columns) for `n` panels, at most `max_cols` wide.
pub fn grid(n: usize, max_cols: usize) -> (usize, usize) {
    let cols = n.clamp(1, max_cols);
    (n.div_ceil(cols).max(1), cols)
}

/// Short numeric tick label.
pub fn tick(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 100.0 || v == v.round() {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}
