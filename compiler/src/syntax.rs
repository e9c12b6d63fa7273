//! Step one: text → AST. Runs the pest parser and builds the AST, with a span on every node.
//!
//! Syntax errors become a [`Diagnostic`] that says what was expected in words ("a condition",
//! "`,` or `}`"), never pest rule names. [`describe`] matches every grammar rule, so adding a rule
//! to `preflight.pest` without deciding how to name it does not compile.

use crate::ast::*;
use crate::diagnostic::{Diagnostic, suggest};
use pest::Parser;
use pest::iterators::Pair;
use preflight_grammar::{PreflightParser, Rule};

type Result<T> = std::result::Result<T, Diagnostic>;

/// Parses a rules file. On a syntax error returns the one diagnostic that describes it (pest stops
/// at the first error; everything after it would be guesswork).
pub fn parse(source: &str) -> Result<File> {
    let items = parse_tree(source)?.filter(|p| p.as_rule() != Rule::EOI).map(item).collect::<Result<_>>()?;
    Ok(File { items })
}

/// A file that does not parse, read item by item so that every syntax error is reported, not
/// only the first: the file is cut where a line starts with an item's keyword (a missing `}`
/// then hides nothing past the next item), each piece is parsed on its own, and the file is
/// parsed once more with the broken pieces blanked out (offsets kept) for what still parses.
pub struct Recovered {
    /// The file without its broken pieces, when that parses.
    pub file: Option<File>,
    /// One syntax error per broken piece, in order.
    pub errors: Vec<Diagnostic>,
    /// What each broken piece declares (`rule`, `win10_update`), to silence follow-on errors.
    pub broken: Vec<(String, String)>,
    /// The text with the broken pieces blanked out (offsets kept), when that parses: what an
    /// editor can still colour.
    pub parsable: Option<String>,
}

/// See [`Recovered`]. Meant for a text `parse` refused.
pub fn parse_recovering(source: &str) -> Recovered {
    let mut errors = Vec::new();
    let mut broken = Vec::new();
    let mut blanked = source.as_bytes().to_vec();
    for (start, end) in item_pieces(source) {
        let Some(piece) = source.get(start..end) else { continue };
        let Err(error) = parse(piece) else { continue };
        let mut error = error.shifted(start);
        // A piece ends where the next item starts: that, not the end of the file, is what came.
        let next = source.get(end..).and_then(|rest| {
            let mut at = end;
            for line in rest.split_inclusive('\n') {
                let word = line.split_whitespace().next().unwrap_or("");
                if !word.is_empty() && !word.starts_with("//") {
                    return Some((at + line.len() - line.trim_start().len(), word));
                }
                at += line.len();
            }
            None
        });
        if let Some((at, word)) = next
            && error.message.contains("found end of file")
        {
            error.message = error.message.replace("found end of file", &format!("found `{word}`, the next item"));
            error.primary.span = Span::new(at, at + word.len());
        }
        errors.push(error);
        // What the piece declares: its first two words after the doc comments.
        let code: Vec<&str> = piece
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("//"))
            .flat_map(|l| l.split(|c: char| c.is_whitespace() || c == '{'))
            .filter(|w| !w.is_empty())
            .take(2)
            .collect();
        if let [keyword, name] = code.as_slice() {
            broken.push(((*keyword).to_string(), (*name).to_string()));
        }
        for b in blanked.iter_mut().skip(start).take(end - start) {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    }
    if errors.is_empty() {
        // Every piece parses on its own, the whole does not: the first error is the answer.
        return Recovered { file: None, errors: parse(source).err().into_iter().collect(), broken, parsable: None };
    }
    // Only ASCII spaces replaced whole pieces (which start and end at line boundaries).
    let parsed = String::from_utf8(blanked).ok().and_then(|text| Some((parse(&text).ok()?, text)));
    let (file, parsable) = parsed.map_or((None, None), |(file, text)| (Some(file), Some(text)));
    Recovered { file, errors, broken, parsable }
}

/// The byte ranges of a file's pieces: each starts at a line that begins with an item keyword
/// (or at the `///` docs before one) and ends where the next starts.
fn item_pieces(source: &str) -> Vec<(usize, usize)> {
    let mut starts = vec![0];
    let mut offset = 0;
    let mut docs_from: Option<usize> = None;
    for line in source.split_inclusive('\n') {
        let word = line.split(|c: char| c.is_whitespace() || c == '{' || c == '"').next().unwrap_or("");
        if line.starts_with("///") {
            docs_from.get_or_insert(offset);
        } else if !word.is_empty() && ITEM_KEYWORDS.contains(&word) {
            let start = docs_from.unwrap_or(offset);
            if start > 0 {
                starts.push(start);
            }
            docs_from = None;
        } else {
            docs_from = None;
        }
        offset += line.len();
    }
    starts.dedup();
    let mut pieces: Vec<(usize, usize)> = starts.windows(2).filter_map(|w| Some((*w.first()?, *w.get(1)?))).collect();
    if let Some(last) = starts.last() {
        pieces.push((*last, source.len()));
    }
    pieces
}

/// The parse tree's items (and the end of input), for stages that read tokens rather than the AST
/// (highlighting).
pub(crate) fn parse_tree(source: &str) -> Result<pest::iterators::Pairs<'_, Rule>> {
    check_nesting(source)?;
    let mut pairs = parse_file(source)?;
    let file = pairs.next().ok_or_else(|| internal(Span::default(), "empty parse"))?;
    Ok(file.into_inner())
}

/// pest's error detail (the literal tokens it tried, so that errors can name `,` or `}`) makes a
/// parse ten times slower: a file is parsed without it, and again with it only when it has a
/// syntax error. The setting is global to pest, hence the lock: a parse that reports an error
/// never runs with another thread's setting.
fn parse_file(source: &str) -> Result<pest::iterators::Pairs<'_, Rule>> {
    static DETAIL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = DETAIL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    pest::set_error_detail(false);
    if let Ok(pairs) = PreflightParser::parse(Rule::file, source) {
        return Ok(pairs);
    }
    pest::set_error_detail(true);
    let detailed = PreflightParser::parse(Rule::file, source);
    pest::set_error_detail(false);
    detailed.map_err(|e| syntax_error(source, &e))
}

// ---------------------------------------------------------------- building the AST

fn span(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    Span::new(s.start(), s.end())
}

fn internal(span: Span, what: &str) -> Diagnostic {
    Diagnostic::error("P0000", format!("internal error: the parser and the grammar disagree ({what})"), span, "here")
        .with_help("please report this file to the Preflight maintainers")
}

/// Whether a rule is a keyword (`kw_*`): the AST builder skips them, highlighting colours them.
pub(crate) fn is_keyword(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::kw_advisory
            | Rule::kw_product
            | Rule::kw_os
            | Rule::kw_update
            | Rule::kw_series
            | Rule::kw_component
            | Rule::kw_setting
            | Rule::kw_for
            | Rule::kw_from
            | Rule::kw_action
            | Rule::kw_milestone
            | Rule::kw_use
            | Rule::kw_any
            | Rule::kw_since
            | Rule::kw_certificate
            | Rule::kw_facts
            | Rule::kw_host
            | Rule::kw_enum
            | Rule::kw_let
            | Rule::kw_rule
            | Rule::kw_when
            | Rule::kw_require
            | Rule::kw_severity
            | Rule::kw_message
            | Rule::kw_cite
            | Rule::kw_link
            | Rule::kw_if
            | Rule::kw_else
            | Rule::kw_and
            | Rule::kw_or
            | Rule::kw_not
            | Rule::kw_in
            | Rule::kw_test
            | Rule::kw_given
            | Rule::kw_expect
            | Rule::kw_error
            | Rule::kw_at
            | Rule::kw_install
            | Rule::kw_fires
            | Rule::kw_undetermined
            | Rule::kw_map
            | Rule::kw_matches
            | Rule::kw_missing
            | Rule::kw_as
    )
}

