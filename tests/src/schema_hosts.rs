//! Host facts for any rules file, generated from its facts schema and the constants its
//! declarations and rules mention: OS builds (with revisions either side of each update's),
//! component thresholds and their neighbours, every declared KB, the dates conditions compare
//! with (±1 day), enum variants and products. Some fields are left out, some get a value of the
//! wrong type or a malformed one, so input errors are reached too.
//!
//! It knows nothing of any one advisory: a new construct that reads facts is exercised as soon
//! as a rules file uses it.

use crate::hosts::Rng;
use preflight_compiler::ir::{BuildPattern, Expr, Need, Program, Type, Value as V};
use serde_json::{Map, Value, json};

/// The constants worth trying, gathered once per program.
pub struct Palette {
    builds: Vec<String>,
    versions: Vec<String>,
    kbs: Vec<String>,
    dates: Vec<String>,
    strings: Vec<String>,
}

impl Palette {
    pub fn of(program: &Program) -> Palette {
        let mut revisions: Vec<u32> = vec![0, 1];
        for u in &program.updates {
            for r in u.revision.iter().chain(u.revision_for.iter().map(|(_, r)| r)) {
                revisions.extend([r.saturating_sub(1), *r, r.saturating_add(1)]);
            }
        }
        let mut builds = Vec::new();
        for os in &program.oses {
            // Each bound of a pattern and its neighbours (a range's bounds are edges too).
            let edges: Vec<&preflight_compiler::value::Version> = os
                .builds
                .iter()
                .flat_map(|pattern| match pattern {
                    BuildPattern::Prefix(v) => vec![v],
                    BuildPattern::Range(bounds) => bounds.iter().map(|(_, v)| v).collect(),
                })
                .collect();
            for v in edges {
                let base = v.to_string();
                builds.push(base.clone());
                let mut up = v.0.clone();
                if let Some(last) = up.last_mut() {
                    *last = last.saturating_add(1);
                }
                builds.push(up.iter().map(ToString::to_string).collect::<Vec<_>>().join("."));
                let mut down = v.0.clone();
                if let Some(last) = down.last_mut().filter(|l| **l > 0) {
                    *last -= 1;
                    builds.push(down.iter().map(ToString::to_string).collect::<Vec<_>>().join("."));
                }
                if v.0.len() == 3 {
                    builds.extend(revisions.iter().map(|r| format!("{base}.{r}")));
                }
            }
        }
        let mut versions: Vec<String> = vec!["1.0".into(), "20.0".into()];
        let mut dates: Vec<String> = Vec::new();
        let mut consts = Vec::new();
        for rule in &program.rules {
            collect_consts(&rule.when, &mut consts);
            for q in &rule.require {
                collect_consts(&q.met, &mut consts);
                if let Need::Component { version, .. } = &q.need {
                    // The version itself (for `==` and `>`) comes from the consts; just below it too.
                    versions.push(version.to_string());
                    let mut below = version.0.clone();
                    if let Some(last) = below.last_mut() {
                        *last = last.saturating_sub(1);
                    }
                    versions.push(below.iter().map(ToString::to_string).collect::<Vec<_>>().join("."));
                }
            }
            if let Some((c, _)) = &rule.otherwise {
                collect_consts(c, &mut consts);
            }
        }
        for c in consts {
            match c {
                V::Date(d) => {
                    for k in [-1, 0, 1] {
                        dates.push(preflight_compiler::value::Date(d.0 + k).to_string());
                    }
                }
                V::Version(v) => versions.push(v.to_string()),
                _ => {}
            }
        }
        for p in &program.products {
            for listed in p.versions.iter().flatten() {
                versions.extend(listed.spellings.iter().map(ToString::to_string));
            }
        }
        if dates.is_empty() {
            dates.push("2023-01-10".into());
        }
        let mut kbs: Vec<String> = program.updates.iter().map(|u| u.kb.to_string()).collect();
        kbs.extend(program.updates.iter().flat_map(|u| u.supersedes.iter().map(ToString::to_string)));
        kbs.push("KB1234567".into());
        let mut strings: Vec<String> = vec!["windows".into(), "linux".into()];
        strings.extend(program.products.iter().flat_map(|p| p.platforms.iter().cloned()));
        Palette { builds, versions, kbs, dates, strings }
    }
}

fn collect_consts(e: &Expr, out: &mut Vec<V>) {
    match e {
        Expr::Const(v) => out.push(v.clone()),
        Expr::In(l, values) => {
            collect_consts(l, out);
            out.extend(values.iter().cloned());
        }
        Expr::Not(x) | Expr::Known(x) | Expr::Definitely(x) | Expr::Possibly(x) => collect_consts(x, out),
        Expr::And(parts) | Expr::Or(parts) => parts.iter().for_each(|p| collect_consts(p, out)),
        Expr::Compare(l, _, r) => {
            collect_consts(l, out);
            collect_consts(r, out);
        }
        Expr::Field(_) | Expr::Host(_) | Expr::Status | Expr::Patched(_) | Expr::Released(_) | Expr::ReleaseDate(_) => {
        }
    }
}

/// One host's facts for `program`, as JSON bytes.
pub fn host_for(program: &Program, palette: &Palette, rng: &mut Rng) -> Vec<u8> {
    let mut root = Map::new();
    for field in &program.fields {
        if rng.chance(15) {
            continue; // left out
        }
        // null: looked for and not found (what `null = ...` reads), or not given
        let value = if rng.chance(8) {
            Value::Null
        } else if rng.chance(4) {
            wrong(rng, &field.ty)
        } else {
            valid(program, palette, rng, &field.ty)
        };
        insert(&mut root, &field.path, value);
    }
    serde_json::to_vec(&Value::Object(root)).unwrap_or_default()
}

fn insert(map: &mut Map<String, Value>, path: &[String], value: Value) {
    match path {
        [] => {}
        [last] => {
            map.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = map.entry(first.clone()).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(inner) = entry {
                insert(inner, rest, value);
            }
        }
    }
}

fn valid(program: &Program, palette: &Palette, rng: &mut Rng, ty: &Type) -> Value {
    match ty {
        Type::Bool => json!(rng.chance(50)),
        Type::Int => json!(rng.below(10)),
        Type::String => json!(rng.pick(&palette.strings)),
        Type::Date => json!(rng.pick(&palette.dates)),
        Type::Version => json!(rng.pick(&palette.versions)),
        Type::Build => json!(rng.pick(&palette.builds)),
        Type::Kbs => {
            let n = rng.below(4);
            Value::Array((0..n).map(|_| json!(rng.pick(&palette.kbs))).collect())
        }
        Type::Product => {
            let ids: Vec<&str> = program.products.iter().map(|p| p.id.as_str()).collect();
            if ids.is_empty() || rng.chance(5) { json!("no_such_product") } else { json!(rng.pick(&ids)) }
        }
        Type::Enum(variants) => {
            if variants.is_empty() || rng.chance(3) {
                json!("no_such_variant")
            } else {
                json!(rng.pick(variants))
            }
        }
        Type::Os | Type::Update | Type::Status => Value::Null,
    }
}

fn wrong(rng: &mut Rng, ty: &Type) -> Value {
    match rng.below(4) {
        0 => json!(7),
        1 => json!({ "nested": true }),
        2 if matches!(ty, Type::Date) => json!("2023-02-30"),
        2 if matches!(ty, Type::Version | Type::Build) => json!("1..2"),
        2 if matches!(ty, Type::Kbs) => json!(["KBX"]),
        _ => json!(true),
    }
}
