//! Completion by where the cursor stands: item keywords at the top level, a block's property or
//! clause words at the start of its lines, statuses after `severity`, OS versions after `applies`,
//! updates after `require` or `install`, fact paths after a `.`, and a condition's words inside
//! conditions. It reads the text around the cursor rather than the parse tree, because the text
//! being typed rarely parses; the declared names come from the last version of the file that did.

use lsp_types::{CompletionItem, CompletionItemKind, Documentation};
use preflight_compiler::ast::DeclKind;
use preflight_compiler::check::{SOURCES, TYPE_NAMES};
use preflight_compiler::ir::{HostValue, Level};
use preflight_compiler::syntax;

/// What a declared name is, for completion: a declaration of one of the shared kinds, or another
/// named thing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Decl(DeclKind),
    Series,
    Let,
    Rule,
    Fact,
}

const OS: Kind = Kind::Decl(DeclKind::Os);
const UPDATE: Kind = Kind::Decl(DeclKind::Update);

impl Kind {
    /// The kind a requirement's or an expectation's word names: `certificate ID`, `component ID`,
    /// `setting ID`, `action ID`.
    fn named_by(word: &str) -> Option<Kind> {
        [DeclKind::Certificate, DeclKind::Component, DeclKind::Setting, DeclKind::Action]
            .into_iter()
            .find(|kind| kind.keyword() == word)
            .map(Kind::Decl)
    }

    fn item_kind(self) -> CompletionItemKind {
        match self {
            Kind::Fact => CompletionItemKind::FIELD,
            Kind::Let => CompletionItemKind::VARIABLE,
            Kind::Rule => CompletionItemKind::FUNCTION,
            Kind::Decl(DeclKind::Update) | Kind::Series => CompletionItemKind::CONSTANT,
            Kind::Decl(DeclKind::Os | DeclKind::Product) => CompletionItemKind::ENUM_MEMBER,
            Kind::Decl(_) => CompletionItemKind::REFERENCE,
        }
    }

    fn detail(self) -> &'static str {
        match self {
            Kind::Decl(DeclKind::Os) => "OS version",
            Kind::Decl(kind) => kind.keyword(),
            Kind::Series => "series",
            Kind::Let => "named value",
            Kind::Rule => "rule",
            Kind::Fact => "fact",
        }
    }
}

/// A declared name of the file.
#[derive(Clone, Debug)]
pub(super) struct Name {
    pub name: String,
    pub kind: Kind,
    pub docs: Vec<String>,
}

/// What the cursor's place accepts.
#[derive(Debug, PartialEq, Eq)]
enum Want {
    Items,
    Words(&'static [&'static str]),
    Levels {
        in_test: bool,
    },
    Names(Kind),
    Needs,
    Types,
    Sources,
    Facts,
    Condition,
    Expectations,
    /// `{` in a message: what a placeholder can show.
    Placeholder,
    /// A key of a test's `given` object under these groups (`os` for `given { os: { | } }`).
    GivenKeys(Vec<String>),
    Nothing,
}

/// The completion items for the cursor at byte `offset` of `text`, and the byte range they replace
/// (the word being typed, dots included).
pub(super) fn complete(text: &str, offset: usize, names: &[Name]) -> (Vec<CompletionItem>, (usize, usize)) {
    let offset = floor_char_boundary(text, offset);
    let before = &text[..offset];
    let start = before.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')).map_or(0, |i| i + 1);
    let typed = &before[start..];
    let (line_code, in_text) = code_of(&before[before.rfind('\n').map_or(0, |i| i + 1)..start]);
    if in_text {
        // `"... {os.ver|`: a message's placeholder.
        let want = if before[..start].ends_with('{') { Want::Placeholder } else { Want::Nothing };
        return (items(&want, names), (start, offset));
    }
    let want = match given_keys(&before[..start]) {
        Some(groups) => Want::GivenKeys(groups),
        None if typed.contains('.') => Want::Facts,
        None => want(&text[..start], &line_code),
    };
    (items(&want, names), (start, offset))
}

