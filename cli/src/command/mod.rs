//! One module per subcommand.
pub mod check;
pub mod eval;
pub mod fmt;
pub mod test;
