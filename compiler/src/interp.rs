//! The reference interpreter: facts → verdict. **It defines what a rules file means**; the
//! WebAssembly module must agree with it byte for byte.
//!
//! Rules are evaluated in file order. A rule fires when its `when` holds and, if it `require`s
//! something, some requirement is not met; it then gives a finding per requirement not met
//! (one finding when it requires nothing). Findings are listed in the program's
//! `finding_order`. The verdict's status is the highest-precedence severity among fired rules
//! (`not_affected` > `unknown` > `unsupported` > `limited` > `action_required`), or
//! `ready` when none fired; `info` and `warning` notices never change it. `status` inside a rule
//! reads the status given by the rules before it.

use crate::facts::Facts;
use crate::ir::{BuildPattern, Expr, HostValue, Level, Need, Program, Rule, Segment, Type, Value};
use crate::value::{Kb, Version};
use crate::verdict::{ActionInfo, ComponentInfo, Finding, SettingInfo, TraceStep, UpdateInfo, Verdict};
use std::cmp::Ordering;

/// Evaluates every rule on a host's facts.
pub fn evaluate(program: &Program, facts: &Facts) -> Verdict {
    run(program, facts, false).0
}

/// Like [`evaluate`], and says for each rule why it fired or not.
pub fn evaluate_traced(program: &Program, facts: &Facts) -> (Verdict, Vec<TraceStep>) {
    run(program, facts, true)
}

/// The evaluation, with the trace's sentences written only when `explain` asks for them (they
/// cost more than the evaluation itself).
fn run(program: &Program, facts: &Facts, explain: bool) -> (Verdict, Vec<TraceStep>) {
    let host = Host::derive(program, facts);
    let mut ctx = Ctx { program, facts, host, status: Level::Ready };
    let mut trace = Vec::new();
    // Per rule: the level it fired at and the requirements it found unmet.
    let mut fired: Vec<Option<(Level, Vec<usize>)>> = Vec::new();
    for rule in &program.rules {
        let (decision, why) = ctx.decide(rule, explain);
        if explain {
            trace.push(TraceStep { rule: rule.name.clone(), line: rule.line, fired: decision.is_some(), why });
        }
        if let Some((level, _)) = &decision
            && level.is_status()
        {
            ctx.status = ctx.status.max(*level);
        }
        fired.push(decision);
    }
    let mut findings = Vec::new();
    for &(r, requirement) in &program.finding_order {
        let (Some(rule), Some(Some((level, unmet)))) = (program.rules.get(r), fired.get(r)) else { continue };
        if requirement.is_none_or(|k| unmet.contains(&k)) {
            findings.push(ctx.finding(rule, requirement, *level));
        }
    }
    let verdict = Verdict { advisory: program.advisory.id.clone(), status: ctx.status.name(), findings };
    (verdict, trace)
}

/// Evaluates a fact's condition while the facts are still being read: facts not read yet are
/// unknown (the checker only lets a condition read earlier facts).
pub fn holds_on_partial(program: &Program, partial: &Facts, cond: &Expr) -> bool {
    let mut values = partial.values.clone();
    values.resize(program.fields.len(), Value::Unknown);
    let facts = Facts { values };
    let host = Host::derive(program, &facts);
    Ctx { program, facts: &facts, host, status: Level::Ready }.holds(cond)
}

/// The derived host values (`host.*`), computed once per host.
struct Host {
    product: Option<usize>,
    os: Option<usize>,
    revision: Option<u32>,
    version_listed: Option<bool>,
    platform_listed: Option<bool>,
}

