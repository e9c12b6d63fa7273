//! Satisfiability lints: rules that can never fire (P0200), rules another rule makes redundant
//! (P0201), and pairs of rules that can fire together with contradictory outcomes (P0202).
//!
//! A rule's *effective condition* is its `when` plus "none of its required updates is patched".
//! Conditions become boolean formulas over atoms (`host.os == win11`, `as_of >= 2023-01-10`,
//! `patched(KB...)`), kept as one graph of interned nodes. `status` is replaced by what it means
//! — a formula over the rules above, built one rule at a time so that every rule's formula shares
//! the previous one — so a rule that reads it is judged precisely.
//!
//! Each *subject* (a fact or host value) has finitely many classes of values that matter: the
//! constants its atoms mention and their neighbours, grouped by which atoms they make true. A
//! question ("can these two rules fire for one host?") is answered in two steps: a *profile* of
//! each condition (which classes of each subject it reads leave it possibly true) sets most pairs
//! apart at once; the rest go to a SAT solver (batsat) with the formulas in Tseitin form and each
//! subject's atoms tied to its classes. The work is bounded per question and per file; a file
//! that exhausts the budget is told what was left unanalysed (P0211).
//!
//! The analysis is an over-approximation: facts and host values are independent here (it does
//! not know that `host.os` follows from `os.version`), and `patched(...)` is a free atom. So
//! "can never fire" is exact, while "can fire together" may be reported for a combination no
//! host has.

use crate::ast::CmpOp;
use crate::diagnostic::Diagnostic;
use crate::interp::compare;
use crate::ir::{Expr, HostValue, Level, Program, Rule, Type, Value};
use crate::value::{Date, Version};
use batsat::{Callbacks, ClauseKind, Lit, Solver, SolverInterface, SolverOpts, lbool};
// Keys here are node and atom numbers and interned nodes, never attacker-chosen strings
// that would need SipHash's protection (the rules file is the author's own).
use rustc_hash::FxHashMap as HashMap;

/// Conflicts one question may take.
const CONFLICTS_PER_QUESTION: u64 = 5_000;
/// Conflicts all the questions about one file may take together.
const CONFLICTS_IN_ALL: u64 = 100_000;
/// Formula nodes the profiles may visit in all (past it, conditions go to the solver unsorted).
const VISITS_IN_ALL: u64 = 20_000_000;

pub fn analyse(program: &Program) -> Vec<Diagnostic> {
    let mut a = Analysis::new(program);
    let effective: Vec<NodeId> = (0..program.rules.len()).map(|i| a.effective(i)).collect();
    a.settle();
    let profiles: Vec<Profile> = effective.iter().map(|f| a.profile(*f)).collect();
    a.profile_at = vec![0; a.nodes.len()];
    for (k, f) in effective.iter().enumerate() {
        if let Some(slot) = a.profile_at.get_mut(*f) {
            *slot = k + 1;
        }
    }
    a.profiles = profiles.clone();
    let mut out = Vec::new();
    let alone: Vec<Option<bool>> = effective
        .iter()
        .zip(&profiles)
        .map(|(f, p)| if impossible(p) { Some(false) } else { a.satisfiable(&[(*f, true)]) })
        .collect();
    let mut unanswered: Vec<(&Rule, &Rule)> = Vec::new();
    for (rule, condition) in program.rules.iter().zip(&alone) {
        match condition {
            Some(false) => out.push(
                Diagnostic::warning("P0200", format!("rule `{}` can never fire", rule.name), rule.span, "its condition never holds")
                    .with_help("no host satisfies every part of its `when` (with `status`, the rules above); look for two parts that exclude each other"),
            ),
            None => unanswered.push((rule, rule)),
            Some(true) => {}
        }
    }
    for (j, later) in program.rules.iter().enumerate() {
        // A redundant rule is reported once, beside the first rule above that covers it.
        let mut redundant_found = false;
        for (i, earlier) in program.rules.iter().enumerate().take(j) {
            let contradict = contradictory(earlier, later);
            if !contradict && (redundant_found || !same_outcome(earlier, later)) {
                continue;
            }
            let (Some(&fe), Some(&fl), Some(pe), Some(pl)) =
                (effective.get(i), effective.get(j), profiles.get(i), profiles.get(j))
            else {
                continue;
            };
            // Conditions that no class of some subject lets hold together never fire together:
            // no contradiction, and the later rule fires without the earlier one.
            if disjoint(pe, pl) {
                continue;
            }
            if contradict {
                match a.satisfiable(&[(fe, true), (fl, true)]) {
                    Some(true) => out.push(contradiction(earlier, later)),
                    None => unanswered.push((earlier, later)),
                    Some(false) => {}
                }
            } else if alone.get(j) == Some(&Some(true)) {
                let redundant =
                    if fe == fl { Some(true) } else { a.satisfiable(&[(fl, true), (fe, false)]).map(|s| !s) };
                match redundant {
                    Some(true) => {
                        redundant_found = true;
                        out.push(redundancy(earlier, later));
                    }
                    None => unanswered.push((earlier, later)),
                    Some(false) => {}
                }
            }
        }
    }
    if let Some(&(first, _)) = unanswered.first() {
        out.push(
            Diagnostic::warning(
                "P0211",
                format!("the rule analysis ran out of its budget: {} question(s) about these rules left unanswered", unanswered.len()),
                first.span,
                "analysis stopped here",
            )
            .with_help("rules that overlap on many facts cost the most; narrow their `when` (name the OS, the product) or split the advisory into files that `use` a shared one")
            .with_note("unanswered questions report nothing: a rule that can never fire, a redundant rule or two contradictory rules among them would go unnoticed"),
        );
    }
    out
}

