//! Lints over a checked program: facts never read (P0204), OS versions no rule covers (P0203),
//! rules reading `status` before a rule that can still change it (P0205), declarations never
//! used (P0206), requirements on facts whose absence the rules do not read (P0208). All are
//! warnings: the program means something, perhaps not what was meant.

use crate::ast;
use crate::diagnostic::Diagnostic;
use crate::interp::Truth;
use crate::ir::{Expr, HostValue, Need, Program, Segment, Value};

pub fn lint(program: &Program, file: &ast::File, bundle: &crate::bundle::Bundle) -> Vec<Diagnostic> {
    // A library (no advisory, no rules) declares for others: nothing in it is used there.
    if program.advisory.id.is_empty() && program.rules.is_empty() {
        return Vec::new();
    }
    let mut out = lint_all(program, file);
    // A file that uses a shared file is told about its own declarations only: the shared file
    // declares more than any one advisory reads.
    out.retain(|d| !matches!(d.code, "P0203" | "P0204" | "P0206") || bundle.in_main(d.primary.span));
    unused_uses(file, bundle, &mut out);
    out
}

/// P0210: a `use` whose file (with the files it uses) declares nothing this file names.
fn unused_uses(file: &ast::File, bundle: &crate::bundle::Bundle, out: &mut Vec<Diagnostic>) {
    let main = bundle.text_of(bundle.main());
    let words: std::collections::HashSet<&str> =
        main.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')).filter(|w| !w.is_empty()).collect();
    let named = |w: &str| words.contains(w) || words.iter().any(|x| x.starts_with(&format!("{w}.")));
    for (span, used) in bundle.uses.iter().filter(|(span, _)| bundle.in_main(*span)) {
        // The used file and every file it uses in turn.
        let mut reach: Vec<&str> = vec![used.as_str()];
        let mut k = 0;
        while let Some(name) = reach.get(k).copied() {
            k += 1;
            let Some(f) = bundle.files.iter().find(|f| f.name == name) else { continue };
            for (s, next) in &bundle.uses {
                if bundle.file_at(s.start) == f && !reach.contains(&next.as_str()) {
                    reach.push(next);
                }
            }
        }
        let in_reach = |s: ast::Span| reach.iter().any(|n| bundle.file_at(s.start).name == *n);
        let mut used_here = false;
        for item in &file.items {
            let names: Vec<String> = match item {
                ast::Item::Decl(d) if in_reach(d.span) => vec![d.id.name.clone()],
                ast::Item::Series(s) if in_reach(s.span) => {
                    std::iter::once(s.id.name.clone()).chain(s.entries.iter().map(|e| e.kb.raw.clone())).collect()
                }
                ast::Item::Let(l) if in_reach(l.span) => vec![l.name.name.clone()],
                ast::Item::Facts(f) if in_reach(f.span) => f.fields.iter().map(|x| x.name.name.clone()).collect(),
                // Roles bound there serve `host.*` here.
                ast::Item::Host(h) if in_reach(h.span) && !h.bindings.is_empty() => vec!["host".into()],
                _ => Vec::new(),
            };
            if names.iter().any(|n| named(n)) {
                used_here = true;
                break;
            }
        }
        if !used_here {
            out.push(
                Diagnostic::warning(
                    "P0210",
                    format!("`{used}` is used but nothing it declares is named here"),
                    *span,
                    "unused",
                )
                .with_help("remove the `use`, or name what you need from it"),
            );
        }
    }
}

fn lint_all(program: &Program, file: &ast::File) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let spans = Spans::of(file);
    unused_facts(program, &spans, &mut out);
    uncovered_oses(program, &spans, &mut out);
    status_read_too_early(program, &mut out);
    unused_declarations(program, &spans, &mut out);
    unread_absence(program, &spans, &mut out);
    unreleased_requirements(program, &mut out);
    out
}

