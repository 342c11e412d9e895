//! The doctor's report: one line per check for people, one JSON document for machines.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
    /// A failed required check makes the run fail; a failed optional one is reported as WARN.
    #[serde(skip)]
    pub required: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub ok: bool,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn push(&mut self, name: &'static str, required: bool, status: Status, detail: String) {
        // An optional check never fails the run: its failure is a warning.
        let status = if !required && status == Status::Fail {
            Status::Warn
        } else {
            status
        };
        self.checks.push(Check {
            name,
            status,
            detail,
            required,
        });
        self.ok = self
            .checks
            .iter()
            .all(|c| !(c.required && c.status == Status::Fail));
    }

    /// One line per check: `PASS  name  detail`.
    pub fn to_text(&self) -> String {
        let width = self.checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
        let mut out = String::new();
        for c in &self.checks {
            let status = match c.status {
                Status::Pass => "PASS",
                Status::Warn => "WARN",
                Status::Fail => "FAIL",
            };
            out.push_str(&format!(
                "{status}  {:width$}  {}\n",
                c.name,
                c.detail,
                width = width
            ));
        }
        out.push_str(if self.ok {
            "doctor: every required check passed\n"
        } else {
            "doctor: a required check FAILED\n"
        });
        out
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{\"ok\":false}".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_optional_check_is_a_warning_and_keeps_the_run_ok() {
        let mut r = Report::default();
        r.push("a", true, Status::Pass, "fine".into());
        r.push("b", false, Status::Fail, "not seen".into());
        assert!(r.ok);
        assert_eq!(r.checks[1].status, Status::Warn);
        r.push("c", true, Status::Fail, "broken".into());
        assert!(!r.ok);
        let text = r.to_text();
        assert!(text.contains("FAIL  c  broken"), "{text}");
        let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(json["ok"], false);
        assert_eq!(json["checks"][1]["status"], "WARN");
    }
}
