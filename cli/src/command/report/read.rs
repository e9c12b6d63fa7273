//! Reading one host for the report: from its facts line, its name, Windows version and group;
//! from its answers, each advisory's outcome, the host's OS, the steps its findings ask for and
//! the facts undecided rules need. Answers are read by type, borrowing from the line: no JSON tree
//! is built (a million hosts' answers are gigabytes), and a finding's text is kept only as an
//! index into the texts every host shares (interned on the reading thread, so that `batch`'s
//! workers and `report`'s readers do it in parallel).

use super::{UNDETERMINED, severity_rank};
use rustc_hash::FxHashMap;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use smallvec::SmallVec;
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
    /// Read off a facts document; its text is kept when `keep_facts` (the page shows the facts
    /// of its first hosts only).
    pub fn read(raw: &[u8], fields: &Fields, keep_facts: bool) -> Host {
        let text = std::str::from_utf8(raw).ok();
        // The four facts the table shows, found in one pass over the document.
        let paths: Vec<Vec<&str>> =
            [Some(fields.id.as_str()), Some(PLATFORM_FIELD), Some(fields.build.as_str()), fields.group.as_deref()]
                .iter()
                .map(|p| p.map_or_else(Vec::new, |p| p.split('.').collect()))
                .collect();
        let wanted: Vec<(&[&str], usize)> =
            paths.iter().enumerate().filter(|(_, p)| !p.is_empty()).map(|(i, p)| (p.as_slice(), i)).collect();
        let mut found: [Option<&RawValue>; 4] = [None; 4];
        let is_object = text.is_some_and(|t| {
            use serde::de::DeserializeSeed;
            let mut d = serde_json::Deserializer::from_str(t);
            PathsSeed { paths: &wanted, found: &mut found }.deserialize(&mut d).is_ok_and(|object| object)
                && d.end().is_ok()
        });
        // A document that is not a JSON object names nothing, whatever its first bytes held.
        if !is_object {
            found = [None; 4];
        }
        let string =
            |i: usize| found.get(i).copied().flatten().and_then(|v| serde_json::from_str::<String>(v.get()).ok());
        Host {
            facts: (keep_facts && is_object && raw.len() <= 1 << 16).then(|| text.map(str::to_string)).flatten(),
            id: string(0),
            build: match string(1) {
                Some(platform) if !platform.eq_ignore_ascii_case("windows") => platform,
                _ => string(2).map(|b| b.split('.').take(3).collect::<Vec<_>>().join(".")).unwrap_or_default(),
            },
            // A group may be any scalar: a site name, a number, a flag.
            group: match found.get(3).copied().flatten().map(RawValue::get) {
                Some(v) if v.starts_with('"') => serde_json::from_str(v).unwrap_or_default(),
                Some(v) if v != "null" && !v.starts_with(['{', '[']) => v.to_string(),
                _ => String::new(),
            },
        }
    }
}

/// Finds the values at dotted paths of a document in one pass (`found[slot]`, the last of a
/// repeated key winning, as the module reads one); says whether the document is an object.
struct PathsSeed<'p, 'f, 'de> {
    /// Each path's keys from here on, and its slot.
    paths: &'p [(&'p [&'p str], usize)],
    found: &'f mut [Option<&'de RawValue>; 4],
}

impl<'de> serde::de::DeserializeSeed<'de> for PathsSeed<'_, '_, 'de> {
    type Value = bool;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for PathsSeed<'_, '_, 'de> {
    type Value = bool;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let here: Vec<(&[&str], usize)> = self
                .paths
                .iter()
                .filter(|(keys, _)| keys.first() == Some(&&*key))
                .map(|(keys, slot)| (keys.get(1..).unwrap_or_default(), *slot))
                .collect();
            // A repeated key: the last one wins, and what an earlier one held under it is gone.
            for (_, slot) in &here {
                if let Some(f) = self.found.get_mut(*slot) {
                    *f = None;
                }
            }
            if here.is_empty() {
                map.next_value::<serde::de::IgnoredAny>()?;
            } else if here.iter().any(|(rest, _)| rest.is_empty()) {
                // A path ends here: keep the value's text; paths going deeper read it again.
                let raw: &'de RawValue = map.next_value()?;
                let deeper: Vec<(&[&str], usize)> = here.iter().filter(|(rest, _)| !rest.is_empty()).copied().collect();
                for (_, slot) in here.iter().filter(|(rest, _)| rest.is_empty()) {
                    if let Some(f) = self.found.get_mut(*slot) {
                        *f = Some(raw);
                    }
                }
                if !deeper.is_empty() {
                    use serde::de::DeserializeSeed;
                    let mut d = serde_json::Deserializer::from_str(raw.get());
                    let _ = PathsSeed { paths: &deeper, found: &mut *self.found }.deserialize(&mut d);
                }
            } else {
                map.next_value_seed(PathsSeed { paths: &here, found: &mut *self.found })?;
            }
        }
        Ok(true)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
}

