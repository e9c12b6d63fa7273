//! Rules files that `use` others. The files a rules file uses (and those they use) are resolved
//! at compile time into one text the parser reads — each used file before the files that use
//! it, the file itself last — and [`Bundle`] remembers where each file's text lies in it, so that
//! diagnostics, lines and editors speak of the right file. The module compiled from a bundle is
//! one self-contained module, as from a single file.

use crate::ast::Span;
use crate::diagnostic::{Diagnostic, line_col};

/// Where one file's text lies in the bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    /// The file's name as diagnostics show it (`rules/lib/windows.preflight`).
    pub name: String,
    pub start: usize,
    pub len: usize,
}

/// The text of a rules file and every file it uses, and where each one is.
#[derive(Clone, Debug)]
pub struct Bundle {
    pub text: String,
    /// In bundle order: used files first, the file itself last.
    pub files: Vec<SourceFile>,
    /// Each `use` followed: the `use` item's path span (bundle offsets) and the used file's name.
    pub uses: Vec<(Span, String)>,
}

/// How `use "PATH"` finds a file: from the name of the file that uses it and the path written,
/// the used file's name and text, or why not.
pub type Loader<'a> = dyn FnMut(&str, &str) -> Result<(String, String), String> + 'a;

/// The most files one bundle may hold (a `use` chain longer than this is surely a mistake, and
/// the bound keeps hostile inputs small).
pub const MAX_FILES: usize = 64;

impl Bundle {
    /// A file that uses nothing.
    pub fn single(name: &str, text: &str) -> Bundle {
        Bundle {
            text: text.to_string(),
            files: vec![SourceFile { name: name.to_string(), start: 0, len: text.len() }],
            uses: Vec::new(),
        }
    }

    /// The file itself (the last).
    pub fn main(&self) -> &SourceFile {
        self.files.last().unwrap_or(&EMPTY)
    }

    /// The file a bundle offset is in.
    pub fn file_at(&self, offset: u32) -> &SourceFile {
        let offset = offset as usize;
        self.files.iter().find(|f| offset >= f.start && offset <= f.start + f.len).unwrap_or(self.main())
    }

    /// A file's own text.
    pub fn text_of(&self, file: &SourceFile) -> &str {
        self.text.get(file.start..file.start + file.len).unwrap_or("")
    }

    /// The 1-based line of a bundle offset in its own file.
    pub fn line(&self, offset: u32) -> usize {
        let file = self.file_at(offset);
        let local = (offset as usize).saturating_sub(file.start);
        line_col(self.text_of(file), u32::try_from(local).unwrap_or(0)).0
    }

    /// Whether a span is in the file itself (not in a file it uses).
    pub fn in_main(&self, span: Span) -> bool {
        span.start as usize >= self.main().start
    }

    /// A diagnostic as its own file shows it: the file, and the diagnostic with spans local to
    /// it; a label in another file becomes a note naming that file, line and column.
    pub fn localize(&self, d: &Diagnostic) -> (&SourceFile, Diagnostic) {
        let file = self.file_at(d.primary.span.start);
        let shift = |span: Span| {
            let s = (span.start as usize).saturating_sub(file.start);
            let e = (span.end as usize).saturating_sub(file.start).min(file.len);
            Span::new(s, e.max(s))
        };
        let mut local = d.clone();
        local.primary.span = shift(d.primary.span);
        local.secondary = Vec::new();
        if let Some(fix) = &mut local.fix {
            fix.span = shift(fix.span);
        }
        for label in &d.secondary {
            let other = self.file_at(label.span.start);
            if other == file {
                let mut l = label.clone();
                l.span = shift(label.span);
                local.secondary.push(l);
            } else {
                let at = (label.span.start as usize).saturating_sub(other.start);
                let (line, col) = line_col(self.text_of(other), u32::try_from(at).unwrap_or(0));
                local.notes.push(format!("{}: {}:{line}:{col}", label.message, other.name));
            }
        }
        (file, local)
    }
}

static EMPTY: SourceFile = SourceFile { name: String::new(), start: 0, len: 0 };

/// One `use` of a file: the path written and where.
struct Use {
    path: String,
    span: Span,
}

/// The `use` items of a file (none when it does not parse: the bundle's parse reports that).
fn uses(text: &str) -> Vec<Use> {
    crate::syntax::use_items(text)
        .into_iter()
        .map(|(raw, span)| Use { path: crate::json::decode(&raw), span })
        .collect()
}

