//! `preflight batch`: one answer per input line, in input order, on every core.
//!
//! Three stages joined by bounded channels, so memory stays flat whatever the input's size: a
//! reader cuts the input into chunks of lines, workers answer them, and the writer puts the
//! answers back in input order. The output file is written beside its destination and renamed
//! over it only when every line has its answer; an interrupt keeps what was done as
//! `OUT.partial`, a module that keeps failing stops the run.

use super::engine::{Engines, Workers, combine};
use crate::common;
use crate::output::{Input, OutputFile, refuse_inputs};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Lines handed to a worker at a time: large enough to keep locking rare, small enough to
/// spread the work evenly.
const CHUNK_LINES: usize = 512;
/// A chunk also ends after this many bytes, so that long lines cannot make chunks large.
const CHUNK_BYTES: usize = 4 << 20;
/// Chunks read but not yet written, per worker: bounds memory, keeps every worker busy.
const IN_FLIGHT_PER_WORKER: usize = 4;
/// This many engine failures in a row means the module is broken, not the hosts.
pub const BROKEN_AFTER: usize = 25;
/// Exit code after SIGINT or SIGTERM, as shells report a command ended by Ctrl-C.
const INTERRUPTED: u8 = 130;

pub struct BatchArgs<'a> {
    pub rules: &'a [PathBuf],
    pub modules: &'a [PathBuf],
    pub input: &'a str,
    pub output: Option<&'a Path>,
    pub summary_json: bool,
    /// Days since 1970-01-01; today when absent.
    pub as_of: Option<i32>,
    pub raw: bool,
    pub threads: Option<usize>,
    /// Also write the fleet report (`preflight report`'s page).
    pub report: Option<ReportArgs<'a>>,
}

/// `batch --report`: where the page goes, which facts name and group hosts, earlier runs.
pub struct ReportArgs<'a> {
    pub path: &'a Path,
    pub fields: super::report::Fields,
    pub previous: &'a [PathBuf],
}

#[derive(Default)]
struct Summary {
    hosts: usize,
    outcomes: BTreeMap<String, usize>,
    missing: HashMap<String, usize>,
}

impl Summary {
    /// Tallies one answer. Runs once per host on the writer thread, so it allocates only for an
    /// outcome or a group of updates it has not seen before.
    fn add(&mut self, answer: &str, scratch: &mut String) {
        self.hosts += 1;
        let outcome = outcome(answer);
        match self.outcomes.get_mut(outcome.as_ref()) {
            Some(n) => *n += 1,
            None => drop(self.outcomes.insert(outcome.into_owned(), 1)),
        }
        let mut rest = answer;
        while let Some(group) = next_install_group(&mut rest, scratch) {
            match self.missing.get_mut(group) {
                Some(n) => *n += 1,
                None => drop(self.missing.insert(group.to_string(), 1)),
            }
        }
    }

    fn top_missing(&self, n: usize) -> Vec<(&String, &usize)> {
        let mut top: Vec<(&String, &usize)> = self.missing.iter().collect();
        top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        top.truncate(n);
        top
    }

    fn json(&self) -> serde_json::Value {
        let top: Vec<serde_json::Value> =
            self.top_missing(10).iter().map(|(kb, n)| serde_json::json!({ "kb": kb, "hosts": n })).collect();
        serde_json::json!({ "hosts": self.hosts, "outcomes": self.outcomes, "top_missing_updates": top })
    }

    fn table(&self) -> String {
        let mut out = format!("{:<28}{:>10}\n", "hosts", self.hosts);
        for (outcome, n) in &self.outcomes {
            let share = 100.0 * *n as f64 / self.hosts.max(1) as f64;
            out.push_str(&format!("{outcome:<28}{n:>10}  {share:5.1}%\n"));
        }
        let top = self.top_missing(10);
        if !top.is_empty() {
            out.push_str("top missing updates\n");
            for (kb, n) in top {
                out.push_str(&format!("  {kb:<26}{n:>10}\n"));
            }
        }
        out
    }

    /// Every line was refused as JSON: the input is probably not JSON Lines.
    fn nothing_parsed(&self) -> bool {
        self.hosts > 0 && self.outcomes.get("error:invalid_json") == Some(&self.hosts)
    }
}

