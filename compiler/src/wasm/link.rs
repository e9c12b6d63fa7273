//! The linker: the support module's sections, re-encoded, followed by the generated functions.
//!
//! Support functions keep their indices (they come first and never call generated code), so
//! their bodies are copied unchanged. The generated code refers to support functions and
//! globals through the support module's `f.*` / `g.*` exports, which the linker then drops.

use super::codegen::Generated;
use std::collections::BTreeMap;
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{
    CodeSection, ConstExpr, CustomSection, DataSection, ExportKind, ExportSection, FunctionSection, GlobalSection,
    MemorySection, MemoryType, Module, NameMap, NameSection, TypeSection,
};
use wasmparser::{Parser, Payload};

/// What the generated code needs to know about the support module.
#[derive(Default, Debug)]
pub struct Symbols {
    pub functions: BTreeMap<String, u32>,
    pub globals: BTreeMap<String, u32>,
    pub function_count: u32,
    pub type_count: u32,
}

/// Reads the support module's exports and counts.
pub fn symbols(support: &[u8]) -> Result<Symbols, String> {
    let mut s = Symbols::default();
    for payload in Parser::new(0).parse_all(support) {
        match payload.map_err(|e| e.to_string())? {
            Payload::TypeSection(r) => s.type_count = r.count(),
            Payload::FunctionSection(r) => s.function_count = r.count(),
            Payload::ExportSection(r) => {
                for export in r {
                    let export = export.map_err(|e| e.to_string())?;
                    match export.kind {
                        wasmparser::ExternalKind::Func => s.functions.insert(export.name.to_string(), export.index),
                        wasmparser::ExternalKind::Global => s.globals.insert(export.name.to_string(), export.index),
                        _ => None,
                    };
                }
            }
            _ => {}
        }
    }
    Ok(s)
}

pub fn link(support: &[u8], generated: Generated, metadata: &serde_json::Value) -> Result<Vec<u8>, String> {
    let symbols = symbols(support)?;
    let mut types = TypeSection::new();
    let mut functions = FunctionSection::new();
    let mut memory = MemorySection::new();
    let mut globals = GlobalSection::new();
    let mut exports = ExportSection::new();
    let mut code = CodeSection::new();
    let mut data = DataSection::new();
    let mut names = NameMap::new();
    let mut re = RoundtripReencoder;
    let err = |e: &dyn std::fmt::Display| e.to_string();
    for payload in Parser::new(0).parse_all(support) {
        match payload.map_err(|e| e.to_string())? {
            Payload::TypeSection(r) => re.parse_type_section(&mut types, r).map_err(|e| err(&e))?,
            Payload::FunctionSection(r) => {
                for ty in r {
                    functions.function(ty.map_err(|e| e.to_string())?);
                }
            }
            Payload::MemorySection(r) => {
                for m in r {
                    let m = m.map_err(|e| e.to_string())?;
                    memory.memory(MemoryType {
                        minimum: generated.min_pages.max(m.initial),
                        maximum: m.maximum,
                        memory64: false,
                        shared: false,
                        page_size_log2: None,
                    });
                }
            }
            Payload::GlobalSection(r) => {
                let heap = symbols.globals.get("g.heap_base").copied();
                let bump = symbols.globals.get("g.bump").copied();
                for (index, g) in r.into_iter().enumerate() {
                    let g = g.map_err(|e| e.to_string())?;
                    let index = u32::try_from(index).map_err(|e| err(&e))?;
                    let ty = re.global_type(g.ty).map_err(|e| err(&e))?;
                    // The dynamic heap starts after the generated constants.
                    let init = if Some(index) == heap || Some(index) == bump {
                        ConstExpr::i32_const(i32::try_from(generated.heap_base).map_err(|e| err(&e))?)
                    } else {
                        re.const_expr(g.init_expr).map_err(|e| err(&e))?
                    };
                    globals.global(ty, &init);
                }
            }
            Payload::ExportSection(r) => {
                for export in r {
                    let export = export.map_err(|e| e.to_string())?;
                    if export.name.starts_with("f.") || export.name.starts_with("g.") {
                        continue;
                    }
                    let kind = match export.kind {
                        wasmparser::ExternalKind::Func => ExportKind::Func,
                        wasmparser::ExternalKind::Memory => ExportKind::Memory,
                        wasmparser::ExternalKind::Global => ExportKind::Global,
                        _ => continue,
                    };
                    exports.export(export.name, kind, export.index);
                }
            }
            Payload::CodeSectionEntry(body) => re.parse_function_body(&mut code, body).map_err(|e| err(&e))?,
            Payload::DataSection(r) => re.parse_data_section(&mut data, r).map_err(|e| err(&e))?,
            Payload::CustomSection(c) if c.name() == "name" => {
                if let wasmparser::KnownCustom::Name(reader) = c.as_known() {
                    for name in reader {
                        if let Ok(wasmparser::Name::Function(map)) = name {
                            for naming in map.into_iter().flatten() {
                                names.append(naming.index, naming.name);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    for signature in &generated.types {
        types.ty().function(signature.0.iter().copied(), signature.1.iter().copied());
    }
    for (i, f) in generated.functions.iter().enumerate() {
        let index = symbols.function_count + u32::try_from(i).map_err(|e| err(&e))?;
        functions.function(symbols.type_count + f.type_offset);
        code.function(&f.body);
        names.append(index, &f.name);
        if let Some(export) = &f.export {
            exports.export(export, ExportKind::Func, index);
        }
    }
    data.active(
        0,
        &ConstExpr::i32_const(i32::try_from(generated.data_base).map_err(|e| err(&e))?),
        generated.data.iter().copied(),
    );

    let mut module = Module::new();
    module.section(&types);
    module.section(&functions);
    module.section(&memory);
    module.section(&globals);
    module.section(&exports);
    module.section(&wasm_encoder::DataCountSection { count: data.len() });
    module.section(&code);
    module.section(&data);
    let mut name_section = NameSection::new();
    name_section.functions(&names);
    module.section(&name_section);
    let metadata = serde_json::to_vec(metadata).map_err(|e| err(&e))?;
    module.section(&CustomSection { name: super::METADATA_SECTION.into(), data: metadata.into() });
    Ok(module.finish())
}
