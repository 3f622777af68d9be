//! The alliance network picture: actors grouped by cluster, coloured by kind, sized by degree;
//! ties coloured by survey category. The layout is deterministic (no random draws): clusters sit
//! on a circle; in each, partners (universities, pharma, investors) form an inner ring, allied firms
//! a middle ring ordered by the angle of their partners (fewer crossings), firms without ties an
//! outer ring.

use std::f64::consts::TAU;
use std::fmt::Write as _;

use plotters::coord::Shift;
use plotters::prelude::*;

use plotters::element::DashedPathElement;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::render::{Chart, DrawResult, colour, font};
use crate::format::csv_field as csv;
use crate::format::num;

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub id: u32,
    pub kind: String,
    pub cluster: String,
    pub degree: u32,
    pub x: f64,
    pub y: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NetworkPicture {
    pub title: String,
    pub nodes: Vec<Node>,
    /// (index into nodes, index into nodes, technological?).
    pub edges: Vec<(usize, usize, bool)>,
    /// (cluster name with its type, label position).
    pub clusters: Vec<(String, f64, f64)>,
}

impl NetworkPicture {
    /// The drawn extent (nodes and cluster labels) with a margin: the picture crops to it.
    fn extent(&self) -> ((f64, f64), (f64, f64)) {
        let xs = self.nodes.iter().map(|n| n.x).chain(self.clusters.iter().map(|c| c.1));
        let ys = self.nodes.iter().map(|n| n.y).chain(self.clusters.iter().map(|c| c.2));
        let span = |v: &mut dyn Iterator<Item = f64>| {
            v.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)))
        };
        let (x0, x1) = span(&mut xs.into_iter());
        let (y0, y1) = span(&mut ys.into_iter());
        if !(x0.is_finite() && y0.is_finite()) {
            return ((-1.0, 1.0), (-1.0, 1.0));
        }
        ((x0 - 0.08, x1 + 0.08), (y0 - 0.06, y1 + 0.06))
    }
}

/// Each kind of actor and its shape. Colour is the actor's cluster, as in every chart of a run's
/// report, so a colour never means two things.
pub const KINDS: [(&str, &str, Shape); 4] = [
    ("firm", "firm", Shape::Circle),
    ("university", "university / institute", Shape::Square),
    ("pharma", "pharma partner", Shape::Triangle),
    ("investor", "investor", Shape::Diamond),
];

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    Circle,
    Square,
    Triangle,
    Diamond,
}

/// Ties are drawn by one rule for both kinds (1 px, the same opacity), told apart by colour and dash.
const TECH: RGBColor = RGBColor(40, 40, 40);
const NONTECH: RGBColor = RGBColor(120, 120, 120);

fn kind_shape(kind: &str) -> Shape {
    KINDS.iter().find(|k| k.0 == kind).map_or(Shape::Circle, |k| k.2)
}

/// The outline of a marker of `shape` with radius `r`, in pixels around its centre.
fn outline(shape: Shape, r: i32) -> Vec<(i32, i32)> {
    match shape {
        Shape::Circle => (0..16)
            .map(|k| {
                let a = TAU * f64::from(k) / 16.0;
                ((f64::from(r) * a.cos()).round() as i32, (f64::from(r) * a.sin()).round() as i32)
            })
            .collect(),
        Shape::Square => {
            let s = (f64::from(r) * 0.9).round() as i32;
            vec![(-s, -s), (s, -s), (s, s), (-s, s)]
        }
        Shape::Triangle => vec![(0, -r - 1), (r + 1, r), (-r - 1, r)],
        Shape::Diamond => vec![(0, -r - 1), (r + 1, 0), (0, r + 1), (-r - 1, 0)],
    }
}

/// The closed border of a marker (its outline with the first point again).
fn closed(shape: Shape, r: i32) -> Vec<(i32, i32)> {
    let mut points = outline(shape, r);
    points.push(points[0]);
    points
}

