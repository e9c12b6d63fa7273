//! Diagnostics as data, and their rendering at the edge.
//!
//! Every stage returns its findings as [`Diagnostic`] values with spans; nothing prints. The CLI
//! renders them with codespan-reporting (colour on a terminal, plain otherwise, or JSON), the
//! playground renders the same data in the browser.

use crate::ast::Span;
use codespan_reporting::diagnostic as cs;
use codespan_reporting::term;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// A span with what to say about it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Label {
    #[serde(serialize_with = "serialize_span")]
    pub span: Span,
    pub message: String,
}

/// One finding of the checker: a stable code, a message, where, and how to fix it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub primary: Label,
    pub secondary: Vec<Label>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// A replacement that surely fixes it (the help's "did you mean", `==` for `=`), for tools to
    /// apply: an editor's quick fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
}

/// Replace the text at `span` with `replacement`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Fix {
    #[serde(serialize_with = "serialize_span")]
    pub span: Span,
    pub replacement: String,
}

fn serialize_span<S: serde::Serializer>(span: &Span, s: S) -> Result<S::Ok, S::Error> {
    (span.start, span.end).serialize(s)
}

impl Diagnostic {
    /// The same diagnostic about a text that starts `by` bytes further on.
    pub fn shifted(mut self, by: usize) -> Self {
        let shift = |s: Span| Span::new(s.start as usize + by, s.end as usize + by);
        self.primary.span = shift(self.primary.span);
        for label in &mut self.secondary {
            label.span = shift(label.span);
        }
        if let Some(fix) = &mut self.fix {
            fix.span = shift(fix.span);
        }
        self
    }

    pub fn error(code: &'static str, message: impl Into<String>, span: Span, label: impl Into<String>) -> Self {
        Self::new(code, Severity::Error, message, span, label)
    }

    pub fn warning(code: &'static str, message: impl Into<String>, span: Span, label: impl Into<String>) -> Self {
        Self::new(code, Severity::Warning, message, span, label)
    }

