//! Canonical formatting (placeholder until the printer lands).
pub fn format_source(source: &str) -> Result<String, crate::Diagnostic> {
    crate::syntax::parse(source).map(|_| source.to_string())
}