/// The inner pairs that carry meaning: keywords are skipped.
fn significant<'a>(pair: Pair<'a, Rule>) -> impl Iterator<Item = Pair<'a, Rule>> {
    pair.into_inner().filter(|p| !is_keyword(p.as_rule()))
}

/// Splits leading `doc` pairs off an item's inner pairs.
fn docs_and_rest(pair: Pair<'_, Rule>) -> (Vec<String>, Vec<Pair<'_, Rule>>) {
    let (docs, rest): (Vec<_>, Vec<_>) = significant(pair).partition(|p| p.as_rule() == Rule::doc);
    let docs = docs.into_iter().map(|d| d.into_inner().as_str().trim().to_string()).collect();
    (docs, rest)
}

struct Cursor<'a> {
    pairs: std::vec::IntoIter<Pair<'a, Rule>>,
    span: Span,
}

impl<'a> Cursor<'a> {
    fn new(pairs: Vec<Pair<'a, Rule>>, span: Span) -> Self {
        Cursor { pairs: pairs.into_iter(), span }
    }

    fn next(&mut self, what: &str) -> Result<Pair<'a, Rule>> {
        self.pairs.next().ok_or_else(|| internal(self.span, what))
    }

    fn rest(self) -> std::vec::IntoIter<Pair<'a, Rule>> {
        self.pairs
    }
}

fn ident(pair: Pair<'_, Rule>) -> Ident {
    Ident { name: pair.as_str().to_string(), span: span(&pair) }
}

fn item(pair: Pair<'_, Rule>) -> Result<Item> {
    let item_span = span(&pair);
    let rule = pair.as_rule();
    let (docs, rest) = docs_and_rest(pair);
    let mut cur = Cursor::new(rest, item_span);
    let decl_kind = match rule {
        Rule::advisory => Some(DeclKind::Advisory),
        Rule::product => Some(DeclKind::Product),
        Rule::os => Some(DeclKind::Os),
        Rule::update => Some(DeclKind::Update),
        Rule::certificate => Some(DeclKind::Certificate),
        Rule::component => Some(DeclKind::Component),
        Rule::setting => Some(DeclKind::Setting),
        Rule::action => Some(DeclKind::Action),
        Rule::milestone => Some(DeclKind::Milestone),
        _ => None,
    };
    if let Some(kind) = decl_kind {
        let id = ident(cur.next("declaration id")?);
        let props = cur.rest().map(prop).collect::<Result<_>>()?;
        return Ok(Item::Decl(Decl { kind, docs, id, props, span: item_span }));
    }
    match rule {
        Rule::use_decl => {
            let path = literal(cur.next("used file")?)?;
            Ok(Item::Use(crate::ast::UseItem { path, span: item_span }))
        }
        Rule::series => {
            let id = ident(cur.next("series id")?);
            let (mut props, mut entries) = (Vec::new(), Vec::new());
            for part in cur.rest() {
                match part.as_rule() {
                    Rule::series_entry => entries.push(series_entry(part)?),
                    _ => props.push(prop(part)?),
                }
            }
            Ok(Item::Series(Series { docs, id, props, entries, span: item_span }))
        }
        Rule::facts => {
            let fields = cur.rest().map(field).collect::<Result<_>>()?;
            Ok(Item::Facts(Facts { docs, fields, span: item_span }))
        }
        Rule::host => {
            let bindings = cur.rest().map(binding).collect::<Result<_>>()?;
            Ok(Item::Host(Host { docs, bindings, span: item_span }))
        }
        Rule::let_decl => {
            let name = ident(cur.next("let name")?);
            let expr = expr(cur.next("let expression")?)?;
            Ok(Item::Let(Let { docs, name, expr, span: item_span }))
        }
        Rule::rule_decl => {
            let name = ident(cur.next("rule name")?);
            let clauses = cur.rest().map(clause).collect::<Result<_>>()?;
            Ok(Item::Rule(crate::ast::Rule { docs, name, clauses, span: item_span }))
        }
        Rule::test => test(docs, cur, item_span),
        _ => Err(internal(item_span, "item")),
    }
}

fn prop(pair: Pair<'_, Rule>) -> Result<Prop> {
    let prop_span = span(&pair);
    let mut cur = Cursor::new(significant(pair).collect(), prop_span);
    let key = ident(cur.next("property key")?);
    let values = significant(cur.next("property values")?).map(prop_value).collect::<Result<_>>()?;
    let for_oses = cur.pairs.next().map(|f| significant(f).map(ident).collect()).unwrap_or_default();
    Ok(Prop { key, values, for_oses, span: prop_span })
}

fn series_entry(pair: Pair<'_, Rule>) -> Result<SeriesEntry> {
    let entry_span = span(&pair);
    let (docs, rest) = docs_and_rest(pair);
    let mut cur = Cursor::new(rest, entry_span);
    let kb = literal(cur.next("series KB")?)?;
    let released = literal(cur.next("series date")?)?;
    let (mut title, mut props) = (None, Vec::new());
    for part in cur.rest() {
        match part.as_rule() {
            Rule::string => title = Some(literal(part)?),
            _ => props.push(prop(part)?),
        }
    }
    Ok(SeriesEntry { docs, kb, released, title, props, span: entry_span })
}

fn need_group(pair: Pair<'_, Rule>) -> Result<NeedGroup> {
    let group_span = span(&pair);
    let mut inner: Vec<Pair<'_, Rule>> = significant(pair).collect();
    let parenthesized = matches!(inner.as_slice(), [one] if one.as_rule() == Rule::need_paren);
    if parenthesized && let Some(paren) = inner.pop() {
        inner = significant(paren).collect();
    }
    let needs: Vec<Need> = inner.into_iter().map(need).collect::<Result<_>>()?;
    // The pair's own span can run on over the whitespace after it: use the needs' (and the
    // parentheses').
    let span = match (parenthesized, needs.first(), needs.last()) {
        (false, Some(first), Some(last)) => Span::new(first.span().start as usize, last.span().end as usize),
        _ => group_span,
    };
    Ok(NeedGroup { needs, parenthesized, span })
}

fn need(pair: Pair<'_, Rule>) -> Result<Need> {
    let need_span = span(&pair);
    let rule = pair.as_rule();
    if rule == Rule::kb {
        return Ok(Need::Update(literal(pair)?));
    }
    let mut cur = Cursor::new(significant(pair).collect(), need_span);
    let id = ident(cur.next("need name")?);
    if rule == Rule::need_latest {
        let since = cur.next("since")?;
        let since = match since.as_rule() {
            Rule::ident => Expr {
                span: span(&since),
                kind: ExprKind::Path(Path { segments: vec![since.as_str().to_string()], span: span(&since) }),
            },
            _ => expr(since)?,
        };
        return Ok(Need::Latest { of: id, since, span: need_span });
    }
    Ok(match rule {
        Rule::need_certificate => Need::Certificate(id),
        Rule::need_component => {
            let op = match cur.next("comparison")?.as_str() {
                "==" => CmpOp::Eq,
                ">" => CmpOp::Gt,
                _ => CmpOp::Ge,
            };
            let version = expr(cur.next("version")?)?;
            let shown = cur.pairs.next().map(literal).transpose()?;
            Need::Component { id, op, version, shown }
        }
        Rule::need_setting => Need::Setting(id, cur.pairs.next().map(expr).transpose()?),
        Rule::need_action => Need::Action(id),
        _ => return Err(internal(need_span, "need")),
    })
}

