//! `preflight report ANSWERS.jsonl --facts FACTS.jsonl [-o fleet.html]`: a fleet's answers as one
//! self-contained HTML page (no network: it opens from a mail attachment or a file share).
//!
//! Everything is counted here, in Rust, in one pass over the two files (answer N is the answer to
//! facts line N, as `batch` writes them): per advisory, the outcomes (the same keys and counts as
//! `batch --summary json`), hosts by Windows build and outcome, every step findings ask for (an
//! update group — alternatives counted once: `KB1 or KB2` is one step —, a certificate, a
//! component, a setting, an action, or alternatives of different kinds) with the hosts it alone
//! would move to `ready`, and input errors by code and field. The page opens with "Do this
//! first": the steps of every advisory ranked by the worst outcome they hold back, then by the
//! hosts they would make ready, each a link to its hosts. Counts are tables and labelled bars (so
//! colour carries no meaning alone); the host table is data read by a few lines of script that
//! show it a page at a time, filter it (by any step) and export it as CSV.

use super::batch::Lines;
use crate::common::printable;
use crate::output::{Input, refuse_inputs};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;
use std::path::Path;

/// What one advisory's answers add up to.
#[derive(Default)]
struct Advisory {
    outcomes: BTreeMap<String, usize>,
    /// Windows build → outcome → hosts.
    by_build: BTreeMap<String, BTreeMap<String, usize>>,
    /// A step ("install KB1 or KB2", "certificate: NAME", ...) → what it would do.
    steps: HashMap<String, StepCount>,
    /// (code, field) → hosts.
    errors: BTreeMap<(String, String), usize>,
    /// A fact undetermined rules need → (hosts that lack it, how a collector reads it).
    to_collect: BTreeMap<String, (usize, Option<String>)>,
}

/// What one step would do for the hosts of one advisory.
#[derive(Default, Clone, Copy)]
struct StepCount {
    /// Hosts it alone would move to `ready` (their only step).
    alone: usize,
    /// Hosts whose findings ask for it.
    needed: usize,
    /// The worst outcome among those hosts ([`severity_rank`]).
    worst: u8,
}

/// How bad an outcome is, for ranking steps: the outcome a step holds a host at.
fn severity_rank(outcome: &str) -> u8 {
    HELD_AT.iter().position(|o| *o == outcome).and_then(|i| u8::try_from(i).ok()).unwrap_or(0)
}

/// The outcomes a step can hold a host at, least bad first (a rank is the index).
const HELD_AT: [&str; 6] = ["", "unknown", UNDETERMINED, "action_required", "limited", "unsupported"];

/// One host's row in the table: its id, build, and per advisory its outcome and the steps its
/// findings ask for, as indices into `Names` (a million hosts must fit in memory many times over).
struct Row {
    id: String,
    build: String,
    outcomes: Vec<u32>,
    missing: Vec<Vec<u32>>,
    /// Per advisory, its findings and undetermined rules (indices into `Fleet::details`).
    details: Vec<Vec<u32>>,
    /// The facts line, for the first [`FACTS_KEPT`] hosts.
    facts: Option<String>,
}

/// Hosts whose facts the page keeps for their detail view (a million facts lines would make the
/// page hundreds of megabytes; findings are kept for every host, each distinct one once).
pub const FACTS_KEPT: usize = 20_000;

/// Outcome and install-group names, each stored once.
#[derive(Default)]
struct Names {
    list: Vec<String>,
    index: HashMap<String, u32>,
}

impl Names {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = u32::try_from(self.list.len()).unwrap_or(u32::MAX);
        self.list.push(name.to_string());
        self.index.insert(name.to_string(), i);
        i
    }
}

/// Everything the page shows.
#[derive(Default)]
pub struct Fleet {
    ids: Vec<String>,
    advisories: Vec<Advisory>,
    rows: Vec<Row>,
    outcomes: Names,
    steps: Names,
    /// Findings and undetermined entries as compact JSON, each distinct one stored once.
    details: Names,
}

pub struct Options<'a> {
    pub answers: &'a str,
    pub facts: &'a str,
    pub id_field: &'a str,
    pub build_field: &'a str,
    pub output: Option<&'a Path>,
    /// Reports of earlier runs, oldest first.
    pub previous: &'a [std::path::PathBuf],
}

