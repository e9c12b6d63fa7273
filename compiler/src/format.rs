//! Canonical formatting: AST → text, keeping every `//` comment.
//!
//! Layout: two-space indentation, one blank line between items, one property or clause per line,
//! long `and` / `or` chains broken before the operator. Comments are not in the AST; they are read
//! from the source and re-emitted, each before the first element that starts after it (a trailing
//! comment therefore moves to its own line above the next element). A blank line after a comment
//! block is kept. The result parses to the same AST (spans aside) and formatting it again changes
//! nothing.

use crate::ast::*;
use crate::diagnostic::Diagnostic;

/// Lines longer than this break their `and` / `or` chains.
const WIDTH: usize = 100;

/// Formats a rules file; a syntax error is returned as its diagnostic.
pub fn format_source(source: &str) -> Result<String, Diagnostic> {
    let file = crate::syntax::parse(source)?;
    Ok(format_file(&file, source))
}

/// Formats a parsed file; `source` supplies the comments.
pub fn format_file(file: &File, source: &str) -> String {
    let mut p = Printer { out: String::new(), comments: comments(source), next: 0 };
    for (i, item) in file.items.iter().enumerate() {
        if i > 0 {
            p.out.push('\n');
        }
        p.item(item);
    }
    p.flush_comments(u32::MAX, 0);
    p.out
}

/// A `//` comment: where it starts, its text, and whether a blank line follows it.
struct Comment {
    at: u32,
    text: String,
    blank_after: bool,
}

/// The `//` comments, exactly where the parser sees them (the grammar's own token stream).
fn comments(source: &str) -> Vec<Comment> {
    crate::syntax::lex(source)
        .into_iter()
        .filter(|t| t.kind == crate::syntax::TokenKind::Comment)
        .map(|t| {
            let text = source.get(t.span.start as usize..t.span.end as usize).unwrap_or("").trim_end().to_string();
            let rest = source.get(t.span.end as usize..).unwrap_or("");
            let blank_after =
                strip_line_end(rest).is_some_and(|r| strip_line_end(r.trim_start_matches([' ', '\t'])).is_some());
            Comment { at: t.span.start, text, blank_after }
        })
        .collect()
}

/// The text after a line end (LF, CRLF or a bare CR, as the grammar's `NEWLINE`).
fn strip_line_end(text: &str) -> Option<&str> {
    text.strip_prefix("\r\n").or_else(|| text.strip_prefix('\n')).or_else(|| text.strip_prefix('\r'))
}

struct Printer {
    out: String,
    comments: Vec<Comment>,
    next: usize,
}

impl Printer {
    /// Emits the comments that start before `before`, at `indent`.
    fn flush_comments(&mut self, before: u32, indent: usize) {
        while let Some(c) = self.comments.get(self.next).filter(|c| c.at < before) {
            let line = format!("{}{}\n", "  ".repeat(indent), c.text);
            let blank = c.blank_after && before != u32::MAX;
            self.out.push_str(&line);
            if blank {
                self.out.push('\n');
            }
            self.next += 1;
        }
    }

    fn line(&mut self, indent: usize, at: Span, text: &str) {
        self.flush_comments(at.start, indent);
        self.out.push_str(&"  ".repeat(indent));
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn docs(&mut self, indent: usize, at: Span, docs: &[String]) {
        self.flush_comments(at.start, indent);
        for doc in docs {
            let line = if doc.is_empty() { "///".to_string() } else { format!("/// {doc}") };
            self.line(indent, at, &line);
        }
    }

    /// A closing brace: comments inside the block before it stay inside.
    fn close(&mut self, indent: usize, end: Span) {
        self.flush_comments(end.end, indent + 1);
        self.out.push_str(&"  ".repeat(indent));
        self.out.push_str("}\n");
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Use(u) => self.line(0, u.span, &format!("use {}", literal(&u.path))),
            Item::Decl(d) => {
                self.docs(0, d.span, &d.docs);
                self.line(0, d.span, &format!("{} {} {{", d.kind.keyword(), d.id.name));
                self.props(1, &d.props);
                self.close(0, d.span);
            }
            Item::Series(series) => {
                self.docs(0, series.span, &series.docs);
                self.line(0, series.span, &format!("series {} {{", series.id.name));
                self.props(1, &series.props);
                for entry in &series.entries {
                    self.docs(1, entry.span, &entry.docs);
                    let mut head = format!("{} {}", entry.kb.raw, entry.released.raw);
                    if let Some(title) = &entry.title {
                        head.push(' ');
                        head.push_str(&literal(title));
                    }
                    if entry.props.is_empty() {
                        self.line(1, entry.span, &head);
                    } else {
                        self.line(1, entry.span, &format!("{head} {{"));
                        self.props(2, &entry.props);
                        self.close(1, entry.span);
                    }
                }
                self.close(0, series.span);
            }
            Item::Facts(f) => {
                self.docs(0, f.span, &f.docs);
                self.line(0, f.span, "facts {");
                self.fields(&f.fields, 1);
                self.close(0, f.span);
            }
            Item::Host(h) => {
                self.docs(0, h.span, &h.docs);
                self.line(0, h.span, "host {");
                for (role, path) in &h.bindings {
                    self.line(1, role.span, &format!("{} = {path}", role.name));
                }
                self.close(0, h.span);
            }
            Item::Let(l) => {
                self.docs(0, l.span, &l.docs);
                let head = format!("let {} = ", l.name.name);
                let text = format!("{head}{}", broken_expr(&l.expr, head.len(), 1));
                self.line(0, l.span, &text);
            }
            Item::Rule(r) => self.rule(r),
            Item::Test(t) => self.test(t),
        }
    }

