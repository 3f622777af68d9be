//! The record system: reads the world once a month (R&D tallies) and at each year end writes the
//! year's time-series rows (one per cluster plus "all") and firm-panel rows. It changes nothing
//! the mechanisms read.

use bevy_ecs::prelude::*;

use super::{PanelRow, RunRecord, TS_COLUMNS, TimeSeriesRow};
use crate::kinds::{BusinessModel, Stage};
use crate::model::Tick;
use crate::model::components::*;
use crate::model::ledger::{Flow, Ledger};
use crate::model::resources::{AllianceBook, Clock, Params, PolicyEffects, Registry, YearCounters};
use crate::scenario::Instrument;

pub(crate) fn install(schedule: &mut Schedule) {
    schedule.add_systems(record_year.in_set(Tick::Record));
}

/// What the record keeps between calls, by agent id: each firm's R&D spend so far this year (M$), and
/// the year's alliance counts (tech, non-tech, with pharma, financing), a buffer reused every year.
#[derive(Default)]
pub struct YearTallies {
    rd: Vec<f64>,
    ties: Vec<[u32; 4]>,
}

#[allow(clippy::too_many_arguments)]
fn record_year(
    clock: Res<Clock>,
    params: Res<Params>,
    registry: Res<Registry>,
    ledger: Res<Ledger>,
    book: Res<AllianceBook>,
    counters: Res<YearCounters>,
    effects: Res<PolicyEffects>,
    firms: Query<(&AgentId, &Home, &Firm, &Pipeline)>,
    knowledge: Query<(&Home, &Knowledge, Option<&Firm>), Without<Pharma>>,
    acquirers: Query<&Pipeline, With<Pharma>>,
    mut tallies: Local<YearTallies>,
    mut record: ResMut<RunRecord>,
) {
    let YearTallies { rd, ties } = &mut *tallies;
    rd.resize(registry.entities.len(), 0.0);
    let year_first_month = clock.month - clock.month % 12;
    let in_year = |firm: &Firm| firm.is_alive() || firm.exit_month.is_some_and(|m| m >= year_first_month);
    for (id, _, firm, _) in &firms {
        if firm.is_alive() {
            rd[id.0 as usize] += firm.rd_month;
        }
    }
    if !clock.is_year_end() {
        return;
    }
    let year = clock.year();
    let n_clusters = params.clusters.len();
    let col = |name: &str| TS_COLUMNS.iter().position(|c| *c == name).expect("known column");
    // Row c is cluster c; row n_clusters is the whole ecosystem.
    let mut rows = vec![vec![0.0; TS_COLUMNS.len()]; n_clusters + 1];
    let add_at = |rows: &mut Vec<Vec<f64>>, cluster: usize, i: usize, v: f64| {
        rows[cluster][i] += v;
        rows[n_clusters][i] += v;
    };
    let add = |rows: &mut Vec<Vec<f64>>, cluster: usize, name: &str, v: f64| add_at(rows, cluster, col(name), v);

    // Alliances by firm and category over the year.
    let [tech, nontech, with_pharma, financing] = [0, 1, 2, 3];
    ties.clear();
    ties.resize(registry.entities.len(), [0; 4]);
    for alliance in &book.alliances {
        if alliance.active_during(year_first_month, clock.month) {
            let counts = &mut ties[alliance.firm as usize];
            counts[if alliance.kind.is_tech() { tech } else { nontech }] += 1;
            if registry.kind[alliance.partner as usize] == AgentKind::Pharma {
                counts[with_pharma] += 1;
            }
            if alliance.kind == crate::kinds::AllianceKind::Financing {
                counts[financing] += 1;
            }
        }
        if alliance.ended_month.is_none() {
            let cluster = registry.home[alliance.firm as usize].cluster;
            add(
                &mut rows,
                cluster,
                if alliance.kind.is_tech() { "alliances_active_tech" } else { "alliances_active_nontech" },
                1.0,
            );
        }
    }

    // The per-firm columns, looked up once a year rather than once per firm.
    let [product_col, services_col, licensing_col, vc_col, ipo_col, grants_col, tax_credit_col, fund_col, other_col] =
        [
            "revenue_product_musd",
            "revenue_services_musd",
            "revenue_licensing_musd",
            "vc_money_musd",
            "ipo_money_musd",
            "public_grants_musd",
            "public_tax_credit_musd",
            "public_fund_musd",
            "public_other_musd",
        ]
        .map(col);
    let [alive_col, listed_col, employment_col, products_col] =
        ["firms_alive", "firms_listed", "employment", "products_marketed"].map(col);
    let model_cols = BusinessModel::ALL.map(|m| col(&format!("firms_{}", m.name())));
    let stage_cols = Stage::ALL.map(|s| col(&format!("projects_{}", s.name())));
    let cluster_names: Vec<std::sync::Arc<str>> = params.clusters.iter().map(|c| c.name.as_str().into()).collect();
    for (id, home, firm, pipeline) in &firms {
        if !in_year(firm) {
            continue;
        }
        let c = home.cluster;
        let [alliances_tech, alliances_nontech, alliances_pharma, alliances_financing] = ties[id.0 as usize];
        let flows = ledger.year_inflows(id.0);
        let inflow = |f: Flow| flows[f as usize];
        let product = inflow(Flow::ProductSales);
        let services = inflow(Flow::Services);
        let licensing = inflow(Flow::LicensingUpfront) + inflow(Flow::Milestone) + inflow(Flow::Royalty);
        add_at(&mut rows, c, product_col, product);
        add_at(&mut rows, c, services_col, services);
        add_at(&mut rows, c, licensing_col, licensing);
        add_at(&mut rows, c, vc_col, inflow(Flow::VcRound));
        add_at(&mut rows, c, ipo_col, inflow(Flow::IpoProceeds) + inflow(Flow::FollowOn));
        add_at(&mut rows, c, grants_col, inflow(Flow::Grant));
        add_at(&mut rows, c, tax_credit_col, inflow(Flow::TaxCredit));
        add_at(&mut rows, c, fund_col, inflow(Flow::PublicFundRound));
        add_at(&mut rows, c, other_col, inflow(Flow::RentSubsidy) + inflow(Flow::MatchingSubsidy));
        let public: f64 = (0..flows.len()).filter(|&i| Flow::ALL[i].is_public_support()).map(|i| flows[i]).sum();

        if firm.is_alive() {
            add_at(&mut rows, c, alive_col, 1.0);
            add_at(&mut rows, c, model_cols[firm.model as usize], 1.0);
            add_at(&mut rows, c, listed_col, f64::from(u8::from(firm.listed)));
            add_at(&mut rows, c, employment_col, firm.employees);
            for project in &pipeline.projects {
                add_at(&mut rows, c, stage_cols[project.stage.index()], 1.0);
            }
            add_at(&mut rows, c, products_col, pipeline.products.len() as f64);
        }

        record.panel.push(PanelRow {
            year,
            firm_id: id.0,
            cluster: cluster_names[c].clone(),
            cluster_type: params.clusters[c].cluster_type,
            business_model: firm.model,
            origin: firm.origin,
            focus_field: firm.focus as u8,
            age_years: firm.age_years(clock.month).max(0.0),
            employees: firm.employees,
            rd_musd: rd[id.0 as usize],
            sales_musd: product + services + licensing,
            sales_product_musd: product,
            sales_services_musd: services,
            sales_licensing_musd: licensing,
            alliances_tech,
            alliances_nontech,
            alliances_pharma,
            alliances_financing,
            costs_musd: ledger.year_costs(id.0),
            vc_musd: inflow(Flow::VcRound) + inflow(Flow::PublicFundRound),
            public_support_musd: public,
            cash_musd: ledger.balance(id.0),
            projects: pipeline.projects.len() as u32,
            max_stage: pipeline.max_stage(),
            products: pipeline.products.len() as u32,
            listed: firm.listed,
            first_sales_year: firm.first_sales_month.map(|m| clock.start_year + m.div_euclid(12) as i32),
            status: firm.status,
        });
    }

    for (c, counter) in counters.clusters.iter().enumerate() {
        add(&mut rows, c, "entries_spinoff", f64::from(counter.spinoffs));
        add(&mut rows, c, "entries_spinout", f64::from(counter.spinouts));
        add(&mut rows, c, "entries_startup", f64::from(counter.startups));
        add(&mut rows, c, "failures", f64::from(counter.failures));
        add(&mut rows, c, "acquisitions", f64::from(counter.acquisitions));
        add(&mut rows, c, "ipos", f64::from(counter.ipos));
        add(&mut rows, c, "model_switches", f64::from(counter.model_switches));
        add(&mut rows, c, "alliances_formed_tech", f64::from(counter.alliances_formed_tech));
        add(&mut rows, c, "alliances_formed_nontech", f64::from(counter.alliances_formed_nontech));
        add(&mut rows, c, "approvals", f64::from(counter.approvals));
        add(&mut rows, c, "approvals_acquired", f64::from(counter.approvals_acquired));
        add(&mut rows, c, "revenue_product_acquired_musd", counter.acquired_product_sales_musd);
        add(&mut rows, c, "licensing_deals", f64::from(counter.licensing_deals));
        add(&mut rows, c, "listings_tech", f64::from(counter.listings_tech));
        add(&mut rows, c, "listings_regular", f64::from(counter.listings_regular));
        add(&mut rows, c, "delistings", f64::from(counter.delistings));
    }
    // Acquired projects and products, by the cluster where they were developed.
    for pipeline in &acquirers {
        for project in &pipeline.projects {
            add(&mut rows, project.origin_cluster, "projects_acquired", 1.0);
        }
        for product in &pipeline.products {
            add(&mut rows, product.origin_cluster, "products_acquired", 1.0);
        }
    }
    for (home, k, firm) in &knowledge {
        if firm.is_none_or(Firm::is_alive) {
            add(&mut rows, home.cluster, "knowledge_stock", k.total());
        }
    }

    // Network of alive actors (firms, universities, pharma, investors) and active alliances.
    let is_node = |id: usize| registry.alive[id] && registry.kind[id] != AgentKind::Agency;
    let edges: Vec<(u32, u32)> = book
        .alliances
        .iter()
        .filter(|a| a.ended_month.is_none())
        .map(|a| (a.firm.min(a.partner), a.firm.max(a.partner)))
        .collect();
    record.network.push(super::NetworkYear {
        year,
        nodes: (0..registry.entities.len())
            .filter(|&i| is_node(i))
            .map(|i| (i as u32, registry.kind[i], registry.home[i].cluster, book.degree(i as u32) as u32))
            .collect(),
        edges: book
            .alliances
            .iter()
            .filter(|a| a.ended_month.is_none())
            .map(|a| (a.firm, a.partner, a.kind.is_tech()))
            .collect(),
    });
    for (c, row) in rows.iter_mut().enumerate() {
        let nodes: Vec<u32> = (0..registry.entities.len())
            .filter(|&i| is_node(i) && (c == n_clusters || registry.home[i].cluster == c))
            .map(|i| i as u32)
            .collect();
        let (density, giant) = network_stats(&nodes, &edges, registry.entities.len());
        row[col("network_density")] = density;
        row[col("largest_component_share")] = giant;
    }

    // Programmes the agencies pay suppliers for (shared facilities, mobility fellowships), shared
    // equally among the clusters each one serves.
    for (p, policy) in params.policies.iter().enumerate() {
        let programme = matches!(
            policy.instrument,
            Instrument::SharedInfrastructure { .. } | Instrument::ResearcherMobility { .. }
        );
        if programme && effects.year == year && !policy.clusters.is_empty() {
            let share = effects.paid[p] / policy.clusters.len() as f64;
            for &c in &policy.clusters {
                add(&mut rows, c, "public_programmes_musd", share);
            }
        }
    }

    for values in &mut rows {
        values[col("revenue_total_musd")] = ["revenue_product_musd", "revenue_services_musd", "revenue_licensing_musd"]
            .iter()
            .map(|m| values[col(m)])
            .sum();
        values[col("public_total_musd")] =
            ["public_grants_musd", "public_tax_credit_musd", "public_fund_musd", "public_other_musd"]
                .iter()
                .map(|m| values[col(m)])
                .sum();
        values[col("public_spend_musd")] = values[col("public_total_musd")] + values[col("public_programmes_musd")];
    }
    for (c, values) in rows.into_iter().enumerate() {
        let (cluster, cluster_type) = if c < n_clusters {
            (params.clusters[c].name.clone(), params.clusters[c].cluster_type.name().to_string())
        } else {
            ("all".to_string(), "all".to_string())
        };
        record.timeseries.push(TimeSeriesRow { year, cluster, cluster_type, values });
    }
    for v in rd.iter_mut() {
        *v = 0.0;
    }
}

