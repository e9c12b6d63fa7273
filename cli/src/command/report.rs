//! `preflight report ANSWERS.jsonl --facts FACTS.jsonl [-o fleet.html]`: a fleet's answers as one
//! self-contained HTML page (no network: it opens from a mail attachment or a file share).
//!
//! Everything is counted here, in Rust, in one pass over the two files (answer N is the answer to
//! facts line N, as `batch` writes them): per advisory, the outcomes (the same keys and counts as
//! `batch --summary json`), hosts by Windows version (named by the rules' `os` declarations; other
//! platforms by name) and outcome, by `--group-by` group and outcome, every step findings ask for
//! (an update group — alternatives counted once: `KB1 or KB2` is one step —, a certificate, a
//! component, a setting, an action, or alternatives of different kinds) with the hosts it alone
//! would move to `ready`, and input errors by code and field. The page opens with "Do this
//! first": the steps of every advisory ranked by the worst outcome they hold back, then by the
//! hosts they would make ready, each a link to its hosts. Counts are tables and labelled bars (so
//! colour carries no meaning alone); the host table is data read by a few lines of script that
//! show it a page at a time, filter it (by any step, version or group) and export it as CSV.
//!
//! Hosts are read ([`read`]) on every core — by `batch`'s workers, or by this command's own —
//! and counted in input order on one thread; a host's steps and findings are lists of indices,
//! each distinct list stored once, so a million hosts fit in a few hundred megabytes.

mod read;

pub use read::{BUILD_FIELD, Fields, Host, Read, Reader, Shared};

use crate::common::printable;
use crate::output::{Input, refuse_inputs};
use read::Verdict;
use rustc_hash::FxHashMap;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// What one advisory's answers add up to.
#[derive(Default)]
struct Advisory {
    outcomes: BTreeMap<String, usize>,
    /// (Windows version or platform, outcome) → hosts (indices into `Fleet::oses`, `outcomes`).
    by_os: FxHashMap<(u32, u32), usize>,
    /// (group, outcome) → hosts, with `--group-by`.
    by_group: FxHashMap<(u32, u32), usize>,
    /// A step ("install KB1 or KB2", "certificate: NAME", ...) → what it would do.
    steps: FxHashMap<String, StepCount>,
    /// (code, field) → hosts.
    errors: BTreeMap<(String, String), usize>,
    /// A fact undetermined rules need → (hosts that lack it, how a collector reads it).
    to_collect: BTreeMap<String, (usize, Option<String>)>,
    /// The rules' `os` ids → names, when the rules are known.
    os_names: FxHashMap<String, String>,
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

/// One host's row in the table, all of it indices into the fleet's lists (a million hosts must
/// fit in memory many times over).
struct Row {
    id: Box<str>,
    /// Its Windows version (or platform, or build) in `Fleet::oses`.
    os: u32,
    /// Its group in `Fleet::groups` (with `--group-by`).
    group: u32,
    /// Per advisory: [outcome, steps (a list in `step_lists`), findings and undetermined rules
    /// (a list in `detail_lists`)].
    cells: Box<[[u32; 3]]>,
    /// The facts line, for the first [`FACTS_KEPT`] hosts.
    facts: Option<Box<str>>,
}

/// Hosts whose facts the page keeps for their detail view (a million facts lines would make the
/// page hundreds of megabytes; findings are kept for every host, each distinct one once).
pub const FACTS_KEPT: usize = 20_000;

/// Names (outcomes, steps, versions, groups, finding texts), each stored once.
#[derive(Default)]
pub struct Names {
    list: Vec<String>,
    index: FxHashMap<String, u32>,
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

    fn name(&self, i: u32) -> &str {
        self.list.get(i as usize).map_or("", String::as_str)
    }
}

/// Lists of indices, each distinct one stored once: most hosts share their steps and findings.
#[derive(Default)]
struct Lists {
    list: Vec<Box<[u32]>>,
    index: FxHashMap<Box<[u32]>, u32>,
}

impl Lists {
    fn id(&mut self, items: &[u32]) -> u32 {
        if let Some(&i) = self.index.get(items) {
            return i;
        }
        let i = u32::try_from(self.list.len()).unwrap_or(u32::MAX);
        self.list.push(items.into());
        self.index.insert(items.into(), i);
        i
    }

