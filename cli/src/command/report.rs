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

pub use read::{BUILD_FIELD, Fields, Host, Read, Reader, Shared, Texts};

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
    to_collect: BTreeMap<std::sync::Arc<str>, (usize, Option<std::sync::Arc<str>>)>,
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

/// One host's row in the table, all of it indices into the fleet's lists and stores: nothing
/// is allocated per host (a million small allocations kept among the readers' short-lived ones
/// would leave the heap fragmented, twice the memory the rows need).
struct Row {
    /// Its name, in `Fleet::id_text`.
    id: std::ops::Range<usize>,
    /// Per advisory: [outcome, steps (a list in `step_lists`), findings and undetermined rules
    /// (a list in `detail_lists`)], in `Fleet::cells`.
    cells: std::ops::Range<usize>,
    /// Its Windows version (or platform, or build) in `Fleet::oses`.
    os: u32,
    /// Its group in `Fleet::groups` (with `--group-by`).
    group: u32,
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
    /// Every host's name, back to back.
    id_text: String,
    /// Every host's cells, back to back.
    cell_store: Vec<[u32; 3]>,
    /// The facts lines of the first [`FACTS_KEPT`] hosts (`None` when not JSON, or too long).
    facts: Vec<Option<Box<str>>>,
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
        let name = host.id.unwrap_or_else(|| format!("line {}", self.rows.len() + 1));
        if self.rows.len() < FACTS_KEPT {
            self.facts.push(host.facts.map(String::into_boxed_str));
        }
        let group = self.groups.id(&host.group);
        let none = [self.outcomes.id(""), self.step_lists.id(&[]), self.detail_lists.id(&[])];
        let mut cells: Vec<[u32; 3]> = Vec::with_capacity(self.ids.len());
        // Named by its Windows version where an answer names it; else by its platform or build
        // (interned only when used, so the version list holds no label no host is shown under).
        let mut fallback: Option<u32> = None;
        let mut named_os: Option<u32> = None;
        for (advisory, verdict) in verdicts.iter() {
            let at = self.advisory_at(advisory.as_deref());
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
                count(a, verdict, outcome, os, group);
            }
            if cells.len() <= at {
                cells.resize(at + 1, none);
            }
            if let Some(c) = cells.get_mut(at) {
                *c = cell;
            }
        }
        let os = named_os.unwrap_or_else(|| *fallback.get_or_insert_with(|| self.oses.id(&host.build)));
        let id = self.id_text.len()..self.id_text.len() + name.len();
        self.id_text.push_str(&name);
        let start = self.cell_store.len();
        self.cell_store.extend_from_slice(&cells);
        self.rows.push(Row { id, cells: start..self.cell_store.len(), os, group });
    }

    /// The index of an advisory's counts (a new one for an id not seen before; a single answer
    /// that names no advisory belongs to the first).
    fn advisory_at(&mut self, advisory: Option<&str>) -> usize {
        let advisory = advisory.or_else(|| self.ids.first().map(String::as_str)).unwrap_or("answers");
        if let Some(at) = self.ids.iter().position(|x| *x == advisory) {
            return at;
        }
        let advisory = advisory.to_string();
        let os_names =
            self.about.iter().find(|a| a.id == advisory).map(|a| a.oses.iter().cloned().collect()).unwrap_or_default();
        self.ids.push(advisory);
        self.advisories.push(Advisory { os_names, ..Advisory::default() });
        self.ids.len() - 1
    }

    fn row_id(&self, row: &Row) -> &str {
        self.id_text.get(row.id.clone()).unwrap_or_default()
    }

    fn cells(&self, row: &Row) -> &[[u32; 3]] {
        self.cell_store.get(row.cells.clone()).unwrap_or_default()
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
    /// either last.
    fn os_order(&self) -> Order {
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
fn order_of(names: &Names, cmp: impl Fn(&str, &str) -> std::cmp::Ordering) -> Order {
    let mut sorted: Vec<u32> = (0..names.list.len()).filter_map(|i| u32::try_from(i).ok()).collect();
    sorted.sort_by(|&a, &b| cmp(names.name(a), names.name(b)));
    let mut position = vec![0u32; sorted.len()];
    for (at, &i) in sorted.iter().enumerate() {
        if let Some(p) = position.get_mut(i as usize) {
            *p = u32::try_from(at).unwrap_or(u32::MAX);
        }
    }
    Order { sorted, position }
}

/// Names put in order: the indices in order, and each index's place in it.
struct Order {
    sorted: Vec<u32>,
    position: Vec<u32>,
}

impl Order {
    /// Where name `i` comes.
    fn position(&self, i: u32) -> u32 {
        self.position.get(i as usize).copied().unwrap_or(u32::MAX)
    }

    /// The names in order.
    fn names(&self, names: &Names) -> Vec<String> {
        self.sorted.iter().map(|&i| names.name(i).to_string()).collect()
    }
}

/// Adds one verdict to its advisory's counts.
fn count(a: &mut Advisory, v: &Verdict, outcome: u32, os: u32, group: u32) {
    match a.outcomes.get_mut(&*v.outcome) {
        Some(n) => *n += 1,
        None => {
            a.outcomes.insert(v.outcome.to_string(), 1);
        }
    }
    *a.by_os.entry((os, outcome)).or_default() += 1;
    *a.by_group.entry((group, outcome)).or_default() += 1;
    if let Some(error) = &v.error {
        *a.errors.entry(error.clone()).or_default() += 1;
    }
    for (fact, collect) in v.needed.iter() {
        a.to_collect.entry(fact.clone()).or_insert((0, collect.clone())).0 += 1;
    }
    let rank = severity_rank(&v.outcome);
    for step in &v.steps {
        let entry = match a.steps.get_mut(&**step) {
            Some(entry) => entry,
            None => a.steps.entry(step.to_string()).or_default(),
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
    // Earlier reports are checked now, and read while the answers are counted.
    let sources: Vec<RunSource> = o.previous.iter().map(|p| RunSource::open(p)).collect::<Result<_, _>>()?;
    let (answers, facts) = (open(o.answers)?, open(o.facts)?);
    let fleet = Fleet::new(o.about.clone(), o.fields.group.as_deref());
    let (fleet, runs) = std::thread::scope(|scope| {
        let runs = scope.spawn(move || sources.into_iter().map(RunSource::read).collect::<Result<Vec<Run>, String>>());
        let fleet = aggregate(fleet, answers, facts, &o.fields, o.threads);
        (fleet, runs.join().map_err(|_| "the earlier reports could not be read".to_string()))
    });
    let (fleet, runs) = (fleet?, runs??);
    let parts = page_parts(&fleet, runs);
    let bytes: usize = parts.iter().map(String::len).sum();
    let parts: Vec<&[u8]> = parts.iter().map(|p| p.as_bytes()).collect();
    match o.output {
        Some(path) => {
            crate::output::write_parts(path, &parts, &inputs)?;
            eprintln!("wrote {} ({} hosts, {bytes} bytes)", path.display(), fleet.rows.len());
        }
        None => crate::common::out_parts(&parts)?,
    }
    Ok(0)
}

/// Lines read per round: each round is read on every core, then counted in order.
const ROUND: usize = 1024;
/// Rounds in the pipeline at once.
const ROUNDS_IN_FLIGHT: usize = 4;

/// Reads the two files in step, line by line as `batch` reads its input (LF, CRLF or a lone CR;
/// any bytes; a line over 1 MiB kept to its first MiB): answer N belongs to the host of facts
/// line N. The files must have as many lines, and when an answer names its host (the id field)
/// it must be the host the facts name. An answer that is not JSON counts as unreadable, with a
/// note naming its line; it never stops the report.
pub fn aggregate(
    mut fleet: Fleet,
    answers: impl BufRead + Send,
    facts: impl BufRead + Send,
    fields: &Fields,
    threads: usize,
) -> Result<Fleet, String> {
    let max = preflight_compiler::facts::MAX_INPUT_BYTES;
    let mut readers: Vec<Reader> = (0..threads.max(1)).map(|_| Reader::new(fields.clone(), fleet.shared())).collect();
    let mut notes = Notes::default();
    // Three stages, each round of lines passing through them in turn: one thread reads the two
    // files; the readers parse a round on every core while this thread counts the round before.
    std::thread::scope(|scope| -> Result<(), String> {
        let (full, rounds) = std::sync::mpsc::sync_channel::<Result<Round, String>>(1);
        // A fixed pool of rounds goes round the pipeline (one filling, one waiting, one being
        // read, one being counted): their buffers are reused, not allocated and faulted in anew.
        let (empty, spare) = std::sync::mpsc::channel::<Round>();
        for _ in 0..ROUNDS_IN_FLIGHT {
            let _ = empty.send(Round::default());
        }
        scope.spawn(move || read_rounds(answers, facts, max, &full, &spare));
        let mut pending: Option<(Round, Vec<Read>)> = None;
        let mut first = 0usize;
        for round in rounds {
            let round = round?;
            let lines = round.lines();
            let parsed = std::thread::scope(|inner| -> Result<Vec<Read>, String> {
                let share = lines.len().div_ceil(readers.len()).max(1);
                let handles: Vec<_> = lines
                    .chunks(share)
                    .enumerate()
                    .zip(readers.iter_mut())
                    .map(|((k, part), reader)| {
                        let at = first + k * share;
                        inner.spawn(move || {
                            part.iter()
                                .enumerate()
                                .map(|(i, (answer, host))| {
                                    let keep_facts = at + i < FACTS_KEPT;
                                    if answer.len() > max {
                                        let host = Host::read(host, reader.fields(), keep_facts);
                                        reader.unanswered(
                                            host,
                                            None,
                                            "too_large",
                                            "the answer line is longer than 1 MiB",
                                        )
                                    } else {
                                        reader.read_line(answer, host, keep_facts)
                                    }
                                })
                                .collect::<Vec<Read>>()
                        })
                    })
                    .collect();
                if let Some((done, reads)) = pending.take() {
                    notes.count(&mut fleet, &done, reads, max)?;
                    let _ = empty.send(done);
                }
                let mut out = Vec::with_capacity(lines.len());
                for h in handles {
                    out.extend(h.join().map_err(|_| "a reader thread failed".to_string())?);
                }
                Ok(out)
            })?;
            first += parsed.len();
            drop(lines);
            pending = Some((round, parsed));
        }
        if let Some((done, reads)) = pending.take() {
            notes.count(&mut fleet, &done, reads, max)?;
        }
        Ok(())
    })?;
    // The lines read are not met again: their memory goes to the page.
    if let Ok(mut lines) = fleet.details.1.lock() {
        *lines = FxHashMap::default();
    }
    if let Some(first) = notes.long_facts.first() {
        eprintln!(
            "note: {} facts line(s) are longer than 1 MiB (the first: line {first}), as batch answered them (too_large); their hosts are named by their line",
            notes.long_facts.len()
        );
    }
    if let Some(first) = notes.unreadable.first() {
        eprintln!(
            "note: {} answer line(s) were not JSON answers (the first: line {first}); they are counted as unreadable",
            notes.unreadable.len()
        );
    }
    Ok(fleet)
}

/// A round's lines, back to back in two buffers (reused from round to round).
#[derive(Default)]
struct Round {
    answers: Vec<u8>,
    facts: Vec<u8>,
    /// Where each line ends in each buffer.
    ends: Vec<(usize, usize)>,
}

impl Round {
    fn lines(&self) -> Vec<(&[u8], &[u8])> {
        let mut start = (0, 0);
        self.ends
            .iter()
            .map(|&(a, f)| {
                let line =
                    (self.answers.get(start.0..a).unwrap_or_default(), self.facts.get(start.1..f).unwrap_or_default());
                start = (a, f);
                line
            })
            .collect()
    }
}

/// Reads the two files in step, a round at a time, until both end together; a file that ends
/// before the other is an error naming the line.
fn read_rounds(
    answers: impl BufRead,
    facts: impl BufRead,
    max: usize,
    full: &std::sync::mpsc::SyncSender<Result<Round, String>>,
    spare: &std::sync::mpsc::Receiver<Round>,
) {
    let (mut answers, mut facts) = (super::batch::Lines::new(answers, max), super::batch::Lines::new(facts, max));
    let mut n = 0usize;
    loop {
        // Waits for a round the counting is done with; none comes back once it has stopped.
        let Ok(mut round) = spare.recv() else { return };
        round.answers.clear();
        round.facts.clear();
        round.ends.clear();
        let mut ended = false;
        while round.ends.len() < ROUND {
            let answer = answers.append_line(&mut round.answers).map_err(|e| format!("cannot read the answers: {e}"));
            let host = facts.append_line(&mut round.facts).map_err(|e| format!("cannot read the facts: {e}"));
            let line = n + round.ends.len();
            let next = match (answer, host) {
                (Err(e), _) | (_, Err(e)) => Err(e),
                (Ok(None), Ok(None)) => {
                    ended = true;
                    break;
                }
                (Ok(Some(_)), Ok(None)) => Err(format!(
                    "the facts end after line {line} but the answers go on: give the facts file `batch` answered (line N of the answers is the host on line N of the facts)"
                )),
                (Ok(None), Ok(Some(_))) => Err(format!(
                    "the answers end after line {line} but the facts go on: give the answers `batch` wrote for these facts, complete (line N of the answers is the host on line N of the facts)"
                )),
                (Ok(Some(_)), Ok(Some(_))) => Ok(()),
            };
            if let Err(e) = next {
                let _ = full.send(Err(e));
                return;
            }
            round.ends.push((round.answers.len(), round.facts.len()));
        }
        n += round.ends.len();
        if !round.ends.is_empty() && full.send(Ok(round)).is_err() {
            return;
        }
        if ended {
            return;
        }
    }
}

/// Lines worth a note after the report: facts over the size limit, answers that were not read.
#[derive(Default)]
struct Notes {
    long_facts: Vec<usize>,
    unreadable: Vec<usize>,
    /// Lines counted so far.
    n: usize,
}

impl Notes {
    /// Counts a round's hosts in order, checking each answer names the host its facts name.
    fn count(&mut self, fleet: &mut Fleet, round: &Round, reads: Vec<Read>, max: usize) -> Result<(), String> {
        for (read, (_, host)) in reads.into_iter().zip(round.lines()) {
            self.n += 1;
            let n = self.n;
            if host.len() > max {
                self.long_facts.push(n);
            }
            if read.unreadable {
                self.unreadable.push(n);
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
        Ok(())
    }
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
    push_script_json(&mut out, json);
    out
}

/// Appends JSON text made safe inside a `<script>` element, as [`script_json`] writes it.
fn push_script_json(out: &mut String, json: &str) {
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
}

/// Appends `text` as a JSON string safe inside a `<script>` element (as [`script_json`] writes
/// it).
fn push_script_string(out: &mut String, text: &str) {
    use std::fmt::Write as _;
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
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
    hosts: RunHosts,
}

/// An earlier run's hosts, stored back to back (a million hosts: no allocation each). Each
/// row `[name, version, outcomes, steps, ...]` gives its name, and per advisory its outcome
/// and steps (what a row holds after them is skipped, so pages of other versions read too).
#[derive(Default)]
struct RunHosts {
    names: String,
    rows: Vec<RunHost>,
    /// Per host and advisory: (outcome, steps: [`StepsOf`] packed).
    cells: Vec<(u32, u32)>,
    /// Steps written in the row itself (older pages): where each row's are in `inline`.
    inline_lists: Vec<std::ops::Range<usize>>,
    inline: Vec<u32>,
}

/// A host of an earlier run: its name in `names` (start, length) and where its cells start
/// (one per advisory it was answered for; at most 255).
struct RunHost {
    id: (usize, u32),
    cells: (u32, u8),
}

/// A row's steps for one advisory: a list in the page's `step_lists`, or (older pages) steps
/// in `RunHosts::inline`.
#[derive(Clone)]
enum StepsOf {
    List(u32),
    Inline(std::ops::Range<usize>),
}

/// `StepsOf` in a cell: a list's index, or with the top bit set an index into `inline_lists`.
const INLINE: u32 = 1 << 31;

impl<'de> serde::Deserialize<'de> for RunHosts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{DeserializeSeed, Error, IgnoredAny, SeqAccess, Visitor};
        struct Hosts;
        /// One row, appended to the store.
        struct Row<'s>(&'s mut RunHosts);
        /// A row's steps, one per advisory.
        struct Steps<'s>(&'s mut RunHosts, &'s mut Vec<StepsOf>);
        /// One advisory's steps: a list's index or the steps themselves.
        struct One<'s>(&'s mut RunHosts);
        impl<'de> Visitor<'de> for Hosts {
            type Value = RunHosts;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("the host rows")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RunHosts, A::Error> {
                let mut store = RunHosts::default();
                while seq.next_element_seed(Row(&mut store))?.is_some() {}
                Ok(store)
            }
            /// The hosts by column (this version's pages): names, and per advisory the
            /// outcomes and step lists; other columns are skipped.
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<RunHosts, A::Error> {
                let mut store = RunHosts::default();
                let mut names: Vec<(usize, u32)> = Vec::new();
                let (mut outcomes, mut steps): (Vec<Vec<u32>>, Vec<Vec<u32>>) = (Vec::new(), Vec::new());
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match &*key {
                        "names" => map.next_value_seed(Names(&mut store, &mut names))?,
                        "outcomes" => outcomes = map.next_value()?,
                        "steps" => steps = map.next_value()?,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let count = u8::try_from(outcomes.len()).map_err(|_| A::Error::custom("too many advisories"))?;
                for (i, id) in names.into_iter().enumerate() {
                    let start = u32::try_from(store.cells.len()).map_err(|_| A::Error::custom("too many rows"))?;
                    for (a, column) in outcomes.iter().enumerate() {
                        let outcome = column.get(i).copied().unwrap_or(u32::MAX);
                        let list = steps.get(a).and_then(|s| s.get(i)).copied().unwrap_or(u32::MAX);
                        if list >= INLINE && list != u32::MAX {
                            return Err(A::Error::custom("list index out of range"));
                        }
                        store.cells.push((outcome, list));
                    }
                    store.rows.push(RunHost { id, cells: (start, count) });
                }
                Ok(store)
            }
        }
        /// The names column, appended to the store.
        struct Names<'s>(&'s mut RunHosts, &'s mut Vec<(usize, u32)>);
        impl<'de> DeserializeSeed<'de> for Names<'_> {
            type Value = ();
            fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
                d.deserialize_seq(self)
            }
        }
        impl<'de> Visitor<'de> for Names<'_> {
            type Value = ();
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("the hosts' names")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
                while let Some(name) = seq.next_element::<std::borrow::Cow<'de, str>>()? {
                    let len = u32::try_from(name.len()).map_err(|_| A::Error::custom("name too long"))?;
                    self.1.push((self.0.names.len(), len));
                    self.0.names.push_str(&name);
                }
                Ok(())
            }
        }
        impl<'de> DeserializeSeed<'de> for Row<'_> {
            type Value = ();
            fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
                d.deserialize_seq(self)
            }
        }
        impl<'de> Visitor<'de> for Row<'_> {
            type Value = ();
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a host row [name, version, outcomes, steps, ...]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
                let store = self.0;
                let name: std::borrow::Cow<'de, str> =
                    seq.next_element()?.ok_or_else(|| A::Error::invalid_length(0, &"a host row"))?;
                seq.next_element::<IgnoredAny>()?.ok_or_else(|| A::Error::invalid_length(1, &"a host row"))?;
                let outcomes: smallvec::SmallVec<[u32; 4]> =
                    seq.next_element()?.ok_or_else(|| A::Error::invalid_length(2, &"a host row"))?;
                let mut steps = Vec::with_capacity(outcomes.len());
                seq.next_element_seed(Steps(&mut *store, &mut steps))?
                    .ok_or_else(|| A::Error::invalid_length(3, &"a host row"))?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                let id = (store.names.len(), u32::try_from(name.len()).map_err(|_| A::Error::custom("name too long"))?);
                store.names.push_str(&name);
                let start = u32::try_from(store.cells.len()).map_err(|_| A::Error::custom("too many rows"))?;
                let count = u8::try_from(outcomes.len()).map_err(|_| A::Error::custom("too many advisories"))?;
                for (k, outcome) in outcomes.iter().enumerate() {
                    let packed = match steps.get(k).cloned().unwrap_or(StepsOf::Inline(0..0)) {
                        StepsOf::List(list) if list < INLINE => list,
                        StepsOf::List(_) => return Err(A::Error::custom("list index out of range")),
                        StepsOf::Inline(range) => {
                            let at = u32::try_from(store.inline_lists.len()).unwrap_or(u32::MAX);
                            store.inline_lists.push(range);
                            at | INLINE
                        }
                    };
                    store.cells.push((*outcome, packed));
                }
                store.rows.push(RunHost { id, cells: (start, count) });
                Ok(())
            }
        }
        impl<'de> DeserializeSeed<'de> for Steps<'_> {
            type Value = ();
            fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
                d.deserialize_seq(self)
            }
        }
        impl<'de> Visitor<'de> for Steps<'_> {
            type Value = ();
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a row's steps")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
                while let Some(steps) = seq.next_element_seed(One(&mut *self.0))? {
                    self.1.push(steps);
                }
                Ok(())
            }
        }
        impl<'de> DeserializeSeed<'de> for One<'_> {
            type Value = StepsOf;
            fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<StepsOf, D::Error> {
                d.deserialize_any(self)
            }
        }
        impl<'de> Visitor<'de> for One<'_> {
            type Value = StepsOf;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of steps or a list's index")
            }
            fn visit_u64<E: Error>(self, v: u64) -> Result<StepsOf, E> {
                u32::try_from(v).map(StepsOf::List).map_err(|_| E::custom("index out of range"))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StepsOf, A::Error> {
                let start = self.0.inline.len();
                while let Some(i) = seq.next_element::<u32>()? {
                    self.0.inline.push(i);
                }
                Ok(StepsOf::Inline(start..self.0.inline.len()))
            }
        }
        d.deserialize_any(Hosts)
    }
}

