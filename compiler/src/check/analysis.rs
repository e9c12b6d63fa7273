//! Satisfiability lints: rules that can never fire (P0200), rules another rule makes redundant
//! (P0201), and pairs of rules that can fire together with contradictory outcomes (P0202).
//!
//! A rule's *effective condition* is its `when` plus "none of its required updates is patched".
//! Conditions become boolean formulas over atoms (`host.os == win11`, `as_of >= 2023-01-10`,
//! `patched(KB...)`). `status` is replaced by what it means — a formula over the rules above —
//! so a rule that reads it is judged precisely. A DPLL search assigns atoms; after each step a
//! *theory check* asks whether some value of each subject (a fact or host value) satisfies every
//! comparison assigned so far, trying the constants the atoms mention and their neighbours.
//!
//! The analysis is an over-approximation: facts and host values are independent here (it does
//! not know that `host.os` follows from `os.version`), and `patched(...)` is a free atom. So
//! "can never fire" is exact, while "can fire together" may be reported for a combination no
//! host has. A step budget bounds the search; when it runs out the pair is not reported.

use crate::ast::CmpOp;
use crate::diagnostic::Diagnostic;
use crate::interp::compare;
use crate::ir::{Expr, Level, Program, Rule, Type, Value};
use crate::value::{Date, Version};
use std::collections::HashMap;

/// The most search steps one question may take.
const BUDGET: usize = 200_000;

pub fn analyse(program: &Program) -> Vec<Diagnostic> {
    let mut a = Analysis::new(program);
    let effective: Vec<F> = (0..program.rules.len()).map(|i| a.effective(i)).collect();
    let mut out = Vec::new();
    let alone: Vec<Option<bool>> = effective.iter().map(|f| a.satisfiable(&[(f, true)])).collect();
    for (rule, condition) in program.rules.iter().zip(&alone) {
        if *condition == Some(false) {
            out.push(
                Diagnostic::warning("P0200", format!("rule `{}` can never fire", rule.name), rule.span, "its condition never holds")
                    .with_help("no host satisfies every part of its `when` (with `status`, the rules above); look for two parts that exclude each other"),
            );
        }
    }
    let rules: Vec<(&Rule, &F)> = program.rules.iter().zip(&effective).collect();
    for (j, &(later, later_condition)) in rules.iter().enumerate() {
        for &(earlier, earlier_condition) in rules.iter().take(j) {
            let both = [(earlier_condition, true), (later_condition, true)];
            if contradictory(earlier, later) && a.satisfiable(&both) == Some(true) {
                out.push(contradiction(earlier, later));
            } else if same_outcome(earlier, later) {
                let later_alone = [(later_condition, true), (earlier_condition, false)];
                if alone.get(j) == Some(&Some(true)) && a.satisfiable(&later_alone) == Some(false) {
                    out.push(
                        Diagnostic::warning(
                            "P0201",
                            format!("rule `{}` is redundant: `{}` always fires with it", later.name, earlier.name),
                            later.span,
                            "adds nothing",
                        )
                        .with_secondary(earlier.span, "fires whenever the rule below does, with the same outcome")
                        .with_help("remove it, or narrow the rule above"),
                    );
                }
            }
        }
    }
    out
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

/// A boolean formula over atoms.
#[derive(Clone, Debug, PartialEq)]
enum F {
    Const(bool),
    Atom(usize),
    Not(Box<F>),
    And(Vec<F>),
    Or(Vec<F>),
}

impl F {
    fn and(parts: Vec<F>) -> F {
        F::And(parts)
    }

    fn not(f: F) -> F {
        F::Not(Box::new(f))
    }

    /// Three-valued evaluation under a partial assignment.
    fn eval(&self, assignment: &[Option<bool>]) -> Option<bool> {
        match self {
            F::Const(b) => Some(*b),
            F::Atom(a) => assignment.get(*a).copied().flatten(),
            F::Not(inner) => inner.eval(assignment).map(|b| !b),
            F::And(parts) => {
                let mut all = Some(true);
                for p in parts {
                    match p.eval(assignment) {
                        Some(false) => return Some(false),
                        None => all = None,
                        Some(true) => {}
                    }
                }
                all
            }
            F::Or(parts) => {
                let mut any = Some(false);
                for p in parts {
                    match p.eval(assignment) {
                        Some(true) => return Some(true),
                        None => any = None,
                        Some(false) => {}
                    }
                }
                any
            }
        }
    }

    fn atoms(&self, out: &mut Vec<usize>) {
        match self {
            F::Const(_) => {}
            F::Atom(a) => {
                if !out.contains(a) {
                    out.push(*a);
                }
            }
            F::Not(inner) => inner.atoms(out),
            F::And(parts) | F::Or(parts) => parts.iter().for_each(|p| p.atoms(out)),
        }
    }
}

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

struct Analysis<'p> {
    program: &'p Program,
    atoms: Vec<Atom>,
    index: HashMap<String, usize>,
    subjects: HashMap<String, usize>,
    effective: HashMap<usize, F>,
}