fn redundancy(earlier: &Rule, later: &Rule) -> Diagnostic {
    Diagnostic::warning(
        "P0201",
        format!("rule `{}` is redundant: `{}` always fires with it", later.name, earlier.name),
        later.span,
        "adds nothing",
    )
    .with_secondary(earlier.span, "fires whenever the rule below does, with the same outcome")
    .with_help("remove it, or narrow the rule above")
}

fn levels(rule: &Rule) -> Vec<Level> {
    let mut levels = vec![rule.severity];
    levels.extend(rule.otherwise.as_ref().map(|(_, l)| *l));
    levels
}

/// A terminal status (`not_affected`, `unknown`, `unsupported`) says the other findings do not
/// apply; beside any different status it contradicts. Notices contradict nothing.
fn contradictory(a: &Rule, b: &Rule) -> bool {
    let terminal = |l: &Level| matches!(l, Level::NotAffected | Level::Unknown | Level::Unsupported);
    levels(a)
        .iter()
        .any(|x| levels(b).iter().any(|y| x.is_status() && y.is_status() && x != y && (terminal(x) || terminal(y))))
}

/// Status rules with the same levels and requirements tell the host the same thing. A notice
/// (`info`, `warning`) is its message: two notices saying different things are never redundant.
fn same_outcome(a: &Rule, b: &Rule) -> bool {
    let notice = !a.severity.is_status();
    levels(a) == levels(b)
        && a.require == b.require
        && a.certificate == b.certificate
        && a.otherwise.is_none()
        && (!notice || a.message == b.message)
}

fn contradiction(a: &Rule, b: &Rule) -> Diagnostic {
    let (la, lb) = (a.severity.name(), b.severity.name());
    Diagnostic::warning(
        "P0202",
        format!("rules `{}` ({la}) and `{}` ({lb}) can fire for the same host", a.name, b.name),
        b.span,
        format!("gives `{lb}`"),
    )
    .with_secondary(a.span, format!("gives `{la}`"))
    .with_help("make their conditions exclude each other, e.g. add `not ...` of one to the other")
    .with_note(
        "by precedence the verdict takes the higher status, but the host would also be told the other rule's finding",
    )
}

/// A node of the formula graph. Nodes are interned, so a condition that several rules share
/// (and the `status` formulas, which every later rule reuses) exist once.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Node {
    Const(bool),
    Atom(usize),
    Not(NodeId),
    And(Vec<NodeId>),
    Or(Vec<NodeId>),
}

type NodeId = usize;

/// What an atom asks of its subject.
#[derive(Clone, Debug)]
enum Test {
    Compare(CmpOp, Value),
    In(Vec<Value>),
    Known,
    /// Not a comparison with constants (`patched`, fact against fact): any truth value.
    Free,
}

#[derive(Clone, Debug)]
struct Atom {
    /// What the atom tests (a fact, a host value), as an index into `Analysis::subjects`.
    subject: usize,
    ty: Option<Type>,
    test: Test,
}

/// For each subject a condition reads, which of the subject's classes leave it possibly true.
type Profile = Vec<(usize, Vec<bool>)>;

/// Counts the solver's conflicts (one learnt clause each) and stops it at its limit.
struct Budget {
    learnt: u64,
    limit: u64,
}

impl Callbacks for Budget {
    fn on_new_clause(&mut self, _clause: &[Lit], kind: ClauseKind) {
        if matches!(kind, ClauseKind::Learnt) {
            self.learnt += 1;
        }
    }

    fn stop(&self) -> bool {
        self.learnt >= self.limit
    }
}

struct Analysis<'p> {
    program: &'p Program,
    nodes: Vec<Node>,
    interned: HashMap<Node, NodeId>,
    atoms: Vec<Atom>,
    index: HashMap<String, usize>,
    subjects: HashMap<String, usize>,
    effective: HashMap<usize, NodeId>,
    /// Per fact: the formula of the condition under which it has a value (`None`: always).
    presences: HashMap<usize, Option<NodeId>>,
    /// `status_at_least(level, rule)`, per level: the formula for each rule index built so far.
    at_least: HashMap<Level, Vec<NodeId>>,
    /// Per subject: how many classes its values fall into.
    classes: Vec<usize>,
    /// Per atom: its truth in each class of its subject (empty for free atoms).
    truth: Vec<Vec<bool>>,
    /// Conflicts left for every question still to come.
    conflicts_left: u64,
    /// Node visits left for the profiles (after that a condition's profile says nothing).
    visits_left: u64,
    /// Evaluation memo, valid where its stamp is the current one.
    memo: Vec<(u32, Option<bool>)>,
    /// Questions answered so far (rules with the same condition ask the same question).
    answered: HashMap<Vec<(NodeId, bool)>, Option<bool>>,
    /// The profiles of the rules' effective conditions, and for each node the index + 1 of its
    /// profile (0: the node is no rule's condition).
    profiles: Vec<Profile>,
    profile_at: Vec<usize>,
    /// The profiles of the current question's parts wanted true.
    context: Vec<usize>,
    /// Nodes that are `status` formulas: the profiles read them as unknown (a rule's profile is
    /// then what its own condition says, whatever the rules above it do).
    status_nodes: Vec<bool>,
    /// While profiling: `status` formulas count as unknown.
    skip_status: bool,
    /// Per node: the question in which it was last judged, and whether it was pruned then (a
    /// rule's condition that no host meeting the question's parts wanted true can meet).
    pruned: Vec<(u32, bool)>,
    question: u32,
    /// While refuting: nodes whose value a part forces, read as that value (but for the part
    /// being computed, `ignore_assumed`).
    assumed: HashMap<NodeId, bool>,
    ignore_assumed: Option<NodeId>,
    /// Nodes visited by the current walk (their stamp is `walk`).
    visited: Vec<u32>,
    walk: u32,
    stamp: u32,
}

