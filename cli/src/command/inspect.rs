use crate::common;
use std::path::Path;

/// `preflight inspect M.wasm`: the metadata section, the exports and the size.
pub fn run(path: &Path) -> Result<u8, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    common::check_wasm(path, &bytes)?;
    let mut metadata = preflight_compiler::wasm::read_metadata(&bytes)
        .map_err(|e| format!("`{}` is not a Preflight module: {e}", path.display()))?;
    if let Some(map) = metadata.as_object_mut() {
        map.insert("module_bytes".into(), bytes.len().into());
    }
    common::out(&format!("{}\n", serde_json::to_string_pretty(&metadata).map_err(|e| e.to_string())?))?;
    Ok(0)
}