pub fn run(o: &Options<'_>) -> Result<u8, String> {
    let inputs: [Input<'_>; 2] = [("the answers", Path::new(o.answers)), ("the facts", Path::new(o.facts))];
    if let Some(output) = o.output {
        refuse_inputs(output, &inputs)?;
    }
    let open = |path: &str| -> Result<Box<dyn BufRead>, String> {
        let file = std::fs::File::open(path).map_err(|e| format!("cannot read `{path}`: {e}"))?;
        Ok(Box::new(std::io::BufReader::with_capacity(1 << 16, file)))
    };
    let runs: Vec<Run> = o.previous.iter().map(|p| Run::read(p)).collect::<Result<_, _>>()?;
    let (answers, facts) = (open(o.answers)?, open(o.facts)?);
    let fleet = aggregate(answers, facts, o.id_field, o.build_field)?;
    let html = page_with(&fleet, &runs);
    match o.output {
        Some(path) => {
            crate::output::write_file(path, html.as_bytes(), &inputs)?;
            eprintln!("wrote {} ({} hosts, {} bytes)", path.display(), fleet.rows.len(), html.len());
        }
        None => crate::common::out(&html)?,
    }
    Ok(0)
}

/// Reads the two files in step, line by line as `batch` reads its input (LF, CRLF or a lone CR;
/// any bytes; a line over 1 MiB kept to its first MiB): answer N belongs to the host of facts
/// line N. The files must have as many lines, and when an answer names its host (the id field)
/// it must be the host the facts name. An answer that is not JSON counts as unreadable, with a
/// note naming its line; it never stops the report.
pub fn aggregate(
    answers: impl BufRead,
    facts: impl BufRead,
    id_field: &str,
    build_field: &str,
) -> Result<Fleet, String> {
    let max = preflight_compiler::facts::MAX_INPUT_BYTES;
    let mut fleet = Fleet::default();
    let (mut answers, mut facts) = (Lines::new(answers, max), Lines::new(facts, max));
    let (mut unreadable, mut long_facts): (Vec<usize>, Vec<usize>) = (Vec::new(), Vec::new());
    let mut n = 0usize;
    loop {
        let answer = answers.next_line().map_err(|e| format!("cannot read the answers: {e}"))?;
        let host = facts.next_line().map_err(|e| format!("cannot read the facts: {e}"))?;
        let (answer, host) = match (answer, host) {
            (None, None) => break,
            (Some(_), None) => {
                return Err(format!(
                    "the facts end after line {n} but the answers go on: give the facts file `batch` answered (line N of the answers is the host on line N of the facts)"
                ));
            }
            (None, Some(_)) => {
                return Err(format!(
                    "the answers end after line {n} but the facts go on: give the answers `batch` wrote for these facts, complete (line N of the answers is the host on line N of the facts)"
                ));
            }
            (Some((answer, _)), Some((host, _))) => (answer, host),
        };
        n += 1;
        if host.len() > max {
            long_facts.push(n);
        }
        let host = Host::read(&host, id_field, build_field);
        let answer: Value = if answer.len() > max {
            unreadable.push(n);
            json!({ "error": { "code": "too_large", "message": "the answer line is longer than 1 MiB" } })
        } else {
            serde_json::from_slice(&answer).unwrap_or_else(|_| {
                unreadable.push(n);
                json!({ "error": { "code": "unreadable_answer", "message": "the answer line is not JSON" } })
            })
        };
        if let (Some(named), Some(id)) = (id_in(&answer, id_field), &host.id)
            && named != *id
        {
            return Err(format!(
                "answer line {n} is for host `{}` but facts line {n} is host `{}`: the files are not in step; give the facts file `batch` answered",
                printable(&named),
                printable(id)
            ));
        }
        fleet.add(&answer, host);
    }
    if let Some(first) = long_facts.first() {
        eprintln!(
            "note: {} facts line(s) are longer than 1 MiB (the first: line {first}), as batch answered them (too_large); their hosts are named by their line",
            long_facts.len()
        );
    }
    if let Some(first) = unreadable.first() {
        eprintln!(
            "note: {} answer line(s) were not JSON answers (the first: line {first}); they are counted as unreadable",
            unreadable.len()
        );
    }
    Ok(fleet)
}

/// The host an answer names, if it carries the id field (`host.name`) at its top or in an
/// advisory's answer.
fn id_in(answer: &Value, id_field: &str) -> Option<String> {
    let at = |v: &Value| {
        id_field.split('.').try_fold(v, |node, key| node.get(key)).and_then(Value::as_str).map(str::to_string)
    };
    at(answer).or_else(|| answer.as_object()?.values().find_map(at))
}

/// What the table says of a host besides its answers: its name and Windows build (major.minor.build).
pub struct Host {
    pub id: Option<String>,
    pub build: String,
    /// The facts line, when it is a JSON document.
    pub facts: Option<String>,
}

/// The fact that holds a host's Windows build.
pub const BUILD_FIELD: &str = "os.version";
/// The fact that names a host's platform: a host on another platform than Windows is counted
/// under its platform's name, not under a build (a Linux kernel 6.1 is not Windows 7's 6.1).
pub const PLATFORM_FIELD: &str = "os.platform";

impl Host {
    /// Read off a facts document.
    pub fn read(raw: &[u8], id_field: &str, build_field: &str) -> Host {
        let facts: Value = serde_json::from_slice(raw).unwrap_or(Value::Null);
        let text = |path: &str| {
            path.split('.').try_fold(&facts, |node, key| node.get(key)).and_then(Value::as_str).map(str::to_string)
        };
        Host {
            // Kept for the host's own view; a document past 64 KiB is not shown there.
            facts: (facts.is_object() && raw.len() <= 1 << 16).then(|| String::from_utf8_lossy(raw).into_owned()),
            id: text(id_field),
            build: match text(PLATFORM_FIELD) {
                Some(platform) if !platform.eq_ignore_ascii_case("windows") => platform,
                _ => text(build_field).map(|b| b.split('.').take(3).collect::<Vec<_>>().join(".")).unwrap_or_default(),
            },
        }
    }
}

/// One host's answers read off for the report — the JSON parsed, each advisory's outcome, steps
/// and details found — with no counting yet: `batch`'s workers read hosts in parallel, and
/// [`Fleet::count`] adds them up in order.
pub struct Read {
    host: Host,
    /// Per advisory (its id; `None` for a single answer that does not name it).
    verdicts: Vec<(Option<String>, Verdict)>,
}

/// One advisory's answer for one host, as the report counts it.
struct Verdict {
    outcome: String,
    /// An input error's (code, field).
    error: Option<(String, String)>,
    /// The facts undetermined rules need, each once, with how a collector reads them.
    needed: Vec<(String, Option<String>)>,
    steps: Vec<String>,
    /// Whether every finding that holds the status back asks for a step.
    all_have_steps: bool,
    /// Its findings, undetermined rules or error, as compact JSON (the host's own view).
    details: Vec<String>,
}

/// Reads one host's answer (one advisory's, or several keyed by advisory id).
pub fn read(answer: &Value, host: Host) -> Read {
    let verdicts = if answer.get("status").is_some() || answer.get("error").is_some() {
        vec![(answer.get("advisory").and_then(Value::as_str).map(str::to_string), verdict(answer))]
    } else {
        answer.as_object().map(|m| m.iter().map(|(k, v)| (Some(k.clone()), verdict(v))).collect()).unwrap_or_default()
    };
    Read { host, verdicts }
}

fn verdict(v: &Value) -> Verdict {
    let details: Vec<String> = ["findings", "undetermined"]
        .iter()
        .flat_map(|key| v.get(*key).and_then(Value::as_array).into_iter().flatten())
        .chain(v.get("error").map(|_| v))
        .map(Value::to_string)
        .collect();
    if let Some(error) = v.get("error") {
        let code = error.get("code").and_then(Value::as_str).unwrap_or("?").to_string();
        let field = error.get("field").and_then(Value::as_str).unwrap_or_default().to_string();
        return Verdict {
            outcome: format!("error:{code}"),
            error: Some((code, field)),
            needed: Vec::new(),
            steps: Vec::new(),
            all_have_steps: false,
            details,
        };
    }
    let mut status = v.get("status").and_then(Value::as_str).unwrap_or("?").to_string();
    let mut needed: Vec<(String, Option<String>)> = Vec::new();
    for u in v.get("undetermined").and_then(Value::as_array).into_iter().flatten() {
        for n in u.get("needs").and_then(Value::as_array).into_iter().flatten() {
            let Some(fact) = n.get("fact").and_then(Value::as_str) else { continue };
            if !needed.iter().any(|(f, _)| f == fact) {
                needed.push((fact.to_string(), n.get("collect").and_then(Value::as_str).map(str::to_string)));
            }
        }
    }
    // `unknown` because facts are missing is not `unknown` because the advisory does not cover
    // the host: the report counts them apart.
    if status == "unknown" && !needed.is_empty() {
        status = UNDETERMINED.to_string();
    }
    let mut steps: Vec<String> = Vec::new();
    // An unsupported Windows version, say, is held back by a finding no step fixes.
    let mut all_have_steps = severity_rank(&status) >= severity_rank("action_required");
    for f in v.get("findings").and_then(Value::as_array).into_iter().flatten() {
        let severity = f.get("severity").and_then(Value::as_str).unwrap_or_default();
        let holds_back = severity != "info" && severity != "warning";
        let step = match f.get("any_of").and_then(Value::as_array) {
            Some(alternatives) if !alternatives.is_empty() => {
                let each: Vec<String> = alternatives.iter().filter_map(step_name).collect();
                (!each.is_empty()).then(|| each.join(" or "))
            }
            _ => step_name(f),
        };
        match step {
            Some(step) if holds_back => {
                if !steps.contains(&step) {
                    steps.push(step);
                }
            }
            Some(_) => {}
            None => all_have_steps &= !holds_back,
        }
    }
    Verdict { outcome: status, error: None, needed, steps, all_have_steps, details }
}

impl Fleet {
    /// Counts one host: its answer (one advisory's, or several keyed by advisory id). A host
    /// without a name is named by its line.
    pub fn add(&mut self, answer: &Value, host: Host) {
        self.count(read(answer, host));
    }

    /// Counts a host read by [`read`], in input order.
    pub fn count(&mut self, read: Read) {
        let Read { host, verdicts } = read;
        let id = host.id.unwrap_or_else(|| format!("line {}", self.rows.len() + 1));
        let facts = if self.rows.len() < FACTS_KEPT { host.facts } else { None };
        let mut row =
            Row { id, build: host.build, outcomes: Vec::new(), missing: Vec::new(), details: Vec::new(), facts };
        for (advisory, verdict) in verdicts {
            let advisory = advisory.or_else(|| self.ids.first().cloned()).unwrap_or_else(|| "answers".into());
            let at = match self.ids.iter().position(|x| *x == advisory) {
                Some(at) => at,
                None => {
                    self.ids.push(advisory);
                    self.advisories.push(Advisory::default());
                    self.ids.len() - 1
                }
            };
            let Some(a) = self.advisories.get_mut(at) else { continue };
            count(a, &verdict, &row.build);
            let none = self.outcomes.id("");
            while row.outcomes.len() < at {
                row.outcomes.push(none);
                row.missing.push(Vec::new());
                row.details.push(Vec::new());
            }
            row.outcomes.push(self.outcomes.id(&verdict.outcome));
            row.missing.push(verdict.steps.iter().map(|g| self.steps.id(g)).collect());
            row.details.push(verdict.details.iter().map(|d| self.details.id(d)).collect());
        }
        self.rows.push(row);
    }
}

/// Adds one verdict to its advisory's counts.
fn count(a: &mut Advisory, v: &Verdict, build: &str) {
    *a.outcomes.entry(v.outcome.clone()).or_default() += 1;
    *a.by_build.entry(build.to_string()).or_default().entry(v.outcome.clone()).or_default() += 1;
    if let Some(error) = &v.error {
        *a.errors.entry(error.clone()).or_default() += 1;
    }
    for (fact, collect) in &v.needed {
        let entry = a.to_collect.entry(fact.clone()).or_insert((0, collect.clone()));
        entry.0 += 1;
    }
    let rank = severity_rank(&v.outcome);
    for step in &v.steps {
        let entry = a.steps.entry(step.clone()).or_default();
        entry.needed += 1;
        entry.worst = entry.worst.max(rank);
        // Taking this one step moves the host to ready only when it is all that is missing.
        if v.all_have_steps && v.steps.len() == 1 {
            entry.alone += 1;
        }
    }
}

/// The step a finding (or one of its `any_of` alternatives) asks for, in words: `install KB1 or
/// KB2`, `certificate: NAME`, `component: NAME`, `setting: NAME`, `action: NAME`.
fn step_name(f: &Value) -> Option<String> {
    if let Some(kbs) = f.get("install_any_of").and_then(Value::as_array).filter(|k| !k.is_empty()) {
        return Some(format!("install {}", kbs.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" or ")));
    }
    ["certificate", "component", "setting", "action"].into_iter().find_map(|kind| {
        let name = match f.get(kind)? {
            Value::String(s) => s.clone(),
            Value::Object(o) => o.get("name").and_then(Value::as_str)?.to_string(),
            _ => return None,
        };
        Some(format!("{kind}: {name}"))
    })
}

