//! Conditions, `let`s and rules: name resolution and types of expressions.

use super::decls::literal_kind_name;
use super::{Checker, Scope};
use crate::ast::{self, CmpOp, ExprKind, LitKind, Span};
use crate::diagnostic::Diagnostic;
use crate::ir::{self, Expr, HostValue, Level, Type, Value};

/// The most groups one `require` clause may have (a module keeps a rule's unmet requirements as
/// the bits of one 32-bit word).
const MAX_REQUIREMENTS: usize = 32;

/// The built-in functions.
const FUNCTIONS: [&str; 6] = ["patched", "known", "definitely", "possibly", "released", "release_date"];

impl<'a> Checker<'a> {
    /// Lowers a condition: an expression of type `bool`.
    pub(super) fn condition(&mut self, e: &ast::Expr, scope: Scope) -> Option<Expr> {
        let (expr, ty) = self.expr(e, scope, None)?;
        if ty != Type::Bool {
            let help = match ty {
                Type::Bool => "",
                Type::Kbs => "test installed updates with `patched(KB...)`",
                _ => "compare it with a value (`==`, `!=`, `<`, `>=`, ...) or test it with `in [...]`",
            };
            self.type_error(e.span, "a condition", &format!("a value of type `{}`", ty.name()), help);
            return None;
        }
        Some(expr)
    }

    /// Lowers an expression and infers its type. `expected` is the type the context wants; it
    /// decides what a bare name (`win11`, `server`) or a literal means.
    fn expr(&mut self, e: &ast::Expr, scope: Scope, expected: Option<&Type>) -> Option<(Expr, Type)> {
        match &e.kind {
            ExprKind::Or(parts) | ExprKind::And(parts) => {
                let lowered: Vec<Expr> = parts.iter().filter_map(|p| self.condition(p, scope)).collect();
                if lowered.len() != parts.len() {
                    return None;
                }
                let expr = if matches!(e.kind, ExprKind::Or(_)) { Expr::Or(lowered) } else { Expr::And(lowered) };
                Some((expr, Type::Bool))
            }
            ExprKind::Not(inner) => Some((Expr::Not(Box::new(self.condition(inner, scope)?)), Type::Bool)),
            ExprKind::Paren(inner) => self.expr(inner, scope, expected),
            ExprKind::Compare(left, op, right) => self.compare(left, *op, right, scope),
            ExprKind::In(left, set) => self.membership(left, set, scope),
            ExprKind::Call(name, args) => self.call(name, args, e.span, scope),
            ExprKind::List(_) => {
                self.type_error(e.span, "a condition or a value", "a list", "a list goes after `in`: `x in [a, b]`");
                None
            }
            ExprKind::Literal(lit) => self.literal_expr(lit, expected),
            ExprKind::Path(path) => self.path(path, scope, expected),
        }
    }

    fn literal_expr(&mut self, lit: &ast::Literal, expected: Option<&Type>) -> Option<(Expr, Type)> {
        let ty = match (lit.kind, expected) {
            (_, Some(t)) if !matches!(t, Type::Kbs | Type::Os | Type::Update | Type::Status) => t.clone(),
            (LitKind::Bool, _) => Type::Bool,
            (LitKind::None, _) => {
                self.type_error(
                    lit.span,
                    "a value",
                    "`none` on its own",
                    "compare a fact with it: `product.id == none`",
                );
                return None;
            }
            (LitKind::Int, _) => Type::Int,
            (LitKind::String, _) => Type::String,
            (LitKind::Date, _) => Type::Date,
            (LitKind::Version, _) => Type::Version,
            (LitKind::Kb, _) => {
                self.type_error(
                    lit.span,
                    "a condition or a value",
                    "an update id",
                    "test an update with `patched(KB...)`",
                );
                return None;
            }
        };
        let value = self.literal_as(lit, &ty)?;
        Some((Expr::Const(value), ty))
    }

    fn path(&mut self, path: &ast::Path, scope: Scope, expected: Option<&Type>) -> Option<(Expr, Type)> {
        let dotted = path.to_string();
        if let [first, rest @ ..] = path.segments.as_slice()
            && first == "host"
            && self.fields_lookup(&dotted).is_none()
        {
            return self.host_value(rest, path);
        }
        if dotted == "status" {
            if !scope.status {
                self.error(
                    Diagnostic::error("P0102", "`status` can only be read in a rule", path.span, "not available here")
                        .with_help("a fact's condition sees only facts declared before it"),
                );
                return None;
            }
            return Some((Expr::Status, Type::Status));
        }
        if self.names.poisoned.contains(&dotted) {
            return None;
        }
        if self.fields_lookup(&dotted).is_none()
            && self.names.all_fields.contains(&dotted)
            && !self.names.groups.contains_key(&dotted)
        {
            self.read_before_declared(&dotted, path.span);
            return None;
        }
        if let Some(index) = self.fields_lookup(&dotted) {
            if index >= scope.visible_fields {
                self.read_before_declared(&dotted, path.span);
                return None;
            }
            let ty = self.fields.get(index).map(|f| f.ty.clone())?;
            return Some((Expr::Field(index), ty));
        }
        if let [name] = path.segments.as_slice() {
            if let Some(expected) = expected
                && let Some(value) = self.name_as(name, expected)
            {
                return Some((Expr::Const(value), expected.clone()));
            }
            if self.names.milestones.contains_key(name) {
                let date = self.milestone_date(name, path.span)?;
                return Some((Expr::Const(Value::Date(date)), Type::Date));
            }
            if self.lets.contains_key(name) {
                return self.let_value(name, path.span, scope, true, expected);
            }
            if let Some(expected) = expected.filter(|t| is_named_type(t)) {
                self.unknown_name_of(expected, name, path.span);
                return None;
            }
            // Without a type to go by, an OS or a product name stands for itself.
            if let Some(d) = self.names.oses.get(name) {
                return Some((Expr::Const(Value::Os(d.index)), Type::Os));
            }
            if let Some(d) = self.names.products.get(name) {
                return Some((Expr::Const(Value::Product(d.index)), Type::Product));
            }
        }
        if let Some(group) = self.names.groups.get(&dotted).copied() {
            let members: Vec<String> =
                self.names.fields.keys().filter(|k| k.starts_with(&format!("{dotted}."))).cloned().collect();
            let mut members: Vec<&str> = members.iter().map(String::as_str).collect();
            members.sort_unstable();
            self.error(
                Diagnostic::error(
                    "P0102",
                    format!("`{dotted}` is a group of facts, not a value"),
                    path.span,
                    "a group",
                )
                .with_secondary(group, "declared here")
                .with_help(format!("name one of its facts: {}", super::backticked(&members))),
            );
            return None;
        }
        let mut known: Vec<String> = self.names.fields.keys().cloned().collect();
        known.extend(self.lets.keys().cloned());
        known.extend(HostValue::ALL.iter().map(|(n, _)| format!("host.{n}")));
        if scope.status {
            known.push("status".into());
        }
        self.unknown(
            "name",
            &dotted,
            path.span,
            known.iter().map(String::as_str),
            "declare it as a fact, or name a value or condition with `let`",
        );
        None
    }

