//! Step two: AST → IR. Resolves names, checks types and declarations, and reports everything it
//! finds (it never stops at the first error). Lints that need the whole program live in
//! [`lint`] and [`analysis`].
//!
//! **Invariant:** [`check`] returns a program only when no diagnostic is an error.

mod decls;
mod exprs;
mod tests;

pub mod analysis;
pub mod lint;

pub use decls::{SOURCES, TYPE_NAMES};

use crate::ast::{self, Span};
use crate::diagnostic::{Diagnostic, suggest};
use crate::ir::{self, Program};
use std::collections::HashMap;

/// Checks a parsed rules file. Returns the program (when there is no error) and every
/// diagnostic, errors and warnings, in source order.
pub fn check(file: &ast::File, source: &str) -> (Option<Program>, Vec<Diagnostic>) {
    check_bundle(file, &crate::bundle::Bundle::single("", source))
}

/// Checks a rules file and the files it uses, parsed together from the bundle's text. Lints
/// about declarations (never used, no rule for an OS) concern the file's own.
pub fn check_bundle(file: &ast::File, bundle: &crate::bundle::Bundle) -> (Option<Program>, Vec<Diagnostic>) {
    let mut checker = Checker::new(&bundle.text, bundle);
    checker.run(file);
    let Checker { mut diags, program, .. } = checker;
    let program = match program {
        Some(program) if !diags.iter().any(Diagnostic::is_error) => {
            diags.extend(lint::lint(&program, file, bundle));
            diags.extend(analysis::analyse(&program));
            Some(program)
        }
        _ => None,
    };
    diags.sort_by_key(|d| (d.primary.span.start, d.code));
    // A `let` naming a value is lowered where it is used: its mistakes are reported once.
    diags.dedup();
    (program, diags)
}

/// A name declared in one of the namespaces, with where.
#[derive(Clone, Copy)]
struct Declared {
    index: usize,
    span: Span,
}

/// The namespaces. Updates are keyed by their canonical id (`KB1234567`).
#[derive(Default)]
struct Names {
    products: HashMap<String, Declared>,
    oses: HashMap<String, Declared>,
    updates: HashMap<String, Declared>,
    certificates: HashMap<String, Declared>,
    components: HashMap<String, Declared>,
    settings: HashMap<String, Declared>,
    actions: HashMap<String, Declared>,
    milestones: HashMap<String, Declared>,
    rules: HashMap<String, Declared>,
    fields: HashMap<String, Declared>,
    /// Dotted paths of fact groups (`os`, `root_ca`), to explain "name one of its facts".
    groups: HashMap<String, Span>,
    /// Every fact path the schema declares, known before the schema is lowered (for P0107).
    all_fields: std::collections::HashSet<String>,
    /// Facts whose declaration had an error: reading them reports nothing more.
    poisoned: std::collections::HashSet<String>,
}

/// What an expression may see where it is written.
/// A `let` lowered for an expected type (by name): a named value reads differently by context.
type LetKey = (String, Option<String>);

#[derive(Clone, Copy)]
struct Scope {
    /// Facts with an index below this are visible (a fact's condition sees only earlier facts).
    visible_fields: usize,
    /// `status` (the status so far) may be read: only in rules.
    status: bool,
}

