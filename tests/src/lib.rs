//! Integration tests live in `tests/tests/`; their data in `tests/data/`.
