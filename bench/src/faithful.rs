//! The like-for-like baseline: the ACS rules written by hand in Rust, answering byte for byte
//! what the module answers — every field of every finding, and the same input errors.
//!
//! serde_json reads the facts (borrowing, into a struct per group); each fact is checked in the
//! rules file's order with the messages of the contract; the rules are Rust conditions. What the
//! answer says is taken from the compiled rules once, at start-up, as the module takes it at
//! compile time: each finding's JSON around its message (per rule, requirement, Windows version
//! and severity), the names of products and Windows versions, the Windows build table and which
//! updates supersede which. Only the decisions are written here, for this one advisory.
//!
//! Where it differs (outside the benchmark's corpus, which holds none of these): a key given twice
//! is refused as invalid JSON (the module keeps the last), and an invalid-JSON offset is serde's.

use preflight_compiler::Program;
use preflight_compiler::interp::finding_for;
use preflight_compiler::ir::{BuildPattern, Expr, HostValue, Level, Segment, Type, Value};
use preflight_compiler::value::{Date, Kb, Version};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt::Write;

type Raw<'a> = Option<&'a RawValue>;

#[derive(Deserialize)]
struct Document<'a> {
    #[serde(borrow)]
    os: Raw<'a>,
    /// `null` is kept (a host without a product), unlike other facts' `null` (not given).
    #[serde(borrow, default, deserialize_with = "present")]
    product: Raw<'a>,
    #[serde(borrow)]
    hotfixes: Raw<'a>,
    #[serde(borrow)]
    esu: Raw<'a>,
    #[serde(borrow)]
    azure: Raw<'a>,
    #[serde(borrow)]
    root_ca: Raw<'a>,
    #[serde(borrow)]
    as_of: Raw<'a>,
}

#[derive(Deserialize, Default)]
struct OsGroup<'a> {
    #[serde(borrow)]
    platform: Raw<'a>,
    #[serde(borrow)]
    version: Raw<'a>,
    #[serde(borrow)]
    product_type: Raw<'a>,
    #[serde(borrow)]
    edition: Raw<'a>,
}

#[derive(Deserialize, Default)]
struct ProductGroup<'a> {
    #[serde(borrow, default, deserialize_with = "present")]
    id: Raw<'a>,
    #[serde(borrow)]
    version: Raw<'a>,
}

#[derive(Deserialize, Default)]
struct RootCaGroup<'a> {
    #[serde(borrow)]
    auto_update: Raw<'a>,
    #[serde(borrow)]
    identity_verification_2020: Raw<'a>,
}

/// An input error: code, field, message.
struct Refused(&'static str, String, String);

fn kind(raw: &RawValue) -> &'static str {
    match raw.get().as_bytes().first() {
        Some(b't' | b'f') => "a bool",
        Some(b'"') => "a string",
        Some(b'[') => "an array",
        Some(b'{') => "an object",
        Some(b'n') => "null",
        _ => "a number",
    }
}

fn wrong(field: &str, what: &str, raw: &RawValue) -> Refused {
    Refused("wrong_type", field.into(), format!("`{field}` must be {what}, found {}", kind(raw)))
}

fn text<'a>(field: &str, raw: &'a RawValue) -> Result<Cow<'a, str>, Refused> {
    if raw.get().starts_with('"') {
        serde_json::from_str(raw.get()).map_err(|_| wrong(field, "a string", raw))
    } else {
        Err(wrong(field, "a string", raw))
    }
}

fn boolean(field: &str, raw: &RawValue) -> Result<bool, Refused> {
    match raw.get() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(wrong(field, "true or false", raw)),
    }
}

/// A group (`os`, `product`, `root_ca`): absent, or an object read into its struct.
fn group<'a, T: Deserialize<'a> + Default>(name: &str, raw: Raw<'a>) -> Result<T, Refused> {
    match raw {
        None => Ok(T::default()),
        Some(raw) if raw.get().starts_with('{') => {
            serde_json::from_str(raw.get()).map_err(|e| Refused("invalid_json", String::new(), e.to_string()))
        }
        Some(_) => Err(Refused("wrong_type", name.into(), format!("`{name}` must be an object"))),
    }
}