impl Host {
    fn derive(program: &Program, facts: &Facts) -> Host {
        let get = |i: Option<usize>| i.and_then(|i| facts.values.get(i)).unwrap_or(&Value::Unknown);
        let roles = &program.host;
        let product = match get(roles.product) {
            Value::Product(p) => Some(*p),
            _ => None,
        };
        let build = match get(roles.os_version) {
            Value::Version(v) => Some(v),
            _ => None,
        };
        let role = match get(roles.os_role) {
            Value::Enum(r) => Some(*r),
            _ => None,
        };
        let os = build.and_then(|b| {
            program.oses.iter().position(|os| {
                os.role.is_none_or(|want| Some(want) == role) && os.builds.iter().any(|p| matches_build(b, p))
            })
        });
        let spec = product.and_then(|p| program.products.get(p));
        let version_listed = spec.and_then(|p| match (&p.versions, get(roles.product_version)) {
            (None, _) => Some(true),
            (Some(listed), Value::Version(v)) => {
                Some(listed.iter().any(|l| l.spellings.iter().any(|s| v.cmp_prefix(s) == Ordering::Equal)))
            }
            _ => None,
        });
        let platform_name = match get(roles.platform) {
            Value::Str(s) => Some(s.clone()),
            Value::Enum(i) => roles.platform.and_then(|f| enum_name(program, f, *i)),
            _ => None,
        };
        let platform_listed =
            spec.zip(platform_name).map(|(p, name)| p.platforms.is_empty() || p.platforms.contains(&name));
        Host { product, os, revision: build.and_then(Version::revision), version_listed, platform_listed }
    }
}

fn matches_build(build: &Version, pattern: &BuildPattern) -> bool {
    match pattern {
        BuildPattern::Prefix(p) => build.cmp_prefix(p) == Ordering::Equal,
        BuildPattern::AtLeast(p) => build.cmp_prefix(p) != Ordering::Less,
        BuildPattern::Above(p) => build.cmp_prefix(p) == Ordering::Greater,
    }
}

fn enum_name(program: &Program, field: usize, variant: usize) -> Option<String> {
    match program.fields.get(field).map(|f| &f.ty) {
        Some(Type::Enum(variants)) => variants.get(variant).cloned(),
        _ => None,
    }
}

struct Ctx<'p> {
    program: &'p Program,
    facts: &'p Facts,
    host: Host,
    status: Level,
}

