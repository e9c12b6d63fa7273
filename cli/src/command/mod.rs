//! One module per subcommand; `engine` is what `eval` and `batch` share.
pub mod batch;
pub mod check;
pub mod collector;
pub mod compile;
pub mod doc;
pub mod engine;
pub mod eval;
pub mod facts;
pub mod fmt;
pub mod inspect;
pub mod lsp;
pub mod report;
pub mod serve;
pub mod test;
