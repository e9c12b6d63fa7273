//! What a rendered diagnostic shows of the source: the lines its labels touch, each short line
//! whole and each long line clipped to a window around the labels on it (`…` marking what is
//! cut), with control characters shown as placeholders. Locations (line:column) stay the
//! original file's. So a rules file written on one line, or one holding terminal escapes, costs
//! a few hundred bytes per diagnostic, never the whole line, and cannot drive the terminal.

use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::{Error, Files};
use std::ops::Range;

/// Lines longer than this (in bytes) are clipped.
const LONG_LINE: usize = 200;
/// Bytes of context kept on each side of the labels of a clipped line.
const CONTEXT: usize = 60;
const MARK: &str = "…";

/// The line starts of a source, computed once for all its diagnostics.
pub struct Source<'s> {
    pub name: &'s str,
    pub text: &'s str,
    starts: Vec<usize>,
}

impl<'s> Source<'s> {
    pub fn new(name: &'s str, text: &'s str) -> Self {
        let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Source { name, text, starts }
    }

    fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).saturating_sub(1)
    }

    /// Line `i` without its line end.
    fn line(&self, i: usize) -> Range<usize> {
        let start = self.starts.get(i).copied().unwrap_or(self.text.len());
        let end = self.starts.get(i + 1).map_or(self.text.len(), |&s| s - 1);
        let end =
            if self.text.as_bytes().get(end.wrapping_sub(1)) == Some(&b'\r') && end > start { end - 1 } else { end };
        start..end.max(start)
    }

    /// The excerpt for one diagnostic, and its labels moved into it.
    pub fn excerpt(&self, diagnostic: &cs::Diagnostic<()>) -> (Excerpt<'_>, cs::Diagnostic<()>) {
        let clamp = |o: usize| floor_boundary(self.text, o.min(self.text.len()));
        let points: Vec<usize> =
            diagnostic.labels.iter().flat_map(|l| [clamp(l.range.start), clamp(l.range.end)]).collect();
        let first = points.iter().map(|&p| self.line_of(p)).min().unwrap_or(0);
        let last = points.iter().map(|&p| self.line_of(p)).max().unwrap_or(0);
        let mut excerpt = Excerpt { source: self, first, text: String::new(), lines: Vec::new() };
        for i in first..=last {
            let line = self.line(i);
            let here: Vec<usize> = points.iter().copied().filter(|p| line.contains(p) || *p == line.end).collect();
            // A line between two labels that no label spans is never shown (codespan elides it):
            // keep none of it, so a diagnostic whose labels are far apart costs its labels' lines.
            let spanned = diagnostic.labels.iter().any(|l| l.range.start < line.start && l.range.end > line.end);
            let keep = if here.is_empty() && !spanned {
                line.start..line.start
            } else if line.len() <= LONG_LINE {
                line.clone()
            } else {
                let (lo, hi) = match (here.iter().min(), here.iter().max()) {
                    (Some(&lo), Some(&hi)) => {
                        (lo.saturating_sub(CONTEXT).max(line.start), (hi + CONTEXT).min(line.end))
                    }
                    // A long line inside a multi-line label: its start.
                    _ => (line.start, line.start + LONG_LINE),
                };
                floor_boundary(self.text, lo)..floor_boundary(self.text, hi)
            };
            let view_start = excerpt.text.len();
            let before = keep.start > line.start;
            if before {
                excerpt.text.push_str(MARK);
            }
            let body = excerpt.text.len();
            push_shown(&mut excerpt.text, self.text.get(keep.clone()).unwrap_or_default());
            if keep.end < line.end {
                excerpt.text.push_str(MARK);
            }
            excerpt.text.push('\n');
            excerpt.lines.push(ExcerptLine { view_start, body, keep });
        }
        let mut moved = diagnostic.clone();
        for label in &mut moved.labels {
            label.range = excerpt.to_view(clamp(label.range.start))..excerpt.to_view(clamp(label.range.end));
        }
        (excerpt, moved)
    }
}

/// One diagnostic's lines of the source, as shown.
pub struct Excerpt<'s> {
    source: &'s Source<'s>,
    /// The source line the excerpt's first line is.
    first: usize,
    text: String,
    lines: Vec<ExcerptLine>,
}

struct ExcerptLine {
    /// Where the line starts in the excerpt, and where the kept text starts (after a `…`).
    view_start: usize,
    body: usize,
    /// The source bytes kept.
    keep: Range<usize>,
}

impl Excerpt<'_> {
    /// A source offset inside the excerpt's lines → its offset in the excerpt (clamped to the
    /// kept text of its line).
    fn to_view(&self, offset: usize) -> usize {
        let i = self.source.line_of(offset).saturating_sub(self.first);
        let Some(line) = self.lines.get(i) else { return self.text.len() };
        line.body + offset.clamp(line.keep.start, line.keep.end) - line.keep.start
    }

    /// An excerpt offset → the source offset it shows.
    fn to_source(&self, i: usize, view: usize) -> usize {
        self.lines.get(i).map_or(self.source.text.len(), |line| {
            (line.keep.start + view.saturating_sub(line.body)).min(line.keep.end)
        })
    }
}

impl<'a> Files<'a> for Excerpt<'_> {
    type FileId = ();
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, (): ()) -> Result<&'a str, Error> {
        Ok(self.source.name)
    }

    fn source(&'a self, (): ()) -> Result<&'a str, Error> {
        Ok(&self.text)
    }

    fn line_index(&'a self, (): (), byte_index: usize) -> Result<usize, Error> {
        Ok(self.lines.partition_point(|l| l.view_start <= byte_index).saturating_sub(1))
    }

    fn line_number(&'a self, (): (), line_index: usize) -> Result<usize, Error> {
        Ok(self.first + line_index + 1)
    }

    /// The column in the source line, counted in characters as an editor counts them.
    fn column_number(&'a self, (): (), line_index: usize, byte_index: usize) -> Result<usize, Error> {
        let offset = self.to_source(line_index, byte_index);
        let start = self.source.line(self.first + line_index).start;
        Ok(self.source.text.get(start..offset).map_or(0, |t| t.chars().count()) + 1)
    }

    fn line_range(&'a self, (): (), line_index: usize) -> Result<Range<usize>, Error> {
        let start = self
            .lines
            .get(line_index)
            .map(|l| l.view_start)
            .ok_or(Error::LineTooLarge { given: line_index, max: self.lines.len().saturating_sub(1) })?;
        let end = self.lines.get(line_index + 1).map_or(self.text.len(), |l| l.view_start);
        Ok(start..end)
    }
}

/// Text as shown: characters that would drive a terminal (controls other than tab, line and
/// paragraph separators, bidirectional controls) replaced by placeholders of the same length
/// in bytes, so that offsets into the text keep their meaning.
fn push_shown(out: &mut String, text: &str) {
    for c in text.chars() {
        if c != '\t' && (c.is_control() || crate::diagnostic::is_bidi_or_separator(c)) {
            match c.len_utf8() {
                1 => out.push('?'),
                2 => out.push_str("??"),
                _ => out.push('\u{FFFD}'),
            }
        } else {
            out.push(c);
        }
    }
}

fn floor_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}
