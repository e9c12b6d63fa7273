//! What each token of a rules file is, as the parser reads it: for editors (the language server's
//! semantic tokens) and for checking editor grammars, which only approximate the parser, against
//! it.
//!
//! The classes come from the parse tree, so `os` is a keyword in `os win11 {` and a field in
//! `os { version: build }`, exactly as the parser decides.

use crate::ast::Span;
use crate::diagnostic::Diagnostic;
use crate::syntax::{TokenKind, is_keyword, lex, parse_tree};
use pest::iterators::Pair;
use preflight_grammar::Rule;

/// The class of a token. Words the parser reads as plain names (paths, field names, JSON keys,
/// enum variants, error codes) get no token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// A word of the language: `rule`, `when`, `and`, `for`, `install`...
    Keyword,
    /// A property or role name of a block: `title`, `released`, `build`, `os_version`...
    Property,
    /// A `//` comment.
    Comment,
    /// A `///` doc line.
    Doc,
    /// A string, quotes included.
    String,
    /// `2023-01-15`
    Date,
    /// `10.0.19044`
    Version,
    /// `KB5011487`
    Kb,
    /// An integer, or a number in a test's JSON.
    Number,
    /// `true`, `false`, `null`.
    Constant,
    /// `==`, `>=`, `<`...
    Operator,
    /// A function called in a condition: `known`, `patched`.
    Function,
    /// A fact's type: `bool`, `build`, `kbs`.
    Type,
    /// The name an item declares: a rule, a `let`, an OS, a product, a test...
    Declaration,
    /// A status: after `severity`, `else`, and in a test's `expect`.
    Level,
}

impl Class {
    pub fn name(self) -> &'static str {
        match self {
            Class::Keyword => "keyword",
            Class::Property => "property",
            Class::Comment => "comment",
            Class::Doc => "doc",
            Class::String => "string",
            Class::Date => "date",
            Class::Version => "version",
            Class::Kb => "kb",
            Class::Number => "number",
            Class::Constant => "constant",
            Class::Operator => "operator",
            Class::Function => "function",
            Class::Type => "type",
            Class::Declaration => "declaration",
            Class::Level => "level",
        }
    }
}

/// A classified token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub class: Class,
    pub span: Span,
}

/// Every classified token of a file that parses, in source order; the syntax error otherwise.
pub fn tokens(source: &str) -> Result<Vec<Token>, Diagnostic> {
    let file = parse_tree(source)?;
    let mut out: Vec<Token> = lex(source)
        .into_iter()
        .filter(|t| t.kind == TokenKind::Comment)
        .map(|t| Token { class: Class::Comment, span: t.span })
        .collect();
    for pair in file {
        walk(source, pair, &mut out);
    }
    out.sort_by_key(|t| (t.span.start, t.span.end));
    Ok(out)
}

fn push(out: &mut Vec<Token>, class: Class, pair: &Pair<'_, Rule>) {
    let s = pair.as_span();
    out.push(Token { class, span: Span::new(s.start(), s.end()) });
}