fn prop_value(pair: Pair<'_, Rule>) -> Result<PropValue> {
    let value_span = span(&pair);
    match pair.as_rule() {
        Rule::path if !pair.as_str().contains('.') => Ok(PropValue::Name(ident(pair))),
        Rule::path => Ok(PropValue::Path(path(pair))),
        Rule::alias => {
            let mut cur = Cursor::new(significant(pair).collect(), value_span);
            let a = literal(cur.next("alias")?)?;
            let b = literal(cur.next("alias target")?)?;
            Ok(PropValue::Alias(a, b, value_span))
        }
        Rule::range => {
            let parts: Vec<Pair<'_, Rule>> = significant(pair).collect();
            let bounds = parts
                .chunks(2)
                .map(|bound| match bound {
                    [op, version] => {
                        let op = match op.as_str() {
                            ">" => CmpOp::Gt,
                            "<=" => CmpOp::Le,
                            "<" => CmpOp::Lt,
                            _ => CmpOp::Ge,
                        };
                        Ok((op, literal(version.clone())?))
                    }
                    _ => Err(internal(value_span, "range bound")),
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(PropValue::Range(bounds, value_span))
        }
        _ => Ok(PropValue::Literal(literal(pair)?)),
    }
}

fn literal(pair: Pair<'_, Rule>) -> Result<Literal> {
    let lit_span = span(&pair);
    let kind = match pair.as_rule() {
        Rule::string => {
            let raw = pair.into_inner().next().map(|p| p.as_str().to_string()).unwrap_or_default();
            return Ok(Literal { kind: LitKind::String, raw, span: lit_span });
        }
        Rule::date => LitKind::Date,
        Rule::version => LitKind::Version,
        Rule::kb => LitKind::Kb,
        Rule::int => LitKind::Int,
        Rule::boolean => LitKind::Bool,
        Rule::none => LitKind::None,
        _ => return Err(internal(lit_span, "literal")),
    };
    Ok(Literal { kind, raw: pair.as_str().to_string(), span: lit_span })
}

fn field(pair: Pair<'_, Rule>) -> Result<Field> {
    let field_span = span(&pair);
    let (docs, rest) = docs_and_rest(pair);
    let mut cur = Cursor::new(rest, field_span);
    let name = ident(cur.next("field name")?);
    let body = cur.next("field body")?;
    let kind = match body.as_rule() {
        Rule::field_group => FieldKind::Group(significant(body).map(field).collect::<Result<_>>()?),
        _ => field_leaf(body)?,
    };
    Ok(Field { docs, name, kind, span: field_span })
}

fn field_leaf(pair: Pair<'_, Rule>) -> Result<FieldKind> {
    let leaf_span = span(&pair);
    let mut cur = Cursor::new(significant(pair).collect(), leaf_span);
    let ty_pair = cur.next("field type")?.into_inner().next().ok_or_else(|| internal(leaf_span, "type"))?;
    let ty = match ty_pair.as_rule() {
        Rule::enum_type => {
            let enum_span = span(&ty_pair);
            TypeExpr::Enum(significant(ty_pair).map(ident).collect(), enum_span)
        }
        _ => TypeExpr::Named(ident(ty_pair)),
    };
    let (mut optional, mut default, mut null, mut condition, mut collect) = (false, None, None, None, None);
    for part in cur.rest() {
        match part.as_rule() {
            Rule::optional_mark => optional = true,
            Rule::default_value | Rule::null_value => {
                let is_default = part.as_rule() == Rule::default_value;
                let value_span = span(&part);
                let value = significant(part)
                    .find(|p| p.as_rule() != Rule::null)
                    .ok_or_else(|| internal(value_span, "default"))?;
                let value = match value.as_rule() {
                    Rule::list => Default::List(list_items(value)?, value_span),
                    _ => Default::Literal(literal(value)?),
                };
                if is_default {
                    default = Some(value);
                } else {
                    null = Some(value);
                }
            }
            Rule::condition => {
                let cond_span = span(&part);
                condition = Some(expr(significant(part).next().ok_or_else(|| internal(cond_span, "condition"))?)?);
            }
            Rule::collect => collect = Some(collect_clause(part)?),
            _ => return Err(internal(leaf_span, "field modifier")),
        }
    }
    Ok(FieldKind::Leaf { ty, optional, default, null, condition, collect })
}

/// A pair's span without the whitespace pest's implicit skipping leaves after its last part.
fn tight_span(pair: &Pair<'_, Rule>) -> Span {
    let whole = span(pair);
    match pair.clone().into_inner().last() {
        Some(last) => Span::new(whole.start as usize, last.as_span().end()),
        None => whole,
    }
}

fn collect_clause(pair: Pair<'_, Rule>) -> Result<Collect> {
    let collect_span = tight_span(&pair);
    let (mut pieces, mut map) = (Vec::new(), None);
    for part in significant(pair) {
        match part.as_rule() {
            Rule::string => pieces.push(CollectPiece::Text(literal(part)?)),
            Rule::collect_source => {
                let source_span = tight_span(&part);
                let mut inner = Cursor::new(significant(part).collect(), source_span);
                let name = ident(inner.next("collection source")?);
                let args = inner.rest().map(literal).collect::<Result<_>>()?;
                pieces.push(CollectPiece::Source { name, args, span: source_span });
            }
            Rule::collect_map => {
                let mut entries = Vec::new();
                for entry in significant(part) {
                    let entry_span = tight_span(&entry);
                    let mut inner = Cursor::new(entry.into_inner().collect(), entry_span);
                    let key_pair = inner.next("map key")?;
                    let key_span = span(&key_pair);
                    let mut key_parts = key_pair.into_inner();
                    let key = match key_parts.next() {
                        Some(k) if k.as_rule() == Rule::kw_else => MapKey::Else(key_span),
                        Some(k) if k.as_rule() == Rule::kw_missing => MapKey::Missing(key_span),
                        Some(k) if k.as_rule() == Rule::kw_matches => {
                            MapKey::Matches(literal(key_parts.next().ok_or_else(|| internal(key_span, "pattern"))?)?)
                        }
                        Some(k) if k.as_rule() == Rule::cmp_op => {
                            let op = cmp_op(k.as_str()).ok_or_else(|| internal(key_span, "comparison"))?;
                            MapKey::Compare(op, literal(key_parts.next().ok_or_else(|| internal(key_span, "number"))?)?)
                        }
                        Some(k) => MapKey::Equals(literal(k)?),
                        None => return Err(internal(key_span, "map key")),
                    };
                    let value = literal(inner.next("map value")?)?;
                    entries.push(MapEntry { key, value, span: entry_span });
                }
                map = Some(entries);
            }
            _ => return Err(internal(collect_span, "collection")),
        }
    }
    Ok(Collect { pieces, map, span: collect_span })
}

fn binding(pair: Pair<'_, Rule>) -> Result<(Ident, crate::ast::Path)> {
    let binding_span = span(&pair);
    let mut cur = Cursor::new(significant(pair).collect(), binding_span);
    let key = ident(cur.next("host role")?);
    let target = path(cur.next("host fact")?);
    Ok((key, target))
}

fn path(pair: Pair<'_, Rule>) -> crate::ast::Path {
    crate::ast::Path { segments: pair.as_str().split('.').map(str::to_string).collect(), span: span(&pair) }
}

fn clause(pair: Pair<'_, Rule>) -> Result<Clause> {
    let clause_span = span(&pair);
    let rule = pair.as_rule();
    let mut cur = Cursor::new(significant(pair).collect(), clause_span);
    Ok(match rule {
        Rule::when_clause => Clause::When(expr(cur.next("condition")?)?),
        Rule::require_clause => Clause::Require(cur.rest().map(need_group).collect::<Result<_>>()?, clause_span),
        Rule::severity_clause => {
            let level = ident(cur.next("severity")?);
            let otherwise = match cur.pairs.next() {
                Some(cond) => Some((expr(cond)?, ident(cur.next("else severity")?))),
                None => None,
            };
            Clause::Severity { level, otherwise, span: clause_span }
        }
        Rule::message_clause => Clause::Message(literal(cur.next("message")?)?),
        Rule::certificate_clause => Clause::Certificate(ident(cur.next("certificate")?)),
        Rule::cite_clause => Clause::Cite(literal(cur.next("citation")?)?),
        Rule::link_clause => Clause::Link(literal(cur.next("link")?)?),
        _ => return Err(internal(clause_span, "clause")),
    })
}

fn expr(pair: Pair<'_, Rule>) -> Result<Expr> {
    let expr_span = span(&pair);
    let rule = pair.as_rule();
    let kind = match rule {
        Rule::expr | Rule::and_expr => {
            let mut parts = significant(pair).map(expr).collect::<Result<Vec<_>>>()?;
            if parts.len() == 1 {
                return parts.pop().ok_or_else(|| internal(expr_span, "operand"));
            }
            if rule == Rule::expr { ExprKind::Or(parts) } else { ExprKind::And(parts) }
        }
        Rule::not_expr => {
            let inner = significant(pair).next().ok_or_else(|| internal(expr_span, "not"))?;
            ExprKind::Not(Box::new(expr(inner)?))
        }
        Rule::comparison => return comparison(pair),
        Rule::paren => {
            let inner = significant(pair).next().ok_or_else(|| internal(expr_span, "paren"))?;
            ExprKind::Paren(Box::new(expr(inner)?))
        }
        Rule::call => {
            let mut cur = Cursor::new(significant(pair).collect(), expr_span);
            let name = ident(cur.next("function")?);
            ExprKind::Call(name, cur.rest().map(expr).collect::<Result<_>>()?)
        }
        Rule::list => ExprKind::List(list_items(pair)?),
        Rule::path => ExprKind::Path(path(pair)),
        _ => ExprKind::Literal(literal(pair)?),
    };
    Ok(Expr { kind, span: expr_span })
}

fn comparison(pair: Pair<'_, Rule>) -> Result<Expr> {
    let cmp_span = span(&pair);
    let mut pairs = pair.into_inner();
    let left = expr(pairs.next().ok_or_else(|| internal(cmp_span, "comparison"))?)?;
    let Some(op) = pairs.next() else { return Ok(left) };
    let right = pairs.next().ok_or_else(|| internal(cmp_span, "comparison right side"))?;
    let kind = if op.as_rule() == Rule::kw_in {
        ExprKind::In(Box::new(left), Box::new(expr(right)?))
    } else {
        let op = cmp_op(op.as_str()).ok_or_else(|| internal(cmp_span, "comparison operator"))?;
        ExprKind::Compare(Box::new(left), op, Box::new(expr(right)?))
    };
    Ok(Expr { kind, span: cmp_span })
}

fn cmp_op(text: &str) -> Option<CmpOp> {
    Some(match text {
        "==" => CmpOp::Eq,
        "!=" => CmpOp::Ne,
        "<" => CmpOp::Lt,
        "<=" => CmpOp::Le,
        ">" => CmpOp::Gt,
        ">=" => CmpOp::Ge,
        _ => return None,
    })
}

fn list_items(pair: Pair<'_, Rule>) -> Result<Vec<Expr>> {
    significant(pair).map(expr).collect()
}

fn test(docs: Vec<String>, mut cur: Cursor<'_>, test_span: Span) -> Result<Item> {
    let name_pair = cur.next("test name")?;
    let name = match name_pair.as_rule() {
        Rule::string => {
            let lit = literal(name_pair)?;
            Ident { name: lit.raw, span: lit.span }
        }
        _ => ident(name_pair),
    };
    let given_pair = cur.next("given")?;
    let given_span = span(&given_pair);
    let given = json(significant(given_pair).next().ok_or_else(|| internal(given_span, "given"))?)?;
    let expect_pair = cur.next("expect")?;
    let expect_span = span(&expect_pair);
    let body = significant(expect_pair).next().ok_or_else(|| internal(expect_span, "expect"))?;
    let expect = match body.as_rule() {
        Rule::expect_error => {
            let mut inner = Cursor::new(significant(body).collect(), expect_span);
            let code = ident(inner.next("error code")?);
            let at = inner.pairs.next().map(path);
            Expect::Error { code, at, span: expect_span }
        }
        _ => {
            let mut inner = Cursor::new(significant(body).collect(), expect_span);
            let status = ident(inner.next("status")?);
            let items = inner.rest().map(expectation).collect::<Result<_>>()?;
            Expect::Status { status, items, span: expect_span }
        }
    };
    Ok(Item::Test(Test { docs, name, given, expect, span: test_span }))
}

fn expectation(pair: Pair<'_, Rule>) -> Result<Expectation> {
    let exp_span = span(&pair);
    let pair_text = pair.as_str().to_string();
    let rule = pair.as_rule();
    let mut cur = Cursor::new(significant(pair).collect(), exp_span);
    Ok(match rule {
        Rule::expect_install => Expectation::Install(cur.rest().map(literal).collect::<Result<_>>()?, exp_span),
        Rule::expect_certificate => Expectation::Certificate(ident(cur.next("certificate")?)),
        Rule::expect_component => Expectation::Component(ident(cur.next("component")?)),
        Rule::expect_setting => Expectation::Setting(ident(cur.next("setting")?)),
        Rule::expect_action => Expectation::Action(ident(cur.next("action")?)),
        Rule::expect_any => Expectation::AnyOf(cur.rest().map(expectation).collect::<Result<_>>()?, exp_span),
        Rule::expect_fires => {
            let negated = pair_text.starts_with("not");
            Expectation::Fires(ident(cur.next("rule")?), negated)
        }
        Rule::expect_undetermined => {
            let negated = pair_text.starts_with("not");
            Expectation::Undetermined(ident(cur.next("rule")?), negated)
        }
        _ => return Err(internal(exp_span, "expectation")),
    })
}

fn json(pair: Pair<'_, Rule>) -> Result<Json> {
    let json_span = span(&pair);
    let kind = match pair.as_rule() {
        Rule::json_object => {
            let members = significant(pair)
                .map(|member| {
                    let member_span = span(&member);
                    let mut cur = Cursor::new(significant(member).collect(), member_span);
                    let key_pair = cur.next("key")?;
                    let key = match key_pair.as_rule() {
                        Rule::string => {
                            let lit = literal(key_pair)?;
                            Ident { name: lit.raw, span: lit.span }
                        }
                        _ => ident(key_pair),
                    };
                    Ok((key, json(cur.next("value")?)?))
                })
                .collect::<Result<_>>()?;
            JsonKind::Object(members)
        }
        Rule::json_array => JsonKind::Array(significant(pair).map(json).collect::<Result<_>>()?),
        Rule::string => JsonKind::String(literal(pair)?.raw),
        Rule::json_number => JsonKind::Number(pair.as_str().to_string()),
        Rule::boolean => JsonKind::Bool(pair.as_str() == "true"),
        Rule::null => JsonKind::Null,
        Rule::ident => JsonKind::Name(pair.as_str().to_string()),
        _ => return Err(internal(json_span, "json")),
    };
    Ok(Json { kind, span: json_span })
}

// ---------------------------------------------------------------- syntax errors

const ITEM_WORDS: &str = "an item (`advisory`, `facts`, `host`, `product`, `os`, `update`, `series`, `certificate`, `component`, `setting`, `action`, `milestone`, `use`, `let`, `rule`, `test`)";

/// What a grammar rule is called in an error message. Exhaustive on purpose.
pub fn describe(r: Rule) -> &'static str {
    match r {
        Rule::EOI => "end of file",
        Rule::WHITESPACE | Rule::COMMENT => "whitespace",
        Rule::file
        | Rule::item
        | Rule::advisory
        | Rule::facts
        | Rule::host
        | Rule::product
        | Rule::os
        | Rule::update
        | Rule::series
        | Rule::certificate
        | Rule::component
        | Rule::setting
        | Rule::action
        | Rule::let_decl
        | Rule::rule_decl
        | Rule::test => ITEM_WORDS,
        Rule::doc | Rule::doc_text => "a doc comment",
        Rule::line_char => "a character",
        Rule::tokens => "a token",
        Rule::line_comment => "a comment",
        Rule::open_bracket => "an opening bracket",
        Rule::close_bracket => "a closing bracket",
        Rule::advisory_prop | Rule::advisory_key => {
            "an advisory property (`title`, `source`, `published`, `updated`, `cutover`, `link`)"
        }
        Rule::product_prop | Rule::product_key => {
            "a product property (`name`, `versions`, `platforms`, `detect`, `link`)"
        }
        Rule::os_prop | Rule::os_key => "an os property (`name`, `build`, `role`, `end_of_support`, `link`)",
        Rule::update_prop | Rule::update_key => {
            "an update property (`title`, `kind`, `released`, `applies`, `revision`, `supersedes`, `after`, `link`)"
        }
        Rule::os_filter => "`for` and OS versions",
        Rule::series_entry => "a series entry (`KB5007236 2021-11-09`)",
        Rule::certificate_prop | Rule::certificate_key => {
            "a certificate property (`name`, `thumbprint`, `fact`, `link`)"
        }
        Rule::component_prop | Rule::component_key => "a component property (`name`, `fact`, `link`)",
        Rule::setting_prop | Rule::setting_key => "a setting property (`name`, `fact`, `link`)",
        Rule::action_prop | Rule::action_key => "an action property (`name`, `fact`, `link`)",
        Rule::need_action => "`action` and an action",
        Rule::need_latest => "`any`, a kind or series, `since` and a date",
        Rule::milestone | Rule::milestone_prop => "a milestone (`milestone NAME { date 2026-06-24 }`)",
        Rule::milestone_key => "a milestone property (`date`, `title`, `link`)",
        Rule::need_group | Rule::need_paren | Rule::need => {
            "a requirement (`KB1234567`, `certificate NAME`, `component NAME >= 1.0`, `setting NAME`, `action NAME`)"
        }
        Rule::need_certificate => "`certificate` and a certificate",
        Rule::need_component => "`component`, a component, `>=` (or `>`, `==`) and a version",
        Rule::need_setting => "`setting` and a setting",
        Rule::values | Rule::value => "a value",
        Rule::alias => "an alias (`2019 = 14.0`)",
        Rule::range | Rule::range_op => "a build range (`>= 10.0.22000`, `>= 6.1 and < 6.2`)",
        Rule::field => "a fact (`name: type` or `name { ... }`)",
        Rule::field_group => "`{`",
        Rule::field_leaf => "`:` and a type, or `{`",
        Rule::field_type | Rule::enum_type => {
            "a type (`bool`, `int`, `string`, `date`, `version`, `build`, `kbs`, `product`, `enum(...)`)"
        }
        Rule::optional_mark => "`?`",
        Rule::default_value => "`=` and a default value",
        Rule::null_value => "`null =` and what null means",
        Rule::condition => "`if` and a condition",
        Rule::collect | Rule::collect_piece | Rule::collect_source => {
            "`from` and how the fact is collected (`registry`, `cim`, `env`, `file_version`, `cert_store`, `uefi`, `hotfixes`, `uninstall`, `powershell`)"
        }
        Rule::collect_map => "`map { VALUE = FACT VALUE, ... }`",
        Rule::map_entry | Rule::map_key => {
            "a map entry (`\"UEFI\" = true`, `1 = \"workstation\"`, `matches \"VMware\" = \"virtual\"`, `else = false`, `missing = true`)"
        }
        Rule::binding | Rule::host_key => {
            "a host role (`product`, `product_version`, `platform`, `os_version`, `os_role`, `hotfixes`)"
        }
        Rule::clause
        | Rule::when_clause
        | Rule::require_clause
        | Rule::severity_clause
        | Rule::message_clause
        | Rule::certificate_clause
        | Rule::cite_clause
        | Rule::link_clause => {
            "a rule clause (`when`, `require`, `severity`, `message`, `certificate`, `cite`, `link`)"
        }
        Rule::expr
        | Rule::and_expr
        | Rule::unary
        | Rule::not_expr
        | Rule::comparison
        | Rule::operand
        | Rule::paren
        | Rule::call => "a condition",
        Rule::cmp_op => "a comparison (`==`, `!=`, `<`, `<=`, `>`, `>=`)",
        Rule::list | Rule::list_item => "a list (`[a, b]`)",
        Rule::literal => "a value",
        Rule::path => "a name",
        Rule::field_ref => "a fact (`os.version`, `hotfixes[0]`)",
        Rule::given => "`given`",
        Rule::expect => "`expect`",
        Rule::expect_error => "`error`",
        Rule::expect_status => "a status",
        Rule::expectation
        | Rule::expect_install
        | Rule::expect_certificate
        | Rule::expect_component
        | Rule::expect_setting
        | Rule::expect_action
        | Rule::expect_fires
        | Rule::expect_undetermined => {
            "an expectation (`install`, `certificate`, `component`, `setting`, `action`, `(... or ...)`, `fires`, `undetermined`)"
        }
        Rule::expect_any | Rule::expect_step => "alternatives (`(certificate a or component b)`)",
        Rule::json_object => "a JSON object",
        Rule::json_member => "a key and a value",
        Rule::json_array => "a JSON array",
        Rule::json_value => "a JSON value",
        Rule::json_number => "a number",
        Rule::null => "`null`",
        Rule::string | Rule::string_inner | Rule::string_char => "a string",
        Rule::date => "a date (`YYYY-MM-DD`)",
        Rule::version => "a version (`10.0.19044`)",
        Rule::kb => "an update id (`KB1234567`)",
        Rule::int => "a number",
        Rule::boolean => "`true` or `false`",
        Rule::none => "`none`",
        Rule::ident_char | Rule::ident | Rule::keyword => "a name",
        Rule::kw_advisory => "`advisory`",
        Rule::kw_product => "`product`",
        Rule::kw_os => "`os`",
        Rule::kw_update => "`update`",
        Rule::kw_series => "`series`",
        Rule::kw_component => "`component`",
        Rule::kw_setting => "`setting`",
        Rule::kw_for => "`for`",
        Rule::kw_from => "`from`",
        Rule::kw_action => "`action`",
        Rule::kw_milestone => "`milestone`",
        Rule::kw_use => "`use`",
        Rule::use_decl => "`use` and a file (`use \"lib/windows.preflight\"`)",
        Rule::kw_any => "`any`",
        Rule::kw_since => "`since`",
        Rule::kw_certificate => "`certificate`",
        Rule::kw_facts => "`facts`",
        Rule::kw_host => "`host`",
        Rule::kw_enum => "`enum`",
        Rule::kw_let => "`let`",
        Rule::kw_rule => "`rule`",
        Rule::kw_when => "`when`",
        Rule::kw_require => "`require`",
        Rule::kw_severity => "`severity`",
        Rule::kw_message => "`message`",
        Rule::kw_cite => "`cite`",
        Rule::kw_link => "`link`",
        Rule::kw_if => "`if`",
        Rule::kw_else => "`else`",
        Rule::kw_and => "`and`",
        Rule::kw_or => "`or`",
        Rule::kw_not => "`not`",
        Rule::kw_in => "`in`",
        Rule::kw_test => "`test`",
        Rule::kw_given => "`given`",
        Rule::kw_expect => "`expect`",
        Rule::kw_error => "`error`",
        Rule::kw_at => "`at`",
        Rule::kw_install => "`install`",
        Rule::kw_fires => "`fires`",
        Rule::kw_undetermined => "`undetermined`",
        Rule::kw_map => "`map`",
        Rule::kw_matches => "`matches`",
        Rule::kw_missing => "`missing`",
        Rule::kw_as => "`as`",
        Rule::need_op => "`>=`, `>` or `==`",
    }
}

/// The words a property or clause position accepts, for "did you mean" on a misspelt keyword.
fn keywords_of(r: Rule) -> &'static [&'static str] {
    match r {
        Rule::advisory_key | Rule::advisory_prop => &["title", "source", "published", "updated", "cutover", "link"],
        Rule::product_key | Rule::product_prop => &["name", "versions", "platforms", "detect", "link"],
        Rule::os_key | Rule::os_prop => &["name", "build", "role", "end_of_support", "link"],
        Rule::update_key | Rule::update_prop => {
            &["title", "kind", "released", "applies", "revision", "supersedes", "after", "link"]
        }
        Rule::certificate_key | Rule::certificate_prop => &["name", "thumbprint", "fact", "link"],
        Rule::component_key
        | Rule::component_prop
        | Rule::setting_key
        | Rule::setting_prop
        | Rule::action_key
        | Rule::action_prop => &["name", "fact", "link"],
        Rule::host_key | Rule::binding => {
            &["product", "product_version", "platform", "os_version", "os_role", "hotfixes", "evaluation_date"]
        }
        Rule::kw_when
        | Rule::kw_require
        | Rule::kw_severity
        | Rule::kw_message
        | Rule::kw_cite
        | Rule::kw_link
        | Rule::clause => &["when", "require", "severity", "message", "certificate", "cite", "link"],
        Rule::kw_and | Rule::kw_or => &["and", "or"],
        Rule::advisory
        | Rule::facts
        | Rule::host
        | Rule::product
        | Rule::os
        | Rule::update
        | Rule::series
        | Rule::certificate
        | Rule::component
        | Rule::setting
        | Rule::action
        | Rule::let_decl
        | Rule::rule_decl
        | Rule::test => &ITEM_KEYWORDS,
        Rule::kw_install | Rule::kw_fires | Rule::expectation => {
            &["install", "certificate", "component", "setting", "action", "fires", "undetermined"]
        }
        _ => &[],
    }
}