    fn props(&mut self, indent: usize, props: &[Prop]) {
        for prop in props {
            let values: Vec<String> = prop.values.iter().map(prop_value).collect();
            let mut text = format!("{} {}", prop.key.name, values.join(", "));
            if !prop.for_oses.is_empty() {
                let oses: Vec<&str> = prop.for_oses.iter().map(|o| o.name.as_str()).collect();
                text.push_str(&format!(" for {}", oses.join(", ")));
            }
            self.line(indent, prop.span, &text);
        }
    }

    fn fields(&mut self, fields: &[Field], indent: usize) {
        for field in fields {
            self.docs(indent, field.span, &field.docs);
            match &field.kind {
                FieldKind::Group(children) => {
                    self.line(indent, field.span, &format!("{} {{", field.name.name));
                    self.fields(children, indent + 1);
                    self.close(indent, field.span);
                }
                FieldKind::Leaf { ty, optional, default, null, condition, collect } => {
                    let mut text = format!("{}: {}", field.name.name, type_expr(ty));
                    if *optional {
                        text.push('?');
                    }
                    if let Some(d) = default {
                        text.push_str(" = ");
                        text.push_str(&match d {
                            Default::Literal(lit) => literal(lit),
                            Default::List(items, _) => list(items),
                        });
                    }
                    if let Some(d) = null {
                        text.push_str(" null = ");
                        text.push_str(&match d {
                            Default::Literal(lit) => literal(lit),
                            Default::List(items, _) => list(items),
                        });
                    }
                    if let Some(c) = condition {
                        text.push_str(" if ");
                        let width = indent * 2 + text.len();
                        text.push_str(&broken_expr(c, width, indent + 1));
                    }
                    if let Some(c) = collect {
                        // Past the width, `from` starts a continuation line of its own.
                        let from = format!("from {}", collect_text(c));
                        let last = text.rsplit('\n').next().map_or(0, str::len);
                        let used = if text.contains('\n') { last } else { indent * 2 + last };
                        if used + 1 + from.len() <= WIDTH {
                            text.push(' ');
                            text.push_str(&from);
                        } else {
                            text.push('\n');
                            text.push_str(&"  ".repeat(indent + 1));
                            text.push_str(&broken_collect(c, (indent + 1) * 2, indent + 1));
                        }
                    }
                    self.line(indent, field.span, &text);
                }
            }
        }
    }

    fn rule(&mut self, r: &Rule) {
        self.docs(0, r.span, &r.docs);
        self.line(0, r.span, &format!("rule {} {{", r.name.name));
        for clause in &r.clauses {
            let (span, text) = match clause {
                Clause::When(e) => (e.span, format!("when {}", broken_expr(e, 2 + 5, 2))),
                Clause::Require(groups, span) => (*span, format!("require {}", requirement(groups))),
                Clause::Severity { level, otherwise, span } => {
                    let mut text = format!("severity {}", level.name);
                    if let Some((cond, other)) = otherwise {
                        let used = 2 + text.len() + 4;
                        text.push_str(&format!(" if {} else {}", broken_expr(cond, used, 2), other.name));
                    }
                    (*span, text)
                }
                Clause::Message(lit) => (lit.span, format!("message {}", literal(lit))),
                Clause::Certificate(id) => (id.span, format!("certificate {}", id.name)),
                Clause::Cite(lit) => (lit.span, format!("cite {}", literal(lit))),
                Clause::Link(lit) => (lit.span, format!("link {}", literal(lit))),
            };
            // A clause's span starts after its keyword; comments before the keyword come first.
            self.line(1, Span { start: span.start.saturating_sub(1), end: span.end }, &text);
        }
        self.close(0, r.span);
    }