fn walk(source: &str, pair: Pair<'_, Rule>, out: &mut Vec<Token>) {
    let rule = pair.as_rule();
    let class = match rule {
        _ if is_keyword(rule) => Some(Class::Keyword),
        Rule::advisory_key
        | Rule::product_key
        | Rule::os_key
        | Rule::update_key
        | Rule::certificate_key
        | Rule::component_key
        | Rule::setting_key
        | Rule::action_key
        | Rule::milestone_key
        | Rule::host_key => Some(Class::Property),
        Rule::doc => Some(Class::Doc),
        Rule::string => Some(Class::String),
        Rule::date => Some(Class::Date),
        Rule::version => Some(Class::Version),
        Rule::kb => Some(Class::Kb),
        Rule::int | Rule::json_number => Some(Class::Number),
        Rule::boolean | Rule::null | Rule::none => Some(Class::Constant),
        Rule::cmp_op | Rule::range_op | Rule::need_op => Some(Class::Operator),
        _ => None,
    };
    if let Some(class) = class {
        push(out, class, &pair);
        return;
    }
    // Which of a node's plain words mean something, by the node they are in.
    let inner: Vec<Pair<'_, Rule>> = pair.clone().into_inner().collect();
    let mut idents = inner.iter().filter(|p| p.as_rule() == Rule::ident);
    match rule {
        Rule::advisory
        | Rule::product
        | Rule::os
        | Rule::series
        | Rule::certificate
        | Rule::component
        | Rule::setting
        | Rule::action
        | Rule::milestone
        | Rule::let_decl
        | Rule::rule_decl
        | Rule::test => {
            if let Some(name) = idents.next() {
                push(out, Class::Declaration, name);
            }
        }
        Rule::call => {
            if let Some(name) = idents.next() {
                push(out, Class::Function, name);
            }
        }
        Rule::field_type => {
            if let Some(name) = idents.next() {
                push(out, Class::Type, name);
            }
        }
        Rule::severity_clause => idents.for_each(|level| push(out, Class::Level, level)),
        Rule::expect_status => {
            if let Some(level) = idents.next() {
                push(out, Class::Level, level);
            }
        }
        // `setting ID == VALUE` writes its operator as a plain token of the rule: find it
        // between the name and the value.
        Rule::need_setting => {
            if let (Some(name), Some(value)) = (idents.next(), inner.last()) {
                let (from, to) = (name.as_span().end(), value.as_span().start());
                if let Some(gap) = source.get(from..to)
                    && let Some(at) = gap.find(['>', '='])
                {
                    let start = from + at;
                    out.push(Token { class: Class::Operator, span: Span::new(start, start + 2) });
                }
            }
        }
        _ => {}
    }
    for child in inner {
        walk(source, child, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(source: &str) -> Vec<(String, &'static str)> {
        tokens(source).unwrap().into_iter().map(|t| (source[t.span.range()].to_string(), t.class.name())).collect()
    }

    #[test]
    fn one_word_is_a_keyword_or_a_field_by_where_it_stands() {
        let source = "facts {\n  os { version: build }\n}\nos win11 { name \"Windows 11\" build >= 10.0.22000 }\n";
        let got = classes(source);
        assert_eq!(
            got,
            [
                ("facts", "keyword"),
                ("build", "type"),
                ("os", "keyword"),
                ("win11", "declaration"),
                ("name", "property"),
                ("\"Windows 11\"", "string"),
                ("build", "property"),
                (">=", "operator"),
                ("10.0.22000", "version"),
            ]
            .map(|(a, b)| (a.to_string(), b))
        );
    }

    #[test]
    fn comments_levels_calls_and_the_operators_of_requirements() {
        let source = "/// doc\nrule r { // note\n  when known(x.y) and z in [KB1, 2]\n  require component c >= 2.1 \
                      and setting s == true\n  severity info if x.y < 2023-01-01 else warning\n  message \"m\"\n}\n";
        let got = classes(source);
        let want = [
            ("/// doc", "doc"),
            ("rule", "keyword"),
            ("r", "declaration"),
            ("// note", "comment"),
            ("when", "keyword"),
            ("known", "function"),
            ("and", "keyword"),
            ("in", "keyword"),
            ("KB1", "kb"),
            ("2", "number"),
            ("require", "keyword"),
            ("component", "keyword"),
            (">=", "operator"),
            ("2.1", "version"),
            ("and", "keyword"),
            ("setting", "keyword"),
            ("==", "operator"),
            ("true", "constant"),
            ("severity", "keyword"),
            ("info", "level"),
            ("if", "keyword"),
            ("<", "operator"),
            ("2023-01-01", "date"),
            ("else", "keyword"),
            ("warning", "level"),
            ("message", "keyword"),
            ("\"m\"", "string"),
        ];
        assert_eq!(got, want.map(|(a, b)| (a.to_string(), b)));
    }

    #[test]
    fn a_file_that_does_not_parse_gives_its_syntax_error() {
        let error = tokens("rule r {").unwrap_err();
        assert_eq!(error.code, "P0001");
    }
}