/// Inside a test's `given { ... }` at a key's place, the groups around the cursor (outermost
/// first); `None` elsewhere, and at a value's place.
fn given_keys(before: &str) -> Option<Vec<String>> {
    let at = before.rfind("given")?;
    // `given` must be the test's clause (after it only the object so far).
    if before.get(at..)?.contains("expect") || !before.get(..at)?.trim_end().ends_with(['{', '}']) {
        return None;
    }
    let mut groups: Vec<String> = Vec::new();
    let mut depth = 0usize;
    let mut key = String::new();
    let mut word = String::new();
    let mut at_key = false;
    let mut in_string = false;
    for c in before.get(at + "given".len()..)?.chars() {
        if in_string {
            if c == '"' {
                in_string = false;
            } else {
                word.push(c);
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                word.clear();
            }
            '{' => {
                if depth > 0 {
                    groups.push(std::mem::take(&mut key));
                }
                depth += 1;
                at_key = true;
            }
            '}' => {
                groups.pop();
                depth = depth.checked_sub(1)?;
                at_key = false;
                word.clear();
            }
            ':' => {
                key = std::mem::take(&mut word);
                at_key = false;
            }
            ',' => {
                at_key = true;
                word.clear();
            }
            c if c.is_ascii_alphanumeric() || c == '_' => word.push(c),
            c if c.is_whitespace() => {}
            _ => word.clear(),
        }
    }
    (depth > 0 && at_key).then_some(groups)
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The words opening the blocks around the end of `before` (outermost first): the first word of the
/// line of each unclosed `{` — `rule`, `facts`, `given`, `expect`, a field group's name...
fn open_blocks(before: &str) -> Vec<String> {
    let mut stack = Vec::new();
    for line in before.split('\n') {
        let (code, _) = code_of(line);
        for (i, c) in code.char_indices() {
            match c {
                '{' => {
                    let head = code[..i].trim_start();
                    // `expect ready {` opens the expectations, whatever the status.
                    let word = head.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).next().unwrap_or("");
                    stack.push(if word.is_empty() { "{" } else { word }.to_string());
                }
                '}' => {
                    stack.pop();
                }
                _ => {}
            }
        }
    }
    stack
}

/// A line without its strings and comment (each string kept as `""`: what is in it does not
/// matter), and whether the line ends inside a string or the comment.
fn code_of(line: &str) -> (String, bool) {
    let mut out = String::new();
    let mut in_string = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if in_string => {
                chars.next();
            }
            '"' => {
                in_string = !in_string;
                out.push('"');
            }
            '/' if !in_string && chars.peek() == Some(&'/') => return (out, true),
            _ if in_string => {}
            _ => out.push(c),
        }
    }
    (out, in_string)
}

/// The last word or symbol before the cursor's word, over line ends.
fn previous_token(before: &str) -> &str {
    let trimmed = before.trim_end();
    let Some(last) = trimmed.chars().last() else { return "" };
    if last.is_ascii_alphanumeric() || last == '_' || last == '.' {
        let start = trimmed.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')).map_or(0, |i| i + 1);
        &trimmed[start..]
    } else {
        // `>=`, `==`: two-character operators count as one token.
        let two = trimmed.len().saturating_sub(2);
        match trimmed.get(two..) {
            Some(op @ (">=" | "<=" | "==" | "!=")) => op,
            _ => &trimmed[trimmed.len() - last.len_utf8()..],
        }
    }
}

