//! osquery's scheduled query results (the JSON Lines its filesystem logger writes, snapshot or
//! differential) → one facts document per host, in the order hosts first appear.
//!
//! Which table feeds which fact is data: `osquery.toml` beside this file is the default mapping,
//! a `--map` file replaces it. A query feeds the section of the table its name ends with.

use super::{Products, Readings, Target, check_paths, convert, insert};
use preflight_compiler::ir::{Collect, MapKey, MapValue, Source, Type};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The default mapping, for osquery's standard tables.
pub const DEFAULT_MAP: &str = include_str!("osquery.toml");

/// One fact a table feeds: a text made of the row's columns, and optionally values chosen by
/// patterns on that text.
pub struct Rule {
    fact: String,
    text: String,
    values: Vec<(String, regex_lite::Regex)>,
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Entry {
    Text(String),
    Values { text: String, values: Vec<(String, String)> },
}

/// A mapping: table → the facts it feeds, and the table (and text) that lists the thumbprints of
/// the certificates a host holds.
pub struct Mapping {
    pub tables: Vec<(String, Vec<Rule>)>,
    pub thumbprints: Option<(String, String)>,
    /// The table of registry values (osquery's `registry`: `key`, `name`, `data` columns) that
    /// feeds every fact the rules read `from registry`.
    pub registry: Option<String>,
    /// The table of installed programs and the texts of a row's name and version, which feed
    /// every fact the rules read `from uninstall "PATTERN"`.
    pub uninstall: Option<(String, String, String)>,
}

/// The section that names the certificates table rather than a table of its own.
const THUMBPRINTS: &str = "thumbprints";
/// The section that names the installed programs table for `from uninstall "PATTERN"` facts.
const UNINSTALL: &str = "uninstall";
/// The section that names the registry table.
const REGISTRY: &str = "registry";

/// A fact the rules read from one registry value (`from registry "KEY" "NAME" [map {...}]`).
pub struct RegistryFact {
    pub fact: String,
    /// The key as osquery writes it (`HKEY_LOCAL_MACHINE\...`).
    pub key: String,
    name: String,
    map: Vec<(MapKey, MapValue)>,
}

impl RegistryFact {
    /// The registry value a fact is read from, when it is exactly one (no text joined to it).
    pub fn of(fact: &str, collect: &Collect) -> Option<RegistryFact> {
        let [(before, Source::Registry { key, value })] = collect.pieces.as_slice() else { return None };
        if !before.is_empty() || !collect.suffix.is_empty() {
            return None;
        }
        // PowerShell's drive names → the hive names osquery's `key` column uses.
        let hives =
            [("HKLM:\\", "HKEY_LOCAL_MACHINE\\"), ("HKCU:\\", "HKEY_CURRENT_USER\\"), ("HKU:\\", "HKEY_USERS\\")];
        let key = hives
            .iter()
            .find_map(|(drive, hive)| {
                let head = key.get(..drive.len())?;
                head.eq_ignore_ascii_case(drive)
                    .then(|| format!("{hive}{}", key.get(drive.len()..).unwrap_or_default()))
            })
            .unwrap_or_else(|| key.clone());
        Some(RegistryFact { fact: fact.to_string(), key, name: value.clone(), map: collect.map.clone() })
    }