/// Density (distinct linked pairs / possible pairs) and largest-component share of the subgraph
/// on `nodes`; edges with an end outside `nodes` are ignored.
pub fn network_stats(nodes: &[u32], edges: &[(u32, u32)], n_ids: usize) -> (f64, f64) {
    let n = nodes.len();
    if n < 2 {
        return (0.0, if n == 1 { 1.0 } else { 0.0 });
    }
    let mut local = vec![usize::MAX; n_ids];
    for (i, &id) in nodes.iter().enumerate() {
        local[id as usize] = i;
    }
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    for &(a, b) in edges {
        let (la, lb) = (local[a as usize], local[b as usize]);
        if la == usize::MAX || lb == usize::MAX || la == lb {
            continue;
        }
        pairs.push((la.min(lb), la.max(lb)));
        let (ra, rb) = (root(&mut parent, la), root(&mut parent, lb));
        if ra != rb {
            parent[ra] = rb;
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    let mut sizes = vec![0usize; n];
    for i in 0..n {
        let r = root(&mut parent, i);
        sizes[r] += 1;
    }
    let giant = *sizes.iter().max().unwrap_or(&0) as f64 / n as f64;
    let possible = n as f64 * (n as f64 - 1.0) / 2.0;
    (pairs.len() as f64 / possible, giant)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_stats_of_a_path_and_an_isolate() {
        // 0-1-2 linked, 3 alone: 2 of 6 pairs linked, giant component 3 of 4.
        let (density, giant) = network_stats(&[0, 1, 2, 3], &[(0, 1), (1, 2), (1, 2)], 4);
        assert!((density - 2.0 / 6.0).abs() < 1e-12);
        assert!((giant - 0.75).abs() < 1e-12);
    }

    #[test]
    fn alliance_kinds_split_into_five_and_five() {
        use crate::kinds::AllianceKind;
        assert_eq!(AllianceKind::ALL.iter().filter(|k| k.is_tech()).count(), 5);
    }
}