    fn test(&mut self, t: &Test) {
        self.docs(0, t.span, &t.docs);
        self.line(0, t.span, &format!("test \"{}\" {{", t.name.name));
        self.line(1, t.given.span, &format!("given {}", broken_json(&t.given, 2 + 6, 1)));
        let (span, text) = match &t.expect {
            Expect::Error { code, at, span } => {
                let at = at.as_ref().map(|p| format!(" at {p}")).unwrap_or_default();
                (*span, format!("expect error {}{at}", code.name))
            }
            Expect::Status { status, items, span } => {
                let mut text = format!("expect {}", status.name);
                if !items.is_empty() {
                    let parts: Vec<String> = items.iter().map(expectation).collect();
                    let flat = format!(" {{ {} }}", parts.join(" "));
                    if 2 + text.len() + flat.len() <= WIDTH {
                        text.push_str(&flat);
                    } else {
                        // One expectation a line.
                        text.push_str(" {");
                        for part in parts {
                            text.push_str(&format!("\n    {part}"));
                        }
                        text.push_str("\n  }");
                    }
                }
                (*span, text)
            }
        };
        self.line(1, span, &text);
        self.close(0, t.span);
    }
}

fn prop_value(v: &PropValue) -> String {
    match v {
        PropValue::Literal(lit) => literal(lit),
        PropValue::Name(id) => id.name.clone(),
        PropValue::Path(path) => path.to_string(),
        PropValue::Alias(a, b, _) => format!("{} = {}", literal(a), literal(b)),
        PropValue::Range(bounds, _) => {
            bounds.iter().map(|(op, lit)| format!("{} {}", op.symbol(), literal(lit))).collect::<Vec<_>>().join(" and ")
        }
    }
}

/// `KB1 and (KB2 or KB3)`: a group with `or` is parenthesized when there are several groups.
fn requirement(groups: &[NeedGroup]) -> String {
    let several = groups.len() > 1;
    let group = |g: &NeedGroup| {
        let text = g.needs.iter().map(need).collect::<Vec<_>>().join(" or ");
        if (several && g.needs.len() > 1) || g.parenthesized { format!("({text})") } else { text }
    };
    groups.iter().map(group).collect::<Vec<_>>().join(" and ")
}

fn need(n: &Need) -> String {
    match n {
        Need::Update(lit) => literal(lit),
        Need::Certificate(id) => format!("certificate {}", id.name),
        Need::Component { id, op, version, shown } => {
            let shown = shown.as_ref().map(|s| format!(" as {}", literal(s))).unwrap_or_default();
            format!("component {} {} {}{shown}", id.name, op.symbol(), expr(version))
        }
        Need::Setting(id, None) => format!("setting {}", id.name),
        Need::Setting(id, Some(value)) => format!("setting {} == {}", id.name, expr(value)),
        Need::Action(id) => format!("action {}", id.name),
        Need::Latest { of, since, .. } => format!("any {} since {}", of.name, expr(since)),
    }
}

fn type_expr(t: &TypeExpr) -> String {
    match t {
        TypeExpr::Named(id) => id.name.clone(),
        TypeExpr::Enum(variants, _) => {
            format!("enum({})", variants.iter().map(|v| v.name.as_str()).collect::<Vec<_>>().join(", "))
        }
    }
}

fn literal(lit: &Literal) -> String {
    match lit.kind {
        LitKind::String => format!("\"{}\"", lit.raw),
        _ => lit.raw.clone(),
    }
}

fn list(items: &[Expr]) -> String {
    format!("[{}]", items.iter().map(expr).collect::<Vec<_>>().join(", "))
}

/// An expression on one line.
pub fn expr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Or(parts) => parts.iter().map(expr).collect::<Vec<_>>().join(" or "),
        ExprKind::And(parts) => parts.iter().map(expr).collect::<Vec<_>>().join(" and "),
        ExprKind::Not(inner) => format!("not {}", expr(inner)),
        ExprKind::Compare(l, op, r) => format!("{} {} {}", expr(l), op.symbol(), expr(r)),
        ExprKind::In(l, set) => format!("{} in {}", expr(l), expr(set)),
        ExprKind::Call(name, args) => {
            format!("{}({})", name.name, args.iter().map(expr).collect::<Vec<_>>().join(", "))
        }
        ExprKind::List(items) => list(items),
        ExprKind::Paren(inner) => format!("({})", expr(inner)),
        ExprKind::Literal(lit) => literal(lit),
        ExprKind::Path(path) => path.to_string(),
    }
}