/// The outcome of a host whose status is `unknown` because facts it did not send decide it.
pub const UNDETERMINED: &str = "undetermined";

/// HTML text with `<`, `>`, `&` and quotes escaped.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Horizontal bars, one per outcome, each labelled with its name, count and share (HTML, so
/// labels keep their size on a phone; the bar is only a picture of the share).
fn bars(outcomes: &BTreeMap<String, usize>, hosts: usize) -> String {
    let mut out = String::from("<div class=\"bars\" role=\"list\" aria-label=\"hosts by outcome\">");
    // Worst first, input errors last.
    let mut order: Vec<(&String, &usize)> = outcomes.iter().collect();
    order.sort_by_key(|(o, _)| (o.starts_with("error:"), std::cmp::Reverse(severity_rank(o)), o.to_string()));
    for (outcome, n) in order {
        let share = *n as f64 / hosts.max(1) as f64;
        out.push_str(&format!(
            "<div class=\"bar o-{class}\" role=\"listitem\"><span class=\"label\">{label}</span><span class=\"track\"><span class=\"fill\" style=\"width:{w:.1}%\"></span></span><span class=\"n\">{n} ({pct:.1} %)</span></div>",
            class = esc(&outcome.replace(':', "-")),
            label = esc(outcome),
            w = (share * 100.0).max(0.5),
            pct = share * 100.0
        ));
    }
    out.push_str("</div>");
    out
}

