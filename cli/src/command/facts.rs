//! `preflight facts --from csv|osquery INPUT [--map MAP.toml] [-o FACTS.jsonl]`: an inventory
//! export → one facts document per host (JSON Lines), ready for `batch`. osquery's results log is
//! read by `osquery.rs`; this file reads CSV and holds what both share.
//!
//! A CSV export (comma, semicolon or tab separated, read off the header) has one row per host and
//! one column per fact. A column named like a fact
//! (`os.version`, `hotfixes`) feeds it; a mapping file says which column feeds which fact when
//! the names differ. What a cell becomes comes from the fact's type in the rules files (the
//! built-in ones, or `--rules`): true/false for `bool`, a number for `int`, a list for `kbs`, text
//! for everything else; an enumeration value in any case (`Server`). A product column may hold the product's id or the name its uninstall
//! entry shows: names are matched against the products' `detect` patterns in the rules (as the
//! PowerShell collector matches them: case-insensitively). Text is not checked here: a malformed version or date is the host's input
//! error, answered by `batch` like any other. A column mapped to a path no rules file declares
//! (`host.name`) is copied as text, so that hosts keep an identity through the answers.
//!
//! Rows stream; the output replaces FACTS only when every row converted. A cell that cannot be
//! converted is an error naming its row (as a spreadsheet numbers it, the header being row 1) and
//! column; conversion goes on to report up to 20 of them.

pub mod osquery;

use crate::common;
use crate::output::{Input, refuse_inputs};
use preflight_compiler::ir::Type;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// The most cell errors reported before giving up.
const MAX_ERRORS: usize = 20;

/// What a column feeds, from a mapping file or from its own name.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Target {
    /// The dotted fact path.
    fact: String,
    /// For a list (`kbs`): the characters that separate its items.
    separators: String,
}

/// The mapping file: `"Column name" = "fact.path"`, or `= { fact = "...", separator = ";" }`, or
/// `= false` to leave a column out.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum MapEntry {
    Fact(String),
    Detailed { fact: String, separator: Option<String> },
    Skip(bool),
}

/// Separators a list cell is split on when the mapping names none: `;`, `,`, `|` and spaces.
const DEFAULT_SEPARATORS: &str = ";,| \t";

pub fn run(
    from: &str,
    input: &str,
    map: Option<&Path>,
    rules: &[std::path::PathBuf],
    delimiter: Option<u8>,
    output: Option<&Path>,
) -> Result<u8, String> {
    if from != "csv" && from != "osquery" {
        return Err(format!("`--from {from}` is not a format this reads: `--from csv` or `--from osquery`"));
    }
    if let Some(output) = output {
        let mut inputs: Vec<Input<'_>> = vec![("the export", Path::new(input))];
        inputs.extend(map.map(|m| ("the mapping", m)));
        inputs.extend(rules.iter().map(|r| ("a rules file", r.as_path())));
        refuse_inputs(output, &inputs)?;
    }
    let mut programs = if rules.is_empty() { preflight_compiler::builtin_programs()? } else { Vec::new() };
    let options = common::DiagnosticOptions { format: common::Format::Text, color: common::Color::Auto };
    for file in rules {
        match common::load(file, &options)? {
            Some(program) => programs.push(program),
            None => return Ok(1),
        }
    }
    let converter = Converter::new(&programs)?;
    let map_text = match map {
        Some(path) => {
            Some(std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?)
        }
        None => None,
    };
    let map = map.zip(map_text.as_deref()).map(|(path, text)| (text, format!("`{}`", path.display())));
    let reader: Box<dyn std::io::Read> = if input == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(input).map_err(|e| format!("cannot read `{input}`: {e}"))?)
    };
    let reader = std::io::BufReader::with_capacity(1 << 16, reader);
    let shown = common::printable(input);
    let print_errors = |errors: &[String]| {
        for e in errors.iter().take(MAX_ERRORS) {
            eprintln!("error: `{shown}`, {}", common::printable(e));
        }
    };
    if from == "osquery" {
        let mapping = match &map {
            Some((text, origin)) => osquery::read_map(text, origin)?,
            None => osquery::read_map(osquery::DEFAULT_MAP, "the default osquery mapping")?,
        };
        let documents = match converter.osquery(reader, &mapping) {
            Ok(documents) => documents,
            Err(errors) => {
                print_errors(&errors);
                let kept = if output.is_some() { "; the output file was left as it was" } else { "" };
                eprintln!("{} problems{kept}", errors.len());
                return Ok(1);
            }
        };
        let mut sink = super::batch::Sink::open(output, &[("the export", Path::new(input))])?;
        for facts in &documents {
            sink.write_line(&facts.to_string())?;
        }
        sink.commit()?;
        eprintln!("{} hosts", documents.len());
        return Ok(0);
    }
    let mut sink = super::batch::Sink::open(output, &[("the export", Path::new(input))])?;
    let mut hosts = 0usize;
    let errors = converter
        .csv(reader, map.as_ref().map(|(t, o)| (*t, o.as_str())), delimiter, &mut |facts| {
            hosts += 1;
            sink.write_line(&facts.to_string())
        })
        .map_err(|e| format!("`{shown}`: {e}"))?;
    if !errors.is_empty() {
        print_errors(&errors);
        let more = if errors.len() >= MAX_ERRORS { " (stopped at the first 20)" } else { "" };
        eprintln!("{} cells could not be converted{more}{}", errors.len(), sink.left());
        return Ok(1);
    }
    sink.commit()?;
    eprintln!("{hosts} hosts");
    Ok(0)
}