/// An expression broken over lines where it would pass [`WIDTH`]: an `and` / `or` chain one
/// part a line (nested chains inside parentheses one level deeper), a long list filled line by
/// line. `used` is the width already taken on the first line, `indent` the continuation's level.
fn broken_expr(e: &Expr, used: usize, indent: usize) -> String {
    let flat = expr(e);
    if used + flat.len() <= WIDTH {
        return flat;
    }
    let pad = "  ".repeat(indent);
    match &e.kind {
        ExprKind::Or(parts) | ExprKind::And(parts) => {
            let op = if matches!(e.kind, ExprKind::Or(_)) { "or" } else { "and" };
            let mut out = String::new();
            for (i, part) in parts.iter().enumerate() {
                if i == 0 {
                    out.push_str(&broken_expr(part, used, indent + 1));
                } else {
                    out.push_str(&format!("\n{pad}{op} "));
                    out.push_str(&broken_expr(part, pad.len() + op.len() + 1, indent + 1));
                }
            }
            out
        }
        ExprKind::Paren(inner) => format!("({})", broken_expr(inner, used + 1, indent)),
        ExprKind::Not(inner) => format!("not {}", broken_expr(inner, used + 4, indent)),
        ExprKind::In(l, set) => {
            let head = format!("{} in ", expr(l));
            format!("{head}{}", broken_expr(set, used + head.len(), indent))
        }
        ExprKind::List(items) => filled(&items.iter().map(expr).collect::<Vec<_>>(), used, indent),
        _ => flat,
    }
}

/// `[a, b, c]` filled: as many items a line as fit, continuation lines at `indent`.
fn filled(items: &[String], used: usize, indent: usize) -> String {
    let pad = "  ".repeat(indent);
    let mut out = String::from("[");
    let mut column = used + 1;
    for (i, item) in items.iter().enumerate() {
        let last = i + 1 == items.len();
        // The item, its comma or the closing bracket.
        let width = item.len() + 1;
        if i > 0 {
            if column + 1 + width > WIDTH {
                out.push('\n');
                out.push_str(&pad);
                column = pad.len();
            } else {
                out.push(' ');
                column += 1;
            }
        }
        out.push_str(item);
        out.push(if last { ']' } else { ',' });
        column += width;
    }
    if items.is_empty() {
        out.push(']');
    }
    out
}

fn expectation(x: &Expectation) -> String {
    match x {
        Expectation::Install(kbs, _) => format!("install {}", kbs.iter().map(literal).collect::<Vec<_>>().join(" or ")),
        Expectation::Certificate(id) => format!("certificate {}", id.name),
        Expectation::Component(id) => format!("component {}", id.name),
        Expectation::Setting(id) => format!("setting {}", id.name),
        Expectation::Action(id) => format!("action {}", id.name),
        Expectation::AnyOf(steps, _) => format!("({})", steps.iter().map(expectation).collect::<Vec<_>>().join(" or ")),
        Expectation::Fires(id, false) => format!("fires {}", id.name),
        Expectation::Fires(id, true) => format!("not fires {}", id.name),
        Expectation::Undetermined(id, false) => format!("undetermined {}", id.name),
        Expectation::Undetermined(id, true) => format!("not undetermined {}", id.name),
    }
}

fn is_plain_key(key: &str) -> bool {
    crate::syntax::is_name(key)
}

fn json(j: &Json) -> String {
    match &j.kind {
        JsonKind::Object(members) if members.is_empty() => "{}".into(),
        JsonKind::Object(members) => {
            let parts: Vec<String> = members
                .iter()
                .map(|(k, v)| {
                    let key = if is_plain_key(&k.name) { k.name.clone() } else { format!("\"{}\"", k.name) };
                    format!("{key}: {}", json(v))
                })
                .collect();
            format!("{{ {} }}", parts.join(", "))
        }
        JsonKind::Array(items) => format!("[{}]", items.iter().map(json).collect::<Vec<_>>().join(", ")),
        JsonKind::String(raw) => format!("\"{raw}\""),
        JsonKind::Number(raw) => raw.clone(),
        JsonKind::Bool(b) => b.to_string(),
        JsonKind::Null => "null".into(),
        JsonKind::Name(name) => name.clone(),
    }
}