struct Checker<'a> {
    bundle: &'a crate::bundle::Bundle,
    /// Where each line of `source` starts, for the lines rules and tests report.
    line_starts: Vec<usize>,
    diags: Vec<Diagnostic>,
    names: Names,
    fields: Vec<ir::FieldDef>,
    field_spans: Vec<Span>,
    products: Vec<ir::Product>,
    oses: Vec<ir::Os>,
    updates: Vec<ir::Update>,
    update_spans: Vec<Span>,
    /// Updates in a supersedence cycle (reported once, as P0108).
    cyclic_updates: Vec<crate::value::Kb>,
    certificates: Vec<ir::Certificate>,
    components: Vec<ir::Component>,
    settings: Vec<ir::Setting>,
    actions: Vec<ir::Action>,
    milestones: Vec<ir::Milestone>,
    /// Each series' updates, by the series' name (for `any SERIES since DATE`).
    series: HashMap<String, Vec<crate::value::Kb>>,
    host: Option<ir::HostRoles>,
    /// Host roles already reported missing (one report per role, not one per use).
    missing_roles: Vec<&'static str>,
    /// `let` declarations by name, and their lowered forms once lowered.
    lets: HashMap<String, &'a ast::Let>,
    let_values: HashMap<LetKey, Option<(ir::Expr, ir::Type)>>,
    lets_in_progress: Vec<String>,
    used_lets: HashMap<String, bool>,
    program: Option<Program>,
}

impl<'a> Checker<'a> {
    fn new(source: &'a str, bundle: &'a crate::bundle::Bundle) -> Self {
        Checker {
            bundle,
            line_starts: std::iter::once(0).chain(source.match_indices('\n').map(|(i, _)| i + 1)).collect(),
            diags: Vec::new(),
            names: Names::default(),
            fields: Vec::new(),
            field_spans: Vec::new(),
            products: Vec::new(),
            oses: Vec::new(),
            updates: Vec::new(),
            update_spans: Vec::new(),
            cyclic_updates: Vec::new(),
            certificates: Vec::new(),
            components: Vec::new(),
            settings: Vec::new(),
            actions: Vec::new(),
            milestones: Vec::new(),
            series: HashMap::new(),
            host: None,
            missing_roles: Vec::new(),
            lets: HashMap::new(),
            let_values: HashMap::new(),
            lets_in_progress: Vec::new(),
            used_lets: HashMap::new(),
            program: None,
        }
    }

    fn error(&mut self, diagnostic: Diagnostic) {
        self.diags.push(diagnostic);
    }

    /// The 1-based line of a span in its own file.
    fn line(&self, span: Span) -> usize {
        let file_start = if self.bundle.files.len() > 1 { self.bundle.file_at(span.start).start } else { 0 };
        let line_of = |offset: usize| self.line_starts.partition_point(|&s| s <= offset);
        line_of(span.start as usize) - line_of(file_start) + 1
    }