/// What an inventory export becomes, by a set of rules files: each declared fact's type, the
/// products' ids and `detect` patterns, and the certificates osquery can tell by thumbprint.
pub struct Converter {
    /// Every declared fact and its type (the first file to declare it decides; `check` warns
    /// when two files disagree).
    types: BTreeMap<String, Type>,
    products: Products,
    certificates: Vec<(String, String)>,
    /// What the rules read beyond types: facts whose `null` means something, registry values.
    readings: Readings,
}

/// What a rules file says about reading its facts that an inventory conversion needs: the facts
/// whose `null` means something ("looked, found nothing": a CSV cell `null` or `none`, a
/// product osquery's programs table does not list), and the facts read from one registry value
/// (osquery's `registry` table reads them).
#[derive(Default)]
pub struct Readings {
    pub nullable: std::collections::BTreeSet<String>,
    pub registry: Vec<osquery::RegistryFact>,
    /// Facts read from an installed program's version (`from uninstall "PATTERN"`).
    pub programs: Vec<osquery::ProgramFact>,
}

impl Converter {
    pub fn new(programs: &[preflight_compiler::Program]) -> Result<Converter, String> {
        let mut types: BTreeMap<String, Type> = BTreeMap::new();
        for program in programs {
            for field in &program.fields {
                types.entry(field.dotted()).or_insert_with(|| field.ty.clone());
            }
        }
        // Product names an inventory shows → product ids, by the rules' `detect` patterns.
        let mut detect: Vec<(regex_lite::Regex, String)> = Vec::new();
        for program in programs {
            for product in &program.products {
                for pattern in &product.detect {
                    let regex = regex_lite::Regex::new(&format!("(?i){pattern}")).map_err(|e| {
                        format!("the detect pattern of `{}` ({pattern}) is not usable: {e}", product.id)
                    })?;
                    detect.push((regex, product.id.clone()));
                }
            }
        }
        let ids: Vec<String> = programs.iter().flat_map(|p| p.products.iter().map(|x| x.id.clone())).collect();
        let mut readings = Readings::default();
        for field in programs.iter().flat_map(|p| p.fields.iter()) {
            if field.null.is_some() {
                readings.nullable.insert(field.dotted());
            }
            if let Some(registry) = field.collect.as_ref().and_then(|c| osquery::RegistryFact::of(&field.dotted(), c))
                && !readings.registry.iter().any(|r| r.fact == registry.fact)
            {
                readings.registry.push(registry);
            }
            if let Some(program) = field.collect.as_ref().and_then(|c| osquery::ProgramFact::of(&field.dotted(), c))
                && !readings.programs.iter().any(|r| Ok(&r.fact) == program.as_ref().map(|p| &p.fact))
            {
                readings.programs.push(program?);
            }
        }
        // Certificates with a thumbprint and a fact: osquery's certificates table can tell them.
        let certificates: Vec<(String, String)> = programs
            .iter()
            .flat_map(|p| {
                p.certificates
                    .iter()
                    .filter(|c| !c.thumbprint.is_empty())
                    .filter_map(|c| Some((c.thumbprint.clone(), p.fields.get(c.fact?)?.dotted())))
            })
            .collect();
        Ok(Converter { types, products: Products { ids, detect }, certificates, readings })
    }

