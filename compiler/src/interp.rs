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
//!
//! Conditions have three values (Kleene's logic): a condition that reads a fact the host did not
//! send is *undetermined* unless the rest decides it (`false and x` is false). A rule whose
//! outcome is undetermined gives no finding and is listed in the verdict's `undetermined`, with
//! the statuses it could give and the unknown facts it reads; when one of those statuses would
//! win over the status the fired rules give, the verdict's status is `unknown`.

use crate::facts::Facts;
use crate::ir::{BuildPattern, Expr, HostValue, Level, Need, Program, Rule, Segment, Type, Value};
use crate::value::{Date, Kb, Version};
use crate::verdict::{
    ActionInfo, ComponentInfo, Finding, NeededFact, SettingInfo, Step, TraceStep, Undetermined, UpdateInfo, Verdict,
};
use std::cmp::Ordering;

/// A condition's value: Kleene's three-valued logic, ordered so that `and` is the minimum and
/// `or` the maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Truth {
    False,
    /// The facts do not decide it.
    Unknown,
    True,
}

impl Truth {
    pub fn of(b: bool) -> Truth {
        if b { Truth::True } else { Truth::False }
    }
}

impl std::ops::Not for Truth {
    type Output = Truth;

    fn not(self) -> Truth {
        match self {
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
            Truth::True => Truth::False,
        }
    }
}

/// How one rule came out on a host.
#[derive(Clone, Debug, Default)]
struct Outcome {
    /// Fired: the level and the requirements found unmet.
    fired: Option<(Level, Vec<usize>)>,
    /// Undetermined: the levels the rule could give (for a fired rule: requirements it cannot
    /// tell met or unmet).
    open: Option<Vec<Level>>,
}

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
    let mut ctx = Ctx { program, facts, host, status: Level::Ready, possible: Level::Ready };
    let mut trace = Vec::new();
    let mut outcomes: Vec<Outcome> = Vec::new();
    for rule in &program.rules {
        let (outcome, why) = ctx.decide(rule, explain);
        if explain {
            trace.push(TraceStep { rule: rule.name.clone(), line: rule.line, fired: outcome.fired.is_some(), why });
        }
        if let Some((level, _)) = &outcome.fired
            && level.is_status()
        {
            ctx.status = ctx.status.max(*level);
            ctx.possible = ctx.possible.max(*level);
        }
        for level in outcome.open.iter().flatten().filter(|l| l.is_status()) {
            ctx.possible = ctx.possible.max(*level);
        }
        outcomes.push(outcome);
    }
    let mut findings = Vec::new();
    for &(r, requirement) in &program.finding_order {
        let (Some(rule), Some(Outcome { fired: Some((level, unmet)), .. })) = (program.rules.get(r), outcomes.get(r))
        else {
            continue;
        };
        if requirement.is_none_or(|k| unmet.contains(&k)) {
            findings.push(ctx.finding(rule, requirement, *level));
        }
    }
    let undetermined = program
        .rules
        .iter()
        .zip(&outcomes)
        .filter_map(|(rule, outcome)| {
            let could_be = outcome.open.as_ref()?;
            Some(Undetermined {
                rule: rule.name.clone(),
                could_be: could_be.iter().map(|l| l.name()).collect(),
                needs: needed_facts(program, facts, rule),
            })
        })
        .collect();
    let os = match &ctx.host.os {
        Value::Os(id) => program.oses.get(*id).map(|os| os.id.clone()),
        _ => None,
    };
    let verdict = Verdict {
        advisory: program.advisory.id.clone(),
        status: ctx.final_status().name(),
        os,
        findings,
        undetermined,
    };
    (verdict, trace)
}

/// The facts an undetermined rule reads that the host did not send, with how each is collected.
fn needed_facts(program: &Program, facts: &Facts, rule: &Rule) -> Vec<NeededFact> {
    crate::ir::rule_reads(program, rule)
        .into_iter()
        .filter(|f| matches!(facts.values.get(*f), Some(Value::Unknown)))
        .filter_map(|f| program.fields.get(f))
        .map(|field| NeededFact {
            fact: field.dotted(),
            collect: field.collect.as_ref().map(crate::ir::Collect::describe),
        })
        .collect()
}