impl<'p> Analysis<'p> {
    fn new(program: &'p Program) -> Self {
        Analysis {
            program,
            atoms: Vec::new(),
            index: HashMap::new(),
            subjects: HashMap::new(),
            effective: HashMap::new(),
        }
    }

    /// `when` and "none of the required updates is patched".
    fn effective(&mut self, rule: usize) -> F {
        if let Some(f) = self.effective.get(&rule) {
            return f.clone();
        }
        let Some(r) = self.program.rules.get(rule) else { return F::Const(false) };
        let when = self.formula(&r.when, rule);
        let f = if r.require.is_empty() {
            when
        } else {
            let unmet: Vec<F> = r.require.iter().map(|q| F::not(self.formula(&q.met, rule))).collect();
            F::and(vec![when, F::Or(unmet)])
        };
        self.effective.insert(rule, f.clone());
        f
    }

    fn atom(&mut self, subject: String, ty: Option<Type>, test: Test) -> F {
        let key = format!("{subject}|{test:?}");
        if let Some(i) = self.index.get(&key) {
            return F::Atom(*i);
        }
        let i = self.atoms.len();
        let next = self.subjects.len();
        let subject = *self.subjects.entry(subject).or_insert(next);
        self.atoms.push(Atom { subject, ty, test });
        self.index.insert(key, i);
        F::Atom(i)
    }

    fn subject_type(&self, e: &Expr) -> Option<Type> {
        match e {
            Expr::Field(i) => self.program.fields.get(*i).map(|f| f.ty.clone()),
            Expr::Host(h) => Some(h.ty()),
            _ => None,
        }
    }

