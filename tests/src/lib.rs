//! Shared test material: deterministic generators of host facts (for the differential tests and
//! the benchmarks): one written for the ACS advisory, one driven by any rules file's schema. The integration tests live in `tests/tests/`, their data in `tests/data/`.

pub mod hosts;
pub mod schema_hosts;
