//! Every name a file declares, with its declaration: what completion offers, what hover shows
//! and where definition goes.

use crate::Kind;
use preflight_compiler::ast::{self, DeclKind, Field, FieldKind, Item, PropValue};
use std::sync::Arc;

/// A declared name.
#[derive(Clone, Debug, PartialEq)]
pub struct Declaration {
    /// The full name (`os.version` for a fact of a group).
    pub name: String,
    pub kind: Kind,
    /// The name where it is declared, and the whole declaration.
    pub name_span: (usize, usize),
    pub span: (usize, usize),
    /// Its `///` docs, and for a series' entry what it shares with the series.
    pub docs: Vec<String>,
    /// An update's title.
    pub title: Option<String>,
    /// The OS versions an update applies to (its own `applies`, or its series').
    pub applies: Vec<String>,
    /// Declared in another file (one the file `use`s): its path and text, which the spans are in.
    pub origin: Option<Arc<(String, String)>>,
}

/// Every declared name of a parsed file, in file order (a group's facts before the group).
pub fn declarations(file: &ast::File, text: &str) -> Vec<Declaration> {
    let at = |s: ast::Span| (s.start as usize, s.end as usize);
    let mut out = Vec::new();
    let plain = |name: &str, kind: Kind, name_span: ast::Span, span: ast::Span, docs: &[String]| Declaration {
        name: name.to_string(),
        kind,
        name_span: at(name_span),
        span: at(span),
        docs: docs.to_vec(),
        title: None,
        applies: Vec::new(),
        origin: None,
    };
    for item in &file.items {
        match item {
            Item::Decl(d) => {
                let mut declaration = plain(&d.id.name, Kind::of_decl(d.kind), d.id.span, d.span, &d.docs);
                if d.kind == DeclKind::Update {
                    declaration.title = prop_strings(&d.props, "title").into_iter().next();
                    declaration.applies = prop_names(&d.props, "applies");
                }
                out.push(declaration);
            }
            Item::Series(series) => {
                out.push(plain(&series.id.name, Kind::Series, series.id.span, series.span, &series.docs));
                // An entry's block shows only its own properties: its docs say what it shares
                // with the series and which entry it supersedes.
                let shared: Vec<String> = series
                    .props
                    .iter()
                    .filter_map(|p| text.get(p.span.range()))
                    .map(|p| format!("`{}`", p.trim()))
                    .collect();
                let applies = prop_names(&series.props, "applies");
                let mut previous: Option<&str> = None;
                for e in &series.entries {
                    let mut entry = plain(&e.kb.raw, Kind::Update, e.kb.span, e.span, &e.docs);
                    let mut origin = format!("Entry of series `{}`", series.id.name);
                    if !shared.is_empty() {
                        origin.push_str(&format!(" ({})", shared.join(", ")));
                    }
                    if let Some(previous) = previous {
                        origin.push_str(&format!("; supersedes `{previous}`"));
                    }
                    entry.docs.push(format!("{origin}."));
                    entry.title = e.title.as_ref().map(|t| t.raw.clone());
                    entry.applies = applies.clone();
                    previous = Some(&e.kb.raw);
                    out.push(entry);
                }
            }
            Item::Let(l) => out.push(plain(&l.name.name, Kind::Let, l.name.span, l.span, &l.docs)),
            Item::Rule(r) => out.push(plain(&r.name.name, Kind::Rule, r.name.span, r.span, &r.docs)),
            Item::Facts(f) => fields("", &f.fields, &mut out),
            Item::Use(_) | Item::Host(_) | Item::Test(_) => {}
        }
    }
    out
}

fn fields(prefix: &str, list: &[Field], out: &mut Vec<Declaration>) {
    for f in list {
        let path = if prefix.is_empty() { f.name.name.clone() } else { format!("{prefix}.{}", f.name.name) };
        let group = matches!(f.kind, FieldKind::Group(_));
        if let FieldKind::Group(inner) = &f.kind {
            fields(&path, inner, out);
        }
        out.push(Declaration {
            name: path,
            kind: if group { Kind::Group } else { Kind::Fact },
            name_span: (f.name.span.start as usize, f.name.span.end as usize),
            span: (f.span.start as usize, f.span.end as usize),
            docs: f.docs.clone(),
            title: None,
            applies: Vec::new(),
            origin: None,
        });
    }
}

/// The values a property gives (`title "..."`, `applies win10, win11`).
fn prop_values<'p>(props: &'p [ast::Prop], key: &'p str) -> impl Iterator<Item = &'p PropValue> {
    props.iter().filter(move |p| p.key.name == key).flat_map(|p| &p.values)
}

/// The string values of a property (`title "..."`).
fn prop_strings(props: &[ast::Prop], key: &str) -> Vec<String> {
    prop_values(props, key)
        .filter_map(|v| match v {
            PropValue::Literal(lit) if lit.kind == ast::LitKind::String => Some(lit.raw.clone()),
            _ => None,
        })
        .collect()
}

/// The names a property lists (`applies win10, win11`).
fn prop_names(props: &[ast::Prop], key: &str) -> Vec<String> {
    prop_values(props, key)
        .filter_map(|v| match v {
            PropValue::Name(id) => Some(id.name.clone()),
            _ => None,
        })
        .collect()
}
