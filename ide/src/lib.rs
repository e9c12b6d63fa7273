//! Language intelligence for rules files, for every editor: the language server (`preflight
//! lsp`) and the playground in the browser use it alike. No protocol types here — byte offsets
//! in, plain data out — and nothing that does not build for `wasm32-unknown-unknown`.
//!
//! [`Index`] resolves every name of a parsed file *by kind*: an OS and a rule may share a name
//! and stay apart; a fact is found where it is declared (`version` inside `os { }` is
//! `os.version`), in conditions, in message placeholders (`{os.version}`) and in tests' `given`
//! blocks (a key, or a product's id in a string); a rule in tests' `fires`. References, rename and
//! definition follow from it. [`outline`] and [`folding`] give the file's structure.

use preflight_compiler::ast::{self, Expr, ExprKind, Item, Json, JsonKind, LitKind, PropValue};
use std::collections::HashMap;

mod analysis;
pub mod complete;
mod declared;

pub use analysis::Analysis;
pub use complete::{Completion, Completions, ItemKind, complete};
pub use declared::{Declaration, declarations};

/// What a name names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Advisory,
    Fact,
    /// A group of facts (`os` in `os { version: build }`).
    Group,
    Let,
    Rule,
    Test,
    Os,
    Product,
    Update,
    Series,
    Certificate,
    Component,
    Setting,
    Action,
    Milestone,
}

impl Kind {
    /// The word the language uses for it.
    pub fn word(self) -> &'static str {
        match self {
            Kind::Advisory => "advisory",
            Kind::Fact => "fact",
            Kind::Group => "group of facts",
            Kind::Let => "let",
            Kind::Rule => "rule",
            Kind::Test => "test",
            Kind::Os => "os",
            Kind::Product => "product",
            Kind::Update => "update",
            Kind::Series => "series",
            Kind::Certificate => "certificate",
            Kind::Component => "component",
            Kind::Setting => "setting",
            Kind::Action => "action",
            Kind::Milestone => "milestone",
        }
    }

    pub(crate) fn of_decl(kind: ast::DeclKind) -> Kind {
        match kind {
            ast::DeclKind::Advisory => Kind::Advisory,
            ast::DeclKind::Product => Kind::Product,
            ast::DeclKind::Os => Kind::Os,
            ast::DeclKind::Update => Kind::Update,
            ast::DeclKind::Certificate => Kind::Certificate,
            ast::DeclKind::Component => Kind::Component,
            ast::DeclKind::Setting => Kind::Setting,
            ast::DeclKind::Action => Kind::Action,
            ast::DeclKind::Milestone => Kind::Milestone,
        }
    }
}

/// Where a name is written. `span` covers what a rename replaces: the whole name, or, where
/// only the last part of a fact path is written (`version` inside `os { }`, a `given` key), that
/// part (`last_part`).
#[derive(Clone, Debug, PartialEq)]
pub struct Occurrence {
    pub kind: Kind,
    /// The full name (`os.version`, `KB5011487`, `win10`).
    pub name: String,
    pub span: (usize, usize),
    pub declaration: bool,
    pub last_part: bool,
}

/// One replacement: the text at `span` becomes `text`.
#[derive(Clone, Debug, PartialEq)]
pub struct Edit {
    pub span: (usize, usize),
    pub text: String,
}

/// Every name of one file, by kind.
#[derive(Clone, Debug, Default)]
pub struct Index {
    pub occurrences: Vec<Occurrence>,
    /// What each declared name is (this file's and the used files'), for resolving bare names.
    kinds: HashMap<String, Vec<Kind>>,
    /// Fact paths → their type's name (`product`, `kbs`, ...), for tests' `given` values.
    fact_types: HashMap<String, String>,
}

/// The order bare names resolve in where a condition reads them, as the checker reads them: a
/// top-level fact, a `let`, a milestone, an OS, a product, ...
const BARE: [Kind; 10] = [
    Kind::Fact,
    Kind::Let,
    Kind::Milestone,
    Kind::Os,
    Kind::Product,
    Kind::Certificate,
    Kind::Component,
    Kind::Setting,
    Kind::Action,
    Kind::Series,
];