/// A member that is there, `null` included.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Raw<'de>, D::Error> {
    <&'de RawValue>::deserialize(d).map(Some)
}

fn required<'a>(field: &str, raw: Raw<'a>) -> Result<&'a RawValue, Refused> {
    raw.ok_or_else(|| Refused("missing_field", field.into(), format!("`{field}` is required")))
}

/// The facts of one host, read and checked.
struct Facts<'a> {
    platform: Cow<'a, str>,
    build: Option<Version>,
    role: Option<usize>,
    /// `usize::MAX`: the host has no product (`null`).
    product: usize,
    version: Option<Version>,
    hotfixes: Vec<Kb>,
    esu: bool,
    azure: bool,
    auto_update: Option<bool>,
    identity_2020: Option<bool>,
    as_of: Date,
}

/// Per rule, requirement, Windows version and severity: the finding's JSON before and after its
/// message.
type Fragments = HashMap<(usize, Option<usize>, Option<usize>, Level), (String, String)>;

pub struct Faithful {
    program: Program,
    fragments: Fragments,
    rule: HashMap<&'static str, usize>,
    os: HashMap<&'static str, usize>,
    product: HashMap<&'static str, usize>,
    /// For each update: the KBs that satisfy it (itself and those that supersede it).
    satisfied_by: HashMap<u32, Vec<Kb>>,
    head: String,
}

const RULES: [&str; 26] = [
    "no_product",
    "other_platform",
    "version_not_listed",
    "windows_version_not_listed",
    "supported_by_default",
    "win10_21h2",
    "server2022",
    "win10_2004_to_21h1",
    "win10_1909",
    "win10_1809_server2019",
    "server2016_win10_1607",
    "win10_1507",
    "win81_server2012r2",
    "server2012",
    "server2008_sp2",
    "win7_server2008r2_rollup",
    "win7_server2008r2_sha2",
    "win7_server2008r2_ssu",
    "win7_product_support_ended",
    "esu_ended",
    "legacy_deep_security",
    "legacy_other",
    "server2012_end_of_support",
    "root_ca_missing",
    "root_ca_check",
    "new_install",
];

const OSES: [&str; 22] = [
    "win10_22h2",
    "win10_21h2",
    "server2022",
    "win10_21h1",
    "win10_20h2",
    "win10_2004",
    "win10_1909",
    "win10_1809",
    "server2019",
    "server2016",
    "win10_1607",
    "win10_1507",
    "win81",
    "server2012r2",
    "server2012",
    "server2008_sp2",
    "win7_sp1",
    "server2008r2",
    "win2000",
    "winxp",
    "winxp_x64",
    "server2003",
];

/// The Windows versions ACS's table names (its `listed_windows`).
const LISTED: [&str; 21] = [
    "win10_21h2",
    "server2022",
    "win10_21h1",
    "win10_20h2",
    "win10_2004",
    "win10_1909",
    "win10_1809",
    "server2019",
    "server2016",
    "win10_1607",
    "win10_1507",
    "win81",
    "server2012r2",
    "server2012",
    "server2008_sp2",
    "win7_sp1",
    "server2008r2",
    "win2000",
    "winxp",
    "winxp_x64",
    "server2003",
];