    /// Runs the passes in dependency order: names first, then the facts schema (types), the host
    /// roles, the declarations that use them, and last rules and tests.
    fn run(&mut self, file: &'a ast::File) {
        let mut advisory = None;
        // A file and the files it uses may each declare facts and bind host roles: one schema,
        // one set of roles (a fact or role given twice is an error where it is given again).
        let mut facts: Vec<&ast::Facts> = Vec::new();
        let mut hosts: Vec<&ast::Host> = Vec::new();
        let mut series_updates: Vec<ast::Decl> = Vec::new();
        for item in &file.items {
            match item {
                ast::Item::Use(_) => {}
                ast::Item::Decl(d) if d.kind == ast::DeclKind::Advisory => {
                    self.single(&mut advisory, d, d.id.span, "advisory header");
                }
                ast::Item::Facts(f) => {
                    if let Some(first) =
                        facts.iter().find(|x| self.bundle.file_at(x.span.start) == self.bundle.file_at(f.span.start))
                    {
                        let first = first.span;
                        self.error(
                            Diagnostic::error(
                                "P0101",
                                "a rules file has one facts schema; this is a second",
                                f.span,
                                "second one",
                            )
                            .with_secondary(first, "first one")
                            .with_help("merge the two into one facts schema"),
                        );
                    } else {
                        facts.push(f);
                    }
                }
                ast::Item::Host(h) => {
                    if let Some(first) =
                        hosts.iter().find(|x| self.bundle.file_at(x.span.start) == self.bundle.file_at(h.span.start))
                    {
                        let first = first.span;
                        self.error(
                            Diagnostic::error(
                                "P0101",
                                "a rules file has one host block; this is a second",
                                h.span,
                                "second one",
                            )
                            .with_secondary(first, "first one")
                            .with_help("merge the two into one host block"),
                        );
                    } else {
                        hosts.push(h);
                    }
                }
                ast::Item::Decl(d) => self.declare(d),
                ast::Item::Series(series) => {
                    let kbs = series.entries.iter().filter_map(|e| crate::value::Kb::parse(&e.kb.raw)).collect();
                    self.series.insert(series.id.name.clone(), kbs);
                    let decls = self.expand_series(series);
                    decls.iter().for_each(|d| self.declare(d));
                    series_updates.extend(decls);
                }
                ast::Item::Let(l) => self.declare_let(l),
                ast::Item::Rule(r) => self.declare_rule(r),
                ast::Item::Test(_) => {}
            }
        }
        let whole = Span::new(self.bundle.main().start, self.bundle.main().start);
        if facts.is_empty() {
            self.error(missing_item(whole, "facts", "facts { product { id: product } ... }"));
        }
        for f in &facts {
            collect_paths(&f.fields, "", &mut self.names.all_fields);
        }
        for f in &facts {
            self.lower_facts(f);
        }
        match hosts.as_slice() {
            [] => self.host = Some(ir::HostRoles::default()),
            [h] => self.lower_host(h),
            several => {
                let merged = ast::Host {
                    docs: Vec::new(),
                    bindings: several.iter().flat_map(|h| h.bindings.iter().cloned()).collect(),
                    span: several.last().map_or(whole, |h| h.span),
                };
                self.lower_host(&merged);
            }
        }
        self.check_uninstall_versions();
        // Declarations in file order; a series' updates where the series is.
        let mut decls: Vec<&ast::Decl> = Vec::new();
        let mut expanded = series_updates.iter();
        for item in &file.items {
            match item {
                ast::Item::Decl(d) => decls.push(d),
                ast::Item::Series(series) => decls.extend(expanded.by_ref().take(series.entries.len())),
                _ => {}
            }
        }
        for d in &decls {
            self.lower_decl(d);
        }
        self.link_after(&decls);
        self.link_supersedence();
        self.check_supersedence();
        self.check_os_overlaps();
        // A file with no advisory, rules or tests is a library: other files `use` it.
        let library =
            advisory.is_none() && !file.items.iter().any(|i| matches!(i, ast::Item::Rule(_) | ast::Item::Test(_)));
        let advisory = match advisory {
            Some(a) => self.lower_advisory(a),
            None if library => ir::Advisory::default(),
            None => {
                self.error(missing_item(
                    whole,
                    "advisory",
                    "advisory my_advisory { title \"...\" published 2023-01-01 }",
                ));
                ir::Advisory::default()
            }
        };
        let rules: Vec<ir::Rule> = file
            .items
            .iter()
            .filter_map(|item| if let ast::Item::Rule(r) = item { self.lower_rule(r) } else { None })
            .collect();
        // Lets no rule reads are still checked, so their mistakes are reported too (a let that
        // was read has been checked already: its mistakes are not reported twice).
        for item in &file.items {
            if let ast::Item::Let(l) = item
                && self.used_lets.get(&l.name.name) != Some(&true)
            {
                let scope = Scope { visible_fields: self.fields.len(), status: true };
                self.let_value(&l.name.name, l.name.span, scope, false, None);
            }
        }
        let finding_order = self.finding_order(&rules);
        let rule_names: Vec<String> = rules.iter().map(|r| r.name.clone()).collect();
        let tests: Vec<ir::TestCase> = file
            .items
            .iter()
            .filter_map(|item| if let ast::Item::Test(t) = item { self.lower_test(t, &rule_names) } else { None })
            .collect();
        self.check_test_names(file);
        self.check_unused_lets(file);
        let Some(host) = self.host.clone() else { return };
        self.program = Some(Program {
            advisory,
            fields: std::mem::take(&mut self.fields),
            products: std::mem::take(&mut self.products),
            oses: std::mem::take(&mut self.oses),
            updates: std::mem::take(&mut self.updates),
            certificates: std::mem::take(&mut self.certificates),
            components: std::mem::take(&mut self.components),
            settings: std::mem::take(&mut self.settings),
            actions: std::mem::take(&mut self.actions),
            host,
            rules,
            finding_order,
            tests,
            milestones: std::mem::take(&mut self.milestones),
        });
    }