impl Index {
    /// The index of `text`, or `None` when it does not parse.
    pub fn parse(text: &str) -> Option<Index> {
        let file = preflight_compiler::syntax::parse(text).ok()?;
        Some(Index::new(&file, text, &[]))
    }

    /// The index of a parsed file; `used` are the files it `use`s (their declarations resolve
    /// names, their occurrences are not listed).
    pub fn new(file: &ast::File, text: &str, used: &[&ast::File]) -> Index {
        let mut index = Index::default();
        for other in used {
            let mut outside = Index::default();
            outside.declare_all(other);
            for (name, kinds) in outside.kinds {
                index.kinds.entry(name).or_default().extend(kinds);
            }
            index.fact_types.extend(outside.fact_types);
        }
        index.declare_all(file);
        index.occurrences.retain(|o| o.declaration);
        index.refer_all(file, text);
        index.occurrences.sort_by_key(|o| o.span);
        index
    }

    /// The occurrence at `offset` (the innermost when several hold it; the end of a name counts,
    /// as an editor's cursor after it).
    pub fn at(&self, offset: usize) -> Option<&Occurrence> {
        self.occurrences.iter().filter(|o| o.span.0 <= offset && offset <= o.span.1).min_by_key(|o| o.span.1 - o.span.0)
    }

    /// Every occurrence of the named symbol, its declaration first.
    pub fn references(&self, kind: Kind, name: &str) -> Vec<&Occurrence> {
        let mut found: Vec<&Occurrence> =
            self.occurrences.iter().filter(|o| o.kind == kind && o.name == name).collect();
        found.sort_by_key(|o| (!o.declaration, o.span));
        found
    }

    /// Where this file declares the symbol (`None`: a used file declares it, or nothing does).
    pub fn declaration(&self, kind: Kind, name: &str) -> Option<&Occurrence> {
        self.occurrences.iter().find(|o| o.declaration && o.kind == kind && o.name == name)
    }

    /// What a rename at `offset` would rename: the span to select and the name to show.
    pub fn prepare_rename(&self, offset: usize) -> Result<((usize, usize), String), String> {
        let Some(o) = self.at(offset) else { return Err("there is no name to rename here".into()) };
        let Some(declared) = self.declaration(o.kind, &o.name) else {
            return Err(format!(
                "{} `{}` is not declared in this file: rename it where it is declared",
                o.kind.word(),
                o.name
            ));
        };
        if matches!(declared.kind, Kind::Test | Kind::Advisory | Kind::Group) {
            return Err(format!("a {} is not renamed here: edit its name", declared.kind.word()));
        }
        Ok((o.span, o.name.clone()))
    }

