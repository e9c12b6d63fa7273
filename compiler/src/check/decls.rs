//! Declarations: the advisory header, products, OS versions, updates, certificates, the facts
//! schema and the host roles.

use super::{Checker, Declared, Scope};
use crate::ast::{self, DeclKind, LitKind, PropValue, Span};
use crate::diagnostic::Diagnostic;
use crate::ir::{self, BuildPattern, Presence, Type, Value};
use crate::value::{Date, Kb, Version};
use std::collections::HashMap;

/// The type names a fact can have (besides `enum(...)`).
/// The sources a fact's `from` can name.
pub const SOURCES: [&str; 9] =
    ["registry", "cim", "env", "file_version", "cert_store", "uefi", "hotfixes", "uninstall", "powershell"];

pub const TYPE_NAMES: [&str; 8] = ["bool", "int", "string", "date", "version", "build", "kbs", "product"];

/// Properties that take a list of values.
const LIST_KEYS: [&str; 5] = ["applies", "versions", "build", "supersedes", "platforms"];

/// Properties that may be given more than once (each adds a value).
const REPEATABLE: [&str; 1] = ["link"];

/// Update properties that may be given per OS version with `for`.
const PER_OS: [&str; 2] = ["released", "revision"];

/// OS properties that may be given per edition with `for`.
const PER_EDITION: [&str; 2] = ["end_of_support", "esu_until"];

impl<'a> Checker<'a> {
    /// Registers a declaration's id so that rules anywhere in the file can name it.
    pub(super) fn declare(&mut self, d: &ast::Decl) {
        let name = d.id.name.clone();
        match d.kind {
            DeclKind::Product => {
                let index = self.names.products.len();
                self.register("product", &name, d.id.span, index, |n| &mut n.products);
            }
            DeclKind::Os => {
                let index = self.names.oses.len();
                self.register("os", &name, d.id.span, index, |n| &mut n.oses);
            }
            DeclKind::Update => {
                let Some(kb) = self.kb_literal(&name, d.id.span) else { return };
                let index = self.names.updates.len();
                self.register("update", &kb.to_string(), d.id.span, index, |n| &mut n.updates);
            }
            DeclKind::Certificate => {
                let index = self.names.certificates.len();
                self.register("certificate", &name, d.id.span, index, |n| &mut n.certificates);
            }
            DeclKind::Component => {
                let index = self.names.components.len();
                self.register("component", &name, d.id.span, index, |n| &mut n.components);
            }
            DeclKind::Setting => {
                let index = self.names.settings.len();
                self.register("setting", &name, d.id.span, index, |n| &mut n.settings);
            }
            DeclKind::Action => {
                let index = self.names.actions.len();
                self.register("action", &name, d.id.span, index, |n| &mut n.actions);
            }
            DeclKind::Milestone => {
                let index = self.names.milestones.len();
                self.register("milestone", &name, d.id.span, index, |n| &mut n.milestones);
            }
            DeclKind::Advisory => {}
        }
    }

    /// A series as the update declarations it stands for: each entry gets the series'
    /// properties, its date and title, and supersedes the entry before it.
    pub(super) fn expand_series(&mut self, series: &ast::Series) -> Vec<ast::Decl> {
        for prop in &series.props {
            if matches!(prop.key.name.as_str(), "released" | "title" | "supersedes" | "revision") {
                self.error(
                    Diagnostic::error(
                        "P0104",
                        format!("`{}` belongs to one entry of a series, not to the whole series", prop.key.name),
                        prop.key.span,
                        "for every entry",
                    )
                    .with_help("give it in the entry's block: `KB5007236 2021-11-09 { ... }`"),
                );
            }
        }
        let mut out: Vec<ast::Decl> = Vec::new();
        let mut previous: Option<&ast::Literal> = None;
        for entry in &series.entries {
            let mut props = entry.props.clone();
            let synthetic = |key: &str, values: Vec<PropValue>, span: Span| ast::Prop {
                key: ast::Ident { name: key.to_string(), span },
                values,
                for_oses: Vec::new(),
                span,
            };
            props.push(synthetic("released", vec![PropValue::Literal(entry.released.clone())], entry.released.span));
            if let Some(title) = &entry.title {
                props.push(synthetic("title", vec![PropValue::Literal(title.clone())], title.span));
            }
            if let Some(prev) = previous {
                let value = PropValue::Literal(prev.clone());
                match props.iter_mut().find(|p| p.key.name == "supersedes") {
                    Some(own) => own.values.push(value),
                    None => props.push(synthetic("supersedes", vec![value], entry.kb.span)),
                }
            }
            let inherited: Vec<ast::Prop> =
                series.props.iter().filter(|p| !props.iter().any(|q| q.key.name == p.key.name)).cloned().collect();
            props.extend(inherited);
            out.push(ast::Decl {
                kind: DeclKind::Update,
                docs: entry.docs.clone(),
                id: ast::Ident { name: entry.kb.raw.clone(), span: entry.kb.span },
                props,
                span: entry.span,
            });
            previous = Some(&entry.kb);
        }
        out
    }

    /// Lowers a declaration registered by [`Checker::declare`]. Duplicates were reported there and
    /// are skipped here, so indexes stay aligned with the name tables.
    pub(super) fn lower_decl(&mut self, d: &ast::Decl) {
        let is_first = |declared: Option<&Declared>| declared.is_some_and(|x| x.span == d.id.span);
        match d.kind {
            DeclKind::Product if is_first(self.names.products.get(&d.id.name)) => {
                let product = self.lower_product(d);
                self.products.push(product);
            }
            DeclKind::Os if is_first(self.names.oses.get(&d.id.name)) => {
                let os = self.lower_os(d);
                self.oses.push(os);
            }
            DeclKind::Update => {
                let Some(kb) = Kb::parse(&d.id.name) else { return };
                if is_first(self.names.updates.get(&kb.to_string())) {
                    let update = self.lower_update(d, kb);
                    self.updates.push(update);
                    self.update_spans.push(d.id.span);
                }
            }
            DeclKind::Certificate if is_first(self.names.certificates.get(&d.id.name)) => {
                let cert = self.lower_certificate(d);
                self.certificates.push(cert);
            }
            DeclKind::Component if is_first(self.names.components.get(&d.id.name)) => {
                let props = self.props(d);
                let fact = self.fact_of(d, &props, &[Type::Version, Type::Build], "a version").unwrap_or_default();
                let component = ir::Component {
                    id: d.id.name.clone(),
                    name: self.required_string(d, &props, "name"),
                    fact,
                    links: self.links(d),
                };
                self.components.push(component);
            }
            DeclKind::Action if is_first(self.names.actions.get(&d.id.name)) => {
                let props = self.props(d);
                let fact =
                    if props.contains_key("fact") { self.fact_of(d, &props, &[Type::Bool], "a bool") } else { None };
                let action = ir::Action {
                    id: d.id.name.clone(),
                    name: self.required_string(d, &props, "name"),
                    fact,
                    links: self.links(d),
                };
                self.actions.push(action);
            }
            DeclKind::Milestone if is_first(self.names.milestones.get(&d.id.name)) => {
                let props = self.props(d);
                let date = self.required(d, &props, "date", "date 2026-06-24").and_then(|p| self.date(p));
                let milestone = ir::Milestone {
                    id: d.id.name.clone(),
                    title: props.get("title").map(|p| self.string(p)).unwrap_or_default(),
                    date: date.unwrap_or(Date::LAST),
                    docs: d.docs.clone(),
                    links: self.links(d),
                };
                self.milestones.push(milestone);
            }
            DeclKind::Setting if is_first(self.names.settings.get(&d.id.name)) => {
                let props = self.props(d);
                let fact = self.fact_of(d, &props, &[], "").unwrap_or_default();
                let setting = ir::Setting {
                    id: d.id.name.clone(),
                    name: self.required_string(d, &props, "name"),
                    fact,
                    links: self.links(d),
                };
                self.settings.push(setting);
            }
            _ => {}
        }
    }

