//! What a rules file documents about itself: the facts it reads as a JSON Schema (the `///` docs
//! become descriptions) and a Markdown reference of its declarations and rules.

use crate::ast::CmpOp;
use crate::ir::{Expr, Need, Presence, Program, Segment, Type, Value};
use serde_json::{Value as Json, json};

/// The facts schema as JSON Schema (draft 2020-12). A required fact with an `if` is required in
/// the schema too when its condition compares one fact with a constant (`if os.platform ==
/// "windows"`): an `allOf` entry says `if` that holds (an absent fact counts by its default)
/// `then` the fact is required. Other conditions are marked `x-required`.
pub fn facts_schema(program: &Program) -> Json {
    let mut root = object_schema();
    let mut conditional = Vec::new();
    for (index, field) in program.fields.iter().enumerate() {
        let mut schema = leaf_schema(program, &field.ty);
        // A fact whose rules read null (looked for, found nothing) takes it.
        if let Some(v) = &field.null {
            let means = crate::interp::value_text(program, index, v);
            schema = json!({ "anyOf": [schema, { "type": "null" }], "x-null-means": means });
        }
        if let Some(obj) = schema.as_object_mut() {
            if !field.docs.is_empty() {
                obj.insert("description".into(), Json::String(field.docs.join(" ")));
            }
            if let Presence::Default(v) = &field.presence {
                obj.insert("default".into(), value_json(program, &field.ty, v));
            }
        }
        let required = field.presence == Presence::Required && field.condition.is_none();
        if field.presence == Presence::Required
            && let Some(condition) = &field.condition
        {
            match condition_schema(program, condition) {
                Some(when) => {
                    conditional.push(json!({ "if": when, "then": require_path(&field.path) }));
                }
                None => {
                    if let Some(obj) = schema.as_object_mut() {
                        obj.insert("x-required".into(), json!("when the rules file's `if` condition for it holds"));
                    }
                }
            }
        }
        insert(&mut root, &field.path, schema, required);
    }
    if let Some(obj) = root.as_object_mut() {
        if !conditional.is_empty() {
            obj.insert("allOf".into(), Json::Array(conditional));
        }
        obj.insert("$schema".into(), json!("https://json-schema.org/draft/2020-12/schema"));
        obj.insert("title".into(), json!(format!("Facts for {}", program.advisory.id)));
    }
    root
}

/// `fact == CONST` / `fact != CONST` as a schema that holds exactly when the condition does,
/// counting an absent fact by its default (absent without a default: the condition is false, as
/// the fact is then unknown and the field is not read).
fn condition_schema(program: &Program, condition: &Expr) -> Option<Json> {
    let Expr::Compare(left, op, right) = condition else { return None };
    let (Expr::Field(id), Expr::Const(value)) = (left.as_ref(), right.as_ref()) else { return None };
    let field = program.fields.get(*id)?;
    let constant = value_json(program, &field.ty, value);
    let test = match op {
        CmpOp::Eq => json!({ "const": constant }),
        CmpOp::Ne => json!({ "not": { "const": constant } }),
        _ => return None,
    };
    let absent_holds = match &field.presence {
        Presence::Default(d) => match op {
            CmpOp::Eq => d == value,
            CmpOp::Ne => d != value,
            _ => return None,
        },
        _ => false,
    };
    // Each object on the way must be there unless an absent fact makes the condition hold.
    let mut schema = test;
    for name in field.path.iter().rev() {
        schema = if absent_holds {
            json!({ "properties": { name.clone(): schema } })
        } else {
            json!({ "properties": { name.clone(): schema }, "required": [name] })
        };
    }
    Some(schema)
}

/// `{"required": [first], "properties": {first: {"required": [second], ...}}}` down a path.
fn require_path(path: &[String]) -> Json {
    match path.split_first() {
        None => json!({}),
        Some((first, [])) => json!({ "required": [first] }),
        Some((first, rest)) => json!({ "required": [first], "properties": { first.clone(): require_path(rest) } }),
    }
}

fn object_schema() -> Json {
    json!({ "type": "object", "properties": {}, "required": [] })
}

fn insert(node: &mut Json, path: &[String], leaf: Json, required: bool) {
    let Some((first, rest)) = path.split_first() else { return };
    let Some(obj) = node.as_object_mut() else { return };
    if required
        && let Some(Json::Array(req)) = obj.get_mut("required")
        && !req.contains(&json!(first))
    {
        req.push(json!(first));
    }
    let Some(Json::Object(props)) = obj.get_mut("properties") else { return };
    if rest.is_empty() {
        props.insert(first.clone(), leaf);
    } else {
        let child = props.entry(first.clone()).or_insert_with(object_schema);
        insert(child, rest, leaf, required);
    }
}