/// One advisory's step with its counts, for ranking: (advisory index, step index, counts).
type Ranked = (usize, u32, StepCount);

/// The steps of these advisories, worst outcome held back first, then most hosts made ready,
/// then most hosts needing it. `names` gives each step its index in the page's step list.
fn ranked(advisories: &[Advisory], names: &Names) -> Vec<Ranked> {
    let mut out: Vec<Ranked> = Vec::new();
    for (i, a) in advisories.iter().enumerate() {
        for (step, count) in &a.steps {
            if let Some(&id) = names.index.get(step) {
                out.push((i, id, *count));
            }
        }
    }
    let name = |id: u32| names.list.get(id as usize).map_or("", String::as_str);
    out.sort_by(|x, y| {
        (y.2.worst, y.2.alone, y.2.needed, x.0, name(x.1)).cmp(&(x.2.worst, x.2.alone, x.2.needed, y.0, name(y.1)))
    });
    out
}

/// A table of ranked steps, each a link that lists its hosts; `with_advisory` adds the
/// advisory's column (and the advisory indices are the page's; in a section they are its own).
fn steps_table(steps: &[Ranked], names: &Names, advisory_ids: Option<&[String]>) -> String {
    let with_advisory = advisory_ids.is_some();
    let mut out = String::from("<div class=\"scroll\"><table class=\"steps\"><thead><tr>");
    if with_advisory {
        out.push_str("<th>advisory</th>");
    }
    out.push_str("<th>step</th><th>worst outcome it holds back</th><th>hosts it alone makes ready</th><th>hosts that need it</th></tr></thead><tbody>");
    for (advisory, step, count) in steps {
        let worst = HELD_AT.get(count.worst as usize).copied().unwrap_or("");
        out.push_str("<tr>");
        if let Some(ids) = advisory_ids {
            out.push_str(&format!(
                "<td data-label=\"advisory\">{}</td>",
                esc(ids.get(*advisory).map_or("", String::as_str))
            ));
        }
        out.push_str(&format!(
            "<td data-label=\"step\"><a href=\"#hosts-section\" class=\"step\" data-step=\"{step}\"{adv}>{name}</a></td><td data-label=\"worst outcome\">{worst}</td><td data-label=\"makes ready alone\">{alone}</td><td data-label=\"hosts that need it\">{needed}</td></tr>",
            name = esc(names.list.get(*step as usize).map_or("", String::as_str)),
            adv = if with_advisory { format!(" data-advisory=\"{advisory}\"") } else { String::new() },
            alone = count.alone,
            needed = count.needed
        ));
    }
    out.push_str("</tbody></table></div>");
    out
}

