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