fn leaf_schema(program: &Program, ty: &Type) -> Json {
    match ty {
        Type::Bool => json!({ "type": "boolean" }),
        Type::Int => json!({ "type": "integer" }),
        Type::String => json!({ "type": "string" }),
        Type::Date => json!({ "type": "string", "format": "date" }),
        Type::Version => json!({ "type": "string", "pattern": "^[0-9]+(\\.[0-9]+)*([-+][0-9A-Za-z.-]+)?$" }),
        Type::Build => json!({ "type": "string", "pattern": "^[0-9]+\\.[0-9]+\\.[0-9]+(\\.[0-9]+)?$" }),
        Type::Kbs => json!({ "type": "array", "items": { "type": "string" } }),
        Type::Product => {
            json!({ "type": "string", "enum": program.products.iter().map(|p| p.id.clone()).collect::<Vec<_>>() })
        }
        Type::Enum(variants) => json!({ "type": "string", "enum": variants }),
        Type::Os | Type::Update | Type::Status => json!({}),
    }
}

fn value_json(program: &Program, ty: &Type, v: &Value) -> Json {
    match v {
        Value::Unknown | Value::None => Json::Null,
        Value::Bool(b) => json!(b),
        Value::Int(n) => json!(n),
        Value::Str(s) => json!(s),
        Value::Date(d) => json!(d.to_string()),
        Value::Version(v) => json!(v.to_string()),
        Value::Kbs(kbs) => json!(kbs.iter().map(ToString::to_string).collect::<Vec<_>>()),
        Value::Product(p) => json!(program.products.get(*p).map(|p| p.id.clone())),
        Value::Os(o) => json!(program.oses.get(*o).map(|o| o.id.clone())),
        Value::Enum(i) => match ty {
            Type::Enum(variants) => json!(variants.get(*i)),
            _ => json!(i),
        },
        Value::Level(l) => json!(l.name()),
    }
}

