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
pub trait Chart: Sized {
    /// Pixel size of the PNG (the SVG uses the same user units).
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB::ErrorType>;
    /// The plotted values, as CSV (header first).
    fn data_csv(&self) -> String;
    /// The chart as single-panel pictures for slides (one per panel); by default itself.
    fn slides(&self) -> Vec<Self>
    where
        Self: Clone,
    {
        vec![self.clone()]
    }
}

/// Slide pictures: 16:9, fonts this many times larger than in the report's charts.
pub const SLIDE_SIZE: (u32, u32) = (1280, 720);
const SLIDE_FONT_SCALE: f64 = 1.6;

thread_local! {
    /// Where `render` also writes slides (`--slides`), while a report is built.
    static SLIDES: std::cell::RefCell<Option<PathBuf>> = const { std::cell::RefCell::new(None) };
    /// Font scale of the picture being drawn.
    static FONT_SCALE: std::cell::Cell<f64> = const { std::cell::Cell::new(1.0) };
}

/// Makes `render` also write each chart's slides into `dir` (or stop, with `None`).
pub fn set_slides(dir: Option<PathBuf>) {
    SLIDES.with(|s| *s.borrow_mut() = dir);
}

/// Writes `<stem>-N.png` into the slides folder for each panel of `chart`, when slides are asked for.
fn render_slides(chart: &(impl Chart + Clone), stem: &str) -> Result<()> {
    let Some(dir) = SLIDES.with(|s| s.borrow().clone()) else { return Ok(()) };
    std::fs::create_dir_all(&dir).map_err(|source| Error::WriteOutput { path: dir.clone(), source })?;
    let (w, h) = SLIDE_SIZE;
    let fail = |e: String| Error::Usage(format!("drawing slide `{stem}` failed: {e}"));
    for (k, slide) in chart.slides().iter().enumerate() {
        let mut rgb = vec![0u8; (w * h * 3) as usize];
        FONT_SCALE.with(|f| f.set(SLIDE_FONT_SCALE));
        let drawn = (|| {
            let root = Crisp(BitMapBackend::with_buffer(&mut rgb, (w, h))).into_drawing_area();
            root.fill(&WHITE).map_err(|e| e.to_string())?;
            slide.draw(&root).map_err(|e| e.to_string())?;
            root.present().map_err(|e| e.to_string())
        })();
        FONT_SCALE.with(|f| f.set(1.0));
        drawn.map_err(fail)?;
        write_atomic(&dir.join(format!("{stem}-{}.png", k + 1)), &encode_png(&rgb, w, h).map_err(fail)?)?;
    }
    Ok(())
}

