//! Shared test material: a deterministic generator of host facts (for the differential test and
//! the benchmarks). The integration tests live in `tests/tests/`, their data in `tests/data/`.

pub mod hosts;
