//! A document as the editors see it: its parse, and the files it `use`s resolved and parsed with
//! it, so that names those files declare (the shared Windows versions, say) resolve, complete and
//! hover like the document's own. The language server resolves `use` from disk, the playground
//! from the built-in library: each passes its loader.

use crate::{Declaration, Index, Occurrence, declarations};
use preflight_compiler::ast;
use preflight_compiler::bundle::{self, Bundle, Loader};
use std::collections::HashMap;
use std::sync::Arc;

/// A parsed document and the files it uses.
pub struct Analysis {
    file: ast::File,
    /// The bundle of the document and the files it uses, and its parse (`None`: it uses none).
    used: Option<(Bundle, ast::File)>,
}

impl Analysis {
    /// The analysis of `text` (named `name`, which `use` paths are relative to), or `None` when
    /// it does not parse.
    pub fn new(name: &str, text: &str, load: &mut Loader<'_>) -> Option<Analysis> {
        Some(Analysis::of(preflight_compiler::syntax::parse(text).ok()?, name, text, load))
    }

    /// As [`Analysis::new`], but a text that does not parse is read without its broken items
    /// (offsets kept): what is being typed rarely parses, and the rest of the file still
    /// declares its names.
    pub fn recovering(name: &str, text: &str, load: &mut Loader<'_>) -> Option<Analysis> {
        let file = match preflight_compiler::syntax::parse(text) {
            Ok(file) => file,
            Err(_) => preflight_compiler::syntax::parse_recovering(text).file?,
        };
        Some(Analysis::of(file, name, text, load))
    }

    /// The analysis of a parsed document.
    pub fn of(file: ast::File, name: &str, text: &str, load: &mut Loader<'_>) -> Analysis {
        let used = file.items.iter().any(|i| matches!(i, ast::Item::Use(_))).then(|| {
            let (bundle, _) = bundle::resolve(name, text, load);
            // The document may be one that only parses without its broken items.
            let all = match preflight_compiler::syntax::parse(&bundle.text) {
                Ok(all) => Some(all),
                Err(_) => preflight_compiler::syntax::parse_recovering(&bundle.text).file,
            };
            all.map(|all| (bundle, all))
        });
        Analysis { file, used: used.flatten() }
    }

    /// The document's own parse.
    pub fn file(&self) -> &ast::File {
        &self.file
    }

    /// The document's index; the files it uses resolve its names too.
    pub fn index(&self, text: &str) -> Index {
        let used: Vec<&ast::File> = self.used.iter().map(|(_, all)| all).collect();
        Index::new(&self.file, text, &used)
    }

    /// The names the document declares and those of the files it uses, each with where it is
    /// declared (`origin` set for another file's, with that file's text).
    pub fn declarations(&self, text: &str) -> Vec<Declaration> {
        let Some((bundle, all)) = &self.used else { return declarations(&self.file, text) };
        let main = bundle.main().clone();
        let mut origins: HashMap<String, Arc<(String, String)>> = HashMap::new();
        declarations(all, &bundle.text)
            .into_iter()
            .map(|mut d| {
                let f = bundle.file_at(u32::try_from(d.name_span.0).unwrap_or(0)).clone();
                let shift = |(a, b): (usize, usize)| (a.saturating_sub(f.start), b.saturating_sub(f.start));
                d.name_span = shift(d.name_span);
                d.span = shift(d.span);
                if f != main {
                    let origin = origins
                        .entry(f.name.clone())
                        .or_insert_with(|| Arc::new((f.name.clone(), bundle.text_of(&f).to_string())));
                    d.origin = Some(origin.clone());
                }
                d
            })
            .collect()
    }

    /// The declaration of what the occurrence names, here or in a used file.
    pub fn declaration_of(&self, text: &str, o: &Occurrence) -> Option<Declaration> {
        crate::declaration_of(&self.declarations(text), o).cloned()
    }

    /// What hover shows at `offset`: the span of the name there and Markdown about it.
    pub fn hover(&self, text: &str, offset: usize) -> Option<((usize, usize), String)> {
        let index = self.index(text);
        let o = index.at(offset)?;
        let declared = self.declaration_of(text, o)?;
        Some((o.span, crate::hover(&declared, text)?))
    }
}