/// One host read off for the report, not yet counted: [`super::Fleet::count`] adds hosts up in
/// input order.
pub struct Read {
    pub host: Host,
    /// Per advisory (its id; `None` for a single answer that does not name it).
    pub verdicts: Verdicts,
    /// The host the answer line names, when it carries the id field.
    pub named: Option<String>,
    /// The answer line was not a JSON answer.
    pub unreadable: bool,
}

/// A line's answers, per advisory (its id; `None` for a single answer that does not name it):
/// shared by every host whose answer line is the same.
pub type Verdicts = Arc<Vec<(Option<String>, Verdict)>>;

/// One advisory's answer for one host, as the report counts it.
pub struct Verdict {
    pub outcome: Cow<'static, str>,
    /// The id of the `os` declaration the host matches, when the answer names one.
    pub os: Option<String>,
    /// An input error's (code, field).
    pub error: Option<(String, String)>,
    /// The facts undetermined rules need, each once, with how a collector reads them.
    pub needed: Arc<[Needed]>,
    pub steps: Vec<Arc<str>>,
    /// Whether every finding that holds the status back asks for a step.
    pub all_have_steps: bool,
    /// Its findings, undetermined rules or error: indices into the shared texts.
    pub details: Vec<u32>,
}

/// A fact an undetermined rule needs, and how a collector reads it.
pub type Needed = (Arc<str>, Option<Arc<str>>);

/// What a finding or undetermined entry says, read once per reader for each distinct text.
enum Known {
    /// A finding: the step it asks for, and whether it holds the status back.
    Finding { step: Option<Arc<str>>, holds_back: bool },
    /// An undetermined rule: the facts it needs.
    Undetermined(Arc<[Needed]>),
    /// An answer's error (kept whole for the host's view).
    Error,
}

/// Texts shared by every reader, each stored once; a reader keeps the ones it has seen, so the
/// lock is taken only for a text new to it.
#[derive(Clone, Default)]
pub struct Shared(pub Arc<Mutex<Texts>>, pub Arc<Mutex<ReadLines>>);

/// Answer lines read, by their BLAKE3 hash: what each says, and the host it names.
pub type ReadLines = FxHashMap<[u8; 32], (Verdicts, Option<String>)>;

/// Finding texts, each stored once and shared (as `Arc<str>`) by the list, its index and the
/// readers' own maps: a million hosts' findings are a hundred thousand texts.
#[derive(Default)]
pub struct Texts {
    pub list: Vec<Arc<str>>,
    index: FxHashMap<Arc<str>, u32>,
}

impl Texts {
    fn id(&mut self, text: &str) -> (u32, Arc<str>) {
        if let Some((known, &i)) = self.index.get_key_value(text) {
            return (i, known.clone());
        }
        let i = u32::try_from(self.list.len()).unwrap_or(u32::MAX);
        let shared: Arc<str> = Arc::from(text);
        self.list.push(shared.clone());
        self.index.insert(shared.clone(), i);
        (i, shared)
    }

    pub fn name(&self, i: u32) -> &str {
        self.list.get(i as usize).map_or("", |t| t)
    }
}

/// One thread's reader.
pub struct Reader {
    fields: Fields,
    shared: Shared,
    /// Each text this reader has met: its shared index and what it says.
    seen: FxHashMap<Arc<str>, (u32, Known)>,
}

/// The answer lines the readers keep, by their BLAKE3 hash (`Shared`'s second part): a fleet's
/// hosts share most of their answers (the same version at the same patch level), and a line
/// read once is not read again. Each is a few hundred bytes.
const LINES_KEPT: usize = 1 << 18;