/// Resolves the files `name` uses, transitively: the bundle, and a diagnostic for each `use`
/// that cannot be followed (a missing file, a cycle, too many files) at that `use`.
pub fn resolve(name: &str, text: &str, load: &mut Loader<'_>) -> (Bundle, Vec<Diagnostic>) {
    struct Found {
        name: String,
        text: String,
    }
    // Depth first; a file is placed after every file it uses.
    let mut files: Vec<Found> = vec![Found { name: name.to_string(), text: text.to_string() }];
    let mut order: Vec<usize> = Vec::new();
    // (file index, local span, message, help)
    let mut problems: Vec<(usize, Span, String, String)> = Vec::new();
    // (file index, local span, used file's name)
    let mut followed: Vec<(usize, Span, String)> = Vec::new();
    let mut stack: Vec<(usize, Vec<Use>, usize)> = vec![(0, uses(text), 0)];
    while let Some((at, file_uses, next)) = stack.last_mut() {
        let (at, next_use) = (*at, file_uses.get(*next).map(|u| (u.path.clone(), u.span)));
        *next += 1;
        let Some((path, span)) = next_use else {
            order.push(at);
            stack.pop();
            continue;
        };
        let from = files.get(at).map(|f| f.name.clone()).unwrap_or_default();
        let (used_name, used_text) = match load(&from, &path) {
            Ok(found) => found,
            Err(why) => {
                problems.push((
                    at,
                    span,
                    format!("cannot use `{path}`: {why}"),
                    "check the path: it is relative to this file's folder".into(),
                ));
                continue;
            }
        };
        if let Some(open) = stack.iter().position(|(f, _, _)| files.get(*f).is_some_and(|x| x.name == used_name)) {
            let chain: Vec<String> = stack
                .get(open..)
                .unwrap_or_default()
                .iter()
                .filter_map(|(f, _, _)| files.get(*f).map(|x| x.name.clone()))
                .chain(std::iter::once(used_name.clone()))
                .collect();
            problems.push((
                at,
                span,
                format!("`use` cycle: {}", chain.join(" uses ")),
                "a file cannot use itself, directly or through others: move what both need into a third file".into(),
            ));
            continue;
        }
        followed.push((at, span, used_name.clone()));
        if files.iter().any(|f| f.name == used_name) {
            continue; // already placed (or being placed on another branch): once is enough
        }
        if files.len() >= MAX_FILES {
            problems.push((
                at,
                span,
                format!("too many files: more than {MAX_FILES} in one `use` chain"),
                "use fewer files".into(),
            ));
            continue;
        }
        files.push(Found { name: used_name, text: used_text.clone() });
        stack.push((files.len() - 1, uses(&used_text), 0));
    }
    // Lay the files out: each followed by a line end, so that no line runs into the next file.
    let mut bundle = Bundle { text: String::new(), files: Vec::new(), uses: Vec::new() };
    let mut starts = vec![0usize; files.len()];
    for &i in &order {
        let Some(f) = files.get(i) else { continue };
        if let Some(s) = starts.get_mut(i) {
            *s = bundle.text.len();
        }
        bundle.files.push(SourceFile { name: f.name.clone(), start: bundle.text.len(), len: f.text.len() });
        bundle.text.push_str(&f.text);
        bundle.text.push('\n');
    }
    for (file, span, used) in followed {
        let start = starts.get(file).copied().unwrap_or(0);
        bundle.uses.push((Span::new(start + span.start as usize, start + span.end as usize), used));
    }
    let diagnostics = problems
        .into_iter()
        .map(|(file, span, message, help)| {
            let start = starts.get(file).copied().unwrap_or(0);
            let global = Span::new(start + span.start as usize, start + span.end as usize);
            Diagnostic::error("P0113", message, global, "here").with_help(help)
        })
        .collect();
    (bundle, diagnostics)
}

/// The built-in library files (`rules/lib/`), for texts checked without a file system (the
/// playground, `check_source`): a `use` path is resolved against `rules/` and looked up here.
pub fn builtin_loader(
    library: &'static [(&'static str, &'static str)],
) -> impl FnMut(&str, &str) -> Result<(String, String), String> {
    move |from: &str, path: &str| {
        let name = join(from, path);
        library
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(n, t)| ((*n).to_string(), (*t).to_string()))
            .ok_or_else(|| format!("no built-in file `{name}`"))
    }
}

/// Files on disk, relative to the file that uses them; a shared file of the built-in library
/// (`use "lib/windows.preflight"`) when the file is not there, so that an advisory copied out of
/// `rules/` still finds the shared Windows file. (Not for wasm32: the pages have no disk.)
pub fn disk_loader(
    library: &'static [(&'static str, &'static str)],
) -> impl FnMut(&str, &str) -> Result<(String, String), String> {
    let mut builtin = builtin_loader(library);
    move |from: &str, path: &str| {
        let name = join(from, path);
        match std::fs::read_to_string(&name) {
            Ok(text) => Ok((name, text)),
            Err(e) => builtin("rules/_.preflight", path).map_err(|_| format!("cannot read `{name}`: {e}")),
        }
    }
}

/// `path` relative to the folder of the file `from` (`/`-separated; `..` goes up).
pub fn join(from: &str, path: &str) -> String {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}