    pub(super) fn lower_advisory(&mut self, d: &ast::Decl) -> ir::Advisory {
        let props = self.props(d);
        ir::Advisory {
            id: d.id.name.clone(),
            title: self.required_string(d, &props, "title"),
            source: props.get("source").map(|p| self.string(p)).unwrap_or_default(),
            published: self.required(d, &props, "published", "published 2022-12-22").and_then(|p| self.date(p)),
            updated: props.get("updated").and_then(|p| self.date(p)),
            cutover: props.get("cutover").and_then(|p| self.date(p)),
            links: self.links(d),
        }
    }

    fn lower_product(&mut self, d: &ast::Decl) -> ir::Product {
        let props = self.props(d);
        let versions = self.required(d, &props, "versions", "versions 1.0, 2.0").and_then(|p| self.product_versions(p));
        let platforms = props.get("platforms").map(|p| self.names_of(p)).unwrap_or_default();
        let detect = props.get("detect").map(|p| self.strings(p)).unwrap_or_default();
        ir::Product {
            id: d.id.name.clone(),
            name: self.required_string(d, &props, "name"),
            versions: versions.unwrap_or(None),
            platforms: platforms.into_iter().map(|i| i.name).collect(),
            detect,
            links: self.links(d),
        }
    }

    /// `versions all` or `versions 9.6, 10.0, 2019 = 14.0`.
    fn product_versions(&mut self, prop: &ast::Prop) -> Option<Option<Vec<ir::ListedVersion>>> {
        if let [PropValue::Name(name)] = prop.values.as_slice()
            && name.name == "all"
        {
            return Some(None);
        }
        let mut listed = Vec::new();
        for value in &prop.values {
            let spellings = match value {
                PropValue::Literal(lit) => vec![self.version_literal(lit)?],
                PropValue::Alias(a, b, _) => vec![self.version_literal(a)?, self.version_literal(b)?],
                other => {
                    self.wrong_value(prop, other.span(), "a version (`1.0`), an alias (`2019 = 14.0`) or `all`");
                    return None;
                }
            };
            listed.push(ir::ListedVersion { spellings });
        }
        Some(Some(listed))
    }

    fn lower_os(&mut self, d: &ast::Decl) -> ir::Os {
        let props = self.props(d);
        let builds =
            self.required(d, &props, "build", "build 10.0.19044").map(|p| self.build_patterns(p)).unwrap_or_default();
        let role = props.get("role").and_then(|p| self.os_role(p));
        let end_of_support_for = self.per_edition(d, "end_of_support");
        let esu_until_for = self.per_edition(d, "esu_until");
        ir::Os {
            id: d.id.name.clone(),
            name: self.required_string(d, &props, "name"),
            builds,
            role,
            end_of_support: props.get("end_of_support").and_then(|p| self.date(p)),
            end_of_support_for,
            esu_until: props.get("esu_until").and_then(|p| self.date(p)),
            esu_until_for,
            links: self.links(d),
        }
    }

    /// `KEY DATE for EDITION, ...` properties of an OS: (edition variant, date) pairs. The
    /// editions are variants of the `os_edition` role's enum.
    fn per_edition(&mut self, d: &ast::Decl, key: &str) -> Vec<(usize, Date)> {
        let mut out: Vec<(usize, Date)> = Vec::new();
        for prop in d.props.iter().filter(|p| p.key.name == key && !p.for_oses.is_empty()) {
            let Some(date) = self.date(prop) else { continue };
            let Some(first) = prop.for_oses.first() else { continue };
            let Some(edition) = self.host.as_ref().and_then(|h| h.os_edition) else {
                self.needs_role("os_edition", "a date `for` editions", first.span);
                continue;
            };
            let Some(Type::Enum(variants)) = self.fields.get(edition).map(|f| f.ty.clone()) else { continue };
            for name in &prop.for_oses {
                match variants.iter().position(|v| *v == name.name) {
                    Some(v) if out.iter().any(|(w, _)| *w == v) => self.error(
                        Diagnostic::error(
                            "P0105",
                            format!("`{key}` is given twice for edition `{}` of os `{}`", name.name, d.id.name),
                            name.span,
                            "given again here",
                        )
                        .with_help("give each edition one date"),
                    ),
                    Some(v) => out.push((v, date)),
                    None => {
                        let known: Vec<&str> = variants.iter().map(String::as_str).collect();
                        self.unknown("edition", &name.name, name.span, known, "");
                    }
                }
            }
        }
        out
    }

    fn build_patterns(&mut self, prop: &ast::Prop) -> Vec<BuildPattern> {
        let mut patterns = Vec::new();
        for value in &prop.values {
            let pattern = match value {
                PropValue::Literal(lit) if matches!(lit.kind, LitKind::Version | LitKind::Int) => {
                    self.version_literal(lit).map(BuildPattern::Prefix)
                }
                PropValue::Range(bounds, span) => self.build_range(bounds, *span),
                other => {
                    self.wrong_value(prop, other.span(), "a build (`10.0.19044`) or a range (`>= 10.0.22000`)");
                    None
                }
            };
            patterns.extend(pattern);
        }
        patterns
    }

    /// `>= 6.1 and < 6.2`: at most one lower and one upper bound, and some build between them.
    fn build_range(&mut self, bounds: &[(ast::CmpOp, ast::Literal)], span: ast::Span) -> Option<BuildPattern> {
        let mut versions = Vec::new();
        for (op, lit) in bounds {
            versions.push((*op, self.version_literal(lit)?));
        }
        let lower = |op: &ast::CmpOp| matches!(op, ast::CmpOp::Ge | ast::CmpOp::Gt);
        if let [(a, _), (b, _)] = versions.as_slice()
            && lower(a) == lower(b)
        {
            let which = if lower(a) { "lower" } else { "upper" };
            self.error(
                Diagnostic::error("P0104", format!("this build range has two {which} bounds"), span, "here")
                    .with_help("a range has at most one lower bound (`>=`, `>`) and one upper bound (`<=`, `<`): `>= 6.1 and < 6.2`"),
            );
            return None;
        }
        let pattern = BuildPattern::Range(versions);
        if pattern.is_empty() {
            self.error(
                Diagnostic::error(
                    "P0104",
                    format!("no build is in the range `{}`", pattern.text()),
                    span,
                    "empty range",
                )
                .with_help("the lower bound must be below the upper bound: `>= 6.1 and < 6.2`"),
            );
            return None;
        }
        Some(pattern)
    }