/// One advisory's answer as the report reads it, with (at the top of a line) the answers of
/// several advisories keyed by id: the whole line is read in one pass.
#[derive(Default)]
struct AnswerIn<'a> {
    advisory: Option<Cow<'a, str>>,
    status: Option<Cow<'a, str>>,
    os: Option<Cow<'a, str>>,
    error: Option<ErrorIn<'a>>,
    // Most answers have a few of each: kept inline, no allocation per host.
    findings: SmallVec<[&'a RawValue; 8]>,
    undetermined: SmallVec<[&'a RawValue; 16]>,
    /// The value of the id field's first key, when the answer carries it.
    named: Option<&'a RawValue>,
    /// At the top of a line: every other member, as an advisory's answer.
    nested: Vec<(Cow<'a, str>, AnswerIn<'a>)>,
}

/// Reads an [`AnswerIn`]; `id_key` is the id field's first key, `top` whether other members are
/// advisories' answers. A value that is not an object reads as an empty answer.
struct AnswerSeed<'k> {
    id_key: &'k str,
    top: bool,
}

impl<'de> serde::de::DeserializeSeed<'de> for AnswerSeed<'_> {
    type Value = AnswerIn<'de>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<AnswerIn<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for AnswerSeed<'_> {
    type Value = AnswerIn<'de>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an answer")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<AnswerIn<'de>, A::Error> {
        let mut out = AnswerIn::default();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match &*key {
                "advisory" => out.advisory = map.next_value()?,
                "status" => out.status = map.next_value()?,
                "os" => out.os = map.next_value()?,
                "error" => out.error = map.next_value()?,
                "findings" => out.findings = map.next_value::<Option<_>>()?.unwrap_or_default(),
                "undetermined" => out.undetermined = map.next_value::<Option<_>>()?.unwrap_or_default(),
                k if k == self.id_key => out.named = Some(map.next_value()?),
                _ if self.top => {
                    let nested = map.next_value_seed(AnswerSeed { id_key: self.id_key, top: false })?;
                    out.nested.push((key, nested));
                }
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<AnswerIn<'de>, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(AnswerIn::default())
    }
    fn visit_bool<E>(self, _: bool) -> Result<AnswerIn<'de>, E> {
        Ok(AnswerIn::default())
    }
    fn visit_i64<E>(self, _: i64) -> Result<AnswerIn<'de>, E> {
        Ok(AnswerIn::default())
    }
    fn visit_u64<E>(self, _: u64) -> Result<AnswerIn<'de>, E> {
        Ok(AnswerIn::default())
    }
    fn visit_f64<E>(self, _: f64) -> Result<AnswerIn<'de>, E> {
        Ok(AnswerIn::default())
    }
    fn visit_str<E>(self, _: &str) -> Result<AnswerIn<'de>, E> {
        Ok(AnswerIn::default())
    }
    fn visit_unit<E>(self) -> Result<AnswerIn<'de>, E> {
        Ok(AnswerIn::default())
    }
}

#[derive(Deserialize)]
struct ErrorIn<'a> {
    #[serde(borrow, default)]
    code: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    field: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    message: Option<Cow<'a, str>>,
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