    fn single<T>(&mut self, slot: &mut Option<&'a T>, item: &'a T, span: Span, what: &str) {
        if slot.is_some() {
            self.error(
                Diagnostic::error(
                    "P0101",
                    format!("a rules file has one {what}; this is a second"),
                    span,
                    "second one",
                )
                .with_help(format!("merge the two into one {what}")),
            );
        } else {
            *slot = Some(item);
        }
    }

    /// Registers `name` in a namespace, reporting a duplicate. Returns whether it was new.
    fn register(
        &mut self,
        kind: &str,
        name: &str,
        span: Span,
        index: usize,
        table: fn(&mut Names) -> &mut HashMap<String, Declared>,
    ) -> bool {
        if let Some(first) = table(&mut self.names).get(name).copied() {
            self.error(
                Diagnostic::error("P0101", format!("{kind} `{name}` is declared twice"), span, "declared again here")
                    .with_secondary(first.span, "first declared here")
                    .with_help(format!("rename one of them or merge them into one {kind}")),
            );
            return false;
        }
        table(&mut self.names).insert(name.to_string(), Declared { index, span });
        true
    }

    fn declare_let(&mut self, l: &'a ast::Let) {
        if let Some(first) = self.lets.get(&l.name.name) {
            let first_span = first.name.span;
            self.error(
                Diagnostic::error(
                    "P0101",
                    format!("condition `{}` is declared twice", l.name.name),
                    l.name.span,
                    "declared again here",
                )
                .with_secondary(first_span, "first declared here")
                .with_help("rename one of them"),
            );
            return;
        }
        self.lets.insert(l.name.name.clone(), l);
        self.used_lets.insert(l.name.name.clone(), false);
    }

    fn declare_rule(&mut self, r: &ast::Rule) {
        let index = self.names.rules.len();
        self.register("rule", &r.name.name, r.name.span, index, |n| &mut n.rules);
    }

    fn check_test_names(&mut self, file: &ast::File) {
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for item in &file.items {
            if let ast::Item::Test(t) = item {
                if let Some(first) = seen.get(t.name.name.as_str()) {
                    let first = *first;
                    self.error(
                        Diagnostic::error(
                            "P0101",
                            format!("test `{}` is declared twice", t.name.name),
                            t.name.span,
                            "declared again here",
                        )
                        .with_secondary(first, "first declared here")
                        .with_help("give each test its own name, so a failure points at one test"),
                    );
                } else {
                    seen.insert(&t.name.name, t.name.span);
                }
            }
        }
    }

    fn check_unused_lets(&mut self, file: &ast::File) {
        for item in &file.items {
            if let ast::Item::Let(l) = item
                && self.used_lets.get(&l.name.name) == Some(&false)
            {
                self.error(
                    Diagnostic::warning(
                        "P0206",
                        format!("condition `{}` is never used", l.name.name),
                        l.name.span,
                        "declared here",
                    )
                    .with_help("use it in a rule's `when`, or remove it"),
                );
            }
        }
    }