/// P0209: a rule requires an update that comes out (for some OS) only after the advisory was
/// published, and no condition or message reads when it comes out. A host judged in between
/// gets no finding for it (an update not yet out is never asked for) and nothing says it is
/// coming.
fn unreleased_requirements(program: &Program, out: &mut Vec<Diagnostic>) {
    if program.host.evaluation_date.is_none() {
        return;
    }
    let mut told: Vec<usize> = Vec::new();
    for rule in &program.rules {
        let mut exprs: Vec<&Expr> = vec![&rule.when];
        exprs.extend(rule.otherwise.as_ref().map(|(c, _)| c));
        exprs.extend(rule.message.iter().filter_map(|s| if let Segment::Value(e) = s { Some(e) } else { None }));
        for e in exprs {
            walk(e, &mut |x| {
                if let Expr::Released(u) | Expr::ReleaseDate(u) = x {
                    told.push(*u);
                }
            });
        }
    }
    let published = program.advisory.published;
    for rule in &program.rules {
        for requirement in &rule.require {
            let Need::Updates(ids) = &requirement.need else { continue };
            if ids.iter().any(|u| told.contains(u)) {
                continue;
            }
            let updates: Vec<&crate::ir::Update> = ids.iter().filter_map(|u| program.updates.get(*u)).collect();
            // The group is due for an OS once its first update for that OS is out.
            let due = |os: Option<usize>| {
                updates.iter().filter(|u| os.is_none_or(|o| u.applies_to(o))).filter_map(|u| u.released_on(os)).min()
            };
            let oses: Vec<Option<usize>> = std::iter::once(None).chain((0..program.oses.len()).map(Some)).collect();
            let late = oses
                .into_iter()
                .filter_map(|os| Some((os, due(os)?)))
                .filter(|(_, d)| published.is_none_or(|p| *d > p))
                .max_by_key(|(_, d)| *d);
            let Some((os, date)) = late else { continue };
            let kbs: Vec<String> = updates.iter().map(|u| u.kb.to_string()).collect();
            let first = kbs.first().cloned().unwrap_or_default();
            let on = os.and_then(|o| program.oses.get(o)).map_or_else(String::new, |o| format!(" on {}", o.name));
            let since = published.map_or_else(String::new, |p| format!(", after the advisory's publication ({p})"));
            out.push(
                Diagnostic::warning(
                    "P0209",
                    format!("rule `{}` requires {} before it is out: {date}{on}{since}", rule.name, kbs.join(" or ")),
                    rule.span,
                    "requires it here",
                )
                .with_help(format!(
                    "a host judged before then gets no finding for it (an update not yet out is never asked for); to tell it what is coming, add a rule `when ... and not released({first})` with a notice naming `{{release_date({first})}}`"
                )),
            );
        }
    }
}

/// Whether a condition holds only when `known(fact)` does (a conjunct of it).
fn asks_known(e: &Expr, fact: usize) -> bool {
    match e {
        Expr::Known(inner) => **inner == Expr::Field(fact),
        Expr::And(parts) => parts.iter().any(|p| asks_known(p, fact)),
        _ => false,
    }
}

/// P0208: a requirement on an optional fact that says nothing of `null`. A host that leaves the
/// fact out leaves the requirement undetermined: no finding, and an `unknown` status whenever
/// the rule's status would win. Say what absence means (`= false`, `null = false`) when the
/// collector's silence is an answer; otherwise the warning states what unknown will do.
fn unread_absence(program: &Program, spans: &Spans, out: &mut Vec<Diagnostic>) {
    let mut warned: Vec<usize> = Vec::new();
    for rule in &program.rules {
        for need in rule.require.iter().flat_map(|q| q.need.alternatives()) {
            let fact = match need {
                Need::Certificate(c) => program.certificates.get(*c).and_then(|c| c.fact),
                Need::Component { component, .. } => program.components.get(*component).map(|c| c.fact),
                Need::Setting { setting, .. } => program.settings.get(*setting).map(|s| s.fact),
                Need::Action(a) => program.actions.get(*a).and_then(|a| a.fact),
                Need::Updates(_) | Need::AnyOf(_) => None,
            };
            let Some(f) = fact else { continue };
            let Some(field) = program.fields.get(f) else { continue };
            if field.presence != crate::ir::Presence::Optional
                || field.null.is_some()
                || warned.contains(&f)
                || asks_known(&rule.when, f)
            {
                continue;
            }
            warned.push(f);
            let dotted = field.dotted();
            out.push(
                Diagnostic::warning(
                    "P0208",
                    format!("rule `{}` requires what optional fact `{dotted}` says, and nothing says what its absence means", rule.name),
                    rule.span,
                    "requires it here",
                )
                .with_secondary(spans.field(&dotted), "optional, no `null =` reading")
                .with_help(format!(
                    "a host that leaves `{dotted}` out gets no finding from this rule and, when the rule's status would win, the status `unknown`; if the collector's silence means something, say it: `null = false` (looked, not found) or a default (`= false`)"
                )),
            );
        }
    }
}