/// Writes `<stem>.png`, `<stem>.svg` and `<stem>.csv` into `dir` (and its slides, when asked for);
/// returns the PNG path.
pub fn render(chart: &(impl Chart + Clone), dir: &Path, stem: &str) -> Result<PathBuf> {
    register_font();
    render_slides(chart, stem)?;
    let (w, h) = chart.size();
    let fail = |e: String| Error::Usage(format!("drawing chart `{stem}` failed: {e}"));

    let mut rgb = vec![0u8; (w * h * 3) as usize];
    {
        let root = Crisp(BitMapBackend::with_buffer(&mut rgb, (w, h))).into_drawing_area();
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

/// How much larger than in the report the picture being drawn sets its text (slides: 1.6).
pub fn scale() -> f64 {
    FONT_SCALE.with(|f| f.get())
}

/// A pixel size that holds text (a label area, a legend row), scaled with the fonts.
pub fn px(v: u32) -> u32 {
    (f64::from(v) * scale()).round() as u32
}

/// Font of a given pixel size in the embedded family.
pub fn font(size: u32) -> TextStyle<'static> {
    let scale = FONT_SCALE.with(|f| f.get());
    (FAMILY, (f64::from(size) * scale).round()).into_font().color(&BLACK)
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
    if a < 1e-9 {
        return "0".into();
    }
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

/// The bitmap backend with its text drawing replaced. Plotters 0.3.7 (`style/font/ab_glyph.rs`) places
/// each glyph at the pen position without the glyph's left side bearing and truncates its vertical
/// offset toward zero, so letters drift apart ("op en innovation", "coeffi cient") and commas and
/// periods sit a pixel off the baseline of the letters beside them. `Crisp` draws the same font with
/// both offsets applied and rounded down; every other drawing call goes to the bitmap backend.
struct Crisp<'a>(BitMapBackend<'a>);

type BackendResult<E> = std::result::Result<(), plotters_backend::DrawingErrorKind<E>>;

fn glyph_font() -> Option<&'static ab_glyph::FontRef<'static>> {
    static PARSED: std::sync::OnceLock<Option<ab_glyph::FontRef<'static>>> = std::sync::OnceLock::new();
    PARSED.get_or_init(|| ab_glyph::FontRef::try_from_slice(FONT).ok()).as_ref()
}

impl<'a> plotters_backend::DrawingBackend for Crisp<'a> {
    type ErrorType = <BitMapBackend<'a> as plotters_backend::DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }
    fn ensure_prepared(&mut self) -> BackendResult<Self::ErrorType> {
        self.0.ensure_prepared()
    }
    fn present(&mut self) -> BackendResult<Self::ErrorType> {
        self.0.present()
    }
    fn draw_pixel(
        &mut self,
        point: plotters_backend::BackendCoord,
        color: plotters_backend::BackendColor,
    ) -> BackendResult<Self::ErrorType> {
        self.0.draw_pixel(point, color)
    }
    fn draw_line<S: plotters_backend::BackendStyle>(
        &mut self,
        from: plotters_backend::BackendCoord,
        to: plotters_backend::BackendCoord,
        style: &S,
    ) -> BackendResult<Self::ErrorType> {
        self.0.draw_line(from, to, style)
    }
    fn draw_rect<S: plotters_backend::BackendStyle>(
        &mut self,
        upper_left: plotters_backend::BackendCoord,
        bottom_right: plotters_backend::BackendCoord,
        style: &S,
        fill: bool,
    ) -> BackendResult<Self::ErrorType> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }
    fn draw_path<S: plotters_backend::BackendStyle, I: IntoIterator<Item = plotters_backend::BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> BackendResult<Self::ErrorType> {
        self.0.draw_path(path, style)
    }
    fn draw_circle<S: plotters_backend::BackendStyle>(
        &mut self,
        center: plotters_backend::BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> BackendResult<Self::ErrorType> {
        self.0.draw_circle(center, radius, style, fill)
    }
    fn fill_polygon<S: plotters_backend::BackendStyle, I: IntoIterator<Item = plotters_backend::BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> BackendResult<Self::ErrorType> {
        self.0.fill_polygon(vert, style)
    }
    fn blit_bitmap(
        &mut self,
        pos: plotters_backend::BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> BackendResult<Self::ErrorType> {
        self.0.blit_bitmap(pos, size, src)
    }

    /// Plotters' default text drawing (anchor, rotation, clipping), with its own glyph loop.
    fn draw_text<T: plotters_backend::BackendTextStyle>(
        &mut self,
        text: &str,
        style: &T,
        pos: plotters_backend::BackendCoord,
    ) -> BackendResult<Self::ErrorType> {
        use ab_glyph::{Font as _, ScaleFont as _};
        use plotters_backend::text_anchor::{HPos, VPos};
        let color = style.color();
        let Some(face) = glyph_font() else { return self.0.draw_text(text, style, pos) };
        if color.alpha == 0.0 {
            return Ok(());
        }
        let ((min_x, min_y), (max_x, max_y)) =
            style.layout_box(text).map_err(|e| plotters_backend::DrawingErrorKind::FontError(Box::new(e)))?;
        let (width, height) = (max_x - min_x, max_y - min_y);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let trans = style.transform();
        let (w, h) = self.get_size();
        let size = style.size() as f32;
        let font = face.as_scaled(size);
        let mut pen = 0f32;
        let mut prev = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(p) = prev {
                pen += font.kern(p, id);
            }
            prev = Some(id);
            if let Some(outline) = font.outline_glyph(font.scaled_glyph(c)) {
                let bounds = outline.px_bounds();
                // The baseline where plotters puts it (half the size below the top), every glyph
                // offset by its own bounds, rounded down alike.
                let (gx, gy) = ((pen + bounds.min.x).floor() as i32, (size / 2.0 + bounds.min.y).floor() as i32);
                let mut pixels = Vec::new();
                outline.draw(|x, y, coverage| pixels.push((x as i32 + gx, y as i32 + gy, coverage)));
                for (x, y, coverage) in pixels {
                    let (x, y) = trans.transform(x + dx - min_x, y + dy - min_y);
                    let (x, y) = (pos.0 + x, pos.1 + y);
                    if x >= 0 && x < w as i32 && y >= 0 && y < h as i32 {
                        let alpha = color.alpha * f64::from(coverage.clamp(0.0, 1.0));
                        self.0.draw_pixel((x, y), plotters_backend::BackendColor { alpha, rgb: color.rgb })?;
                    }
                }
            }
            pen += font.h_advance(id);
        }
        Ok(())
    }
}