    /// The edits that rename the symbol at `offset` to `new`, everywhere in the file; refused
    /// when `new` is not a name of the symbol's kind or another symbol is called so.
    pub fn rename(&self, offset: usize, new: &str) -> Result<Vec<Edit>, String> {
        self.prepare_rename(offset)?;
        let Some(o) = self.at(offset) else { return Err("there is no name to rename here".into()) };
        let (kind, old) = (o.kind, o.name.clone());
        let new = new.trim();
        let shown = preflight_compiler::diagnostic::printable(new);
        let plain =
            |w: &str| preflight_compiler::syntax::is_name(w) && !preflight_compiler::syntax::keywords().any(|k| k == w);
        let new_full = match kind {
            Kind::Update => {
                // Written with its prefix, as the language writes update ids.
                let kb = Some(new)
                    .filter(|n| n.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("kb")))
                    .and_then(preflight_compiler::value::Kb::parse);
                let Some(kb) = kb else {
                    return Err(format!("`{shown}` cannot replace `{old}`: write an update id such as KB5011487"));
                };
                kb.to_string()
            }
            Kind::Fact => {
                // A fact stays in its group: only its last part changes.
                let group = old.rsplit_once('.').map(|(g, _)| g);
                let last = match (group, new.rsplit_once('.')) {
                    (Some(g), Some((ng, last))) if ng == g => last,
                    (None, None) => new,
                    (Some(_), None) => new,
                    _ => {
                        return Err(format!(
                            "`{shown}` would move `{old}` to another group: a fact keeps its group, rename its last part"
                        ));
                    }
                };
                if !plain(last) {
                    return Err(format!(
                        "`{shown}` cannot replace `{old}`: a fact's name is letters, digits and `_`, not a keyword"
                    ));
                }
                group.map_or_else(|| last.to_string(), |g| format!("{g}.{last}"))
            }
            _ => {
                if !plain(new) {
                    return Err(format!(
                        "`{shown}` cannot replace `{old}`: write a name of letters, digits and `_`, not starting with a digit and not a keyword"
                    ));
                }
                new.to_string()
            }
        };
        if new_full == old {
            return Ok(Vec::new());
        }
        // Bare names share one namespace in conditions: a new name any of those kinds already
        // has would change what the conditions mean.
        if let Some(kinds) = self.kinds.get(&new_full) {
            let clash = kinds.iter().find(|k| **k == kind || (BARE.contains(k) && BARE.contains(&kind)));
            if let Some(clash) = clash {
                return Err(format!("`{new_full}` is already declared (a {}): choose another name", clash.word()));
            }
        }
        let last = new_full.rsplit('.').next().unwrap_or(&new_full).to_string();
        Ok(self
            .references(kind, &old)
            .into_iter()
            .map(|o| Edit { span: o.span, text: if o.last_part { last.clone() } else { new_full.clone() } })
            .collect())
    }

    fn declare(&mut self, kind: Kind, name: &str, span: ast::Span, last_part: bool) {
        self.kinds.entry(name.to_string()).or_default().push(kind);
        self.occurrences.push(Occurrence {
            kind,
            name: name.to_string(),
            span: (span.start as usize, span.end as usize),
            declaration: true,
            last_part,
        });
    }

    fn declare_all(&mut self, file: &ast::File) {
        for item in &file.items {
            match item {
                Item::Decl(d) => self.declare(Kind::of_decl(d.kind), &d.id.name, d.id.span, false),
                Item::Series(s) => {
                    self.declare(Kind::Series, &s.id.name, s.id.span, false);
                    for e in &s.entries {
                        self.declare(Kind::Update, &e.kb.raw, e.kb.span, false);
                    }
                }
                Item::Facts(f) => self.declare_fields("", &f.fields),
                Item::Let(l) => self.declare(Kind::Let, &l.name.name, l.name.span, false),
                Item::Rule(r) => self.declare(Kind::Rule, &r.name.name, r.name.span, false),
                Item::Test(t) => self.declare(Kind::Test, &t.name.name, t.name.span, false),
                Item::Use(_) | Item::Host(_) => {}
            }
        }
    }

    fn declare_fields(&mut self, prefix: &str, fields: &[ast::Field]) {
        for f in fields {
            let path = if prefix.is_empty() { f.name.name.clone() } else { format!("{prefix}.{}", f.name.name) };
            match &f.kind {
                ast::FieldKind::Group(children) => {
                    self.declare(Kind::Group, &path, f.name.span, !prefix.is_empty());
                    self.declare_fields(&path, children);
                }
                ast::FieldKind::Leaf { ty, .. } => {
                    let ty = match ty {
                        ast::TypeExpr::Named(id) => id.name.clone(),
                        ast::TypeExpr::Enum(..) => "enum".to_string(),
                    };
                    self.fact_types.insert(path.clone(), ty);
                    self.declare(Kind::Fact, &path, f.name.span, !prefix.is_empty());
                }
            }
        }
    }

    fn is(&self, name: &str, kind: Kind) -> bool {
        self.kinds.get(name).is_some_and(|k| k.contains(&kind))
    }

    fn refer(&mut self, kind: Kind, name: &str, span: (usize, usize), last_part: bool) {
        self.occurrences.push(Occurrence { kind, name: name.to_string(), span, declaration: false, last_part });
    }

    fn refer_at(&mut self, kind: Kind, name: &str, span: ast::Span) {
        self.refer(kind, name, (span.start as usize, span.end as usize), false);
    }

    /// A bare name in a condition or a property: what it is declared as, by [`BARE`]'s order.
    fn bare(&mut self, name: &str, span: ast::Span) {
        if let Some(kind) = BARE.iter().copied().find(|k| self.is(name, *k)) {
            self.refer_at(kind, name, span);
        }
    }

    fn update(&mut self, lit: &ast::Literal) {
        if lit.kind == LitKind::Kb {
            self.refer_at(Kind::Update, &canonical_kb(&lit.raw), lit.span);
        }
    }

    fn refer_all(&mut self, file: &ast::File, text: &str) {
        for item in &file.items {
            match item {
                Item::Decl(d) => self.props(&d.props),
                Item::Series(s) => {
                    self.props(&s.props);
                    for e in &s.entries {
                        self.props(&e.props);
                    }
                }
                Item::Facts(f) => self.field_conditions(&f.fields),
                Item::Host(h) => {
                    for (_, path) in &h.bindings {
                        self.refer_at(Kind::Fact, &path.to_string(), path.span);
                    }
                }
                Item::Let(l) => self.expr(&l.expr),
                Item::Rule(r) => self.rule(r, text),
                Item::Test(t) => self.test(t, text),
                Item::Use(_) => {}
            }
        }
    }

    fn props(&mut self, props: &[ast::Prop]) {
        for p in props {
            for os in &p.for_oses {
                self.refer_at(Kind::Os, &os.name, os.span);
            }
            for v in &p.values {
                match v {
                    PropValue::Literal(lit) => self.update(lit),
                    PropValue::Name(id) if p.key.name == "fact" => self.refer_at(Kind::Fact, &id.name, id.span),
                    PropValue::Name(id) if p.key.name == "applies" => self.refer_at(Kind::Os, &id.name, id.span),
                    PropValue::Name(id) => self.bare(&id.name, id.span),
                    PropValue::Path(path) => self.refer_at(Kind::Fact, &path.to_string(), path.span),
                    PropValue::Alias(..) | PropValue::Range(..) => {}
                }
            }
        }
    }

    fn field_conditions(&mut self, fields: &[ast::Field]) {
        for f in fields {
            match &f.kind {
                ast::FieldKind::Group(children) => self.field_conditions(children),
                ast::FieldKind::Leaf { condition: Some(c), .. } => self.expr(c),
                ast::FieldKind::Leaf { .. } => {}
            }
        }
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Or(parts) | ExprKind::And(parts) | ExprKind::List(parts) => {
                parts.iter().for_each(|p| self.expr(p));
            }
            ExprKind::Not(inner) | ExprKind::Paren(inner) => self.expr(inner),
            ExprKind::Compare(l, _, r) | ExprKind::In(l, r) => {
                self.expr(l);
                self.expr(r);
            }
            ExprKind::Call(_, args) => args.iter().for_each(|a| self.expr(a)),
            ExprKind::Literal(lit) => self.update(lit),
            ExprKind::Path(path) => self.path(path),
        }
    }

    fn path(&mut self, path: &ast::Path) {
        match path.segments.as_slice() {
            [name] => self.bare(name, path.span),
            [first, ..] if first == "host" => {}
            _ => self.refer_at(Kind::Fact, &path.to_string(), path.span),
        }
    }

    fn rule(&mut self, r: &ast::Rule, text: &str) {
        for clause in &r.clauses {
            match clause {
                ast::Clause::When(e) => self.expr(e),
                ast::Clause::Require(groups, _) => {
                    for need in groups.iter().flat_map(|g| &g.needs) {
                        match need {
                            ast::Need::Update(lit) => self.update(lit),
                            ast::Need::Certificate(id) => self.refer_at(Kind::Certificate, &id.name, id.span),
                            ast::Need::Component { id, version, .. } => {
                                self.refer_at(Kind::Component, &id.name, id.span);
                                self.expr(version);
                            }
                            ast::Need::Setting(id, value) => {
                                self.refer_at(Kind::Setting, &id.name, id.span);
                                if let Some(v) = value {
                                    self.expr(v);
                                }
                            }
                            ast::Need::Action(id) => self.refer_at(Kind::Action, &id.name, id.span),
                            ast::Need::Latest { of, since, .. } => {
                                if self.is(&of.name, Kind::Series) {
                                    self.refer_at(Kind::Series, &of.name, of.span);
                                }
                                self.expr(since);
                            }
                        }
                    }
                }
                ast::Clause::Severity { otherwise: Some((cond, _)), .. } => self.expr(cond),
                ast::Clause::Severity { .. } | ast::Clause::Cite(_) | ast::Clause::Link(_) => {}
                ast::Clause::Message(lit) => self.placeholders(lit, text),
                ast::Clause::Certificate(id) => self.refer_at(Kind::Certificate, &id.name, id.span),
            }
        }
    }

    /// `{os.version}`, `{target}`, `{release_date(KB5011487)}` inside a message.
    fn placeholders(&mut self, lit: &ast::Literal, text: &str) {
        // The literal's text in the source, quotes included; the placeholders are found there.
        let start = lit.span.start as usize;
        let Some(source) = text.get(start..lit.span.end as usize) else { return };
        let mut from = 0;
        while let Some(open) = source.get(from..).and_then(|s| s.find('{')).map(|i| from + i) {
            let Some(close) = source.get(open..).and_then(|s| s.find('}')).map(|i| open + i) else { break };
            from = close + 1;
            let Some(inner) = source.get(open + 1..close) else { continue };
            let lead = inner.len() - inner.trim_start().len();
            let name = inner.trim();
            let at = start + open + 1 + lead;
            if let Some(args) = name.strip_suffix(')').and_then(|n| n.split_once('(')).map(|(_, a)| a) {
                // A function of updates: each KB inside.
                let mut offset = at + name.find('(').unwrap_or(0) + 1;
                for part in args.split(',') {
                    let lead = part.len() - part.trim_start().len();
                    let kb = part.trim();
                    if !kb.is_empty() {
                        self.refer(Kind::Update, &canonical_kb(kb), (offset + lead, offset + lead + kb.len()), false);
                    }
                    offset += part.len() + 1;
                }
            } else if name.split('.').all(preflight_compiler::syntax::is_name) && !name.is_empty() {
                let segments: Vec<String> = name.split('.').map(str::to_string).collect();
                let span = ast::Span::new(at, at + name.len());
                self.path(&ast::Path { segments, span });
            }
        }
    }

    fn test(&mut self, t: &ast::Test, text: &str) {
        self.given(&t.given, "", text);
        match &t.expect {
            ast::Expect::Error { at: Some(path), .. } => {
                // `at hotfixes[0]`: the fact is the path without its index.
                let name = path.to_string();
                let fact = name.split('[').next().unwrap_or(&name).to_string();
                if self.is(&fact, Kind::Fact) {
                    let start = path.span.start as usize;
                    self.refer(Kind::Fact, &fact, (start, start + fact.len()), false);
                }
            }
            ast::Expect::Error { .. } => {}
            ast::Expect::Status { items, .. } => self.expectations(items),
        }
    }

    fn expectations(&mut self, items: &[ast::Expectation]) {
        for item in items {
            match item {
                ast::Expectation::Install(kbs, _) => kbs.iter().for_each(|k| self.update(k)),
                ast::Expectation::Certificate(id) => self.refer_at(Kind::Certificate, &id.name, id.span),
                ast::Expectation::Component(id) => self.refer_at(Kind::Component, &id.name, id.span),
                ast::Expectation::Setting(id) => self.refer_at(Kind::Setting, &id.name, id.span),
                ast::Expectation::Action(id) => self.refer_at(Kind::Action, &id.name, id.span),
                ast::Expectation::AnyOf(steps, _) => self.expectations(steps),
                ast::Expectation::Fires(id, _) | ast::Expectation::Undetermined(id, _) => {
                    self.refer_at(Kind::Rule, &id.name, id.span);
                }
            }
        }
    }

    /// A test's `given` object: keys are facts (or groups) under `prefix`; a product fact's
    /// string names a product, a `kbs` fact's strings updates, a bare name a milestone.
    fn given(&mut self, json: &Json, prefix: &str, text: &str) {
        let JsonKind::Object(members) = &json.kind else { return };
        for (key, value) in members {
            let path = if prefix.is_empty() { key.name.clone() } else { format!("{prefix}.{}", key.name) };
            let span = unquoted(key.span, text);
            let nested = !prefix.is_empty();
            if self.is(&path, Kind::Group) {
                self.refer(Kind::Group, &path, span, nested);
                self.given(value, &path, text);
                continue;
            }
            if !self.is(&path, Kind::Fact) {
                continue;
            }
            self.refer(Kind::Fact, &path, span, nested);
            let ty = self.fact_types.get(&path).cloned().unwrap_or_default();
            let values: Vec<&Json> = match &value.kind {
                JsonKind::Array(items) => items.iter().collect(),
                _ => vec![value],
            };
            for v in values {
                match &v.kind {
                    JsonKind::String(s) if ty == "product" && self.is(s, Kind::Product) => {
                        self.refer(Kind::Product, s, unquoted(v.span, text), false);
                    }
                    JsonKind::String(s) if ty == "kbs" && self.is(&canonical_kb(s), Kind::Update) => {
                        self.refer(Kind::Update, &canonical_kb(s), unquoted(v.span, text), false);
                    }
                    JsonKind::Name(n) if self.is(n, Kind::Milestone) => self.refer_at(Kind::Milestone, n, v.span),
                    _ => {}
                }
            }
        }
    }
}