    fn get(&self, i: u32) -> &[u32] {
        self.list.get(i as usize).map_or(&[], |l| l)
    }
}

/// What the rules say of an advisory that its answers do not: its title and the names of its
/// Windows versions. From a rules file, or from a module's metadata.
#[derive(Clone)]
pub struct About {
    pub id: String,
    pub title: String,
    /// `os` declarations in order: (id, name).
    pub oses: Vec<(String, String)>,
}

impl About {
    pub fn of_program(program: &preflight_compiler::Program) -> About {
        About {
            id: program.advisory.id.clone(),
            title: program.advisory.title.clone(),
            oses: program.oses.iter().map(|os| (os.id.clone(), os.name.clone())).collect(),
        }
    }

    /// From a module's metadata (`preflight inspect`); `None` when it names no advisory.
    pub fn of_metadata(metadata: &Value) -> Option<About> {
        let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
        let advisory = metadata.get("advisory")?;
        Some(About {
            id: text(advisory, "id")?,
            title: text(advisory, "title").unwrap_or_default(),
            oses: metadata
                .get("oses")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|os| Some((text(os, "id")?, text(os, "name")?)))
                .collect(),
        })
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
    step_lists: Lists,
    detail_lists: Lists,
    /// Findings and undetermined entries as compact JSON, shared with the readers.
    details: Shared,
    /// Windows versions by name, other platforms, builds no declaration names.
    oses: Names,
    groups: Names,
    about: Vec<About>,
    /// The fact hosts are grouped by.
    group_by: Option<String>,
}

impl Fleet {
    /// An empty fleet, with what the rules say of each advisory and the fact to group by.
    pub fn new(about: Vec<About>, group_by: Option<&str>) -> Fleet {
        Fleet { about, group_by: group_by.map(str::to_string), ..Fleet::default() }
    }

    /// The texts this fleet's readers share.
    pub fn shared(&self) -> Shared {
        self.details.clone()
    }

    /// Counts a host read by a [`Reader`], in input order. A host without a name is named by
    /// its line.
    pub fn count(&mut self, read: Read) {
        let Read { host, verdicts, .. } = read;
        let id = host.id.unwrap_or_else(|| format!("line {}", self.rows.len() + 1));
        let facts = if self.rows.len() < FACTS_KEPT { host.facts.map(String::into_boxed_str) } else { None };
        let group = self.groups.id(&host.group);
        let none = [self.outcomes.id(""), self.step_lists.id(&[]), self.detail_lists.id(&[])];
        let mut cells: Vec<[u32; 3]> = Vec::with_capacity(self.ids.len());
        // Named by its Windows version where an answer names it; else by its platform or build
        // (interned only when used, so the version list holds no label no host is shown under).
        let mut fallback: Option<u32> = None;
        let mut named_os: Option<u32> = None;
        for (advisory, verdict) in verdicts {
            let at = self.advisory_at(advisory);
            let name = verdict.os.as_deref().and_then(|os| self.advisories.get(at)?.os_names.get(os)).cloned();
            let os = match name {
                Some(name) => {
                    let os = self.oses.id(&name);
                    named_os = named_os.or(Some(os));
                    os
                }
                None => *fallback.get_or_insert_with(|| self.oses.id(&host.build)),
            };
            let outcome = self.outcomes.id(&verdict.outcome);
            let steps: Vec<u32> = verdict.steps.iter().map(|s| self.steps.id(s)).collect();
            let cell = [outcome, self.step_lists.id(&steps), self.detail_lists.id(&verdict.details)];
            if let Some(a) = self.advisories.get_mut(at) {
                count(a, &verdict, outcome, os, group);
            }
            if cells.len() <= at {
                cells.resize(at + 1, none);
            }
            if let Some(c) = cells.get_mut(at) {
                *c = cell;
            }
        }
        let os = named_os.unwrap_or_else(|| *fallback.get_or_insert_with(|| self.oses.id(&host.build)));
        self.rows.push(Row { id: id.into_boxed_str(), os, group, cells: cells.into_boxed_slice(), facts });
    }