/// A summary per advisory.
struct Summaries {
    ids: Vec<String>,
    each: Vec<Summary>,
    hosts: usize,
    scratch: String,
}

impl Summaries {
    fn new(ids: &[String]) -> Summaries {
        let each = ids.iter().map(|_| Summary::default()).collect();
        Summaries { ids: ids.to_vec(), each, hosts: 0, scratch: String::new() }
    }

    fn add(&mut self, answers: &[&str]) {
        self.hosts += 1;
        for (summary, answer) in self.each.iter_mut().zip(answers) {
            summary.add(answer, &mut self.scratch);
        }
    }

    /// One advisory's summary as it is; several keyed by advisory id.
    fn json(&self) -> serde_json::Value {
        match self.each.as_slice() {
            [one] => one.json(),
            _ => serde_json::json!({
                "hosts": self.hosts,
                "advisories": self.ids.iter().zip(&self.each).map(|(id, s)| (id.clone(), s.json())).collect::<serde_json::Map<_, _>>(),
            }),
        }
    }

    fn table(&self) -> String {
        match self.each.as_slice() {
            [one] => one.table(),
            _ => self
                .ids
                .iter()
                .zip(&self.each)
                .map(|(id, s)| format!("{id}\n{}", s.table()))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    /// Every line was refused as JSON (by the first advisory; the reading is shared).
    fn nothing_parsed(&self) -> bool {
        self.each.first().is_some_and(Summary::nothing_parsed)
    }
}

/// Searchers for the keys the summary reads, built once (building one costs more than a search).
static STATUS: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new("\"status\":\""));
static CODE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new("\"code\":\""));
static UNDETERMINED: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new("\"undetermined\":["));
static INSTALL: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new("\"install_any_of\":["));

/// `ready`, `action_required`, ... or `error:CODE`, read off the answer's first fields; an
/// `unknown` the facts left undetermined (the answer lists `undetermined` rules) is
/// `undetermined`, apart from the `unknown` of hosts the advisory does not cover. (Quotes in
/// strings are escaped, so the key can only be the answer's own.)
fn outcome(answer: &str) -> std::borrow::Cow<'_, str> {
    let field = |key: &memchr::memmem::Finder<'_>| {
        key.find(answer.as_bytes())
            .and_then(|at| answer.get(at + key.needle().len()..))
            .and_then(|rest| rest.split('"').next())
    };
    if answer.starts_with("{\"error\"") {
        format!("error:{}", field(&CODE).unwrap_or_default()).into()
    } else {
        match field(&STATUS).unwrap_or("?") {
            "unknown" if UNDETERMINED.find(answer.as_bytes()).is_some() => super::report::UNDETERMINED.into(),
            status => status.into(),
        }
    }
}

/// The answer's next `install_any_of` list after `rest`, written into `scratch` as "KB1 or KB2".
fn next_install_group<'s>(rest: &mut &str, scratch: &'s mut String) -> Option<&'s str> {
    let at = INSTALL.find(rest.as_bytes())?;
    *rest = rest.get(at + INSTALL.needle().len()..).unwrap_or("");
    let list = rest.split(']').next().unwrap_or("");
    scratch.clear();
    for kb in list.split(',').map(|k| k.trim_matches('"')).filter(|k| !k.is_empty()) {
        if !scratch.is_empty() {
            scratch.push_str(" or ");
        }
        scratch.push_str(kb);
    }
    Some(scratch.as_str())
}

// ---------------------------------------------------------------- lines

/// Lines of bytes. A line ends at LF, CRLF or a lone CR; the input's last line needs no line
/// end, and a line end at the very end of the input does not start another line. Every line
/// is a host, blank ones included, so that answer N is always the answer to line N. A line
/// longer than the largest facts document is kept only up to one byte past that size: its
/// answer is `too_large` either way, and memory stays bounded.
pub struct Lines<R> {
    reader: R,
    max: usize,
}

impl<R: BufRead> Lines<R> {
    pub fn new(reader: R, max: usize) -> Self {
        Lines { reader, max }
    }

    /// The next line and the number of input bytes it took (with its line end).
    pub fn next_line(&mut self) -> std::io::Result<Option<(Vec<u8>, usize)>> {
        let mut line = Vec::new();
        Ok(self.append_line(&mut line)?.map(|taken| (line, taken)))
    }