impl Run {
    /// Reads the data a report page carries (`report` and `batch --report` write it).
    pub fn read(path: &Path) -> Result<Run, String> {
        RunSource::open(path)?.read()
    }

    /// For each host of `fleet`, the index of the host of the same name in this run
    /// (`u32::MAX`: none; of two hosts of one name, the later). Looked up on every core.
    fn matches(&self, fleet: &Fleet) -> Vec<u32> {
        let by_name: FxHashMap<&str, u32> = self
            .hosts
            .rows
            .iter()
            .enumerate()
            .filter_map(|(i, h)| {
                Some((self.hosts.names.get(h.id.0..h.id.0 + h.id.1 as usize)?, u32::try_from(i).ok()?))
            })
            .collect();
        let find = |rows: &[Row]| -> Vec<u32> {
            rows.iter().map(|r| by_name.get(fleet.row_id(r)).copied().unwrap_or(u32::MAX)).collect()
        };
        let half = fleet.rows.len().div_ceil(2);
        let (first, second) = fleet.rows.split_at(half.min(fleet.rows.len()));
        std::thread::scope(|scope| {
            let later = scope.spawn(|| find(second));
            let mut out = find(first);
            out.extend(later.join().unwrap_or_else(|_| find(second)));
            out
        })
    }

    fn at(&self, advisory: &str) -> Option<usize> {
        self.advisories.iter().position(|a| a == advisory)
    }