    /// `role server`: a variant of the enum the host's `os_role` fact has.
    fn os_role(&mut self, prop: &ast::Prop) -> Option<usize> {
        let name = self.one_name(prop)?;
        let Some(role_field) = self.host.as_ref().and_then(|h| h.os_role) else {
            self.needs_role("os_role", "an os `role`", name.span);
            return None;
        };
        let Some(Type::Enum(variants)) = self.fields.get(role_field).map(|f| f.ty.clone()) else { return None };
        match variants.iter().position(|v| *v == name.name) {
            Some(i) => Some(i),
            None => {
                let known: Vec<&str> = variants.iter().map(String::as_str).collect();
                self.unknown("role", &name.name, name.span, known, "");
                None
            }
        }
    }

    fn lower_update(&mut self, d: &ast::Decl, kb: Kb) -> ir::Update {
        let props = self.props(d);
        let applies =
            self.required(d, &props, "applies", "applies OS, OS").map(|p| self.os_names(p)).unwrap_or_default();
        let revision = props.get("revision").and_then(|p| self.revision(p));
        let supersedes = props.get("supersedes").map(|p| self.kbs(p)).unwrap_or_default();
        let mut released_for = Vec::new();
        let mut revision_for = Vec::new();
        for prop in d.props.iter().filter(|p| !p.for_oses.is_empty()) {
            let oses = self.per_os_targets(prop, &applies);
            match prop.key.name.as_str() {
                "released" => {
                    if let Some(date) = self.date(prop) {
                        released_for.extend(oses.into_iter().map(|os| (os, date)));
                    }
                }
                _ => {
                    if let Some(rev) = self.revision(prop) {
                        revision_for.extend(oses.into_iter().map(|os| (os, rev)));
                    }
                }
            }
        }
        let has_default_release = props.contains_key("released");
        let released = if released_for.is_empty() || has_default_release {
            self.required(d, &props, "released", "released 2024-01-09").and_then(|p| self.date(p))
        } else {
            None
        };
        ir::Update {
            kb,
            title: props.get("title").map(|p| self.string(p)).unwrap_or_default(),
            kind: props.get("kind").and_then(|p| self.one_name(p)).map(|i| i.name).unwrap_or_default(),
            released,
            released_for,
            applies,
            revision,
            revision_for,
            after: Vec::new(),
            supersedes,
            superseded_by: Vec::new(),
            links: self.links(d),
        }
    }

    fn revision(&mut self, prop: &ast::Prop) -> Option<u32> {
        self.int(prop).and_then(|n| u32::try_from(n).ok())
    }

    /// The OS versions a `... for a, b` property names; each must be one the update applies to,
    /// and each may be named once per property.
    fn per_os_targets(&mut self, prop: &ast::Prop, applies: &[usize]) -> Vec<usize> {
        let mut out = Vec::new();
        for name in &prop.for_oses {
            let Some(os) = self.names.oses.get(&name.name).map(|d| d.index) else {
                let known: Vec<String> = self.names.oses.keys().cloned().collect();
                self.unknown("os", &name.name, name.span, known.iter().map(String::as_str), "");
                continue;
            };
            if !applies.is_empty() && !applies.contains(&os) {
                self.error(
                    Diagnostic::error(
                        "P0106",
                        format!("`{}` is given for `{}`, which the update does not apply to", prop.key.name, name.name),
                        name.span,
                        "not in `applies`",
                    )
                    .with_help(format!("add `{}` to `applies`, or remove it here", name.name)),
                );
                continue;
            }
            out.push(os);
        }
        out
    }

    /// `after KB...`: the updates that must be installed first (resolved once all are declared).
    pub(super) fn link_after(&mut self, decls: &[&ast::Decl]) {
        for d in decls {
            let Some(kb) = Kb::parse(&d.id.name) else { continue };
            let Some(me) = self.names.updates.get(&kb.to_string()).filter(|x| x.span == d.id.span).map(|x| x.index)
            else {
                continue;
            };
            let mut after = Vec::new();
            for prop in d.props.iter().filter(|p| p.key.name == "after") {
                for value in &prop.values {
                    match value {
                        PropValue::Literal(lit) if lit.kind == LitKind::Kb => {
                            if let Some(id) = self.update_named(lit) {
                                after.push(id);
                            }
                        }
                        other => self.wrong_value(prop, other.span(), "an update id (`KB1234567`)"),
                    }
                }
            }
            if let Some(update) = self.updates.get_mut(me) {
                update.after = after;
            }
        }
        // A cycle would leave no order to install in.
        for (i, span) in self.update_spans.clone().into_iter().enumerate() {
            if self.installed_before(i).contains(&i) {
                let kb = self.updates.get(i).map(|u| u.kb.to_string()).unwrap_or_default();
                self.error(
                    Diagnostic::error(
                        "P0108",
                        format!("update `{kb}` must be installed after itself"),
                        span,
                        "part of a cycle",
                    )
                    .with_help("`after` names updates installed before this one; check the `after` lists"),
                );
            }
        }
    }