impl Reader {
    pub fn new(fields: Fields, shared: Shared) -> Reader {
        Reader { fields, shared, seen: FxHashMap::default() }
    }

    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    /// A line of `batch`'s output (one advisory's answer, or several keyed by advisory id) and
    /// its host's facts line.
    pub fn read_line(&mut self, answer: &[u8], facts: &[u8], keep_facts: bool) -> Read {
        let host = Host::read(facts, &self.fields, keep_facts);
        let key: [u8; 32] = blake3::hash(answer).into();
        let known = self.shared.1.lock().ok().and_then(|lines| lines.get(&key).cloned());
        if let Some((verdicts, named)) = known {
            return Read { host, verdicts, named, unreadable: false };
        }
        let mut path = self.fields.id.split('.');
        let id_key = path.next().unwrap_or_default();
        let rest: Vec<&str> = path.collect();
        let seed = AnswerSeed { id_key, top: true };
        let parsed = std::str::from_utf8(answer).ok().and_then(|text| {
            use serde::de::DeserializeSeed;
            let mut d = serde_json::Deserializer::from_str(text);
            let answer = seed.deserialize(&mut d).ok()?;
            d.end().ok()?;
            Some((text, answer))
        });
        let Some((text, mut answer)) = parsed else {
            return self.unreadable(host, None);
        };
        // The host the answer names, at its top or in an advisory's answer (batch's answers
        // never do; answers a tool wrote may).
        let descend = |raw: &RawValue| -> Option<String> {
            let value: Value = serde_json::from_str(raw.get()).ok()?;
            rest.iter().try_fold(&value, |node, key| node.get(key)).and_then(Value::as_str).map(str::to_string)
        };
        let named = answer
            .named
            .and_then(descend)
            .or_else(|| answer.nested.iter().find_map(|(_, n)| n.named.and_then(descend)));
        let verdicts: Verdicts = Arc::new(if answer.status.is_some() || answer.error.is_some() {
            answer.nested.clear();
            let (id, verdict) = self.verdict(answer, text);
            vec![(id, verdict)]
        } else {
            // Collected into a new vector: collecting in place would keep the parsed answers'
            // much larger allocation alive in the cache.
            let mut each = Vec::with_capacity(answer.nested.len());
            for (id, nested) in std::mem::take(&mut answer.nested) {
                let (_, verdict) = self.verdict(nested, "");
                each.push((Some(id.into_owned()), verdict));
            }
            each
        });
        if let Ok(mut lines) = self.shared.1.lock()
            && lines.len() < LINES_KEPT
        {
            lines.insert(key, (verdicts.clone(), named.clone()));
        }
        Read { host, verdicts, named, unreadable: false }
    }

    /// A host whose answer line is not a JSON answer (or is longer than any answer): counted
    /// under `error:unreadable_answer` for the first advisory, never dropped.
    pub fn unreadable(&mut self, host: Host, named: Option<String>) -> Read {
        self.unanswered(host, named, "unreadable_answer", "the answer line is not a JSON answer")
    }

    /// A host counted under `error:CODE` for the first advisory, its answer unread.
    pub fn unanswered(&mut self, host: Host, named: Option<String>, code: &str, message: &str) -> Read {
        let verdict = self.substitute(code, message);
        Read { host, verdicts: Arc::new(vec![(None, verdict)]), named, unreadable: true }
    }

    /// An answer this reader writes in place of one it could not read.
    fn substitute(&mut self, code: &str, message: &str) -> Verdict {
        let text = serde_json::json!({ "error": { "code": code, "field": "", "message": message } }).to_string();
        let details = vec![self.intern(&text, Kind::Error).0];
        Verdict {
            outcome: format!("error:{code}").into(),
            os: None,
            error: Some((code.to_string(), String::new())),
            needed: Arc::from([]),
            steps: Vec::new(),
            all_have_steps: false,
            details,
        }
    }

    /// Each advisory's answer text as an engine wrote it (`batch --report`'s workers).
    pub fn read_answers(&mut self, ids: &[String], answers: &[&str], facts: &[u8]) -> Read {
        let host = Host::read(facts, &self.fields, true);
        let verdicts: Vec<_> = ids
            .iter()
            .zip(answers)
            .map(|(id, text)| {
                let parsed = {
                    use serde::de::DeserializeSeed;
                    let mut d = serde_json::Deserializer::from_str(text);
                    AnswerSeed { id_key: "", top: false }.deserialize(&mut d).ok().filter(|_| d.end().is_ok())
                };
                let verdict = match parsed {
                    Some(answer) => self.verdict(answer, text).1,
                    None => self.substitute("unreadable_answer", "the engine's answer is not a JSON answer"),
                };
                (Some(id.clone()), verdict)
            })
            .collect();
        Read { host, verdicts: Arc::new(verdicts), named: None, unreadable: false }
    }

