//! Reading a host's facts: JSON text → one typed value per declared fact, or a structured input
//! error. The schema in the rules file decides everything; nothing here knows the ACS advisory.
//!
//! **Invariant:** hostile input yields an [`InputError`], never a panic: size and nesting are
//! bounded before anything else, and every access is checked.

use crate::interp;
use crate::ir::{FieldDef, Presence, Program, Type, Value};
use crate::json::{self, Json};
use crate::value::{Date, Kb, Version};
use serde::Serialize;

/// The stable codes of input errors (see `docs/abi.md`).
pub const INPUT_ERROR_CODES: &[&str] = &[
    "invalid_json",
    "too_large",
    "not_an_object",
    "missing_field",
    "wrong_type",
    "unknown_value",
    "malformed_version",
    "malformed_date",
    "invalid_evaluation_date",
];

/// The largest facts document accepted (a real host's facts are a few KiB).
pub const MAX_INPUT_BYTES: usize = json::MAX_BYTES;

/// Why a facts document was refused: a stable `code`, the offending `field` (a dotted path, empty
/// for the document itself) and a sentence saying how to fix it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InputError {
    pub code: &'static str,
    pub field: String,
    pub message: String,
}

impl InputError {
    fn new(code: &'static str, field: impl Into<String>, message: impl Into<String>) -> Self {
        InputError { code, field: field.into(), message: message.into() }
    }
}

/// A host's facts, one value per declared fact (in schema order).
#[derive(Clone, Debug, PartialEq)]
pub struct Facts {
    pub values: Vec<Value>,
}

/// Parses and validates a facts document (bytes, as a host received them) against the program's
/// schema. `evaluation_date` is the date the host supplies (in days since 1970-01-01, as the
/// module's `evaluate` takes it) for the fact bound to the `evaluation_date` role when the
/// document leaves it out. The checks come in the module's order: the date argument, the size,
/// UTF-8, JSON, then each fact in declaration order.
pub fn read(program: &Program, input: &[u8], evaluation_date: Option<i32>) -> Result<Facts, InputError> {
    let evaluation_date = match evaluation_date {
        None => None,
        Some(days) => Some(Date::from_days(days).ok_or_else(|| {
            InputError::new(
                "invalid_evaluation_date",
                "",
                format!(
                    "the host passed day {days} as the evaluation date; it must be a day from {} to {}",
                    Date::FIRST,
                    Date::LAST
                ),
            )
        })?),
    };
    if input.len() > MAX_INPUT_BYTES {
        return Err(InputError::new(
            "too_large",
            "",
            format!("the facts are over {MAX_INPUT_BYTES} bytes, the most accepted"),
        ));
    }
    let input = std::str::from_utf8(input).map_err(|e| invalid_json(e.valid_up_to()))?;
    let json = json::parse(input).map_err(|e| invalid_json(e.offset))?;
    let Json::Object(_) = json else {
        return Err(InputError::new("not_an_object", "", "the facts must be a JSON object"));
    };
    let mut facts = Facts { values: Vec::with_capacity(program.fields.len()) };
    for (index, field) in program.fields.iter().enumerate() {
        let applies = match &field.condition {
            Some(cond) => interp::truth_on_partial(program, &facts, cond),
            None => interp::Truth::True,
        };
        // The host's date stands in for the evaluation-date fact when the document omits it.
        let supplied = evaluation_date.filter(|_| program.host.evaluation_date == Some(index)).map(Value::Date);
        let value = match applies {
            interp::Truth::True => read_field(program, &json, field, supplied)?,
            // The fact does not apply to this host: it has none.
            interp::Truth::False => Value::None,
            // Whether it applies depends on a fact not sent: so does its value.
            interp::Truth::Unknown => Value::Unknown,
        };
        facts.values.push(value);
    }
    Ok(facts)
}

fn invalid_json(offset: usize) -> InputError {
    InputError::new("invalid_json", "", format!("the facts are not valid JSON (byte {offset})"))
}