/// JSON text safe inside a `<script>` element: `<`, `>`, `&` and the line separators U+2028 and
/// U+2029 written as `\u` escapes. They can only occur inside JSON strings, where the escape
/// means the same character.
pub fn script_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// An earlier run, read back from its report page: the host table's data.
#[derive(serde::Deserialize)]
pub struct Run {
    #[serde(skip)]
    name: String,
    advisories: Vec<String>,
    outcomes: Vec<String>,
    steps: Vec<String>,
    hosts: Vec<RunHost>,
}

/// A host of an earlier run: its name, outcome per advisory and steps per advisory (indices),
/// read from the page's row `[name, build, outcomes, steps, ...]` (what a row holds after them
/// is skipped, so pages of other versions read too).
struct RunHost {
    id: String,
    outcomes: Vec<u32>,
    steps: Vec<Vec<u32>>,
}

impl<'de> serde::Deserialize<'de> for RunHost {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{Error, IgnoredAny, SeqAccess, Visitor};
        struct Row;
        impl<'de> Visitor<'de> for Row {
            type Value = RunHost;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a host row [name, build, outcomes, steps, ...]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RunHost, A::Error> {
                let id: String = seq.next_element()?.ok_or_else(|| A::Error::invalid_length(0, &self))?;
                seq.next_element::<IgnoredAny>()?.ok_or_else(|| A::Error::invalid_length(1, &self))?;
                let outcomes = seq.next_element()?.ok_or_else(|| A::Error::invalid_length(2, &self))?;
                let steps = seq.next_element()?.ok_or_else(|| A::Error::invalid_length(3, &self))?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(RunHost { id, outcomes, steps })
            }
        }
        d.deserialize_seq(Row)
    }
}