    /// What a host's registry rows (from a query that read the fact's key) say of the fact: the
    /// value's data through the rules' `map`, as the PowerShell collector maps it; `None` when
    /// the value is not set (no row for it: the key or the value is absent) and no `missing`
    /// entry says what that means.
    fn read(&self, rows: &[BTreeMap<String, String>]) -> Option<String> {
        let data = rows
            .iter()
            .filter(|r| r.get("key").is_some_and(|k| k.trim_end_matches('\\').eq_ignore_ascii_case(&self.key)))
            .find(|r| r.get("name").is_some_and(|n| n.eq_ignore_ascii_case(&self.name)))
            .and_then(|r| r.get("data"))
            .map(|d| d.trim().to_string());
        mapped(&self.map, data)
    }
}

/// What was read, through the rules' `map` as the PowerShell collector maps it: `eq` ignoring
/// case, `matches` a pattern, a comparison of whole numbers, `else`, `missing`; no map, as read.
fn mapped(map: &[(MapKey, MapValue)], data: Option<String>) -> Option<String> {
    if map.is_empty() {
        return data;
    }
    let number = data.as_deref().and_then(|d| d.trim().parse::<i64>().ok());
    let chosen = map.iter().find(|(key, _)| match (key, &data) {
        (MapKey::Missing, None) => true,
        (MapKey::Else, Some(_)) => true,
        (MapKey::Equals(k), Some(d)) => k.eq_ignore_ascii_case(d),
        (MapKey::Matches(p), Some(d)) => regex_lite::Regex::new(p).is_ok_and(|r| r.is_match(d)),
        (MapKey::Compare(op, k), Some(_)) => {
            number.is_some_and(|n| preflight_compiler::ast::CmpOp::holds(*op, n.cmp(k)))
        }
        _ => false,
    });
    chosen.map(|(_, value)| match value {
        MapValue::Text(t) => t.clone(),
        MapValue::Int(n) => n.to_string(),
        MapValue::Bool(b) => b.to_string(),
    })
}

/// A fact the rules read from the version of an installed program (`from uninstall "PATTERN"
/// [map {...}]`).
pub struct ProgramFact {
    pub fact: String,
    pattern: regex_lite::Regex,
    map: Vec<(MapKey, MapValue)>,
}

impl ProgramFact {
    /// The program a fact is read from, when its `from` is exactly one `uninstall "PATTERN"`;
    /// an error when the pattern is not one the inventory can use.
    pub fn of(fact: &str, collect: &Collect) -> Option<Result<ProgramFact, String>> {
        let [(before, Source::UninstallEntry(pattern))] = collect.pieces.as_slice() else { return None };
        if !before.is_empty() || !collect.suffix.is_empty() {
            return None;
        }
        // PowerShell's `-match` ignores case.
        Some(
            regex_lite::Regex::new(&format!("(?i){pattern}"))
                .map(|pattern| ProgramFact { fact: fact.to_string(), pattern, map: collect.map.clone() })
                .map_err(|e| format!("the uninstall pattern of `{fact}` ({pattern}) is not usable: {e}")),
        )
    }