/// Where each declaration is, by id (the IR keeps indexes, the AST keeps spans).
struct Spans {
    fields: Vec<(String, ast::Span)>,
    decls: Vec<(ast::DeclKind, String, ast::Span)>,
}

impl Spans {
    fn of(file: &ast::File) -> Spans {
        let mut fields = Vec::new();
        let mut decls = Vec::new();
        for item in &file.items {
            match item {
                ast::Item::Facts(f) => collect_fields(&f.fields, "", &mut fields),
                ast::Item::Decl(d) => decls.push((d.kind, d.id.name.to_ascii_uppercase(), d.id.span)),
                ast::Item::Series(series) => decls.extend(
                    series.entries.iter().map(|e| (ast::DeclKind::Update, e.kb.raw.to_ascii_uppercase(), e.kb.span)),
                ),
                _ => {}
            }
        }
        Spans { fields, decls }
    }

    fn field(&self, dotted: &str) -> ast::Span {
        self.fields.iter().find(|(n, _)| n == dotted).map(|(_, s)| *s).unwrap_or_default()
    }

    fn decl(&self, kind: ast::DeclKind, id: &str) -> ast::Span {
        let id = id.to_ascii_uppercase();
        self.decls.iter().find(|(k, n, _)| *k == kind && *n == id).map(|(_, _, s)| *s).unwrap_or_default()
    }
}

fn collect_fields(fields: &[ast::Field], prefix: &str, out: &mut Vec<(String, ast::Span)>) {
    for f in fields {
        let dotted = if prefix.is_empty() { f.name.name.clone() } else { format!("{prefix}.{}", f.name.name) };
        if let ast::FieldKind::Group(children) = &f.kind {
            collect_fields(children, &dotted, out);
        }
        out.push((dotted, f.name.span));
    }
}

/// Calls `f` on every expression a program evaluates: rule conditions and messages, severity
/// conditions and the facts' own conditions.
fn each_expr(program: &Program, f: &mut dyn FnMut(&Expr)) {
    for field in &program.fields {
        if let Some(c) = &field.condition {
            walk(c, f);
        }
    }
    for rule in &program.rules {
        walk(&rule.when, f);
        for requirement in &rule.require {
            walk(&requirement.met, f);
        }
        if let Some((c, _)) = &rule.otherwise {
            walk(c, f);
        }
        for seg in &rule.message {
            if let Segment::Value(e) = seg {
                walk(e, f);
            }
        }
    }
}

pub(crate) fn walk(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(e);
    match e {
        Expr::Not(inner) | Expr::Known(inner) | Expr::Definitely(inner) | Expr::Possibly(inner) => walk(inner, f),
        Expr::And(parts) | Expr::Or(parts) => parts.iter().for_each(|p| walk(p, f)),
        Expr::Compare(l, _, r) => {
            walk(l, f);
            walk(r, f);
        }
        Expr::In(l, _) => walk(l, f),
        Expr::Const(_)
        | Expr::Field(_)
        | Expr::Host(_)
        | Expr::Status
        | Expr::Patched(_)
        | Expr::Released(_)
        | Expr::ReleaseDate(_) => {}
    }
}

fn unused_facts(program: &Program, spans: &Spans, out: &mut Vec<Diagnostic>) {
    let mut used = vec![false; program.fields.len()];
    let h = &program.host;
    for role in [h.product, h.product_version, h.platform, h.os_version, h.os_role, h.os_edition, h.esu, h.hotfixes]
        .into_iter()
        .flatten()
    {
        if let Some(u) = used.get_mut(role) {
            *u = true;
        }
    }
    let evaluation_date = h.evaluation_date;
    // Alternatives leave out the updates not out yet at the evaluation date.
    let dated_alternatives = program.rules.iter().flat_map(|r| &r.require).any(|q| {
        matches!(q.need, Need::AnyOf(_))
            && q.need
                .update_ids()
                .iter()
                .filter_map(|u| program.updates.get(*u))
                .any(|u| u.released.is_some() || !u.released_for.is_empty())
    });
    if dated_alternatives && let Some(u) = evaluation_date.and_then(|f| used.get_mut(f)) {
        *u = true;
    }
    each_expr(program, &mut |e| {
        let read = match e {
            Expr::Field(i) => Some(*i),
            // An update's release, and the host's support, are compared with the evaluation date.
            Expr::Released(_) | Expr::Host(HostValue::InSupport) => evaluation_date,
            _ => None,
        };
        if let Some(u) = read.and_then(|i| used.get_mut(i)) {
            *u = true;
        }
    });
    for (field, used) in program.fields.iter().zip(used) {
        if !used {
            let dotted = field.dotted();
            out.push(
                Diagnostic::warning(
                    "P0204",
                    format!("fact `{dotted}` is declared but never used"),
                    spans.field(&dotted),
                    "never read",
                )
                .with_help("read it in a rule or a message, or remove it from `facts`"),
            );
        }
    }
}