impl Run {
    /// Reads the data a report page carries (`report` and `batch --report` write it).
    pub fn read(path: &Path) -> Result<Run, String> {
        // A page is a regular file of at most MAX_PAGE_BYTES: a device (`/dev/zero`) or a
        // runaway file is refused before it is read, not read until memory runs out.
        use std::io::Read as _;
        let cannot = |e: &dyn std::fmt::Display| format!("cannot read `{}`: {e}", path.display());
        match std::fs::metadata(path) {
            Ok(meta) if !meta.is_file() => {
                return Err(cannot(&"it is not a regular file; give the report page `preflight report` wrote"));
            }
            Ok(meta) if meta.len() > MAX_PAGE_BYTES => {
                return Err(cannot(&format!(
                    "it is longer than {} MiB, more than any report holds",
                    MAX_PAGE_BYTES >> 20
                )));
            }
            Ok(_) => {}
            Err(e) => return Err(cannot(&e)),
        }
        let mut html = String::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_PAGE_BYTES + 1).read_to_string(&mut html))
            .map_err(|e| cannot(&e))?;
        if html.len() as u64 > MAX_PAGE_BYTES {
            return Err(cannot(&format!("it is longer than {} MiB, more than any report holds", MAX_PAGE_BYTES >> 20)));
        }
        let not_a_report = || {
            format!(
                "`{}` is not a Preflight fleet report: give a page `preflight report` or `batch --report` wrote",
                path.display()
            )
        };
        let start = html.find(DATA_START).ok_or_else(not_a_report)? + DATA_START.len();
        let end = html.get(start..).and_then(|rest| rest.find("</script>")).ok_or_else(not_a_report)?;
        let data = html.get(start..start + end).ok_or_else(not_a_report)?;
        let mut run: Run = serde_json::from_str(data).map_err(|_| not_a_report())?;
        run.name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        Ok(run)
    }

    /// Host → (outcome name, step names) for one advisory.
    fn by_host(&self, advisory: &str) -> HashMap<&str, (&str, Vec<&str>)> {
        let Some(at) = self.advisories.iter().position(|a| a == advisory) else { return HashMap::new() };
        fn name(list: &[String], i: u32) -> &str {
            list.get(i as usize).map_or("", String::as_str)
        }
        self.hosts
            .iter()
            .filter_map(|h| {
                let outcome = name(&self.outcomes, *h.outcomes.get(at)?);
                let steps =
                    h.steps.get(at).map(|s| s.iter().map(|i| name(&self.steps, *i)).collect()).unwrap_or_default();
                (!outcome.is_empty()).then_some((h.id.as_str(), (outcome, steps)))
            })
            .collect()
    }

    /// Outcome → hosts, for one advisory.
    fn outcomes_of(&self, advisory: &str) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for (outcome, _) in self.by_host(advisory).into_values() {
            *out.entry(outcome.to_string()).or_default() += 1;
        }
        out
    }
}

/// The longest earlier report read (a million hosts make a page of about 120 MB).
const MAX_PAGE_BYTES: u64 = 512 << 20;

/// Where a page's data starts.
const DATA_START: &str = "<script type=\"application/json\" id=\"fleet-data\">";

