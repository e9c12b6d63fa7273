//! Embeds every rules file in `rules/` (the built-in advisories): a new advisory is a new file
//! there and nothing else changes.

use std::fmt::Write as _;

fn main() -> std::process::ExitCode {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| n.ends_with(".preflight"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut out = String::from("/// Every rules file in `rules/`, by file name: (`rules/NAME`, source).\n");
    out.push_str("pub const BUILTIN_RULES: &[(&str, &str)] = &[\n");
    for name in &names {
        let path = dir.join(name);
        println!("cargo:rerun-if-changed={}", path.display());
        let _ = writeln!(out, "    (\"rules/{name}\", include_str!({:?})),", path.display().to_string());
    }
    out.push_str("];\n");
    // The shared files advisories `use` (`rules/lib/`), for texts checked without a file system.
    let lib = dir.join("lib");
    println!("cargo:rerun-if-changed={}", lib.display());
    let mut libs: Vec<String> = std::fs::read_dir(&lib)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| n.ends_with(".preflight"))
                .collect()
        })
        .unwrap_or_default();
    libs.sort();
    out.push_str("/// Every shared rules file in `rules/lib/`: (`rules/lib/NAME`, source).\n");
    out.push_str("pub const BUILTIN_LIBRARY: &[(&str, &str)] = &[\n");
    for name in &libs {
        let path = lib.join(name);
        println!("cargo:rerun-if-changed={}", path.display());
        let _ = writeln!(out, "    (\"rules/lib/{name}\", include_str!({:?})),", path.display().to_string());
    }
    out.push_str("];\n");
    let target = std::path::Path::new(&std::env::var("OUT_DIR").unwrap_or_default()).join("builtin_rules.rs");
    match std::fs::write(&target, out) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cannot write {}: {e}", target.display());
            std::process::ExitCode::FAILURE
        }
    }
}