fn uncovered_oses(program: &Program, spans: &Spans, out: &mut Vec<Diagnostic>) {
    let mut covered = vec![false; program.oses.len()];
    let mut mark = |v: &Value| {
        if let Value::Os(i) = v
            && let Some(c) = covered.get_mut(*i)
        {
            *c = true;
        }
    };
    // A rule on the host's lifecycle (`host.in_support`, its dates) speaks of every OS.
    let mut every = false;
    let mut reads_os = Vec::new();
    for rule in &program.rules {
        let mut reads = false;
        walk(&rule.when, &mut |e| match e {
            Expr::Const(v) => mark(v),
            Expr::In(_, values) => values.iter().for_each(&mut mark),
            Expr::Host(HostValue::InSupport | HostValue::EndOfSupport | HostValue::EsuUntil) => every = true,
            Expr::Host(HostValue::Os) => reads = true,
            _ => {}
        });
        if reads {
            reads_os.push(&rule.when);
        }
    }
    if every {
        covered.iter_mut().for_each(|c| *c = true);
    }
    // A rule that reads `host.os` covers every OS it can hold for, named or not (`not host.os
    // in listed` speaks of every OS outside the list).
    for (os, covered) in covered.iter_mut().enumerate() {
        if !*covered {
            *covered = reads_os.iter().any(|when| with_os(when, os) != Truth::False);
        }
    }
    for (os, covered) in program.oses.iter().zip(covered) {
        if !covered {
            out.push(
                Diagnostic::warning(
                    "P0203",
                    format!("os `{}` is declared but no rule covers it", os.id),
                    spans.decl(ast::DeclKind::Os, &os.id),
                    "covered by no rule",
                )
                .with_help(format!(
                    "name `{}` in a rule's `when` (`host.os == {}`), even if only to say it needs nothing",
                    os.id, os.id
                )),
            );
        }
    }
}

/// A condition's truth where `host.os` is `os` and nothing else is known (Kleene's logic:
/// unknown when other facts decide it).
fn with_os(e: &Expr, os: usize) -> Truth {
    let is = |v: &Value| matches!(v, Value::Os(i) if *i == os);
    match e {
        Expr::Compare(l, op, r) => match (l.as_ref(), r.as_ref(), op) {
            (Expr::Host(HostValue::Os), Expr::Const(v), ast::CmpOp::Eq)
            | (Expr::Const(v), Expr::Host(HostValue::Os), ast::CmpOp::Eq) => Truth::of(is(v)),
            (Expr::Host(HostValue::Os), Expr::Const(v), ast::CmpOp::Ne)
            | (Expr::Const(v), Expr::Host(HostValue::Os), ast::CmpOp::Ne) => Truth::of(!is(v)),
            _ => Truth::Unknown,
        },
        Expr::In(l, values) if matches!(l.as_ref(), Expr::Host(HostValue::Os)) => Truth::of(values.iter().any(is)),
        Expr::Known(inner) if matches!(inner.as_ref(), Expr::Host(HostValue::Os)) => Truth::True,
        Expr::Not(inner) => !with_os(inner, os),
        Expr::Definitely(inner) | Expr::Possibly(inner) => with_os(inner, os),
        // `and` is the minimum, `or` the maximum (`Truth`'s order).
        Expr::And(parts) => parts.iter().map(|p| with_os(p, os)).min().unwrap_or(Truth::True),
        Expr::Or(parts) => parts.iter().map(|p| with_os(p, os)).max().unwrap_or(Truth::False),
        _ => Truth::Unknown,
    }
}