/// What the place after `before` accepts; `line_code` is the code of its line up to there.
fn want(before: &str, line_code: &str) -> Want {
    let blocks = open_blocks(before);
    let prev = previous_token(before);
    let at_line_start = line_code.trim().is_empty();
    // The line's first word (a property, role or clause), or the one after a `{` on the line.
    let key = line_code.rsplit('{').next().unwrap_or("").split_whitespace().next().unwrap_or("");
    let item = blocks.first().map(String::as_str);
    match item {
        None if at_line_start => Want::Items,
        None if key == "let" && line_code.contains('=') => Want::Condition,
        None => Want::Nothing,
        Some("facts") => match prev {
            ":" => Want::Types,
            "from" => Want::Sources,
            _ if line_code.contains(" if ") || line_code.trim_end().ends_with(" if") => Want::Condition,
            _ => Want::Nothing,
        },
        Some("host") if at_line_start => Want::Words(syntax::block_words("host")),
        Some("host") if prev == "=" => Want::Facts,
        Some("rule") => rule_place(prev, key, at_line_start),
        Some("test") => test_place(&blocks, prev),
        Some(
            opener @ ("advisory" | "product" | "os" | "update" | "series" | "certificate" | "component" | "setting"
            | "action"),
        ) => {
            if at_line_start || prev == "{" {
                Want::Words(syntax::block_words(opener))
            } else {
                match (key, prev) {
                    (_, "for") | ("applies", _) => Want::Names(OS),
                    ("supersedes" | "after", _) => Want::Names(UPDATE),
                    ("fact", _) => Want::Facts,
                    ("versions", _) => Want::Words(&["all"]),
                    _ => Want::Nothing,
                }
            }
        }
        Some(_) => Want::Nothing,
    }
}

fn rule_place(prev: &str, key: &str, at_line_start: bool) -> Want {
    if at_line_start {
        return Want::Words(syntax::block_words("rule"));
    }
    // `certificate ID` is a clause of its own too.
    if let Some(kind) = Kind::named_by(prev)
        && (key == "require" || prev == "certificate")
    {
        return Want::Names(kind);
    }
    match (key, prev) {
        ("require", "require" | "and" | "or" | "(") => Want::Needs,
        ("require", ">=" | "==") => Want::Names(Kind::Let),
        ("severity", "severity" | "else") => Want::Levels { in_test: false },
        ("severity" | "when", _) => Want::Condition,
        _ => Want::Nothing,
    }
}

fn test_place(blocks: &[String], prev: &str) -> Want {
    if blocks.iter().any(|b| b == "given") {
        return Want::Nothing;
    }
    if blocks.last().is_some_and(|b| b == "expect") {
        return match prev {
            "install" | "or" => Want::Names(UPDATE),
            "fires" => Want::Names(Kind::Rule),
            _ => Kind::named_by(prev).map_or(Want::Expectations, Want::Names),
        };
    }
    match prev {
        "expect" => Want::Levels { in_test: true },
        "error" => Want::Words(preflight_compiler::facts::INPUT_ERROR_CODES),
        _ => Want::Words(&["given", "expect"]),
    }
}

fn keyword(label: &str) -> CompletionItem {
    CompletionItem { label: label.into(), kind: Some(CompletionItemKind::KEYWORD), ..CompletionItem::default() }
}

fn declared(name: &Name) -> CompletionItem {
    CompletionItem {
        label: name.name.clone(),
        kind: Some(name.kind.item_kind()),
        detail: Some(name.kind.detail().into()),
        documentation: (!name.docs.is_empty()).then(|| Documentation::String(name.docs.join("\n"))),
        ..CompletionItem::default()
    }
}

fn of_kinds<'n>(names: &'n [Name], kinds: &'n [Kind]) -> impl Iterator<Item = CompletionItem> + 'n {
    names.iter().filter(move |n| kinds.contains(&n.kind)).map(declared)
}

