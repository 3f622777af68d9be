//! Class mode: a join code for students, a teacher code, the class's results as they arrive.
//!
//! Everything a lesson produces is written to `<out>/classroom/` the moment it exists: `class.json`
//! (the codes and the exercise pushed to the class, replaced atomically) and `results.csv` (one row
//! per finished run, appended and flushed). A server restarted on the same folder reads both back:
//! the codes stay valid and the teacher's table is whole again; students join again by name.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::observe::write::write_atomic;

/// Letters and digits that cannot be mistaken for each other when read off a projector.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// Columns of `results.csv`.
pub const RESULT_COLUMNS: [&str; 14] = [
    "finished_unix",
    "student",
    "run",
    "scenario",
    "exercise",
    "prediction",
    "settings",
    "seed",
    "replication",
    "firms_alive",
    "revenue_musd",
    "approvals",
    "public_spend_musd",
    "alliances_active",
];

/// One finished run of a student.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ResultRow {
    pub finished_unix: u64,
    pub student: String,
    pub run: u64,
    pub scenario: String,
    pub exercise: String,
    pub prediction: Option<f64>,
    /// The levers changed from the scenario, as `key=value; ...`.
    pub settings: String,
    pub seed: u64,
    pub replication: u64,
    pub outcomes: super::Outcomes,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Saved {
    join_code: String,
    teacher_code: String,
    exercise: Option<String>,
}

pub struct Class {
    pub join_code: String,
    pub teacher_code: String,
    dir: PathBuf,
    state: Mutex<(Option<String>, Vec<ResultRow>)>,
}

impl Class {
    /// Opens the class in `dir` (`<out>/classroom`): codes from `class.json` if a lesson ran there,
    /// else those given, else fresh random ones.
    pub fn open(dir: &Path, join_code: Option<String>, teacher_code: Option<String>) -> Result<Class> {
        std::fs::create_dir_all(dir).map_err(|source| Error::WriteOutput { path: dir.to_path_buf(), source })?;
        let saved_path = dir.join("class.json");
        let saved: Option<Saved> = match std::fs::read_to_string(&saved_path) {
            Ok(text) => Some(serde_json::from_str(&text).map_err(|e| {
                Error::Usage(format!(
                    "{} is not a class file biocluster wrote ({e}); move it away",
                    saved_path.display()
                ))
            })?),
            Err(_) => None,
        };
        let pick = |given: Option<String>, saved: Option<String>| -> Result<String> {
            match (given, saved) {
                (Some(g), Some(s)) if g != s => Err(Error::Usage(format!(
                    "{} holds a lesson with other codes; use another --out folder, or leave the codes out to go on with it",
                    saved_path.display()
                ))),
                (Some(g), _) => check_code(&g).map(|()| g),
                (None, Some(s)) => Ok(s),
                (None, None) => Ok(random_code(6)),
            }
        };
        let join_code = pick(join_code, saved.as_ref().map(|s| s.join_code.clone()))?;
        let teacher_code = pick(teacher_code, saved.as_ref().map(|s| s.teacher_code.clone()))?;
        if join_code == teacher_code {
            return Err(Error::Usage("the class code and the teacher code must differ".into()));
        }
        let results = read_results(&dir.join("results.csv"))?;
        let class = Class {
            join_code,
            teacher_code,
            dir: dir.to_path_buf(),
            state: Mutex::new((saved.and_then(|s| s.exercise), results)),
        };
        class.save()?;
        Ok(class)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn save(&self) -> Result<()> {
        let saved = Saved {
            join_code: self.join_code.clone(),
            teacher_code: self.teacher_code.clone(),
            exercise: self.exercise(),
        };
        let text = serde_json::to_string_pretty(&saved).expect("class state serialises");
        write_atomic(&self.dir.join("class.json"), text.as_bytes())
    }

    /// The exercise the teacher pushed to the class, if any.
    pub fn exercise(&self) -> Option<String> {
        self.state.lock().expect("class lock").0.clone()
    }

    pub fn push_exercise(&self, exercise: Option<String>) -> Result<()> {
        self.state.lock().expect("class lock").0 = exercise;
        self.save()
    }

    pub fn results(&self) -> Vec<ResultRow> {
        self.state.lock().expect("class lock").1.clone()
    }

    /// Appends a finished run to `results.csv` (flushed to disk before it counts) and the table.
    pub fn record(&self, row: ResultRow) -> Result<()> {
        let mut state = self.state.lock().expect("class lock");
        let path = self.dir.join("results.csv");
        let new = !path.exists();
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|source| Error::WriteOutput { path: path.clone(), source })?;
        let mut text = String::new();
        if new {
            text.push_str(&RESULT_COLUMNS.join(","));
            text.push('\n');
        }
        text.push_str(&csv_line(&row));
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|source| Error::WriteOutput { path: path.clone(), source })?;
        state.1.push(row);
        Ok(())
    }

    /// The class's results as CSV (the file's contents).
    pub fn results_csv(&self) -> String {
        let mut text = RESULT_COLUMNS.join(",");
        text.push('\n');
        for row in &self.state.lock().expect("class lock").1 {
            text.push_str(&csv_line(row));
        }
        text
    }
}