    fn cell(&self, host: usize, at: usize) -> Option<(u32, u32)> {
        let row = self.hosts.rows.get(host)?;
        let start = row.cells.0 as usize;
        self.hosts.cells.get(start..start + row.cells.1 as usize)?.get(at).copied()
    }

    fn outcome(&self, host: usize, at: usize) -> &str {
        let i = self.cell(host, at).map_or(u32::MAX, |c| c.0);
        self.outcomes.get(i as usize).map_or("", String::as_str)
    }

    /// A host's steps for one advisory, by name.
    fn steps_of(&self, host: usize, at: usize) -> Vec<&str> {
        let ids: &[u32] = match self.cell(host, at).map(|c| c.1) {
            Some(packed) if packed & INLINE != 0 => self
                .hosts
                .inline_lists
                .get((packed & !INLINE) as usize)
                .and_then(|range| self.hosts.inline.get(range.clone()))
                .unwrap_or_default(),
            Some(list) => self.step_lists.get(list as usize).map_or(&[], Vec::as_slice),
            None => &[],
        };
        ids.iter().map(|i| self.steps.get(*i as usize).map_or("", String::as_str)).collect()
    }

    /// Outcome → hosts, for one advisory.
    fn outcomes_of(&self, advisory: &str) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        let Some(at) = self.at(advisory) else { return out };
        for host in 0..self.hosts.rows.len() {
            let outcome = self.outcome(host, at);
            if !outcome.is_empty() {
                *out.entry(outcome.to_string()).or_default() += 1;
            }
        }
        out
    }
}