    fn formula(&mut self, e: &Expr, rule: usize) -> F {
        match e {
            Expr::Const(Value::Bool(b)) => F::Const(*b),
            Expr::Not(inner) => F::not(self.formula(inner, rule)),
            // The analyses are two-valued: some host makes the inner condition true or false.
            Expr::Definitely(inner) | Expr::Possibly(inner) => self.formula(inner, rule),
            Expr::And(parts) => F::And(parts.iter().map(|p| self.formula(p, rule)).collect()),
            Expr::Or(parts) => F::Or(parts.iter().map(|p| self.formula(p, rule)).collect()),
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
                    self.atom(format!("{subject:?}"), ty, Test::Compare(*op, v.clone()))
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
                    self.atom(format!("{subject:?}"), ty, Test::In(values.clone()))
                }
            },
            Expr::Known(inner) => {
                let ty = self.subject_type(inner);
                self.atom(format!("{inner:?}"), ty, Test::Known)
            }
            Expr::Field(_) | Expr::Host(_) => {
                let ty = self.subject_type(e);
                self.atom(format!("{e:?}"), ty, Test::Compare(CmpOp::Eq, Value::Bool(true)))
            }
            Expr::Patched(u) => self.atom(format!("patched#{u}"), None, Test::Free),
            Expr::Released(u) => self.atom(format!("released#{u}"), None, Test::Free),
            Expr::ReleaseDate(_) => F::Const(false),
            Expr::Const(_) | Expr::Status => F::Const(false),
        }
    }

    /// "the status given by the rules above `rule` is one of `set`".
    fn status_in(&mut self, set: &[Level], rule: usize) -> F {
        let statuses: Vec<Level> = Level::ALL.into_iter().filter(|l| l.is_status()).collect();
        let mut options = Vec::new();
        for (k, level) in statuses.iter().enumerate() {
            if !set.contains(level) {
                continue;
            }
            let at_least = self.status_at_least(*level, rule);
            let above = match statuses.get(k + 1) {
                Some(next) => F::not(self.status_at_least(*next, rule)),
                None => F::Const(true),
            };
            options.push(F::and(vec![at_least, above]));
        }
        F::Or(options)
    }

    /// Some rule above `rule` fired with a status at or above `level`.
    fn status_at_least(&mut self, level: Level, rule: usize) -> F {
        if level == Level::Ready {
            return F::Const(true);
        }
        let mut options = Vec::new();
        for earlier in 0..rule {
            let Some(r) = self.program.rules.get(earlier) else { continue };
            let (severity, otherwise) = (r.severity, r.otherwise.clone());
            let fired = self.effective(earlier);
            match otherwise {
                Some((cond, alt)) => {
                    let c = self.formula(&cond, earlier);
                    if severity.is_status() && severity >= level {
                        options.push(F::and(vec![fired.clone(), c.clone()]));
                    }
                    if alt.is_status() && alt >= level {
                        options.push(F::and(vec![fired, F::not(c)]));
                    }
                }
                None if severity.is_status() && severity >= level => options.push(fired),
                None => {}
            }
        }
        F::Or(options)
    }

    /// `Some(true)` if some assignment satisfies `f` and the theory, `Some(false)` if none does,
    /// `None` if the budget ran out.
    /// Whether some assignment gives each formula the truth value paired with it.
    fn satisfiable(&mut self, parts: &[(&F, bool)]) -> Option<bool> {
        let mut order = Vec::new();
        parts.iter().for_each(|(f, _)| f.atoms(&mut order));
        let mut assignment = vec![None; self.atoms.len()];
        let mut budget = BUDGET;
        self.search(parts, &order, 0, &mut assignment, &mut budget)
    }

    fn search(
        &self,
        f: &[(&F, bool)],
        order: &[usize],
        next: usize,
        assignment: &mut Vec<Option<bool>>,
        budget: &mut usize,
    ) -> Option<bool> {
        if *budget == 0 {
            return None;
        }
        *budget -= 1;
        let mut all = Some(true);
        for (part, want) in f {
            match part.eval(assignment).map(|v| v == *want) {
                Some(false) => return Some(false),
                None => all = None,
                Some(true) => {}
            }
        }
        if all.is_some() {
            return all;
        }
        let Some(&atom) = order.get(next) else { return Some(false) };
        let mut out_of_budget = false;
        for value in [true, false] {
            if let Some(slot) = assignment.get_mut(atom) {
                *slot = Some(value);
            }
            if self.consistent(atom, assignment) {
                match self.search(f, order, next + 1, assignment, budget) {
                    Some(true) => {
                        if let Some(slot) = assignment.get_mut(atom) {
                            *slot = None;
                        }
                        return Some(true);
                    }
                    None => out_of_budget = true,
                    Some(false) => {}
                }
            }
        }
        if let Some(slot) = assignment.get_mut(atom) {
            *slot = None;
        }
        if out_of_budget { None } else { Some(false) }
    }

    /// Whether some value of `changed`'s subject meets every assigned atom on that subject.
    fn consistent(&self, changed: usize, assignment: &[Option<bool>]) -> bool {
        let Some(atom) = self.atoms.get(changed) else { return true };
        if matches!(atom.test, Test::Free) {
            return true;
        }
        let constraints: Vec<(&Atom, bool)> = self
            .atoms
            .iter()
            .zip(assignment)
            .filter_map(|(a, v)| v.map(|v| (a, v)))
            .filter(|(a, _)| a.subject == atom.subject && !matches!(a.test, Test::Free))
            .collect();
        candidates(self.program, atom.ty.as_ref(), &constraints)
            .iter()
            .any(|value| constraints.iter().all(|(a, want)| holds(&a.test, value) == *want))
    }
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
