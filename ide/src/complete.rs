//! Completion by where the cursor stands: item keywords at the top level, a block's property or
//! clause words at the start of its lines, statuses after `severity`, OS versions after `applies`,
//! updates after `require` or `install` (those that apply to the OS versions the rule names
//! first, with their titles), fact paths after a `.`, and a condition's words inside conditions.
//! It reads the text around the cursor rather than the parse tree, because the text being typed
//! rarely parses; the declared names come from the last version of the file that did.

use crate::{Declaration, Kind};
use preflight_compiler::ast::DeclKind;
use preflight_compiler::check::{SOURCES, TYPE_NAMES};
use preflight_compiler::ir::{HostValue, Level};
use preflight_compiler::syntax;

/// What a completion item is, for the editor's icon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemKind {
    Keyword,
    /// A declared name of this kind.
    Name(Kind),
    /// `host.os`, `host.product`...: derived from the host roles.
    HostValue,
    /// `known`, `patched`, `release_date`.
    Function,
    /// A status or severity (`ready`, `action_required`...).
    Status,
    /// A key of a test's `given` object: a fact, or a group of facts.
    GivenKey {
        group: bool,
    },
}

/// One completion.
#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    pub label: String,
    pub kind: ItemKind,
    /// One line beside the label (an update's title, "fact", "OS version").
    pub detail: Option<String>,
    pub docs: Option<String>,
    /// Ranked first: an update that applies to an OS version the rule names.
    pub preferred: bool,
}

/// What completes the word at the cursor, and the byte range it replaces (the word being typed,
/// dots included). Items are ranked (preferred first), then by label.
#[derive(Clone, Debug, PartialEq)]
pub struct Completions {
    pub items: Vec<Completion>,
    pub replace: (usize, usize),
}

/// The kind a requirement's or an expectation's word names: `certificate ID`, `component ID`,
/// `setting ID`, `action ID`.
fn named_by(word: &str) -> Option<Kind> {
    [DeclKind::Certificate, DeclKind::Component, DeclKind::Setting, DeclKind::Action]
        .into_iter()
        .find(|kind| kind.keyword() == word)
        .map(Kind::of_decl)
}

/// The line beside a declared name's label.
fn detail(kind: Kind) -> &'static str {
    match kind {
        Kind::Os => "OS version",
        Kind::Let => "named value",
        Kind::Group => "group of facts",
        other => other.word(),
    }
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

/// The completions for the cursor at byte `offset` of `text`, given the names the file (and the
/// files it uses) declares.
pub fn complete(text: &str, offset: usize, names: &[Declaration]) -> Completions {
    let offset = floor_char_boundary(text, offset);
    let before = &text[..offset];
    let start = before.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')).map_or(0, |i| i + 1);
    let typed = &before[start..];
    let (line_code, in_text) = code_of(&before[before.rfind('\n').map_or(0, |i| i + 1)..start]);
    if in_text {
        // `"... {os.ver|`: a message's placeholder.
        let want = if before[..start].ends_with('{') { Want::Placeholder } else { Want::Nothing };
        return Completions { items: items(&want, names, &[]), replace: (start, offset) };
    }
    let want = match given_keys(&before[..start]) {
        Some(groups) => Want::GivenKeys(groups),
        None if typed.contains('.') => Want::Facts,
        None => want(&text[..start], &line_code),
    };
    let oses = match want {
        Want::Names(Kind::Update) | Want::Needs => rule_oses(text, start, names),
        _ => Vec::new(),
    };
    Completions { items: items(&want, names, &oses), replace: (start, offset) }
}

/// The OS versions the rule around `offset` names anywhere in its text (`host.os == win10`,
/// `host.os in [win7, server2008r2]`): an update that applies to one of them is what the rule
/// most likely requires.
fn rule_oses<'n>(text: &str, offset: usize, names: &'n [Declaration]) -> Vec<&'n str> {
    let Some(before) = text.get(..offset) else { return Vec::new() };
    let Some(start) = before.rfind("\nrule ").map(|i| i + 1).or_else(|| before.starts_with("rule ").then_some(0))
    else {
        return Vec::new();
    };
    if before.get(start..).is_some_and(|rule| rule.contains("\n}")) {
        return Vec::new(); // the cursor is past that rule
    }
    // The rule ends at the next line that starts an item (its closing `}` or, while it is being
    // typed, whatever follows it).
    let after = text.get(offset..).unwrap_or("");
    let end = after.find("\n}").or_else(|| after.find("\nrule ")).map_or(text.len(), |i| offset + i);
    let block = text.get(start..end).unwrap_or("");
    let words: std::collections::HashSet<&str> =
        block.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect();
    names.iter().filter(|n| n.kind == Kind::Os && words.contains(n.name.as_str())).map(|n| n.name.as_str()).collect()
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
                    (_, "for") | ("applies", _) => Want::Names(Kind::Os),
                    ("supersedes" | "after", _) => Want::Names(Kind::Update),
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
    if let Some(kind) = named_by(prev)
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
            "install" | "or" => Want::Names(Kind::Update),
            "fires" => Want::Names(Kind::Rule),
            _ => named_by(prev).map_or(Want::Expectations, Want::Names),
        };
    }
    match prev {
        "expect" => Want::Levels { in_test: true },
        "error" => Want::Words(preflight_compiler::facts::INPUT_ERROR_CODES),
        _ => Want::Words(&["given", "expect"]),
    }
}