fn items(want: &Want, names: &[Name]) -> Vec<CompletionItem> {
    let mut items: Vec<CompletionItem> = match want {
        Want::Items => syntax::item_keywords().iter().map(|k| keyword(k)).collect(),
        Want::Words(words) => words.iter().map(|k| keyword(k)).collect(),
        Want::Levels { in_test } => Level::ALL
            .iter()
            // A test expects a status (`ready` included); a rule gives a severity (notices
            // included, `ready` not).
            .filter(|l| if *in_test { !matches!(l, Level::Info | Level::Warning) } else { **l != Level::Ready })
            .map(|l| CompletionItem {
                label: l.name().into(),
                kind: Some(CompletionItemKind::ENUM_MEMBER),
                ..CompletionItem::default()
            })
            .chain(in_test.then(|| keyword("error")))
            .collect(),
        Want::Names(kind) => of_kinds(names, std::slice::from_ref(kind)).collect(),
        Want::Needs => {
            of_kinds(names, &[UPDATE]).chain(["certificate", "component", "setting", "action"].map(keyword)).collect()
        }
        Want::Types => TYPE_NAMES.iter().chain(&["enum"]).map(|t| keyword(t)).collect(),
        Want::Sources => SOURCES.iter().map(|s| keyword(s)).collect(),
        Want::Facts => facts(names).collect(),
        Want::Condition => facts(names)
            .chain(of_kinds(names, &[Kind::Let, OS, Kind::Decl(DeclKind::Product), UPDATE]))
            .chain(["known", "patched"].map(|f| CompletionItem {
                label: f.into(),
                kind: Some(CompletionItemKind::FUNCTION),
                ..CompletionItem::default()
            }))
            .chain(["and", "or", "not", "in", "status"].map(keyword))
            .chain(Level::ALL.iter().map(|l| CompletionItem {
                label: l.name().into(),
                kind: Some(CompletionItemKind::ENUM_MEMBER),
                ..CompletionItem::default()
            }))
            .collect(),
        Want::Expectations => syntax::block_words("expect").iter().chain(&["not"]).map(|k| keyword(k)).collect(),
        Want::Placeholder => facts(names)
            .chain(of_kinds(names, &[Kind::Let, Kind::Decl(DeclKind::Milestone)]))
            .chain(["release_date"].map(|f| CompletionItem {
                label: f.into(),
                kind: Some(CompletionItemKind::FUNCTION),
                detail: Some("an update's release date: {release_date(KB...)}".into()),
                ..CompletionItem::default()
            }))
            .collect(),
        Want::GivenKeys(groups) => {
            // The next part of every fact path under the groups: a fact or a group of them.
            let prefix: String = groups.iter().map(|g| format!("{g}.")).collect();
            names
                .iter()
                .filter(|n| n.kind == Kind::Fact)
                // A group is offered through its facts' paths.
                .filter(|n| {
                    !names.iter().any(|m| m.name.len() > n.name.len() && m.name.starts_with(&format!("{}.", n.name)))
                })
                .filter_map(|n| n.name.strip_prefix(&prefix).map(|rest| (rest, n)))
                .map(|(rest, n)| {
                    let (part, group) = match rest.split_once('.') {
                        Some((head, _)) => (head, true),
                        None => (rest, false),
                    };
                    CompletionItem {
                        label: part.to_string(),
                        kind: Some(if group { CompletionItemKind::MODULE } else { CompletionItemKind::FIELD }),
                        detail: Some(if group { "group of facts".into() } else { "fact".into() }),
                        documentation: (!group && !n.docs.is_empty())
                            .then(|| lsp_types::Documentation::String(n.docs.join("\n"))),
                        ..CompletionItem::default()
                    }
                })
                .collect()
        }
        Want::Nothing => Vec::new(),
    };
    items.sort_by(|a, b| a.label.cmp(&b.label));
    items.dedup_by(|a, b| a.label == b.label);
    items
}