/// A `given` value broken over lines where it would pass [`WIDTH`]: an object one member a
/// line, an array filled; `used` and `indent` as for [`broken_expr`].
fn broken_json(j: &Json, used: usize, indent: usize) -> String {
    let flat = json(j);
    if used + flat.len() <= WIDTH {
        return flat;
    }
    let inner = "  ".repeat(indent + 1);
    match &j.kind {
        JsonKind::Object(members) => {
            let lines: Vec<String> = members
                .iter()
                .map(|(k, v)| {
                    let key = if is_plain_key(&k.name) { k.name.clone() } else { format!("\"{}\"", k.name) };
                    let head = format!("{inner}{key}: ");
                    format!("{head}{}", broken_json(v, head.len() + 1, indent + 1))
                })
                .collect();
            format!("{{\n{}\n{}}}", lines.join(",\n"), "  ".repeat(indent))
        }
        JsonKind::Array(items) => filled(&items.iter().map(json).collect::<Vec<_>>(), used, indent + 1),
        _ => flat,
    }
}

/// `SOURCE "arg" + "text" + SOURCE map { KEY = VALUE, ... }`, as the clause after `from`.
fn collect_text(c: &crate::ast::Collect) -> String {
    let mut text = collect_pieces(c).join(" + ");
    if let Some(entries) = map_entries(c) {
        text.push(' ');
        text.push_str(&flat_map(&entries));
    }
    text
}

/// `from ...` over lines, starting at column `used` with continuation lines at level `indent`:
/// pieces filled with `+` leading a continuation, `map` on a line of its own, and its entries
/// one a line when the map alone passes the width.
fn broken_collect(c: &crate::ast::Collect, used: usize, indent: usize) -> String {
    let pad = "  ".repeat(indent);
    let deeper = "  ".repeat(indent + 1);
    let mut text = String::from("from");
    let mut column = used + 4;
    for (i, piece) in collect_pieces(c).into_iter().enumerate() {
        let joint = if i == 0 { " " } else { " + " };
        if i > 0 && column + joint.len() + piece.len() > WIDTH {
            text.push_str(&format!("\n{deeper}+ {piece}"));
            column = deeper.len() + 2 + piece.len();
        } else {
            text.push_str(joint);
            text.push_str(&piece);
            column += joint.len() + piece.len();
        }
    }
    if let Some(entries) = map_entries(c) {
        let flat = flat_map(&entries);
        if column + 1 + flat.len() <= WIDTH {
            text.push(' ');
            text.push_str(&flat);
        } else if pad.len() + flat.len() <= WIDTH {
            text.push_str(&format!("\n{pad}{flat}"));
        } else {
            text.push_str(&format!("\n{pad}map {{"));
            for entry in &entries {
                text.push_str(&format!("\n{deeper}{entry},"));
            }
            text.push_str(&format!("\n{pad}}}"));
        }
    }
    text
}

fn collect_pieces(c: &crate::ast::Collect) -> Vec<String> {
    use crate::ast::CollectPiece;
    c.pieces
        .iter()
        .map(|piece| match piece {
            CollectPiece::Text(text) => literal(text),
            CollectPiece::Source { name, args, .. } => {
                std::iter::once(name.name.clone()).chain(args.iter().map(literal)).collect::<Vec<_>>().join(" ")
            }
        })
        .collect()
}

/// The `map` entries as written (`KEY = VALUE`), if the clause has a map.
fn map_entries(c: &crate::ast::Collect) -> Option<Vec<String>> {
    use crate::ast::MapKey;
    let entries = c.map.as_ref()?;
    Some(
        entries
            .iter()
            .map(|entry| {
                let key = match &entry.key {
                    MapKey::Equals(key) => literal(key),
                    MapKey::Matches(pattern) => format!("matches {}", literal(pattern)),
                    MapKey::Compare(op, n) => format!("{} {}", op.symbol(), literal(n)),
                    MapKey::Else(_) => "else".to_string(),
                    MapKey::Missing(_) => "missing".to_string(),
                };
                format!("{key} = {}", literal(&entry.value))
            })
            .collect(),
    )
}

fn flat_map(entries: &[String]) -> String {
    if entries.is_empty() { "map {}".to_string() } else { format!("map {{ {} }}", entries.join(", ")) }
}