/// `kb5011487` → `KB5011487` (the checker's canonical id); what is no KB id, as written.
fn canonical_kb(raw: &str) -> String {
    preflight_compiler::value::Kb::parse(raw).map_or_else(|| raw.to_string(), |kb| kb.to_string())
}

/// A span without the quotes around it, if it is a quoted string.
fn unquoted(span: ast::Span, text: &str) -> (usize, usize) {
    let (a, b) = (span.start as usize, span.end as usize);
    match text.get(a..b) {
        Some(s) if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') => (a + 1, b - 1),
        _ => (a, b),
    }
}

/// One entry of a file's outline: a declaration, a rule, a test, a fact (groups hold their facts).
#[derive(Clone, Debug, PartialEq)]
pub struct OutlineItem {
    pub name: String,
    pub kind: Kind,
    /// The whole item, and its name within it.
    pub span: (usize, usize),
    pub name_span: (usize, usize),
    pub children: Vec<OutlineItem>,
}

/// The file's items in order, for an outline.
pub fn outline(file: &ast::File) -> Vec<OutlineItem> {
    let at = |s: ast::Span| (s.start as usize, s.end as usize);
    let item = |name: &str, kind: Kind, span: ast::Span, name_span: ast::Span, children: Vec<OutlineItem>| {
        OutlineItem { name: name.to_string(), kind, span: at(span), name_span: at(name_span), children }
    };
    fn fields(list: &[ast::Field]) -> Vec<OutlineItem> {
        list.iter()
            .map(|f| OutlineItem {
                name: f.name.name.clone(),
                kind: if matches!(f.kind, ast::FieldKind::Group(_)) { Kind::Group } else { Kind::Fact },
                span: (f.span.start as usize, f.span.end as usize),
                name_span: (f.name.span.start as usize, f.name.span.end as usize),
                children: match &f.kind {
                    ast::FieldKind::Group(children) => fields(children),
                    ast::FieldKind::Leaf { .. } => Vec::new(),
                },
            })
            .collect()
    }
    file.items
        .iter()
        .filter_map(|i| match i {
            Item::Decl(d) => Some(item(&d.id.name, Kind::of_decl(d.kind), d.span, d.id.span, Vec::new())),
            Item::Series(s) => {
                let entries =
                    s.entries.iter().map(|e| item(&e.kb.raw, Kind::Update, e.span, e.kb.span, Vec::new())).collect();
                Some(item(&s.id.name, Kind::Series, s.span, s.id.span, entries))
            }
            Item::Facts(f) => Some(OutlineItem {
                name: "facts".into(),
                kind: Kind::Group,
                span: at(f.span),
                name_span: (f.span.start as usize, f.span.start as usize + 5),
                children: fields(&f.fields),
            }),
            Item::Let(l) => Some(item(&l.name.name, Kind::Let, l.span, l.name.span, Vec::new())),
            Item::Rule(r) => Some(item(&r.name.name, Kind::Rule, r.span, r.name.span, Vec::new())),
            Item::Test(t) => Some(item(&t.name.name, Kind::Test, t.span, t.name.span, Vec::new())),
            Item::Use(_) | Item::Host(_) => None,
        })
        .collect()
}