impl Ctx<'_> {
    /// Whether `rule` fires, at which level and with which requirements unmet, and (when
    /// `explain`) why.
    fn decide(&self, rule: &Rule, explain: bool) -> (Option<(Level, Vec<usize>)>, String) {
        if !self.holds(&rule.when) {
            let why = if explain {
                format!("condition does not hold: {}", self.why_false(&rule.when))
            } else {
                String::new()
            };
            return (None, why);
        }
        let unmet: Vec<usize> =
            (0..rule.require.len()).filter(|k| rule.require.get(*k).is_some_and(|q| !self.holds(&q.met))).collect();
        if !rule.require.is_empty() && unmet.is_empty() {
            if !explain {
                return (None, String::new());
            }
            let met: Vec<String> = rule.require.iter().map(|q| self.met_by(&q.need)).collect();
            let what = if met.len() == 1 { "requirement" } else { "requirements" };
            return (None, format!("condition holds; {what} met by {}", met.join(", ")));
        }
        let level = match &rule.otherwise {
            Some((cond, alt)) if !self.holds(cond) => *alt,
            _ => rule.severity,
        };
        let why = if explain { format!("condition holds; fires as {}", level.name()) } else { String::new() };
        (Some((level, unmet)), why)
    }

    /// Which part of a condition that does not hold is false, with the values it read.
    fn why_false(&self, e: &Expr) -> String {
        match e {
            Expr::And(parts) => parts.iter().find(|p| !self.holds(p)).map_or_else(|| "?".into(), |p| self.why_false(p)),
            Expr::Or(parts) => {
                let each: Vec<String> = parts.iter().map(|p| self.why_false(p)).collect();
                format!("none of its alternatives holds ({})", each.join("; "))
            }
            Expr::Not(inner) if matches!(**inner, Expr::Field(_) | Expr::Host(_)) => {
                format!("`not {}` is false: {}", self.source(inner), self.seen(inner))
            }
            Expr::Not(inner) => format!("`{}` holds", self.source(inner)),
            Expr::Known(inner) => format!("{} is unknown", self.source(inner)),
            Expr::Patched(u) => {
                let kb = self.program.updates.get(*u).map(|u| u.kb.to_string()).unwrap_or_default();
                format!("{kb} is not installed")
            }
            Expr::Compare(l, _, r) => {
                let mut seen = vec![self.seen(l)];
                seen.extend((!matches!(**r, Expr::Const(_))).then(|| self.seen(r)));
                format!("`{}` is false: {}", self.source(e), seen.join(", "))
            }
            Expr::In(l, _) => format!("`{}` is false: {}", self.source(e), self.seen(l)),
            other => format!("`{}` is {}", self.source(other), self.display(other)),
        }
    }

    /// `x is V`, for a value the trace shows.
    fn seen(&self, e: &Expr) -> String {
        match e {
            Expr::Const(_) => String::new(),
            _ => format!("{} is {}", self.source(e), self.display(e)),
        }
    }

    fn source(&self, e: &Expr) -> String {
        source(self.program, e)
    }

    /// What meets a requirement on this host, for the trace.
    fn met_by(&self, need: &Need) -> String {
        let p = self.program;
        match need {
            Need::Updates(ids) => ids
                .iter()
                .find(|u| self.patched(**u))
                .and_then(|u| p.updates.get(*u))
                .map(|u| u.kb.to_string())
                .unwrap_or_default(),
            Need::Certificate(c) => p.certificates.get(*c).map(|c| c.id.clone()).unwrap_or_default(),
            Need::Component { component, at_least } => {
                let id = p.components.get(*component).map(|c| c.id.as_str()).unwrap_or_default();
                format!("{id} >= {at_least}")
            }
            Need::Setting { setting, .. } => p.settings.get(*setting).map(|c| c.id.clone()).unwrap_or_default(),
            Need::Action(a) => p.actions.get(*a).map(|c| c.id.clone()).unwrap_or_default(),
        }
    }

    fn holds(&self, e: &Expr) -> bool {
        self.eval(e) == Value::Bool(true)
    }

    fn eval(&self, e: &Expr) -> Value {
        match e {
            Expr::Const(v) => v.clone(),
            Expr::Field(i) => self.facts.values.get(*i).cloned().unwrap_or(Value::Unknown),
            Expr::Host(h) => self.host_value(*h),
            Expr::Status => Value::Level(self.status),
            Expr::Not(inner) => Value::Bool(!self.holds(inner)),
            Expr::And(parts) => Value::Bool(parts.iter().all(|p| self.holds(p))),
            Expr::Or(parts) => Value::Bool(parts.iter().any(|p| self.holds(p))),
            Expr::Compare(l, op, r) => Value::Bool(compare(&self.eval(l), *op, &self.eval(r))),
            Expr::In(l, values) => {
                let v = self.eval(l);
                Value::Bool(values.iter().any(|x| compare(&v, crate::ast::CmpOp::Eq, x)))
            }
            Expr::Patched(u) => Value::Bool(self.patched(*u)),
            Expr::Known(inner) => Value::Bool(self.eval(inner) != Value::Unknown),
        }
    }

    fn host_value(&self, value: HostValue) -> Value {
        let host = &self.host;
        let known_bool = |b: Option<bool>| b.map_or(Value::Unknown, Value::Bool);
        match value {
            HostValue::Product => host.product.map_or(Value::Unknown, Value::Product),
            HostValue::Os => host.os.map_or(Value::Unknown, Value::Os),
            HostValue::Revision => host.revision.map_or(Value::Unknown, |r| Value::Int(r.into())),
            HostValue::VersionListed => known_bool(host.version_listed),
            HostValue::PlatformListed => known_bool(host.platform_listed),
            HostValue::EndOfSupport => host
                .os
                .and_then(|os| self.program.oses.get(os))
                .and_then(|os| os.end_of_support)
                .map_or(Value::Unknown, Value::Date),
        }
    }

    /// An update is patched when it is installed, a declared update that supersedes it is
    /// installed, or the host's OS is one it applies to and its revision is at least the one
    /// the update brings.
    fn patched(&self, update: usize) -> bool {
        let Some(u) = self.program.updates.get(update) else { return false };
        let installed = match self.program.host.hotfixes.and_then(|h| self.facts.values.get(h)) {
            Some(Value::Kbs(kbs)) => kbs.as_slice(),
            _ => &[],
        };
        let has = |kb: &Kb| installed.binary_search(kb).is_ok();
        if has(&u.kb) || u.superseded_by.iter().any(has) {
            return true;
        }
        match (self.host.revision, self.host.os) {
            (Some(rev), Some(os)) => u.applies.contains(&os) && u.revision_on(os).is_some_and(|needed| rev >= needed),
            _ => false,
        }
    }

    fn finding(&self, rule: &Rule, requirement: Option<usize>, level: Level) -> Finding {
        finding_for(self.program, rule, requirement, self.host.os, level.name(), self.render(&rule.message))
    }

    fn render(&self, segments: &[Segment]) -> String {
        let mut out = String::new();
        for seg in segments {
            match seg {
                Segment::Text(t) => out.push_str(t),
                Segment::Value(e) => out.push_str(&self.display(e)),
            }
        }
        out
    }

    /// A value as a person reads it: products and OS versions by their display names.
    fn display(&self, e: &Expr) -> String {
        let p = self.program;
        match (self.eval(e), e) {
            (Value::Unknown, _) => "unknown".into(),
            (Value::Bool(b), _) => b.to_string(),
            (Value::Int(n), _) => n.to_string(),
            (Value::Str(s), _) => s,
            (Value::Date(d), _) => d.to_string(),
            (Value::Version(v), _) => v.to_string(),
            (Value::Kbs(kbs), _) => kbs.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
            (Value::Product(i), _) => p.products.get(i).map(|x| x.name.clone()).unwrap_or_default(),
            (Value::Os(i), _) => p.oses.get(i).map(|x| x.name.clone()).unwrap_or_default(),
            (Value::Enum(i), Expr::Field(f)) => enum_name(p, *f, i).unwrap_or_default(),
            (Value::Enum(i), _) => i.to_string(),
            (Value::Level(l), _) => l.name().into(),
        }
    }
}