impl Faithful {
    pub fn new(program: &Program) -> Faithful {
        let index = |names: &[&'static str], ids: Vec<&str>| -> HashMap<&'static str, usize> {
            names
                .iter()
                .map(|n| (*n, ids.iter().position(|id| id == n).unwrap_or_else(|| panic!("`{n}` is not declared"))))
                .collect()
        };
        let rule = index(&RULES, program.rules.iter().map(|r| r.name.as_str()).collect());
        let os = index(&OSES, program.oses.iter().map(|o| o.id.as_str()).collect());
        let product =
            index(&preflight_tests::hosts::PRODUCTS, program.products.iter().map(|p| p.id.as_str()).collect());
        let mut fragments = Fragments::new();
        for (r, spec) in program.rules.iter().enumerate() {
            let requirements: Vec<Option<usize>> =
                if spec.require.is_empty() { vec![None] } else { (0..spec.require.len()).map(Some).collect() };
            let levels = [Some(spec.severity), spec.otherwise.as_ref().map(|o| o.1)];
            for req in requirements {
                for host_os in std::iter::once(None).chain((0..program.oses.len()).map(Some)) {
                    for level in levels.into_iter().flatten() {
                        let finding = finding_for(program, spec, req, host_os, None, level.name(), "\u{1}".into());
                        let json = serde_json::to_string(&finding).expect("serialises");
                        let (before, after) = json.split_once("\\u0001").expect("the message's mark");
                        fragments.insert((r, req, host_os, level), (before.to_string(), after.to_string()));
                    }
                }
            }
        }
        let satisfied_by = program
            .updates
            .iter()
            .map(|u| (u.kb.0, std::iter::once(u.kb).chain(u.superseded_by.iter().copied()).collect()))
            .collect();
        let head =
            format!("{{\"advisory\":{},\"status\":\"", serde_json::to_string(&program.advisory.id).unwrap_or_default());
        Faithful { program: program.clone(), fragments, rule, os, product, satisfied_by, head }
    }

    /// Facts JSON in, the module's answer out.
    pub fn answer(&self, input: &str) -> String {
        match self.read(input) {
            Ok(facts) => self.verdict(&facts),
            Err(Refused(code, field, message)) => {
                let mut out = String::with_capacity(96 + message.len());
                out.push_str("{\"error\":{\"code\":\"");
                out.push_str(code);
                out.push_str("\",\"field\":");
                escape(&mut out, &field);
                out.push_str(",\"message\":");
                escape(&mut out, &message);
                out.push_str("}}");
                out
            }
        }
    }

    fn read<'a>(&self, input: &'a str) -> Result<Facts<'a>, Refused> {
        if input.len() > preflight_compiler::facts::MAX_INPUT_BYTES {
            let message =
                format!("the facts are over {} bytes, the most accepted", preflight_compiler::facts::MAX_INPUT_BYTES);
            return Err(Refused("too_large", String::new(), message));
        }
        let doc: Document<'a> = serde_json::from_str(input).map_err(|e| {
            if input.trim_start().starts_with('{') || e.is_syntax() || e.is_eof() {
                let offset = input.lines().take(e.line().saturating_sub(1)).map(|l| l.len() + 1).sum::<usize>()
                    + e.column().saturating_sub(1);
                Refused("invalid_json", String::new(), format!("the facts are not valid JSON (byte {offset})"))
            } else {
                Refused("not_an_object", String::new(), "the facts must be a JSON object".into())
            }
        })?;
        let os: OsGroup<'a> = group("os", doc.os)?;
        let platform = match os.platform {
            None => Cow::Borrowed("windows"),
            Some(raw) => text("os.platform", raw)?,
        };
        let windows = platform == "windows";
        let build = match windows {
            true => {
                let raw = required("os.version", os.version)?;
                Some(Version::parse_build(&text("os.version", raw)?).ok_or_else(|| {
                    Refused(
                        "malformed_version",
                        "os.version".into(),
                        "`os.version` must be a Windows build major.minor.build[.revision]".into(),
                    )
                })?)
            }
            false => None,
        };
        let role = match windows {
            true => {
                let raw = required("os.product_type", os.product_type)?;
                match text("os.product_type", raw)?.as_ref() {
                    "workstation" => Some(0),
                    "server" => Some(1),
                    _ => {
                        return Err(Refused(
                            "unknown_value",
                            "os.product_type".into(),
                            "`os.product_type` must be one of workstation, server".into(),
                        ));
                    }
                }
            }
            false => None,
        };
        // The shared Windows file's facts come first: the edition, ESU and the date.
        if windows && let Some(raw) = os.edition {
            const EDITIONS: [&str; 9] =
                ["home", "pro", "enterprise", "education", "ltsc", "iot_ltsc", "server", "server_sac", "other"];
            if !EDITIONS.contains(&text("os.edition", raw)?.as_ref()) {
                return Err(Refused(
                    "unknown_value",
                    "os.edition".into(),
                    format!("`os.edition` must be one of {}", EDITIONS.join(", ")),
                ));
            }
        }
        let esu = doc.esu.map(|raw| boolean("esu", raw)).transpose()?.unwrap_or(false);
        let as_of = match doc.as_of {
            None => Date(Date::LAST.0),
            Some(raw) => Date::parse(&text("as_of", raw)?)
                .ok_or_else(|| Refused("malformed_date", "as_of".into(), "`as_of` must be a date YYYY-MM-DD".into()))?,
        };
        // `"product": null` or `"id": null`: the host has no product.
        let no_product = doc.product.is_some_and(|r| r.get() == "null");
        let product_group: ProductGroup<'a> =
            if no_product { ProductGroup::default() } else { group("product", doc.product)? };
        let none = no_product || product_group.id.is_some_and(|r| r.get() == "null");
        let product = if none {
            usize::MAX
        } else {
            let id = text("product.id", required("product.id", product_group.id)?)?;
            self.program.products.iter().position(|p| p.id == id).ok_or_else(|| {
                let known: Vec<&str> = self.program.products.iter().map(|p| p.id.as_str()).collect();
                Refused(
                    "unknown_value",
                    "product.id".into(),
                    format!("`product.id` must be one of {}", known.join(", ")),
                )
            })?
        };
        let versioned = ["apex_one", "deep_security_agent", "deep_security_manager", "wfbs"]
            .iter()
            .any(|p| self.product.get(p) == Some(&product));
        let version = match windows && versioned {
            true => {
                let raw = required("product.version", product_group.version)?;
                Some(Version::parse_product(&text("product.version", raw)?).ok_or_else(|| {
                    Refused(
                        "malformed_version",
                        "product.version".into(),
                        "`product.version` must be a version: dotted numbers, optionally with a build suffix (1.2, 1.2.3-456)"
                            .into(),
                    )
                })?)
            }
            false => None,
        };
        let mut hotfixes = Vec::new();
        if let Some(raw) = doc.hotfixes {
            if !raw.get().starts_with('[') {
                return Err(wrong("hotfixes", "an array of update ids", raw));
            }
            let items: Vec<&RawValue> =
                serde_json::from_str(raw.get()).map_err(|e| Refused("invalid_json", String::new(), e.to_string()))?;
            for (i, item) in items.iter().enumerate() {
                let field = format!("hotfixes[{i}]");
                if !item.get().starts_with('"') {
                    return Err(Refused(
                        "wrong_type",
                        field.clone(),
                        format!("`{field}` must be a string, found {}", kind(item)),
                    ));
                }
                hotfixes.extend(Kb::parse(&text(&field, item)?));
            }
            hotfixes.sort_unstable();
            hotfixes.dedup();
        }
        let azure = doc.azure.map(|raw| boolean("azure", raw)).transpose()?.unwrap_or(false);
        let ca: RootCaGroup<'a> = group("root_ca", doc.root_ca)?;
        let auto_update = ca.auto_update.map(|raw| boolean("root_ca.auto_update", raw)).transpose()?;
        let identity_2020 =
            ca.identity_verification_2020.map(|raw| boolean("root_ca.identity_verification_2020", raw)).transpose()?;
        Ok(Facts { platform, build, role, product, version, hotfixes, esu, azure, auto_update, identity_2020, as_of })
    }

    fn verdict(&self, f: &Facts<'_>) -> String {
        let p = &self.program;
        let spec = p.products.get(f.product);
        // host values
        let os = f.build.as_ref().and_then(|b| {
            p.oses.iter().position(|os| {
                os.role.is_none_or(|want| Some(want) == f.role) && os.builds.iter().any(|pat| matches(b, pat))
            })
        });
        let revision = f.build.as_ref().and_then(Version::revision);
        let version_listed = spec.and_then(|s| match (&s.versions, &f.version) {
            (None, _) => Some(true),
            (Some(listed), Some(v)) => {
                Some(listed.iter().any(|l| l.spellings.iter().any(|x| v.cmp_prefix(x) == Ordering::Equal)))
            }
            _ => None,
        });
        let platform_listed = spec.map(|s| s.platforms.is_empty() || s.platforms.iter().any(|x| *x == f.platform));
        let is = |id: &str| os.is_some() && os == self.os.get(id).copied();
        let in_oses = |ids: &[&str]| ids.iter().any(|id| is(id));
        let product_is = |id: &str| self.product.get(id) == Some(&f.product);
        let patched =
            |kb: u32| {
                let installed =
                    self.satisfied_by.get(&kb).is_some_and(|by| by.iter().any(|k| f.hotfixes.binary_search(k).is_ok()));
                installed
                    || match (revision, os) {
                        (Some(rev), Some(o)) => p.updates.iter().find(|u| u.kb.0 == kb).is_some_and(|u| {
                            u.applies.contains(&o) && u.revision_on(o).is_some_and(|need| rev >= need)
                        }),
                        _ => false,
                    }
            };
        let covered = platform_listed == Some(true) && version_listed == Some(true);
        let has_esu = f.esu || f.azure;
        let esu_ended_on = Date::parse("2023-01-10").unwrap_or(Date(0));
        let win7_support_ended = is("win7_sp1")
            && (product_is("apex_one")
                || product_is("apex_one_saas")
                || product_is("wfbs")
                || product_is("wfbs_services"))
            && f.as_of >= esu_ended_on;
        let dsa_legacy_version = product_is("deep_security_agent")
            && f.version.as_ref().is_some_and(|v| {
                [[9, 6], [10, 0]].iter().any(|mm| v.cmp_prefix(&Version(mm.to_vec())) == Ordering::Equal)
            });
        let end_of_support = os.and_then(|o| p.oses.get(o)).and_then(|o| o.end_of_support);
        let esu_or = |yes: Level| if has_esu { yes } else { Level::Limited };

        // (rule, level, unmet requirements) for every rule that fires, in rule order.
        let mut fired: Vec<(usize, Level, Vec<usize>)> = Vec::new();
        let mut status = Level::Ready;
        let mut fire = |name: &str, level: Level, unmet: Vec<usize>, status: &mut Level| {
            if let Some(&r) = self.rule.get(name) {
                if level.is_status() {
                    *status = (*status).max(level);
                }
                fired.push((r, level, unmet));
            }
        };
        // Out at the evaluation date, for the host's OS: a group none of whose updates is out is
        // not due yet.
        let out = |kb: u32| {
            p.updates.iter().find(|u| u.kb.0 == kb).is_none_or(|u| u.released_on(os).is_none_or(|d| d <= f.as_of))
        };
        let need = |kbs: &[u32]| {
            if kbs.iter().any(|kb| patched(*kb)) || !kbs.iter().any(|kb| out(*kb)) { vec![] } else { vec![0] }
        };
        if f.product == usize::MAX {
            fire("no_product", Level::NotAffected, vec![], &mut status);
        }
        if f.product != usize::MAX && platform_listed != Some(true) {
            fire("other_platform", Level::NotAffected, vec![], &mut status);
        }
        if platform_listed == Some(true) && version_listed != Some(true) {
            fire("version_not_listed", Level::Unknown, vec![], &mut status);
        }
        if covered {
            // Windows 11 and servers after 2022 by their builds, as the rules file says.
            let build_from = |b: &[u32], strictly: bool| {
                f.build.as_ref().is_some_and(|v| {
                    let o = v.cmp_prefix(&Version(b.to_vec()));
                    if strictly { o == Ordering::Greater } else { o != Ordering::Less }
                })
            };
            let by_default = (f.role == Some(0) && build_from(&[10, 0, 22000], false))
                || is("win10_22h2")
                || (f.role == Some(1) && build_from(&[10, 0, 20348], true));
            if !by_default && !in_oses(&LISTED) {
                fire("windows_version_not_listed", Level::Unknown, vec![], &mut status);
            }
            if by_default {
                fire("supported_by_default", Level::Info, vec![], &mut status);
            }
            let cumulative: [(&str, &[&str], u32); 7] = [
                ("win10_21h2", &["win10_21h2"], 5011487),
                ("server2022", &["server2022"], 5005619),
                ("win10_2004_to_21h1", &["win10_2004", "win10_20h2", "win10_21h1"], 5005611),
                ("win10_1909", &["win10_1909"], 5005624),
                ("win10_1809_server2019", &["win10_1809", "server2019"], 5005625),
                ("server2016_win10_1607", &["server2016", "win10_1607"], 5006669),
                ("win10_1507", &["win10_1507"], 5006675),
            ];
            for (name, oses, kb) in cumulative {
                let unmet = need(&[kb]);
                if in_oses(oses) && !unmet.is_empty() {
                    fire(name, Level::ActionRequired, unmet, &mut status);
                }
            }
            let rollups: [(&str, &[&str], [u32; 2], Level); 2] = [
                ("win81_server2012r2", &["win81", "server2012r2"], [5006714, 5006729], Level::ActionRequired),
                ("server2012", &["server2012"], [5006739, 5006732], Level::ActionRequired),
            ];
            for (name, oses, kbs, level) in rollups {
                let unmet = need(&kbs);
                if in_oses(oses) && !unmet.is_empty() {
                    fire(name, level, unmet, &mut status);
                }
            }
            if is("server2008_sp2") && !need(&[5006736, 5006715]).is_empty() {
                fire("server2008_sp2", esu_or(Level::ActionRequired), vec![0], &mut status);
            }
            if in_oses(&["win7_sp1", "server2008r2"]) && !win7_support_ended {
                for (name, kbs) in [
                    ("win7_server2008r2_rollup", &[5006743, 5006728][..]),
                    ("win7_server2008r2_sha2", &[4474419][..]),
                    ("win7_server2008r2_ssu", &[4490628][..]),
                ] {
                    if !need(kbs).is_empty() {
                        fire(name, esu_or(Level::ActionRequired), vec![0], &mut status);
                    }
                }
            }
            if win7_support_ended {
                fire("win7_product_support_ended", Level::Unsupported, vec![], &mut status);
            }
            let esu_until = os.and_then(|o| p.oses.get(o)).and_then(|o| o.esu_until);
            if in_oses(&["win7_sp1", "server2008r2", "server2008_sp2"]) && esu_until.is_some_and(|d| f.as_of >= d) {
                fire("esu_ended", Level::Info, vec![], &mut status);
            }
            if in_oses(&["win2000", "winxp", "winxp_x64", "server2003"]) {
                if dsa_legacy_version {
                    fire("legacy_deep_security", Level::Limited, vec![], &mut status);
                } else {
                    fire("legacy_other", Level::Unknown, vec![], &mut status);
                }
            }
            if in_oses(&["server2012", "server2012r2"]) && end_of_support.is_some_and(|d| f.as_of >= d) && !has_esu {
                fire("server2012_end_of_support", Level::Warning, vec![], &mut status);
            }
        }
        let open = matches!(status, Level::Ready | Level::ActionRequired);
        if open && f.auto_update == Some(false) && f.identity_2020 != Some(true) {
            fire("root_ca_missing", Level::ActionRequired, vec![], &mut status);
        }
        let open = matches!(status, Level::Ready | Level::ActionRequired);
        if open && f.auto_update.is_none() && f.identity_2020 != Some(true) {
            fire("root_ca_check", Level::Info, vec![], &mut status);
        }
        if status == Level::ActionRequired {
            fire("new_install", Level::Info, vec![], &mut status);
        }

        let mut out = String::with_capacity(1024);
        out.push_str(&self.head);
        out.push_str(status.name());
        out.push('"');
        if let Some(declared) = os.and_then(|o| p.oses.get(o)) {
            out.push_str(",\"os\":\"");
            out.push_str(&declared.id);
            out.push('"');
        }
        out.push_str(",\"findings\":[");
        let mut first = true;
        for &(r, requirement) in &p.finding_order {
            let Some((_, level, unmet)) = fired.iter().find(|(x, _, _)| *x == r) else { continue };
            if requirement.is_some_and(|k| !unmet.contains(&k)) {
                continue;
            }
            let Some((before, after)) = self.fragments.get(&(r, requirement, os, *level)) else { continue };
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(before);
            let mut message = String::new();
            if let Some(rule) = p.rules.get(r) {
                for segment in &rule.message {
                    match segment {
                        Segment::Text(t) => message.push_str(t),
                        Segment::Value(e) => self.display(&mut message, e, f, os),
                        Segment::Need => panic!("the baseline shows no `{{need}}`"),
                    }
                }
            }
            escape_inner(&mut out, &message);
            out.push_str(after);
        }
        out.push_str("]}");
        out
    }

    /// A value in a message, as the rules file's `{...}` shows it.
    fn display(&self, out: &mut String, e: &Expr, f: &Facts<'_>, os: Option<usize>) {
        let p = &self.program;
        let field = |i: usize| p.fields.get(i).map(|x| x.dotted()).unwrap_or_default();
        let unknown = "unknown";
        match e {
            Expr::Host(HostValue::Product) => {
                out.push_str(p.products.get(f.product).map_or(unknown, |x| x.name.as_str()))
            }
            Expr::Host(HostValue::Os) => {
                out.push_str(os.and_then(|o| p.oses.get(o)).map_or(unknown, |x| x.name.as_str()))
            }
            Expr::Host(HostValue::EndOfSupport) => {
                match os.and_then(|o| p.oses.get(o)).and_then(|x| x.end_of_support) {
                    Some(d) => drop(write!(out, "{d}")),
                    None => out.push_str(unknown),
                }
            }
            Expr::Host(HostValue::EsuUntil) => match os.and_then(|o| p.oses.get(o)).and_then(|x| x.esu_until) {
                Some(d) => drop(write!(out, "{d}")),
                None => out.push_str(unknown),
            },
            Expr::Field(i) => match field(*i).as_str() {
                "os.platform" => out.push_str(&f.platform),
                "os.version" => match &f.build {
                    Some(v) => drop(write!(out, "{v}")),
                    None => out.push_str(unknown),
                },
                "product.version" => match &f.version {
                    Some(v) => drop(write!(out, "{v}")),
                    None => out.push_str(unknown),
                },
                "os.product_type" => out.push_str(match (f.role, p.fields.get(*i).map(|x| &x.ty)) {
                    (Some(r), Some(Type::Enum(variants))) => variants.get(r).map_or(unknown, String::as_str),
                    _ => unknown,
                }),
                other => panic!("the baseline shows no `{other}`"),
            },
            Expr::Const(Value::Date(d)) => drop(write!(out, "{d}")),
            other => panic!("the baseline shows no {other:?}"),
        }
    }
}

