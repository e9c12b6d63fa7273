//! `preflight batch`: one answer per input line, in input order, on every core.

use super::engine::{Engine, with_as_of};
use crate::common;
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// Lines handed to a worker at a time: large enough to keep locking rare, small enough to
/// spread the work evenly.
const CHUNK: usize = 512;

pub struct BatchArgs<'a> {
    pub rules: Option<&'a Path>,
    pub module: Option<&'a Path>,
    pub input: &'a str,
    pub output: Option<&'a Path>,
    pub summary_json: bool,
    pub as_of: Option<&'a str>,
    pub raw: bool,
    pub threads: Option<usize>,
}

#[derive(Default)]
struct Summary {
    hosts: usize,
    outcomes: BTreeMap<String, usize>,
    missing: HashMap<String, usize>,
}

impl Summary {
    fn add(&mut self, answer: &str) {
        self.hosts += 1;
        *self.outcomes.entry(outcome(answer)).or_default() += 1;
        for group in install_groups(answer) {
            *self.missing.entry(group).or_default() += 1;
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
}

/// `ready`, `action_required`, ... or `error:CODE`, read off the answer's first fields.
fn outcome(answer: &str) -> String {
    let field = |key: &str| {
        answer
            .find(key)
            .and_then(|at| answer.get(at + key.len()..))
            .and_then(|rest| rest.split('"').next())
            .map(str::to_string)
    };
    if answer.starts_with("{\"error\"") {
        format!("error:{}", field("\"code\":\"").unwrap_or_default())
    } else {
        field("\"status\":\"").unwrap_or_else(|| "?".into())
    }
}

/// Every `install_any_of` list of an answer, as "KB1 or KB2".
fn install_groups(answer: &str) -> Vec<String> {
    let mut groups = Vec::new();
    let mut rest = answer;
    while let Some(at) = rest.find("\"install_any_of\":[") {
        rest = rest.get(at + 18..).unwrap_or("");
        let list = rest.split(']').next().unwrap_or("");
        let kbs: Vec<&str> = list.split(',').map(|k| k.trim_matches('"')).filter(|k| !k.is_empty()).collect();
        groups.push(kbs.join(" or "));
    }
    groups
}

pub fn run(args: &BatchArgs<'_>) -> Result<u8, String> {
    let Some(engine) = Engine::open(args.rules, args.module)? else {
        eprintln!("the rules file has errors; run `preflight check` on it");
        return Ok(1);
    };
    let lines = read_lines(args.input)?;
    let today = common::today();
    let as_of = args.as_of.unwrap_or(&today).to_string();
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let progress = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(lines.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut out: Box<dyn Write> = match args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).map_err(|e| format!("cannot write `{}`: {e}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut summary = Summary::default();
    let next = AtomicUsize::new(0);
    let (send, receive) = mpsc::channel::<(usize, Vec<String>)>();
    std::thread::scope(|scope| -> Result<(), String> {
        for _ in 0..threads {
            let mut worker = engine.worker()?;
            let (send, next, lines, as_of, raw) = (send.clone(), &next, &lines, &as_of, args.raw);
            scope.spawn(move || {
                loop {
                    let start = next.fetch_add(CHUNK, Ordering::Relaxed);
                    let Some(chunk) = lines.get(start..(start + CHUNK).min(lines.len())).filter(|c| !c.is_empty())
                    else {
                        break;
                    };
                    let answers = chunk
                        .iter()
                        .map(|line| if raw { worker.answer(line) } else { worker.answer(&with_as_of(line, as_of)) })
                        .collect();
                    if send.send((start, answers)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(send);
        // Write chunks in input order as they arrive.
        let mut pending: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        let mut written = 0;
        for (start, answers) in receive {
            pending.insert(start, answers);
            while let Some(answers) = pending.remove(&written) {
                for answer in &answers {
                    writeln!(out, "{answer}").map_err(|e| e.to_string())?;
                    summary.add(answer);
                }
                written += answers.len();
                progress.set_position(written as u64);
            }
        }
        Ok(())
    })?;
    out.flush().map_err(|e| e.to_string())?;
    progress.finish_and_clear();
    if args.summary_json {
        eprintln!("{}", summary.json());
    } else {
        eprint!("{}", summary.table());
    }
    Ok(0)
}

fn read_lines(input: &str) -> Result<Vec<String>, String> {
    let reader: Box<dyn BufRead> = if input == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(input).map_err(|e| format!("cannot read `{input}`: {e}"))?,
        ))
    };
    let mut lines: Vec<String> =
        reader.lines().collect::<Result<_, _>>().map_err(|e| format!("cannot read `{input}`: {e}"))?;
    // A final newline ends the last line; it does not start an empty host.
    if lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    Ok(lines)
}