    /// The version of the first program whose name matches, through the rules' `map`.
    fn read(&self, rows: &[BTreeMap<String, String>], name: &str, version: &str) -> Option<String> {
        let data = rows.iter().find(|row| self.pattern.is_match(&render(name, row))).map(|row| render(version, row));
        mapped(&self.map, data.filter(|v| !v.is_empty()))
    }
}

/// Reads a mapping.
pub fn read_map(text: &str, origin: &str) -> Result<Mapping, String> {
    let mut tables: BTreeMap<String, toml::Table> = toml::from_str(text).map_err(|e| {
        format!(
            "{origin} is not an osquery mapping: {e}\n  write a section per table and a line per fact: \
             [os_version] \"os.version\" = \"{{major}}.{{minor}}.{{build}}.{{revision}}\""
        )
    })?;
    let uninstall = match tables.remove(UNINSTALL) {
        None => None,
        Some(section) => {
            let field = |key: &str| section.get(key).and_then(toml::Value::as_str).map(str::to_string);
            match (field("table"), field("name"), field("version")) {
                (Some(table), Some(name), Some(version)) => Some((table, name, version)),
                _ => {
                    return Err(format!(
                        "{origin}, [{UNINSTALL}]: name the table of installed programs and a row's name and version: table = \"programs\", name = \"{{name}}\", version = \"{{version}}\""
                    ));
                }
            }
        }
    };
    let registry = match tables.remove(REGISTRY) {
        None => None,
        Some(section) => match section.get("table").and_then(toml::Value::as_str) {
            Some(table) => Some(table.to_string()),
            None => {
                return Err(format!("{origin}, [{REGISTRY}]: name the table of registry values: table = \"registry\""));
            }
        },
    };
    let thumbprints = match tables.remove(THUMBPRINTS) {
        None => None,
        Some(section) => {
            let field = |key: &str| section.get(key).and_then(toml::Value::as_str).map(str::to_string);
            match (field("table"), field("text")) {
                (Some(table), Some(text)) => Some((table, text)),
                _ => {
                    return Err(format!(
                        "{origin}, [{THUMBPRINTS}]: name the table and the text of a row's thumbprint: table = \"certificates\", text = \"{{sha1}}\""
                    ));
                }
            }
        }
    };
    let mut out = Vec::new();
    for (table, section) in tables {
        let facts: BTreeMap<String, Entry> = section.try_into().map_err(|e| {
            format!("{origin}, [{table}]: {e}; a line per fact: \"os.version\" = \"{{major}}.{{minor}}.{{build}}\"")
        })?;
        let mut rules = Vec::new();
        for (fact, entry) in facts {
            let (text, values) = match entry {
                Entry::Text(text) => (text, Vec::new()),
                Entry::Values { text, values } => (text, values),
            };
            let values = values
                .into_iter()
                .map(|(value, pattern)| {
                    regex_lite::Regex::new(&pattern).map(|r| (value, r)).map_err(|e| {
                        format!("{origin}, [{table}] `{fact}`: the pattern `{pattern}` is not usable: {e}")
                    })
                })
                .collect::<Result<_, _>>()?;
            rules.push(Rule { fact, text, values });
        }
        out.push((table, rules));
    }
    check_paths(
        out.iter()
            .flat_map(|(table, rules)| rules.iter().map(move |r| (format!("[{table}] `{}`", r.fact), r.fact.as_str()))),
        &[("the host's identity, from `hostIdentifier`", "host.name")],
    )
    .map_err(|e| format!("{origin}: {e}"))?;
    Ok(Mapping { tables: out, thumbprints, registry, uninstall })
}

/// The rows a host's queries returned, per table.
#[derive(Default)]
pub struct Host {
    tables: BTreeMap<String, Vec<BTreeMap<String, String>>>,
}

/// Reads the results log; returns the hosts in the order they first appear, or the errors of
/// lines that are not osquery results (naming the line).
pub fn read_log(text: impl std::io::BufRead, mapping: &Mapping) -> Result<Vec<(String, Host)>, Vec<String>> {
    let thumbprint_table = mapping.thumbprints.as_ref().map(|(t, _)| t.as_str());
    let registry_table = mapping.registry.as_deref();
    let known = |name: &str| {
        mapping
            .tables
            .iter()
            .map(|(t, _)| t.as_str())
            .chain(thumbprint_table)
            .chain(registry_table)
            .find(|t| name == *t || name.ends_with(&format!("_{t}")))
    };
    let mut hosts: Vec<(String, Host)> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut errors = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        let line = match line {
            Ok(line) => line,
            Err(e) => {
                errors.push(format!("line {line_no}: {e}"));
                break;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let result: Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => {
                errors.push(format!(
                    "line {line_no}: not JSON ({e}); osquery's results log has one JSON object per line"
                ));
                continue;
            }
        };
        let (Some(host), Some(name)) =
            (result.get("hostIdentifier").and_then(Value::as_str), result.get("name").and_then(Value::as_str))
        else {
            errors.push(format!("line {line_no}: an osquery result has `name` and `hostIdentifier`"));
            continue;
        };
        // The differential format's removed rows say what is gone, not what is there.
        let rows: Vec<&Value> = match (result.get("snapshot"), result.get("columns"), result.get("action")) {
            (Some(Value::Array(rows)), _, _) => rows.iter().collect(),
            (_, Some(row), Some(Value::String(action))) if action == "added" => vec![row],
            (_, Some(_), _) => Vec::new(),
            _ => {
                errors.push(format!("line {line_no}: no `snapshot` rows or `columns`"));
                continue;
            }
        };
        let Some(table) = known(name).map(str::to_string) else { continue };
        let at = *index.entry(host.to_string()).or_insert_with(|| {
            hosts.push((host.to_string(), Host::default()));
            hosts.len() - 1
        });
        let Some((_, entry)) = hosts.get_mut(at) else { continue };
        let stored = entry.tables.entry(table).or_default();
        // A snapshot replaces what an earlier one said.
        if result.get("snapshot").is_some() {
            stored.clear();
        }
        for row in rows {
            let Some(row) = row.as_object() else { continue };
            // A null column is a missing one (`"revision": null` leaves the revision out).
            stored.push(
                row.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string)))
                    .collect(),
            );
        }
    }
    if errors.is_empty() { Ok(hosts) } else { Err(errors) }
}

/// `{column}` placeholders filled from the row. An empty or missing column takes the literal text
/// just before it along.
fn render(template: &str, row: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut pending = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        pending.push_str(rest.get(..open).unwrap_or_default());
        let after = rest.get(open + 1..).unwrap_or_default();
        let Some(close) = after.find('}') else {
            pending.push_str(rest.get(open..).unwrap_or_default());
            rest = "";
            break;
        };
        let column = after.get(..close).unwrap_or_default();
        if let Some(value) = row.get(column).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            out.push_str(&pending);
            out.push_str(value);
        }
        pending.clear();
        rest = after.get(close + 1..).unwrap_or_default();
    }
    out.push_str(&pending);
    out.push_str(rest);
    out
}