    /// A CSV export (`map`: a mapping file's text and how to name it; `delimiter`: the column
    /// separator, read off the header when absent): each row's facts document goes to `emit`.
    /// Returns the cells that could not be converted (up to [`MAX_ERRORS`]); an unreadable
    /// export or mapping, or a failing `emit`, is an error.
    pub fn csv(
        &self,
        mut reader: impl std::io::BufRead,
        map: Option<(&str, &str)>,
        delimiter: Option<u8>,
        emit: &mut dyn FnMut(Value) -> Result<(), String>,
    ) -> Result<Vec<String>, String> {
        let mapping = match map {
            Some((text, origin)) => Some(read_map(text, origin)?),
            None => None,
        };
        let delimiter = match delimiter {
            Some(d) => d,
            None => sniff_delimiter(&mut reader).map_err(|e| format!("cannot read the export: {e}"))?,
        };
        let mut csv = csv::ReaderBuilder::new().flexible(false).delimiter(delimiter).from_reader(reader);
        let header: Vec<String> = csv
            .headers()
            .map_err(|e| format!("cannot read the header row: {e}"))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        let targets = targets(&header, mapping.as_ref(), &self.types)?;
        let (mut rows, mut errors) = (0usize, Vec::new());
        let mut record = csv::StringRecord::new();
        loop {
            match csv.read_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    errors.push(format!("row {}: {e}", rows + 2));
                    break;
                }
            }
            // Rows as a spreadsheet numbers them: the header is row 1 (a record is one row, even
            // when a quoted cell spans lines).
            rows += 1;
            match facts_of(&record, &targets, &self.types, &self.products, &self.readings, rows + 1, &header) {
                Ok(facts) => emit(facts)?,
                Err(mut bad) => {
                    errors.append(&mut bad);
                    if errors.len() >= MAX_ERRORS {
                        break;
                    }
                }
            }
        }
        Ok(errors)
    }

    /// osquery's results log, by a mapping ([`osquery::read_map`]): a facts document per host, or
    /// every problem found.
    pub fn osquery(
        &self,
        reader: impl std::io::BufRead,
        mapping: &osquery::Mapping,
    ) -> Result<Vec<Value>, Vec<String>> {
        let hosts = osquery::read_log(reader, mapping)?;
        let mut documents = Vec::with_capacity(hosts.len());
        let mut errors = Vec::new();
        for (name, host) in &hosts {
            match osquery::facts(name, host, mapping, &self.certificates, &self.types, &self.products, &self.readings) {
                Ok(facts) => documents.push(facts),
                Err(mut e) => errors.append(&mut e),
            }
        }
        if errors.is_empty() { Ok(documents) } else { Err(errors) }
    }
}