    /// Appends the next line to `out` (kept to its first `max` + 1 bytes, as [`Self::next_line`]
    /// keeps it); the number of input bytes it took, or `None` at the end.
    pub fn append_line(&mut self, out: &mut Vec<u8>) -> std::io::Result<Option<usize>> {
        let (start, mut taken, mut any) = (out.len(), 0, false);
        loop {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                return Ok(any.then_some(taken));
            }
            any = true;
            let end = memchr::memchr2(b'\n', b'\r', buf);
            let text = buf.get(..end.unwrap_or(buf.len())).unwrap_or_default();
            let room = (self.max + 1).saturating_sub(out.len() - start).min(text.len());
            out.extend_from_slice(text.get(..room).unwrap_or_default());
            let Some(end) = end else {
                let n = buf.len();
                self.reader.consume(n);
                taken += n;
                continue;
            };
            let cr = buf.get(end) == Some(&b'\r');
            self.reader.consume(end + 1);
            taken += end + 1;
            if cr && self.reader.fill_buf()?.first() == Some(&b'\n') {
                self.reader.consume(1);
                taken += 1;
            }
            return Ok(Some(taken));
        }
    }
}

// ---------------------------------------------------------------- the run

/// Lines to answer, with where they end in the input (for the progress bar).
struct Chunk {
    seq: usize,
    lines: Vec<Vec<u8>>,
    end_offset: u64,
}

/// Answers to a chunk's lines (a prefix of them when the run was halted midway): each line's
/// answer from every advisory, in order.
struct Answered {
    seq: usize,
    answers: Vec<Vec<Result<String, String>>>,
    /// With a report: each line's host (name, build, facts) and answers, read by the worker.
    hosts: Vec<super::report::Read>,
    end_offset: u64,
}

/// How the run ended.
enum End {
    Complete,
    Interrupted,
    /// The engine failed on this many hosts in a row; the last failure.
    Broken(String),
    ReadError(String),
}

pub fn run(args: &BatchArgs<'_>) -> Result<u8, String> {
    let Some(engines) = Engines::open(args.rules, args.modules)? else {
        eprintln!("a rules file has errors; run `preflight check` on it");
        return Ok(1);
    };
    let ids = engines.ids();
    let mut inputs: Vec<Input<'_>> = vec![("the input file", Path::new(args.input))];
    inputs.extend(args.rules.iter().map(|r| ("a rules file", r.as_path())));
    inputs.extend(args.modules.iter().map(|m| ("a module", m.as_path())));
    if let Some(report) = &args.report {
        let mut others = inputs.clone();
        others.extend(args.output.map(|o| ("the answers' output (-o)", o)));
        refuse_inputs(report.path, &others)?;
    }
    // Earlier runs are read before the run, so a bad one is refused before any work.
    let mut runs: Vec<super::report::Run> = match &args.report {
        Some(report) => report.previous.iter().map(|p| super::report::Run::read(p)).collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    let mut report =
        args.report.as_ref().map(|r| super::report::Fleet::new(engines.about(), r.fields.group.as_deref()));
    let readers = report.as_ref().zip(args.report.as_ref()).map(|(fleet, r)| (fleet.shared(), r.fields.clone()));
    let (input, size) = open_input(args.input)?;
    let mut sink = Sink::open(args.output, &inputs)?;
    let halt = interrupt_flag()?;
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let date = if args.raw { None } else { Some(args.as_of.unwrap_or_else(common::today)) };
    let progress = if std::io::stderr().is_terminal() && size > 0 {
        indicatif::ProgressBar::new(size)
    } else {
        indicatif::ProgressBar::hidden()
    };

    let read_error = Arc::new(Mutex::new(None));
    let (tokens, chunks) = start_reader(input, threads, halt.clone(), read_error.clone());
    let answered = start_workers(&engines, chunks, threads, date, &halt, readers, &ids)?;
    let mut summary = Summaries::new(&ids);
    let mut end = write_in_order(answered, &tokens, &mut sink, &mut summary, &mut report, &halt, &progress)?;
    progress.finish_and_clear();
    if let Some(error) = read_error.lock().ok().and_then(|mut e| e.take()) {
        end = End::ReadError(error);
    }

    if args.summary_json {
        eprintln!("{}", summary.json());
    } else {
        eprint!("{}", summary.table());
    }
    if summary.nothing_parsed() {
        eprintln!(
            "note: no line was a JSON document; batch expects one JSON object per line (JSON Lines), \
             not one document spread over several lines"
        );
    }
    match end {
        End::Complete => {
            sink.commit()?;
            if let (Some(r), Some(fleet)) = (&args.report, &report) {
                // Written in parts, as `report` writes it: the page is never copied whole.
                let parts = super::report::page_parts(fleet, std::mem::take(&mut runs));
                let bytes: usize = parts.iter().map(String::len).sum();
                let parts: Vec<&[u8]> = parts.iter().map(|p| p.as_bytes()).collect();
                crate::output::write_parts(r.path, &parts, &inputs)?;
                // With `--summary json`, standard error is that JSON alone (a tool parses it).
                if !args.summary_json {
                    eprintln!("wrote the report {} ({bytes} bytes)", r.path.display());
                }
            }
            Ok(0)
        }
        End::Interrupted => {
            let kept = sink.keep_partial()?;
            eprintln!("interrupted: answered the first {} lines{kept}", summary.hosts);
            Ok(INTERRUPTED)
        }
        End::Broken(last) => {
            let kept = sink.discard();
            Err(format!(
                "the module failed on {BROKEN_AFTER} hosts in a row, so it is broken rather than the hosts; \
                 stopped after {} lines{kept}. The last failure: {last}",
                summary.hosts
            ))
        }
        End::ReadError(error) => {
            let kept = sink.discard();
            Err(format!("{error} (after {} lines){kept}", summary.hosts))
        }
    }
}

fn open_input(input: &str) -> Result<(Box<dyn BufRead + Send>, u64), String> {
    if input == "-" {
        return Ok((Box::new(std::io::BufReader::new(std::io::stdin())), 0));
    }
    let file = std::fs::File::open(input).map_err(|e| format!("cannot read `{input}`: {e}"))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    Ok((Box::new(std::io::BufReader::with_capacity(1 << 16, file)), size))
}

/// SIGINT and SIGTERM set the flag the stages watch; a second one ends the process at once.
fn interrupt_flag() -> Result<Arc<AtomicBool>, String> {
    let halt = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(signal, i32::from(INTERRUPTED), halt.clone())
            .and_then(|_| signal_hook::flag::register(signal, halt.clone()))
            .map_err(|e| format!("cannot watch for interrupts: {e}"))?;
    }
    Ok(halt)
}