fn syntax_error(source: &str, error: &pest::error::Error<Rule>) -> Diagnostic {
    let rule_pos = match error.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    // pest places the error at the furthest *rule* attempt; a literal token (`}`, `,`) tried
    // further on is the real place, so prefer the furthest attempt of any kind.
    let attempts = error.parse_attempts();
    let pos = attempts.as_ref().map_or(rule_pos, |a| a.max_position.max(rule_pos));
    let found = token_at(source, pos);
    let found_span = Span::new(pos, pos + found.len().max(usize::from(pos < source.len())));
    let mut positives = match &error.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } if pos == rule_pos => positives.clone(),
        _ => Vec::new(),
    };
    let mut tokens: Vec<String> = Vec::new();
    if let Some(a) = attempts.as_ref().filter(|a| a.max_position == pos) {
        tokens =
            a.expected_tokens().iter().map(ToString::to_string).filter(|t| PUNCTUATION.contains(&t.as_str())).collect();
        for stack in a.call_stacks() {
            if let Some(r) = stack.deepest.get_rule() {
                positives.push(*r);
            }
        }
    }
    tokens.sort();
    tokens.dedup();
    let expected = expected_words(&positives, &tokens);
    let found_text = if found.is_empty() { "end of file".to_string() } else { format!("`{found}`") };
    let message = format!("expected {}, found {found_text}", join_or(&expected));
    let comma_possible = tokens.iter().any(|t| t == ",");
    // A keyword with letters after it (`requires`) fails at its end: point at the whole word.
    let (word_start, word) = word_around(source, pos);
    let (found, found_span) = if word_start < pos && !word.is_empty() {
        (word.clone(), Span::new(word_start, word_start + word.len()))
    } else {
        (found, found_span)
    };
    let message = match (expected.is_empty(), word_start < pos && !word.is_empty()) {
        (true, _) => {
            format!("unexpected {}", if found.is_empty() { "end of file".into() } else { format!("`{found}`") })
        }
        (false, true) => format!("expected {}, found `{word}`", join_or(&expected)),
        (false, false) => message,
    };
    let mut diagnostic = Diagnostic::error("P0001", message, found_span, "unexpected here");
    let mut words: Vec<&str> = positives.iter().flat_map(|r| keywords_of(*r).iter().copied()).collect();
    if words.is_empty() || word_start < pos {
        words.extend(ITEM_KEYWORDS.iter().chain(&INNER_KEYWORDS));
    }
    if let Some((hint, fix)) = common_slip(source, pos, &found, &positives) {
        diagnostic = diagnostic.with_help(hint);
        if let Some((span, replacement)) = fix {
            diagnostic = diagnostic.with_fix(span, replacement);
        }
    } else if let Some(word) = suggest(&found, words.iter().copied()).filter(|w| *w != found) {
        diagnostic = diagnostic.with_help(format!("did you mean `{word}`?")).with_fix(found_span, word);
    } else if positives.iter().any(|r| matches!(r, Rule::kw_and | Rule::kw_or | Rule::cmp_op)) {
        diagnostic =
            diagnostic.with_help("join conditions with `and` / `or`, or start the next clause with its keyword");
    } else if comma_possible && found.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !found.is_empty() {
        diagnostic = diagnostic.with_help("separate list items with `,`");
    }
    if tokens.iter().any(|t| t == "}")
        && (found.is_empty() || (ITEM_KEYWORDS.contains(&found.as_str()) && starts_line(source, found_span)))
        && let Some(open) = unclosed_brace(source, pos)
    {
        diagnostic = diagnostic
            .with_secondary(open, "this block is never closed")
            .with_help("close the block with `}` before the next item");
    }
    diagnostic
}

