//! In-file tests: the `given` facts become JSON, the expectations are resolved against the
//! declarations, and facts the schema does not declare are reported (P0300).

use super::Checker;
use crate::ast::{self, JsonKind};
use crate::diagnostic::Diagnostic;
use crate::facts::INPUT_ERROR_CODES;
use crate::ir::{self, Level};

impl<'a> Checker<'a> {
    pub(super) fn lower_test(&mut self, t: &ast::Test, rule_names: &[String]) -> Option<ir::TestCase> {
        let expects_error = matches!(t.expect, ast::Expect::Error { .. });
        if !expects_error {
            self.check_given_keys(&t.given, &[]);
        }
        let given = self.json(&t.given);
        let expect = match &t.expect {
            ast::Expect::Error { code, at, .. } => {
                if !INPUT_ERROR_CODES.contains(&code.name.as_str()) {
                    self.unknown("input error code", &code.name, code.span, INPUT_ERROR_CODES.iter().copied(), "");
                    return None;
                }
                ir::Expected::Error { code: code.name.clone(), at: at.as_ref().map(ToString::to_string) }
            }
            ast::Expect::Status { status, items, .. } => self.expected_verdict(status, items, rule_names)?,
        };
        Some(ir::TestCase { name: t.name.name.clone(), given, expect, line: self.line(t.name.span), span: t.span })
    }

    /// One alternative of `(... or ...)` as the test summary writes it (`certificate NAME`,
    /// `install KB1 or KB2`, `component ID`...); `None` after reporting an unknown name.
    fn step_line(&mut self, step: &ast::Expectation) -> Option<String> {
        match step {
            ast::Expectation::Install(kbs, _) => {
                let mut group: Vec<_> = kbs.iter().filter_map(|k| self.kb_literal(&k.raw, k.span)).collect();
                if group.len() != kbs.len() {
                    return None;
                }
                group.sort();
                Some(crate::testing::install_line(group.iter().map(ToString::to_string)))
            }
            ast::Expectation::Certificate(id) => {
                let Some(declared) = self.names.certificates.get(&id.name) else {
                    let known: Vec<String> = self.names.certificates.keys().cloned().collect();
                    self.unknown("certificate", &id.name, id.span, known.iter().map(String::as_str), "");
                    return None;
                };
                let name = self.certificates.get(declared.index).map(|c| c.name.clone())?;
                Some(format!("certificate {name}"))
            }
            ast::Expectation::Component(id) | ast::Expectation::Setting(id) | ast::Expectation::Action(id) => {
                let (kind, table) = match step {
                    ast::Expectation::Component(_) => ("component", &self.names.components),
                    ast::Expectation::Setting(_) => ("setting", &self.names.settings),
                    _ => ("action", &self.names.actions),
                };
                if table.contains_key(&id.name) {
                    return Some(format!("{kind} {}", id.name));
                }
                let known: Vec<String> = table.keys().cloned().collect();
                self.unknown(kind, &id.name, id.span, known.iter().map(String::as_str), "");
                None
            }
            // The grammar allows only steps here.
            _ => None,
        }
    }