impl<'p> Analysis<'p> {
    fn new(program: &'p Program) -> Self {
        let mut a = Analysis {
            program,
            nodes: Vec::new(),
            interned: HashMap::default(),
            atoms: Vec::new(),
            index: HashMap::default(),
            subjects: HashMap::default(),
            effective: HashMap::default(),
            presences: HashMap::default(),
            at_least: HashMap::default(),
            classes: Vec::new(),
            truth: Vec::new(),
            conflicts_left: CONFLICTS_IN_ALL,
            visits_left: VISITS_IN_ALL,
            memo: Vec::new(),
            answered: HashMap::default(),
            profiles: Vec::new(),
            profile_at: Vec::new(),
            context: Vec::new(),
            status_nodes: Vec::new(),
            skip_status: false,
            pruned: Vec::new(),
            question: 0,
            assumed: HashMap::default(),
            ignore_assumed: None,
            visited: Vec::new(),
            walk: 0,
            stamp: 0,
        };
        a.intern(Node::Const(false));
        a.intern(Node::Const(true));
        a
    }

    fn intern(&mut self, node: Node) -> NodeId {
        if let Some(id) = self.interned.get(&node) {
            return *id;
        }
        let id = self.nodes.len();
        self.nodes.push(node.clone());
        self.interned.insert(node, id);
        id
    }

    fn constant(&mut self, b: bool) -> NodeId {
        self.intern(Node::Const(b))
    }

    fn not(&mut self, f: NodeId) -> NodeId {
        match self.nodes.get(f) {
            Some(Node::Const(b)) => {
                let b = !*b;
                self.constant(b)
            }
            Some(Node::Not(inner)) => *inner,
            _ => self.intern(Node::Not(f)),
        }
    }

    /// `and` (`conjunction` true) or `or` of parts, simplified and in a canonical order.
    fn junction(&mut self, conjunction: bool, parts: Vec<NodeId>) -> NodeId {
        let mut kept = Vec::with_capacity(parts.len());
        for p in parts {
            match self.nodes.get(p) {
                // The absorbing constant decides; the neutral one drops out.
                Some(Node::Const(b)) if *b != conjunction => return self.constant(!conjunction),
                Some(Node::Const(_)) => {}
                Some(Node::And(inner)) if conjunction => kept.extend(inner.iter().copied()),
                Some(Node::Or(inner)) if !conjunction => kept.extend(inner.iter().copied()),
                _ => kept.push(p),
            }
        }
        kept.sort_unstable();
        kept.dedup();
        match kept.len() {
            0 => self.constant(conjunction),
            1 => kept.first().copied().unwrap_or_default(),
            _ if conjunction => self.intern(Node::And(kept)),
            _ => self.intern(Node::Or(kept)),
        }
    }

    fn and(&mut self, parts: Vec<NodeId>) -> NodeId {
        self.junction(true, parts)
    }

    fn or(&mut self, parts: Vec<NodeId>) -> NodeId {
        self.junction(false, parts)
    }

    /// `when` and "none of the required updates is patched".
    fn effective(&mut self, rule: usize) -> NodeId {
        if let Some(f) = self.effective.get(&rule) {
            return *f;
        }
        let Some(r) = self.program.rules.get(rule) else { return self.constant(false) };
        let when = self.formula(&r.when, rule);
        let f = if r.require.is_empty() {
            when
        } else {
            let unmet: Vec<NodeId> = r
                .require
                .iter()
                .map(|q| {
                    let met = self.formula(&q.met, rule);
                    self.not(met)
                })
                .collect();
            let any_unmet = self.or(unmet);
            self.and(vec![when, any_unmet])
        };
        self.effective.insert(rule, f);
        f
    }

    fn atom(&mut self, subject: String, ty: Option<Type>, test: Test) -> NodeId {
        let key = format!("{subject}|{test:?}");
        if let Some(i) = self.index.get(&key) {
            return self.intern(Node::Atom(*i));
        }
        let i = self.atoms.len();
        let next = self.subjects.len();
        let subject = *self.subjects.entry(subject).or_insert(next);
        self.atoms.push(Atom { subject, ty, test });
        self.index.insert(key, i);
        self.intern(Node::Atom(i))
    }

    fn subject_type(&self, e: &Expr) -> Option<Type> {
        match e {
            Expr::Field(i) => self.program.fields.get(*i).map(|f| f.ty.clone()),
            Expr::Host(h) => Some(h.ty()),
            _ => None,
        }
    }

    fn formula(&mut self, e: &Expr, rule: usize) -> NodeId {
        match e {
            Expr::Const(Value::Bool(b)) => self.constant(*b),
            Expr::Not(inner) => {
                let inner = self.formula(inner, rule);
                self.not(inner)
            }
            // The analyses are two-valued: some host makes the inner condition true or false.
            Expr::Definitely(inner) | Expr::Possibly(inner) => self.formula(inner, rule),
            Expr::And(parts) => {
                let parts = parts.iter().map(|p| self.formula(p, rule)).collect();
                self.and(parts)
            }
            Expr::Or(parts) => {
                let parts = parts.iter().map(|p| self.formula(p, rule)).collect();
                self.or(parts)
            }
            Expr::Compare(l, op, r) => match (l.as_ref(), r.as_ref()) {
                (Expr::Status, Expr::Const(Value::Level(level))) => {
                    let set: Vec<Level> = Level::ALL
                        .into_iter()
                        .filter(|x| x.is_status() && compare(&Value::Level(*x), *op, &Value::Level(*level)))
                        .collect();
                    self.status_in(&set, rule)
                }
                (subject, Expr::Const(v)) => {
                    let ty = self.subject_type(subject);
                    let test = Test::Compare(*op, v.clone());
                    let atom = self.atom(format!("{subject:?}"), ty, test.clone());
                    self.guarded(subject, atom, &test, rule)
                }
                _ => self.atom(format!("{e:?}"), None, Test::Free),
            },
            Expr::In(l, values) => match l.as_ref() {
                Expr::Status => {
                    let set: Vec<Level> =
                        values.iter().filter_map(|v| if let Value::Level(l) = v { Some(*l) } else { None }).collect();
                    self.status_in(&set, rule)
                }
                subject => {
                    let ty = self.subject_type(subject);
                    let test = Test::In(values.clone());
                    let atom = self.atom(format!("{subject:?}"), ty, test.clone());
                    self.guarded(subject, atom, &test, rule)
                }
            },
            Expr::Known(inner) => {
                let ty = self.subject_type(inner);
                let atom = self.atom(format!("{inner:?}"), ty, Test::Known);
                self.guarded(inner, atom, &Test::Known, rule)
            }
            Expr::Field(_) | Expr::Host(_) => {
                let ty = self.subject_type(e);
                let test = Test::Compare(CmpOp::Eq, Value::Bool(true));
                let atom = self.atom(format!("{e:?}"), ty, test.clone());
                self.guarded(e, atom, &test, rule)
            }
            Expr::Patched(u) => self.atom(format!("patched#{u}"), None, Test::Free),
            Expr::Released(u) => self.atom(format!("released#{u}"), None, Test::Free),
            Expr::ReleaseDate(_) | Expr::Const(_) | Expr::Status => self.constant(false),
        }
    }