/// The separator of the export's columns, read off its header line: a comma, or the semicolon or
/// tab that spreadsheets write in some locales — whichever the header holds most of outside
/// quoted cells (a quoted header may hold any of them). `--delimiter` names it instead.
fn sniff_delimiter(reader: &mut impl std::io::BufRead) -> std::io::Result<u8> {
    let buf = reader.fill_buf()?;
    let (mut counts, mut quoted) = ([0usize; 3], false);
    for &b in buf {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let [comma, semicolon, tab] = counts;
    Ok(if semicolon > comma && semicolon >= tab {
        b';'
    } else if tab > comma && tab > semicolon {
        b'\t'
    } else {
        b','
    })
}

/// `--delimiter`: one character, or `tab`.
pub fn parse_delimiter(text: &str) -> Result<u8, String> {
    match text.as_bytes() {
        b"tab" | b"\\t" | b"\t" => Ok(b'\t'),
        [c] if c.is_ascii() && !matches!(c, b'"' | b'\n' | b'\r') => Ok(*c),
        _ => Err(format!(
            "`--delimiter {}` is not one character: write `,`, `;`, `tab` or another single ASCII character",
            common::printable(text)
        )),
    }
}

fn read_map(text: &str, origin: &str) -> Result<BTreeMap<String, Option<Target>>, String> {
    let entries: BTreeMap<String, MapEntry> = toml::from_str(text).map_err(|e| {
        format!(
            "{origin} is not a mapping file: {e}\n  write one line per column: \"Column name\" = \"fact.path\", \
             or = {{ fact = \"hotfixes\", separator = \";\" }}, or = false to leave it out"
        )
    })?;
    entries
        .into_iter()
        .map(|(column, entry)| {
            let target = match entry {
                MapEntry::Fact(fact) => Some(Target { fact, separators: DEFAULT_SEPARATORS.into() }),
                MapEntry::Detailed { fact, separator } => {
                    Some(Target { fact, separators: separator.unwrap_or_else(|| DEFAULT_SEPARATORS.into()) })
                }
                MapEntry::Skip(false) => None,
                MapEntry::Skip(true) => {
                    return Err(format!(
                        "{origin}: column `{column}` = true means nothing; name the fact it feeds, or write false to leave it out"
                    ));
                }
            };
            Ok((column, target))
        })
        .collect()
}

/// What each column of the header feeds (`None`: left out).
fn targets(
    header: &[String],
    mapping: Option<&BTreeMap<String, Option<Target>>>,
    types: &BTreeMap<String, Type>,
) -> Result<Vec<Option<Target>>, String> {
    let mut targets: Vec<Option<Target>> = Vec::with_capacity(header.len());
    let mut named = std::collections::HashSet::new();
    for column in header {
        if !named.insert(column.as_str()) {
            return Err(format!("the header names column `{}` twice; rename one", common::printable(column)));
        }
        let target = match mapping {
            Some(map) => match map.get(column) {
                Some(target) => target.clone(),
                // Columns the map does not name feed the fact of the same name, if there is one.
                None => types
                    .contains_key(column)
                    .then(|| Target { fact: column.clone(), separators: DEFAULT_SEPARATORS.into() }),
            },
            None => types
                .contains_key(column)
                .then(|| Target { fact: column.clone(), separators: DEFAULT_SEPARATORS.into() }),
        };
        if target.is_none() && mapping.is_none_or(|m| !m.contains_key(column)) {
            eprintln!(
                "note: column `{}` feeds no fact and is left out (name one with --map)",
                common::printable(column)
            );
        }
        targets.push(target);
    }
    check_paths(
        header.iter().zip(&targets).filter_map(|(column, t)| {
            Some((format!("column `{}`", common::printable(column)), t.as_ref()?.fact.as_str()))
        }),
        &[],
    )?;
    if let Some(map) = mapping {
        for column in map.keys() {
            if !named.contains(column.as_str()) {
                eprintln!(
                    "note: the mapping names column `{}`, which the export does not have",
                    common::printable(column)
                );
            }
        }
    }
    Ok(targets)
}

/// One row's facts document, or the errors of its cells.
/// The products the rules declare: their ids, and the patterns that recognise their names.
pub struct Products {
    ids: Vec<String>,
    detect: Vec<(regex_lite::Regex, String)>,
}

impl Products {
    /// A declared id as it is; a name some product's `detect` pattern matches, as that id; any
    /// other text as it is (the host's `unknown_value`, answered by `batch`).
    fn id(&self, cell: &str) -> String {
        if self.ids.iter().any(|id| id == cell) {
            return cell.to_string();
        }
        self.detect.iter().find(|(r, _)| r.is_match(cell)).map_or_else(|| cell.to_string(), |(_, id)| id.clone())
    }

    /// Whether the text names a product: its id, or a name a `detect` pattern matches.
    fn known(&self, text: &str) -> bool {
        self.ids.iter().any(|id| id == text) || self.detect.iter().any(|(r, _)| r.is_match(text))
    }
}

fn facts_of(
    record: &csv::StringRecord,
    targets: &[Option<Target>],
    types: &BTreeMap<String, Type>,
    products: &Products,
    readings: &Readings,
    row: usize,
    header: &[String],
) -> Result<Value, Vec<String>> {
    let mut root = Map::new();
    let mut errors = Vec::new();
    for ((cell, target), column) in record.iter().zip(targets).zip(header) {
        let Some(target) = target else { continue };
        let cell = cell.trim();
        if cell.is_empty() {
            continue;
        }
        // "Looked, found nothing", for a fact whose rules read null.
        if readings.nullable.contains(&target.fact)
            && (cell.eq_ignore_ascii_case("null") || cell.eq_ignore_ascii_case("none"))
        {
            insert(&mut root, &target.fact, Value::Null);
            continue;
        }
        match convert(cell, target, types, products) {
            Ok(v) => insert(&mut root, &target.fact, v),
            Err(why) => errors.push(format!("row {row}, column `{column}` ({}): {why}", target.fact)),
        }
    }
    if errors.is_empty() { Ok(Value::Object(root)) } else { Err(errors) }
}

/// What a non-empty cell becomes, by the type of the fact it feeds.
fn convert(cell: &str, target: &Target, types: &BTreeMap<String, Type>, products: &Products) -> Result<Value, String> {
    {
        match types.get(&target.fact) {
            Some(Type::Bool) => match cell.to_ascii_lowercase().as_str() {
                "true" | "yes" | "y" | "1" => Ok(Value::Bool(true)),
                "false" | "no" | "n" | "0" => Ok(Value::Bool(false)),
                _ => Err(format!("`{cell}` is not true or false (yes/no and 1/0 are read too)")),
            },
            Some(Type::Int) => {
                cell.parse::<i64>().map(Value::from).map_err(|_| format!("`{cell}` is not a whole number"))
            }
            Some(Type::Kbs) => Ok(Value::Array(
                cell.split(|c| target.separators.contains(c))
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.to_string()))
                    .collect(),
            )),
            Some(Type::Product) => Ok(Value::String(products.id(cell))),
            // `Server` for `server`: the variants are identifiers, exports capitalise.
            Some(Type::Enum(variants)) => Ok(Value::String(
                variants.iter().find(|v| v.eq_ignore_ascii_case(cell)).map_or(cell, String::as_str).to_string(),
            )),
            _ => Ok(Value::String(cell.to_string())),
        }
    }
}