    /// A milestone's date, where it is named: a milestone is declared before it is used (P0112).
    pub(super) fn milestone_date(&mut self, name: &str, span: Span) -> Option<crate::value::Date> {
        let Some(declared) = self.names.milestones.get(name).copied() else {
            let known: Vec<String> = self.names.milestones.keys().cloned().collect();
            self.unknown(
                "milestone",
                name,
                span,
                known.iter().map(String::as_str),
                "declare it with `milestone NAME { date 2026-06-24 }`",
            );
            return None;
        };
        if span.start < declared.span.start {
            self.error(
                Diagnostic::error(
                    "P0112",
                    format!("milestone `{name}` is used before it is declared"),
                    span,
                    "used here",
                )
                .with_secondary(declared.span, "declared here, later")
                .with_help("declare milestones before the rules and tests that name them: move it up"),
            );
            return None;
        }
        self.milestones.get(declared.index).map(|m| m.date)
    }

    /// P0107: a fact's condition reads a fact declared after it.
    fn read_before_declared(&mut self, dotted: &str, span: Span) {
        self.error(
            Diagnostic::error(
                "P0107",
                format!("fact `{dotted}` is read before it is declared"),
                span,
                "declared later",
            )
            .with_help("a fact's condition may only read facts declared above it: move this fact below it"),
        );
    }

    fn fields_lookup(&self, dotted: &str) -> Option<usize> {
        self.names.fields.get(dotted).map(|d| d.index)
    }

    fn host_value(&mut self, rest: &[String], path: &ast::Path) -> Option<(Expr, Type)> {
        let name = rest.join(".");
        match HostValue::ALL.iter().find(|(n, _)| *n == name) {
            Some((_, value)) if self.host.is_some() => {
                let what = format!("`host.{name}`");
                for role in self.roles_of(*value) {
                    if !self.role_bound(role) {
                        self.needs_role(role, &what, path.span);
                        return None;
                    }
                }
                Some((Expr::Host(*value), value.ty()))
            }
            Some(_) => None,
            None => {
                let known: Vec<&str> = HostValue::ALL.iter().map(|(n, _)| *n).collect();
                self.unknown("host value", &format!("host.{name}"), path.span, known, "");
                None
            }
        }
    }