    /// The index of an advisory's counts (a new one for an id not seen before; a single answer
    /// that names no advisory belongs to the first).
    fn advisory_at(&mut self, advisory: Option<String>) -> usize {
        let advisory = advisory.or_else(|| self.ids.first().cloned()).unwrap_or_else(|| "answers".into());
        if let Some(at) = self.ids.iter().position(|x| *x == advisory) {
            return at;
        }
        let os_names =
            self.about.iter().find(|a| a.id == advisory).map(|a| a.oses.iter().cloned().collect()).unwrap_or_default();
        self.ids.push(advisory);
        self.advisories.push(Advisory { os_names, ..Advisory::default() });
        self.ids.len() - 1
    }

    /// An advisory's title, or its id when the rules are not known.
    fn title(&self, id: &str) -> String {
        self.about
            .iter()
            .find(|a| a.id == id && !a.title.is_empty())
            .map_or_else(|| id.to_string(), |a| a.title.clone())
    }

    /// The order versions are listed in: declared Windows versions as the rules declare them,
    /// then builds no declaration names (in version order), other platforms, hosts without
    /// either last. Returns each label's position.
    fn os_order(&self) -> Vec<u32> {
        let mut declared: FxHashMap<&str, usize> = FxHashMap::default();
        for name in self.about.iter().flat_map(|a| a.oses.iter().map(|(_, name)| name.as_str())) {
            let next = declared.len();
            declared.entry(name).or_insert(next);
        }
        let key = |label: &str| {
            let parts: Option<Vec<u64>> = label.split('.').map(|p| p.parse().ok()).collect();
            match (declared.get(label), parts) {
                _ if label.is_empty() => (3, 0, Vec::new()),
                (Some(&i), _) => (0, i, Vec::new()),
                (None, Some(parts)) => (1, 0, parts),
                (None, None) => (2, 0, Vec::new()),
            }
        };
        order_of(&self.oses, |a, b| key(a).cmp(&key(b)).then_with(|| a.cmp(b)))
    }
}

/// Each name's position when the names are sorted by `cmp`.
fn order_of(names: &Names, cmp: impl Fn(&str, &str) -> std::cmp::Ordering) -> Vec<u32> {
    let mut sorted: Vec<u32> = (0..names.list.len()).filter_map(|i| u32::try_from(i).ok()).collect();
    sorted.sort_by(|&a, &b| cmp(names.name(a), names.name(b)));
    let mut position = vec![0u32; sorted.len()];
    for (at, &i) in sorted.iter().enumerate() {
        if let Some(p) = position.get_mut(i as usize) {
            *p = u32::try_from(at).unwrap_or(u32::MAX);
        }
    }
    position
}

/// Adds one verdict to its advisory's counts.
fn count(a: &mut Advisory, v: &Verdict, outcome: u32, os: u32, group: u32) {
    match a.outcomes.get_mut(&v.outcome) {
        Some(n) => *n += 1,
        None => {
            a.outcomes.insert(v.outcome.clone(), 1);
        }
    }
    *a.by_os.entry((os, outcome)).or_default() += 1;
    *a.by_group.entry((group, outcome)).or_default() += 1;
    if let Some(error) = &v.error {
        *a.errors.entry(error.clone()).or_default() += 1;
    }
    for (fact, collect) in &v.needed {
        let entry = a.to_collect.entry(fact.clone()).or_insert((0, collect.clone()));
        entry.0 += 1;
    }
    let rank = severity_rank(&v.outcome);
    for step in &v.steps {
        let entry = match a.steps.get_mut(step) {
            Some(entry) => entry,
            None => a.steps.entry(step.clone()).or_default(),
        };
        entry.needed += 1;
        entry.worst = entry.worst.max(rank);
        // Taking this one step moves the host to ready only when it is all that is missing.
        if v.all_have_steps && v.steps.len() == 1 {
            entry.alone += 1;
        }
    }
}

pub struct Options<'a> {
    pub answers: &'a str,
    pub facts: &'a str,
    pub fields: Fields,
    pub output: Option<&'a Path>,
    /// Reports of earlier runs, oldest first.
    pub previous: &'a [PathBuf],
    /// What the rules say of each advisory.
    pub about: Vec<About>,
    pub threads: usize,
}