    /// The condition under which `subject` can have a value: a fact declared `if C` has none
    /// where C is false (and what is derived from it, such as `host.os` from the OS version, has
    /// none too). `None` when nothing conditions it.
    fn presence(&mut self, subject: &Expr, rule: usize) -> Option<NodeId> {
        let field = match subject {
            Expr::Field(i) => Some(*i),
            Expr::Host(HostValue::Product) => self.program.host.product,
            Expr::Host(
                HostValue::Os
                | HostValue::Revision
                | HostValue::EndOfSupport
                | HostValue::EsuUntil
                | HostValue::InSupport,
            ) => self.program.host.os_version,
            _ => None,
        }?;
        if let Some(known) = self.presences.get(&field) {
            return *known;
        }
        // The checker lets a condition read only facts declared before its own, so this ends.
        let program = self.program;
        let present =
            program.fields.get(field).and_then(|f| f.condition.as_ref()).map(|condition| self.formula(condition, rule));
        self.presences.insert(field, present);
        present
    }

    /// An atom about `subject` with its presence made explicit: where the subject's condition is
    /// false its value is none, and the test is what it gives on none. Without this, a rule
    /// that needs `os.version` would seem to overlap one that needs `os.platform != "windows"`.
    fn guarded(&mut self, subject: &Expr, atom: NodeId, test: &Test, rule: usize) -> NodeId {
        let Some(present) = self.presence(subject, rule) else { return atom };
        if holds(test, &Value::None) {
            let absent = self.not(present);
            self.or(vec![atom, absent])
        } else {
            self.and(vec![atom, present])
        }
    }

    /// "the status given by the rules above `rule` is one of `set`".
    fn status_in(&mut self, set: &[Level], rule: usize) -> NodeId {
        let statuses: Vec<Level> = Level::ALL.into_iter().filter(|l| l.is_status()).collect();
        let mut options = Vec::new();
        for (k, level) in statuses.iter().enumerate() {
            if !set.contains(level) {
                continue;
            }
            let at_least = self.status_at_least(*level, rule);
            let above = match statuses.get(k + 1) {
                Some(next) => {
                    let next = self.status_at_least(*next, rule);
                    self.not(next)
                }
                None => self.constant(true),
            };
            options.push(self.and(vec![at_least, above]));
        }
        let f = self.or(options);
        if matches!(self.nodes.get(f), Some(Node::And(_) | Node::Or(_) | Node::Not(_))) {
            if self.status_nodes.len() <= f {
                self.status_nodes.resize(f + 1, false);
            }
            if let Some(mark) = self.status_nodes.get_mut(f) {
                *mark = true;
            }
        }
        f
    }

    /// Some rule above `rule` fired with a status at or above `level`. Built one rule at a time
    /// on the formula for the rule before, so the formulas for every rule share their parts.
    fn status_at_least(&mut self, level: Level, rule: usize) -> NodeId {
        if level == Level::Ready {
            return self.constant(true);
        }
        let mut built = self.at_least.remove(&level).unwrap_or_default();
        if built.is_empty() {
            built.push(self.constant(false));
        }
        while built.len() <= rule {
            let earlier = built.len() - 1;
            let before = built.last().copied().unwrap_or_default();
            let contribution = self.fired_at_least(earlier, level);
            built.push(self.or(vec![before, contribution]));
        }
        let f = built.get(rule).copied().unwrap_or_default();
        self.at_least.insert(level, built);
        f
    }

    /// Rule `earlier` fired with a status at or above `level`.
    fn fired_at_least(&mut self, earlier: usize, level: Level) -> NodeId {
        let Some(r) = self.program.rules.get(earlier) else { return self.constant(false) };
        let (severity, otherwise) = (r.severity, r.otherwise.clone());
        let fired = self.effective(earlier);
        match otherwise {
            // Both outcomes reach the level: the rule firing is enough (and the formula stays
            // decidable where the condition choosing between them is not known).
            Some((_, alt)) if severity.is_status() && severity >= level && alt.is_status() && alt >= level => fired,
            Some((cond, alt)) => {
                let c = self.formula(&cond, earlier);
                let mut options = Vec::new();
                if severity.is_status() && severity >= level {
                    options.push(self.and(vec![fired, c]));
                }
                if alt.is_status() && alt >= level {
                    let not_c = self.not(c);
                    options.push(self.and(vec![fired, not_c]));
                }
                self.or(options)
            }
            None if severity.is_status() && severity >= level => fired,
            None => self.constant(false),
        }
    }

