//! Step three (b): IR → a self-contained WebAssembly module.
//!
//! The module is the support runtime (`support.wat`, source kept here, parsed at compile time)
//! linked with code generated from the IR by [`codegen`]: reading each declared fact, deriving
//! the host values, every rule's condition and the verdict writer, with every constant string of
//! the answer precomputed. [`link`] re-encodes the support functions and appends the generated
//! ones; the result is validated with wasmparser before it is returned.
//!
//! **Invariant:** the module imports nothing and answers exactly what the interpreter answers
//! (`answer`), byte for byte. The ABI is described in `docs/abi.md`.

mod codegen;
mod link;

use crate::ir::Program;

/// The version of the module ABI (exports, memory protocol, answer format).
pub const ABI_VERSION: u32 = 2;

/// The support runtime's source.
const SUPPORT_WAT: &str = include_str!("support.wat");

/// Compiles a checked program to module bytes. `source` is the rules text (hashed into the
/// metadata). Deterministic: the same program and source give the same bytes.
pub fn compile(program: &Program, source: &str) -> Result<Vec<u8>, String> {
    let support = wat::parse_str(SUPPORT_WAT).map_err(|e| format!("support runtime: {e}"))?;
    let symbols = link::symbols(&support)?;
    let generated = codegen::generate(program, &symbols)?;
    let metadata = metadata(program, source);
    let bytes = link::link(&support, generated, &metadata)?;
    validate(&bytes)?;
    Ok(bytes)
}

/// Validates module bytes with wasmparser.
pub fn validate(bytes: &[u8]) -> Result<(), String> {
    wasmparser::Validator::new().validate_all(bytes).map(|_| ()).map_err(|e| format!("invalid module: {e}"))
}

/// The module as WebAssembly text, for review.
pub fn to_wat(bytes: &[u8]) -> Result<String, String> {
    wasmprinter::print_bytes(bytes).map_err(|e| e.to_string())
}

/// The name of the custom section that carries the metadata.
pub const METADATA_SECTION: &str = "preflight";

/// What a host can learn about a module without running it: ABI version, advisory, compiler,
/// a SHA-256 of the rules source, and the facts JSON Schema.
pub fn metadata(program: &Program, source: &str) -> serde_json::Value {
    use sha2::Digest;
    let hash = sha2::Sha256::digest(source.as_bytes());
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    let a = &program.advisory;
    serde_json::json!({
        "abi": ABI_VERSION,
        "advisory": {
            "id": a.id,
            "title": a.title,
            "source": a.source,
            "published": a.published.map(|d| d.to_string()),
            "updated": a.updated.map(|d| d.to_string()),
            "cutover": a.cutover.map(|d| d.to_string()),
        },
        "compiler": format!("preflight {}", env!("CARGO_PKG_VERSION")),
        "rules_sha256": hex,
        "facts_schema": crate::schema::facts_schema(program),
    })
}

/// Reads the metadata section of module bytes.
pub fn read_metadata(bytes: &[u8]) -> Result<serde_json::Value, String> {
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        if let wasmparser::Payload::CustomSection(section) = payload.map_err(|e| e.to_string())?
            && section.name() == METADATA_SECTION
        {
            return serde_json::from_slice(section.data()).map_err(|e| format!("metadata is not JSON: {e}"));
        }
    }
    Err(format!("the module has no `{METADATA_SECTION}` section: it was not made by preflight"))
}