    fn new(
        code: &'static str,
        severity: Severity,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> Self {
        Diagnostic {
            code,
            severity,
            message: message.into(),
            primary: Label { span, message: label.into() },
            secondary: Vec::new(),
            help: None,
            notes: Vec::new(),
            fix: None,
        }
    }

    /// The fix the help describes: replacing `span` with `replacement`.
    pub fn with_fix(mut self, span: Span, replacement: impl Into<String>) -> Self {
        self.fix = Some(Fix { span, replacement: replacement.into() });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label { span, message: message.into() });
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    fn to_codespan(&self) -> cs::Diagnostic<()> {
        let severity = match self.severity {
            Severity::Error => cs::Severity::Error,
            Severity::Warning => cs::Severity::Warning,
        };
        // Messages may quote the source (a name, an escape): shown safe for a terminal.
        let mut labels =
            vec![cs::Label::primary((), self.primary.span.range()).with_message(printable(&self.primary.message))];
        labels.extend(
            self.secondary.iter().map(|l| cs::Label::secondary((), l.span.range()).with_message(printable(&l.message))),
        );
        let mut notes: Vec<String> = self.help.iter().map(|h| format!("help: {}", printable(h))).collect();
        notes.extend(self.notes.iter().map(|n| format!("note: {}", printable(n))));
        cs::Diagnostic::new(severity)
            .with_code(self.code)
            .with_message(printable(&self.message))
            .with_labels(labels)
            .with_notes(notes)
    }
}

/// Where a diagnostic's primary span starts, as 1-based line and column.
pub fn line_col(source: &str, offset: u32) -> (usize, usize) {
    let offset = (offset as usize).min(source.len());
    let before = source.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// `a version`, `an int`, `an enum(...)`: the word with its indefinite article.
pub fn with_article(word: &str) -> String {
    let vowel = word.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {word}", if vowel { "an" } else { "a" })
}

/// Renders diagnostics as plain text (no colour), the way the CLI prints them off a terminal.
/// Each diagnostic shows only its excerpt of the source (`excerpt`): long lines clipped around
/// its labels, control characters replaced.
pub fn render_plain(file_name: &str, source: &str, diagnostics: &[Diagnostic]) -> String {
    let file = crate::excerpt::Source::new(file_name, source);
    let config = term::Config::default();
    let mut out = String::new();
    for diagnostic in diagnostics {
        let (excerpt, shown) = file.excerpt(&diagnostic.to_codespan());
        // Writing into a String cannot fail except for an out-of-range span, which would be a
        // checker bug; fall back to the message so that nothing is lost.
        if term::emit_to_string(&mut out, &config, &excerpt, &shown).is_err() {
            out.push_str(&format!(
                "{}[{}]: {}\n",
                severity_word(diagnostic.severity),
                diagnostic.code,
                diagnostic.message
            ));
        }
    }
    out
}

/// Renders diagnostics with ANSI colour to a terminal writer.
#[cfg(feature = "color")]
pub fn render_color(
    writer: &mut dyn codespan_reporting::term::termcolor::WriteColor,
    file_name: &str,
    source: &str,
    diagnostics: &[Diagnostic],
) -> std::io::Result<()> {
    let file = crate::excerpt::Source::new(file_name, source);
    let config = term::Config::default();
    for diagnostic in diagnostics {
        let (excerpt, shown) = file.excerpt(&diagnostic.to_codespan());
        term::emit_to_write_style(writer, &config, &excerpt, &shown)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
    }
    Ok(())
}

/// One diagnostic as JSON for editors and CI: code, severity, message, file:line:col, labels.
pub fn to_json(file_name: &str, source: &str, diagnostic: &Diagnostic) -> serde_json::Value {
    let (line, column) = line_col(source, diagnostic.primary.span.start);
    let (end_line, end_column) = line_col(source, diagnostic.primary.span.end);
    serde_json::json!({
        "code": diagnostic.code,
        "severity": diagnostic.severity,
        "message": diagnostic.message,
        "file": file_name,
        "line": line,
        "column": column,
        "end_line": end_line,
        "end_column": end_column,
        "primary": diagnostic.primary,
        "secondary": diagnostic.secondary,
        "help": diagnostic.help,
        "notes": diagnostic.notes,
        // The replacement that fixes it, with where (byte offsets and line:column).
        "fix": diagnostic.fix.as_ref().map(|fix| {
            let (line, column) = line_col(source, fix.span.start);
            let (end_line, end_column) = line_col(source, fix.span.end);
            serde_json::json!({
                "start": fix.span.start, "end": fix.span.end,
                "line": line, "column": column, "end_line": end_line, "end_column": end_column,
                "replacement": fix.replacement,
            })
        }),
    })
}

fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// "did you mean ...": the closest candidate to `name`, if it is close enough to be a typo.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(f64, &str)> = None;
    for candidate in candidates {
        let score = strsim::jaro_winkler(&name.to_ascii_lowercase(), &candidate.to_ascii_lowercase());
        if score >= 0.8 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// Text quoted from input, safe to print on a terminal: control characters (C0, DEL, C1), the
/// line and paragraph separators and the bidirectional controls are shown as `\u{...}`, so a
/// message quoting a file cannot move the cursor, retitle the window, clear the screen or reorder
/// what follows it.
pub fn printable(text: &str) -> String {
    if !text.chars().any(needs_escape) {
        return text.to_string();
    }
    text.chars().map(|c| if needs_escape(c) { format!("\\u{{{:x}}}", c as u32) } else { c.to_string() }).collect()
}

fn needs_escape(c: char) -> bool {
    c.is_control() || is_bidi_or_separator(c)
}

/// The line and paragraph separators and the bidirectional formatting characters: invisible,
/// yet they move or reorder the text around them.
pub(crate) fn is_bidi_or_separator(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{061C}')
}