pub fn run(o: &Options<'_>) -> Result<u8, String> {
    let inputs: [Input<'_>; 2] = [("the answers", Path::new(o.answers)), ("the facts", Path::new(o.facts))];
    if let Some(output) = o.output {
        refuse_inputs(output, &inputs)?;
    }
    let open = |path: &str| -> Result<Box<dyn BufRead + Send>, String> {
        let file = std::fs::File::open(path).map_err(|e| format!("cannot read `{path}`: {e}"))?;
        Ok(Box::new(std::io::BufReader::with_capacity(1 << 16, file)))
    };
    let runs: Vec<Run> = o.previous.iter().map(|p| Run::read(p)).collect::<Result<_, _>>()?;
    let (answers, facts) = (open(o.answers)?, open(o.facts)?);
    let fleet = Fleet::new(o.about.clone(), o.fields.group.as_deref());
    let fleet = aggregate(fleet, answers, facts, &o.fields, o.threads)?;
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

/// Lines read per round: each round is read on every core, then counted in order.
const ROUND: usize = 8192;

/// Reads the two files in step, line by line as `batch` reads its input (LF, CRLF or a lone CR;
/// any bytes; a line over 1 MiB kept to its first MiB): answer N belongs to the host of facts
/// line N. The files must have as many lines, and when an answer names its host (the id field)
/// it must be the host the facts name. An answer that is not JSON counts as unreadable, with a
/// note naming its line; it never stops the report.
pub fn aggregate(
    mut fleet: Fleet,
    answers: impl BufRead,
    facts: impl BufRead,
    fields: &Fields,
    threads: usize,
) -> Result<Fleet, String> {
    let max = preflight_compiler::facts::MAX_INPUT_BYTES;
    let (mut answers, mut facts) = (super::batch::Lines::new(answers, max), super::batch::Lines::new(facts, max));
    let (mut unreadable, mut long_facts): (Vec<usize>, Vec<usize>) = (Vec::new(), Vec::new());
    let mut readers: Vec<Reader> = (0..threads.max(1)).map(|_| Reader::new(fields.clone(), fleet.shared())).collect();
    let mut n = 0usize;
    let mut ended = false;
    while !ended {
        let mut round: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(ROUND);
        while round.len() < ROUND {
            let answer = answers.next_line().map_err(|e| format!("cannot read the answers: {e}"))?;
            let host = facts.next_line().map_err(|e| format!("cannot read the facts: {e}"))?;
            let line = n + round.len();
            match (answer, host) {
                (None, None) => {
                    ended = true;
                    break;
                }
                (Some(_), None) => {
                    return Err(format!(
                        "the facts end after line {line} but the answers go on: give the facts file `batch` answered (line N of the answers is the host on line N of the facts)"
                    ));
                }
                (None, Some(_)) => {
                    return Err(format!(
                        "the answers end after line {line} but the facts go on: give the answers `batch` wrote for these facts, complete (line N of the answers is the host on line N of the facts)"
                    ));
                }
                (Some((answer, _)), Some((host, _))) => round.push((answer, host)),
            }
        }
        // Each reader takes a share of the round; the shares are counted back in order.
        let share = round.len().div_ceil(readers.len()).max(1);
        let read: Result<Vec<Vec<Read>>, String> = std::thread::scope(|scope| {
            let handles: Vec<_> = round
                .chunks(share)
                .zip(readers.iter_mut())
                .map(|(lines, reader)| {
                    scope.spawn(move || {
                        lines
                            .iter()
                            .map(|(answer, host)| {
                                if answer.len() > max {
                                    let host = Host::read(host, reader.fields());
                                    reader.unanswered(host, None, "too_large", "the answer line is longer than 1 MiB")
                                } else {
                                    reader.read_line(answer, host)
                                }
                            })
                            .collect()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().map_err(|_| "a reader thread failed".to_string())).collect()
        });
        for (read, (answer, host)) in read?.into_iter().flatten().zip(&round) {
            n += 1;
            if host.len() > max {
                long_facts.push(n);
            }
            if read.unreadable && answer.len() <= max || answer.len() > max {
                unreadable.push(n);
            }
            if let (Some(named), Some(id)) = (&read.named, &read.host.id)
                && named != id
            {
                return Err(format!(
                    "answer line {n} is for host `{}` but facts line {n} is host `{}`: the files are not in step; give the facts file `batch` answered",
                    printable(named),
                    printable(id)
                ));
            }
            fleet.count(read);
        }
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
fn steps_table(steps: &[Ranked], names: &Names, titles: Option<&[String]>) -> String {
    let with_advisory = titles.is_some();
    let mut out = String::from("<div class=\"scroll\"><table class=\"steps\"><thead><tr>");
    if with_advisory {
        out.push_str("<th>advisory</th>");
    }
    out.push_str("<th>step</th><th>worst outcome it holds back</th><th>hosts it alone makes ready</th><th>hosts that need it</th></tr></thead><tbody>");
    for (advisory, step, count) in steps {
        let worst = HELD_AT.get(count.worst as usize).copied().unwrap_or("");
        out.push_str("<tr>");
        if let Some(ids) = titles {
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
    /// Lists of steps a row refers to (pages from before rows referred to lists carry none).
    #[serde(default)]
    step_lists: Vec<Vec<u32>>,
    hosts: Vec<RunHost>,
}

/// A host of an earlier run: its name, and per advisory its outcome and steps, read from the
/// page's row `[name, version, outcomes, steps, ...]` (what a row holds after them is skipped,
/// so pages of other versions read too).
struct RunHost {
    id: Box<str>,
    outcomes: Box<[u32]>,
    steps: Box<[StepsOf]>,
}

/// A row's steps for one advisory: a list in the page's `step_lists`, or (older pages) the
/// steps themselves.
enum StepsOf {
    List(u32),
    Inline(Box<[u32]>),
}

impl<'de> serde::Deserialize<'de> for StepsOf {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{Error, SeqAccess, Visitor};
        struct Steps;
        impl<'de> Visitor<'de> for Steps {
            type Value = StepsOf;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of steps or a list's index")
            }
            fn visit_u64<E: Error>(self, v: u64) -> Result<StepsOf, E> {
                u32::try_from(v).map(StepsOf::List).map_err(|_| E::custom("index out of range"))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StepsOf, A::Error> {
                let mut out = Vec::new();
                while let Some(i) = seq.next_element::<u32>()? {
                    out.push(i);
                }
                Ok(StepsOf::Inline(out.into_boxed_slice()))
            }
        }
        d.deserialize_any(Steps)
    }
}

impl<'de> serde::Deserialize<'de> for RunHost {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{Error, IgnoredAny, SeqAccess, Visitor};
        struct Row;
        impl<'de> Visitor<'de> for Row {
            type Value = RunHost;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a host row [name, version, outcomes, steps, ...]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RunHost, A::Error> {
                let id: Box<str> = seq.next_element()?.ok_or_else(|| A::Error::invalid_length(0, &self))?;
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

    /// Host → its index, for the hosts with an answer from this advisory (at `at`).
    fn by_host(&self, at: Option<usize>) -> FxHashMap<&str, u32> {
        let Some(at) = at else { return FxHashMap::default() };
        self.hosts
            .iter()
            .enumerate()
            .filter(|(_, h)| !self.outcome(h, at).is_empty())
            .filter_map(|(i, h)| Some((&*h.id, u32::try_from(i).ok()?)))
            .collect()
    }

    fn at(&self, advisory: &str) -> Option<usize> {
        self.advisories.iter().position(|a| a == advisory)
    }

    fn outcome(&self, host: &RunHost, at: usize) -> &str {
        let i = host.outcomes.get(at).copied().unwrap_or(u32::MAX);
        self.outcomes.get(i as usize).map_or("", String::as_str)
    }

    /// A host's steps for one advisory, by name.
    fn steps_of(&self, host: &RunHost, at: usize) -> Vec<&str> {
        let ids: &[u32] = match host.steps.get(at) {
            Some(StepsOf::Inline(ids)) => ids,
            Some(StepsOf::List(list)) => self.step_lists.get(*list as usize).map_or(&[], Vec::as_slice),
            None => &[],
        };
        ids.iter().map(|i| self.steps.get(*i as usize).map_or("", String::as_str)).collect()
    }

    /// Outcome → hosts, for one advisory.
    fn outcomes_of(&self, advisory: &str) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        let Some(at) = self.at(advisory) else { return out };
        for host in &self.hosts {
            let outcome = self.outcome(host, at);
            if !outcome.is_empty() {
                *out.entry(outcome.to_string()).or_default() += 1;
            }
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
    let then_at = last.at(id);
    let before = last.by_host(then_at);
    let mut moved: BTreeMap<(String, String), usize> = BTreeMap::new();
    // Step → (needed then, needed now, done since, new since), over the hosts in both runs.
    let mut steps: BTreeMap<String, [usize; 4]> = BTreeMap::new();
    let (mut matched, mut added) = (0usize, 0usize);
    let mut seen: rustc_hash::FxHashSet<&str> = rustc_hash::FxHashSet::default();
    for row in &fleet.rows {
        let Some(&[outcome, now_steps, _]) = row.cells.get(at) else { continue };
        let now = fleet.outcomes.name(outcome);
        if now.is_empty() {
            continue;
        }
        let (Some(&then_host), Some(then_at)) = (before.get(&*row.id), then_at) else {
            added += 1;
            continue;
        };
        let Some(then_host) = last.hosts.get(then_host as usize) else { continue };
        seen.insert(&row.id);
        matched += 1;
        let then = last.outcome(then_host, then_at);
        if then != now {
            *moved.entry((then.to_string(), now.to_string())).or_default() += 1;
        }
        let then_steps = last.steps_of(then_host, then_at);
        let now_steps: Vec<&str> = fleet.step_lists.get(now_steps).iter().map(|i| fleet.steps.name(*i)).collect();
        for step in &then_steps {
            let entry = steps.entry(step.to_string()).or_default();
            entry[0] += 1;
            if !now_steps.contains(step) {
                entry[2] += 1;
            }
        }
        for step in &now_steps {
            let entry = steps.entry(step.to_string()).or_default();
            entry[1] += 1;
            if !then_steps.contains(step) {
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
    let titles: Vec<String> = ids.iter().map(|id| fleet.title(id)).collect();
    let hosts = rows.len();
    let os_order = fleet.os_order();
    let group_order = order_of(&fleet.groups, |a, b| (a.is_empty(), a).cmp(&(b.is_empty(), b)));
    let mut body = String::new();
    // What to do first, across every advisory; then one section per advisory.
    body.push_str("<nav class=\"jump\">Advisories: ");
    for (i, title) in titles.iter().enumerate() {
        body.push_str(&format!("<a href=\"#advisory-{i}\">{}</a> ", esc(title)));
    }
    body.push_str("<a href=\"#hosts-section\">Hosts</a></nav>");
    body.push_str("<section id=\"first\"><h2>Do this first</h2>");
    let first = ranked(advisories, &fleet.steps);
    if first.is_empty() {
        body.push_str("<p>No host needs a step.</p>");
    } else {
        body.push_str("<p>Every step the answers ask for, the worst outcome it holds hosts at first, then by the hosts it alone would make ready. A step lists its hosts.</p>");
        body.push_str(&steps_table(&first, &fleet.steps, Some(&titles)));
    }
    body.push_str("</section>");
    for (i, ((id, title), a)) in ids.iter().zip(&titles).zip(advisories).enumerate() {
        body.push_str(&format!(
            "<section id=\"advisory-{i}\" data-advisory=\"{i}\"><h2>{}</h2><p class=\"about\">advisory <code>{}</code> · {hosts} hosts</p>",
            esc(title),
            esc(id)
        ));
        body.push_str(&bars(&a.outcomes, hosts));
        body.push_str(&since(fleet, i, id, runs));
        // Hosts by Windows version and outcome, in the rules' order.
        body.push_str("<h3>Hosts by Windows version (other platforms by name)</h3>");
        body.push_str(&outcome_table(fleet, a, ("version", "Windows version"), &a.by_os, &fleet.oses, &os_order));
        if let Some(path) = &fleet.group_by {
            body.push_str(&format!("<h3>Hosts by <code>{}</code></h3>", esc(path)));
            body.push_str(&outcome_table(fleet, a, ("group", path), &a.by_group, &fleet.groups, &group_order));
        }
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
    let data = page_data(fleet, &titles, &os_order, &group_order);
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

/// Hosts by version (or group) and outcome: a row per value in `order`, a stacked bar of its
/// outcomes, and a column per outcome.
fn outcome_table(
    fleet: &Fleet,
    a: &Advisory,
    (what, header): (&str, &str),
    counts: &FxHashMap<(u32, u32), usize>,
    values: &Names,
    order: &[u32],
) -> String {
    let columns: Vec<&String> = a.outcomes.keys().collect();
    let mut by_value: BTreeMap<u32, BTreeMap<&str, usize>> = BTreeMap::new();
    for (&(value, outcome), &n) in counts {
        let position = order.get(value as usize).copied().unwrap_or(u32::MAX);
        *by_value.entry(position).or_default().entry(fleet.outcomes.name(outcome)).or_default() += n;
    }
    let mut by_position: Vec<u32> = vec![0; order.len()];
    for (value, &position) in order.iter().enumerate() {
        if let (Some(slot), Ok(value)) = (by_position.get_mut(position as usize), u32::try_from(value)) {
            *slot = value;
        }
    }
    let mut out =
        format!("<div class=\"scroll\"><table class=\"by\"><thead><tr><th>{}</th><th>outcomes</th>", esc(header));
    for c in &columns {
        out.push_str(&format!("<th>{}</th>", esc(c)));
    }
    out.push_str("<th>hosts</th></tr></thead><tbody>");
    for (position, outcomes) in &by_value {
        let value = by_position.get(*position as usize).map_or("", |v| values.name(*v));
        let total: usize = outcomes.values().sum();
        let name = if value.is_empty() { "(none)" } else { value };
        out.push_str(&format!(
            "<tr><td data-label=\"{what}\">{}</td><td class=\"stack\" aria-hidden=\"true\">",
            esc(name)
        ));
        let mut shown: Vec<(&&str, &usize)> = outcomes.iter().collect();
        shown.sort_by_key(|(o, _)| (o.starts_with("error:"), std::cmp::Reverse(severity_rank(o)), o.to_string()));
        for (outcome, n) in shown {
            out.push_str(&format!(
                "<span class=\"fill o-{class}\" style=\"width:{share:.1}%\" title=\"{label}: {n}\"></span>",
                class = esc(&outcome.replace(':', "-")),
                label = esc(outcome),
                share = *n as f64 / total.max(1) as f64 * 100.0
            ));
        }
        out.push_str("</td>");
        for c in &columns {
            // A zero is left out of a phone's card (`zero`): a card lists what is there.
            let n = outcomes.get(c.as_str()).copied().unwrap_or(0);
            let zero = if n == 0 { " class=\"zero\"" } else { "" };
            out.push_str(&format!("<td data-label=\"{}\"{zero}>{n}</td>", esc(c)));
        }
        out.push_str(&format!("<td data-label=\"hosts\">{total}</td></tr>"));
    }
    out.push_str("</tbody></table></div>");
    out
}

/// The host table's data, as the page's script reads it: names and lists once, each row as
/// indices into them. No `<`, `>` or `&` is written raw, so no text can end the script or move
/// the HTML tokenizer into another state (`<!--<script>`).
fn page_data(fleet: &Fleet, titles: &[String], os_order: &[u32], group_order: &[u32]) -> String {
    let hosts = fleet.rows.len();
    let summary: serde_json::Map<String, Value> = fleet
        .ids
        .iter()
        .zip(&fleet.advisories)
        .map(|(id, a)| (id.clone(), json!({ "hosts": hosts, "outcomes": a.outcomes })))
        .collect();
    let text = |v: &str| script_json(&Value::from(v).to_string());
    let list = |names: &[String]| format!("[{}]", names.iter().map(|n| text(n)).collect::<Vec<_>>().join(","));
    let numbers = |list: &[u32]| list.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
    let sorted = |names: &Names, order: &[u32]| {
        let mut out = vec![String::new(); names.list.len()];
        for (i, name) in names.list.iter().enumerate() {
            if let Some(slot) = order.get(i).and_then(|p| out.get_mut(*p as usize)) {
                slot.clone_from(name);
            }
        }
        out
    };
    // Finding texts were numbered by whichever reader met them first; the page numbers them in
    // the order the lists use them, so the same answers always give the same page.
    let shared = fleet.details.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut renumbered: Vec<u32> = vec![u32::MAX; shared.list.len()];
    let mut texts: Vec<&str> = Vec::new();
    let mut detail_lists: Vec<String> = Vec::with_capacity(fleet.detail_lists.list.len());
    for details in &fleet.detail_lists.list {
        let mut ids = Vec::with_capacity(details.len());
        for &d in details.iter() {
            let Some(slot) = renumbered.get_mut(d as usize) else { continue };
            if *slot == u32::MAX {
                *slot = u32::try_from(texts.len()).unwrap_or(u32::MAX);
                texts.push(shared.name(d));
            }
            ids.push(*slot);
        }
        detail_lists.push(format!("[{}]", numbers(&ids)));
    }
    let mut data = String::with_capacity(256 + hosts * 32);
    data.push_str(&format!(
        "{{\"advisories\":{},\"titles\":{},\"summary\":{},\"outcomes\":{},\"steps\":{},\"step_lists\":[{}],\"detail_lists\":[{}],\"details\":[{}],\"oses\":{},\"group_by\":{},\"groups\":{},\"facts_kept\":{FACTS_KEPT},\"hosts\":[",
        list(&fleet.ids),
        list(titles),
        script_json(&Value::Object(summary).to_string()),
        list(&fleet.outcomes.list),
        list(&fleet.steps.list),
        fleet.step_lists.list.iter().map(|l| format!("[{}]", numbers(l))).collect::<Vec<_>>().join(","),
        detail_lists.join(","),
        texts.iter().map(|d| script_json(d)).collect::<Vec<_>>().join(","),
        list(&sorted(&fleet.oses, os_order)),
        fleet.group_by.as_deref().map_or_else(|| "null".to_string(), text),
        list(&sorted(&fleet.groups, group_order)),
    ));
    drop(shared);
    for (i, r) in fleet.rows.iter().enumerate() {
        if i > 0 {
            data.push(',');
        }
        let column =
            |k: usize| r.cells.iter().map(|c| c.get(k).copied().unwrap_or(0).to_string()).collect::<Vec<_>>().join(",");
        let facts = r.facts.as_deref().map_or_else(|| "null".to_string(), text);
        let os = os_order.get(r.os as usize).copied().unwrap_or(0);
        let group = group_order.get(r.group as usize).copied().unwrap_or(0);
        data.push_str(&format!(
            "[{},{os},[{}],[{}],[{}],{facts},{group}]",
            text(&r.id),
            column(0),
            column(1),
            column(2)
        ));
    }
    data.push_str("]}");
    data
}

const TEMPLATE: &str = include_str!("report.html");