fn read_field(
    program: &Program,
    json: &Json<'_>,
    field: &FieldDef,
    supplied: Option<Value>,
) -> Result<Value, InputError> {
    let (path, ty, presence) = (&field.path, &field.ty, &field.presence);
    let dotted = path.join(".");
    let mut node = json;
    for (depth, segment) in path.iter().enumerate() {
        if !matches!(node, Json::Object(_)) {
            let group = path.get(..depth).map(|p| p.join(".")).unwrap_or_default();
            return Err(InputError::new("wrong_type", group.clone(), format!("`{group}` must be an object")));
        }
        match node.get(segment) {
            // `null` (the fact or a group holding it) is what the rules say it means: the
            // collector looked and found nothing.
            Some(Json::Null) if field.null.is_some() => return Ok(field.null.clone().unwrap_or(Value::None)),
            // Otherwise null reads as "not given": collectors write it for what they could not
            // find out.
            Some(Json::Null) | None => {
                if let Some(value) = supplied {
                    return Ok(value);
                }
                return match presence {
                    Presence::Required => {
                        Err(InputError::new("missing_field", dotted.clone(), format!("`{dotted}` is required")))
                    }
                    Presence::Optional => Ok(Value::Unknown),
                    Presence::Default(v) => Ok(v.clone()),
                };
            }
            Some(next) => node = next,
        }
    }
    convert(program, node, ty, &dotted)
}

fn convert(program: &Program, node: &Json<'_>, ty: &Type, field: &str) -> Result<Value, InputError> {
    let wrong = |what: &str| {
        InputError::new("wrong_type", field, format!("`{field}` must be {what}, found {}", json_kind(node)))
    };
    let text = || match node {
        Json::String(raw) => Ok(json::decode(raw)),
        _ => Err(wrong("a string")),
    };
    Ok(match ty {
        Type::Bool => match node {
            Json::Bool(b) => Value::Bool(*b),
            _ => return Err(wrong("true or false")),
        },
        Type::Int => Value::Int(node.as_i64().ok_or_else(|| wrong("a whole number"))?),
        Type::String => Value::Str(text()?),
        Type::Date => {
            Value::Date(Date::parse(&text()?).ok_or_else(|| {
                InputError::new("malformed_date", field, format!("`{field}` must be a date YYYY-MM-DD"))
            })?)
        }
        Type::Version => Value::Version(Version::parse_product(&text()?).ok_or_else(|| {
            InputError::new(
                "malformed_version",
                field,
                format!("`{field}` must be a version: dotted numbers, optionally with a build suffix (1.2, 1.2.3-456)"),
            )
        })?),
        Type::Build => Value::Version(Version::parse_build(&text()?).ok_or_else(|| {
            InputError::new(
                "malformed_version",
                field,
                format!("`{field}` must be a Windows build major.minor.build[.revision]"),
            )
        })?),
        Type::Kbs => Value::Kbs(kbs(node, field)?),
        Type::Product => {
            let name = text()?;
            let index = program.products.iter().position(|p| p.id == name).ok_or_else(|| {
                let known: Vec<&str> = program.products.iter().map(|p| p.id.as_str()).collect();
                InputError::new("unknown_value", field, format!("`{field}` must be one of {}", known.join(", ")))
            })?;
            Value::Product(index)
        }
        Type::Enum(variants) => {
            let name = text()?;
            let index = variants.iter().position(|v| *v == name).ok_or_else(|| {
                InputError::new("unknown_value", field, format!("`{field}` must be one of {}", variants.join(", ")))
            })?;
            Value::Enum(index)
        }
        Type::Os | Type::Update | Type::Status => return Err(wrong("a value of a fact type")),
    })
}

/// Installed updates as `Get-HotFix` lists them. Entries that are not KB ids (old systems list
/// "File 1" and the like) are skipped: they cannot satisfy any requirement.
fn kbs(node: &Json<'_>, field: &str) -> Result<Vec<Kb>, InputError> {
    let Json::Array(items) = node else {
        return Err(InputError::new(
            "wrong_type",
            field,
            format!("`{field}` must be an array of update ids, found {}", json_kind(node)),
        ));
    };
    let mut kbs = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Json::String(raw) = item else {
            return Err(InputError::new(
                "wrong_type",
                format!("{field}[{i}]"),
                format!("`{field}[{i}]` must be a string, found {}", json_kind(item)),
            ));
        };
        kbs.extend(Kb::parse(&json::decode(raw)));
    }
    kbs.sort_unstable();
    kbs.dedup();
    Ok(kbs)
}

fn json_kind(node: &Json<'_>) -> &'static str {
    match node {
        Json::Null => "null",
        Json::Bool(_) => "a bool",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}
