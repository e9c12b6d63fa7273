//! Reading one host for the report: from its facts line, its name, Windows version and group;
//! from its answers, each advisory's outcome, the host's OS, the steps its findings ask for and
//! the facts undecided rules need. Answers are read by type, borrowing from the line: no JSON tree
//! is built (a million hosts' answers are gigabytes), and a finding's text is kept only as an
//! index into the texts every host shares (interned on the reading thread, so that `batch`'s
//! workers and `report`'s readers do it in parallel).

use super::{Names, UNDETERMINED, severity_rank};
use rustc_hash::FxHashMap;
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::sync::{Arc, Mutex};

/// Which facts name a host, hold its Windows build, and (with `--group-by`) its group.
#[derive(Clone)]
pub struct Fields {
    pub id: String,
    pub build: String,
    pub group: Option<String>,
}

/// The fact that holds a host's Windows build.
pub const BUILD_FIELD: &str = "os.version";
/// The fact that names a host's platform: a host on another platform than Windows is counted
/// under its platform's name, not under a build (a Linux kernel 6.1 is not Windows 7's 6.1).
pub const PLATFORM_FIELD: &str = "os.platform";

/// What the facts say of a host besides its answers.
pub struct Host {
    pub id: Option<String>,
    /// Its platform when that is not Windows, else its Windows build (major.minor.build): what
    /// it is counted under when no answer names its Windows version.
    pub build: String,
    /// The value of the `--group-by` fact, as text; empty when the host lacks it.
    pub group: String,
    /// The facts line, when it is a JSON document of at most 64 KiB.
    pub facts: Option<String>,
}

impl Host {
    /// Read off a facts document.
    pub fn read(raw: &[u8], fields: &Fields) -> Host {
        let facts: Value = serde_json::from_slice(raw).unwrap_or(Value::Null);
        let at = |path: &str| path.split('.').try_fold(&facts, |node, key| node.get(key));
        let text = |path: &str| at(path).and_then(Value::as_str).map(str::to_string);
        Host {
            facts: (facts.is_object() && raw.len() <= 1 << 16).then(|| String::from_utf8_lossy(raw).into_owned()),
            id: text(&fields.id),
            build: match text(PLATFORM_FIELD) {
                Some(platform) if !platform.eq_ignore_ascii_case("windows") => platform,
                _ => {
                    text(&fields.build).map(|b| b.split('.').take(3).collect::<Vec<_>>().join(".")).unwrap_or_default()
                }
            },
            // A group may be any scalar: a site name, a number, a flag.
            group: match fields.group.as_deref().and_then(at) {
                Some(Value::String(s)) => s.clone(),
                Some(v @ (Value::Number(_) | Value::Bool(_))) => v.to_string(),
                _ => String::new(),
            },
        }
    }
}

/// One host read off for the report, not yet counted: [`super::Fleet::count`] adds hosts up in
/// input order.
pub struct Read {
    pub host: Host,
    /// Per advisory (its id; `None` for a single answer that does not name it).
    pub verdicts: Vec<(Option<String>, Verdict)>,
    /// The host the answer line names, when it carries the id field.
    pub named: Option<String>,
    /// The answer line was not a JSON answer.
    pub unreadable: bool,
}

/// One advisory's answer for one host, as the report counts it.
pub struct Verdict {
    pub outcome: String,
    /// The id of the `os` declaration the host matches, when the answer names one.
    pub os: Option<String>,
    /// An input error's (code, field).
    pub error: Option<(String, String)>,
    /// The facts undetermined rules need, each once, with how a collector reads them.
    pub needed: Vec<(String, Option<String>)>,
    pub steps: Vec<String>,
    /// Whether every finding that holds the status back asks for a step.
    pub all_have_steps: bool,
    /// Its findings, undetermined rules or error: indices into the shared texts.
    pub details: Vec<u32>,
}

/// Texts shared by every reader, each stored once; a reader keeps the ones it has seen, so the
/// lock is taken only for a text new to it.
#[derive(Clone, Default)]
pub struct Shared(pub Arc<Mutex<Names>>);

/// One thread's reader.
pub struct Reader {
    fields: Fields,
    shared: Shared,
    seen: FxHashMap<Box<str>, u32>,
}

#[derive(Deserialize)]
struct AnswerIn<'a> {
    #[serde(borrow, default)]
    advisory: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    status: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    os: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    error: Option<ErrorIn<'a>>,
    #[serde(borrow, default)]
    findings: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    undetermined: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct ErrorIn<'a> {
    #[serde(borrow, default)]
    code: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    field: Option<Cow<'a, str>>,
}