/// Evaluates a fact's condition while the facts are still being read: facts not read yet are
/// unknown (the checker only lets a condition read earlier facts).
pub fn truth_on_partial(program: &Program, partial: &Facts, cond: &Expr) -> Truth {
    let mut values = partial.values.clone();
    values.resize(program.fields.len(), Value::Unknown);
    let facts = Facts { values };
    let host = Host::derive(program, &facts);
    Ctx { program, facts: &facts, host, status: Level::Ready, possible: Level::Ready }.truth(cond)
}

/// The derived host values (`host.*`), computed once per host. Each is a value, `None` (the
/// facts show there is none: no product, a build no declared OS matches) or `Unknown` (a fact it
/// is derived from was not sent).
struct Host {
    product: Value,
    os: Value,
    revision: Value,
    version_listed: Value,
    platform_listed: Value,
}

/// `Unknown` if either is, else `None` if either is, else what `f` makes of the two values.
fn both(a: &Value, b: &Value, f: impl FnOnce() -> Value) -> Value {
    match (a, b) {
        (Value::Unknown, _) | (_, Value::Unknown) => Value::Unknown,
        (Value::None, _) | (_, Value::None) => Value::None,
        _ => f(),
    }
}

impl Host {
    fn derive(program: &Program, facts: &Facts) -> Host {
        // An unbound role has no value.
        let get = |i: Option<usize>| i.map_or(&Value::None, |i| facts.values.get(i).unwrap_or(&Value::Unknown));
        let roles = &program.host;
        let product = match get(roles.product) {
            v @ (Value::Product(_) | Value::Unknown) => v.clone(),
            _ => Value::None,
        };
        let build = get(roles.os_version);
        let role = get(roles.os_role);
        let os = match build {
            Value::Version(b) => {
                let mut found = Value::None;
                for (index, os) in program.oses.iter().enumerate() {
                    if !os.builds.iter().any(|p| matches_build(b, p)) {
                        continue;
                    }
                    match (os.role, role) {
                        (None, _) => found = Value::Os(index),
                        (Some(want), Value::Enum(r)) if want == *r => found = Value::Os(index),
                        (Some(_), Value::Enum(_) | Value::None) => continue,
                        // The first candidate needs the role, which was not sent.
                        (Some(_), _) => found = Value::Unknown,
                    }
                    break;
                }
                found
            }
            Value::Unknown => Value::Unknown,
            _ => Value::None,
        };
        let revision = match build {
            Value::Version(v) => v.revision().map_or(Value::None, |r| Value::Int(r.into())),
            Value::Unknown => Value::Unknown,
            _ => Value::None,
        };
        let spec = match product {
            Value::Product(p) => program.products.get(p),
            _ => None,
        };
        let version_listed = match (spec, &product) {
            (Some(p), _) => match (&p.versions, get(roles.product_version)) {
                (None, _) => Value::Bool(true),
                (Some(listed), Value::Version(v)) => {
                    Value::Bool(listed.iter().any(|l| l.spellings.iter().any(|s| v.cmp_prefix(s) == Ordering::Equal)))
                }
                (Some(_), Value::Unknown) => Value::Unknown,
                (Some(_), _) => Value::None,
            },
            (None, other) => both(other, other, || Value::None),
        };
        let platform = get(roles.platform);
        let platform_listed = both(&product, platform, || {
            let name = match platform {
                Value::Str(s) => Some(s.clone()),
                Value::Enum(i) => roles.platform.and_then(|f| enum_name(program, f, *i)),
                _ => None,
            };
            match (spec, name) {
                (Some(p), Some(name)) => Value::Bool(p.platforms.is_empty() || p.platforms.contains(&name)),
                _ => Value::None,
            }
        });
        Host { product, os, revision, version_listed, platform_listed }
    }
}

fn matches_build(build: &Version, pattern: &BuildPattern) -> bool {
    pattern.matches(build)
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
    /// The status the rules so far give.
    status: Level,
    /// The highest status the rules so far could give, counting undetermined ones.
    possible: Level,
}