/// What changed for one advisory since the last of `runs`, and its outcomes per run.
fn since(fleet: &Fleet, at: usize, id: &str, runs: &[Run]) -> String {
    let Some(last) = runs.last() else { return String::new() };
    let before = last.by_host(id);
    let name = |list: &Names, i: u32| list.list.get(i as usize).cloned().unwrap_or_default();
    let mut moved: BTreeMap<(String, String), usize> = BTreeMap::new();
    // Step → (needed then, needed now, done since, new since), over the hosts in both runs.
    let mut steps: BTreeMap<String, [usize; 4]> = BTreeMap::new();
    let (mut matched, mut added) = (0usize, 0usize);
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for row in &fleet.rows {
        let Some(&outcome) = row.outcomes.get(at) else { continue };
        let now = name(&fleet.outcomes, outcome);
        if now.is_empty() {
            continue;
        }
        let Some((then, then_steps)) = before.get(row.id.as_str()) else {
            added += 1;
            continue;
        };
        seen.insert(row.id.as_str());
        matched += 1;
        if *then != now {
            *moved.entry((then.to_string(), now.clone())).or_default() += 1;
        }
        let now_steps: Vec<String> =
            row.missing.get(at).map(|m| m.iter().map(|i| name(&fleet.steps, *i)).collect()).unwrap_or_default();
        for step in then_steps {
            let entry = steps.entry(step.to_string()).or_default();
            entry[0] += 1;
            if !now_steps.iter().any(|s| s == step) {
                entry[2] += 1;
            }
        }
        for step in &now_steps {
            let entry = steps.entry(step.clone()).or_default();
            entry[1] += 1;
            if !then_steps.contains(&step.as_str()) {
                entry[3] += 1;
            }
        }
    }
    let gone = before.keys().filter(|h| !seen.contains(*h)).count();
    let mut out = format!(
        "<h3>Since {}</h3><p>{matched} hosts in both runs; {added} new, {gone} no longer in the fleet.</p>",
        esc(&last.name)
    );
    if moved.is_empty() {
        out.push_str("<p>No host changed outcome.</p>");
    } else {
        let mut moved: Vec<((String, String), usize)> = moved.into_iter().collect();
        moved.sort_by(|x, y| (y.1, &x.0).cmp(&(x.1, &y.0)));
        out.push_str("<div class=\"scroll\"><table class=\"moved\"><thead><tr><th>was</th><th>is now</th><th>hosts</th></tr></thead><tbody>");
        for ((from, to), n) in moved {
            out.push_str(&format!(
                "<tr><td data-label=\"was\">{}</td><td data-label=\"is now\">{}</td><td data-label=\"hosts\">{n}</td></tr>",
                esc(&from),
                esc(&to)
            ));
        }
        out.push_str("</tbody></table></div>");
    }
    if !steps.is_empty() {
        let mut steps: Vec<(String, [usize; 4])> = steps.into_iter().collect();
        steps.sort_by(|x, y| (y.1[2], y.1[1], &x.0).cmp(&(x.1[2], x.1[1], &y.0)));
        out.push_str("<div class=\"scroll\"><table class=\"progress\"><thead><tr><th>step</th><th>hosts that needed it then</th><th>need it now</th><th>done since</th><th>newly need it</th></tr></thead><tbody>");
        for (step, [then, now, done, new]) in steps {
            out.push_str(&format!(
                "<tr><td data-label=\"step\">{}</td><td data-label=\"needed then\">{then}</td><td data-label=\"need it now\">{now}</td><td data-label=\"done since\">{done}</td><td data-label=\"newly need it\">{new}</td></tr>",
                esc(&step)
            ));
        }
        out.push_str("</tbody></table></div>");
    }
    // The outcomes per run, oldest first, this one last.
    {
        let current = fleet.advisories.get(at).map(|a| a.outcomes.clone()).unwrap_or_default();
        let mut series: Vec<(String, BTreeMap<String, usize>)> =
            runs.iter().map(|r| (r.name.clone(), r.outcomes_of(id))).collect();
        series.push(("this run".to_string(), current));
        out.push_str("<h3>Outcomes per run</h3><div class=\"runs\">");
        for (run, outcomes) in &series {
            let total: usize = outcomes.values().sum();
            out.push_str(&format!(
                "<div class=\"run\"><span class=\"label\">{}</span><span class=\"stack\">",
                esc(run)
            ));
            let mut order: Vec<(&String, &usize)> = outcomes.iter().collect();
            order.sort_by_key(|(o, _)| (o.starts_with("error:"), std::cmp::Reverse(severity_rank(o)), o.to_string()));
            for (outcome, n) in &order {
                let share = **n as f64 / total.max(1) as f64 * 100.0;
                out.push_str(&format!(
                    "<span class=\"fill o-{class}\" style=\"width:{share:.1}%\" title=\"{label}: {n}\"></span>",
                    class = esc(&outcome.replace(':', "-")),
                    label = esc(outcome)
                ));
            }
            let counts: Vec<String> = order.iter().map(|(o, n)| format!("{} {n}", esc(o))).collect();
            out.push_str(&format!("</span><span class=\"n\">{}</span></div>", counts.join(" · ")));
        }
        out.push_str("</div>");
    }
    out
}

pub fn page(fleet: &Fleet) -> String {
    page_with(fleet, &[])
}

