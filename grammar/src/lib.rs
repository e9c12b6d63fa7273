//! The grammar of the Preflight rules language.
//!
//! `preflight.pest` beside this crate is the single source of the syntax; this crate only derives
//! the pest parser from it. Turning the parse tree into an AST is the compiler's job
//! (`preflight_compiler::syntax`), which matches every [`Rule`] exhaustively so that grammar and
//! AST cannot drift apart silently.

use pest_derive::Parser;

/// The pest parser for `preflight.pest`.
#[derive(Parser)]
#[grammar = "../preflight.pest"]
pub struct PreflightParser;

pub use pest;