/// An earlier report, checked and found to hold a page's data, not yet read: the data is read
/// from the file as it is parsed (a million hosts' page is not held in memory twice), while the
/// answers are counted.
pub struct RunSource {
    name: String,
    path: PathBuf,
    data: std::io::BufReader<std::io::Take<std::fs::File>>,
}

impl RunSource {
    /// Checks the file: a regular file of at most MAX_PAGE_BYTES (a device such as `/dev/zero`
    /// or a runaway file is refused before it is read) holding a report's data block.
    pub fn open(path: &Path) -> Result<RunSource, String> {
        use std::io::{Read as _, Seek as _};
        let cannot = |e: &dyn std::fmt::Display| format!("cannot read `{}`: {e}", path.display());
        let len = match std::fs::metadata(path) {
            Ok(meta) if !meta.is_file() => {
                return Err(cannot(&"it is not a regular file; give the report page `preflight report` wrote"));
            }
            Ok(meta) if meta.len() > MAX_PAGE_BYTES => {
                return Err(cannot(&format!(
                    "it is longer than {} MiB, more than any report holds",
                    MAX_PAGE_BYTES >> 20
                )));
            }
            Ok(meta) => meta.len(),
            Err(e) => return Err(cannot(&e)),
        };
        // Where the data starts: the marker, looked for a block at a time.
        let mut file = std::fs::File::open(path).map_err(|e| cannot(&e))?;
        let finder = memchr::memmem::Finder::new(DATA_START.as_bytes());
        let (mut block, mut offset, mut start) = (vec![0u8; 1 << 20], 0u64, None);
        let mut kept = 0usize;
        loop {
            let n = file.read(block.get_mut(kept..).unwrap_or_default()).map_err(|e| cannot(&e))?;
            let filled = block.get(..kept + n).unwrap_or_default();
            if let Some(at) = finder.find(filled) {
                start = Some(offset + (at + DATA_START.len()) as u64);
                break;
            }
            if n == 0 || offset + (kept + n) as u64 >= len {
                break;
            }
            // Keep the tail that could begin the marker.
            let keep = DATA_START.len().min(kept + n);
            let from = kept + n - keep;
            block.copy_within(from..kept + n, 0);
            offset += from as u64;
            kept = keep;
        }
        let not_a_report = || {
            format!(
                "`{}` is not a Preflight fleet report: give a page `preflight report` or `batch --report` wrote",
                path.display()
            )
        };
        let start = start.ok_or_else(not_a_report)?;
        file.seek(std::io::SeekFrom::Start(start)).map_err(|e| cannot(&e))?;
        let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        let data = std::io::BufReader::with_capacity(1 << 16, file.take(MAX_PAGE_BYTES));
        Ok(RunSource { name, path: path.to_path_buf(), data })
    }