    /// The host roles a host value is derived from.
    fn roles_of(&self, value: HostValue) -> Vec<&'static str> {
        match value {
            HostValue::Product => vec!["product"],
            HostValue::VersionListed if self.products.iter().any(|p| p.versions.is_some()) => {
                vec!["product", "product_version"]
            }
            HostValue::VersionListed => vec!["product"],
            HostValue::PlatformListed => vec!["product", "platform"],
            HostValue::Os | HostValue::Revision | HostValue::EndOfSupport | HostValue::EsuUntil => vec!["os_version"],
            HostValue::InSupport => vec!["os_version", "evaluation_date"],
        }
    }

    pub(super) fn role_bound(&self, role: &str) -> bool {
        let Some(h) = &self.host else { return false };
        match role {
            "product" => h.product.is_some(),
            "product_version" => h.product_version.is_some(),
            "platform" => h.platform.is_some(),
            "os_version" => h.os_version.is_some(),
            "os_role" => h.os_role.is_some(),
            "hotfixes" => h.hotfixes.is_some(),
            "os_edition" => h.os_edition.is_some(),
            "esu" => h.esu.is_some(),
            _ => h.evaluation_date.is_some(),
        }
    }

    /// Whether updates can be told installed: from the installed list or the build's revision.
    fn check_update_roles(&mut self, what: &str, span: Span) {
        if !self.role_bound("hotfixes") && !self.role_bound("os_version") {
            self.needs_role("hotfixes", what, span);
        }
    }

    /// Without the `hotfixes` role an update is told installed only by the build revision it
    /// (or an update replacing it) brings: a group none of whose updates declares one could
    /// never be met, and every host it applies to would be told to install it forever.
    fn check_can_be_met(&mut self, ids: &[usize], span: Span) {
        if self.role_bound("hotfixes") || !self.role_bound("os_version") || self.missing_roles.contains(&"hotfixes") {
            return;
        }
        let has_revision = |u: &ir::Update| u.revision.is_some() || !u.revision_for.is_empty();
        let can = ids.iter().filter_map(|i| self.updates.get(*i)).any(|u| {
            has_revision(u)
                || u.superseded_by.iter().any(|kb| self.updates.iter().any(|o| o.kb == *kb && has_revision(o)))
        });
        if can {
            return;
        }
        let kbs: Vec<String> = ids.iter().filter_map(|i| self.updates.get(*i)).map(|u| format!("`{}`", u.kb)).collect();
        self.error(
            Diagnostic::error(
                "P0103",
                format!("this requirement can never be met: nothing tells whether {} is installed", kbs.join(" or ")),
                span,
                "never met",
            )
            .with_help("bind the installed updates in the `host` block (`host { hotfixes = hotfixes }`), or give the update the build `revision` it brings")
            .with_note("without the `hotfixes` role an update counts as installed only when the host's build revision reaches the one the update declares"),
        );
    }

    /// A bare name read as a value of `ty`: an OS, product, enum variant or status.
    fn name_as(&mut self, name: &str, ty: &Type) -> Option<Value> {
        match ty {
            Type::Os => self.names.oses.get(name).map(|d| Value::Os(d.index)),
            Type::Product => self.names.products.get(name).map(|d| Value::Product(d.index)),
            Type::Enum(variants) => variants.iter().position(|v| v == name).map(Value::Enum),
            Type::Status => Level::from_name(name).filter(|l| l.is_status()).map(Value::Level),
            _ => None,
        }
    }

    pub(super) fn unknown_name_of(&mut self, ty: &Type, name: &str, span: Span) {
        let known: Vec<String> = match ty {
            Type::Os => self.names.oses.keys().cloned().collect(),
            Type::Product => self.names.products.keys().cloned().collect(),
            Type::Enum(variants) => variants.clone(),
            Type::Status => Level::ALL.iter().filter(|l| l.is_status()).map(|l| l.name().to_string()).collect(),
            _ => Vec::new(),
        };
        let mut known_refs: Vec<&str> = known.iter().map(String::as_str).collect();
        known_refs.sort_unstable();
        let kind = match ty {
            Type::Enum(_) => "variant".to_string(),
            other => other.name(),
        };
        self.unknown(&kind, name, span, known_refs, "");
    }

    fn compare(&mut self, left: &ast::Expr, op: CmpOp, right: &ast::Expr, scope: Scope) -> Option<(Expr, Type)> {
        let (l, lt) = self.expr(left, scope, None)?;
        let (r, rt) = self.expr(right, scope, Some(&lt))?;
        if !compatible(&lt, &rt) {
            self.type_error(
                right.span,
                &format!("a `{}` value to compare with", lt.name()),
                &format!("`{}`", rt.name()),
                "",
            );
            return None;
        }
        let ordered = matches!(lt, Type::Int | Type::Date | Type::Version | Type::Build | Type::Status);
        if !matches!(op, CmpOp::Eq | CmpOp::Ne) && !ordered {
            self.type_error(
                left.span,
                "a number, date, version, build or status",
                &format!("`{}`, which has no order", lt.name()),
                "use `==`, `!=` or `in` here",
            );
            return None;
        }
        if matches!(lt, Type::Kbs) {
            self.type_error(left.span, "a value", "a set of updates", "test an update with `patched(KB...)`");
            return None;
        }
        Some((Expr::Compare(Box::new(l), op, Box::new(r)), Type::Bool))
    }

    fn membership(&mut self, left: &ast::Expr, set: &ast::Expr, scope: Scope) -> Option<(Expr, Type)> {
        let (l, lt) = self.expr(left, scope, None)?;
        let items: &[ast::Expr] = match &set.kind {
            ExprKind::List(items) => items,
            ExprKind::Path(p) => match self.list_let(p) {
                Some(items) => items,
                None => {
                    let name = p.to_string();
                    if !self.lets.contains_key(&name) && self.fields_lookup(&name).is_none() {
                        let lists: Vec<String> = self
                            .lets
                            .iter()
                            .filter(|(_, l)| matches!(l.expr.kind, ExprKind::List(_)))
                            .map(|(n, _)| n.clone())
                            .collect();
                        let hint = format!("name a list with `let {name} = [a, b]`, or write the list here");
                        self.unknown("list", &name, p.span, lists.iter().map(String::as_str), &hint);
                        return None;
                    }
                    let help = if self.lets.contains_key(&name) {
                        format!("`{name}` is not a list; name a list with `let {name} = [a, b]`")
                    } else {
                        format!("name a list with `let {name} = [a, b]`, or write the list here")
                    };
                    self.type_error(set.span, "a list", &format!("`{name}`"), &help);
                    return None;
                }
            },
            _ => return None,
        };
        let mut values = Vec::new();
        let mut ok = true;
        for item in items {
            match self.expr(item, scope, Some(&lt)) {
                Some((Expr::Const(v), t)) if compatible(&lt, &t) => values.push(v),
                Some(_) => {
                    self.type_error(
                        item.span,
                        &format!("a `{}` value", lt.name()),
                        "an expression",
                        "list items are values, not conditions",
                    );
                    ok = false;
                }
                None => ok = false,
            }
        }
        if items.is_empty() {
            self.error(
                Diagnostic::warning("P0102", "`in []` is never true", set.span, "compared with an empty list")
                    .with_help("list the values, or remove the condition"),
            );
        }
        ok.then_some((Expr::In(Box::new(l), values), Type::Bool))
    }

    fn call(&mut self, name: &ast::Ident, args: &[ast::Expr], span: Span, scope: Scope) -> Option<(Expr, Type)> {
        match (name.name.as_str(), args) {
            ("patched", [arg]) => {
                let ExprKind::Literal(lit) = &arg.kind else {
                    self.type_error(arg.span, "an update id (`KB1234567`)", "something else", "");
                    return None;
                };
                if lit.kind != LitKind::Kb {
                    self.type_error(arg.span, "an update id (`KB1234567`)", &literal_kind_name(lit.kind), "");
                    return None;
                }
                let id = self.update_named(lit)?;
                self.check_update_roles("`patched(...)`", span);
                Some((Expr::Patched(id), Type::Bool))
            }
            ("known", [arg]) => {
                let ExprKind::Path(path) = &arg.kind else {
                    self.type_error(arg.span, "a fact or host value (`root_ca.auto_update`)", "something else", "");
                    return None;
                };
                let (inner, _) = self.path(path, scope, None)?;
                if !matches!(inner, Expr::Field(_) | Expr::Host(_)) {
                    self.type_error(
                        arg.span,
                        "a fact or host value",
                        "a condition",
                        "`known` asks whether a fact was given",
                    );
                    return None;
                }
                Some((Expr::Known(Box::new(inner)), Type::Bool))
            }
            ("released" | "release_date", [arg]) => {
                let ExprKind::Literal(lit) = &arg.kind else {
                    self.type_error(arg.span, "an update id (`KB1234567`)", "something else", "");
                    return None;
                };
                if lit.kind != LitKind::Kb {
                    self.type_error(arg.span, "an update id (`KB1234567`)", &literal_kind_name(lit.kind), "");
                    return None;
                }
                let id = self.update_named(lit)?;
                if name.name == "released" {
                    if !self.role_bound("evaluation_date") {
                        self.needs_role("evaluation_date", "`released(...)`", span);
                        return None;
                    }
                    Some((Expr::Released(id), Type::Bool))
                } else {
                    Some((Expr::ReleaseDate(id), Type::Date))
                }
            }
            ("definitely" | "possibly", [arg]) => {
                let inner = Box::new(self.condition(arg, scope)?);
                let expr = if name.name == "definitely" { Expr::Definitely(inner) } else { Expr::Possibly(inner) };
                Some((expr, Type::Bool))
            }
            ("patched" | "known" | "definitely" | "possibly" | "released" | "release_date", _) => {
                self.error(
                    Diagnostic::error(
                        "P0102",
                        format!("`{}` takes one argument, found {}", name.name, args.len()),
                        span,
                        "wrong number of arguments",
                    )
                    .with_help(match name.name.as_str() {
                        "patched" => "write `patched(KB1234567)`",
                        "known" => "write `known(root_ca.auto_update)`",
                        "released" | "release_date" => "name one update: `released(KB4474419)`",
                        _ => "write it around one condition: `definitely(root_ca.auto_update == false)`",
                    }),
                );
                None
            }
            (other, _) => {
                self.unknown("function", other, name.span, FUNCTIONS, "");
                None
            }
        }
    }

    /// The declared update a KB literal names.
    pub(super) fn update_named(&mut self, lit: &ast::Literal) -> Option<usize> {
        let kb = self.kb_literal(&lit.raw, lit.span)?;
        if let Some(d) = self.names.updates.get(&kb.to_string()) {
            return Some(d.index);
        }
        let known: Vec<String> = self.names.updates.keys().cloned().collect();
        self.unknown(
            "update",
            &kb.to_string(),
            lit.span,
            known.iter().map(String::as_str),
            "declare it with `update KB... { ... }`",
        );
        None
    }

    /// The items of a `let` that names a list (`let win7 = [win7_sp1, server2008r2]`); marks it used.
    fn list_let(&mut self, p: &ast::Path) -> Option<&'a [ast::Expr]> {
        let [name] = p.segments.as_slice() else { return None };
        let decl: &'a ast::Let = self.lets.get(name).copied()?;
        let ExprKind::List(items) = &decl.expr.kind else { return None };
        if let Some(flag) = self.used_lets.get_mut(name) {
            *flag = true;
        }
        Some(items)
    }

    /// Lowers a `let` — a condition or a named value — and marks it used when `used`. A value is
    /// read against the type its use expects (`let target = win11` is an OS next to `host.os`),
    /// so the result is kept per expected type.
    pub(super) fn let_value(
        &mut self,
        name: &str,
        span: Span,
        scope: Scope,
        used: bool,
        expected: Option<&Type>,
    ) -> Option<(Expr, Type)> {
        if used && let Some(flag) = self.used_lets.get_mut(name) {
            *flag = true;
        }
        let key = (name.to_string(), expected.map(Type::name));
        if let Some(done) = self.let_values.get(&key) {
            return done.clone();
        }
        if self.lets_in_progress.iter().any(|n| n == name) {
            self.error(
                Diagnostic::error(
                    "P0108",
                    format!("`{name}` refers to itself"),
                    span,
                    "used inside its own definition",
                )
                .with_help("a `let` may only use names that do not use it in turn"),
            );
            return None;
        }
        let decl: &'a ast::Let = self.lets.get(name).copied()?;
        if let ExprKind::List(items) = &decl.expr.kind {
            if used {
                self.type_error(
                    span,
                    "a condition or a value",
                    &format!("the list `{name}`"),
                    &format!("a list goes after `in`: `host.os in {name}`"),
                );
            } else {
                // Checked on its own: its items must at least be values.
                let full = Scope { visible_fields: self.fields.len(), status: true };
                for item in items {
                    self.expr(item, full, None);
                }
            }
            return None;
        }
        self.lets_in_progress.push(name.to_string());
        // A let is checked with everything visible; where it is used decides nothing.
        let full = Scope { visible_fields: self.fields.len(), status: true };
        let lowered = self.expr(&decl.expr, full, expected);
        self.lets_in_progress.pop();
        self.let_values.insert(key, lowered.clone());
        if !scope.status && lowered.as_ref().is_some_and(|(e, _)| reads_status(e)) {
            self.error(Diagnostic::error(
                "P0102",
                format!("condition `{name}` reads `status`, which is only known in rules"),
                span,
                "used here",
            ));
            return None;
        }
        lowered
    }

    // ------------------------------------------------------------ rules

    pub(super) fn lower_rule(&mut self, r: &ast::Rule) -> Option<ir::Rule> {
        let scope = Scope { visible_fields: self.fields.len(), status: true };
        let mut when = None;
        let mut require = Vec::new();
        let mut wanted: Vec<Vec<(usize, Span)>> = Vec::new();
        let mut severity = None;
        let mut message = None;
        let mut certificate = None;
        let mut cite = None;
        let mut links = Vec::new();
        let mut seen: Vec<(&str, Span)> = Vec::new();
        let mut failed = false;
        for clause in &r.clauses {
            let (key, span) = clause_key(clause);
            if key != "link" {
                if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
                    let first = *first;
                    self.error(
                        Diagnostic::error(
                            "P0105",
                            format!("rule `{}` has two `{key}` clauses", r.name.name),
                            span,
                            "second one",
                        )
                        .with_secondary(first, "first one")
                        .with_help(match key {
                            "when" => "join the conditions with `and` or `or`",
                            "require" => "join the requirements in one clause: `require KB1 and (KB2 or KB3)`",
                            _ => "keep one",
                        }),
                    );
                    failed = true;
                    continue;
                }
                seen.push((key, span));
            }
            match clause {
                ast::Clause::When(e) => when = self.condition(e, scope),
                ast::Clause::Require(groups, _) => {
                    if groups.len() > MAX_REQUIREMENTS {
                        let (first, last) = (groups.first().map(|g| g.span), groups.last().map(|g| g.span));
                        let span = Span::new(first.map_or(0, |s| s.start as usize), last.map_or(0, |s| s.end as usize));
                        self.error(
                            Diagnostic::error(
                                "P0110",
                                format!(
                                    "a rule can require at most {MAX_REQUIREMENTS} things, this one {}",
                                    groups.len()
                                ),
                                span,
                                "too many requirements",
                            )
                            .with_help("split the rule in two, each with its share of the requirements"),
                        );
                        failed = true;
                    }
                    for group in groups {
                        if groups.len() > 1 && group.needs.len() > 1 && !group.parenthesized {
                            self.error(
                                Diagnostic::error(
                                    "P0110",
                                    "`and` and `or` are mixed in a requirement without parentheses",
                                    group.span,
                                    "this group",
                                )
                                .with_help(
                                    "put each group of alternatives in parentheses: `require KB1 and (KB2 or KB3)`",
                                ),
                            );
                            failed = true;
                            continue;
                        }
                        match self.requirement(group, &mut wanted) {
                            Some(req) => require.push(req),
                            None => failed = true,
                        }
                    }
                }
                ast::Clause::Severity { level, otherwise, .. } => {
                    let main = self.level(level);
                    let alt = otherwise.as_ref().map(|(cond, other)| (self.condition(cond, scope), self.level(other)));
                    severity = Some((main, alt));
                }
                ast::Clause::Message(lit) => message = self.template(lit, scope),
                ast::Clause::Certificate(id) => match self.declared("certificate", id, |n| &n.certificates) {
                    Some(index) => certificate = Some(index),
                    None => failed = true,
                },
                ast::Clause::Cite(lit) => cite = Some(self.decode(lit)),
                ast::Clause::Link(lit) => links.push(self.decode(lit)),
            }
        }
        // An example from this file: its first OS version, when it has one.
        let when_example = match self.oses.first() {
            Some(os) if self.role_bound("os_version") => format!("when host.os == {}", os.id),
            _ => "when CONDITION".to_string(),
        };
        for (key, example) in
            [("when", when_example.as_str()), ("severity", "severity action_required"), ("message", "message \"...\"")]
        {
            if !seen.iter().any(|(k, _)| *k == key) {
                self.error(
                    Diagnostic::error(
                        "P0103",
                        format!("rule `{}` has no `{key}` clause", r.name.name),
                        r.name.span,
                        format!("`{key}` missing"),
                    )
                    .with_help(format!("add `{example}`")),
                );
                failed = true;
            }
        }
        self.check_requirements_apply(r, wanted);
        // `{need}` names the unmet requirement of each finding: a rule without one has none.
        if require.is_empty()
            && !failed
            && message.as_ref().is_some_and(|m| m.contains(&ir::Segment::Need))
            && let Some(ast::Clause::Message(lit)) = r.clauses.iter().find(|c| matches!(c, ast::Clause::Message(_)))
        {
            let at = lit.raw.find("{need}").map_or(lit.span.start as usize, |i| lit.span.start as usize + 1 + i);
            self.error(
                Diagnostic::error(
                    "P0103",
                    format!("rule `{}` requires nothing for `{{need}}` to name", r.name.name),
                    Span::new(at, at + "{need}".len()),
                    "no requirement",
                )
                .with_help("`{need}` shows what the finding asks to install or change: add a `require` clause, or write the step in the message"),
            );
            failed = true;
        }
        let (Some(when), Some((Some(severity), alt)), Some(message), false) = (when, severity, message, failed) else {
            return None;
        };
        let otherwise = match alt {
            Some((Some(cond), Some(level))) => Some((cond, level)),
            Some(_) => return None,
            None => None,
        };
        Some(ir::Rule {
            name: r.name.name.clone(),
            docs: r.docs.clone(),
            cite,
            when,
            require,
            severity,
            otherwise,
            message,
            certificate,
            links,
            line: self.line(r.name.span),
            span: r.name.span,
        })
    }

    /// When a group of alternative updates is met: one is patched, or none is out yet for the
    /// host's OS at the evaluation date (a finding never asks for an update not yet released).
    fn updates_met(&self, ids: &[usize]) -> Expr {
        let mut met: Vec<Expr> = ids.iter().map(|u| Expr::Patched(*u)).collect();
        let dated =
            ids.iter().filter_map(|u| self.updates.get(*u)).any(|u| u.released.is_some() || !u.released_for.is_empty());
        if dated && self.role_bound("evaluation_date") {
            met.push(Expr::Not(Box::new(Expr::Or(ids.iter().map(|u| Expr::Released(*u)).collect()))));
        }
        Expr::Or(met)
    }

    /// `any KIND since DATE`: the declared updates of that series (or kind) released on or after
    /// the date (for some OS they apply to), oldest first.
    fn latest_candidates(&mut self, of: &ast::Ident, since: &ast::Expr, span: Span) -> Option<Vec<usize>> {
        let Value::Date(since) = self.constant(since, &Type::Date)? else { return None };
        let members: Vec<usize> = match self.series.get(&of.name) {
            Some(kbs) => kbs.iter().filter_map(|kb| self.names.updates.get(&kb.to_string()).map(|d| d.index)).collect(),
            None => {
                (0..self.updates.len()).filter(|u| self.updates.get(*u).is_some_and(|x| x.kind == of.name)).collect()
            }
        };
        if members.is_empty() {
            let mut known: Vec<String> = self.series.keys().cloned().collect();
            known.extend(self.updates.iter().map(|u| u.kind.clone()).filter(|k| !k.is_empty()));
            known.sort();
            known.dedup();
            self.unknown(
                "update kind or series",
                &of.name,
                of.span,
                known.iter().map(String::as_str),
                "name a `series` or the `kind` of declared updates",
            );
            return None;
        }
        let mut ids: Vec<usize> = members
            .into_iter()
            .filter(|u| {
                self.updates.get(*u).is_some_and(|x| {
                    x.released.into_iter().chain(x.released_for.iter().map(|(_, d)| *d)).any(|d| d >= since)
                })
            })
            .collect();
        if ids.is_empty() {
            self.error(
                Diagnostic::error(
                    "P0104",
                    format!("no declared update of `{}` is released on or after {since}", of.name),
                    span,
                    "nothing to require",
                )
                .with_help("declare the updates released since then (with `released`), or name an earlier date"),
            );
            return None;
        }
        ids.sort_by_key(|u| self.updates.get(*u).and_then(|x| x.released));
        Some(ids)
    }

    /// One group of a `require` clause and the condition that says the host meets it.
    fn requirement(&mut self, group: &ast::NeedGroup, wanted: &mut Vec<Vec<(usize, Span)>>) -> Option<ir::Requirement> {
        let updates: Vec<&ast::Literal> =
            group.needs.iter().filter_map(|n| if let ast::Need::Update(lit) = n { Some(lit) } else { None }).collect();
        if updates.len() == group.needs.len() {
            let mut ids = Vec::new();
            let mut spans = Vec::new();
            for lit in updates {
                let id = self.update_named(lit)?;
                spans.push((id, lit.span));
                ids.push(id);
            }
            wanted.push(spans);
            self.check_update_roles("`require` of an update", group.span);
            self.check_can_be_met(&ids, group.span);
            let met = self.updates_met(&ids);
            return Some(ir::Requirement { need: ir::Need::Updates(ids), met, newest: false });
        }
        if let [ast::Need::Latest { of, since, span }] = group.needs.as_slice() {
            let ids = self.latest_candidates(of, since, *span)?;
            self.check_update_roles("`require any ... since`", group.span);
            self.check_can_be_met(&ids, group.span);
            let met = self.updates_met(&ids);
            return Some(ir::Requirement { need: ir::Need::Updates(ids), met, newest: true });
        }
        let [need] = group.needs.as_slice() else {
            return self.alternatives(group, wanted);
        };
        self.single_need(need)
    }

    /// `(KB1 or certificate c or component x >= 1.2)`: alternatives of different kinds. The
    /// updates among them are one alternative (any of them); the group is met when any
    /// alternative is. An update not out yet is not offered, but the group stays due: the other
    /// alternatives can meet it.
    fn alternatives(
        &mut self,
        group: &ast::NeedGroup,
        wanted: &mut Vec<Vec<(usize, Span)>>,
    ) -> Option<ir::Requirement> {
        if let Some(latest) = group.needs.iter().find(|n| matches!(n, ast::Need::Latest { .. })) {
            self.error(
                Diagnostic::error(
                    "P0110",
                    "`any ... since` cannot be one of several alternatives",
                    latest.span(),
                    "here",
                )
                .with_help("require it in a group of its own, joined with `and`"),
            );
            return None;
        }
        let mut ids = Vec::new();
        let mut spans = Vec::new();
        let mut others = Vec::new();
        let mut ok = true;
        for need in &group.needs {
            if let ast::Need::Update(lit) = need {
                match self.update_named(lit) {
                    Some(id) => {
                        spans.push((id, lit.span));
                        ids.push(id);
                    }
                    None => ok = false,
                }
            } else {
                match self.single_need(need) {
                    Some(q) => others.push(q),
                    None => ok = false,
                }
            }
        }
        if !ok {
            return None;
        }
        let mut needs = Vec::new();
        let mut met = Vec::new();
        if !ids.is_empty() {
            wanted.push(spans);
            self.check_update_roles("`require` of an update", group.span);
            met.push(Expr::Or(ids.iter().map(|u| Expr::Patched(*u)).collect()));
            needs.push(ir::Need::Updates(ids));
        }
        for q in others {
            met.push(q.met);
            needs.push(q.need);
        }
        Some(ir::Requirement { need: ir::Need::AnyOf(needs), met: Expr::Or(met), newest: false })
    }

    /// A requirement of one certificate, component, setting or action.
    fn single_need(&mut self, need: &ast::Need) -> Option<ir::Requirement> {
        match need {
            ast::Need::Update(_) | ast::Need::Latest { .. } => None,
            ast::Need::Certificate(id) => {
                let index = self.declared("certificate", id, |n| &n.certificates)?;
                let Some(fact) = self.certificates.get(index).and_then(|c| c.fact) else {
                    self.error(
                        Diagnostic::error(
                            "P0103",
                            format!("certificate `{}` has no `fact` to tell whether a host has it", id.name),
                            id.span,
                            "required here",
                        )
                        .with_help("add `fact NAME` (a bool fact: the certificate is in the store) to the certificate, or use the `certificate` clause to only name it"),
                    );
                    return None;
                };
                let met = fact_is(fact, CmpOp::Eq, Value::Bool(true));
                Some(ir::Requirement { need: ir::Need::Certificate(index), met, newest: false })
            }
            ast::Need::Component { id, op, version, shown } => {
                let index = self.declared("component", id, |n| &n.components)?;
                let version = match self.constant(version, &Type::Version)? {
                    Value::Version(v) => v,
                    _ => return None,
                };
                let fact = self.components.get(index).map(|c| c.fact)?;
                let met = fact_is(fact, *op, Value::Version(version.clone()));
                let shown = shown.as_ref().map(|s| s.raw.clone());
                let need = ir::Need::Component { component: index, op: *op, version, shown };
                Some(ir::Requirement { need, met, newest: false })
            }
            ast::Need::Action(id) => {
                let index = self.declared("action", id, |n| &n.actions)?;
                let met = match self.actions.get(index).and_then(|a| a.fact) {
                    Some(fact) => fact_is(fact, CmpOp::Eq, Value::Bool(true)),
                    None => Expr::Const(Value::Bool(false)),
                };
                Some(ir::Requirement { need: ir::Need::Action(index), met, newest: false })
            }
            ast::Need::Setting(id, value) => {
                let index = self.declared("setting", id, |n| &n.settings)?;
                let fact = self.settings.get(index).map(|x| x.fact)?;
                let ty = self.fields.get(fact).map(|f| f.ty.clone())?;
                let value = match (value, &ty) {
                    (Some(e), _) => self.constant(e, &ty)?,
                    (None, Type::Bool) => Value::Bool(true),
                    (None, other) => {
                        self.error(
                            Diagnostic::error(
                                "P0103",
                                format!(
                                    "setting `{}` holds a `{}` value: say which one is needed",
                                    id.name,
                                    other.name()
                                ),
                                id.span,
                                "which value?",
                            )
                            .with_help(format!("write `setting {} == VALUE`", id.name)),
                        );
                        return None;
                    }
                };
                let met = fact_is(fact, CmpOp::Eq, value.clone());
                Some(ir::Requirement { need: ir::Need::Setting { setting: index, value }, met, newest: false })
            }
        }
    }

    /// The index of a declared certificate, component or setting; reports an unknown name.
    fn declared(
        &mut self,
        kind: &str,
        id: &ast::Ident,
        table: fn(&super::Names) -> &std::collections::HashMap<String, super::Declared>,
    ) -> Option<usize> {
        if let Some(d) = table(&self.names).get(&id.name) {
            return Some(d.index);
        }
        let known: Vec<String> = table(&self.names).keys().cloned().collect();
        let hint = format!("declare it with `{kind} NAME {{ ... }}`");
        self.unknown(kind, &id.name, id.span, known.iter().map(String::as_str), &hint);
        None
    }

    /// A value known when the file is checked (a literal or a named value) of type `ty`.
    fn constant(&mut self, e: &ast::Expr, ty: &Type) -> Option<Value> {
        let scope = Scope { visible_fields: self.fields.len(), status: false };
        match self.expr(e, scope, Some(ty))? {
            (Expr::Const(v), t) if compatible(ty, &t) => Some(v),
            (_, t) => {
                self.type_error(
                    e.span,
                    &format!("a `{}` value written here or named with `let`", ty.name()),
                    &format!("`{}`", t.name()),
                    "",
                );
                None
            }
        }
    }

    fn level(&mut self, id: &ast::Ident) -> Option<Level> {
        match Level::from_name(&id.name).filter(|l| *l != Level::Ready) {
            Some(level) => Some(level),
            None => {
                let known: Vec<&str> = Level::ALL.iter().filter(|l| **l != Level::Ready).map(|l| l.name()).collect();
                let hint = if id.name == "ready" {
                    "`ready` is what a verdict is when no rule fires; a rule reports something"
                } else {
                    ""
                };
                self.unknown("severity", &id.name, id.span, known, hint);
                None
            }
        }
    }

    /// Splits a message into text and `{path}` interpolations.
    fn template(&mut self, lit: &ast::Literal, scope: Scope) -> Option<Vec<ir::Segment>> {
        let mut segments = Vec::new();
        let mut text = String::new();
        let mut chars = lit.raw.char_indices();
        let mut ok = true;
        let base = lit.span.start as usize + 1;
        while let Some((at, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, next)) = chars.next() {
                        text.push(match next {
                            'n' => '\n',
                            't' => '\t',
                            other => other,
                        });
                    }
                }
                '{' => {
                    let mut name = String::new();
                    let mut closed = false;
                    for (_, n) in chars.by_ref() {
                        if n == '}' {
                            closed = true;
                            break;
                        }
                        name.push(n);
                    }
                    let span = Span::new(base + at, base + at + name.len() + 2);
                    if !closed {
                        self.error(
                            Diagnostic::error("P0013", "`{` opens a value that is never closed", span, "unclosed")
                                .with_help("close it with `}`, or write `\\{` for a brace"),
                        );
                        return None;
                    }
                    // `{release_date(KB4474419)}`: a call of one update.
                    if let Some((function, arg)) = name.trim().strip_suffix(')').and_then(|n| n.split_once('('))
                        && let Some(kb) = crate::value::Kb::parse(arg.trim())
                    {
                        let lit = ast::Literal { kind: LitKind::Kb, raw: kb.to_string(), span };
                        let call = ast::Expr {
                            kind: ExprKind::Call(
                                ast::Ident { name: function.trim().to_string(), span },
                                vec![ast::Expr { kind: ExprKind::Literal(lit), span }],
                            ),
                            span,
                        };
                        match self.expr(&call, scope, None) {
                            Some((expr @ Expr::ReleaseDate(_), _)) => {
                                if !text.is_empty() {
                                    segments.push(ir::Segment::Text(std::mem::take(&mut text)));
                                }
                                segments.push(ir::Segment::Value(expr));
                            }
                            Some(_) => {
                                self.type_error(span, "a value (`release_date(KB...)`)", "a condition", "");
                                ok = false;
                            }
                            None => ok = false,
                        }
                        continue;
                    }
                    // `{need}`: what the finding asks (the rule must require something).
                    if name.trim() == "need" {
                        if !text.is_empty() {
                            segments.push(ir::Segment::Text(std::mem::take(&mut text)));
                        }
                        segments.push(ir::Segment::Need);
                        continue;
                    }
                    let segs: Vec<String> = name.trim().split('.').map(str::to_string).collect();
                    let path = ast::Path { segments: segs, span };
                    if let Some(items) = self.list_let(&path) {
                        let mut shown = Vec::new();
                        for item in items {
                            match self.expr(item, scope, None) {
                                Some((Expr::Const(v), ty)) => shown.push(self.const_text(&v, &ty)),
                                _ => ok = false,
                            }
                        }
                        text.push_str(&shown.join(", "));
                        continue;
                    }
                    match self.path(&path, scope, None) {
                        // A named value is known when the file is checked: it is text.
                        Some((Expr::Const(v), ty)) => text.push_str(&self.const_text(&v, &ty)),
                        Some((expr @ (Expr::Field(_) | Expr::Host(_) | Expr::Status), _)) => {
                            if !text.is_empty() {
                                segments.push(ir::Segment::Text(std::mem::take(&mut text)));
                            }
                            segments.push(ir::Segment::Value(expr));
                        }
                        Some(_) => {
                            self.type_error(span, "a fact or host value", "a condition", "");
                            ok = false;
                        }
                        None => ok = false,
                    }
                }
                other => text.push(other),
            }
        }
        if !text.is_empty() {
            segments.push(ir::Segment::Text(text));
        }
        ok.then_some(segments)
    }

    /// A constant as a message shows it (as the interpreter's `display` would).
    fn const_text(&self, v: &Value, ty: &Type) -> String {
        match (v, ty) {
            (Value::Unknown, _) => "unknown".into(),
            (Value::None, _) => "none".into(),
            (Value::Bool(b), _) => b.to_string(),
            (Value::Int(n), _) => n.to_string(),
            (Value::Str(s), _) => s.clone(),
            (Value::Date(d), _) => d.to_string(),
            (Value::Version(v), _) => v.to_string(),
            (Value::Kbs(kbs), _) => kbs.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
            (Value::Product(i), _) => self.products.get(*i).map(|x| x.name.clone()).unwrap_or_default(),
            (Value::Os(i), _) => self.oses.get(*i).map(|x| x.name.clone()).unwrap_or_default(),
            (Value::Enum(i), Type::Enum(variants)) => variants.get(*i).cloned().unwrap_or_default(),
            (Value::Enum(i), _) => i.to_string(),
            (Value::Level(l), _) => l.name().into(),
        }
    }

    /// P0106: a rule that asks for an update on an OS the update does not apply to.
    /// A group of alternatives is fine for an OS when one of them applies to it.
    fn check_requirements_apply(&mut self, r: &ast::Rule, mut wanted: Vec<Vec<(usize, Span)>>) {
        let Some(when) = r.clauses.iter().find_map(|c| if let ast::Clause::When(e) = c { Some(e) } else { None })
        else {
            return;
        };
        let targets = self.os_constraint(when, 0);
        collect_patched(when, &mut |lit: &ast::Literal| {
            if let Some(kb) = crate::value::Kb::parse(&lit.raw)
                && let Some(d) = self.names.updates.get(&kb.to_string())
            {
                wanted.push(vec![(d.index, lit.span)]);
            }
        });
        for group in wanted {
            let Some(&(update, kb_span)) = group.first() else { continue };
            let Some(u) = self.updates.get(update).cloned() else { continue };
            for (os, os_span) in &targets {
                if group.iter().any(|(g, _)| self.updates.get(*g).is_some_and(|x| x.applies_to(*os))) {
                    continue;
                }
                let os_name = self.oses.get(*os).map(|o| o.id.clone()).unwrap_or_default();
                let applies: Vec<&str> =
                    u.applies.iter().filter_map(|a| self.oses.get(*a).map(|o| o.id.as_str())).collect();
                let help = format!(
                    "`{}` applies to {}; add `{os_name}` to its `applies` if Microsoft lists it, or require another update",
                    u.kb,
                    super::backticked(&applies)
                );
                let message = format!("`{}` does not apply to `{os_name}`", u.kb);
                self.error(
                    Diagnostic::error("P0106", message, kb_span, format!("required here for `{os_name}`"))
                        .with_secondary(*os_span, "the rule applies to this OS")
                        .with_help(help),
                );
            }
        }
    }

    /// The OS versions a condition restricts the host to, from `host.os == x` or
    /// `host.os in [...]` conjuncts at its top level, looking through parentheses and `let`s.
    fn os_constraint(&self, e: &ast::Expr, depth: usize) -> Vec<(usize, Span)> {
        if depth > 16 {
            return Vec::new(); // a `let` cycle, reported elsewhere
        }
        let conjuncts: Vec<&ast::Expr> = match &e.kind {
            ExprKind::And(parts) => parts.iter().collect(),
            _ => vec![e],
        };
        let is_host_os = |x: &ast::Expr| matches!(&x.kind, ExprKind::Path(p) if p.segments == ["host", "os"]);
        let name_of = |x: &ast::Expr| match &x.kind {
            ExprKind::Path(p) if p.segments.len() == 1 => {
                p.segments.first().and_then(|n| self.names.oses.get(n)).map(|d| (d.index, x.span))
            }
            _ => None,
        };
        let let_named = |x: &ast::Expr| match &x.kind {
            ExprKind::Path(p) if p.segments.len() == 1 => p.segments.first().and_then(|n| self.lets.get(n)).copied(),
            _ => None,
        };
        for c in conjuncts {
            match &c.kind {
                ExprKind::In(l, set) if is_host_os(l) => {
                    let items = match (&set.kind, let_named(set)) {
                        (ExprKind::List(items), _) => items,
                        (_, Some(ast::Let { expr: ast::Expr { kind: ExprKind::List(items), .. }, .. })) => items,
                        _ => continue,
                    };
                    return items.iter().filter_map(name_of).collect();
                }
                ExprKind::Compare(l, CmpOp::Eq, r) if is_host_os(l) => {
                    let target = let_named(r).map_or(r.as_ref(), |l| &l.expr);
                    return name_of(target).into_iter().collect();
                }
                ExprKind::Paren(inner) => {
                    let found = self.os_constraint(inner, depth + 1);
                    if !found.is_empty() {
                        return found;
                    }
                }
                ExprKind::Path(_) => {
                    if let Some(l) = let_named(c) {
                        let found = self.os_constraint(&l.expr, depth + 1);
                        if !found.is_empty() {
                            return found;
                        }
                    }
                }
                _ => {}
            }
        }
        Vec::new()
    }
}