    /// "unknown X `name`", with the closest known name as a suggestion.
    /// Reports (once per role) a construct that needs a host role the `host` block does not bind.
    fn needs_role(&mut self, role: &'static str, what: &str, span: Span) {
        if self.missing_roles.contains(&role) {
            return;
        }
        self.missing_roles.push(role);
        let example = match role {
            "product" => "product = product.id",
            "product_version" => "product_version = product.version",
            "platform" => "platform = os.platform",
            "os_version" => "os_version = os.version",
            "os_role" => "os_role = os.product_type",
            "hotfixes" => "hotfixes = hotfixes",
            _ => "evaluation_date = as_of",
        };
        self.error(
            Diagnostic::error(
                "P0103",
                format!("{what} needs the `{role}` host role, which is not bound"),
                span,
                format!("needs `{role}`"),
            )
            .with_help(format!("bind it to a fact in the `host` block, e.g. `host {{ {example} }}`")),
        );
    }

    /// Rule order, except that a finding asking for an update comes after the findings asking
    /// for the updates it must be installed `after` (directly or through others).
    fn finding_order(&self, rules: &[ir::Rule]) -> Vec<(usize, Option<usize>)> {
        let mut items: Vec<(usize, Option<usize>)> = Vec::new();
        for (r, rule) in rules.iter().enumerate() {
            if rule.require.is_empty() {
                items.push((r, None));
            } else {
                items.extend((0..rule.require.len()).map(|k| (r, Some(k))));
            }
        }
        if self.updates.iter().all(|u| u.after.is_empty()) {
            return items;
        }
        let updates_of = |(r, k): (usize, Option<usize>)| -> Vec<usize> {
            k.and_then(|k| rules.get(r)?.require.get(k)).map(|q| q.need.update_ids()).unwrap_or_default()
        };
        // Every update installed before each update, through `after` chains, computed once.
        let before: Vec<Vec<usize>> = (0..self.updates.len()).map(|u| self.installed_before(u)).collect();
        let must_follow = |a: (usize, Option<usize>), b: (usize, Option<usize>)| {
            let earlier = updates_of(b);
            updates_of(a).iter().any(|u| before.get(*u).is_some_and(|b| b.iter().any(|v| earlier.contains(v))))
        };
        let mut placed: Vec<(usize, Option<usize>)> = Vec::new();
        let mut waiting = items;
        while !waiting.is_empty() {
            let next = waiting.iter().position(|a| !waiting.iter().any(|b| b != a && must_follow(*a, *b))).unwrap_or(0); // a cycle was reported as P0108; keep file order
            placed.push(waiting.remove(next));
        }
        placed
    }

    fn unknown<'n>(
        &mut self,
        kind: &str,
        name: &str,
        span: Span,
        known: impl IntoIterator<Item = &'n str>,
        hint: &str,
    ) {
        let known: Vec<&str> = known.into_iter().collect();
        let d =
            Diagnostic::error("P0100", format!("unknown {kind} `{name}`"), span, format!("no {kind} is called this"));
        let d = match suggest(name, known.iter().copied()) {
            Some(best) => d.with_help(format!("did you mean `{best}`?")).with_fix(span, best),
            None if !hint.is_empty() => d.with_help(hint.to_string()),
            None if !known.is_empty() && known.len() <= 12 => d.with_help(format!("known: {}", backticked(&known))),
            None => d,
        };
        self.error(d);
    }
}

fn collect_paths(fields: &[ast::Field], prefix: &str, out: &mut std::collections::HashSet<String>) {
    for f in fields {
        let dotted = if prefix.is_empty() { f.name.name.clone() } else { format!("{prefix}.{}", f.name.name) };
        if let ast::FieldKind::Group(children) = &f.kind {
            collect_paths(children, &dotted, out);
        }
        out.insert(dotted);
    }
}

fn missing_item(span: Span, what: &str, example: &str) -> Diagnostic {
    Diagnostic::error(
        "P0103",
        format!("the rules file has no `{what}` block"),
        span,
        format!("`{what}` expected in this file"),
    )
    .with_help(format!("add one, for example `{example}`"))
}

pub(crate) fn backticked(items: &[&str]) -> String {
    items.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
}