    /// Every update to install before `update`, through `after` chains (itself only in a cycle).
    pub(super) fn installed_before(&self, update: usize) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        let mut frontier = self.updates.get(update).map(|u| u.after.clone()).unwrap_or_default();
        while let Some(next) = frontier.pop() {
            if !out.contains(&next) {
                out.push(next);
                frontier.extend(self.updates.get(next).map(|u| u.after.clone()).unwrap_or_default());
            }
        }
        out
    }

    /// An update can only supersede one released earlier for an OS both apply to.
    pub(super) fn check_supersedence(&mut self) {
        for (i, span) in self.update_spans.clone().into_iter().enumerate() {
            let Some(newer) = self.updates.get(i).cloned() else { continue };
            if self.cyclic_updates.contains(&newer.kb) {
                continue; // P0108 says what is wrong
            }
            for kb in &newer.supersedes {
                let Some(older) = self.updates.iter().find(|u| u.kb == *kb).cloned() else { continue };
                let common: Vec<usize> = if newer.applies.is_empty() {
                    older.applies.clone()
                } else {
                    newer.applies.iter().copied().filter(|os| older.applies_to(*os)).collect()
                };
                let os_name = |os: usize| self.oses.get(os).map(|o| o.id.clone()).unwrap_or_default();
                let problem = if common.is_empty() && !(newer.applies.is_empty() && older.applies.is_empty()) {
                    Some((
                        format!("update `{}` supersedes `{kb}`, but they apply to no OS version in common", newer.kb),
                        "an update replaces an earlier one for the same Windows version; check `applies` of both"
                            .to_string(),
                    ))
                } else {
                    let dates: Vec<Option<usize>> =
                        if common.is_empty() { vec![None] } else { common.iter().map(|o| Some(*o)).collect() };
                    let later = dates.iter().find_map(|os| {
                        let (n, o) = (newer.released_on(*os)?, older.released_on(*os)?);
                        (o >= n).then_some((*os, n, o))
                    });
                    later.map(|(os, n, o)| {
                        let on = os.map(|os| format!(" for `{}`", os_name(os))).unwrap_or_default();
                        (
                            format!("update `{}` ({n}) supersedes `{kb}`, released {o}{on}, not before it", newer.kb),
                            "an update only replaces older ones: check the dates and the `supersedes` list".to_string(),
                        )
                    })
                };
                if let Some((message, help)) = problem {
                    let mut d = Diagnostic::error("P0109", message, span, "supersedes here").with_help(help);
                    if let Some(at) = self.names.updates.get(&kb.to_string()) {
                        d = d.with_secondary(at.span, "declared here");
                    }
                    self.error(d);
                }
            }
        }
    }

    /// The fact a component, setting or certificate reads (`fact os.feature`), of one of `types`
    /// (any type when `types` is empty).
    fn fact_of(
        &mut self,
        d: &ast::Decl,
        props: &HashMap<&str, &ast::Prop>,
        types: &[Type],
        what: &str,
    ) -> Option<usize> {
        let prop = self.required(d, props, "fact", "fact host_facts.name")?;
        let path = match self.single_value(prop, "fact")? {
            PropValue::Path(p) => p.clone(),
            PropValue::Name(id) => ast::Path { segments: vec![id.name.clone()], span: id.span },
            other => {
                let span = other.span();
                self.wrong_value(prop, span, "a fact (`features.netfx35`)");
                return None;
            }
        };
        let dotted = path.to_string();
        let Some(index) = self.names.fields.get(&dotted).map(|x| x.index) else {
            if !self.names.poisoned.contains(&dotted) {
                let known: Vec<String> = self.names.fields.keys().cloned().collect();
                self.unknown("fact", &dotted, path.span, known.iter().map(String::as_str), "");
            }
            return None;
        };
        let ty = self.fields.get(index).map(|f| f.ty.clone())?;
        if !types.is_empty() && !types.contains(&ty) {
            self.type_error(
                path.span,
                &format!("a fact holding {what}"),
                &format!("`{dotted}` of type `{}`", ty.name()),
                "",
            );
            return None;
        }
        Some(index)
    }

    fn os_names(&mut self, prop: &ast::Prop) -> Vec<usize> {
        let mut ids = Vec::new();
        for name in self.names_of(prop) {
            match self.names.oses.get(&name.name) {
                Some(declared) => ids.push(declared.index),
                None => {
                    let known: Vec<String> = self.names.oses.keys().cloned().collect();
                    self.unknown(
                        "os",
                        &name.name,
                        name.span,
                        known.iter().map(String::as_str),
                        "declare it with `os NAME { ... }`",
                    );
                }
            }
        }
        ids
    }

    fn kbs(&mut self, prop: &ast::Prop) -> Vec<Kb> {
        let mut kbs = Vec::new();
        for value in &prop.values {
            match value {
                PropValue::Literal(lit) if lit.kind == LitKind::Kb => kbs.extend(self.kb_literal(&lit.raw, lit.span)),
                other => self.wrong_value(prop, other.span(), "an update id (`KB1234567`)"),
            }
        }
        kbs
    }

    /// Fills `superseded_by` with every declared update that replaces each update, transitively,
    /// and reports supersedence cycles.
    pub(super) fn link_supersedence(&mut self) {
        let direct: Vec<Vec<Kb>> = self.updates.iter().map(|u| u.supersedes.clone()).collect();
        for (i, span) in self.update_spans.clone().into_iter().enumerate() {
            let Some(me) = self.updates.get(i).map(|u| u.kb) else { continue };
            // Walk "who supersedes me" by searching the direct lists (small: tens of updates).
            let mut found: Vec<Kb> = Vec::new();
            let mut frontier = vec![me];
            while let Some(kb) = frontier.pop() {
                for (j, list) in direct.iter().enumerate() {
                    let Some(other) = self.updates.get(j).map(|u| u.kb) else { continue };
                    if list.contains(&kb) && !found.contains(&other) {
                        found.push(other);
                        frontier.push(other);
                    }
                }
            }
            if found.contains(&me) {
                self.error(
                    Diagnostic::error(
                        "P0108",
                        format!("update `{me}` supersedes itself through a cycle"),
                        span,
                        "part of a cycle",
                    )
                    .with_help("an update can only replace older updates; check the `supersedes` lists"),
                );
                found.retain(|k| *k != me);
                self.cyclic_updates.push(me);
            }
            found.sort();
            if let Some(update) = self.updates.get_mut(i) {
                update.superseded_by = found;
            }
        }
    }

    fn lower_certificate(&mut self, d: &ast::Decl) -> ir::Certificate {
        let props = self.props(d);
        let fact = if props.contains_key("fact") { self.fact_of(d, &props, &[Type::Bool], "a bool") } else { None };
        ir::Certificate {
            id: d.id.name.clone(),
            name: self.required_string(d, &props, "name"),
            thumbprint: props.get("thumbprint").map(|p| self.string(p)).unwrap_or_default(),
            fact,
            links: self.links(d),
        }
    }

    /// Two OS declarations that match one host make `host.os` depend on their order: say so.
    pub(super) fn check_os_overlaps(&mut self) {
        let oses = self.oses.clone();
        for (i, a) in oses.iter().enumerate() {
            for b in oses.iter().skip(i + 1) {
                let roles_meet = a.role.is_none() || b.role.is_none() || a.role == b.role;
                let builds_meet = a.builds.iter().any(|x| b.builds.iter().any(|y| patterns_overlap(x, y)));
                if roles_meet && builds_meet {
                    let (Some(sa), Some(sb)) = (self.names.oses.get(&a.id), self.names.oses.get(&b.id)) else {
                        continue;
                    };
                    let (sa, sb) = (sa.span, sb.span);
                    self.error(
                        Diagnostic::warning(
                            "P0111",
                            format!("os `{}` and os `{}` can match the same host", a.id, b.id),
                            sb,
                            "overlaps",
                        )
                        .with_secondary(sa, "this one is tried first and wins")
                        .with_help("narrow the `build` or `role` of one of them so that each host has one OS"),
                    );
                }
            }
        }
    }

    // ------------------------------------------------------------ facts schema

    pub(super) fn lower_facts(&mut self, facts: &ast::Facts) {
        self.lower_fields(&facts.fields, &[]);
    }

    fn lower_fields(&mut self, fields: &[ast::Field], prefix: &[String]) {
        for field in fields {
            let mut path = prefix.to_vec();
            path.push(field.name.name.clone());
            let dotted = path.join(".");
            // A group another file's schema opened is opened again: its facts join it.
            if let (ast::FieldKind::Group(children), Some(first)) = (&field.kind, self.names.groups.get(&dotted))
                && self.bundle.file_at(first.start) != self.bundle.file_at(field.name.span.start)
            {
                self.lower_fields(children, &path);
                continue;
            }
            let taken = self.names.fields.contains_key(&dotted) || self.names.groups.contains_key(&dotted);
            if taken {
                let first =
                    self.names.fields.get(&dotted).map(|d| d.span).or_else(|| self.names.groups.get(&dotted).copied());
                let mut d = Diagnostic::error(
                    "P0101",
                    format!("fact `{dotted}` is declared twice"),
                    field.name.span,
                    "declared again here",
                )
                .with_help("remove or rename one of them");
                if let Some(first) = first {
                    d = d.with_secondary(first, "first declared here");
                }
                self.error(d);
                continue;
            }
            match &field.kind {
                ast::FieldKind::Group(children) => {
                    self.names.groups.insert(dotted, field.name.span);
                    self.lower_fields(children, &path);
                }
                ast::FieldKind::Leaf { ty, optional, default, null, condition, collect } => {
                    let Some(ty) = self.field_type(ty) else {
                        self.names.poisoned.insert(dotted);
                        continue;
                    };
                    let presence = self.presence(&ty, *optional, default.as_ref(), field);
                    let null = null.as_ref().and_then(|n| self.default_value(&ty, n));
                    let scope = Scope { visible_fields: self.fields.len(), status: false };
                    let condition = condition.as_ref().and_then(|c| self.condition(c, scope));
                    let collect = collect.as_ref().and_then(|c| self.collect(c, &ty));
                    let index = self.fields.len();
                    self.names.fields.insert(dotted, Declared { index, span: field.name.span });
                    self.fields.push(ir::FieldDef {
                        path,
                        ty,
                        presence,
                        null,
                        condition,
                        docs: field.docs.clone(),
                        collect,
                    });
                    self.field_spans.push(field.name.span);
                }
            }
        }
    }

    /// `from SOURCE "arg"... [+ "text" + SOURCE ...] [map { ... }]`: each source's arguments,
    /// the fact types what is read can fill, and the map's entries against the fact's type.
    fn collect(&mut self, c: &ast::Collect, ty: &Type) -> Option<ir::Collect> {
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut ok = true;
        for piece in &c.pieces {
            match piece {
                ast::CollectPiece::Text(lit) => text.push_str(&self.decode(lit)),
                ast::CollectPiece::Source { name, args, span } => match self.source(name, args, *span) {
                    Some(source) => pieces.push((std::mem::take(&mut text), source)),
                    None => ok = false,
                },
            }
        }
        if !ok {
            return None;
        }
        let Some((_, first)) = pieces.first() else {
            self.error(
                Diagnostic::error("P0104", "`from` names no source", c.span, "only text here")
                    .with_help(format!("name what is read: {}", SOURCES.join(", "))),
            );
            return None;
        };
        let joined = pieces.len() > 1 || !text.is_empty() || pieces.iter().any(|(before, _)| !before.is_empty());
        // What the sources give before any map: a value of their own kind, or text.
        let whole = |source: &ir::Source| match source {
            ir::Source::Uefi { .. } => Some("`uefi` gives true or false"),
            ir::Source::CertStore { .. } => Some("`cert_store` gives true or false"),
            ir::Source::Hotfixes => Some("`hotfixes` gives a list of updates"),
            ir::Source::Uninstall if *ty == Type::Product => Some("`uninstall` gives a product"),
            _ => None,
        };
        if joined && let Some(why) = pieces.iter().find_map(|(_, s)| whole(s)) {
            self.error(
                Diagnostic::error("P0104", "this source cannot be joined with text", c.span, "joined here")
                    .with_help(format!("{why}; only sources that read text (`registry`, `cim`, `env`, `file_version`, `powershell`, `uninstall` for a version) can be joined with `+`")),
            );
            return None;
        }
        let map = match &c.map {
            Some(entries) => {
                if matches!(first, ir::Source::Hotfixes)
                    || matches!(first, ir::Source::Uninstall if *ty == Type::Product)
                {
                    self.error(
                        Diagnostic::error("P0104", "this source cannot be mapped", c.span, "mapped here")
                            .with_help("`map` turns one text or number into the fact's value; `hotfixes` reads a list and `uninstall` a product"),
                    );
                    return None;
                }
                self.collect_map(entries, ty)?
            }
            None => Vec::new(),
        };
        if c.map.is_none() {
            let fits = match first {
                _ if joined => !matches!(ty, Type::Kbs | Type::Bool | Type::Product),
                ir::Source::Uefi { .. } | ir::Source::CertStore { .. } => *ty == Type::Bool,
                ir::Source::Hotfixes => *ty == Type::Kbs,
                ir::Source::Uninstall => matches!(ty, Type::Product | Type::Version),
                _ => true,
            };
            if !fits {
                let at = match c.pieces.as_slice() {
                    [ast::CollectPiece::Source { name, .. }] => name.span,
                    _ => c.span,
                };
                self.type_error(
                    at,
                    "a fact this `from` can fill",
                    &format!("a `{}` fact", ty.name()),
                    "`uefi` and `cert_store` fill a bool, `hotfixes` a kbs fact, `uninstall` a product or its version fact; text (`registry`, `uninstall \"NAME\"`, joined pieces...) fills a text, version, build, date or enum fact, or anything through `map { ... }`",
                );
                return None;
            }
        }
        Some(ir::Collect { pieces, suffix: text, map })
    }

    /// One source and its arguments.
    fn source(&mut self, name: &ast::Ident, args: &[ast::Literal], span: Span) -> Option<ir::Source> {
        let strings: Vec<String> = args.iter().filter(|a| a.kind == LitKind::String).map(|a| self.decode(a)).collect();
        // Every argument must be a string; a source's arguments are matched by shape.
        let args: &[String] = if strings.len() == args.len() { &strings } else { &[] };
        let (source, usage) = match name.name.as_str() {
            "registry" => (
                match args {
                    [key, value] => Some(ir::Source::Registry { key: key.clone(), value: value.clone() }),
                    _ => None,
                },
                "registry \"HKLM:\\\\SOFTWARE\\\\...\" \"ValueName\"",
            ),
            "cim" => (
                match args {
                    [class, property] => Some(ir::Source::Cim { class: class.clone(), property: property.clone() }),
                    _ => None,
                },
                "cim \"Win32_OperatingSystem\" \"Version\"",
            ),
            "env" => (
                match args {
                    [variable] => Some(ir::Source::Env(variable.clone())),
                    _ => None,
                },
                "env \"firmware_type\"",
            ),
            "file_version" => (
                match args {
                    [path] => Some(ir::Source::FileVersion(path.clone())),
                    _ => None,
                },
                "file_version \"%SystemRoot%\\\\System32\\\\NAME.dll\"",
            ),
            "cert_store" => (
                match args {
                    [store, thumbprint] => {
                        Some(ir::Source::CertStore { store: store.clone(), thumbprint: thumbprint.clone() })
                    }
                    _ => None,
                },
                "cert_store \"Root\" \"SHA1 THUMBPRINT\"",
            ),
            "powershell" => (
                match args {
                    [expression] => Some(ir::Source::PowerShell(expression.clone())),
                    _ => None,
                },
                "powershell \"EXPRESSION\"",
            ),
            "uefi" => (
                match args {
                    [variable, name] => Some(ir::Source::Uefi { variable: variable.clone(), name: name.clone() }),
                    _ => None,
                },
                "uefi \"db\" \"CERTIFICATE NAME\"",
            ),
            "hotfixes" => (args.is_empty().then_some(ir::Source::Hotfixes), "hotfixes"),
            "uninstall" => (
                match args {
                    [] => Some(ir::Source::Uninstall),
                    [pattern] => Some(ir::Source::UninstallEntry(pattern.clone())),
                    _ => None,
                },
                "uninstall \"^PROGRAM NAME\"",
            ),
            other => {
                self.unknown("collection source", other, name.span, SOURCES, "");
                return None;
            }
        };
        if source.is_none() {
            self.error(
                Diagnostic::error(
                    "P0104",
                    format!("`from {}` takes other arguments", name.name),
                    span,
                    "these arguments",
                )
                .with_help(format!("write `from {usage}` (strings in double quotes)")),
            );
        }
        source
    }

    /// `map { KEY = VALUE, ... }`: keys are text, numbers or patterns, each once, `else` last;
    /// values are the fact's type.
    fn collect_map(&mut self, entries: &[ast::MapEntry], ty: &Type) -> Option<Vec<(ir::MapKey, ir::MapValue)>> {
        let mut out = Vec::new();
        let mut seen: HashMap<String, Span> = HashMap::new();
        let mut ok = true;
        for (i, entry) in entries.iter().enumerate() {
            let (key, key_text, key_span) = match &entry.key {
                ast::MapKey::Equals(lit) => match lit.kind {
                    LitKind::String => {
                        let text = self.decode(lit);
                        (ir::MapKey::Equals(text.clone()), text.to_lowercase(), lit.span)
                    }
                    _ => (ir::MapKey::Equals(lit.raw.clone()), lit.raw.clone(), lit.span),
                },
                ast::MapKey::Matches(lit) => {
                    let text = self.decode(lit);
                    (ir::MapKey::Matches(text.clone()), format!("matches {text}"), lit.span)
                }
                ast::MapKey::Compare(op, lit) => match lit.raw.parse::<i64>() {
                    Ok(n) if lit.kind == LitKind::Int => {
                        (ir::MapKey::Compare(*op, n), format!("{} {n}", op.symbol()), lit.span)
                    }
                    _ => {
                        self.type_error(lit.span, "a whole number (`>= 528040`)", &literal_kind_name(lit.kind), "");
                        ok = false;
                        continue;
                    }
                },
                ast::MapKey::Else(span) => {
                    if entries.iter().skip(i + 1).any(|e| !matches!(e.key, ast::MapKey::Missing(_))) {
                        self.error(
                            Diagnostic::error(
                                "P0104",
                                "`else` is not the last entry",
                                *span,
                                "entries after it are never used",
                            )
                            .with_help(
                                "move `else = ...` after the other entries (only `missing = ...` may follow it)",
                            ),
                        );
                        ok = false;
                    }
                    (ir::MapKey::Else, "else".to_string(), *span)
                }
                ast::MapKey::Missing(span) => (ir::MapKey::Missing, "missing".to_string(), *span),
            };
            if let Some(first) = seen.get(&key_text) {
                self.error(
                    Diagnostic::error("P0105", "this map key is given twice", key_span, "again here")
                        .with_secondary(*first, "first given here")
                        .with_help("keys are compared ignoring case; keep one entry per key"),
                );
                ok = false;
                continue;
            }
            seen.insert(key_text, key_span);
            let value = &entry.value;
            let mapped = match (ty, value.kind) {
                (Type::Bool, LitKind::Bool) => Some(ir::MapValue::Bool(value.raw == "true")),
                (Type::Int, LitKind::Int) => value.raw.parse().ok().map(ir::MapValue::Int),
                (Type::Enum(variants), LitKind::String) => {
                    let text = self.decode(value);
                    if variants.contains(&text) {
                        Some(ir::MapValue::Text(text))
                    } else {
                        self.unknown_name_of(ty, &text, value.span);
                        ok = false;
                        continue;
                    }
                }
                (Type::String | Type::Version | Type::Build | Type::Date, LitKind::String) => {
                    Some(ir::MapValue::Text(self.decode(value)))
                }
                _ => None,
            };
            match mapped {
                Some(mapped) => out.push((key, mapped)),
                None => {
                    self.type_error(
                        value.span,
                        &format!("a value of the fact's type `{}`", ty.name()),
                        &literal_kind_name(value.kind),
                        "a map gives the fact's value: `true`/`false` for a bool, a number for an int, a listed word in quotes for an enum, text in quotes otherwise",
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    fn strings(&mut self, prop: &ast::Prop) -> Vec<String> {
        let mut out = Vec::new();
        for value in &prop.values {
            match value {
                PropValue::Literal(lit) if lit.kind == LitKind::String => out.push(self.decode(lit)),
                other => self.wrong_value(prop, other.span(), "a string (`\"...\"`)"),
            }
        }
        out
    }

    fn field_type(&mut self, ty: &ast::TypeExpr) -> Option<Type> {
        match ty {
            ast::TypeExpr::Enum(variants, _) => {
                let mut names: Vec<String> = Vec::new();
                for v in variants {
                    if names.contains(&v.name) {
                        self.error(Diagnostic::error(
                            "P0101",
                            format!("enum variant `{}` is listed twice", v.name),
                            v.span,
                            "again here",
                        ));
                    } else {
                        names.push(v.name.clone());
                    }
                }
                Some(Type::Enum(names))
            }
            ast::TypeExpr::Named(name) => match name.name.as_str() {
                "bool" => Some(Type::Bool),
                "int" => Some(Type::Int),
                "string" => Some(Type::String),
                "date" => Some(Type::Date),
                "version" => Some(Type::Version),
                "build" => Some(Type::Build),
                "kbs" => Some(Type::Kbs),
                "product" => Some(Type::Product),
                other => {
                    self.unknown("type", other, name.span, TYPE_NAMES, "");
                    None
                }
            },
        }
    }

    fn presence(&mut self, ty: &Type, optional: bool, default: Option<&ast::Default>, field: &ast::Field) -> Presence {
        let Some(default) = default else {
            return if optional { Presence::Optional } else { Presence::Required };
        };
        if optional {
            self.error(
                Diagnostic::error(
                    "P0104",
                    format!("fact `{}` is marked optional and has a default", field.name.name),
                    field.name.span,
                    "both `?` and `=`",
                )
                .with_help("a fact with a default is never unknown: drop the `?`"),
            );
        }
        match self.default_value(ty, default) {
            Some(value) => Presence::Default(value),
            None => Presence::Required,
        }
    }

    fn default_value(&mut self, ty: &Type, default: &ast::Default) -> Option<Value> {
        match (ty, default) {
            (Type::Kbs, ast::Default::List(items, _)) => {
                let mut kbs = Vec::new();
                for item in items {
                    match &item.kind {
                        ast::ExprKind::Literal(lit) if lit.kind == LitKind::Kb => {
                            kbs.extend(self.kb_literal(&lit.raw, lit.span))
                        }
                        _ => self.type_error(item.span, "an update id (`KB1234567`)", "something else", ""),
                    }
                }
                Some(Value::Kbs(kbs))
            }
            (_, ast::Default::Literal(lit)) => self.literal_as(lit, ty),
            (_, ast::Default::List(_, span)) => {
                self.type_error(
                    *span,
                    &format!("{} value", crate::diagnostic::with_article(&ty.name())),
                    "a list",
                    "only `kbs` facts take a list",
                );
                None
            }
        }
    }

    /// A literal read as a value of `ty` (a string names an enum variant or a product).
    pub(super) fn literal_as(&mut self, lit: &ast::Literal, ty: &Type) -> Option<Value> {
        match (ty, lit.kind) {
            // `none` is a value of every type: the fact is known to have none.
            (_, LitKind::None) => Some(Value::None),
            (Type::Bool, LitKind::Bool) => Some(Value::Bool(lit.raw == "true")),
            (Type::Int, LitKind::Int) => match lit.raw.parse() {
                Ok(n) => Some(Value::Int(n)),
                Err(_) => {
                    self.error(Diagnostic::error(
                        "P0013",
                        format!("number `{}` is too large", lit.raw),
                        lit.span,
                        "too large",
                    ));
                    None
                }
            },
            (Type::String, LitKind::String) => Some(Value::Str(self.decode(lit))),
            (Type::Date, LitKind::Date) => self.date_literal(lit).map(Value::Date),
            (Type::Version | Type::Build, LitKind::Version | LitKind::Int) => {
                self.version_literal(lit).map(Value::Version)
            }
            (Type::Enum(variants), LitKind::String) => {
                let text = self.decode(lit);
                match variants.iter().position(|v| *v == text) {
                    Some(i) => Some(Value::Enum(i)),
                    None => {
                        let known: Vec<&str> = variants.iter().map(String::as_str).collect();
                        self.unknown("variant", &text, lit.span, known, "");
                        None
                    }
                }
            }
            (Type::Product, LitKind::String) => {
                let text = self.decode(lit);
                self.product_named(&text, lit.span).map(Value::Product)
            }
            _ => {
                let help = match (ty, lit.kind) {
                    (Type::Version | Type::Build | Type::Date, LitKind::String) => {
                        "versions, builds and dates are written bare, without quotes: `10.0.19044`, `2023-01-10`"
                    }
                    (Type::Enum(_) | Type::Product | Type::Os | Type::Status, _) => {
                        "name one of its values without quotes"
                    }
                    _ => "",
                };
                self.type_error(
                    lit.span,
                    &format!("{} value", crate::diagnostic::with_article(&ty.name())),
                    &literal_kind_name(lit.kind),
                    help,
                );
                None
            }
        }
    }

    pub(super) fn product_named(&mut self, name: &str, span: Span) -> Option<usize> {
        if let Some(d) = self.names.products.get(name) {
            return Some(d.index);
        }
        let known: Vec<String> = self.names.products.keys().cloned().collect();
        self.unknown("product", name, span, known.iter().map(String::as_str), "declare it with `product NAME { ... }`");
        None
    }

    // ------------------------------------------------------------ host roles

    pub(super) fn lower_host(&mut self, host: &ast::Host) {
        const ROLES: [(&str, &str); 9] = [
            ("product", "product"),
            ("product_version", "version"),
            ("platform", "string"),
            ("os_version", "build"),
            ("os_role", "enum(...)"),
            ("hotfixes", "kbs"),
            ("evaluation_date", "date"),
            ("os_edition", "enum(...)"),
            ("esu", "bool"),
        ];
        // Every role is optional: what is derived depends on what is bound, and the checker
        // refuses a host value or construct whose role is missing (see `Checker::needs_role`).
        let mut bound: HashMap<&str, usize> = HashMap::new();
        for (role, path) in &host.bindings {
            let dotted = path.to_string();
            let known_role = ROLES.iter().find(|(r, _)| *r == role.name);
            let Some(field) = self.names.fields.get(&dotted).map(|d| d.index) else {
                if !self.names.poisoned.contains(&dotted) {
                    let known: Vec<String> = self.names.fields.keys().cloned().collect();
                    self.unknown("fact", &dotted, path.span, known.iter().map(String::as_str), "");
                }
                // What needs the role is not told again that it is unbound.
                if let Some((role_name, _)) = known_role {
                    self.missing_roles.push(role_name);
                }
                continue;
            };
            let Some((role_name, want)) = known_role else { continue };
            if bound.contains_key(role_name) {
                self.error(Diagnostic::error(
                    "P0105",
                    format!("host role `{role_name}` is bound twice"),
                    role.span,
                    "bound again here",
                ));
                continue;
            }
            let ty = self.fields.get(field).map(|f| f.ty.clone());
            let fits = match (*role_name, &ty) {
                ("platform", Some(Type::String | Type::Enum(_))) | ("os_role" | "os_edition", Some(Type::Enum(_))) => {
                    true
                }
                (_, Some(t)) => t.name() == *want,
                _ => false,
            };
            if !fits {
                let found = ty.map(|t| t.name()).unwrap_or_default();
                self.type_error(
                    path.span,
                    &format!("a fact of type `{want}` for the `{role_name}` role"),
                    &format!("`{dotted}` of type `{found}`"),
                    "",
                );
                self.missing_roles.push(role_name);
                continue;
            }
            bound.insert(role_name, field);
        }
        let get = |r: &str| bound.get(r).copied();
        self.host = Some(ir::HostRoles {
            product: get("product"),
            product_version: get("product_version"),
            platform: get("platform"),
            os_version: get("os_version"),
            os_role: get("os_role"),
            hotfixes: get("hotfixes"),
            evaluation_date: get("evaluation_date"),
            os_edition: get("os_edition"),
            esu: get("esu"),
        });
    }

    /// `from uninstall` without a pattern reads the version of the product the `product` fact
    /// detected: only the fact the `product_version` role binds can be read so. Any other fact
    /// would be collected as that product's version, silently.
    pub(super) fn check_uninstall_versions(&mut self) {
        let product_version = self.host.as_ref().and_then(|h| h.product_version);
        let wrong: Vec<(String, Type)> = self
            .fields
            .iter()
            .enumerate()
            .filter(|(i, f)| {
                f.ty != Type::Product
                    && Some(*i) != product_version
                    && f.collect.as_ref().is_some_and(|c| c.sources().any(|s| *s == ir::Source::Uninstall))
            })
            .map(|(_, f)| (f.dotted(), f.ty.clone()))
            .collect();
        for (dotted, ty) in wrong {
            let Some(span) = self.names.fields.get(&dotted).map(|d| d.span) else { continue };
            let d = Diagnostic::error(
                "P0104",
                format!("`from uninstall` cannot fill `{dotted}`: without a pattern it reads the detected product's version"),
                span,
                "not the product's version",
            )
            .with_help(format!(
                "name the program whose version this is: `{}: {} from uninstall \"^Program name\"` (a regular expression on the names installed programs show), or bind this fact to the `product_version` role",
                dotted.rsplit('.').next().unwrap_or(&dotted),
                ty.name()
            ));
            self.error(d);
        }
    }

    // ------------------------------------------------------------ property helpers

    /// The properties of a declaration by key; reports repeated keys.
    fn props<'d>(&mut self, d: &'d ast::Decl) -> HashMap<&'d str, &'d ast::Prop> {
        let mut map: HashMap<&str, &ast::Prop> = HashMap::new();
        for prop in &d.props {
            let key = prop.key.name.as_str();
            if REPEATABLE.contains(&key) || (key == "after" && d.kind == DeclKind::Update) {
                continue;
            }
            if let Some(first) = prop.for_oses.first() {
                let per_edition = d.kind == DeclKind::Os && PER_EDITION.contains(&key);
                if !(per_edition || d.kind == DeclKind::Update && PER_OS.contains(&key)) {
                    self.error(
                        Diagnostic::error(
                            "P0104",
                            format!("`{key}` cannot be given per OS version or edition"),
                            first.span,
                            "`for` here",
                        )
                        .with_help("only an update's `released` and `revision` take `for OS, ...`, and an OS's `end_of_support` and `esu_until` `for EDITION, ...`"),
                    );
                }
                continue;
            }
            if let Some(first) = map.get(key) {
                let first_span = first.key.span;
                self.error(
                    Diagnostic::error(
                        "P0105",
                        format!("`{key}` is given twice for {} `{}`", d.kind.keyword(), d.id.name),
                        prop.key.span,
                        "given again here",
                    )
                    .with_secondary(first_span, "first given here")
                    .with_help(if LIST_KEYS.contains(&key) {
                        format!("keep one `{key}` and list its values separated by `,`")
                    } else {
                        format!("keep one `{key}`")
                    }),
                );
                continue;
            }
            map.insert(key, prop);
        }
        map
    }

    fn required<'p>(
        &mut self,
        d: &ast::Decl,
        props: &HashMap<&str, &'p ast::Prop>,
        key: &str,
        example: &str,
    ) -> Option<&'p ast::Prop> {
        let found = props.get(key).copied();
        if found.is_none() {
            self.error(
                Diagnostic::error(
                    "P0103",
                    format!("{} `{}` has no `{key}`", d.kind.keyword(), d.id.name),
                    d.id.span,
                    format!("`{key}` missing"),
                )
                .with_help(format!("add `{example}`")),
            );
        }
        found
    }

    fn required_string(&mut self, d: &ast::Decl, props: &HashMap<&str, &ast::Prop>, key: &str) -> String {
        let example = format!("{key} \"...\"");
        self.required(d, props, key, &example).map(|p| self.string(p)).unwrap_or_default()
    }

    fn links(&mut self, d: &ast::Decl) -> Vec<String> {
        let links: Vec<&ast::Prop> = d.props.iter().filter(|p| p.key.name == "link").collect();
        links.into_iter().map(|p| self.string(p)).collect()
    }

    fn single_value<'p>(&mut self, prop: &'p ast::Prop, what: &str) -> Option<&'p PropValue> {
        match prop.values.as_slice() {
            [one] => Some(one),
            [_, second, ..] => {
                self.wrong_value(prop, second.span(), &format!("one {what}"));
                None
            }
            [] => None,
        }
    }

    fn string(&mut self, prop: &ast::Prop) -> String {
        match self.single_value(prop, "string") {
            Some(PropValue::Literal(lit)) if lit.kind == LitKind::String => self.decode(lit),
            Some(other) => {
                let span = other.span();
                self.wrong_value(prop, span, "a string (`\"...\"`)");
                String::new()
            }
            None => String::new(),
        }
    }

    fn date(&mut self, prop: &ast::Prop) -> Option<Date> {
        match self.single_value(prop, "date")? {
            PropValue::Literal(lit) if lit.kind == LitKind::Date => self.date_literal(lit),
            other => {
                let span = other.span();
                self.wrong_value(prop, span, "a date (`YYYY-MM-DD`)");
                None
            }
        }
    }

    fn int(&mut self, prop: &ast::Prop) -> Option<i64> {
        match self.single_value(prop, "number")? {
            PropValue::Literal(lit) if lit.kind == LitKind::Int => lit.raw.parse().ok(),
            other => {
                let span = other.span();
                self.wrong_value(prop, span, "a whole number");
                None
            }
        }
    }

    fn one_name(&mut self, prop: &ast::Prop) -> Option<ast::Ident> {
        match self.single_value(prop, "name")? {
            PropValue::Name(name) => Some(name.clone()),
            other => {
                let span = other.span();
                self.wrong_value(prop, span, "a name");
                None
            }
        }
    }

    fn names_of(&mut self, prop: &ast::Prop) -> Vec<ast::Ident> {
        let mut names = Vec::new();
        for value in &prop.values {
            match value {
                PropValue::Name(name) => names.push(name.clone()),
                other => self.wrong_value(prop, other.span(), "a name"),
            }
        }
        names
    }

    fn wrong_value(&mut self, prop: &ast::Prop, span: Span, expected: &str) {
        let example = [
            ("date", "2024-01-09"),
            ("string", "\"...\""),
            ("alias", "9.6, 10.0, 2019 = 14.0"),
            ("range", ">= 10.0.22000"),
            ("update id", "KB1234567"),
            ("whole number", "1586"),
            ("name", "a_name"),
        ]
        .iter()
        .find(|(k, _)| expected.contains(k))
        .map_or("...", |(_, e)| *e);
        self.error(
            Diagnostic::error(
                "P0104",
                format!("`{}` takes {expected}", prop.key.name),
                span,
                format!("expected {expected}"),
            )
            .with_help(format!("for example `{} {example}`", prop.key.name)),
        );
    }

    pub(super) fn type_error(&mut self, span: Span, expected: &str, found: &str, help: &str) {
        let mut d = Diagnostic::error(
            "P0102",
            format!("expected {expected}, found {found}"),
            span,
            format!("expected {expected}"),
        );
        if !help.is_empty() {
            d = d.with_help(help.to_string());
        }
        self.error(d);
    }

    // ------------------------------------------------------------ literals

    pub(super) fn date_literal(&mut self, lit: &ast::Literal) -> Option<Date> {
        let date = Date::parse(&lit.raw);
        if date.is_none() {
            self.error(
                Diagnostic::error("P0010", format!("`{}` is not a valid date", lit.raw), lit.span, "no such day")
                    .with_help("dates are `YYYY-MM-DD` with a real month and day, e.g. `2023-01-10`"),
            );
        }
        date
    }

    pub(super) fn version_literal(&mut self, lit: &ast::Literal) -> Option<Version> {
        let version = Version::parse_literal(&lit.raw);
        if version.is_none() {
            self.error(
                Diagnostic::error(
                    "P0011",
                    format!("`{}` is not a valid version", lit.raw),
                    lit.span,
                    "invalid version",
                )
                .with_help(format!(
                    "versions are up to {} dotted numbers of at most 10 digits, e.g. `10.0.19044`",
                    crate::value::MAX_VERSION_PARTS
                )),
            );
        }
        version
    }

    pub(super) fn kb_literal(&mut self, raw: &str, span: Span) -> Option<Kb> {
        let kb = Kb::parse(raw);
        if kb.is_none() {
            self.error(
                Diagnostic::error("P0012", format!("`{raw}` is not a valid update id"), span, "invalid KB id")
                    .with_help("Microsoft update ids are `KB` and six or seven digits, e.g. `KB1234567`"),
            );
        }
        kb
    }

    /// Decodes a string literal's escapes (`\"`, `\\`, `\n`, `\t`, `\{`, `\}`).
    pub(super) fn decode(&mut self, lit: &ast::Literal) -> String {
        let mut out = String::new();
        let mut chars = lit.raw.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other @ ('"' | '\\' | '{' | '}')) => out.push(other),
                Some(other) => {
                    self.error(
                        Diagnostic::error(
                            "P0013",
                            format!("unknown escape `\\{other}` in a string"),
                            lit.span,
                            "in this string",
                        )
                        .with_help("the escapes are `\\\"`, `\\\\`, `\\n`, `\\t`, `\\{` and `\\}`"),
                    );
                }
                None => {}
            }
        }
        out
    }
}

pub(super) fn literal_kind_name(kind: LitKind) -> String {
    match kind {
        LitKind::String => "a string",
        LitKind::Date => "a date",
        LitKind::Version => "a version",
        LitKind::Kb => "an update id",
        LitKind::Int => "a number",
        LitKind::Bool => "a bool",
        LitKind::None => "`none`",
    }
    .to_string()
}

/// Whether some host build matches both patterns (see `docs/language.md`, "os").
fn patterns_overlap(a: &BuildPattern, b: &BuildPattern) -> bool {
    a.overlaps(b)
}