/// A finding, or one of its `any_of` alternatives: what it asks for.
#[derive(Deserialize)]
struct StepIn<'a> {
    #[serde(borrow, default)]
    severity: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    install_any_of: Vec<Cow<'a, str>>,
    #[serde(borrow, default)]
    certificate: Option<&'a RawValue>,
    #[serde(borrow, default)]
    component: Option<&'a RawValue>,
    #[serde(borrow, default)]
    setting: Option<&'a RawValue>,
    #[serde(borrow, default)]
    action: Option<&'a RawValue>,
    #[serde(borrow, default)]
    any_of: Vec<StepIn<'a>>,
}

#[derive(Deserialize)]
struct UndeterminedIn<'a> {
    #[serde(borrow, default)]
    needs: Vec<NeedIn<'a>>,
}

#[derive(Deserialize)]
struct NeedIn<'a> {
    #[serde(borrow)]
    fact: Cow<'a, str>,
    #[serde(borrow, default)]
    collect: Option<Cow<'a, str>>,
}

/// A JSON object's members in order, each value left as text.
struct Members<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Members<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
                let mut out = Vec::new();
                while let Some((key, value)) = map.next_entry::<Cow<'de, str>, &'de RawValue>()? {
                    out.push((key, value));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(Visit)
    }
}

