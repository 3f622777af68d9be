//! The alliance network picture: actors grouped by cluster, coloured by kind, sized by degree;
//! ties coloured by survey category. The layout is deterministic (no random draws): clusters sit
//! on a circle; in each, partners (universities, pharma, investors) form an inner ring, allied firms
//! a middle ring ordered by the angle of their partners (fewer crossings), firms without ties an
//! outer ring.

use std::f64::consts::TAU;
use std::fmt::Write as _;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::render::{Chart, DrawResult, font};
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
    /// (cluster name, label position).
    pub clusters: Vec<(String, f64, f64)>,
}

pub const KINDS: [(&str, &str, RGBColor); 4] = [
    ("firm", "firm", RGBColor(86, 180, 233)),
    ("university", "university / institute", RGBColor(0, 158, 115)),
    ("pharma", "pharma partner", RGBColor(204, 121, 167)),
    ("investor", "investor", RGBColor(240, 228, 66)),
];
const TECH: RGBColor = RGBColor(0, 114, 178);
const NONTECH: RGBColor = RGBColor(230, 159, 0);

fn kind_colour(kind: &str) -> RGBColor {
    KINDS.iter().find(|k| k.0 == kind).map_or(RGBColor(0, 0, 0), |k| k.2)
}

impl NetworkPicture {
    /// Lays out `nodes` (id, kind, cluster, degree) and `edges` (id, id, tech) of one year;
    /// `cluster_order` fixes where each cluster sits.
    pub fn layout(
        title: String,
        cluster_order: &[String],
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
            clusters.push((name.clone(), cx, (cy + scale * 1.12).min(1.0)));
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
        (1000, 1000)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB::ErrorType> {
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, font(22))
            .margin(10)
            .build_cartesian_2d(-1.05..1.05, -1.02..1.08)?;
        for &(a, b, tech) in &self.edges {
            let (p, q) = (&self.nodes[a], &self.nodes[b]);
            let style = if tech { TECH.mix(0.65).stroke_width(1) } else { NONTECH.mix(0.75).stroke_width(2) };
            chart.draw_series(std::iter::once(PathElement::new(vec![(p.x, p.y), (q.x, q.y)], style)))?;
        }
        for n in &self.nodes {
            let r = 3 + (2.2 * f64::from(n.degree).sqrt()).round() as i32;
            chart.draw_series(std::iter::once(Circle::new((n.x, n.y), r, kind_colour(&n.kind).filled())))?;
            chart.draw_series(std::iter::once(Circle::new((n.x, n.y), r, BLACK.mix(0.6).stroke_width(1))))?;
        }
        for (name, x, y) in &self.clusters {
            use plotters::style::text_anchor::{HPos, Pos, VPos};
            // Centred, but kept inside the picture: about 0.01 units per character either side.
            let half = 0.01 * name.chars().count() as f64;
            let x = x.clamp(-1.03 + half, 1.03 - half);
            let style = font(17).pos(Pos::new(HPos::Center, VPos::Center));
            chart.draw_series(std::iter::once(Text::new(name.clone(), (x, *y), style)))?;
        }
        // Legend in the top corners (the clusters' circle leaves them free): kinds, ties, size.
        let mut y = 1.0;
        for (kind, label, c) in KINDS {
            let _ = kind;
            chart.draw_series(std::iter::once(Circle::new((-1.0, y), 6, c.filled())))?;
            chart.draw_series(std::iter::once(Text::new(label, (-0.97, y + 0.012), font(13))))?;
            y -= 0.045;
        }
        let mut y = 1.0;
        for (label, style) in [
            ("technological tie", TECH.mix(0.8).stroke_width(2)),
            ("non-technological tie", NONTECH.mix(0.9).stroke_width(3)),
        ] {
            chart.draw_series(std::iter::once(PathElement::new(vec![(0.55, y), (0.63, y)], style)))?;
            chart.draw_series(std::iter::once(Text::new(label, (0.66, y + 0.012), font(13))))?;
            y -= 0.045;
        }
        chart.draw_series(std::iter::once(Text::new("node size: active alliances", (0.55, y + 0.012), font(13))))?;
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
