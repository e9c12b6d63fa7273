use crate::common::{self, DiagnosticOptions};
use std::path::PathBuf;

/// `preflight collector [FILE]... [-o Get-PreflightFacts.ps1]`: the PowerShell collector for the
/// given rules files (every built-in advisory when none is given), generated from their `from`
/// declarations. Rules that carry PowerShell code (`from powershell`) are refused unless
/// `allow_code`. With `osquery`, an osquery pack instead (see [`osquery_pack`]).
pub fn run(
    files: &[PathBuf],
    out: Option<&std::path::Path>,
    allow_code: bool,
    osquery: bool,
    options: &DiagnosticOptions,
) -> Result<u8, String> {
    let mut programs = if files.is_empty() { preflight_compiler::builtin_programs()? } else { Vec::new() };
    for file in files {
        match common::load(file, options)? {
            Some(program) => programs.push(program),
            None => return Ok(1),
        }
    }
    let script = if osquery {
        osquery_pack(&programs)?
    } else {
        match preflight_compiler::collector::powershell(&programs.iter().collect::<Vec<_>>(), allow_code) {
            Ok(script) => script,
            Err(refused) => {
                eprintln!("error: {refused}");
                return Ok(1);
            }
        }
    };
    match out {
        Some(path) => {
            let inputs: Vec<crate::output::Input<'_>> = files.iter().map(|f| ("a rules file", f.as_path())).collect();
            crate::output::write_file(path, script.as_bytes(), &inputs)?;
            eprintln!("wrote {} ({} bytes)", path.display(), script.len());
        }
        None => common::out(&script)?,
    }
    Ok(0)
}

/// An osquery pack (JSON) whose scheduled queries feed `preflight facts --from osquery` with its
/// default mapping: a snapshot query per table the mapping reads, named `preflight_TABLE` (a
/// query feeds the table its name ends with), and for the registry table the keys the rules read
/// `from registry`. Everything advisory-specific comes from the rules and the mapping.
pub fn osquery_pack(programs: &[preflight_compiler::Program]) -> Result<String, String> {
    use crate::command::facts::osquery;
    let mapping = osquery::read_map(osquery::DEFAULT_MAP, "the default osquery mapping")?;
    let mut queries = serde_json::Map::new();
    let mut add = |table: &str, sql: String| {
        let query = serde_json::json!({ "query": sql, "interval": 86400, "snapshot": true, "platform": "windows" });
        queries.insert(format!("preflight_{table}"), query);
    };
    for (table, _) in &mapping.tables {
        add(table, format!("SELECT * FROM {table};"));
    }
    if let Some((table, _)) = &mapping.thumbprints {
        add(table, format!("SELECT common_name, sha1 FROM {table};"));
    }
    if let Some(table) = &mapping.registry {
        let mut keys: Vec<String> = Vec::new();
        for field in programs.iter().flat_map(|p| p.fields.iter()) {
            if let Some(fact) = field.collect.as_ref().and_then(|c| osquery::RegistryFact::of(&field.dotted(), c))
                && !keys.contains(&fact.key)
            {
                keys.push(fact.key);
            }
        }
        if !keys.is_empty() {
            let quoted: Vec<String> = keys.iter().map(|k| format!("'{}'", k.replace('\'', "''"))).collect();
            add(table, format!("SELECT key, name, data FROM {table} WHERE key IN ({});", quoted.join(", ")));
        }
    }
    let pack = serde_json::json!({ "queries": queries });
    serde_json::to_string_pretty(&pack).map(|text| text + "\n").map_err(|e| e.to_string())
}
