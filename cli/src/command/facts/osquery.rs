//! osquery's scheduled query results (the JSON Lines its filesystem logger writes, snapshot or
//! differential) → one facts document per host, in the order hosts first appear.
//!
//! Which table feeds which fact is data: `osquery.toml` beside this file is the default mapping,
//! a `--map` file replaces it. A query feeds the section of the table its name ends with.

use super::{Products, Target, check_paths, convert, insert};
use preflight_compiler::ir::Type;
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
}

/// The section that names the certificates table rather than a table of its own.
const THUMBPRINTS: &str = "thumbprints";

/// Reads a mapping.
pub fn read_map(text: &str, origin: &str) -> Result<Mapping, String> {
    let mut tables: BTreeMap<String, toml::Table> = toml::from_str(text).map_err(|e| {
        format!(
            "{origin} is not an osquery mapping: {e}\n  write a section per table and a line per fact: \
             [os_version] \"os.version\" = \"{{major}}.{{minor}}.{{build}}.{{revision}}\""
        )
    })?;
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
    Ok(Mapping { tables: out, thumbprints })
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
    let known = |name: &str| {
        mapping
            .tables
            .iter()
            .map(|(t, _)| t.as_str())
            .chain(thumbprint_table)
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
) -> Result<Value, Vec<String>> {
    let mut root = Map::new();
    insert(&mut root, "host.name", Value::String(name.to_string()));
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
    let mut errors = Vec::new();
    for (table, rules) in &mapping.tables {
        let Some(rows) = host.tables.get(table).filter(|r| !r.is_empty()) else { continue };
        // A product fact picks the row; the others read it.
        let chosen = rules
            .iter()
            .find(|r| matches!(types.get(&r.fact), Some(Type::Product)))
            .and_then(|r| rows.iter().find(|row| products.known(&render(&r.text, row))))
            .or(rows.first());
        let Some(row) = chosen else { continue };
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