/// The reader: cuts the input into chunks, one token per chunk in flight. It runs detached, so
/// that an interrupt never waits on a read from a terminal; it ends at the end of the input, on
/// a halt, or when the writer is gone.
fn start_reader(
    input: Box<dyn BufRead + Send>,
    workers: usize,
    halt: Arc<AtomicBool>,
    read_error: Arc<Mutex<Option<String>>>,
) -> (SyncSender<()>, Receiver<Chunk>) {
    let in_flight = workers * IN_FLIGHT_PER_WORKER;
    let (token_send, token_receive) = mpsc::sync_channel::<()>(in_flight);
    for _ in 0..in_flight {
        let _ = token_send.send(());
    }
    let (chunk_send, chunk_receive) = mpsc::sync_channel::<Chunk>(in_flight);
    std::thread::spawn(move || {
        let mut lines = Lines::new(input, preflight_compiler::facts::MAX_INPUT_BYTES);
        let (mut seq, mut offset) = (0, 0u64);
        loop {
            let mut chunk = Chunk { seq, lines: Vec::new(), end_offset: offset };
            let (mut bytes, mut ended) = (0, false);
            while !ended && chunk.lines.len() < CHUNK_LINES && bytes < CHUNK_BYTES {
                match lines.next_line() {
                    Ok(Some((line, taken))) => {
                        bytes += line.len();
                        offset += taken as u64;
                        chunk.lines.push(line);
                    }
                    Ok(None) => ended = true,
                    Err(e) => {
                        if let Ok(mut slot) = read_error.lock() {
                            *slot = Some(format!("cannot read the input: {e}"));
                        }
                        halt.store(true, Ordering::SeqCst);
                        ended = true;
                    }
                }
            }
            chunk.end_offset = offset;
            if chunk.lines.is_empty() || halt.load(Ordering::SeqCst) || token_receive.recv().is_err() {
                break;
            }
            if chunk_send.send(chunk).is_err() || ended {
                break;
            }
            seq += 1;
        }
    });
    (token_send, chunk_receive)
}

