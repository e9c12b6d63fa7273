//! Runs a rules file's own tests. A test compares a *summary* of the answer — status, the install
//! groups and certificates of findings that set the status, the rules named with `fires` — with
//! its expectations, so notices and wording can change without breaking tests.
//!
//! The runner takes the engine as a function from facts JSON to answer JSON, so the same tests run
//! on the interpreter and on a compiled module.

use crate::ir::{Expected, Level, Program};
use serde_json::Value as Json;

/// The result of one test.
#[derive(Clone, Debug, PartialEq)]
pub struct TestOutcome {
    pub name: String,
    pub line: usize,
    /// `None` when it passed; otherwise a diff of expected (`-`) and actual (`+`) lines.
    pub failure: Option<String>,
}

/// Runs every test of `program` on the reference interpreter.
pub fn run(program: &Program) -> Vec<TestOutcome> {
    run_with(program, &|facts| crate::answer(program, facts))
}

/// Runs every test of `program` on `engine` (facts JSON → answer JSON).
pub fn run_with(program: &Program, engine: &dyn Fn(&str) -> String) -> Vec<TestOutcome> {
    program
        .tests
        .iter()
        .map(|test| {
            let answer: Json = serde_json::from_str(&engine(&test.given.to_string())).unwrap_or(Json::Null);
            let expected = expected_lines(program, &test.expect);
            let actual = actual_lines(&answer, &test.expect);
            let failure = (expected != actual).then(|| diff(&expected, &actual) + &status_origin(&answer));
            TestOutcome { name: test.name.clone(), line: test.line, failure }
        })
        .collect()
}

fn expected_lines(program: &Program, expect: &Expected) -> Vec<String> {
    match expect {
        Expected::Error { code, at } => vec![error_line(code, at.as_deref())],
        Expected::Verdict {
            status,
            installs,
            certificates,
            components,
            settings,
            actions,
            alternatives,
            fires,
            quiet,
            undetermined,
            decided,
        } => {
            let mut lines = vec![format!("status {}", status.name())];
            lines.extend(installs.iter().map(|g| install_line(g.iter().map(ToString::to_string))));
            let mut names: Vec<String> = certificates
                .iter()
                .filter_map(|id| program.certificates.iter().find(|c| c.id == *id))
                .map(|c| format!("certificate {}", c.name))
                .collect();
            names.sort();
            lines.extend(names);
            lines.extend(components.iter().map(|c| format!("component {c}")));
            lines.extend(settings.iter().map(|c| format!("setting {c}")));
            lines.extend(actions.iter().map(|c| format!("action {c}")));
            lines.extend(alternatives.iter().cloned());
            lines.extend(fires.iter().map(|r| format!("fires {r}")));
            lines.extend(quiet.iter().map(|r| format!("not fires {r}")));
            lines.extend(undetermined.iter().map(|r| format!("undetermined {r}")));
            lines.extend(decided.iter().map(|r| format!("not undetermined {r}")));
            lines
        }
    }
}

/// The same summary of an actual answer; `fires` lines only for the rules the test names.
fn actual_lines(answer: &Json, expect: &Expected) -> Vec<String> {
    if let Some(error) = answer.get("error") {
        let code = error.get("code").and_then(Json::as_str).unwrap_or("?");
        let at = match expect {
            Expected::Error { at: Some(_), .. } => error.get("field").and_then(Json::as_str),
            _ => None,
        };
        return vec![error_line(code, at)];
    }
    let status = answer.get("status").and_then(Json::as_str).unwrap_or("?");
    let mut lines = vec![format!("status {status}")];
    let findings = answer.get("findings").and_then(Json::as_array).cloned().unwrap_or_default();
    let sets_status =
        |f: &Json| f.get("severity").and_then(Json::as_str).and_then(Level::from_name).is_some_and(Level::is_status);
    let mut installs: Vec<Vec<String>> = findings
        .iter()
        .filter(|f| sets_status(f))
        .filter_map(|f| f.get("install_any_of").and_then(Json::as_array))
        .map(|kbs| {
            let mut group: Vec<String> = kbs.iter().filter_map(Json::as_str).map(str::to_string).collect();
            group.sort();
            group
        })
        .filter(|g| !g.is_empty())
        .collect();
    installs.sort();
    lines.extend(installs.into_iter().map(|g| install_line(g.into_iter())));
    let mut certificates: Vec<String> = findings
        .iter()
        .filter(|f| sets_status(f))
        .filter_map(|f| f.get("certificate").and_then(Json::as_str))
        .map(|c| format!("certificate {c}"))
        .collect();
    certificates.sort();
    lines.extend(certificates);
    for kind in ["component", "setting", "action"] {
        let mut ids: Vec<String> = findings
            .iter()
            .filter(|f| sets_status(f))
            .filter_map(|f| f.get(kind).and_then(|c| c.get("id")).and_then(Json::as_str))
            .map(|id| format!("{kind} {id}"))
            .collect();
        ids.sort();
        lines.extend(ids);
    }
    // Findings that offer alternatives: one line each, its steps in order.
    let mut alternatives: Vec<String> = findings
        .iter()
        .filter(|f| sets_status(f))
        .filter_map(|f| f.get("any_of").and_then(Json::as_array))
        .map(|steps| {
            let mut lines: Vec<String> = steps.iter().flat_map(step_lines).collect();
            lines.sort();
            alternatives_line(&lines)
        })
        .collect();
    alternatives.sort();
    lines.extend(alternatives);
    if let Expected::Verdict { fires, quiet, undetermined, decided, .. } = expect {
        let fired: Vec<&str> = findings.iter().filter_map(|f| f.get("rule").and_then(Json::as_str)).collect();
        lines.extend(fires.iter().filter(|r| fired.contains(&r.as_str())).map(|r| format!("fires {r}")));
        lines.extend(quiet.iter().filter(|r| !fired.contains(&r.as_str())).map(|r| format!("not fires {r}")));
        let open: Vec<&str> = answer
            .get("undetermined")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter_map(|u| u.get("rule").and_then(Json::as_str))
            .collect();
        lines.extend(undetermined.iter().filter(|r| open.contains(&r.as_str())).map(|r| format!("undetermined {r}")));
        lines.extend(decided.iter().filter(|r| !open.contains(&r.as_str())).map(|r| format!("not undetermined {r}")));
    }
    lines
}