fn matches(build: &Version, pattern: &BuildPattern) -> bool {
    match pattern {
        BuildPattern::Prefix(x) => build.cmp_prefix(x) == Ordering::Equal,
        BuildPattern::Range(bounds) => bounds.iter().all(|(op, x)| op.holds(build.cmp_prefix(x))),
    }
}

/// A JSON string, quoted, escaped as serde_json escapes.
fn escape(out: &mut String, text: &str) {
    out.push('"');
    escape_inner(out, text);
    out.push('"');
}

fn escape_inner(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => drop(write!(out, "\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::Faithful;
    use preflight_tests::hosts::{Rng, host};

    /// The benchmark's corpus, answered by the baseline and by the reference interpreter (which
    /// the module matches byte for byte in the differential tests): the same bytes.
    #[test]
    fn answers_the_benchmark_corpus_byte_for_byte() {
        let program = preflight_compiler::check_source(preflight_compiler::ACS_RULES).program.unwrap();
        let faithful = Faithful::new(&program);
        let mut rng = Rng::new(0xBE_0C4);
        let mut errors = 0;
        for _ in 0..20_000 {
            let doc = host(&mut rng).to_string();
            let want = preflight_compiler::answer(&program, &doc);
            errors += usize::from(want.starts_with("{\"error\""));
            assert_eq!(faithful.answer(&doc), want, "{doc}");
        }
        // The corpus holds input errors too, and the baseline reports them the same way.
        assert!(errors > 500, "{errors}");
    }
}