/// The workers: each answers whole chunks with its own engine instance, and stops between
/// lines once the run is halted.
fn start_workers(
    engines: &Engines,
    chunks: Receiver<Chunk>,
    threads: usize,
    date: Option<i32>,
    halt: &Arc<AtomicBool>,
    readers: Option<(super::report::Shared, super::report::Fields)>,
    ids: &[String],
) -> Result<Receiver<Answered>, String> {
    let chunks = Arc::new(Mutex::new(chunks));
    let (send, receive) = mpsc::channel::<Answered>();
    for _ in 0..threads {
        let mut workers: Workers = engines.workers()?;
        let (chunks, send, halt) = (chunks.clone(), send.clone(), halt.clone());
        let mut reader = readers.clone().map(|(shared, fields)| super::report::Reader::new(fields, shared));
        let ids = ids.to_vec();
        std::thread::spawn(move || {
            while let Some(chunk) = next_chunk(&chunks, &halt) {
                let mut answers = Vec::with_capacity(chunk.lines.len());
                let mut hosts = Vec::new();
                for line in &chunk.lines {
                    if halt.load(Ordering::SeqCst) {
                        break;
                    }
                    let answer = workers.answers(line, date);
                    // The report's reading of the host happens here, in parallel; the writer
                    // only counts it.
                    if let Some(reader) = reader.as_mut() {
                        let texts: Vec<&str> =
                            answer.iter().map(|a| a.as_ref().map_or_else(String::as_str, String::as_str)).collect();
                        hosts.push(reader.read_answers(&ids, &texts, line));
                    }
                    answers.push(answer);
                }
                let answered = Answered { seq: chunk.seq, answers, hosts, end_offset: chunk.end_offset };
                if send.send(answered).is_err() {
                    break;
                }
            }
        });
    }
    Ok(receive)
}

/// The next chunk, or `None` at the end of the input or once halted (checked while waiting, as
/// the reader may be blocked on a terminal).
fn next_chunk(chunks: &Mutex<Receiver<Chunk>>, halt: &AtomicBool) -> Option<Chunk> {
    loop {
        if halt.load(Ordering::SeqCst) {
            return None;
        }
        let receiver = chunks.lock().ok()?;
        match receiver.recv_timeout(Duration::from_millis(50)) {
            Ok(chunk) => return Some(chunk),
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return None,
        }
    }
}

/// The writer: answers in input order as chunks arrive; one token back per chunk written.
fn write_in_order(
    answered: Receiver<Answered>,
    tokens: &SyncSender<()>,
    sink: &mut Sink,
    summary: &mut Summaries,
    report: &mut Option<super::report::Fleet>,
    halt: &AtomicBool,
    progress: &indicatif::ProgressBar,
) -> Result<End, String> {
    let mut pending: BTreeMap<usize, Answered> = BTreeMap::new();
    let (mut next, mut failures_in_a_row) = (0, 0);
    for chunk in answered {
        pending.insert(chunk.seq, chunk);
        while let Some(mut chunk) = pending.remove(&next) {
            let mut hosts = std::mem::take(&mut chunk.hosts).into_iter();
            for line in &chunk.answers {
                // A line counts as an engine failure when any advisory's engine failed on it.
                match line.iter().find_map(|a| a.as_ref().err()) {
                    None => failures_in_a_row = 0,
                    Some(error) => {
                        failures_in_a_row += 1;
                        if failures_in_a_row >= BROKEN_AFTER {
                            halt.store(true, Ordering::SeqCst);
                            return Ok(End::Broken(error.clone()));
                        }
                    }
                }
                let texts: Vec<&str> =
                    line.iter().map(|a| a.as_ref().map_or_else(String::as_str, String::as_str)).collect();
                let combined = combine(&summary.ids, &texts);
                sink.write_line(&combined)?;
                summary.add(&texts);
                if let (Some(fleet), Some(host)) = (report.as_mut(), hosts.next()) {
                    fleet.count(host);
                }
            }
            // A chunk cut short by a halt ends the output: what follows it would leave a gap.
            if halt.load(Ordering::SeqCst) {
                return Ok(End::Interrupted);
            }
            progress.set_position(chunk.end_offset);
            next += 1;
            let _ = tokens.try_send(());
        }
    }
    Ok(if halt.load(Ordering::SeqCst) { End::Interrupted } else { End::Complete })
}