fn keyword(label: &str) -> Completion {
    plain(label, ItemKind::Keyword, None)
}

fn plain(label: &str, kind: ItemKind, detail: Option<&str>) -> Completion {
    Completion { label: label.into(), kind, detail: detail.map(str::to_string), docs: None, preferred: false }
}

/// A declared name; an update with its title, preferred when it applies to one of `oses`.
fn declared(name: &Declaration, oses: &[&str]) -> Completion {
    Completion {
        label: name.name.clone(),
        kind: ItemKind::Name(name.kind),
        detail: Some(name.title.clone().unwrap_or_else(|| detail(name.kind).to_string())),
        docs: (!name.docs.is_empty()).then(|| name.docs.join("\n")),
        preferred: name.applies.iter().any(|os| oses.contains(&os.as_str())),
    }
}

fn of_kinds<'n>(
    names: &'n [Declaration],
    kinds: &'n [Kind],
    oses: &'n [&str],
) -> impl Iterator<Item = Completion> + 'n {
    names.iter().filter(move |n| kinds.contains(&n.kind)).map(move |n| declared(n, oses))
}

fn levels(in_test: bool) -> impl Iterator<Item = Completion> {
    Level::ALL
        .iter()
        // A test expects a status (`ready` included); a rule gives a severity (notices
        // included, `ready` not).
        .filter(move |l| if in_test { !matches!(l, Level::Info | Level::Warning) } else { **l != Level::Ready })
        .map(|l| plain(l.name(), ItemKind::Status, None))
}

fn items(want: &Want, names: &[Declaration], oses: &[&str]) -> Vec<Completion> {
    let mut items: Vec<Completion> = match want {
        Want::Items => syntax::item_keywords().iter().map(|k| keyword(k)).collect(),
        Want::Words(words) => words.iter().map(|k| keyword(k)).collect(),
        Want::Levels { in_test } => levels(*in_test).chain(in_test.then(|| keyword("error"))).collect(),
        Want::Names(kind) => of_kinds(names, std::slice::from_ref(kind), oses).collect(),
        Want::Needs => of_kinds(names, &[Kind::Update], oses)
            .chain(["certificate", "component", "setting", "action"].map(keyword))
            .collect(),
        Want::Types => TYPE_NAMES.iter().chain(&["enum"]).map(|t| keyword(t)).collect(),
        Want::Sources => SOURCES.iter().map(|s| keyword(s)).collect(),
        Want::Facts => facts(names).collect(),
        Want::Condition => facts(names)
            .chain(of_kinds(names, &[Kind::Let, Kind::Os, Kind::Product, Kind::Update], oses))
            .chain(["known", "patched"].map(|f| plain(f, ItemKind::Function, None)))
            .chain(["and", "or", "not", "in", "status"].map(keyword))
            .chain(Level::ALL.iter().map(|l| plain(l.name(), ItemKind::Status, None)))
            .collect(),
        Want::Expectations => syntax::block_words("expect").iter().chain(&["not"]).map(|k| keyword(k)).collect(),
        Want::Placeholder => facts(names)
            .chain(of_kinds(names, &[Kind::Let, Kind::Milestone], oses))
            .chain([
                plain("release_date", ItemKind::Function, Some("an update's release date: {release_date(KB...)}")),
                plain("need", ItemKind::Function, Some("what the finding asks to install or change")),
            ])
            .collect(),
        Want::GivenKeys(groups) => {
            // The next part of every fact path under the groups: a fact or a group of them.
            let prefix: String = groups.iter().map(|g| format!("{g}.")).collect();
            names
                .iter()
                .filter(|n| n.kind == Kind::Fact)
                .filter_map(|n| n.name.strip_prefix(&prefix).map(|rest| (rest, n)))
                .map(|(rest, n)| {
                    let (part, group) = match rest.split_once('.') {
                        Some((head, _)) => (head, true),
                        None => (rest, false),
                    };
                    Completion {
                        label: part.to_string(),
                        kind: ItemKind::GivenKey { group },
                        detail: Some(if group { "group of facts" } else { "fact" }.into()),
                        docs: (!group && !n.docs.is_empty()).then(|| n.docs.join("\n")),
                        preferred: false,
                    }
                })
                .collect()
        }
        Want::Nothing => Vec::new(),
    };
    items.sort_by(|a, b| (!a.preferred, &a.label).cmp(&(!b.preferred, &b.label)));
    items.dedup_by(|a, b| a.label == b.label);
    items
}