impl Ctx<'_> {
    /// Whether `rule` fires, at which level and with which requirements unmet, or is
    /// undetermined, and (when `explain`) why.
    fn decide(&self, rule: &Rule, explain: bool) -> (Outcome, String) {
        let when = self.truth(&rule.when);
        if when == Truth::False {
            let why = if explain {
                format!("condition does not hold: {}", self.why_false(&rule.when))
            } else {
                String::new()
            };
            return (Outcome::default(), why);
        }
        let met: Vec<Truth> = rule.require.iter().map(|q| self.truth(&q.met)).collect();
        let unmet: Vec<usize> = (0..met.len()).filter(|k| met.get(*k) == Some(&Truth::False)).collect();
        let open = met.contains(&Truth::Unknown);
        if !rule.require.is_empty() && unmet.is_empty() && !open {
            if !explain {
                return (Outcome::default(), String::new());
            }
            let met: Vec<String> = rule.require.iter().map(|q| self.requirement_met_by(q)).collect();
            let what = if met.len() == 1 { "requirement" } else { "requirements" };
            return (Outcome::default(), format!("condition holds; {what} met by {}", met.join(", ")));
        }
        let levels = match &rule.otherwise {
            Some((cond, alt)) => match self.truth(cond) {
                Truth::True => vec![rule.severity],
                Truth::False => vec![*alt],
                Truth::Unknown => vec![rule.severity, *alt],
            },
            None => vec![rule.severity],
        };
        let certain = when == Truth::True && levels.len() == 1 && (rule.require.is_empty() || !unmet.is_empty());
        let outcome = match (certain, levels.first()) {
            (true, Some(level)) => Outcome { fired: Some((*level, unmet)), open: open.then(|| levels.clone()) },
            _ => Outcome { fired: None, open: Some(levels.clone()) },
        };
        let why = match (explain, &outcome.fired) {
            (false, _) => String::new(),
            (true, Some((level, _))) => format!("condition holds; fires as {}", level.name()),
            (true, None) => {
                let names: Vec<&str> = levels.iter().map(|l| l.name()).collect();
                format!("undetermined: unknown facts decide whether it fires (as {})", names.join(" or "))
            }
        };
        (outcome, why)
    }

    /// The verdict's status: `unknown` when an undetermined rule could give a status that wins
    /// over the one the fired rules give.
    fn final_status(&self) -> Level {
        if self.possible > self.status { self.status.max(Level::Unknown) } else { self.status }
    }

    /// Which part of a condition that does not hold is false, with the values it read.
    fn why_false(&self, e: &Expr) -> String {
        match e {
            Expr::And(parts) => {
                parts.iter().find(|p| self.truth(p) == Truth::False).map_or_else(|| "?".into(), |p| self.why_false(p))
            }
            Expr::Or(parts) => {
                let each: Vec<String> = parts.iter().map(|p| self.why_false(p)).collect();
                format!("none of its alternatives holds ({})", each.join("; "))
            }
            Expr::Not(inner) if matches!(**inner, Expr::Field(_) | Expr::Host(_)) => {
                format!("`not {}` is false: {}", self.source(inner), self.seen(inner))
            }
            Expr::Not(inner) => format!("`{}` holds", self.source(inner)),
            Expr::Known(inner) => format!("{} is unknown", self.source(inner)),
            Expr::Definitely(inner) if self.truth(inner) == Truth::Unknown => {
                let seen = match inner.as_ref() {
                    Expr::Compare(l, _, _) | Expr::In(l, _) => format!(": {}", self.seen(l)),
                    _ => String::new(),
                };
                format!("`{}` is undetermined{seen}", self.source(inner))
            }
            Expr::Definitely(inner) => self.why_false(inner),
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
                .find(|u| self.patched(**u) == Truth::True)
                .and_then(|u| p.updates.get(*u))
                .map(|u| u.kb.to_string())
                .unwrap_or_default(),
            Need::Certificate(c) => p.certificates.get(*c).map(|c| c.id.clone()).unwrap_or_default(),
            Need::Component { component, op, version, .. } => {
                let id = p.components.get(*component).map(|c| c.id.as_str()).unwrap_or_default();
                format!("{id} {} {version}", op.symbol())
            }
            Need::Setting { setting, .. } => p.settings.get(*setting).map(|c| c.id.clone()).unwrap_or_default(),
            Need::Action(a) => p.actions.get(*a).map(|c| c.id.clone()).unwrap_or_default(),
            Need::AnyOf(_) => String::new(),
        }
    }

    /// What meets a requirement: of alternatives, the first the host meets (the requirement's
    /// condition is the `or` of theirs, in the same order).
    fn requirement_met_by(&self, q: &crate::ir::Requirement) -> String {
        match (&q.need, &q.met) {
            (Need::AnyOf(needs), Expr::Or(parts)) => needs
                .iter()
                .zip(parts)
                .find(|(_, met)| self.truth(met) == Truth::True)
                .map(|(n, _)| self.met_by(n))
                .unwrap_or_default(),
            (need, _) => self.met_by(need),
        }
    }

    /// A condition's truth on this host.
    fn truth(&self, e: &Expr) -> Truth {
        match e {
            Expr::Not(inner) => !self.truth(inner),
            Expr::And(parts) => {
                let mut all = Truth::True;
                for p in parts {
                    all = all.min(self.truth(p));
                    if all == Truth::False {
                        break;
                    }
                }
                all
            }
            Expr::Or(parts) => {
                let mut any = Truth::False;
                for p in parts {
                    any = any.max(self.truth(p));
                    if any == Truth::True {
                        break;
                    }
                }
                any
            }
            Expr::Compare(l, op, r) => compare3(&self.eval(l), *op, &self.eval(r)),
            Expr::In(l, values) => {
                let v = self.eval(l);
                values.iter().map(|x| compare3(&v, crate::ast::CmpOp::Eq, x)).max().unwrap_or(Truth::False)
            }
            Expr::Patched(u) => self.patched(*u),
            Expr::Released(u) => self.released(*u),
            Expr::Known(inner) => Truth::of(!matches!(self.eval(inner), Value::Unknown | Value::None)),
            Expr::Definitely(inner) => Truth::of(self.truth(inner) == Truth::True),
            Expr::Possibly(inner) => Truth::of(self.truth(inner) != Truth::False),
            Expr::Const(_) | Expr::Field(_) | Expr::Host(_) | Expr::Status | Expr::ReleaseDate(_) => match self.eval(e)
            {
                Value::Bool(b) => Truth::of(b),
                Value::Unknown => Truth::Unknown,
                _ => Truth::False,
            },
        }
    }

    fn eval(&self, e: &Expr) -> Value {
        match e {
            Expr::Const(v) => v.clone(),
            Expr::Field(i) => self.facts.values.get(*i).cloned().unwrap_or(Value::Unknown),
            Expr::Host(h) => self.host_value(*h),
            // Undetermined rules before this one could have raised it.
            Expr::Status if self.possible > self.status => Value::Unknown,
            Expr::Status => Value::Level(self.status),
            Expr::ReleaseDate(u) => self.release_date(*u),
            _ => match self.truth(e) {
                Truth::True => Value::Bool(true),
                Truth::False => Value::Bool(false),
                Truth::Unknown => Value::Unknown,
            },
        }
    }

    fn host_value(&self, value: HostValue) -> Value {
        let host = &self.host;
        match value {
            HostValue::Product => host.product.clone(),
            HostValue::Os => host.os.clone(),
            HostValue::Revision => host.revision.clone(),
            HostValue::VersionListed => host.version_listed.clone(),
            HostValue::PlatformListed => host.platform_listed.clone(),
            HostValue::EndOfSupport => self.os_date(|os| (os.end_of_support, &os.end_of_support_for)),
            HostValue::EsuUntil => self.os_date(|os| (os.esu_until, &os.esu_until_for)),
            HostValue::InSupport => self.in_support(),
        }
    }

    /// A date of the host's OS, for its edition: the edition's own, else the OS's. Unknown when
    /// the OS is, or the edition is and the editions' dates differ.
    fn os_date(&self, of: impl Fn(&crate::ir::Os) -> (Option<Date>, &Vec<(usize, Date)>)) -> Value {
        let os = match &self.host.os {
            Value::Os(os) => self.program.oses.get(*os),
            other => return other.clone(),
        };
        let Some(os) = os else { return Value::None };
        let (default, per_edition) = of(os);
        let edition = self.program.host.os_edition.and_then(|f| self.facts.values.get(f)).unwrap_or(&Value::None);
        let date = match edition {
            Value::Enum(e) => per_edition.iter().find(|(v, _)| v == e).map(|(_, d)| *d).or(default),
            Value::Unknown if per_edition.iter().any(|(_, d)| Some(*d) != default) => return Value::Unknown,
            _ => default,
        };
        date.map_or(Value::None, Value::Date)
    }

    /// `host.in_support`: before the end of support, or enrolled in ESU before its end; an OS
    /// without an end date is in support; no OS, none. An unknown edition leaves it undetermined
    /// only where its editions' dates disagree about the evaluation date.
    fn in_support(&self) -> Value {
        let os = match &self.host.os {
            Value::Os(o) => self.program.oses.get(*o),
            other => return other.clone(),
        };
        let Some(os) = os else { return Value::None };
        let today = match self.evaluation_date() {
            Value::Date(d) => d,
            _ => return Value::Unknown,
        };
        let edition = match self.program.host.os_edition.and_then(|f| self.facts.values.get(f)) {
            Some(Value::Enum(e)) => crate::ir::EditionIs::Known(*e),
            Some(Value::Unknown) => crate::ir::EditionIs::Unknown(self.editions()),
            _ => crate::ir::EditionIs::None,
        };
        let enrolled = match self.program.host.esu.and_then(|f| self.facts.values.get(f)) {
            Some(Value::Bool(true)) => Truth::True,
            Some(Value::Unknown) => Truth::Unknown,
            _ => Truth::False,
        };
        let before = |range: Option<(Date, Date)>| match range {
            Some((lo, _)) if today < lo => Truth::True,
            Some((_, hi)) if today < hi => Truth::Unknown,
            _ => Truth::False,
        };
        let supported = match os.support_ends(edition) {
            None => Truth::True,
            ends => before(ends),
        };
        let with_esu = enrolled.min(before(os.esu_ends(edition)));
        match supported.max(with_esu) {
            Truth::True => Value::Bool(true),
            Truth::False => Value::Bool(false),
            Truth::Unknown => Value::Unknown,
        }
    }

    /// An update is patched when it is installed, a declared update that supersedes it is
    /// installed, or the host's OS is one it applies to and its revision is at least the one
    /// the update brings. Undetermined when neither the installed list nor the build shows it
    /// and one of them was not sent.
    fn patched(&self, update: usize) -> Truth {
        let Some(u) = self.program.updates.get(update) else { return Truth::False };
        let listed = match self.program.host.hotfixes.and_then(|h| self.facts.values.get(h)) {
            Some(Value::Kbs(kbs)) => {
                let has = |kb: &Kb| kbs.binary_search(kb).is_ok();
                Truth::of(has(&u.kb) || u.superseded_by.iter().any(has))
            }
            Some(Value::Unknown) => Truth::Unknown,
            _ => Truth::False,
        };
        let by_build = match (&self.host.revision, &self.host.os) {
            (Value::Int(rev), Value::Os(os)) => {
                Truth::of(u.applies.contains(os) && u.revision_on(*os).is_some_and(|needed| *rev >= i64::from(needed)))
            }
            // Only an update that brings a revision can be read from the build.
            (Value::Unknown, _) | (_, Value::Unknown) if u.revision.is_some() || !u.revision_for.is_empty() => {
                Truth::Unknown
            }
            _ => Truth::False,
        };
        listed.max(by_build)
    }

    /// The update's release date for the host's OS (its default date when the OS is unknown or
    /// none), or none when the rules give none.
    fn release_date(&self, update: usize) -> Value {
        let os = if let Value::Os(os) = self.host.os { Some(os) } else { None };
        self.program.updates.get(update).and_then(|u| u.released_on(os)).map_or(Value::None, Value::Date)
    }

    /// The update is out, for the host's OS, at the evaluation date: released on or before it
    /// (an update without a date is out). An update for other Windows versions than the host's
    /// is not out for it.
    fn released(&self, update: usize) -> Truth {
        if let (Value::Os(os), Some(u)) = (&self.host.os, self.program.updates.get(update))
            && !u.applies_to(*os)
        {
            return Truth::False;
        }
        match (self.release_date(update), self.evaluation_date()) {
            (Value::Date(_), Value::Unknown) => Truth::Unknown,
            (Value::Date(released), Value::Date(today)) => Truth::of(released <= today),
            _ => Truth::True,
        }
    }

    /// How many editions the `os_edition` role's enum has.
    fn editions(&self) -> usize {
        match self.program.host.os_edition.and_then(|f| self.program.fields.get(f)).map(|f| &f.ty) {
            Some(Type::Enum(variants)) => variants.len(),
            _ => 0,
        }
    }

    /// The evaluation date (the fact bound to the role), or unknown.
    fn evaluation_date(&self) -> Value {
        self.program.host.evaluation_date.and_then(|f| self.facts.values.get(f)).cloned().unwrap_or(Value::Unknown)
    }

    fn finding(&self, rule: &Rule, requirement: Option<usize>, level: Level) -> Finding {
        let os = if let Value::Os(os) = self.host.os { Some(os) } else { None };
        let as_of = if let Value::Date(d) = self.evaluation_date() { Some(d) } else { None };
        let mut finding = finding_for(self.program, rule, requirement, os, as_of, level.name(), String::new());
        finding.message = self.render(&rule.message, &finding.need_words());
        finding
    }

    /// A message with its values; `need` is what `{need}` shows.
    fn render(&self, segments: &[Segment], need: &str) -> String {
        let mut out = String::new();
        for seg in segments {
            match seg {
                Segment::Text(t) => out.push_str(t),
                Segment::Value(e) => out.push_str(&self.display(e)),
                Segment::Need => out.push_str(need),
            }
        }
        out
    }

    /// A value as a person reads it: products and OS versions by their display names.
    fn display(&self, e: &Expr) -> String {
        let p = self.program;
        match (self.eval(e), e) {
            (Value::Unknown, _) => "unknown".into(),
            (Value::None, _) => "none".into(),
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
    as_of: Option<crate::value::Date>,
    severity: &'static str,
    message: String,
) -> Finding {
    let newest = requirement.and_then(|k| rule.require.get(k)).is_some_and(|q| q.newest);
    let need = requirement.and_then(|k| rule.require.get(k)).map(|q| &q.need);
    let (step, any_of) = match need {
        // Of alternatives, those that can be taken: an update group with no update out yet is
        // not offered (another alternative is).
        Some(Need::AnyOf(needs)) => {
            let steps = needs
                .iter()
                .filter(|n| {
                    let Need::Updates(ids) = n else { return true };
                    as_of.is_none_or(|today| {
                        ids.iter()
                            .filter_map(|u| program.updates.get(*u))
                            .any(|u| u.released_on(os).is_none_or(|d| d <= today))
                    })
                })
                .map(|n| step_for(program, Some(n), os, as_of, false))
                .collect::<Vec<Step>>();
            // One alternative left: it is the step.
            match <[Step; 1]>::try_from(steps) {
                Ok([only]) => (only, Vec::new()),
                Err(steps) => (Step::default(), steps),
            }
        }
        need => (step_for(program, need, os, as_of, newest), Vec::new()),
    };
    // The rule's own `certificate` clause names one where the requirement does not.
    let own = rule.certificate.and_then(|c| program.certificates.get(c));
    let mut step = step;
    if step.certificate.is_none()
        && let Some(c) = own
    {
        step.certificate = Some(c.name.clone());
        step.thumbprint = Some(c.thumbprint.clone()).filter(|t| !t.is_empty());
    }
    Finding {
        rule: rule.name.clone(),
        severity,
        message,
        step,
        any_of,
        cite: rule.cite.clone(),
        links: rule.links.clone(),
        line: rule.line,
    }
}

/// The step one need asks for, on a host whose OS is `os`, judged at `as_of`.
fn step_for(
    program: &Program,
    need: Option<&Need>,
    os: Option<usize>,
    as_of: Option<crate::value::Date>,
    newest: bool,
) -> Step {
    let mut step = Step::default();
    match need {
        Some(Need::Updates(ids)) => {
            let all: Vec<&crate::ir::Update> = ids.iter().filter_map(|u| program.updates.get(*u)).collect();
            let for_os: Vec<&crate::ir::Update> =
                all.iter().copied().filter(|u| os.is_some_and(|os| u.applies_to(os))).collect();
            let shown = if for_os.is_empty() { all } else { for_os };
            // Only updates out at the evaluation date (on a host judged before every one of them
            // the requirement is not due and gives no finding); of `any ... since`, the newest.
            let out: Vec<&crate::ir::Update> = shown
                .iter()
                .copied()
                .filter(|u| as_of.is_none_or(|today| u.released_on(os).is_none_or(|d| d <= today)))
                .collect();
            let mut shown = if out.is_empty() { shown } else { out };
            if newest && let Some(last) = shown.iter().copied().max_by_key(|u| u.released_on(os)) {
                shown = vec![last];
            }
            step.updates = shown
                .into_iter()
                .map(|u| UpdateInfo {
                    kb: u.kb.to_string(),
                    title: u.title.clone(),
                    kind: u.kind.clone(),
                    released: u.released_on(os).map(|d| d.to_string()),
                    links: u.links.clone(),
                })
                .collect();
            step.install_any_of = step.updates.iter().map(|u| u.kb.clone()).collect();
        }
        Some(Need::Certificate(c)) => {
            if let Some(c) = program.certificates.get(*c) {
                step.certificate = Some(c.name.clone());
                step.thumbprint = Some(c.thumbprint.clone()).filter(|t| !t.is_empty());
            }
        }
        Some(Need::Component { component: c, op, version, shown }) => {
            let version = version.to_string();
            let is = |want: crate::ast::CmpOp| (*op == want).then(|| version.clone());
            step.component = program.components.get(*c).map(|c| ComponentInfo {
                id: c.id.clone(),
                name: c.name.clone(),
                at_least: is(crate::ast::CmpOp::Ge),
                above: is(crate::ast::CmpOp::Gt),
                exactly: is(crate::ast::CmpOp::Eq),
                shown: shown.clone(),
                links: c.links.clone(),
            });
        }
        Some(Need::Setting { setting: s, value }) => {
            step.setting = program.settings.get(*s).map(|x| SettingInfo {
                id: x.id.clone(),
                name: x.name.clone(),
                value: value_text(program, x.fact, value),
                links: x.links.clone(),
            });
        }
        Some(Need::Action(a)) => {
            step.action = program.actions.get(*a).map(|x| ActionInfo {
                id: x.id.clone(),
                name: x.name.clone(),
                links: x.links.clone(),
            });
        }
        // Alternatives are steps of their own (`Finding::any_of`).
        Some(Need::AnyOf(_)) | None => {}
    }
    step
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
        Expr::Released(u) => format!("released({})", p.updates.get(*u).map(|u| u.kb.to_string()).unwrap_or_default()),
        Expr::ReleaseDate(u) => {
            format!("release_date({})", p.updates.get(*u).map(|u| u.kb.to_string()).unwrap_or_default())
        }
        Expr::Known(inner) => format!("known({})", src(inner)),
        Expr::Definitely(inner) => format!("definitely({})", src(inner)),
        Expr::Possibly(inner) => format!("possibly({})", src(inner)),
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
        Value::None => "none".into(),
    }
}