/// The finding a fired rule gives for one of its requirements (or for itself), on a host whose
/// OS is `os`, with its severity and rendered message. The code generator serialises the same
/// value, so the two engines agree on every other field.
///
/// Of alternative updates, the finding lists those for the host's OS (all of them when none
/// is, or the OS is unknown), with the release date for that OS. Public for evaluators written
/// by hand for one advisory (the benchmark's like-for-like baseline) that answer in the same
/// words.
pub fn finding_for(
    program: &Program,
    rule: &Rule,
    requirement: Option<usize>,
    os: Option<usize>,
    severity: &'static str,
    message: String,
) -> Finding {
    let need = requirement.and_then(|k| rule.require.get(k)).map(|q| &q.need);
    let mut certificate = rule.certificate.and_then(|c| program.certificates.get(c));
    let (mut updates, mut component, mut setting, mut action) = (Vec::new(), None, None, None);
    match need {
        Some(Need::Updates(ids)) => {
            let all: Vec<&crate::ir::Update> = ids.iter().filter_map(|u| program.updates.get(*u)).collect();
            let for_os: Vec<&crate::ir::Update> =
                all.iter().copied().filter(|u| os.is_some_and(|os| u.applies_to(os))).collect();
            let shown = if for_os.is_empty() { all } else { for_os };
            updates = shown
                .into_iter()
                .map(|u| UpdateInfo {
                    kb: u.kb.to_string(),
                    title: u.title.clone(),
                    kind: u.kind.clone(),
                    released: u.released_on(os).map(|d| d.to_string()),
                    links: u.links.clone(),
                })
                .collect();
        }
        Some(Need::Certificate(c)) => certificate = program.certificates.get(*c),
        Some(Need::Component { component: c, at_least }) => {
            component = program.components.get(*c).map(|c| ComponentInfo {
                id: c.id.clone(),
                name: c.name.clone(),
                at_least: at_least.to_string(),
                links: c.links.clone(),
            });
        }
        Some(Need::Setting { setting: s, value }) => {
            setting = program.settings.get(*s).map(|x| SettingInfo {
                id: x.id.clone(),
                name: x.name.clone(),
                value: value_text(program, x.fact, value),
                links: x.links.clone(),
            });
        }
        Some(Need::Action(a)) => {
            action = program.actions.get(*a).map(|x| ActionInfo {
                id: x.id.clone(),
                name: x.name.clone(),
                links: x.links.clone(),
            });
        }
        None => {}
    }
    Finding {
        rule: rule.name.clone(),
        severity,
        message,
        install_any_of: updates.iter().map(|u| u.kb.clone()).collect(),
        updates,
        component,
        setting,
        action,
        certificate: certificate.map(|c| c.name.clone()),
        thumbprint: certificate.map(|c| c.thumbprint.clone()).filter(|t| !t.is_empty()),
        cite: rule.cite.clone(),
        links: rule.links.clone(),
        line: rule.line,
    }
}

