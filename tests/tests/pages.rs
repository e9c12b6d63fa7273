//! Architecture Invariant: no advisory fact lives outside `rules/`. The pages and the scripts
//! the repository ships name no product, Windows version, update, certificate or build of any
//! built-in advisory: they learn them from the compiled modules' metadata (and the collector is
//! generated from the rules).
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod support;

#[test]
fn pages_and_scripts_hold_no_advisory_fact() {
    let mut facts: Vec<String> = Vec::new();
    for program in preflight_compiler::builtin_programs().unwrap() {
        facts.extend(program.products.iter().flat_map(|p| [p.id.clone(), p.name.clone()]));
        facts.extend(program.products.iter().flat_map(|p| p.detect.clone()));
        facts.extend(program.oses.iter().flat_map(|o| [o.id.clone(), o.name.clone()]));
        facts.extend(program.updates.iter().map(|u| u.kb.to_string()));
        facts.extend(program.certificates.iter().flat_map(|c| [c.name.clone(), c.thumbprint.clone()]));
        for os in &program.oses {
            for pattern in &os.builds {
                match pattern {
                    preflight_compiler::ir::BuildPattern::Prefix(v) => facts.push(v.to_string()),
                    preflight_compiler::ir::BuildPattern::Range(bounds) => {
                        facts.extend(bounds.iter().map(|(_, v)| v.to_string()))
                    }
                }
            }
        }
    }
    // Short ids (`os`, `wfbs`) would match ordinary words; names and numbers are what matter.
    facts.retain(|f| f.len() >= 6 && f.contains(|c: char| c.is_ascii_digit() || c == ' ' || c == '_'));
    facts.sort();
    facts.dedup();
    assert!(facts.len() > 50, "{}", facts.len());
    let web = support::root().join("web-demo");
    let shipped = [
        "index.html",
        "selfcheck.js",
        "playground.html",
        "playground.js",
        "editor/editor.js",
        "style.css",
        "playground.css",
        "build.sh",
    ];
    for file in shipped {
        let text = std::fs::read_to_string(web.join(file)).unwrap();
        for fact in &facts {
            assert!(!text.contains(fact.as_str()), "web-demo/{file} names `{fact}`, a fact of a rules file");
        }
    }
    // KB ids of any kind, too: an update belongs in the rules.
    let kb = regex_lite::Regex::new(r"(?i)\bKB\d{6,7}\b").unwrap();
    for file in shipped {
        let text = std::fs::read_to_string(web.join(file)).unwrap();
        assert!(!kb.is_match(&text), "web-demo/{file} names an update");
    }
}