impl Reader {
    pub fn new(fields: Fields, shared: Shared) -> Reader {
        Reader { fields, shared, seen: FxHashMap::default() }
    }

    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    /// A line of `batch`'s output (one advisory's answer, or several keyed by advisory id) and
    /// its host's facts line.
    pub fn read_line(&mut self, answer: &[u8], facts: &[u8]) -> Read {
        let host = Host::read(facts, &self.fields);
        let parsed = std::str::from_utf8(answer)
            .ok()
            .and_then(|text| Some((text, serde_json::from_str::<Members<'_>>(text).ok()?)));
        let Some((text, Members(members))) = parsed else {
            return self.unreadable(host, None);
        };
        let named = self.named(&members);
        let single = members.iter().any(|(k, _)| k == "status" || k == "error");
        let verdicts: Option<Vec<_>> = if single {
            self.verdict(text).map(|(id, v)| vec![(id, v)])
        } else {
            members.iter().map(|(id, raw)| self.verdict(raw.get()).map(|(_, v)| (Some(id.to_string()), v))).collect()
        };
        match verdicts {
            Some(verdicts) => Read { host, verdicts, named, unreadable: false },
            None => self.unreadable(host, named),
        }
    }

    /// A host whose answer line is not a JSON answer (or is longer than any answer): counted
    /// under `error:unreadable_answer` for the first advisory, never dropped.
    pub fn unreadable(&mut self, host: Host, named: Option<String>) -> Read {
        self.unanswered(host, named, "unreadable_answer", "the answer line is not a JSON answer")
    }

    /// A host counted under `error:CODE` for the first advisory, its answer unread.
    pub fn unanswered(&mut self, host: Host, named: Option<String>, code: &str, message: &str) -> Read {
        let verdict = self.substitute(code, message);
        Read { host, verdicts: vec![(None, verdict)], named, unreadable: true }
    }

    /// An answer this reader writes in place of one it could not read.
    fn substitute(&mut self, code: &str, message: &str) -> Verdict {
        let text = serde_json::json!({ "error": { "code": code, "field": "", "message": message } }).to_string();
        let details = vec![self.intern(&text)];
        Verdict {
            outcome: format!("error:{code}"),
            os: None,
            error: Some((code.to_string(), String::new())),
            needed: Vec::new(),
            steps: Vec::new(),
            all_have_steps: false,
            details,
        }
    }

    /// Each advisory's answer text as an engine wrote it (`batch --report`'s workers).
    pub fn read_answers(&mut self, ids: &[String], answers: &[&str], facts: &[u8]) -> Read {
        let host = Host::read(facts, &self.fields);
        let verdicts = ids
            .iter()
            .zip(answers)
            .map(|(id, text)| {
                let verdict = match self.verdict(text) {
                    Some((_, v)) => v,
                    None => self.substitute("unreadable_answer", "the engine's answer is not a JSON answer"),
                };
                (Some(id.clone()), verdict)
            })
            .collect();
        Read { host, verdicts, named: None, unreadable: false }
    }

    /// The host an answer names, if it carries the id field (`host.name`) at its top or in an
    /// advisory's answer (batch's answers never do; answers a tool wrote may).
    fn named(&self, members: &[(Cow<'_, str>, &RawValue)]) -> Option<String> {
        let mut path = self.fields.id.split('.');
        let first = path.next()?;
        let rest: Vec<&str> = path.collect();
        let descend = |raw: &RawValue, keys: &[&str]| -> Option<String> {
            let value: Value = serde_json::from_str(raw.get()).ok()?;
            keys.iter().try_fold(&value, |node, key| node.get(key)).and_then(Value::as_str).map(str::to_string)
        };
        if let Some((_, raw)) = members.iter().find(|(k, _)| k == first) {
            return descend(raw, &rest);
        }
        // Only an advisory's answer that mentions the key is parsed.
        let needle = format!("\"{first}\"");
        members.iter().filter(|(_, raw)| raw.get().contains(&needle)).find_map(|(_, raw)| {
            let mut keys = vec![first];
            keys.extend(&rest);
            descend(raw, &keys)
        })
    }

    /// One advisory's answer: its advisory id (when it names one) and what the report counts.
    fn verdict(&mut self, text: &str) -> Option<(Option<String>, Verdict)> {
        let answer: AnswerIn<'_> = serde_json::from_str(text).ok()?;
        let advisory = answer.advisory.as_deref().map(str::to_string);
        if let Some(error) = &answer.error {
            let code = error.code.as_deref().unwrap_or("?").to_string();
            let field = error.field.as_deref().unwrap_or_default().to_string();
            let details = vec![self.intern(text)];
            let verdict = Verdict {
                outcome: format!("error:{code}"),
                os: None,
                error: Some((code, field)),
                needed: Vec::new(),
                steps: Vec::new(),
                all_have_steps: false,
                details,
            };
            return Some((advisory, verdict));
        }
        let mut status = answer.status.as_deref().unwrap_or("?").to_string();
        let mut needed: Vec<(String, Option<String>)> = Vec::new();
        for raw in &answer.undetermined {
            let Ok(u) = serde_json::from_str::<UndeterminedIn<'_>>(raw.get()) else { continue };
            for n in u.needs {
                if !needed.iter().any(|(f, _)| *f == n.fact) {
                    needed.push((n.fact.into_owned(), n.collect.map(Cow::into_owned)));
                }
            }
        }
        // `unknown` because facts are missing is not `unknown` because the advisory does not
        // cover the host: the report counts them apart.
        if status == "unknown" && !needed.is_empty() {
            status = UNDETERMINED.to_string();
        }
        let mut steps: Vec<String> = Vec::new();
        // An unsupported Windows version, say, is held back by a finding no step fixes.
        let mut all_have_steps = severity_rank(&status) >= severity_rank("action_required");
        for raw in &answer.findings {
            let Ok(f) = serde_json::from_str::<StepIn<'_>>(raw.get()) else { continue };
            let severity = f.severity.as_deref().unwrap_or_default();
            let holds_back = severity != "info" && severity != "warning";
            let step = if f.any_of.is_empty() {
                step_name(&f)
            } else {
                let each: Vec<String> = f.any_of.iter().filter_map(step_name).collect();
                (!each.is_empty()).then(|| each.join(" or "))
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
        let details = answer.findings.iter().chain(&answer.undetermined).map(|raw| self.intern(raw.get())).collect();
        let os = answer.os.map(Cow::into_owned);
        Some((advisory, Verdict { outcome: status, os, error: None, needed, steps, all_have_steps, details }))
    }

    fn intern(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.seen.get(text) {
            return id;
        }
        let id = match self.shared.0.lock() {
            Ok(mut names) => names.id(text),
            Err(poisoned) => poisoned.into_inner().id(text),
        };
        self.seen.insert(text.into(), id);
        id
    }
}

/// The step a finding (or one of its `any_of` alternatives) asks for, in words: `install KB1 or
/// KB2`, `certificate: NAME`, `component: NAME`, `setting: NAME`, `action: NAME`.
fn step_name(f: &StepIn<'_>) -> Option<String> {
    if !f.install_any_of.is_empty() {
        return Some(format!("install {}", f.install_any_of.join(" or ")));
    }
    [("certificate", f.certificate), ("component", f.component), ("setting", f.setting), ("action", f.action)]
        .into_iter()
        .find_map(|(kind, raw)| {
            // A certificate is named by a string, the others by an object with a `name`.
            let name = match serde_json::from_str::<Value>(raw?.get()).ok()? {
                Value::String(s) => s,
                Value::Object(o) => o.get("name").and_then(Value::as_str)?.to_string(),
                _ => return None,
            };
            Some(format!("{kind}: {name}"))
        })
}