    /// Splits each subject's values into classes: the values worth trying (every constant its
    /// atoms mention and their neighbours, every value of a finite type, none), grouped by
    /// which of its atoms they make true. Exactly one class holds for a host.
    fn settle(&mut self) {
        let mut per_subject: Vec<Vec<usize>> = vec![Vec::new(); self.subjects.len()];
        for (i, atom) in self.atoms.iter().enumerate() {
            if !matches!(atom.test, Test::Free)
                && let Some(list) = per_subject.get_mut(atom.subject)
            {
                list.push(i);
            }
        }
        self.classes = vec![0; self.subjects.len()];
        self.truth = vec![Vec::new(); self.atoms.len()];
        for (subject, atoms) in per_subject.iter().enumerate() {
            let Some(first) = atoms.first().and_then(|a| self.atoms.get(*a)) else { continue };
            let constraints: Vec<(&Atom, bool)> =
                atoms.iter().filter_map(|a| self.atoms.get(*a)).map(|a| (a, true)).collect();
            let mut seen: HashMap<Vec<bool>, usize> = HashMap::default();
            for value in candidates(self.program, first.ty.as_ref(), &constraints) {
                let row: Vec<bool> = constraints.iter().map(|(a, _)| holds(&a.test, &value)).collect();
                let next = seen.len();
                if seen.entry(row.clone()).or_insert(next) == &next {
                    for (atom, t) in atoms.iter().zip(row) {
                        if let Some(column) = self.truth.get_mut(*atom) {
                            column.push(t);
                        }
                    }
                }
            }
            if let Some(count) = self.classes.get_mut(subject) {
                *count = seen.len();
            }
        }
    }