/// The declared facts and groups, and the `host.*` values.
fn facts(names: &[Declaration]) -> impl Iterator<Item = Completion> + '_ {
    of_kinds(names, &[Kind::Fact, Kind::Group], &[]).chain(
        HostValue::ALL
            .iter()
            .map(|(name, _)| plain(&format!("host.{name}"), ItemKind::HostValue, Some("derived from the host roles"))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decl(name: &str, kind: Kind) -> Declaration {
        Declaration {
            name: name.into(),
            kind,
            name_span: (0, 0),
            span: (0, 0),
            docs: Vec::new(),
            title: None,
            applies: Vec::new(),
            origin: None,
        }
    }

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
        assert_eq!(wanted("rule r {\n  require certificate |"), Want::Names(Kind::Certificate));
        assert_eq!(wanted("update KB1 {\n  applies win7, |"), Want::Names(Kind::Os));
        assert_eq!(wanted("update KB1 {\n  released 2020-01-01 for |"), Want::Names(Kind::Os));
        assert_eq!(wanted("series s {\n  KB2 2020-01-01 { |"), Want::Words(syntax::block_words("series")));
        assert_eq!(wanted("facts {\n  os {\n    version: |"), Want::Types);
        assert_eq!(wanted("facts {\n  a: kbs from |"), Want::Sources);
        assert_eq!(wanted("host {\n  |"), Want::Words(syntax::block_words("host")));
        assert_eq!(wanted("test t {\n  given { os: { version: \"{\" } }\n  expect |"), Want::Levels { in_test: true });
        assert_eq!(wanted("test t {\n  given {}\n  expect ready { install |"), Want::Names(Kind::Update));
        assert_eq!(wanted("test t {\n  given {}\n  expect ready { fires |"), Want::Names(Kind::Rule));
        assert_eq!(wanted("test t {\n  given { |"), Want::Nothing);
        assert_eq!(wanted("let x = |"), Want::Condition);
        assert_eq!(wanted("rule r {\n}\n|"), Want::Items);
    }

    #[test]
    fn placeholders_and_given_keys() {
        let names = [decl("os.version", Kind::Fact), decl("os", Kind::Group), decl("hotfixes", Kind::Fact)];
        let labels = |text: &str| -> Vec<String> {
            complete(text, text.len(), &names).items.into_iter().map(|i| i.label).collect()
        };
        assert!(labels("rule r {\n  message \"on {os.").contains(&"os.version".to_string()));
        assert!(labels("rule r {\n  message \"install {").contains(&"need".to_string()));
        assert_eq!(labels("test t {\n  given { "), ["hotfixes", "os"]);
        assert_eq!(labels("test t {\n  given { os: { "), ["version"]);
        assert_eq!(labels("test t {\n  given { os: { version: \"1\" }, "), ["hotfixes", "os"]);
        assert!(labels("test t {\n  given { os: ").is_empty(), "a value's place");
        assert_eq!(labels("test t {\n  given { hotfixes: [\"KB1\"], os: { "), ["version"]);
    }

    #[test]
    fn nothing_inside_strings_and_comments() {
        let names = [decl("win11", Kind::Os)];
        assert!(complete("rule r {\n  message \"on |", 24, &names).items.is_empty());
        assert!(complete("// rule |", 8, &names).items.is_empty());
    }

    #[test]
    fn a_dotted_word_is_a_fact_path_and_is_replaced_whole() {
        let names = [decl("os.version", Kind::Fact)];
        let text = "rule r {\n  when os.ve";
        let found = complete(text, text.len(), &names);
        assert_eq!(found.replace, (text.len() - 5, text.len()));
        let labels: Vec<&str> = found.items.iter().map(|i| i.label.as_str()).collect();
        assert!(labels.contains(&"os.version") && labels.contains(&"host.os"), "{labels:?}");
    }

    #[test]
    fn updates_for_the_rules_os_come_first_with_their_titles() {
        let mut kb1 = decl("KB1", Kind::Update);
        kb1.applies = vec!["win7".into()];
        kb1.title = Some("Servicing stack for Windows 7".into());
        let mut kb2 = decl("KB2", Kind::Update);
        kb2.applies = vec!["win10".into()];
        kb2.title = Some("Cumulative update for Windows 10".into());
        let names = [kb1, kb2, decl("win7", Kind::Os), decl("win10", Kind::Os)];
        let text = "rule r {\n  when host.os == win10\n  require \n}\n";
        let at = text.find("require ").unwrap() + "require ".len();
        let items = complete(text, at, &names).items;
        assert_eq!(items[0].label, "KB2");
        assert!(items[0].preferred);
        assert_eq!(items[0].detail.as_deref(), Some("Cumulative update for Windows 10"));
        assert!(!items.iter().find(|i| i.label == "KB1").unwrap().preferred);
        // Another rule's OS does not count.
        let text = "rule a {\n  when host.os == win7\n}\nrule b {\n  when host.os == win10\n  require ";
        assert_eq!(complete(text, text.len(), &names).items[0].label, "KB2");
        let text = "rule a {\n  when host.os == win7\n  require ";
        assert_eq!(complete(text, text.len(), &names).items[0].label, "KB1");
    }
}
