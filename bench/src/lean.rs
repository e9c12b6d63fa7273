//! The lean baseline: the ACS rules written by hand in Rust — serde_json into structs, then
//! `match` — answering only the status, the rules and the updates to install (no messages, update
//! details or citations), and letting serde default what the module would refuse. Kept as the
//! floor of a native evaluator that skips most of the work; `faithful` is the like-for-like one.

use serde::{Deserialize, Serialize};

#[derive(Deserialize, Default)]
#[serde(default)]
struct Facts {
    product: Product,
    os: Os,
    hotfixes: Vec<String>,
    esu: bool,
    azure: bool,
    root_ca: RootCa,
    as_of: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Product {
    id: String,
    version: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Os {
    platform: Option<String>,
    version: Option<String>,
    product_type: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RootCa {
    auto_update: Option<bool>,
    identity_verification_2020: Option<bool>,
}

#[derive(Serialize)]
struct Verdict<'a> {
    advisory: &'static str,
    status: &'static str,
    findings: Vec<Finding<'a>>,
}

#[derive(Serialize)]
struct Finding<'a> {
    rule: &'static str,
    severity: &'static str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    install_any_of: &'a [&'static str],
}

fn rank(status: &str) -> u8 {
    match status {
        "action_required" => 1,
        "limited" => 2,
        "unsupported" => 3,
        "unknown" => 4,
        "not_affected" => 5,
        _ => 0,
    }
}

/// The findings so far and the status they give.
struct Out {
    status: &'static str,
    findings: Vec<Finding<'static>>,
}

impl Out {
    fn fire(&mut self, rule: &'static str, severity: &'static str, install: &'static [&'static str]) {
        if rank(severity) > rank(self.status) {
            self.status = severity;
        }
        self.findings.push(Finding { rule, severity, install_any_of: install });
    }

    fn need(&mut self, rule: &'static str, ok: bool, severity: &'static str, install: &'static [&'static str]) {
        if !ok {
            self.fire(rule, severity, install);
        }
    }

    fn verdict(self) -> String {
        serde_json::to_string(&Verdict { advisory: "acs_2023", status: self.status, findings: self.findings })
            .unwrap_or_default()
    }
}