    /// Reads the data: one JSON value, up to the end of the script element.
    pub fn read(self) -> Result<Run, String> {
        use serde::Deserialize as _;
        let mut de = serde_json::Deserializer::from_reader(self.data);
        let mut run = Run::deserialize(&mut de).map_err(|_| {
            format!(
                "`{}` is not a Preflight fleet report: give a page `preflight report` or `batch --report` wrote",
                self.path.display()
            )
        })?;
        run.name = self.name;
        Ok(run)
    }
}

/// The longest earlier report read (a million hosts make a page of about 120 MB).
const MAX_PAGE_BYTES: u64 = 512 << 20;

/// Where a page's data starts.
const DATA_START: &str = "<script type=\"application/json\" id=\"fleet-data\">";

/// What changed for one advisory since the last of `runs`, and its outcomes per run.
fn since(fleet: &Fleet, at: usize, id: &str, runs: &[Run], matches: &[u32]) -> String {
    let Some(last) = runs.last() else { return String::new() };
    let then_at = last.at(id);
    // Borrowed names, no copy per host: a million hosts pass through here.
    let mut moved: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    // Step → (needed then, needed now, done since, new since), over the hosts in both runs.
    let mut steps: BTreeMap<&str, [usize; 4]> = BTreeMap::new();
    let (mut matched, mut added) = (0usize, 0usize);
    // Which hosts of the earlier run are still here, by their index there.
    let mut still_here = vec![false; last.hosts.rows.len()];
    for (row, &then_host) in fleet.rows.iter().zip(matches) {
        let Some(&[outcome, now_steps, _]) = fleet.cells(row).get(at) else { continue };
        let now = fleet.outcomes.name(outcome);
        if now.is_empty() {
            continue;
        }
        // A host new since, or one the earlier run had no answer from this advisory for.
        let then_host = then_host as usize;
        let Some(then_at) = then_at.filter(|&t| !last.outcome(then_host, t).is_empty()) else {
            added += 1;
            continue;
        };
        if let Some(seen) = still_here.get_mut(then_host) {
            *seen = true;
        }
        matched += 1;
        let then = last.outcome(then_host, then_at);
        if then != now {
            *moved.entry((then, now)).or_default() += 1;
        }
        let then_steps = last.steps_of(then_host, then_at);
        let now_steps: Vec<&str> = fleet.step_lists.get(now_steps).iter().map(|i| fleet.steps.name(*i)).collect();
        for step in &then_steps {
            let entry = steps.entry(step).or_default();
            entry[0] += 1;
            if !now_steps.contains(step) {
                entry[2] += 1;
            }
        }
        for step in &now_steps {
            let entry = steps.entry(step).or_default();
            entry[1] += 1;
            if !then_steps.contains(step) {
                entry[3] += 1;
            }
        }
    }
    let gone = (0..last.hosts.rows.len())
        .filter(|&i| !still_here.get(i).copied().unwrap_or(true))
        .filter(|&i| then_at.is_some_and(|t| !last.outcome(i, t).is_empty()))
        .count();
    let mut out = format!(
        "<h3>Since {}</h3><p>{matched} hosts in both runs; {added} new, {gone} no longer in the fleet.</p>",
        esc(&last.name)
    );
    if moved.is_empty() {
        out.push_str("<p>No host changed outcome.</p>");
    } else {
        let mut moved: Vec<((&str, &str), usize)> = moved.into_iter().collect();
        moved.sort_by(|x, y| (y.1, &x.0).cmp(&(x.1, &y.0)));
        out.push_str("<div class=\"scroll\"><table class=\"moved\"><thead><tr><th>was</th><th>is now</th><th>hosts</th></tr></thead><tbody>");
        for ((from, to), n) in moved {
            out.push_str(&format!(
                "<tr><td data-label=\"was\">{}</td><td data-label=\"is now\">{}</td><td data-label=\"hosts\">{n}</td></tr>",
                esc(from),
                esc(to)
            ));
        }
        out.push_str("</tbody></table></div>");
    }
    if !steps.is_empty() {
        let mut steps: Vec<(&str, [usize; 4])> = steps.into_iter().collect();
        steps.sort_by(|x, y| (y.1[2], y.1[1], &x.0).cmp(&(x.1[2], x.1[1], &y.0)));
        out.push_str("<div class=\"scroll\"><table class=\"progress\"><thead><tr><th>step</th><th>hosts that needed it then</th><th>need it now</th><th>done since</th><th>newly need it</th></tr></thead><tbody>");
        for (step, [then, now, done, new]) in steps {
            out.push_str(&format!(
                "<tr><td data-label=\"step\">{}</td><td data-label=\"needed then\">{then}</td><td data-label=\"need it now\">{now}</td><td data-label=\"done since\">{done}</td><td data-label=\"newly need it\">{new}</td></tr>",
                esc(step)
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

/// The whole page as one text, with no earlier runs (the fuzz target reads it so).
pub fn page(fleet: &Fleet) -> String {
    page_parts(fleet, Vec::new()).concat()
}

/// The page in parts, in order, with what changed since the earlier runs (oldest first) when
/// there are some (written one after the other, the page is never copied whole):
/// the host table's data is written on another thread while the sections are.
pub fn page_parts(fleet: &Fleet, runs: Vec<Run>) -> Vec<String> {
    let titles: Vec<String> = fleet.ids.iter().map(|id| fleet.title(id)).collect();
    let os_order = fleet.os_order();
    let group_order = order_of(&fleet.groups, |a, b| (a.is_empty(), a).cmp(&(b.is_empty(), b)));
    let hosts = fleet.rows.len();
    let write_data = || {
        let mut data = String::with_capacity(256 + hosts * 48);
        page_data(&mut data, fleet, &titles, &os_order, &group_order);
        data
    };
    // What changed since the earlier runs comes first, and their memory is let go before the
    // data is written.
    let matches = runs.last().map(|last| last.matches(fleet)).unwrap_or_default();
    let changes: Vec<String> =
        fleet.ids.iter().enumerate().map(|(i, id)| since(fleet, i, id, &runs, &matches)).collect();
    drop(matches);
    drop(runs);
    let write_details = || {
        let mut details = String::new();
        page_details(&mut details, fleet);
        details
    };
    let (body, data, details) = std::thread::scope(|scope| {
        let data = scope.spawn(write_data);
        let details = scope.spawn(write_details);
        let body = page_body(fleet, &changes, &titles, &os_order, &group_order);
        (body, data.join(), details.join())
    });
    // A thread that failed is written again here: the page is never short of its data.
    let data = data.unwrap_or_else(|_| write_data());
    let details = details.unwrap_or_else(|_| write_details());
    let mut parts = Vec::with_capacity(9);
    let mut rest = TEMPLATE;
    for (mark, value) in
        [("{{hosts}}", hosts.to_string()), ("{{body}}", body), ("{{data}}", data), ("{{details}}", details)]
    {
        let (before, after) = rest.split_once(mark).unwrap_or((rest, ""));
        parts.push(before.to_string());
        parts.push(value);
        rest = after;
    }
    parts.push(rest.to_string());
    parts
}

/// The sections: "Do this first", then one per advisory (with what changed since the earlier
/// runs).
fn page_body(fleet: &Fleet, changes: &[String], titles: &[String], os_order: &Order, group_order: &Order) -> String {
    let (ids, advisories, rows) = (&fleet.ids, &fleet.advisories, &fleet.rows);
    let hosts = rows.len();
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
        body.push_str(&steps_table(&first, &fleet.steps, Some(titles)));
    }
    body.push_str("</section>");
    for (i, ((id, title), a)) in ids.iter().zip(titles).zip(advisories).enumerate() {
        body.push_str(&format!(
            "<section id=\"advisory-{i}\" data-advisory=\"{i}\"><h2>{}</h2><p class=\"about\">advisory <code>{}</code> · {hosts} hosts</p>",
            esc(title),
            esc(id)
        ));
        body.push_str(&bars(&a.outcomes, hosts));
        body.push_str(changes.get(i).map_or("", String::as_str));
        // Hosts by Windows version and outcome, in the rules' order.
        body.push_str("<h3>Hosts by Windows version (other platforms by name)</h3>");
        body.push_str(&outcome_table(fleet, a, ("version", "Windows version"), &a.by_os, &fleet.oses, os_order));
        if let Some(path) = &fleet.group_by {
            body.push_str(&format!("<h3>Hosts by <code>{}</code></h3>", esc(path)));
            body.push_str(&outcome_table(fleet, a, ("group", path), &a.by_group, &fleet.groups, group_order));
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
            let mut facts: Vec<_> = a.to_collect.iter().collect();
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
    body
}

/// Hosts by version (or group) and outcome: a row per value in `order`, a stacked bar of its
/// outcomes, and a column per outcome.
fn outcome_table(
    fleet: &Fleet,
    a: &Advisory,
    (what, header): (&str, &str),
    counts: &FxHashMap<(u32, u32), usize>,
    values: &Names,
    order: &Order,
) -> String {
    let columns: Vec<&String> = a.outcomes.keys().collect();
    let mut by_value: BTreeMap<u32, BTreeMap<&str, usize>> = BTreeMap::new();
    for (&(value, outcome), &n) in counts {
        let position = order.position(value);
        *by_value.entry(position).or_default().entry(fleet.outcomes.name(outcome)).or_default() += n;
    }
    let mut out =
        format!("<div class=\"scroll\"><table class=\"by\"><thead><tr><th>{}</th><th>outcomes</th>", esc(header));
    for c in &columns {
        out.push_str(&format!("<th>{}</th>", esc(c)));
    }
    out.push_str("<th>hosts</th></tr></thead><tbody>");
    for (position, outcomes) in &by_value {
        let value = order.sorted.get(*position as usize).map_or("", |v| values.name(*v));
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
fn page_data(data: &mut String, fleet: &Fleet, titles: &[String], os_order: &Order, group_order: &Order) {
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
    data.push_str(&format!(
        "{{\"advisories\":{},\"titles\":{},\"summary\":{},\"outcomes\":{},\"steps\":{},\"step_lists\":[{}",
        list(&fleet.ids),
        list(titles),
        script_json(&Value::Object(summary).to_string()),
        list(&fleet.outcomes.list),
        list(&fleet.steps.list),
        fleet.step_lists.list.iter().map(|l| format!("[{}]", numbers(l))).collect::<Vec<_>>().join(","),
    ));
    data.push_str(&format!(
        "],\"oses\":{},\"group_by\":{},\"groups\":{},\"facts_kept\":{FACTS_KEPT},\"hosts\":",
        list(&os_order.names(&fleet.oses)),
        fleet.group_by.as_deref().map_or_else(|| "null".to_string(), text),
        list(&group_order.names(&fleet.groups)),
    ));
    // The hosts by column, each written in place (a million rows, no allocation each).
    data.push_str("{\"names\":[");
    for (i, r) in fleet.rows.iter().enumerate() {
        if i > 0 {
            data.push(',');
        }
        push_script_string(data, fleet.row_id(r));
    }
    let column = |data: &mut String, key: &str, value: &dyn Fn(&Row) -> u32| {
        use std::fmt::Write as _;
        let _ = write!(data, "],\"{key}\":[");
        for (i, r) in fleet.rows.iter().enumerate() {
            let _ = write!(data, "{}{}", if i > 0 { "," } else { "" }, value(r));
        }
    };
    column(data, "os", &|r| os_order.position(r.os));
    column(data, "group", &|r| group_order.position(r.group));
    // A host without an answer from an advisory (its line had fewer) has none of its outcome,
    // steps or findings.
    let none = [
        fleet.outcomes.index.get("").copied().unwrap_or(0),
        fleet.step_lists.index.get(&[][..]).copied().unwrap_or(0),
        fleet.detail_lists.index.get(&[][..]).copied().unwrap_or(0),
    ];
    for (k, key) in ["outcomes", "steps", "details"].iter().enumerate() {
        use std::fmt::Write as _;
        let _ = write!(data, "],\"{key}\":[");
        for a in 0..fleet.ids.len() {
            data.push_str(if a > 0 { ",[" } else { "[" });
            for (i, r) in fleet.rows.iter().enumerate() {
                let cell = fleet.cells(r).get(a).map_or(none, |c| *c);
                let _ = write!(data, "{}{}", if i > 0 { "," } else { "" }, cell.get(k).copied().unwrap_or(0));
            }
            data.push(']');
        }
    }
    data.push_str("],\"facts\":[");
    for (i, facts) in fleet.facts.iter().enumerate() {
        if i > 0 {
            data.push(',');
        }
        match facts.as_deref() {
            Some(facts) => push_script_string(data, facts),
            None => data.push_str("null"),
        }
    }
    data.push_str("]}}");
}

/// The findings the host view shows, in their own data block (`fleet-details`): the page
/// parses them when a host is first opened, not when it opens (at a million hosts they are
/// half the page). A row's details are a list in `detail_lists` of indices into `details`.
fn page_details(out: &mut String, fleet: &Fleet) {
    let numbers = |list: &[u32]| list.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
    // Finding texts were numbered by whichever reader met them first; the page numbers them in
    // the order the lists use them, so the same answers always give the same page.
    let shared = fleet.details.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut renumbered: Vec<u32> = vec![u32::MAX; shared.list.len()];
    let mut texts: Vec<&str> = Vec::new();
    out.push_str("{\"detail_lists\":[");
    for (i, details) in fleet.detail_lists.list.iter().enumerate() {
        let mut ids = Vec::with_capacity(details.len());
        for &d in details.iter() {
            let Some(slot) = renumbered.get_mut(d as usize) else { continue };
            if *slot == u32::MAX {
                *slot = u32::try_from(texts.len()).unwrap_or(u32::MAX);
                texts.push(shared.name(d));
            }
            ids.push(*slot);
        }
        out.push_str(if i > 0 { ",[" } else { "[" });
        out.push_str(&numbers(&ids));
        out.push(']');
    }
    out.push_str("],\"details\":[");
    for (i, text) in texts.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // A text is an answer's own JSON: written as it is, made safe for the script element.
        push_script_json(out, text);
    }
    out.push_str("]}");
}

const TEMPLATE: &str = include_str!("report.html");
