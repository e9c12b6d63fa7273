//! One module per subcommand.
pub mod check;
pub mod doc;
pub mod eval;
pub mod fmt;
pub mod test;
