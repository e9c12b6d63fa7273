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
pub const ABI_VERSION: u32 = 4;

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
/// a SHA-256 of the rules source, the facts JSON Schema, and what a page needs to build a form
/// from the rules alone: the products and Windows versions they declare, and how each fact is
/// collected on Windows.
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
            "milestones": program.milestones.iter().map(|m| serde_json::json!({ "id": m.id, "title": m.title, "date": m.date.to_string() })).collect::<Vec<_>>(),
        },
        "compiler": format!("preflight {}", env!("CARGO_PKG_VERSION")),
        "rules_sha256": hex,
        "facts_schema": crate::schema::facts_schema(program),
        "products": program.products.iter().map(|p| serde_json::json!({ "id": p.id, "name": p.name })).collect::<Vec<_>>(),
        "oses": program.oses.iter().map(|os| {
            let role = os.role.and_then(|r| role_name(program, r));
            serde_json::json!({ "id": os.id, "name": os.name, "builds": os.builds.iter().map(crate::ir::BuildPattern::text).collect::<Vec<_>>(), "role": role })
        }).collect::<Vec<_>>(),
        "links": a.links,
        "roles": roles(program),
        "collect": program.fields.iter().filter_map(|f| f.collect.as_ref().map(|c| (f.dotted(), collect_text(c)))).collect::<serde_json::Map<_, _>>(),
    })
}

/// Which fact plays each host role the rules bind (dotted paths).
fn roles(program: &Program) -> serde_json::Map<String, serde_json::Value> {
    let h = &program.host;
    let bound = [
        ("product", h.product),
        ("product_version", h.product_version),
        ("platform", h.platform),
        ("os_version", h.os_version),
        ("os_role", h.os_role),
        ("hotfixes", h.hotfixes),
        ("evaluation_date", h.evaluation_date),
    ];
    bound
        .into_iter()
        .filter_map(|(role, f)| Some((role.to_string(), serde_json::json!(program.fields.get(f?)?.dotted()))))
        .collect()
}

fn role_name(program: &Program, role: usize) -> Option<String> {
    let field = program.host.os_role.and_then(|f| program.fields.get(f))?;
    match &field.ty {
        crate::ir::Type::Enum(variants) => variants.get(role).cloned(),
        _ => None,
    }
}

/// How a fact is collected, in words a person can follow by hand: the source (`{"registry": KEY,
/// "value": NAME}`, ...), or `{"join": [[TEXT, SOURCE], ...], "suffix": TEXT}` for joined pieces,
/// with `"map": [[KIND, KEY, VALUE], ...]` when what is read is mapped (KIND: `equals`,
/// `matches`, a comparison `>=` `>` `<=` `<` `==` `!=` of whole numbers, `else`, `missing`).
fn collect_text(c: &crate::ir::Collect) -> serde_json::Value {
    use crate::ir::{MapKey, MapValue};
    let mut value = match c.pieces.as_slice() {
        [(before, source)] if before.is_empty() && c.suffix.is_empty() => source_text(source),
        pieces => serde_json::json!({
            "join": pieces.iter().map(|(before, source)| serde_json::json!([before, source_text(source)])).collect::<Vec<_>>(),
            "suffix": c.suffix,
        }),
    };
    if !c.map.is_empty()
        && let Some(object) = value.as_object_mut()
    {
        let entries: Vec<serde_json::Value> = c
            .map
            .iter()
            .map(|(key, to)| {
                let (kind, key) = match key {
                    MapKey::Equals(key) => ("equals", key.clone()),
                    MapKey::Matches(pattern) => ("matches", pattern.clone()),
                    MapKey::Compare(op, n) => (op.symbol(), n.to_string()),
                    MapKey::Else => ("else", String::new()),
                    MapKey::Missing => ("missing", String::new()),
                };
                let to = match to {
                    MapValue::Text(text) => serde_json::json!(text),
                    MapValue::Int(n) => serde_json::json!(n),
                    MapValue::Bool(b) => serde_json::json!(b),
                };
                serde_json::json!([kind, key, to])
            })
            .collect();
        object.insert("map".into(), entries.into());
    }
    value
}

fn source_text(source: &crate::ir::Source) -> serde_json::Value {
    use crate::ir::Source;
    match source {
        Source::Registry { key, value } => serde_json::json!({ "registry": key, "value": value }),
        Source::Cim { class, property } => serde_json::json!({ "cim": class, "property": property }),
        Source::Env(name) => serde_json::json!({ "env": name }),
        Source::FileVersion(path) => serde_json::json!({ "file_version": path }),
        Source::PowerShell(expression) => serde_json::json!({ "powershell": expression }),
        Source::CertStore { store, thumbprint } => serde_json::json!({ "cert_store": store, "thumbprint": thumbprint }),
        Source::Uefi { variable, name } => serde_json::json!({ "uefi": variable, "certificate": name }),
        Source::Hotfixes => serde_json::json!({ "hotfixes": true }),
        Source::Uninstall => serde_json::json!({ "uninstall": true }),
        Source::UninstallEntry(pattern) => serde_json::json!({ "uninstall": pattern }),
    }
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