/// The keywords inside items, for "did you mean" where the parser expected no word at all (with
/// [`ITEM_KEYWORDS`]).
const INNER_KEYWORDS: [&str; 16] = [
    "when",
    "require",
    "any",
    "since",
    "severity",
    "message",
    "cite",
    "link",
    "released",
    "applies",
    "supersedes",
    "revision",
    "title",
    "kind",
    "given",
    "expect",
];
const ITEM_KEYWORDS: [&str; 16] = [
    "use",
    "advisory",
    "facts",
    "host",
    "product",
    "os",
    "update",
    "series",
    "certificate",
    "component",
    "setting",
    "action",
    "milestone",
    "let",
    "rule",
    "test",
];

/// The words of conditions (`known` and `status` read like functions and values but are words of
/// the language too).
const CONDITION_KEYWORDS: [&str; 15] = [
    "and",
    "or",
    "not",
    "in",
    "if",
    "else",
    "known",
    "definitely",
    "possibly",
    "release_date",
    "status",
    "true",
    "false",
    "none",
    "null",
];

/// The words that start a property, role or clause inside a block, by the word that opens the
/// block (`os`, `update`, `series`, `host`, `rule`, and `expect` for a test's expectations); none
/// for any other word. What an editor offers at the start of a line in that block.
pub fn block_words(opener: &str) -> &'static [&'static str] {
    keywords_of(match opener {
        "advisory" => Rule::advisory_key,
        "product" => Rule::product_key,
        "os" => Rule::os_key,
        "update" | "series" => Rule::update_key,
        "certificate" => Rule::certificate_key,
        "component" => Rule::component_key,
        "setting" => Rule::setting_key,
        "action" => Rule::action_key,
        "milestone" => Rule::milestone_key,
        "host" => Rule::host_key,
        "rule" => Rule::clause,
        "expect" => Rule::expectation,
        _ => return &[],
    })
}