/// The page, with what changed since the earlier runs (oldest first) when there are some.
pub fn page_with(fleet: &Fleet, runs: &[Run]) -> String {
    let (ids, advisories, rows) = (&fleet.ids, &fleet.advisories, &fleet.rows);
    let hosts = rows.len();
    let mut body = String::new();
    // What to do first, across every advisory; then one section per advisory.
    body.push_str("<nav class=\"jump\">Advisories: ");
    for (i, id) in ids.iter().enumerate() {
        body.push_str(&format!("<a href=\"#advisory-{i}\">{}</a> ", esc(id)));
    }
    body.push_str("<a href=\"#hosts-section\">Hosts</a></nav>");
    body.push_str("<section id=\"first\"><h2>Do this first</h2>");
    let first = ranked(advisories, &fleet.steps);
    if first.is_empty() {
        body.push_str("<p>No host needs a step.</p>");
    } else {
        body.push_str("<p>Every step the answers ask for, the worst outcome it holds hosts at first, then by the hosts it alone would make ready. A step lists its hosts.</p>");
        body.push_str(&steps_table(&first, &fleet.steps, Some(ids)));
    }
    body.push_str("</section>");
    for (i, (id, a)) in ids.iter().zip(advisories).enumerate() {
        body.push_str(&format!("<section id=\"advisory-{i}\" data-advisory=\"{i}\"><h2>{}</h2>", esc(id)));
        body.push_str(&format!("<p>{hosts} hosts</p>{}", bars(&a.outcomes, hosts)));
        body.push_str(&since(fleet, i, id, runs));
        // Hosts by build and outcome.
        let columns: Vec<&String> = a.outcomes.keys().collect();
        body.push_str("<h3>Hosts by Windows build (other platforms by name)</h3><div class=\"scroll\"><table><thead><tr><th>build</th>");
        for c in &columns {
            body.push_str(&format!("<th>{}</th>", esc(c)));
        }
        body.push_str("</tr></thead><tbody>");
        // Builds in version order (10.0.19044 after 6.1.7601), other platforms after them, hosts
        // without either last.
        let mut builds: Vec<(&String, &BTreeMap<String, usize>)> = a.by_build.iter().collect();
        let key = |b: &str| {
            let parts: Vec<u64> = b.split('.').map(|p| p.parse().unwrap_or(u64::MAX)).collect();
            (b.is_empty(), parts)
        };
        builds.sort_by_cached_key(|(b, _)| key(b));
        for (build, counts) in builds {
            let name = if build.is_empty() { "(none)" } else { build };
            body.push_str(&format!("<tr><td>{}</td>", esc(name)));
            for c in &columns {
                body.push_str(&format!("<td>{}</td>", counts.get(*c).copied().unwrap_or(0)));
            }
            body.push_str("</tr>");
        }
        body.push_str("</tbody></table></div>");
        // Every step, ranked as "Do this first" ranks them.
        body.push_str("<h3>Steps</h3>");
        let steps = ranked(std::slice::from_ref(a), &fleet.steps);
        if steps.is_empty() {
            body.push_str("<p>No host needs a step.</p>");
        } else {
            body.push_str(&steps_table(&steps, &fleet.steps, None));
        }
        if !a.to_collect.is_empty() {
            let undecided = a.outcomes.get(UNDETERMINED).copied().unwrap_or(0);
            body.push_str(&format!(
                "<h3>Facts to collect</h3><p>{undecided} hosts cannot be decided until these facts are collected (hosts that are decided may still lack some, for notices).</p><div class=\"scroll\"><table><thead><tr><th>fact</th><th>how a collector reads it</th><th>hosts without it</th></tr></thead><tbody>"
            ));
            let mut facts: Vec<(&String, &(usize, Option<String>))> = a.to_collect.iter().collect();
            facts.sort_by(|x, y| (y.1.0, x.0).cmp(&(x.1.0, y.0)));
            for (fact, (n, collect)) in facts {
                let how = collect.as_deref().unwrap_or("");
                body.push_str(&format!("<tr><td>{}</td><td>{}</td><td>{n}</td></tr>", esc(fact), esc(how)));
            }
            body.push_str("</tbody></table></div>");
        }
        if !a.errors.is_empty() {
            body.push_str(
                "<h3>Input errors</h3><div class=\"scroll\"><table><thead><tr><th>code</th><th>field</th><th>hosts</th></tr></thead><tbody>",
            );
            for ((code, field), n) in &a.errors {
                body.push_str(&format!("<tr><td>{}</td><td>{}</td><td>{n}</td></tr>", esc(code), esc(field)));
            }
            body.push_str("</tbody></table></div>");
        }
        body.push_str("</section>");
    }
    // The host table's data, written as it goes (a million hosts make tens of megabytes):
    // outcomes and groups as indices into their lists. No `<`, `>` or `&` is written raw, so no
    // text can end the script or move the HTML tokenizer into another state (`<!--<script>`).
    let summary: serde_json::Map<String, Value> = ids
        .iter()
        .zip(advisories)
        .map(|(id, a)| (id.clone(), json!({ "hosts": hosts, "outcomes": a.outcomes })))
        .collect();
    let text = |v: &str| script_json(&Value::from(v).to_string());
    let list = |names: &[String]| format!("[{}]", names.iter().map(|n| text(n)).collect::<Vec<_>>().join(","));
    let mut data = String::with_capacity(64 + rows.len() * 40);
    data.push_str(&format!(
        "{{\"advisories\":{},\"summary\":{},\"outcomes\":{},\"steps\":{},\"details\":[{}],\"facts_kept\":{FACTS_KEPT},\"hosts\":[",
        list(ids),
        script_json(&Value::Object(summary).to_string()),
        list(&fleet.outcomes.list),
        list(&fleet.steps.list),
        fleet.details.list.iter().map(|d| script_json(d)).collect::<Vec<_>>().join(",")
    ));
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            data.push(',');
        }
        let numbers = |list: &[u32]| list.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        let lists =
            |lists: &[Vec<u32>]| lists.iter().map(|l| format!("[{}]", numbers(l))).collect::<Vec<_>>().join(",");
        let (outcomes, missing, details) = (numbers(&r.outcomes), lists(&r.missing), lists(&r.details));
        let facts = r.facts.as_deref().map_or_else(|| "null".to_string(), text);
        data.push_str(&format!("[{},{},[{outcomes}],[{missing}],[{details}],{facts}]", text(&r.id), text(&r.build)));
    }
    data.push_str("]}");
    let mut out = String::with_capacity(TEMPLATE.len() + body.len() + data.len());
    let mut rest = TEMPLATE;
    for (mark, value) in [("{{hosts}}", hosts.to_string()), ("{{body}}", body), ("{{data}}", data)] {
        let (before, after) = rest.split_once(mark).unwrap_or((rest, ""));
        out.push_str(before);
        out.push_str(&value);
        rest = after;
    }
    out.push_str(rest);
    out
}

const TEMPLATE: &str = include_str!("report.html");