/// A condition written back as source (named values inlined; constants by the names the file
/// gives them), for traces and the generated reference.
pub(crate) fn source(p: &Program, e: &Expr) -> String {
    let src = |x: &Expr| source(p, x);
    match e {
        Expr::Const(v) => value_id(p, v),
        Expr::Field(i) => p.fields.get(*i).map(|f| f.dotted()).unwrap_or_default(),
        Expr::Host(h) => format!("host.{}", h.name()),
        Expr::Status => "status".into(),
        Expr::Not(inner) => format!("not {}", src(inner)),
        Expr::And(parts) => parts.iter().map(src).collect::<Vec<_>>().join(" and "),
        Expr::Or(parts) => format!("({})", parts.iter().map(src).collect::<Vec<_>>().join(" or ")),
        Expr::Compare(l, op, r) => match r.as_ref() {
            Expr::Const(v) => format!("{} {} {}", src(l), op.symbol(), constant_for(p, l, v)),
            _ => format!("{} {} {}", src(l), op.symbol(), src(r)),
        },
        Expr::In(l, values) => {
            format!("{} in [{}]", src(l), values.iter().map(|v| constant_for(p, l, v)).collect::<Vec<_>>().join(", "))
        }
        Expr::Patched(u) => format!("patched({})", p.updates.get(*u).map(|u| u.kb.to_string()).unwrap_or_default()),
        Expr::Known(inner) => format!("known({})", src(inner)),
    }
}

/// A constant compared with `subject`, by the name the file gives it (enum variants by name).
fn constant_for(program: &Program, subject: &Expr, v: &Value) -> String {
    match (subject, v) {
        (Expr::Field(f), Value::Enum(i)) => enum_name(program, *f, *i).unwrap_or_default(),
        _ => value_id(program, v),
    }
}

/// A constant as the rules file names it (`win11`, `2023-01-10`).
fn value_id(program: &Program, v: &Value) -> String {
    match v {
        Value::Product(i) => program.products.get(*i).map(|x| x.id.clone()).unwrap_or_default(),
        Value::Os(i) => program.oses.get(*i).map(|x| x.id.clone()).unwrap_or_default(),
        Value::Str(s) => format!("{s:?}"),
        Value::Enum(i) => format!("variant {i}"),
        other => value_text(program, 0, other),
    }
}

/// A setting's required value as the finding states it.
pub(crate) fn value_text(program: &Program, field: usize, value: &Value) -> String {
    match value {
        Value::Enum(i) => enum_name(program, field, *i).unwrap_or_default(),
        Value::Bool(b) => b.to_string(),
        Value::Int(n) => n.to_string(),
        Value::Str(s) => s.clone(),
        Value::Date(d) => d.to_string(),
        Value::Version(v) => v.to_string(),
        Value::Product(i) => program.products.get(*i).map(|p| p.id.clone()).unwrap_or_default(),
        Value::Os(i) => program.oses.get(*i).map(|o| o.id.clone()).unwrap_or_default(),
        Value::Kbs(kbs) => kbs.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
        Value::Level(l) => l.name().into(),
        Value::Unknown => "unknown".into(),
    }
}

/// Compares two values. An unknown side makes every comparison false except `!=`.
pub(crate) fn compare(l: &Value, op: crate::ast::CmpOp, r: &Value) -> bool {
    use crate::ast::CmpOp::*;
    let ordering = match (l, r) {
        (Value::Unknown, _) | (_, Value::Unknown) => None,
        (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
        (Value::Date(a), Value::Date(b)) => Some(a.cmp(b)),
        (Value::Version(a), Value::Version(b)) => Some(a.cmp_prefix(b)),
        (Value::Level(a), Value::Level(b)) => Some(a.cmp(b)),
        (a, b) => (a == b).then_some(Ordering::Equal),
    };
    match (op, ordering) {
        (Ne, o) => o != Some(Ordering::Equal),
        (_, None) => false,
        (Eq, Some(o)) => o == Ordering::Equal,
        (Lt, Some(o)) => o == Ordering::Less,
        (Le, Some(o)) => o != Ordering::Greater,
        (Gt, Some(o)) => o == Ordering::Greater,
        (Ge, Some(o)) => o != Ordering::Less,
    }
}