/// The words that start an item.
pub fn item_keywords() -> &'static [&'static str] {
    &ITEM_KEYWORDS
}

/// Whether `word` is a name as the grammar's `ident` reads one: a letter or `_`, then letters,
/// digits and `_`, and not one of the reserved words.
pub fn is_name(word: &str) -> bool {
    let mut chars = word.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !matches!(word, "and" | "or" | "not" | "in" | "if" | "else" | "true" | "false" | "null" | "none")
}

/// Every keyword of the language: items, the words inside them, and conditions (what an editor
/// offers to complete).
pub fn keywords() -> impl Iterator<Item = &'static str> {
    ITEM_KEYWORDS.into_iter().chain(INNER_KEYWORDS).chain(CONDITION_KEYWORDS)
}

/// Mistakes people make from habit, what to write instead, and the replacement that fixes them
/// when there is one.
fn common_slip(source: &str, pos: usize, found: &str, positives: &[Rule]) -> Option<(String, Option<(Span, String)>)> {
    let before = source.get(..pos).unwrap_or("");
    let after = source.get(pos..).unwrap_or("");
    // `=` where a comparison goes
    if after.starts_with('=') && !after.starts_with("==") && positives.contains(&Rule::cmp_op) {
        let help = "compare with `==`; a single `=` only binds names (`let`, `host`)".to_string();
        return Some((help, Some((Span::new(pos, pos + 1), "==".into()))));
    }
    // `action-required`: names are written with `_`
    if found == "-" {
        let head: String = before
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let tail: String = after.chars().skip(1).take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if !head.is_empty() && !tail.is_empty() && head.starts_with(|c: char| c.is_ascii_alphabetic()) {
            let help = format!("did you mean `{head}_{tail}`? names are written with `_`, not `-`");
            let span = Span::new(pos - head.len(), pos + 1 + tail.len());
            return Some((help, Some((span, format!("{head}_{tail}")))));
        }
    }
    // `KB4474419.released`: an update's date is read with a function
    if found == "." {
        let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
        let kb_start = before.rfind(|c: char| !word(c)).map_or(0, |i| i + 1);
        let kb = before.get(kb_start..).unwrap_or("");
        let property: String = after.chars().skip(1).take_while(|c| word(*c)).collect();
        let is_kb = kb.len() > 2
            && kb.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("kb"))
            && kb.get(2..).is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()));
        if is_kb && !property.is_empty() {
            // Beside a comparison the date is wanted; elsewhere whether the update is out.
            let compared = before.get(..kb_start).unwrap_or("").trim_end().ends_with(['<', '>', '=']);
            let replacement = if compared { format!("release_date({kb})") } else { format!("released({kb})") };
            let help = format!(
                "an update has no properties to read with `.`: `release_date({kb})` is its release date (for the host's Windows), `released({kb})` is true once it is out at the evaluation date"
            );
            let span = Span::new(kb_start, pos + 1 + property.len());
            return Some((help, Some((span, replacement))));
        }
    }
    // The run of characters around `pos` that `keep` accepts, and where it starts.
    let run = |keep: fn(char) -> bool| {
        let start = before.rfind(|c: char| !keep(c)).map_or(0, |i| i + 1);
        let end = after.find(|c: char| !keep(c)).unwrap_or(after.len());
        (start, pos + end, format!("{}{}", before.get(start..).unwrap_or(""), after.get(..end).unwrap_or("")))
    };
    // `2022-3-8`: months and days have two digits
    let (start, end, text) = run(|c| c.is_ascii_digit() || c == '-');
    if let [y, m, d] = text.split('-').collect::<Vec<_>>().as_slice()
        && y.len() == 4
        && (1..=2).contains(&m.len())
        && (1..=2).contains(&d.len())
        && (m.len() == 1 || d.len() == 1)
        && [y, m, d].iter().all(|p| p.chars().all(|c| c.is_ascii_digit()))
    {
        let iso = format!("{y}-{m:0>2}-{d:0>2}");
        let help = format!("dates are written `YYYY-MM-DD`, with two-digit months and days: `{iso}`");
        return Some((help, Some((Span::new(start, end), iso))));
    }
    // `v14.28.29914.0`: versions are numbers
    let (start, end, text) = run(|c| c.is_ascii_alphanumeric() || c == '.');
    if let Some(number) = text.strip_prefix(['v', 'V'])
        && number.contains('.')
        && number.split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    {
        let help = format!("versions are written as numbers separated by dots, without `v`: `{number}`");
        return Some((help, Some((Span::new(start, end), number.to_string()))));
    }
    // `08/13/2019` or `2019/08/13`
    if found == "/" {
        let start = before.rfind(|c: char| !(c.is_ascii_digit() || c == '/')).map_or(0, |i| i + 1);
        let end = after.find(|c: char| !(c.is_ascii_digit() || c == '/')).map_or(after.len(), |i| i);
        let text = format!("{}{}", before.get(start..).unwrap_or(""), after.get(..end).unwrap_or(""));
        let parts: Vec<&str> = text.split('/').collect();
        if parts.len() == 3 && parts.iter().all(|p| !p.is_empty()) {
            let iso = match parts.as_slice() {
                [y, m, d] if y.len() == 4 => Some(format!("{y}-{m:0>2}-{d:0>2}")),
                [m, d, y] if y.len() == 4 => Some(format!("{y}-{m:0>2}-{d:0>2}")),
                _ => None,
            };
            let help = format!("dates are written `YYYY-MM-DD`: `{}`", iso.as_deref().unwrap_or("2019-08-13"));
            let fix = iso.map(|iso| (Span::new(start, pos + end), iso));
            return Some((help, fix));
        }
    }
    None
}