/// A Markdown reference of a rules file: facts, products, OS versions, updates and rules.
pub fn markdown(program: &Program) -> String {
    let a = &program.advisory;
    let mut out = format!("# {}\n\n`{}`", a.title, a.id);
    if let Some(d) = a.published {
        out.push_str(&format!(", published {d}"));
    }
    if let Some(d) = a.updated {
        out.push_str(&format!(", updated {d}"));
    }
    out.push_str(&format!(
        ". {}\n\n## Facts\n\n| fact | type | | description |\n| --- | --- | --- | --- |\n",
        a.source
    ));
    for (index, f) in program.fields.iter().enumerate() {
        let presence = match (&f.presence, &f.condition) {
            (_, Some(_)) => "conditional".to_string(),
            (Presence::Required, None) => "required".to_string(),
            (Presence::Optional, None) => "optional (left out: unknown)".to_string(),
            (Presence::Default(v), None) => format!("default `{}`", value_json(program, &f.ty, v)),
        };
        let presence = match &f.null {
            Some(v) => format!("{presence}; null means `{}`", crate::interp::value_text(program, index, v)),
            None => presence,
        };
        out.push_str(&format!("| `{}` | {} | {presence} | {} |\n", f.dotted(), f.ty.name(), f.docs.join(" ")));
    }
    if !program.products.is_empty() {
        out.push_str("\n## Products\n\n");
    }
    for p in &program.products {
        let versions = match &p.versions {
            None => "all versions".to_string(),
            Some(v) => v
                .iter()
                .map(|l| l.spellings.iter().map(ToString::to_string).collect::<Vec<_>>().join(" = "))
                .collect::<Vec<_>>()
                .join(", "),
        };
        out.push_str(&format!("- `{}` {}: {versions}\n", p.id, p.name));
    }
    let fact = |i: usize| program.fields.get(i).map(|f| f.dotted()).unwrap_or_default();
    if !program.components.is_empty()
        || !program.settings.is_empty()
        || !program.certificates.is_empty()
        || !program.actions.is_empty()
    {
        out.push_str("\n## Components, settings, actions and certificates\n\n");
    }
    for c in &program.components {
        out.push_str(&format!("- component `{}` {}: version from `{}`\n", c.id, c.name, fact(c.fact)));
    }
    for c in &program.settings {
        out.push_str(&format!("- setting `{}` {}: value from `{}`\n", c.id, c.name, fact(c.fact)));
    }
    for a in &program.actions {
        let done = a.fact.map(|f| format!(": done when `{}`", fact(f))).unwrap_or_default();
        out.push_str(&format!("- action `{}` {}{done}\n", a.id, a.name));
    }
    for c in &program.certificates {
        let store = c.fact.map(|f| format!(", present when `{}`", fact(f))).unwrap_or_default();
        let thumbprint = if c.thumbprint.is_empty() { String::new() } else { format!(" ({})", c.thumbprint) };
        out.push_str(&format!("- certificate `{}` {}{thumbprint}{store}\n", c.id, c.name));
    }
    let os_name = |o: &usize| program.oses.get(*o).map_or("?", |o| o.name.as_str());
    out.push_str("\n## Updates\n\n| update | kind | released | applies to | replaces | install after |\n| --- | --- | --- | --- | --- | --- |\n");
    for u in &program.updates {
        let applies: Vec<&str> = u.applies.iter().map(os_name).collect();
        let mut released = u.released.map(|d| d.to_string()).unwrap_or_default();
        for (o, d) in &u.released_for {
            released.push_str(&format!("; {}: {d}", os_name(o)));
        }
        let kbs = |ids: &[usize]| {
            ids.iter().filter_map(|i| program.updates.get(*i)).map(|x| x.kb.to_string()).collect::<Vec<_>>().join(", ")
        };
        let replaces = u.supersedes.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        out.push_str(&format!(
            "| {} | {} | {released} | {} | {replaces} | {} |\n",
            u.kb,
            u.kind,
            applies.join(", "),
            kbs(&u.after)
        ));
    }
    if !program.milestones.is_empty() {
        out.push_str("\n## Milestones\n\n| milestone | date | |\n| --- | --- | --- |\n");
        for m in &program.milestones {
            let text = if m.title.is_empty() { m.docs.join(" ") } else { m.title.clone() };
            out.push_str(&format!("| `{}` | {} | {} |\n", m.id, m.date, text));
        }
    }
    out.push_str("\n## Rules\n");
    for r in &program.rules {
        let severity = match &r.otherwise {
            Some((cond, alt)) => {
                format!("{} if `{}`, else {}", r.severity.name(), crate::interp::source(program, cond), alt.name())
            }
            None => r.severity.name().to_string(),
        };
        out.push_str(&format!("\n### `{}` (line {})\n\n", r.name, r.line));
        if !r.docs.is_empty() {
            out.push_str(&format!("{}\n\n", r.docs.join(" ")));
        }
        if let Some(c) = &r.cite {
            out.push_str(&format!("> {c}\n\n"));
        }
        out.push_str(&format!("- when: `{}`\n", crate::interp::source(program, &r.when)));
        if !r.require.is_empty() {
            let groups: Vec<String> = r
                .require
                .iter()
                .map(|q| match (&q.need, q.newest) {
                    (Need::Updates(_), true) => need_text(program, &q.need).replacen("any of", "the newest out of", 1),
                    _ => need_text(program, &q.need),
                })
                .collect();
            out.push_str(&format!("- requires: {}\n", groups.join("; and ")));
        }
        out.push_str(&format!("- severity: {severity}\n"));
        if let Some(c) = r.certificate.and_then(|c| program.certificates.get(c)) {
            out.push_str(&format!("- certificate: {}\n", c.name));
        }
        let message: String = r
            .message
            .iter()
            .map(|s| match s {
                Segment::Text(t) => t.clone(),
                Segment::Value(e) => format!("{{{}}}", expr_name(program, e)),
                Segment::Need => "{need}".to_string(),
            })
            .collect();
        out.push_str(&format!("- message: {message}\n"));
    }
    out
}

/// One requirement in words.
fn need_text(program: &Program, need: &Need) -> String {
    match need {
        Need::Updates(ids) => {
            let kbs: Vec<String> =
                ids.iter().filter_map(|i| program.updates.get(*i)).map(|u| u.kb.to_string()).collect();
            format!("any of {}", kbs.join(", "))
        }
        Need::Certificate(c) => {
            format!("certificate {}", program.certificates.get(*c).map_or("?", |c| c.name.as_str()))
        }
        Need::Component { component, op, version, shown } => {
            let name = program.components.get(*component).map_or("?", |c| c.name.as_str());
            let version = shown.clone().unwrap_or_else(|| version.to_string());
            crate::verdict::component_words(name, *op, &version)
        }
        Need::Action(a) => format!("action: {}", program.actions.get(*a).map_or("?", |a| a.name.as_str())),
        Need::Setting { setting, value } => {
            let s = program.settings.get(*setting);
            let shown = s.map(|s| crate::interp::value_text(program, s.fact, value)).unwrap_or_default();
            format!("{} = {shown}", s.map_or("?", |s| s.name.as_str()))
        }
        Need::AnyOf(needs) => {
            let each: Vec<String> = needs.iter().map(|n| need_text(program, n)).collect();
            format!("one of: {}", each.join(" / "))
        }
    }
}

fn expr_name(program: &Program, e: &Expr) -> String {
    match e {
        Expr::Field(i) => program.fields.get(*i).map(|f| f.dotted()).unwrap_or_default(),
        Expr::Host(h) => format!("host.{}", h.name()),
        Expr::Status => "status".into(),
        Expr::ReleaseDate(_) => crate::interp::source(program, e),
        _ => "…".into(),
    }
}