// ---------------------------------------------------------------- the output

/// Where answers go: standard output, or a temporary file beside OUT that replaces OUT only
/// when the run is complete.
pub(crate) struct Sink {
    out: Box<dyn Write>,
    file: Option<OutputFile>,
}

impl Sink {
    /// Standard output, or `output` (see [`crate::output`]), which must be none of `inputs`.
    pub(crate) fn open(output: Option<&Path>, inputs: &[Input<'_>]) -> Result<Sink, String> {
        let Some(path) = output else {
            return Ok(Sink {
                out: Box::new(std::io::BufWriter::with_capacity(1 << 16, std::io::stdout())),
                file: None,
            });
        };
        let mut file = OutputFile::create(path, inputs)?;
        let writer = file.file().try_clone().map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
        Ok(Sink { out: Box::new(std::io::BufWriter::with_capacity(1 << 16, writer)), file: Some(file) })
    }

    /// What became of the output when a run stops without committing: a file is left as it was;
    /// a device or FIFO has had what was written.
    pub(crate) fn left(&self) -> &'static str {
        match &self.file {
            Some(file) if file.in_place() => "; what was converted before the errors was written to the output",
            Some(_) => "; the output file was left as it was",
            None => "",
        }
    }

    pub(crate) fn write_line(&mut self, text: &str) -> Result<(), String> {
        let written = self.out.write_all(text.as_bytes()).and_then(|()| self.out.write_all(b"\n"));
        written.map_err(|e| self.write_error(&e))
    }

    fn write_error(&self, e: &std::io::Error) -> String {
        match &self.file {
            Some(file) => format!("cannot write `{}`: {e}", file.path().display()),
            None => common::stdout_failed(e),
        }
    }

    fn flush(&mut self) -> Result<(), String> {
        self.out.flush().map_err(|e| self.write_error(&e))
    }

    /// Every line answered: OUT is replaced at once.
    pub(crate) fn commit(mut self) -> Result<(), String> {
        self.flush()?;
        match self.file.take() {
            Some(file) => file.commit(),
            None => Ok(()),
        }
    }

    /// An interrupted run: OUT stays as it was; the answers so far go to `OUT.partial`.
    fn keep_partial(mut self) -> Result<String, String> {
        self.flush()?;
        let Some(file) = self.file.take() else { return Ok(String::new()) };
        let target = file.path().to_path_buf();
        Ok(match file.keep_partial()? {
            Some(partial) => {
                format!("; `{}` is unchanged, the answers so far are in `{}`", target.display(), partial.display())
            }
            None => format!("; the answers so far were written to `{}`", target.display()),
        })
    }

    /// A failed run: the temporary file goes, OUT stays as it was (a device or FIFO has had
    /// what was written so far).
    fn discard(mut self) -> String {
        match self.file.take() {
            Some(file) if file.in_place() => {
                format!("; the answers so far were written to `{}`", file.path().display())
            }
            Some(file) => format!("; `{}` is unchanged", file.path().display()),
            None => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Lines;

    fn lines(input: &[u8]) -> Vec<String> {
        let mut reader = Lines::new(std::io::BufReader::with_capacity(3, input), 8);
        let mut out = Vec::new();
        while let Some((line, _)) = reader.next_line().unwrap() {
            out.push(String::from_utf8_lossy(&line).to_string());
        }
        out
    }

    #[test]
    fn every_line_end_ends_a_line_and_every_line_counts() {
        assert_eq!(lines(b"a\nb\r\nc\rd"), ["a", "b", "c", "d"]);
        assert_eq!(lines(b"a\n"), ["a"]);
        assert_eq!(lines(b"a\n\n"), ["a", ""]);
        assert_eq!(lines(b"a\n  "), ["a", "  "]);
        assert_eq!(lines(b"\n \n"), ["", " "]);
        assert_eq!(lines(b"a\r\r\n"), ["a", ""]);
        assert_eq!(lines(b""), Vec::<String>::new());
    }

    #[test]
    fn a_long_line_is_kept_to_one_byte_past_the_limit() {
        assert_eq!(lines(b"0123456789abcdef\nx"), ["012345678", "x"]);
    }
}
