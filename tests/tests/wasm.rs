//! The emitted module, reviewed as text: an insta snapshot of the WebAssembly the compiler
//! writes for the minimal golden rules file (support runtime and generated code), and checks
//! that compiling is deterministic and the module imports nothing.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod support;

#[test]
fn minimal_module_as_wat() {
    let source = std::fs::read_to_string(support::root().join("tests/data/check/ok/minimal.preflight")).unwrap();
    let program = preflight_compiler::check_source(&source).program.unwrap();
    let bytes = preflight_compiler::wasm::compile(&program, &source).unwrap();
    let again = preflight_compiler::wasm::compile(&program, &source).unwrap();
    assert_eq!(bytes, again, "compilation is not deterministic");
    let wat = preflight_compiler::wasm::to_wat(&bytes).unwrap();
    assert!(!wat.contains("(import"), "the module imports something");
    insta::assert_snapshot!(wat);
}

#[test]
fn acs_module_is_deterministic_and_carries_metadata() {
    let program = support::acs();
    let a = preflight_compiler::wasm::compile(program, preflight_compiler::ACS_RULES).unwrap();
    let b = preflight_compiler::wasm::compile(program, preflight_compiler::ACS_RULES).unwrap();
    assert_eq!(a, b);
    let meta = preflight_compiler::wasm::read_metadata(&a).unwrap();
    assert_eq!(meta["advisory"]["id"], "acs_2023");
    assert_eq!(meta["abi"], preflight_compiler::wasm::ABI_VERSION);
    // What a page needs to build its form from the rules alone.
    assert_eq!(meta["products"].as_array().unwrap().len(), program.products.len());
    assert_eq!(
        meta["products"][0],
        serde_json::json!({ "id": "apex_one", "name": "Trend Micro Apex One 2019 (on-premises)" })
    );
    // The Windows versions of the shared file it uses.
    let win11 = meta["oses"].as_array().unwrap().iter().find(|o| o["id"] == "win11_24h2").unwrap();
    assert_eq!(win11["builds"], serde_json::json!(["10.0.26100"]));
    assert_eq!(win11["role"], "workstation");
    assert_eq!(meta["collect"]["hotfixes"], serde_json::json!({ "hotfixes": true }));
    assert_eq!(
        meta["collect"]["os.product_type"],
        serde_json::json!({ "cim": "Win32_OperatingSystem", "property": "ProductType", "map": [["equals", "1", "workstation"], ["else", "", "server"]] })
    );
    assert_eq!(meta["roles"]["os_version"], "os.version");
    assert_eq!(meta["roles"]["product"], "product.id");
    assert_eq!(meta["collect"]["product.id"], serde_json::json!({ "uninstall": true }));
    let sb = preflight_compiler::BUILTIN_RULES.iter().find(|(n, _)| n.contains("secureboot")).unwrap().1;
    let sb_program = preflight_compiler::check_source(sb).program.unwrap();
    let sb_meta =
        preflight_compiler::wasm::read_metadata(&preflight_compiler::wasm::compile(&sb_program, sb).unwrap()).unwrap();
    assert_eq!(sb_meta["products"], serde_json::json!([]));
    assert!(sb_meta["roles"].get("product").is_none(), "no product role bound");
    assert_eq!(
        sb_meta["collect"]["servicing.status"],
        serde_json::json!({ "registry": "HKLM:\\SYSTEM\\CurrentControlSet\\Control\\SecureBoot\\Servicing", "value": "UEFICA2023Status" })
    );
}