/// Facts JSON in, verdict JSON out.
pub fn answer(input: &str) -> String {
    let facts: Facts = match serde_json::from_str(input) {
        Ok(f) => f,
        Err(_) => return r#"{"error":{"code":"invalid_json"}}"#.to_string(),
    };
    let mut out = Out { status: "ready", findings: Vec::new() };
    if facts.os.platform.as_deref().unwrap_or("windows") != "windows" {
        out.fire("other_platform", "not_affected", &[]);
        return out.verdict();
    }
    let version = facts.product.version.as_deref().unwrap_or("");
    let major_minor: Vec<u32> = version.split(['.', '-']).take(2).filter_map(|p| p.parse().ok()).collect();
    let listed = match facts.product.id.as_str() {
        "apex_one" => version == "2019" || major_minor == [14, 0],
        "deep_security_agent" | "deep_security_manager" => {
            matches!(major_minor.as_slice(), [9, 6] | [10, 0] | [12, 0] | [20, 0])
        }
        "wfbs" => major_minor == [10, 0],
        _ => true,
    };
    if !listed {
        out.fire("version_not_listed", "unknown", &[]);
        return out.verdict();
    }
    let parts: Vec<u32> = facts.os.version.as_deref().unwrap_or("").split('.').filter_map(|p| p.parse().ok()).collect();
    let (build, revision) = (parts.get(..3).map(<[u32]>::to_vec).unwrap_or_default(), parts.get(3).copied());
    let server = facts.os.product_type.as_deref() == Some("server");
    let has = |kb: &str| facts.hotfixes.iter().any(|h| h.eq_ignore_ascii_case(kb) || kb.get(2..) == Some(h.as_str()));
    let esu = facts.esu || facts.azure;
    let cumulative = |kb: &'static str, rev: u32| has(kb) || revision.is_some_and(|r| r >= rev);
    match (build.as_slice(), server) {
        ([10, 0, b], false) if *b >= 22000 => {}
        ([10, 0, 19045], false) => {}
        ([10, 0, b], true) if *b > 20348 => {}
        ([10, 0, 19044], false) => {
            out.need("win10_21h2", cumulative("KB5011487", 1586), "action_required", &["KB5011487"])
        }
        ([10, 0, 20348], true) => {
            out.need("server2022", cumulative("KB5005619", 261), "action_required", &["KB5005619"])
        }
        ([10, 0, 19041..=19043], false) => {
            out.need("win10_2004_to_21h1", cumulative("KB5005611", 1266), "action_required", &["KB5005611"])
        }
        ([10, 0, 18363], false) => {
            out.need("win10_1909", cumulative("KB5005624", 1830), "action_required", &["KB5005624"])
        }
        ([10, 0, 17763], _) => {
            out.need("win10_1809_server2019", cumulative("KB5005625", 2210), "action_required", &["KB5005625"])
        }
        ([10, 0, 14393], _) => {
            out.need("server2016_win10_1607", cumulative("KB5006669", 4704), "action_required", &["KB5006669"])
        }
        ([10, 0, 10240], false) => {
            out.need("win10_1507", cumulative("KB5006675", 19086), "action_required", &["KB5006675"])
        }
        ([6, 3, 9600], _) => out.need(
            "win81_server2012r2",
            has("KB5006714") || has("KB5006729") || has("KB5007247") || has("KB5008263"),
            "action_required",
            &["KB5006714", "KB5006729"],
        ),
        ([6, 2, 9200], true) => out.need(
            "server2012",
            has("KB5006739") || has("KB5006732") || has("KB5007260") || has("KB5008277"),
            "action_required",
            &["KB5006739", "KB5006732"],
        ),
        ([6, 0, 6002 | 6003], true) => {
            let severity = if esu { "action_required" } else { "limited" };
            out.need(
                "server2008_sp2",
                has("KB5006736") || has("KB5006715") || has("KB5007263") || has("KB5008274"),
                severity,
                &["KB5006736", "KB5006715"],
            );
        }
        ([6, 1, 7601], _) => {
            let apex = matches!(facts.product.id.as_str(), "apex_one" | "apex_one_saas" | "wfbs" | "wfbs_services");
            if !server && apex && facts.as_of.as_deref().unwrap_or("9999-12-31") >= "2023-01-10" {
                out.fire("win7_product_support_ended", "unsupported", &[]);
            } else {
                let severity = if esu { "action_required" } else { "limited" };
                let rollup =
                    has("KB5006743") || has("KB5006728") || has("KB5007236") || has("KB5008244") || has("KB5020000");
                out.need("win7_server2008r2_rollup", rollup, severity, &["KB5006743", "KB5006728"]);
                out.need("win7_server2008r2_sha2", has("KB4474419"), severity, &["KB4474419"]);
                out.need("win7_server2008r2_ssu", has("KB4490628"), severity, &["KB4490628"]);
            }
        }
        ([5, 0..=2, _], _) => {
            let legacy =
                facts.product.id == "deep_security_agent" && matches!(major_minor.as_slice(), [9, 6] | [10, 0]);
            out.fire(
                if legacy { "legacy_deep_security" } else { "legacy_other" },
                if legacy { "limited" } else { "unknown" },
                &[],
            );
        }
        _ => out.fire("windows_version_not_listed", "unknown", &[]),
    }
    if matches!(out.status, "ready" | "action_required")
        && facts.root_ca.auto_update == Some(false)
        && facts.root_ca.identity_verification_2020 != Some(true)
    {
        out.fire("root_ca_missing", "action_required", &[]);
    }
    out.verdict()
}