    fn expected_verdict(
        &mut self,
        status: &ast::Ident,
        items: &[ast::Expectation],
        rule_names: &[String],
    ) -> Option<ir::Expected> {
        let Some(level) = Level::from_name(&status.name).filter(|l| l.is_status()) else {
            let known: Vec<&str> = Level::ALL.iter().filter(|l| l.is_status()).map(|l| l.name()).collect();
            self.unknown("status", &status.name, status.span, known, "");
            return None;
        };
        let (mut installs, mut certificates, mut fires, mut quiet) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut components, mut settings, mut actions) = (Vec::new(), Vec::new(), Vec::new());
        let (mut undetermined, mut decided) = (Vec::new(), Vec::new());
        let mut alternatives = Vec::new();
        let mut ok = true;
        for item in items {
            match item {
                ast::Expectation::AnyOf(steps, _) => {
                    let mut lines = Vec::new();
                    for step in steps {
                        match self.step_line(step) {
                            Some(line) => lines.push(line),
                            None => ok = false,
                        }
                    }
                    lines.sort();
                    alternatives.push(crate::testing::alternatives_line(&lines));
                }
                ast::Expectation::Install(kbs, _) => {
                    let mut group: Vec<_> = kbs.iter().filter_map(|k| self.kb_literal(&k.raw, k.span)).collect();
                    ok &= group.len() == kbs.len();
                    group.sort();
                    installs.push(group);
                }
                ast::Expectation::Certificate(id) => match self.names.certificates.get(&id.name) {
                    Some(_) => certificates.push(id.name.clone()),
                    None => {
                        let known: Vec<String> = self.names.certificates.keys().cloned().collect();
                        self.unknown("certificate", &id.name, id.span, known.iter().map(String::as_str), "");
                        ok = false;
                    }
                },
                ast::Expectation::Component(id) | ast::Expectation::Setting(id) | ast::Expectation::Action(id) => {
                    let (kind, table, out) = match item {
                        ast::Expectation::Component(_) => ("component", &self.names.components, &mut components),
                        ast::Expectation::Setting(_) => ("setting", &self.names.settings, &mut settings),
                        _ => ("action", &self.names.actions, &mut actions),
                    };
                    if table.contains_key(&id.name) {
                        out.push(id.name.clone());
                    } else {
                        let known: Vec<String> = table.keys().cloned().collect();
                        self.unknown(kind, &id.name, id.span, known.iter().map(String::as_str), "");
                        ok = false;
                    }
                }
                ast::Expectation::Fires(id, negated) | ast::Expectation::Undetermined(id, negated) => {
                    let (yes, no) = match item {
                        ast::Expectation::Fires(..) => (&mut fires, &mut quiet),
                        _ => (&mut undetermined, &mut decided),
                    };
                    if rule_names.contains(&id.name) {
                        if *negated { no.push(id.name.clone()) } else { yes.push(id.name.clone()) }
                    } else if self.names.rules.contains_key(&id.name) {
                        ok = false; // the rule itself has an error, reported there
                    } else {
                        let known: Vec<&str> = rule_names.iter().map(String::as_str).collect();
                        self.unknown("rule", &id.name, id.span, known, "");
                        ok = false;
                    }
                }
            }
        }
        installs.sort();
        certificates.sort();
        components.sort();
        settings.sort();
        actions.sort();
        alternatives.sort();
        ok.then_some(ir::Expected::Verdict {
            status: level,
            installs,
            certificates,
            components,
            settings,
            actions,
            alternatives,
            fires,
            quiet,
            undetermined,
            decided,
        })
    }

    /// P0300: every key in `given` must be a declared fact or group (unknown keys are ignored
    /// at run time, so a misspelt one would silently test something else).
    fn check_given_keys(&mut self, json: &ast::Json, prefix: &[String]) {
        let JsonKind::Object(members) = &json.kind else { return };
        for (key, value) in members {
            let mut path = prefix.to_vec();
            path.push(key.name.clone());
            let dotted = path.join(".");
            if self.names.groups.contains_key(&dotted) {
                self.check_given_keys(value, &path);
            } else if let Some(declared) = self.names.fields.get(&dotted) {
                // A fact read only under a condition (`if os.platform == "windows"`) may hold
                // anything where it is not read.
                let ty = self.fields.get(declared.index).filter(|f| f.condition.is_none()).map(|f| f.ty.clone());
                if let Some(ty) = ty {
                    self.check_given_value(&dotted, value, &ty);
                }
            } else if self.names.poisoned.contains(&dotted) {
                // Its declaration has an error of its own: nothing more to say here.
            } else {
                let mut known: Vec<String> =
                    self.names.fields.keys().chain(self.names.groups.keys()).cloned().collect();
                known.sort();
                let d = Diagnostic::error(
                    "P0300",
                    format!("the test gives `{dotted}`, which the facts schema does not declare"),
                    key.span,
                    "not a declared fact",
                );
                let d = match crate::diagnostic::suggest(&dotted, known.iter().map(String::as_str)) {
                    // The key is the last part of the path: a fix when only that part differs.
                    Some(best) => {
                        let help = format!("did you mean `{best}`?");
                        let parent = dotted.rsplit_once('.').map(|(p, _)| p);
                        match best.rsplit_once('.') {
                            Some((p, last)) if Some(p) == parent => d.with_help(help).with_fix(key.span, last),
                            None if parent.is_none() => d.with_help(help).with_fix(key.span, best),
                            _ => d.with_help(help),
                        }
                    }
                    None => d.with_help("declare it in `facts`, or remove it from the test"),
                };
                self.error(d);
            }
        }
    }

    /// P0301: a value the fact's type does not accept would make the test an input error at run
    /// time, named only by its code; say which value and what the fact takes, here.
    fn check_given_value(&mut self, dotted: &str, value: &ast::Json, ty: &ir::Type) {
        use crate::value::{Date, Version};
        let text = match &value.kind {
            JsonKind::String(raw) => Some(crate::json::decode(raw)),
            _ => None,
        };
        let (accepted, takes) = match (ty, &value.kind) {
            // `null` reads as the fact's `null =` reading, or as left out; a milestone is a date.
            (_, JsonKind::Null) => (true, ""),
            (ir::Type::Date, JsonKind::Name(_)) => (true, ""),
            (ir::Type::Bool, kind) => (matches!(kind, JsonKind::Bool(_)), "`true` or `false`"),
            (ir::Type::Int, JsonKind::Number(raw)) => (raw.parse::<i64>().is_ok(), "a whole number"),
            (ir::Type::Int, _) => (false, "a whole number"),
            (ir::Type::Date, _) => {
                (text.as_deref().and_then(Date::parse).is_some(), "a date in quotes, `\"YYYY-MM-DD\"`")
            }
            (ir::Type::Version, _) => {
                (text.as_deref().and_then(Version::parse_product).is_some(), "a version in quotes (`\"20.0\"`)")
            }
            (ir::Type::Build, _) => (
                text.as_deref().and_then(Version::parse_build).is_some(),
                "a Windows build in quotes (`\"10.0.19045.6456\"`)",
            ),
            (ir::Type::String, _) => (text.is_some(), "text in quotes"),
            (ir::Type::Kbs, JsonKind::Array(items)) => (
                items.iter().all(|i| matches!(&i.kind, JsonKind::String(_))),
                "a list of update ids in quotes (`[\"KB5011487\"]`)",
            ),
            (ir::Type::Kbs, _) => (false, "a list of update ids in quotes (`[\"KB5011487\"]`)"),
            (ir::Type::Product, _) => {
                (text.as_ref().is_some_and(|t| self.products.iter().any(|p| &p.id == t)), "a declared product id")
            }
            (ir::Type::Enum(variants), _) => {
                (text.as_ref().is_some_and(|t| variants.contains(t)), "one of the fact's `enum` values")
            }
            (ir::Type::Os | ir::Type::Update | ir::Type::Status, _) => (true, ""),
        };
        if !accepted {
            let d = Diagnostic::error(
                "P0301",
                format!("the test gives `{dotted}` a value its type does not accept"),
                value.span,
                format!("`{dotted}` takes {takes}"),
            );
            let d = match ty {
                ir::Type::Enum(variants) => d.with_help(format!("write one of {}", variants.join(", "))),
                ir::Type::Date => match &value.kind {
                    // `20190311`: the digits of a date, written as a number
                    JsonKind::Number(raw) if raw.len() == 8 && raw.chars().all(|c| c.is_ascii_digit()) => {
                        let part = |r: std::ops::Range<usize>| raw.get(r).unwrap_or_default();
                        let iso = format!("\"{}-{}-{}\"", part(0..4), part(4..6), part(6..8));
                        d.with_help(format!("dates are text in quotes: `{iso}`")).with_fix(value.span, iso)
                    }
                    _ => d.with_help("dates are text in quotes: `\"YYYY-MM-DD\"`"),
                },
                _ => d.with_help(format!(
                    "write {takes}, or expect the input error (`expect error {{ CODE at {dotted} }}`)"
                )),
            };
            self.error(d);
        }
    }

    fn json(&mut self, json: &ast::Json) -> serde_json::Value {
        use serde_json::Value as J;
        match &json.kind {
            JsonKind::Object(members) => {
                J::Object(members.iter().map(|(k, v)| (crate::json::decode(&k.name), self.json(v))).collect())
            }
            JsonKind::Array(items) => J::Array(items.iter().map(|i| self.json(i)).collect()),
            JsonKind::String(raw) => J::String(crate::json::decode(raw)),
            JsonKind::Number(raw) => serde_json::from_str(raw).unwrap_or(J::Null),
            JsonKind::Bool(b) => J::Bool(*b),
            JsonKind::Null => J::Null,
            // A milestone: its date.
            JsonKind::Name(name) => match self.milestone_date(name, json.span) {
                Some(date) => J::String(date.to_string()),
                None => J::Null,
            },
        }
    }
}