fn collect_patched(e: &ast::Expr, f: &mut dyn FnMut(&ast::Literal)) {
    match &e.kind {
        ExprKind::Or(parts) | ExprKind::And(parts) | ExprKind::List(parts) => {
            parts.iter().for_each(|p| collect_patched(p, f))
        }
        ExprKind::Not(inner) | ExprKind::Paren(inner) => collect_patched(inner, f),
        ExprKind::Call(name, args) if name.name == "patched" => {
            for arg in args {
                if let ExprKind::Literal(lit) = &arg.kind {
                    f(lit);
                }
            }
        }
        _ => {}
    }
}

/// `fact OP value`: how a certificate, component, setting or action is met.
fn fact_is(fact: usize, op: CmpOp, value: Value) -> Expr {
    Expr::Compare(Box::new(Expr::Field(fact)), op, Box::new(Expr::Const(value)))
}

fn clause_key(clause: &ast::Clause) -> (&'static str, Span) {
    match clause {
        ast::Clause::When(e) => ("when", e.span),
        ast::Clause::Require(_, span) => ("require", *span),
        ast::Clause::Severity { span, .. } => ("severity", *span),
        ast::Clause::Message(lit) => ("message", lit.span),
        ast::Clause::Certificate(id) => ("certificate", id.span),
        ast::Clause::Cite(lit) => ("cite", lit.span),
        ast::Clause::Link(lit) => ("link", lit.span),
    }
}

fn is_named_type(ty: &Type) -> bool {
    matches!(ty, Type::Os | Type::Product | Type::Enum(_) | Type::Status)
}

/// Versions and builds compare with each other (a build is a Windows version).
fn compatible(a: &Type, b: &Type) -> bool {
    a == b || matches!((a, b), (Type::Version | Type::Build, Type::Version | Type::Build))
}

pub(crate) fn reads_status(e: &Expr) -> bool {
    match e {
        Expr::Status => true,
        Expr::Not(inner) | Expr::Known(inner) | Expr::Definitely(inner) | Expr::Possibly(inner) => reads_status(inner),
        Expr::And(parts) | Expr::Or(parts) => parts.iter().any(reads_status),
        Expr::Compare(l, _, r) => reads_status(l) || reads_status(r),
        Expr::In(l, _) => reads_status(l),
        Expr::Const(_)
        | Expr::Field(_)
        | Expr::Host(_)
        | Expr::Patched(_)
        | Expr::Released(_)
        | Expr::ReleaseDate(_) => false,
    }
}