fn error_line(code: &str, at: Option<&str>) -> String {
    match at {
        Some(field) => format!("error {code} at {field}"),
        None => format!("error {code}"),
    }
}

pub(crate) fn install_line(group: impl Iterator<Item = String>) -> String {
    format!("install {}", group.collect::<Vec<_>>().join(" or "))
}

/// A finding's alternatives as one summary line.
pub(crate) fn alternatives_line(steps: &[String]) -> String {
    format!("any one of: {}", steps.join(" | "))
}

/// The summary lines of one step (an alternative of `any_of`).
fn step_lines(step: &Json) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(kbs) = step.get("install_any_of").and_then(Json::as_array) {
        let mut group: Vec<String> = kbs.iter().filter_map(Json::as_str).map(str::to_string).collect();
        group.sort();
        if !group.is_empty() {
            out.push(install_line(group.into_iter()));
        }
    }
    if let Some(c) = step.get("certificate").and_then(Json::as_str) {
        out.push(format!("certificate {c}"));
    }
    for kind in ["component", "setting", "action"] {
        if let Some(id) = step.get(kind).and_then(|c| c.get("id")).and_then(Json::as_str) {
            out.push(format!("{kind} {id}"));
        }
    }
    out
}

/// Which rules gave the answer's status, so a failed test says where to look.
fn status_origin(answer: &Json) -> String {
    let Some(status) = answer.get("status").and_then(Json::as_str) else { return String::new() };
    let findings = answer.get("findings").and_then(Json::as_array).cloned().unwrap_or_default();
    let mut rules: Vec<String> = findings
        .iter()
        .filter(|f| f.get("severity").and_then(Json::as_str) == Some(status))
        .filter_map(|f| {
            let rule = f.get("rule").and_then(Json::as_str)?;
            let line = f.get("line").and_then(Json::as_u64).unwrap_or(0);
            Some(format!("`{rule}` (line {line})"))
        })
        .collect();
    rules.dedup();
    let mut out = match rules.as_slice() {
        [] => format!("  the status is `{status}`: no rule set one\n"),
        _ => format!("  the status `{status}` was set by rule {}\n", rules.join(", ")),
    };
    // Rules the facts could not decide, and the facts that would decide them.
    for u in answer.get("undetermined").and_then(Json::as_array).into_iter().flatten() {
        let rule = u.get("rule").and_then(Json::as_str).unwrap_or_default();
        let could: Vec<&str> =
            u.get("could_be").and_then(Json::as_array).into_iter().flatten().filter_map(Json::as_str).collect();
        let needs: Vec<&str> = u
            .get("needs")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter_map(|n| n.get("fact").and_then(Json::as_str))
            .collect();
        out.push_str(&format!(
            "  rule `{rule}` is undetermined (could give {}): the facts leave out {}\n",
            could.join(" or "),
            needs.join(", ")
        ));
    }
    out
}

/// A small line diff: lines only expected start with `-`, lines only actual with `+`.
fn diff(expected: &[String], actual: &[String]) -> String {
    let mut out = String::from("  (- expected, not in the answer; + in the answer, not expected)\n");
    for line in expected {
        let mark = if actual.contains(line) { ' ' } else { '-' };
        out.push_str(&format!("{mark} {line}\n"));
    }
    for line in actual.iter().filter(|l| !expected.contains(l)) {
        out.push_str(&format!("+ {line}\n"));
    }
    out
}