/// Ranges an editor may fold (byte offsets of each block's first and last character): every
/// item, fact group and `given` object that spans several lines, and runs of comment lines.
pub fn folding(file: &ast::File, text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut add = |s: ast::Span| {
        let (a, b) = (s.start as usize, s.end as usize);
        if text.get(a..b).is_some_and(|t| t.contains('\n')) {
            out.push((a, b));
        }
    };
    fn groups(list: &[ast::Field], add: &mut dyn FnMut(ast::Span)) {
        for f in list {
            if let ast::FieldKind::Group(children) = &f.kind {
                add(f.span);
                groups(children, add);
            }
        }
    }
    fn objects(json: &Json, add: &mut dyn FnMut(ast::Span)) {
        match &json.kind {
            JsonKind::Object(members) => {
                add(json.span);
                members.iter().for_each(|(_, v)| objects(v, add));
            }
            JsonKind::Array(items) => items.iter().for_each(|v| objects(v, add)),
            _ => {}
        }
    }
    for i in &file.items {
        match i {
            Item::Decl(d) => add(d.span),
            Item::Series(s) => add(s.span),
            Item::Facts(f) => {
                add(f.span);
                groups(&f.fields, &mut add);
            }
            Item::Host(h) => add(h.span),
            Item::Let(l) => add(l.span),
            Item::Rule(r) => add(r.span),
            Item::Test(t) => {
                add(t.span);
                objects(&t.given, &mut add);
            }
            Item::Use(_) => {}
        }
    }
    // Comment blocks of three lines or more.
    let mut offset = 0;
    let mut run: Option<(usize, usize, usize)> = None;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let end = offset + line.trim_end().len();
        if trimmed.starts_with("//") {
            run = Some(match run {
                Some((start, _, n)) => (start, end, n + 1),
                None => (offset + (line.len() - trimmed.len()), end, 1),
            });
        } else if let Some((start, end, n)) = run.take()
            && n >= 3
        {
            out.push((start, end));
        }
        offset += line.len();
    }
    if let Some((start, end, n)) = run
        && n >= 3
    {
        out.push((start, end));
    }
    out.sort_unstable();
    out
}

