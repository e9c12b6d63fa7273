//! Satisfiability lints: rules that can never fire (P0200), rules another rule makes redundant
//! (P0201), and rules that can fire together with contradictory outcomes (P0202).
use crate::diagnostic::Diagnostic;
use crate::ir::Program;

pub fn analyse(_program: &Program) -> Vec<Diagnostic> {
    Vec::new()
}