    /// Three-valued value of `f` with the given atoms known and every other unknown.
    fn eval(&mut self, f: NodeId, known: &HashMap<usize, bool>) -> Option<bool> {
        if self.memo.len() < self.nodes.len() {
            self.memo.resize(self.nodes.len(), (0, None));
        }
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.memo.iter_mut().for_each(|m| m.0 = 0);
            self.stamp = 1;
        }
        self.eval_node(f, known)
    }

    fn eval_node(&mut self, f: NodeId, known: &HashMap<usize, bool>) -> Option<bool> {
        if let Some((stamp, value)) = self.memo.get(f)
            && *stamp == self.stamp
        {
            return *value;
        }
        self.visits_left = self.visits_left.saturating_sub(1);
        if self.is_pruned(f) {
            return Some(false);
        }
        if !self.assumed.is_empty()
            && self.ignore_assumed != Some(f)
            && let Some(v) = self.assumed.get(&f)
        {
            return Some(*v);
        }
        if self.skip_status && self.status_nodes.get(f) == Some(&true) {
            return None;
        }
        // The node's children are read by index, not cloned: this is the analyses' inner loop.
        let (is_and, count) = match self.nodes.get(f) {
            Some(Node::Const(b)) => return self.memoize(f, Some(*b)),
            Some(Node::Atom(a)) => {
                let value = known.get(a).copied();
                return self.memoize(f, value);
            }
            Some(Node::Not(inner)) => {
                let inner = *inner;
                let value = self.eval_node(inner, known).map(|b| !b);
                return self.memoize(f, value);
            }
            Some(Node::And(parts)) => (true, parts.len()),
            Some(Node::Or(parts)) => (false, parts.len()),
            None => return self.memoize(f, None),
        };
        // And: false wins, else unknown, else true; Or: true wins, else unknown, else false.
        let mut value = Some(is_and);
        for i in 0..count {
            let child = match self.nodes.get(f) {
                Some(Node::And(parts) | Node::Or(parts)) => parts.get(i).copied(),
                _ => None,
            };
            let Some(child) = child else { break };
            match self.eval_node(child, known) {
                Some(b) if b != is_and => {
                    value = Some(b);
                    break;
                }
                None => value = None,
                Some(_) => {}
            }
        }
        self.memoize(f, value)
    }

    fn memoize(&mut self, f: NodeId, value: Option<bool>) -> Option<bool> {
        if let Some(slot) = self.memo.get_mut(f) {
            *slot = (self.stamp, value);
        }
        value
    }

    /// The atoms under `f` (not under a pruned condition; not under `status` while profiling).
    fn cone_atoms(&mut self, f: NodeId) -> Vec<usize> {
        if self.visited.len() < self.nodes.len() {
            self.visited.resize(self.nodes.len(), 0);
        }
        self.walk = self.walk.wrapping_add(1);
        if self.walk == 0 {
            self.visited.iter_mut().for_each(|v| *v = 0);
            self.walk = 1;
        }
        let mut stack = vec![f];
        let mut out = Vec::new();
        while let Some(n) = stack.pop() {
            match self.visited.get_mut(n) {
                Some(v) if *v != self.walk => *v = self.walk,
                _ => continue,
            }
            if self.is_pruned(n) || self.skip_status && self.status_nodes.get(n) == Some(&true) {
                continue;
            }
            match self.nodes.get(n) {
                Some(Node::Atom(a)) => out.push(*a),
                Some(Node::Not(inner)) => stack.push(*inner),
                Some(Node::And(parts) | Node::Or(parts)) => stack.extend(parts.iter().copied()),
                _ => {}
            }
        }
        out
    }

    /// For each subject `f` reads: the classes under which `f` is not certainly false (every
    /// other atom left unknown). Cheap, and enough to set most pairs of rules apart.
    fn profile(&mut self, f: NodeId) -> Profile {
        self.skip_status = true;
        let out = self.profile_of(f);
        self.skip_status = false;
        out
    }

    fn profile_of(&mut self, f: NodeId) -> Profile {
        let by_subject = self.atoms_by_subject(&[f]);
        let mut out: Profile = Vec::new();
        for (subject, atoms) in by_subject {
            let classes = self.classes.get(subject).copied().unwrap_or(0);
            // Classes that agree on this condition's atoms answer alike: evaluate each kind once.
            let mut answers: HashMap<Vec<bool>, bool> = HashMap::default();
            let mut possible = Vec::with_capacity(classes);
            for class in 0..classes {
                let row = self.row(&atoms, class);
                let answer = match answers.get(&row) {
                    Some(a) => *a,
                    None => {
                        if self.visits_left == 0 {
                            return out;
                        }
                        let known: HashMap<usize, bool> = atoms.iter().copied().zip(row.iter().copied()).collect();
                        let a = self.eval(f, &known) != Some(false);
                        answers.insert(row, a);
                        a
                    }
                };
                possible.push(answer);
            }
            out.push((subject, possible));
        }
        out
    }

    /// The atoms under the given formulas that compare a subject with constants, by subject.
    fn atoms_by_subject(&mut self, roots: &[NodeId]) -> Vec<(usize, Vec<usize>)> {
        let mut by_subject: HashMap<usize, Vec<usize>> = HashMap::default();
        for root in roots {
            for a in self.cone_atoms(*root) {
                if let Some(atom) = self.atoms.get(a)
                    && !matches!(atom.test, Test::Free)
                {
                    let list = by_subject.entry(atom.subject).or_default();
                    if !list.contains(&a) {
                        list.push(a);
                    }
                }
            }
        }
        let mut subjects: Vec<(usize, Vec<usize>)> = by_subject.into_iter().collect();
        subjects.sort_unstable();
        subjects
    }

    /// The truth of each of `atoms` (all on one subject) in one of its classes.
    fn row(&self, atoms: &[usize], class: usize) -> Vec<bool> {
        atoms.iter().map(|a| self.truth.get(*a).and_then(|t| t.get(class)).copied().unwrap_or(false)).collect()
    }

    /// `Some(true)` if some host gives each formula the truth value paired with it, `Some(false)`
    /// if none does, `None` if the budget ran out.
    fn satisfiable(&mut self, parts: &[(NodeId, bool)]) -> Option<bool> {
        let mut key = parts.to_vec();
        key.sort_unstable();
        if let Some(known) = self.answered.get(&key) {
            return *known;
        }
        self.prune_for(parts);
        // Most questions are settled without the solver: a host found by fixing one subject at
        // a time, or a contradiction among what the parts force.
        let answer = if self.witness(parts) {
            Some(true)
        } else if self.refuted(parts) {
            Some(false)
        } else {
            self.solve(parts)
        };
        self.answered.insert(key, answer);
        answer
    }

    /// Starts a question: a rule's condition that no host meeting the parts wanted true can
    /// meet (their profiles are disjoint) is false in it, and is not walked (`is_pruned`).
    fn prune_for(&mut self, parts: &[(NodeId, bool)]) {
        self.question = self.question.wrapping_add(1);
        if self.question == 0 {
            self.pruned.iter_mut().for_each(|p| *p = (0, false));
            self.question = 1;
        }
        if self.pruned.len() < self.nodes.len() {
            self.pruned.resize(self.nodes.len(), (0, false));
        }
        self.context = parts
            .iter()
            .filter(|(_, want)| *want)
            .filter_map(|(f, _)| self.profile_at.get(*f).copied())
            .filter(|k| *k > 0)
            .map(|k| k - 1)
            .collect();
    }

    fn is_pruned(&mut self, n: NodeId) -> bool {
        let Some(&k) = self.profile_at.get(n) else { return false };
        if k == 0 || self.context.is_empty() {
            return false;
        }
        if let Some((question, verdict)) = self.pruned.get(n)
            && *question == self.question
        {
            return *verdict;
        }
        let verdict = self.profiles.get(k - 1).is_some_and(|profile| {
            self.context.iter().any(|c| self.profiles.get(*c).is_some_and(|c| disjoint(c, profile)))
        });
        if let Some(slot) = self.pruned.get_mut(n) {
            *slot = (self.question, verdict);
        }
        verdict
    }

    /// Whether each part has its wanted value under `known` (or may still have it).
    fn possible(&mut self, parts: &[(NodeId, bool)], known: &HashMap<usize, bool>) -> bool {
        parts.iter().all(|&(f, want)| self.eval(f, known).is_none_or(|v| v == want))
    }

    /// Looks for a host greedily: each subject in turn takes the first kind of value that
    /// leaves every part possible, then each free atom. True only with every part decided.
    fn witness(&mut self, parts: &[(NodeId, bool)]) -> bool {
        let roots: Vec<NodeId> = parts.iter().map(|(f, _)| *f).collect();
        let mut known: HashMap<usize, bool> = HashMap::default();
        for (subject, atoms) in self.atoms_by_subject(&roots) {
            let classes = self.classes.get(subject).copied().unwrap_or(0);
            let mut rows: Vec<Vec<bool>> = (0..classes).map(|c| self.row(&atoms, c)).collect();
            rows.sort_unstable();
            rows.dedup();
            let mut fixed = false;
            for row in rows {
                if self.visits_left == 0 {
                    return false;
                }
                for (a, t) in atoms.iter().zip(&row) {
                    known.insert(*a, *t);
                }
                if self.possible(parts, &known) {
                    fixed = true;
                    break;
                }
            }
            if !fixed {
                return false;
            }
        }
        let mut free: Vec<usize> = Vec::new();
        for root in &roots {
            free.extend(self.cone_atoms(*root).into_iter().filter(|a| !known.contains_key(a)));
        }
        free.sort_unstable();
        free.dedup();
        for a in free {
            known.insert(a, true);
            if !self.possible(parts, &known) {
                known.insert(a, false);
                if !self.possible(parts, &known) {
                    return false;
                }
            }
        }
        parts.iter().all(|&(f, want)| self.eval(f, &known) == Some(want))
    }

    /// Whether what the parts force (the atoms of a wanted conjunction, or of a refused
    /// disjunction) already contradicts them: a subject left with no kind of value, or a part
    /// that then evaluates to the other value.
    fn refuted(&mut self, parts: &[(NodeId, bool)]) -> bool {
        let mut forced_atoms: HashMap<usize, bool> = HashMap::default();
        let mut forced_nodes: HashMap<NodeId, bool> = HashMap::default();
        for &(f, want) in parts {
            if self.force(f, want, &mut forced_atoms, &mut forced_nodes) {
                return true;
            }
        }
        let roots: Vec<NodeId> = parts.iter().map(|(f, _)| *f).collect();
        let mut known = forced_atoms.clone();
        for (subject, atoms) in self.atoms_by_subject(&roots) {
            if !atoms.iter().any(|a| forced_atoms.contains_key(a)) {
                continue;
            }
            let classes = self.classes.get(subject).copied().unwrap_or(0);
            let allowed: Vec<Vec<bool>> = (0..classes)
                .map(|c| self.row(&atoms, c))
                .filter(|row| atoms.iter().zip(row).all(|(a, t)| forced_atoms.get(a).is_none_or(|f| f == t)))
                .collect();
            let Some(first) = allowed.first() else { return true };
            // An atom every allowed kind of value agrees on is known.
            for (k, a) in atoms.iter().enumerate() {
                let t = first.get(k).copied().unwrap_or(false);
                if allowed.iter().all(|row| row.get(k) == Some(&t)) {
                    known.insert(*a, t);
                }
            }
        }
        // Each forced node (the parts among them), computed from its own parts with every other
        // forced node at its forced value: one that comes out the other way is a contradiction
        // (a condition shared by two rules, or its negation, is forced once for both).
        let mut checks: Vec<(NodeId, bool)> = forced_nodes
            .iter()
            .filter(|(n, _)| !matches!(self.nodes.get(**n), Some(Node::Atom(_) | Node::Const(_))))
            .map(|(n, v)| (*n, *v))
            .collect();
        checks.sort_unstable();
        self.assumed = forced_nodes;
        let mut refuted = false;
        for (f, want) in checks {
            self.ignore_assumed = Some(f);
            if self.eval(f, &known).is_some_and(|v| v != want) {
                refuted = true;
                break;
            }
        }
        self.assumed.clear();
        self.ignore_assumed = None;
        refuted
    }

    /// Records what `f` having the value `want` forces (atoms, and the nodes on the way); true
    /// on a direct contradiction.
    fn force(
        &self,
        f: NodeId,
        want: bool,
        atoms: &mut HashMap<usize, bool>,
        nodes: &mut HashMap<NodeId, bool>,
    ) -> bool {
        if *nodes.entry(f).or_insert(want) != want {
            return true;
        }
        match self.nodes.get(f) {
            Some(Node::Const(b)) => *b != want,
            Some(Node::Atom(a)) => *atoms.entry(*a).or_insert(want) != want,
            Some(Node::Not(inner)) => self.force(*inner, !want, atoms, nodes),
            Some(Node::And(parts)) if want => parts.iter().any(|p| self.force(*p, true, atoms, nodes)),
            Some(Node::Or(parts)) if !want => parts.iter().any(|p| self.force(*p, false, atoms, nodes)),
            _ => false,
        }
    }

    fn solve(&mut self, parts: &[(NodeId, bool)]) -> Option<bool> {
        if self.conflicts_left == 0 {
            return None;
        }
        let limit = self.conflicts_left.min(CONFLICTS_PER_QUESTION);
        let mut solver = Solver::new(SolverOpts::default(), Budget { learnt: 0, limit });
        let mut encoded: HashMap<NodeId, Lit> = HashMap::default();
        // Each subject's atoms tied to the kinds of its values this question can tell apart: at
        // least one kind holds, and each kind decides every atom.
        let roots: Vec<NodeId> = parts.iter().map(|(f, _)| *f).collect();
        for (subject, atoms) in self.atoms_by_subject(&roots) {
            let lits: Vec<Lit> = atoms.iter().map(|_| Lit::new(solver.new_var_default(), true)).collect();
            let classes = self.classes.get(subject).copied().unwrap_or(0);
            let mut rows: Vec<Vec<bool>> = (0..classes).map(|c| self.row(&atoms, c)).collect();
            rows.sort_unstable();
            rows.dedup();
            let mut some_kind = Vec::with_capacity(rows.len());
            for row in rows {
                let kind = Lit::new(solver.new_var_default(), true);
                some_kind.push(kind);
                for (lit, t) in lits.iter().zip(row) {
                    solver.add_clause_reuse(&mut vec![!kind, if t { *lit } else { !*lit }]);
                }
            }
            solver.add_clause_reuse(&mut some_kind);
            for (atom, lit) in atoms.iter().zip(lits) {
                if let Some(node) = self.interned.get(&Node::Atom(*atom)) {
                    encoded.insert(*node, lit);
                }
            }
        }
        // A rule's condition pruned for this question (`prune_for`) is false and not encoded.
        let mut assumptions = Vec::new();
        for &(f, want) in parts {
            let lit = self.encode(f, &mut solver, &mut encoded);
            assumptions.push(if want { lit } else { !lit });
        }
        let result = solver.solve_limited(&assumptions);
        self.conflicts_left = self.conflicts_left.saturating_sub(solver.num_conflicts());
        if result == lbool::TRUE {
            Some(true)
        } else if result == lbool::FALSE {
            Some(false)
        } else {
            None
        }
    }

    /// Tseitin encoding of `f`'s cone, each node once (atoms on subjects are encoded already;
    /// free atoms get a variable of their own).
    fn encode(&mut self, f: NodeId, solver: &mut Solver<Budget>, encoded: &mut HashMap<NodeId, Lit>) -> Lit {
        // Post-order without recursion: a node is encoded once its parts are.
        let mut stack = vec![(f, false)];
        while let Some((n, ready)) = stack.pop() {
            if encoded.contains_key(&n) {
                continue;
            }
            if self.is_pruned(n) {
                let never = Lit::new(solver.new_var_default(), true);
                solver.add_clause_reuse(&mut vec![!never]);
                encoded.insert(n, never);
                continue;
            }
            let Some(node) = self.nodes.get(n) else { continue };
            let parts: &[NodeId] = match node {
                Node::Not(inner) => std::slice::from_ref(inner),
                Node::And(parts) | Node::Or(parts) => parts,
                _ => &[],
            };
            if !ready {
                stack.push((n, true));
                stack.extend(parts.iter().filter(|p| !encoded.contains_key(p)).map(|p| (*p, false)));
                continue;
            }
            let lits: Vec<Lit> = parts.iter().filter_map(|p| encoded.get(p).copied()).collect();
            let lit = match node {
                Node::Const(b) => {
                    let v = Lit::new(solver.new_var_default(), true);
                    solver.add_clause_reuse(&mut vec![if *b { v } else { !v }]);
                    v
                }
                Node::Atom(_) => Lit::new(solver.new_var_default(), true),
                Node::Not(_) => match lits.first() {
                    Some(l) => !*l,
                    None => continue,
                },
                Node::And(_) => {
                    let v = Lit::new(solver.new_var_default(), true);
                    let mut back = vec![v];
                    for l in &lits {
                        solver.add_clause_reuse(&mut vec![!v, *l]);
                        back.push(!*l);
                    }
                    solver.add_clause_reuse(&mut back);
                    v
                }
                Node::Or(_) => {
                    let v = Lit::new(solver.new_var_default(), true);
                    let mut forth = vec![!v];
                    for l in &lits {
                        solver.add_clause_reuse(&mut vec![v, !*l]);
                        forth.push(*l);
                    }
                    solver.add_clause_reuse(&mut forth);
                    v
                }
            };
            encoded.insert(n, lit);
        }
        encoded.get(&f).copied().unwrap_or_else(|| Lit::new(solver.new_var_default(), true))
    }
}