/// The declared facts and the `host.*` values.
fn facts(names: &[Name]) -> impl Iterator<Item = CompletionItem> + '_ {
    of_kinds(names, &[Kind::Fact]).chain(HostValue::ALL.iter().map(|(name, _)| CompletionItem {
        label: format!("host.{name}"),
        kind: Some(CompletionItemKind::FIELD),
        detail: Some("derived from the host roles".into()),
        ..CompletionItem::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted(text_with_cursor: &str) -> Want {
        let offset = text_with_cursor.find('|').unwrap();
        let before = &text_with_cursor[..offset];
        let start = before.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')).map_or(0, |i| i + 1);
        let line = &before[before.rfind('\n').map_or(0, |i| i + 1)..start];
        want(&before[..start], &code_of(line).0)
    }

    #[test]
    fn places_and_what_they_accept() {
        assert_eq!(wanted("|"), Want::Items);
        assert_eq!(wanted("rule r {\n  wh|"), Want::Words(syntax::block_words("rule")));
        assert_eq!(wanted("rule r {\n  severity |"), Want::Levels { in_test: false });
        assert_eq!(wanted("rule r {\n  severity info if x else w|"), Want::Levels { in_test: false });
        assert_eq!(wanted("rule r {\n  severity info if |"), Want::Condition);
        assert_eq!(wanted("rule r {\n  when host.os == |"), Want::Condition);
        assert_eq!(wanted("rule r {\n  require KB1 and (|"), Want::Needs);
        assert_eq!(wanted("rule r {\n  require certificate |"), Want::Names(Kind::Decl(DeclKind::Certificate)));
        assert_eq!(wanted("update KB1 {\n  applies win7, |"), Want::Names(OS));
        assert_eq!(wanted("update KB1 {\n  released 2020-01-01 for |"), Want::Names(OS));
        assert_eq!(wanted("series s {\n  KB2 2020-01-01 { |"), Want::Words(syntax::block_words("series")));
        assert_eq!(wanted("facts {\n  os {\n    version: |"), Want::Types);
        assert_eq!(wanted("facts {\n  a: kbs from |"), Want::Sources);
        assert_eq!(wanted("host {\n  |"), Want::Words(syntax::block_words("host")));
        assert_eq!(wanted("test t {\n  given { os: { version: \"{\" } }\n  expect |"), Want::Levels { in_test: true });
        assert_eq!(wanted("test t {\n  given {}\n  expect ready { install |"), Want::Names(UPDATE));
        assert_eq!(wanted("test t {\n  given {}\n  expect ready { fires |"), Want::Names(Kind::Rule));
        assert_eq!(wanted("test t {\n  given { |"), Want::Nothing);
        assert_eq!(wanted("let x = |"), Want::Condition);
        assert_eq!(wanted("rule r {\n}\n|"), Want::Items);
    }

    #[test]
    fn placeholders_and_given_keys() {
        let names = [
            Name { name: "os".into(), kind: Kind::Fact, docs: Vec::new() },
            Name { name: "os.version".into(), kind: Kind::Fact, docs: Vec::new() },
            Name { name: "hotfixes".into(), kind: Kind::Fact, docs: Vec::new() },
        ];
        let labels =
            |text: &str| -> Vec<String> { complete(text, text.len(), &names).0.into_iter().map(|i| i.label).collect() };
        assert!(labels("rule r {\n  message \"on {os.").contains(&"os.version".to_string()));
        assert_eq!(labels("test t {\n  given { "), ["hotfixes", "os"]);
        assert_eq!(labels("test t {\n  given { os: { "), ["version"]);
        assert_eq!(labels("test t {\n  given { os: { version: \"1\" }, "), ["hotfixes", "os"]);
        assert!(labels("test t {\n  given { os: ").is_empty(), "a value's place");
        assert_eq!(labels("test t {\n  given { hotfixes: [\"KB1\"], os: { "), ["version"]);
    }

    #[test]
    fn nothing_inside_strings_and_comments() {
        let names = [Name { name: "win11".into(), kind: OS, docs: Vec::new() }];
        let (items, _) = complete("rule r {\n  message \"on |", 24, &names);
        assert!(items.is_empty());
        let (items, _) = complete("// rule |", 8, &names);
        assert!(items.is_empty());
    }

    #[test]
    fn a_dotted_word_is_a_fact_path_and_is_replaced_whole() {
        let names = [Name { name: "os.version".into(), kind: Kind::Fact, docs: Vec::new() }];
        let text = "rule r {\n  when os.ve";
        let (items, range) = complete(text, text.len(), &names);
        assert_eq!(range, (text.len() - 5, text.len()));
        let labels: Vec<&str> = items.iter().map(|i| i.label.as_str()).collect();
        assert!(labels.contains(&"os.version") && labels.contains(&"host.os"), "{labels:?}");
    }
}
