//! The survey's dummies are the firm-year's alliances as the survey defines them: checked response by
//! response against the panel, for both definitions of the open-innovation dummy.

mod common;

use biocluster::observe::PanelRow;
use biocluster::survey;
use common::*;

fn panel_row(panel: &[PanelRow], year: i32, firm_id: u32) -> &PanelRow {
    panel.iter().find(|r| r.year == year && r.firm_id == firm_id).expect("a response is a panel firm-year")
}

#[test]
fn dummies_follow_the_panel_under_both_open_innovation_definitions() {
    let default = default_scenario();
    let union = edited(|raw| raw.survey.open_innovation = "any_cooperation".into());
    let record = run(&default, 0);
    let (a, b) = (survey::sample(&default, 0, &record.panel), survey::sample(&union, 0, &record.panel));
    assert_eq!(a.len(), 400);
    // The definition changes what `oi` counts, not who is sampled.
    assert_eq!(
        a.iter().map(|r| (r.year, r.firm_id)).collect::<Vec<_>>(),
        b.iter().map(|r| (r.year, r.firm_id)).collect::<Vec<_>>()
    );
    let mut differ = 0;
    for (x, y) in a.iter().zip(&b) {
        let row = panel_row(&record.panel, x.year, x.firm_id);
        let nontech = row.alliances_nontech - row.alliances_financing;
        assert_eq!(x.tech, f64::from(u8::from(row.alliances_tech > 0)));
        assert_eq!(x.nontech, f64::from(u8::from(nontech > 0)), "financing ties are not non-tech cooperation");
        assert_eq!(x.oi, f64::from(u8::from(row.alliances_tech > 0 || row.alliances_financing > 0)));
        assert_eq!(y.oi, x.tech.max(x.nontech), "any_cooperation is the union of the cooperation dummies");
        differ += usize::from(x.oi != y.oi);
    }
    assert!(differ > 0, "the two definitions differ on some responses of the default run");
}

#[test]
fn an_unknown_open_innovation_definition_is_refused_by_name() {
    let mut raw = default_scenario().raw;
    raw.survey.open_innovation = "everything".into();
    let err = biocluster::Scenario::from_raw(raw, "test edit").unwrap_err().to_string();
    assert!(err.contains("survey.open_innovation"), "{err}");
    assert!(err.contains("technology_and_investment") && err.contains("any_cooperation"), "{err}");
}

/// Clustering by firm changes the standard errors, not the estimates (the estimator itself is checked
/// against statsmodels in tests/regression.rs).
#[test]
fn standard_errors_clustered_by_firm_change_only_the_errors() {
    use biocluster::scenario::SurveyErrors;
    let scenario = default_scenario();
    let record = run(&scenario, 0);
    let responses = survey::sample(&scenario, 0, &record.panel);
    let hc1 = survey::regressions(&responses, SurveyErrors::Hc1);
    let clustered = survey::regressions(&responses, SurveyErrors::ClusterFirm);
    let firms: std::collections::BTreeSet<u32> = responses.iter().map(|r| r.firm_id).collect();
    assert!(firms.len() < responses.len(), "firms answer in several years");
    let mut larger = 0;
    for (a, b) in hc1.iter().zip(&clustered) {
        let (Some(fa), Some(fb)) = (&a.fit, &b.fit) else { continue };
        assert_eq!(fa.coef, fb.coef);
        assert_ne!(fa.se, fb.se);
        larger += fa.se.iter().zip(&fb.se).filter(|(x, y)| y > x).count();
    }
    assert!(larger > 0, "repeated answers of a firm widen some intervals");
    let csv = survey::regressions_csv(&clustered);
    assert!(csv.starts_with("sample,specification,regressor,coef,se,t,p,r2,n,standard_errors\n"));
    assert!(csv.lines().skip(1).all(|l| l.ends_with(",cluster_firm")), "{csv}");
}