fn csv_line(r: &ResultRow) -> String {
    use crate::format::csv_field as q;
    let o = &r.outcomes;
    format!(
        "{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
        r.finished_unix,
        q(&r.student),
        r.run,
        q(&r.scenario),
        q(&r.exercise),
        r.prediction.map(|p| p.to_string()).unwrap_or_default(),
        q(&r.settings),
        r.seed,
        r.replication,
        o.firms_alive,
        o.revenue_musd,
        o.approvals,
        o.public_spend_musd,
        o.alliances_active
    )
}

fn read_results(path: &Path) -> Result<Vec<ResultRow>> {
    let Ok(text) = std::fs::read_to_string(path) else { return Ok(Vec::new()) };
    // A row cut short by a crash mid-write is dropped (every complete row was flushed), so that the
    // next row starts on a line of its own.
    if !text.is_empty() && !text.ends_with('\n') {
        let whole = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
        write_atomic(path, whole.as_bytes())?;
    }
    let bad = |e: String| Error::Usage(format!("{} cannot be read back ({e}); move it away", path.display()));
    let whole = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
    let mut reader = csv::Reader::from_reader(whole.as_bytes());
    let mut out = Vec::new();
    for record in reader.records() {
        let r = record.map_err(|e| bad(e.to_string()))?;
        let num = |i: usize| r[i].parse::<f64>().map_err(|e| bad(format!("column {}: {e}", RESULT_COLUMNS[i])));
        let int = |i: usize| r[i].parse::<u64>().map_err(|e| bad(format!("column {}: {e}", RESULT_COLUMNS[i])));
        out.push(ResultRow {
            finished_unix: int(0)?,
            student: r[1].to_string(),
            run: int(2)?,
            scenario: r[3].to_string(),
            exercise: r[4].to_string(),
            prediction: if r[5].is_empty() { None } else { Some(num(5)?) },
            settings: r[6].to_string(),
            seed: int(7)?,
            replication: int(8)?,
            outcomes: super::Outcomes {
                firms_alive: num(9)?,
                revenue_musd: num(10)?,
                approvals: num(11)?,
                public_spend_musd: num(12)?,
                alliances_active: num(13)?,
            },
        });
    }
    Ok(out)
}

/// A code the teacher may choose: 4 to 32 letters and digits.
pub fn check_code(code: &str) -> Result<()> {
    if (4..=32).contains(&code.len()) && code.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(Error::Usage(format!("a class code must be 4 to 32 letters and digits (got `{code}`)")))
    }
}

/// `n` characters from the operating system's random source.
pub fn random_code(n: usize) -> String {
    use rand::TryRng as _;
    let mut rng = rand::rngs::SysRng;
    (0..n)
        .map(|_| {
            let x = rng.try_next_u32().expect("the operating system's random source works");
            CODE_ALPHABET[x as usize % CODE_ALPHABET.len()] as char
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(student: &str, run: u64) -> ResultRow {
        ResultRow {
            finished_unix: 1_700_000_000 + run,
            student: student.into(),
            run,
            scenario: "korea-default".into(),
            exercise: "grants".into(),
            prediction: if run.is_multiple_of(2) { Some(250.5) } else { None },
            settings: "policies[0].budget_musd_per_year=40".into(),
            seed: 20240601,
            replication: run,
            outcomes: super::super::Outcomes {
                firms_alive: 300.0,
                revenue_musd: 1234.5,
                approvals: 3.0,
                public_spend_musd: 987.25,
                alliances_active: 120.0,
            },
        }
    }

    #[test]
    fn a_restarted_class_keeps_its_codes_exercise_and_results() {
        let dir = tempfile::tempdir().unwrap();
        let class = Class::open(dir.path(), None, None).unwrap();
        class.record(row("Ada, \"the\" first", 1)).unwrap();
        class.record(row("Bo", 2)).unwrap();
        class.push_exercise(Some("grants".into())).unwrap();
        let (join, teacher) = (class.join_code.clone(), class.teacher_code.clone());
        drop(class);
        // A crash in the middle of a row leaves a partial line: it is dropped, the rest kept.
        let mut f = std::fs::OpenOptions::new().append(true).open(dir.path().join("results.csv")).unwrap();
        f.write_all(b"1700000009,Cy,9,korea").unwrap();
        let again = Class::open(dir.path(), None, None).unwrap();
        assert_eq!((again.join_code.as_str(), again.teacher_code.as_str()), (join.as_str(), teacher.as_str()));
        assert_eq!(again.exercise().as_deref(), Some("grants"));
        assert_eq!(again.results(), [row("Ada, \"the\" first", 1), row("Bo", 2)]);
        assert!(Class::open(dir.path(), Some("OTHER1".into()), None).is_err());
    }

    #[test]
    fn codes_are_checked() {
        assert!(check_code("AB12").is_ok());
        assert!(check_code("../x").is_err());
        assert!(check_code("abc").is_err());
        assert_eq!(random_code(6).len(), 6);
    }
}