/// The identifier around `pos` and where it starts (empty when `pos` is not in one).
fn word_around(source: &str, pos: usize) -> (usize, String) {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    if !source.get(pos..).and_then(|r| r.chars().next()).is_some_and(is_word) {
        return (pos, String::new());
    }
    let before = source.get(..pos).unwrap_or("");
    let start = before.rfind(|c: char| !is_word(c)).map_or(0, |i| i + 1);
    let rest = source.get(start..).unwrap_or("");
    let word: String = rest.chars().take_while(|c| is_word(*c)).collect();
    if word.is_empty() || !word.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return (pos, String::new());
    }
    (start, word)
}

fn starts_line(source: &str, span: Span) -> bool {
    let before = source.get(..span.start as usize).unwrap_or("");
    before.rsplit('\n').next().is_some_and(|line| line.trim().is_empty())
}

/// The innermost `{` still open at `pos`, from the flat token stream (comments and strings
/// hide their braces, as for the parser).
fn unclosed_brace(source: &str, pos: usize) -> Option<Span> {
    let mut open: Vec<Span> = Vec::new();
    for token in lex(source) {
        if token.span.start as usize >= pos {
            break;
        }
        let text = source.get(token.span.range()).unwrap_or("");
        match token.kind {
            TokenKind::Open => open.push(token.span),
            TokenKind::Close if text == "}" => {
                // pop back to the last `{` (a stray `)` or `]` inside is the parser's business)
                while let Some(s) = open.pop() {
                    if source.get(s.range()) == Some("{") {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    open.into_iter().rev().find(|s| source.get(s.range()) == Some("{"))
}

/// The word or symbol at `pos`, for "found `...`".
fn token_at(source: &str, pos: usize) -> String {
    let rest = source.get(pos..).unwrap_or("");
    let word: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    if !word.is_empty() {
        return word;
    }
    rest.chars().next().filter(|c| !c.is_whitespace()).map(String::from).unwrap_or_default()
}

const CLAUSE_KEYWORDS: [Rule; 7] = [
    Rule::kw_when,
    Rule::kw_require,
    Rule::kw_severity,
    Rule::kw_message,
    Rule::kw_certificate,
    Rule::kw_cite,
    Rule::kw_link,
];

/// The expected alternatives in words: rule clause keywords collapse into one entry, and the
/// catch-all "an item" is dropped when something more specific fits.
fn expected_words(positives: &[Rule], tokens: &[String]) -> Vec<String> {
    let clause_count = CLAUSE_KEYWORDS.iter().filter(|k| positives.contains(k)).count();
    let mut words: Vec<String> = positives
        .iter()
        .filter(|r| clause_count < 3 || !CLAUSE_KEYWORDS.contains(r))
        .map(|r| describe(*r).to_string())
        .collect();
    if clause_count >= 3 {
        words.push("the next clause (`when`, `require`, `severity`, `message`, `certificate`, `cite`, `link`)".into());
    }
    words.extend(tokens.iter().map(|t| format!("`{t}`")));
    words.sort();
    words.dedup();
    if words.len() > 1 {
        let item = describe(Rule::item);
        words.retain(|w| w != item);
    }
    words
}

const PUNCTUATION: &[&str] = &[",", "{", "}", "(", ")", "[", "]", "=", ":", "?"];

/// Deeper nesting than any real rules file has (the ACS file needs 4); refusing it keeps the
/// recursive stages bounded. Each level costs the parser tens of KiB of stack in a debug build:
/// 32 levels fit a 2 MiB thread (a test thread; the browser's wasm stack is 1 MiB, optimised).
pub const MAX_NESTING: usize = 32;

/// Rejects bracket nesting deeper than [`MAX_NESTING`] before the recursive parser sees it. The
/// brackets come from [`lex`], so a bracket hidden in a comment or a string for the parser is
/// hidden here too, and no other.
fn check_nesting(source: &str) -> Result<()> {
    let mut depth = 0usize;
    for token in lex(source) {
        match token.kind {
            TokenKind::Open => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(Diagnostic::error(
                        "P0002",
                        format!("brackets are nested more than {MAX_NESTING} deep"),
                        token.span,
                        "too deep",
                    )
                    .with_help("split the condition into named `let` conditions"));
                }
            }
            TokenKind::Close => depth = depth.saturating_sub(1),
            TokenKind::Comment | TokenKind::Str => {}
        }
    }
    Ok(())
}

/// A token of the flat stream that the stages outside the parser need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenKind {
    Open,
    Close,
    /// A `//` comment (not a `///` doc line), without its line end.
    Comment,
    /// A string literal, with its quotes.
    Str,
}

/// The brackets, comments and strings of a source in one pass, exactly as the grammar's
/// `tokens` rule reads them (a test holds the two together): a `///` doc line and a `//` comment
/// run to the line end (LF or CR); a string runs from `"` to the next unescaped `"` on its line
/// (`\` escapes any character, a line end too); a `"` that starts no string is a character like
/// any other. Hand-written because it runs on every parse, before the parser, and must cost little
/// on large files.
pub(crate) fn lex(source: &str) -> Vec<Token> {
    let b = source.as_bytes();
    let at = |i: usize| b.get(i).copied();
    let token = |kind, start: usize, end: usize| Token { kind, span: Span::new(start, end) };
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(c) = at(i) {
        match c {
            b'/' if at(i + 1) == Some(b'/') => {
                let start = i;
                let doc = at(i + 2) == Some(b'/');
                i += 2;
                while at(i).is_some_and(|c| c != b'\n' && c != b'\r') {
                    i += 1;
                }
                if !doc {
                    out.push(token(TokenKind::Comment, start, i));
                }
            }
            b'"' => {
                let mut j = i + 1;
                let closed = loop {
                    match at(j) {
                        Some(b'"') => break true,
                        Some(b'\\') if j + 1 < b.len() => {
                            // The escaped character, whole (it may be several bytes).
                            j += 1 + source.get(j + 1..).and_then(|r| r.chars().next()).map_or(1, char::len_utf8);
                        }
                        None | Some(b'\\' | b'\n' | b'\r') => break false,
                        Some(_) => j += 1,
                    }
                };
                if closed {
                    out.push(token(TokenKind::Str, i, j + 1));
                    i = j + 1;
                } else {
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => {
                out.push(token(TokenKind::Open, i, i + 1));
                i += 1;
            }
            b')' | b']' | b'}' => {
                out.push(token(TokenKind::Close, i, i + 1));
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// The same stream read by the grammar's `tokens` rule: the reference [`lex`] is tested against.
#[cfg(test)]
pub(crate) fn lex_by_grammar(source: &str) -> Vec<Token> {
    let Ok(mut pairs) = PreflightParser::parse(Rule::tokens, source) else { return Vec::new() };
    let Some(tokens) = pairs.next() else { return Vec::new() };
    tokens
        .into_inner()
        .filter_map(|pair| {
            let kind = match pair.as_rule() {
                Rule::open_bracket => TokenKind::Open,
                Rule::close_bracket => TokenKind::Close,
                Rule::line_comment => TokenKind::Comment,
                Rule::string => TokenKind::Str,
                _ => return None,
            };
            Some(Token { kind, span: span(&pair) })
        })
        .collect()
}

/// The `use "PATH"` items of a source, found in its token stream without parsing it (so even a
/// file with syntax errors elsewhere has its used files resolved): a string at the top level
/// that only whitespace and comments separate from a preceding `use` word. The path is the
/// string's text between its quotes.
pub(crate) fn use_items(source: &str) -> Vec<(String, Span)> {
    let tokens = lex(source);
    let mut out = Vec::new();
    let mut depth = 0usize;
    for (k, t) in tokens.iter().enumerate() {
        match t.kind {
            TokenKind::Open => depth += 1,
            TokenKind::Close => depth = depth.saturating_sub(1),
            TokenKind::Str if depth == 0 => {
                // Walk back over comments to the text before the string.
                let mut end = t.span.start as usize;
                let mut before = k;
                let gap = loop {
                    let start = before.checked_sub(1).and_then(|p| tokens.get(p)).map_or(0, |p| p.span.end as usize);
                    let gap = source.get(start..end).unwrap_or("");
                    match before.checked_sub(1).and_then(|p| tokens.get(p)) {
                        Some(p) if p.kind == TokenKind::Comment && gap.trim().is_empty() => {
                            end = p.span.start as usize;
                            before -= 1;
                        }
                        _ => break gap,
                    }
                };
                let word = gap.trim_end();
                let is_use = word
                    .strip_suffix("use")
                    .is_some_and(|head| !head.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_'));
                if is_use {
                    let inner = source.get(t.span.start as usize + 1..t.span.end as usize - 1).unwrap_or("");
                    out.push((inner.to_string(), t.span));
                }
            }
            _ => {}
        }
    }
    out
}

fn join_or(items: &[String]) -> String {
    match items {
        [] => "something else".to_string(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
mod lexer_tests {
    use super::{lex, lex_by_grammar, use_items};
    use proptest::prelude::*;

    fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files(&path, out);
            } else if path.extension().is_some_and(|e| e == "preflight") {
                out.push(path);
            }
        }
    }

    #[test]
    fn the_lexer_reads_every_rules_file_as_the_grammar_does() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut all = Vec::new();
        files(&root.join("rules"), &mut all);
        files(&root.join("tests/data"), &mut all);
        assert!(all.len() > 50, "{all:?}");
        for path in all {
            let source = std::fs::read_to_string(&path).unwrap();
            assert_eq!(lex(&source), lex_by_grammar(&source), "{}", path.display());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]
        /// Strings made of the characters the lexer treats specially (and some it does not,
        /// several bytes long among them): both readings agree token for token.
        #[test]
        fn the_lexer_agrees_with_the_grammar(picks in proptest::collection::vec(0usize..14, 0..60)) {
            const PIECES: [&str; 14] = ["/", "//", "///", "\"", "\\", "\n", "\r", "(", "]", "{", "}", "a", "é", " "];
            let source: String = picks.iter().map(|i| PIECES[*i]).collect();
            prop_assert_eq!(lex(&source), lex_by_grammar(&source), "{:?}", source);
        }
    }

    #[test]
    fn use_items_are_found_at_the_top_level_only() {
        let source = "// use \"not/this\"\nuse \"lib/a.preflight\"\nuse // why\n  \"b.preflight\"\nrule r { message \"use\" when x }\nabuse \"no\"\nuse\"c\" }";
        let found: Vec<String> = use_items(source).into_iter().map(|(p, _)| p).collect();
        assert_eq!(found, ["lib/a.preflight", "b.preflight", "c"]);
        // A syntax error elsewhere does not hide the used file.
        let broken = "use \"lib/windows.preflight\"\nrule broken {\n  when (\n";
        assert_eq!(use_items(broken).len(), 1);
    }
}