/// How a stretch of the text is coloured: by the parser's class of the token, or, for a name the
/// parser leaves unclassed (in a condition, a placeholder, a `given` value), by what it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Highlight {
    Token(preflight_compiler::highlight::Class),
    Name(Kind),
}

/// Every coloured stretch of a file, in order and never overlapping; `index` adds the names by
/// meaning. A file that does not parse is coloured without its broken items (`None` when not
/// even that parses).
pub fn highlights(text: &str, index: Option<&Index>) -> Option<Vec<((usize, usize), Highlight)>> {
    let tokens = match preflight_compiler::highlight::tokens(text) {
        Ok(tokens) => tokens,
        Err(_) => {
            preflight_compiler::highlight::tokens(&preflight_compiler::syntax::parse_recovering(text).parsable?).ok()?
        }
    };
    let mut spans: Vec<((usize, usize), Highlight)> =
        tokens.iter().map(|t| ((t.span.start as usize, t.span.end as usize), Highlight::Token(t.class))).collect();
    if let Some(index) = index {
        // Names no token covers (strings and comments hold placeholders and `given` values).
        let covered = |a: usize, b: usize| {
            let i = spans.partition_point(|((s, _), _)| *s <= a);
            let before = i.checked_sub(1).and_then(|k| spans.get(k)).is_some_and(|((_, e), _)| *e > a);
            let after = spans.get(i).is_some_and(|((s, _), _)| *s < b);
            before || after
        };
        let extra: Vec<((usize, usize), Highlight)> = index
            .occurrences
            .iter()
            .filter(|o| !o.declaration && !covered(o.span.0, o.span.1))
            .map(|o| (o.span, Highlight::Name(o.kind)))
            .collect();
        spans.extend(extra);
        spans.sort_by_key(|(span, _)| *span);
        spans.dedup_by_key(|(span, _)| span.0);
    }
    Some(spans)
}

