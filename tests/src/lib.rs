//! Shared test material: deterministic generators of host facts (for the differential tests and
//! the benchmarks): one written for the ACS advisory, one driven by any rules file's schema; and
//! a language-server client (the CLI's tests and the benchmark drive `preflight lsp` with it). The integration tests live in `tests/tests/`, their data in `tests/data/`.

pub mod hosts;
pub mod lsp_client;
pub mod scale;
pub mod schema_hosts;