/// One host's facts document. `certificates` are the rules' certificates that have a thumbprint
/// and a fact: (thumbprint, fact path).
pub fn facts(
    name: &str,
    host: &Host,
    mapping: &Mapping,
    certificates: &[(String, String)],
    types: &BTreeMap<String, Type>,
    products: &Products,
    readings: &Readings,
) -> Result<Value, Vec<String>> {
    let mut root = Map::new();
    insert(&mut root, "host.name", Value::String(name.to_string()));
    let mut errors = Vec::new();
    // The host's registry query ran (its result may hold no rows: none of the keys exists).
    if let Some(rows) = mapping.registry.as_ref().and_then(|t| host.tables.get(t)) {
        for registry in &readings.registry {
            let target = Target { fact: registry.fact.clone(), separators: String::new() };
            match registry.read(rows) {
                Some(text) => match convert(&text, &target, types, products) {
                    Ok(v) => insert(&mut root, &registry.fact, v),
                    Err(why) => errors.push(format!("host `{name}`, registry ({}): {why}", registry.fact)),
                },
                // Not set: null (looked, found nothing) when the rules read it, else left out.
                None if readings.nullable.contains(&registry.fact) => insert(&mut root, &registry.fact, Value::Null),
                None => {}
            }
        }
    }
    // Programs read by name: the host's programs query ran and listed rows.
    if let Some((table, name_text, version_text)) = &mapping.uninstall
        && let Some(rows) = host.tables.get(table).filter(|r| !r.is_empty())
    {
        for program in &readings.programs {
            let target = Target { fact: program.fact.clone(), separators: String::new() };
            match program.read(rows, name_text, version_text) {
                Some(text) => match convert(&text, &target, types, products) {
                    Ok(v) => insert(&mut root, &program.fact, v),
                    Err(why) => errors.push(format!("host `{name}`, installed programs ({}): {why}", program.fact)),
                },
                // Not installed: null (looked, found nothing) when the rules read it.
                None if readings.nullable.contains(&program.fact) => insert(&mut root, &program.fact, Value::Null),
                None => {}
            }
        }
    }
    if let Some((table, text)) = &mapping.thumbprints
        && let Some(rows) = host.tables.get(table).filter(|r| !r.is_empty())
    {
        // Thumbprints compared as hex digits, whatever the case or separators.
        let normal = |t: &str| t.chars().filter(char::is_ascii_hexdigit).collect::<String>().to_ascii_uppercase();
        let held: Vec<String> = rows.iter().map(|row| normal(&render(text, row))).collect();
        for (thumbprint, fact) in certificates {
            insert(&mut root, fact, Value::Bool(held.contains(&normal(thumbprint))));
        }
    }
    for (table, rules) in &mapping.tables {
        let Some(rows) = host.tables.get(table).filter(|r| !r.is_empty()) else { continue };
        // A product fact picks the row; the others read it.
        let product = rules.iter().find(|r| matches!(types.get(&r.fact), Some(Type::Product)));
        let named = product.and_then(|r| rows.iter().find(|row| products.known(&render(&r.text, row))));
        // The table lists the host's programs and none is a product the rules know: the host has
        // none, when the rules read null so.
        if let Some(rule) = product
            && named.is_none()
            && readings.nullable.contains(&rule.fact)
        {
            insert(&mut root, &rule.fact, Value::Null);
            continue;
        }
        let Some(row) = named.or(rows.first()) else { continue };
        for rule in rules {
            let target = Target { fact: rule.fact.clone(), separators: String::new() };
            let value = if matches!(types.get(&rule.fact), Some(Type::Kbs)) {
                let items: Vec<Value> =
                    rows.iter().map(|r| render(&rule.text, r)).filter(|t| !t.is_empty()).map(Value::String).collect();
                if items.is_empty() { continue } else { Ok(Value::Array(items)) }
            } else {
                let text = render(&rule.text, row);
                let text = if rule.values.is_empty() {
                    Some(text)
                } else {
                    rule.values.iter().find(|(_, r)| r.is_match(&text)).map(|(v, _)| v.clone())
                };
                match text.filter(|t| !t.is_empty()) {
                    Some(text) => convert(&text, &target, types, products),
                    None => continue,
                }
            };
            match value {
                Ok(v) => insert(&mut root, &rule.fact, v),
                Err(why) => errors.push(format!("host `{name}`, table {table} ({}): {why}", rule.fact)),
            }
        }
    }
    if errors.is_empty() { Ok(Value::Object(root)) } else { Err(errors) }
}