/// What hover shows for a declared name: its declaration (the first 14 lines, without its
/// `///` lines) as a `preflight` code block, then its docs, as Markdown.
pub fn hover(declaration: &Declaration, text: &str) -> Option<String> {
    let text = declaration.origin.as_ref().map_or(text, |o| o.1.as_str());
    let block = text.get(declaration.span.0..declaration.span.1)?;
    // The docs follow the block: they are not shown twice.
    let code = || block.lines().skip_while(|l| l.trim_start().starts_with("///"));
    let shown: Vec<&str> = code().take(14).collect();
    let more = if code().count() > shown.len() { "\n  …" } else { "" };
    let mut value = format!("```preflight\n{}{more}\n```", shown.join("\n"));
    if !declaration.docs.is_empty() {
        value.push_str(&format!("\n\n{}", declaration.docs.join("\n")));
    }
    Some(value)
}

/// The declaration of what the occurrence names, among `declared` (this file's and the used
/// files'), of the same kind: a rule and an OS of one name stay apart.
pub fn declaration_of<'d>(declared: &'d [Declaration], o: &Occurrence) -> Option<&'d Declaration> {
    let same =
        |kind: Kind| kind == o.kind || matches!((kind, o.kind), (Kind::Fact | Kind::Group, Kind::Fact | Kind::Group));
    declared.iter().find(|d| d.name == o.name && same(d.kind))
}

/// A diagnostic's fix as an editor offers it: a title, and the text that replaces a span.
#[derive(Clone, Debug, PartialEq)]
pub struct QuickFix {
    pub title: String,
    pub edit: Edit,
    /// Which of the diagnostics it fixes (an index into the list given).
    pub diagnostic: usize,
}

/// The quick fixes the diagnostics carry ("did you mean `KB5011487`?", a date written
/// `2022-03-08`...), each titled with what it replaces.
pub fn quick_fixes(text: &str, diagnostics: &[preflight_compiler::Diagnostic]) -> Vec<QuickFix> {
    diagnostics
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            let fix = d.fix.as_ref()?;
            let old = text.get(fix.span.range()).unwrap_or_default();
            Some(QuickFix {
                title: format!("Replace `{old}` with `{}`", fix.replacement),
                edit: Edit { span: (fix.span.start as usize, fix.span.end as usize), text: fix.replacement.clone() },
                diagnostic: i,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