impl NetworkPicture {
    /// Lays out `nodes` (id, kind, cluster, degree) and `edges` (id, id, tech) of one year;
    /// `cluster_order` fixes where each cluster sits.
    pub fn layout(
        title: String,
        cluster_order: &[String],
        cluster_types: &[String],
        nodes: &[(u32, String, String, u32)],
        edges: &[(u32, u32, bool)],
    ) -> NetworkPicture {
        let k = cluster_order.len().max(1);
        // Two clusters side by side; more around a circle starting at the top.
        let orbit = if k == 2 { 0.55 } else { 0.6 };
        let angle = |c: usize| (if k == 2 { std::f64::consts::PI } else { TAU / 4.0 }) + TAU * c as f64 / k as f64;
        let centre = |c: usize| -> (f64, f64) {
            if k == 1 { (0.0, 0.0) } else { (orbit * angle(c).cos(), orbit * angle(c).sin()) }
        };
        // Ring radius: neighbouring clusters must not overlap.
        let scale = match k {
            1 => 0.9,
            2 => 0.44,
            _ => (0.8 * orbit * (std::f64::consts::PI / k as f64).sin()).min(0.36),
        };
        let index_of = |id: u32| nodes.binary_search_by_key(&id, |n| n.0).ok();
        let mut pos = vec![(0.0, 0.0); nodes.len()];
        let mut clusters = Vec::new();
        for (c, name) in cluster_order.iter().enumerate() {
            let (cx, cy) = centre(c);
            let members: Vec<usize> = (0..nodes.len()).filter(|&i| &nodes[i].2 == name).collect();
            let partners: Vec<usize> = members.iter().copied().filter(|&i| nodes[i].1 != "firm").collect();
            let ring = |items: &[usize], radius: f64, pos: &mut Vec<(f64, f64)>, angles: &mut Vec<f64>| {
                for (j, &i) in items.iter().enumerate() {
                    let a = TAU * (j as f64 + 0.5) / items.len() as f64;
                    angles[i] = a;
                    pos[i] = (cx + scale * radius * a.cos(), cy + scale * radius * a.sin());
                }
            };
            let mut angles = vec![0.0; nodes.len()];
            ring(&partners, 0.35, &mut pos, &mut angles);
            // Allied firms ordered by the circular mean angle of their partners in this cluster.
            let mut allied: Vec<(f64, usize)> = Vec::new();
            let mut isolated = Vec::new();
            for &i in members.iter().filter(|&&i| nodes[i].1 == "firm") {
                let (mut sx, mut sy, mut m) = (0.0, 0.0, 0);
                for &(a, b, _) in edges {
                    let other = if a == nodes[i].0 {
                        b
                    } else if b == nodes[i].0 {
                        a
                    } else {
                        continue;
                    };
                    if let Some(j) = index_of(other).filter(|j| partners.contains(j)) {
                        sx += angles[j].cos();
                        sy += angles[j].sin();
                        m += 1;
                    }
                }
                if nodes[i].3 == 0 {
                    isolated.push(i);
                } else {
                    let key = if m > 0 { sy.atan2(sx).rem_euclid(TAU) } else { TAU + f64::from(nodes[i].0) };
                    allied.push((key, i));
                }
            }
            allied.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let allied: Vec<usize> = allied.into_iter().map(|a| a.1).collect();
            ring(&allied, 0.72, &mut pos, &mut angles);
            ring(&isolated, 1.0, &mut pos, &mut angles);
            let label = cluster_types.get(c).map_or(name.clone(), |t| format!("{name} ({t})"));
            clusters.push((label, cx, cy + scale * 1.12));
        }
        let nodes_out = nodes
            .iter()
            .zip(&pos)
            .map(|(n, &(x, y))| Node { id: n.0, kind: n.1.clone(), cluster: n.2.clone(), degree: n.3, x, y })
            .collect();
        let edges_out = edges.iter().filter_map(|&(a, b, tech)| Some((index_of(a)?, index_of(b)?, tech))).collect();
        NetworkPicture { title, nodes: nodes_out, edges: edges_out, clusters }
    }
}