/// Compares two values on what the facts show: an unknown side leaves it undetermined; a side
/// that is `none` equals only `none` and has no order.
pub fn compare3(l: &Value, op: crate::ast::CmpOp, r: &Value) -> Truth {
    use crate::ast::CmpOp::*;
    let ordering = match (l, r) {
        (Value::Unknown, _) | (_, Value::Unknown) => return Truth::Unknown,
        (Value::None, Value::None) => Some(Ordering::Equal),
        (Value::None, _) | (_, Value::None) => None,
        (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
        (Value::Date(a), Value::Date(b)) => Some(a.cmp(b)),
        (Value::Version(a), Value::Version(b)) => Some(a.cmp_prefix(b)),
        (Value::Level(a), Value::Level(b)) => Some(a.cmp(b)),
        (a, b) => (a == b).then_some(Ordering::Equal),
    };
    let ordered = !matches!((l, r), (Value::None, _) | (_, Value::None));
    Truth::of(match (op, ordering) {
        (Ne, o) => o != Some(Ordering::Equal),
        (_, None) => false,
        (Eq, Some(o)) => o == Ordering::Equal,
        // `none` has no order.
        (op, Some(o)) => ordered && op.holds(o),
    })
}

/// [`compare3`] read two-valued, with an unknown side taken as `none` (for the checker's
/// analyses, which ask whether some host could make a condition true).
pub(crate) fn compare(l: &Value, op: crate::ast::CmpOp, r: &Value) -> bool {
    let known = |v: &Value| if *v == Value::Unknown { Value::None } else { v.clone() };
    compare3(&known(l), op, &known(r)) == Truth::True
}