/// Some subject the two conditions both read has no class under which both may hold.
fn disjoint(a: &Profile, b: &Profile) -> bool {
    a.iter().any(|(subject, left)| {
        b.iter().find(|(s, _)| s == subject).is_some_and(|(_, right)| !left.iter().zip(right).any(|(x, y)| *x && *y))
    })
}

/// A condition no class of some subject leaves possible can never hold.
fn impossible(p: &Profile) -> bool {
    p.iter().any(|(_, classes)| !classes.iter().any(|c| *c))
}

fn holds(test: &Test, value: &Value) -> bool {
    match test {
        Test::Compare(op, c) => compare(value, *op, c),
        Test::In(values) => values.iter().any(|c| compare(value, CmpOp::Eq, c)),
        Test::Known => !matches!(value, Value::Unknown | Value::None),
        Test::Free => true,
    }
}

/// Values worth trying for a subject: unknown, every constant its atoms mention and their
/// neighbours, and every value of a finite type.
fn candidates(program: &Program, ty: Option<&Type>, constraints: &[(&Atom, bool)]) -> Vec<Value> {
    let mut out = vec![Value::None];
    match ty {
        Some(Type::Bool) => out.extend([Value::Bool(true), Value::Bool(false)]),
        Some(Type::Os) => out.extend((0..program.oses.len()).map(Value::Os)),
        Some(Type::Product) => out.extend((0..program.products.len()).map(Value::Product)),
        Some(Type::Enum(variants)) => out.extend((0..variants.len()).map(Value::Enum)),
        Some(Type::Status) => out.extend(Level::ALL.into_iter().map(Value::Level)),
        Some(Type::String) => out.push(Value::Str(String::from("\u{0}other"))),
        // Some known value, for `known(f)` when no comparison names a constant.
        Some(Type::Int) => out.push(Value::Int(0)),
        Some(Type::Date) => out.push(Value::Date(Date(0))),
        Some(Type::Version | Type::Build) => out.push(Value::Version(Version(vec![0]))),
        Some(Type::Kbs) => out.push(Value::Kbs(Vec::new())),
        _ => {}
    }
    for (atom, _) in constraints {
        let constants: Vec<&Value> = match &atom.test {
            Test::Compare(_, c) => vec![c],
            Test::In(values) => values.iter().collect(),
            _ => Vec::new(),
        };
        for c in constants {
            out.extend(neighbours(c));
        }
    }
    out
}

fn neighbours(c: &Value) -> Vec<Value> {
    match c {
        Value::Int(n) => vec![Value::Int(n.saturating_sub(1)), c.clone(), Value::Int(n.saturating_add(1))],
        Value::Date(d) => vec![Value::Date(Date(d.0 - 1)), c.clone(), Value::Date(Date(d.0 + 1))],
        Value::Version(v) => {
            let mut out = vec![c.clone()];
            let mut longer = v.0.clone();
            longer.push(u32::MAX);
            out.push(Value::Version(Version(longer)));
            if let Some((last, head)) = v.0.split_last() {
                let mut up = head.to_vec();
                up.push(last.saturating_add(1));
                out.push(Value::Version(Version(up)));
            }
            // The largest version below `v`: lower the last non-zero part, raise all after it.
            if let Some(k) = v.0.iter().rposition(|p| *p > 0) {
                let mut down = v.0.clone();
                if let Some(part) = down.get_mut(k) {
                    *part -= 1;
                }
                down.iter_mut().skip(k + 1).for_each(|p| *p = u32::MAX);
                out.push(Value::Version(Version(down)));
            }
            out
        }
        other => vec![other.clone()],
    }
}
