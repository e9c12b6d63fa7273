//! Checks across advisories loaded together: one facts document answers them all, so a fact two
//! rules files both declare must mean the same thing in each (P0207).

use crate::ast::{self, Span};
use crate::diagnostic::Diagnostic;
use crate::ir::Program;

/// A checked rules file: its source and program.
pub struct Loaded<'a> {
    pub source: &'a str,
    pub program: &'a Program,
}

/// Warnings, each for the file (by index into `files`) it points into.
pub fn check(files: &[Loaded<'_>]) -> Vec<(usize, Diagnostic)> {
    let mut out = Vec::new();
    for (i, later) in files.iter().enumerate() {
        for field in &later.program.fields {
            let dotted = field.dotted();
            let earlier = files.iter().enumerate().take(i).find_map(|(j, f)| {
                f.program.fields.iter().find(|g| g.dotted() == dotted && g.ty != field.ty).map(|g| (j, f, g))
            });
            let Some((_, first, other)) = earlier else { continue };
            let (a, b) = (&first.program.advisory.id, &later.program.advisory.id);
            out.push((
                i,
                Diagnostic::warning(
                    "P0207",
                    format!(
                        "fact `{dotted}` is `{}` here but `{}` in advisory `{a}`",
                        field.ty.name(),
                        other.ty.name()
                    ),
                    field_span(later.source, &dotted),
                    format!("`{}` in `{b}`", field.ty.name()),
                )
                .with_help(format!(
                    "one facts document answers both advisories: declare `{dotted}` with one type in both, or rename it in one"
                )),
            ));
        }
    }
    out
}

/// Where a fact is declared in a source (the whole file when it cannot be found).
fn field_span(source: &str, dotted: &str) -> Span {
    let Ok(file) = crate::syntax::parse(source) else { return Span::default() };
    let facts = file.items.iter().find_map(|i| if let ast::Item::Facts(f) = i { Some(f) } else { None });
    let mut fields = facts.map(|f| f.fields.as_slice()).unwrap_or_default();
    let segments: Vec<&str> = dotted.split('.').collect();
    let mut found = Span::default();
    for segment in segments {
        let Some(field) = fields.iter().find(|f| f.name.name == segment) else { return found };
        found = field.name.span;
        fields = match &field.kind {
            ast::FieldKind::Group(children) => children,
            ast::FieldKind::Leaf { .. } => &[],
        };
    }
    found
}