/// The one check of the fact paths a mapping writes (CSV columns or osquery tables): each a
/// dotted path of non-empty names, none written twice, none inside another (`os` and
/// `os.version` would overwrite each other), none inside a `reserved` path. `what` names each
/// path's source for the message. Linear in the paths' total length.
pub(super) fn check_paths<'a>(
    paths: impl IntoIterator<Item = (String, &'a str)>,
    reserved: &[(&str, &str)],
) -> Result<(), String> {
    let mut seen: std::collections::HashMap<&'a str, String> = std::collections::HashMap::new();
    let mut all: Vec<(String, &'a str)> = Vec::new();
    for (what, path) in paths {
        if path.is_empty() || path.split('.').any(str::is_empty) {
            return Err(format!(
                "{what} is mapped to `{}`, which is not a dotted fact path (names joined by `.`, such as `os.version`)",
                common::printable(path)
            ));
        }
        if let Some(first) = seen.get(path) {
            return Err(format!(
                "{first} and {what} both feed `{}`; map one of them to another fact or leave it out",
                common::printable(path)
            ));
        }
        seen.insert(path, what.clone());
        all.push((what, path));
    }
    for (what, path) in &all {
        // Every proper prefix at a `.`: a value there would be replaced by this path's object.
        for (at, _) in path.match_indices('.') {
            let prefix = path.get(..at).unwrap_or_default();
            if let Some(other) = seen.get(prefix) {
                return Err(format!(
                    "{other} feeds `{prefix}` and {what} feeds `{}` inside it: one would overwrite the other; map one of them elsewhere",
                    common::printable(path)
                ));
            }
        }
        for (name, reserved) in reserved {
            if path == reserved
                || reserved.starts_with(&format!("{path}."))
                || path.starts_with(&format!("{reserved}."))
            {
                return Err(format!(
                    "{what} feeds `{}`, which is {name} (`{reserved}`); map it to another fact",
                    common::printable(path)
                ));
            }
        }
    }
    Ok(())
}

/// Puts `value` at the dotted `path`, making the groups on the way.
pub(super) fn insert(root: &mut Map<String, Value>, path: &str, value: Value) {
    let mut node = root;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            node.insert(part.to_string(), value);
            return;
        }
        let entry = node.entry(part.to_string()).or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(next) = entry else { return };
        node = next;
    }
}