    /// One advisory's answer: its advisory id (when it names one) and what the report counts.
    /// `text` is the answer's own text when the line is this one answer (an error keeps it
    /// whole for the host's view; an error inside a line of several is written back).
    fn verdict(&mut self, answer: AnswerIn<'_>, text: &str) -> (Option<String>, Verdict) {
        let advisory = answer.advisory.as_deref().map(str::to_string);
        if let Some(error) = &answer.error {
            let code = error.code.as_deref().unwrap_or("?").to_string();
            let field = error.field.as_deref().unwrap_or_default().to_string();
            let whole = if text.is_empty() {
                json!({ "error": { "code": code, "field": field, "message": error.message.as_deref().unwrap_or_default() } })
                    .to_string()
            } else {
                text.to_string()
            };
            let details = vec![self.intern(&whole, Kind::Error).0];
            let verdict = Verdict {
                outcome: format!("error:{code}").into(),
                os: None,
                error: Some((code, field)),
                needed: Arc::from([]),
                steps: Vec::new(),
                all_have_steps: false,
                details,
            };
            return (advisory, verdict);
        }
        let status = answer.status.as_deref().unwrap_or("?");
        let mut details = Vec::with_capacity(answer.findings.len() + answer.undetermined.len());
        let mut needed: Vec<Needed> = Vec::new();
        for raw in &answer.undetermined {
            let (id, known) = self.intern(raw.get(), Kind::Undetermined);
            details.push(id);
            if let Known::Undetermined(needs) = known {
                for n in needs.iter() {
                    if !needed.iter().any(|(f, _)| *f == n.0) {
                        needed.push(n.clone());
                    }
                }
            }
        }
        // `unknown` because facts are missing is not `unknown` because the advisory does not
        // cover the host: the report counts them apart.
        let outcome = if status == "unknown" && !needed.is_empty() { UNDETERMINED } else { status };
        let outcome: Cow<'static, str> = match KNOWN_OUTCOMES.iter().find(|o| **o == outcome) {
            Some(known) => Cow::Borrowed(known),
            None => Cow::Owned(outcome.to_string()),
        };
        let mut steps: Vec<Arc<str>> = Vec::new();
        // An unsupported Windows version, say, is held back by a finding no step fixes.
        let mut all_have_steps = severity_rank(&outcome) >= severity_rank("action_required");
        let mut findings = Vec::with_capacity(answer.findings.len());
        for raw in &answer.findings {
            let (id, known) = self.intern(raw.get(), Kind::Finding);
            findings.push(id);
            let Known::Finding { step, holds_back } = known else { continue };
            match step {
                Some(step) if *holds_back => {
                    if !steps.contains(step) {
                        steps.push(step.clone());
                    }
                }
                Some(_) => {}
                None => all_have_steps &= !holds_back,
            }
        }
        // The host's view lists findings first, then undetermined rules.
        findings.extend(details);
        let os = answer.os.map(Cow::into_owned);
        let verdict =
            Verdict { outcome, os, error: None, needed: needed.into(), steps, all_have_steps, details: findings };
        (advisory, verdict)
    }

    /// A text's shared index and what it says, read the first time this reader meets it.
    fn intern(&mut self, text: &str, kind: Kind) -> (u32, &Known) {
        if !self.seen.contains_key(text) {
            let (id, shared) = match self.shared.0.lock() {
                Ok(mut texts) => texts.id(text),
                Err(poisoned) => poisoned.into_inner().id(text),
            };
            self.seen.insert(shared, (id, kind.read(text)));
        }
        match self.seen.get(text) {
            Some((id, known)) => (*id, known),
            None => (u32::MAX, &Known::Error),
        }
    }
}

/// What a text is read as.
#[derive(Clone, Copy)]
enum Kind {
    Finding,
    Undetermined,
    Error,
}

impl Kind {
    fn read(self, text: &str) -> Known {
        match self {
            Kind::Finding => match serde_json::from_str::<StepIn<'_>>(text) {
                Ok(f) => {
                    let severity = f.severity.as_deref().unwrap_or_default();
                    let step = if f.any_of.is_empty() {
                        step_name(&f)
                    } else {
                        let each: Vec<String> = f.any_of.iter().filter_map(step_name).collect();
                        (!each.is_empty()).then(|| each.join(" or "))
                    };
                    Known::Finding {
                        step: step.map(Arc::from),
                        holds_back: severity != "info" && severity != "warning",
                    }
                }
                Err(_) => Known::Finding { step: None, holds_back: false },
            },
            Kind::Undetermined => Known::Undetermined(
                serde_json::from_str::<UndeterminedIn<'_>>(text)
                    .map(|u| {
                        u.needs.into_iter().map(|n| (Arc::from(&*n.fact), n.collect.map(|c| Arc::from(&*c)))).collect()
                    })
                    .unwrap_or_else(|_| Arc::from([])),
            ),
            Kind::Error => Known::Error,
        }
    }
}

/// Outcomes kept without a copy per host.
const KNOWN_OUTCOMES: [&str; 8] =
    ["ready", "action_required", "limited", "unsupported", "not_affected", "unknown", UNDETERMINED, "?"];

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