fn status_read_too_early(program: &Program, out: &mut Vec<Diagnostic>) {
    for (i, rule) in program.rules.iter().enumerate() {
        if !super::exprs::reads_status(&rule.when) {
            continue;
        }
        let later = program
            .rules
            .iter()
            .skip(i + 1)
            .find(|r| r.severity.is_status() || r.otherwise.as_ref().is_some_and(|(_, l)| l.is_status()));
        if let Some(later) = later {
            out.push(
                Diagnostic::warning("P0205", format!("rule `{}` reads `status` before rule `{}` can change it", rule.name, later.name), rule.span, "reads `status`")
                    .with_secondary(later.span, "this later rule can still change the status")
                    .with_help("`status` is the status given by the rules above; move this rule below every rule that sets a status"),
            );
        }
    }
}

fn unused_declarations(program: &Program, spans: &Spans, out: &mut Vec<Diagnostic>) {
    let mut used_updates = vec![false; program.updates.len()];
    let mut used_certs = vec![false; program.certificates.len()];
    let mut used_components = vec![false; program.components.len()];
    let mut used_settings = vec![false; program.settings.len()];
    let mut used_actions = vec![false; program.actions.len()];
    for rule in &program.rules {
        for need in rule.require.iter().flat_map(|q| q.need.alternatives()) {
            let slot = match need {
                Need::Updates(ids) => {
                    ids.iter().for_each(|id| used_updates.get_mut(*id).into_iter().for_each(|u| *u = true));
                    None
                }
                Need::Certificate(c) => used_certs.get_mut(*c),
                Need::Component { component, .. } => used_components.get_mut(*component),
                Need::Setting { setting, .. } => used_settings.get_mut(*setting),
                Need::Action(a) => used_actions.get_mut(*a),
                Need::AnyOf(_) => None,
            };
            if let Some(u) = slot {
                *u = true;
            }
        }
        walk(&rule.when, &mut |e| {
            if let Expr::Patched(id) = e
                && let Some(u) = used_updates.get_mut(*id)
            {
                *u = true;
            }
        });
        if let Some(c) = rule.certificate.and_then(|c| used_certs.get_mut(c)) {
            *c = true;
        }
    }
    // A later update that supersedes a used one is used: it satisfies the requirement.
    let snapshot = used_updates.clone();
    for (i, update) in program.updates.iter().enumerate() {
        let supersedes_used =
            program.updates.iter().zip(&snapshot).any(|(u, used)| *used && u.superseded_by.contains(&update.kb));
        if supersedes_used && let Some(u) = used_updates.get_mut(i) {
            *u = true;
        }
    }
    for (update, used) in program.updates.iter().zip(used_updates) {
        if !used {
            out.push(
                Diagnostic::warning(
                    "P0206",
                    format!("update `{}` is declared but no rule requires it", update.kb),
                    spans.decl(ast::DeclKind::Update, &update.kb.to_string()),
                    "never required",
                )
                .with_help("require it in a rule (`require KB...`), list it in a `supersedes`, or remove it"),
            );
        }
    }
    let others = program
        .components
        .iter()
        .zip(used_components)
        .map(|(c, used)| (ast::DeclKind::Component, &c.id, used))
        .chain(program.settings.iter().zip(used_settings).map(|(s, used)| (ast::DeclKind::Setting, &s.id, used)))
        .chain(program.actions.iter().zip(used_actions).map(|(s, used)| (ast::DeclKind::Action, &s.id, used)));
    for (kind, id, used) in others {
        if !used {
            let keyword = kind.keyword();
            out.push(
                Diagnostic::warning(
                    "P0206",
                    format!("{keyword} `{id}` is declared but no rule requires it"),
                    spans.decl(kind, id),
                    "never required",
                )
                .with_help(format!("require it in a rule (`require {keyword} {id} ...`), or remove it")),
            );
        }
    }
    for (cert, used) in program.certificates.iter().zip(used_certs) {
        if !used {
            out.push(
                Diagnostic::warning(
                    "P0206",
                    format!("certificate `{}` is declared but no rule asks for it", cert.id),
                    spans.decl(ast::DeclKind::Certificate, &cert.id),
                    "never used",
                )
                .with_help("name it in a rule with `certificate ...`, or remove it"),
            );
        }
    }
}