impl Chart for NetworkPicture {
    fn size(&self) -> (u32, u32) {
        // 1,000 px wide; as tall as the clusters need, plus title and legend.
        let ((x0, x1), (y0, y1)) = self.extent();
        let h = (900.0 * (y1 - y0) / (x1 - x0)).clamp(300.0, 1100.0) as u32;
        (1000, h + 40 + 2 * 26)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB::ErrorType> {
        let root = super::charts::titled(root, &self.title)?;
        let kinds: Vec<(String, RGBColor)> = KINDS.iter().map(|k| (k.1.to_string(), RGBColor(90, 90, 90))).collect();
        let strip = |root: &DrawingArea<DB, Shift>| root.split_vertically(26);
        // Legend: the shapes, then the ties and what size means, each in a strip above the picture.
        let (shapes, rest) = strip(&root);
        let (ties, picture) = strip(&rest);
        let (w, _) = shapes.dim_in_pixel();
        let mut x = (w as i32 - kinds.iter().map(|(l, _)| 50 + 7 * l.chars().count() as i32).sum::<i32>()) / 2;
        for (k, (label, c)) in KINDS.iter().zip(&kinds) {
            let at = (x + 12, 13);
            shapes.draw(&(EmptyElement::at(at) + Polygon::new(outline(k.2, 6), c.filled())))?;
            shapes.draw(&(EmptyElement::at(at) + PathElement::new(closed(k.2, 6), BLACK.mix(0.6).stroke_width(1))))?;
            let style = font(13).pos(Pos::new(HPos::Left, VPos::Center));
            shapes.draw(&Text::new(label.clone(), (x + 26, 13), style))?;
            x += 50 + 7 * label.chars().count() as i32;
        }
        let items = ["technological tie", "non-technological tie (dashed)", "colour: cluster; size: active alliances"];
        let mut x = (w as i32 - items.iter().map(|l| 50 + 7 * l.chars().count() as i32).sum::<i32>()) / 2;
        for (i, label) in items.iter().enumerate() {
            match i {
                0 => ties.draw(&PathElement::new(vec![(x, 13), (x + 24, 13)], TECH.mix(0.8).stroke_width(2)))?,
                1 => ties.draw(&DashedPathElement::new(vec![(x, 13), (x + 24, 13)], 5, 3, NONTECH.stroke_width(2)))?,
                _ => {}
            }
            let style = font(13).pos(Pos::new(HPos::Left, VPos::Center));
            ties.draw(&Text::new(label.to_string(), (x + if i < 2 { 30 } else { 0 }, 13), style))?;
            x += 50 + 7 * label.chars().count() as i32;
        }
        let ((x0, x1), (y0, y1)) = self.extent();
        let mut chart = ChartBuilder::on(&picture).margin(6).build_cartesian_2d(x0..x1, y0..y1)?;
        for &(a, b, tech) in &self.edges {
            let (p, q) = (&self.nodes[a], &self.nodes[b]);
            let line = vec![(p.x, p.y), (q.x, q.y)];
            if tech {
                chart.draw_series(std::iter::once(PathElement::new(line, TECH.mix(0.45).stroke_width(1))))?;
            } else {
                chart.draw_series(std::iter::once(DashedPathElement::new(
                    line,
                    5,
                    3,
                    NONTECH.mix(0.45).stroke_width(1),
                )))?;
            }
        }
        let cluster_index = |name: &str| self.clusters.iter().position(|c| c.0.split(' ').next() == Some(name));
        for n in &self.nodes {
            let r = 3 + (2.2 * f64::from(n.degree).sqrt()).round() as i32;
            let c = cluster_index(&n.cluster).map_or(RGBColor(120, 120, 120), colour);
            let shape = kind_shape(&n.kind);
            let at = (n.x, n.y);
            let fill = Polygon::new(outline(shape, r), c.mix(0.9).filled());
            chart.draw_series(std::iter::once(EmptyElement::at(at) + fill))?;
            let edge = PathElement::new(closed(shape, r), BLACK.mix(0.6).stroke_width(1));
            chart.draw_series(std::iter::once(EmptyElement::at(at) + edge))?;
        }
        for (name, x, y) in &self.clusters {
            let style = font(17).pos(Pos::new(HPos::Center, VPos::Center));
            chart.draw_series(std::iter::once(Text::new(name.clone(), (*x, *y), style)))?;
        }
        Ok(())
    }

    fn data_csv(&self) -> String {
        let mut out = String::from("element,id,kind,cluster,degree,x,y,other_id,category\n");
        for n in &self.nodes {
            let _ =
                writeln!(out, "node,{},{},{},{},{},{},,", n.id, n.kind, csv(&n.cluster), n.degree, num(n.x), num(n.y));
        }
        for &(a, b, tech) in &self.edges {
            let _ = writeln!(
                out,
                "edge,{},,,,,,{},{}",
                self.nodes[a].id,
                self.nodes[b].id,
                if tech { "tech" } else { "nontech" }
            );
        }
        out
    }
}
