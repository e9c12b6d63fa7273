//! The intermediate representation: a checked rules file with every name resolved to an index and
//! every literal parsed. The interpreter evaluates it and the code generator walks it.
//!
//! **Invariant:** a `Program` only exists for a rules file the checker accepted; the evaluator may
//! rely on every index being in range and every expression being well-typed. It still never
//! indexes without a check (the workspace denies `indexing_slicing`), so a broken invariant yields
//! `unknown` values, not a panic.

use crate::ast::{CmpOp, Span};
use crate::value::{Date, Kb, Version};

pub type FieldId = usize;
pub type ProductId = usize;
pub type OsId = usize;
pub type UpdateId = usize;
pub type CertId = usize;
pub type ComponentId = usize;
pub type SettingId = usize;
pub type ActionId = usize;
pub type RuleId = usize;

#[derive(Clone, Debug)]
pub struct Program {
    pub advisory: Advisory,
    /// The leaves of the facts schema, in declaration order (the order they are read in).
    pub fields: Vec<FieldDef>,
    pub products: Vec<Product>,
    pub oses: Vec<Os>,
    pub updates: Vec<Update>,
    pub certificates: Vec<Certificate>,
    pub components: Vec<Component>,
    pub settings: Vec<Setting>,
    pub actions: Vec<Action>,
    pub host: HostRoles,
    pub rules: Vec<Rule>,
    /// The order findings are listed in: a rule's finding (`None`) or the finding of one of its
    /// requirements. Rule order, except that an update's finding comes after the findings of the
    /// updates it must be installed `after`.
    pub finding_order: Vec<(RuleId, Option<usize>)>,
    pub tests: Vec<TestCase>,
    /// The advisory's dated milestones, in declaration order.
    pub milestones: Vec<Milestone>,
}

/// A dated milestone (`milestone kek_2011_expires { date 2026-06-24 }`): a date rules, messages
/// and tests name.
#[derive(Clone, Debug)]
pub struct Milestone {
    pub id: String,
    pub title: String,
    pub date: Date,
    pub docs: Vec<String>,
    pub links: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Advisory {
    pub id: String,
    pub title: String,
    pub source: String,
    pub published: Option<Date>,
    pub updated: Option<Date>,
    pub cutover: Option<Date>,
    pub links: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct FieldDef {
    /// JSON path segments, e.g. `["os", "version"]`.
    pub path: Vec<String>,
    pub ty: Type,
    pub presence: Presence,
    /// What `null` in the facts means (`null = none`); without it, null reads as absent.
    pub null: Option<Value>,
    /// The field is read only when this holds (it may only read earlier fields); where it is
    /// false the field is none, where it cannot be decided unknown, whatever the input says.
    pub condition: Option<Expr>,
    pub docs: Vec<String>,
    /// How a Windows collector reads the fact (`from ...`), if the rules say.
    pub collect: Option<Collect>,
}

/// How a collector reads a fact on Windows: what is read (several pieces are joined into one
/// text) and how what was read becomes the fact's value.
#[derive(Clone, Debug, PartialEq)]
pub struct Collect {
    /// Each source with the text written before it. When the first source reads nothing the
    /// fact is not collected; a later source that reads nothing is left out with its text.
    pub pieces: Vec<(String, Source)>,
    /// Text written after the last source.
    pub suffix: String,
    /// `map { ... }`: the first entry that matches gives the value; no match, no value.
    pub map: Vec<(MapKey, MapValue)>,
}

impl Collect {
    /// Every source read, in order.
    pub fn sources(&self) -> impl Iterator<Item = &Source> {
        self.pieces.iter().map(|(_, source)| source)
    }

    /// Where the fact is read, as a person would look it up (`registry HKLM:\...: UBR`).
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self.sources().map(Source::describe).collect();
        parts.join(" + ")
    }
}

impl Source {
    /// Where this source reads, in a few words.
    pub fn describe(&self) -> String {
        match self {
            Source::Registry { key, value } => format!("registry {key}: {value}"),
            Source::Cim { class, property } => format!("CIM {class}.{property}"),
            Source::Env(name) => format!("environment variable {name}"),
            Source::FileVersion(path) => format!("file version of {path}"),
            Source::CertStore { store, thumbprint } => {
                format!("certificate {thumbprint} in the local machine's {store} store")
            }
            Source::Uefi { variable, name } => format!("\"{name}\" in the UEFI {variable} variable"),
            Source::Hotfixes => "installed updates (Get-HotFix)".into(),
            Source::Uninstall => "installed programs (uninstall entries)".into(),
            Source::UninstallEntry(pattern) => {
                format!("the version of the installed program whose name matches \"{pattern}\" (uninstall entries)")
            }
            Source::PowerShell(code) => format!("PowerShell: {code}"),
        }
    }
}

/// One thing a collector reads on Windows.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// A registry value: key (`HKLM:\...`) and value name.
    Registry { key: String, value: String },
    /// A property of the first instance of a CIM (WMI) class.
    Cim { class: String, property: String },
    /// An environment variable.
    Env(String),
    /// A file's version (`C:\Windows\System32\x.dll`; `%SystemRoot%`-style variables expanded).
    FileVersion(String),
    /// Whether a certificate with this SHA-1 thumbprint is in a certificate store of the local
    /// machine (`Root`, `CA`, ...).
    CertStore { store: String, thumbprint: String },
    /// Whether a certificate of this name is in a UEFI Secure Boot variable (`db`, `KEK`, ...).
    Uefi { variable: String, name: String },
    /// The installed updates (`Get-HotFix`).
    Hotfixes,
    /// The product whose `detect` pattern matches an uninstall entry, or that entry's version
    /// (only for the fact the `product_version` role binds).
    Uninstall,
    /// The version (`DisplayVersion`) of the first uninstall entry whose name (`DisplayName`)
    /// matches this regular expression, ignoring case (PowerShell's `-match`).
    UninstallEntry(String),
    /// A PowerShell expression or statement list: code, which the collector emits only when asked.
    PowerShell(String),
}

/// A `map` entry's test on what was read.
#[derive(Clone, Debug, PartialEq)]
pub enum MapKey {
    /// Equal, ignoring case (PowerShell's `-eq` on text).
    Equals(String),
    /// Matches the regular expression (PowerShell's `-match`).
    Matches(String),
    /// A whole number (decimal) that compares so with this one (`>= 528040`).
    Compare(crate::ast::CmpOp, i64),
    /// Anything that was read.
    Else,
    /// Nothing was read: what a missing value means (a policy not set, say).
    Missing,
}

/// The fact's value a `map` entry gives.
#[derive(Clone, Debug, PartialEq)]
pub enum MapValue {
    Text(String),
    Int(i64),
    Bool(bool),
}

impl FieldDef {
    pub fn dotted(&self) -> String {
        self.path.join(".")
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Presence {
    Required,
    Optional,
    Default(Value),
}

/// The types of facts and expressions.
#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    Bool,
    Int,
    String,
    Date,
    /// A product version (`20.0.0-5394`).
    Version,
    /// A Windows build (`10.0.19044.1586`).
    Build,
    /// A set of KB ids (installed updates).
    Kbs,
    /// One of the declared products.
    Product,
    /// One of the declared OS versions.
    Os,
    /// One of the declared updates.
    Update,
    /// A verdict status or finding severity.
    Status,
    Enum(Vec<String>),
}

impl Type {
    pub fn name(&self) -> String {
        match self {
            Type::Bool => "bool".into(),
            Type::Int => "int".into(),
            Type::String => "string".into(),
            Type::Date => "date".into(),
            Type::Version => "version".into(),
            Type::Build => "build".into(),
            Type::Kbs => "kbs".into(),
            Type::Product => "product".into(),
            Type::Os => "os".into(),
            Type::Update => "update".into(),
            Type::Status => "status".into(),
            Type::Enum(variants) => format!("enum({})", variants.join(", ")),
        }
    }
}

/// A runtime value. `Unknown`: the host did not say (an optional fact left out, or a value
/// derived from one); conditions on it are undetermined. `None`: the host is known to have no
/// value (`null` read as `none`, a fact whose `if` does not hold, a build no declared OS
/// matches); a comparison with it is false, `!=` true.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Unknown,
    None,
    Bool(bool),
    Int(i64),
    Str(String),
    Date(Date),
    Version(Version),
    Kbs(Vec<Kb>),
    Product(ProductId),
    Os(OsId),
    Enum(usize),
    Level(Level),
}

/// Finding severities and verdict statuses, in the order of SEMANTICS.md's precedence
/// (later variants win), with the two notice severities first: they never change the status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Info,
    Warning,
    Ready,
    ActionRequired,
    Limited,
    Unsupported,
    Unknown,
    NotAffected,
}

impl Level {
    pub const ALL: [Level; 8] = [
        Level::Info,
        Level::Warning,
        Level::Ready,
        Level::ActionRequired,
        Level::Limited,
        Level::Unsupported,
        Level::Unknown,
        Level::NotAffected,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Ready => "ready",
            Level::ActionRequired => "action_required",
            Level::Limited => "limited",
            Level::Unsupported => "unsupported",
            Level::Unknown => "unknown",
            Level::NotAffected => "not_affected",
        }
    }

    pub fn from_name(name: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.name() == name)
    }

    /// Notices inform; they never change a verdict's status.
    pub fn is_notice(self) -> bool {
        matches!(self, Level::Info | Level::Warning)
    }

    /// A status a verdict can have.
    pub fn is_status(self) -> bool {
        !self.is_notice()
    }
}

#[derive(Clone, Debug)]
pub struct Product {
    pub id: String,
    pub name: String,
    /// `None`: every version is affected (`versions all`).
    pub versions: Option<Vec<ListedVersion>>,
    pub platforms: Vec<String>,
    /// Patterns (regular expressions) for the product's uninstall entry's display name.
    pub detect: Vec<String>,
    pub links: Vec<String>,
}

/// One listed product version and its other spellings (`2019 = 14.0`).
#[derive(Clone, Debug)]
pub struct ListedVersion {
    pub spellings: Vec<Version>,
}

#[derive(Clone, Debug)]
pub struct Os {
    pub id: String,
    pub name: String,
    pub builds: Vec<BuildPattern>,
    /// The `os_role` enum variant this OS requires, if any.
    pub role: Option<usize>,
    /// The end of support for editions no `for` names (or every edition).
    pub end_of_support: Option<Date>,
    /// Per edition (`os_edition` variant): `end_of_support 2024-10-08 for enterprise, education`.
    pub end_of_support_for: Vec<(usize, Date)>,
    /// The end of Extended Security Updates, for hosts enrolled (the `esu` role).
    pub esu_until: Option<Date>,
    pub esu_until_for: Vec<(usize, Date)>,
    pub links: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum BuildPattern {
    /// The host's build starts with these parts.
    Prefix(Version),
    /// The host's build is within every bound (`>= 6.1 and < 6.2`), each compared over the
    /// bound's parts (`Version::cmp_prefix`: `6.1.7601` is `<= 6.1`, not `> 6.1`).
    Range(Vec<(crate::ast::CmpOp, Version)>),
}

impl BuildPattern {
    pub fn matches(&self, build: &Version) -> bool {
        match self {
            BuildPattern::Prefix(p) => build.cmp_prefix(p) == std::cmp::Ordering::Equal,
            BuildPattern::Range(bounds) => bounds.iter().all(|(op, v)| op.holds(build.cmp_prefix(v))),
        }
    }

    /// As the rules file writes it: `10.0.19044`, `>= 10.0.22000`, `>= 6.1 and < 6.2`.
    pub fn text(&self) -> String {
        match self {
            BuildPattern::Prefix(v) => v.to_string(),
            BuildPattern::Range(bounds) => {
                bounds.iter().map(|(op, v)| format!("{} {v}", op.symbol())).collect::<Vec<_>>().join(" and ")
            }
        }
    }

    /// The builds it matches as one interval `[low, high)` of builds compared part by part
    /// (missing parts are 0); `None` for an unbounded end. Every pattern is one interval: a
    /// prefix `p` is `[p, p')` where `p'` is `p` with its last part one higher.
    pub fn interval(&self) -> (Option<Version>, Option<Version>) {
        use crate::ast::CmpOp;
        let next = |v: &Version| -> Option<Version> {
            let mut parts = v.0.clone();
            let last = parts.last_mut()?;
            *last = last.checked_add(1)?;
            Some(Version(parts))
        };
        match self {
            BuildPattern::Prefix(p) => (Some(p.clone()), next(p)),
            BuildPattern::Range(bounds) => {
                let (mut low, mut high): (Option<Version>, Option<Version>) = (None, None);
                for (op, v) in bounds {
                    match op {
                        CmpOp::Ge => low = max_padded(low, Some(v.clone())),
                        // Past every build that starts with `v` (none when `v` cannot grow).
                        CmpOp::Gt => match next(v) {
                            Some(n) => low = max_padded(low, Some(n)),
                            None => return (Some(v.clone()), Some(v.clone())),
                        },
                        CmpOp::Le => high = min_padded(high, next(v)),
                        CmpOp::Lt => high = min_padded(high, Some(v.clone())),
                        CmpOp::Eq | CmpOp::Ne => {}
                    }
                }
                (low, high)
            }
        }
    }

    /// Whether no build matches it (`>= 6.2 and < 6.1`).
    pub fn is_empty(&self) -> bool {
        match self.interval() {
            (Some(low), Some(high)) => cmp_padded(&low, &high) != std::cmp::Ordering::Less,
            _ => false,
        }
    }

    /// Whether some build matches both.
    pub fn overlaps(&self, other: &BuildPattern) -> bool {
        let (a, b) = (self.interval(), other.interval());
        let low = max_padded(a.0, b.0);
        let high = min_padded(a.1, b.1);
        match (low, high) {
            (Some(low), Some(high)) => cmp_padded(&low, &high) == std::cmp::Ordering::Less,
            _ => true,
        }
    }

    /// A build it matches, if any: its lowest, or for a range with only an upper bound one just
    /// below it.
    pub fn example(&self) -> Option<Version> {
        if self.is_empty() {
            return None;
        }
        match self.interval() {
            (Some(low), _) => Some(low),
            (None, Some(high)) => {
                // The last non-zero part one lower, the rest dropped: 6.2 → 6.1, 6.0 → 5.
                let mut parts = high.0;
                while parts.last() == Some(&0) {
                    parts.pop();
                }
                let last = parts.last_mut()?;
                *last -= 1;
                Some(Version(parts))
            }
            (None, None) => Some(Version(vec![0])),
        }
    }
}

/// Builds compared part by part, a missing part counting as 0 (`6` and `6.0` are the same build).
pub fn cmp_padded(a: &Version, b: &Version) -> std::cmp::Ordering {
    let n = a.0.len().max(b.0.len());
    (0..n)
        .map(|i| a.0.get(i).copied().unwrap_or(0).cmp(&b.0.get(i).copied().unwrap_or(0)))
        .find(|o| o.is_ne())
        .unwrap_or(std::cmp::Ordering::Equal)
}

fn max_padded(a: Option<Version>, b: Option<Version>) -> Option<Version> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if cmp_padded(&a, &b).is_ge() { a } else { b }),
        (a, b) => a.or(b),
    }
}

fn min_padded(a: Option<Version>, b: Option<Version>) -> Option<Version> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if cmp_padded(&a, &b).is_le() { a } else { b }),
        (a, b) => a.or(b),
    }
}

#[derive(Clone, Debug)]
pub struct Update {
    pub kb: Kb,
    pub title: String,
    pub kind: String,
    /// The release date where no `released ... for` names the host's OS.
    pub released: Option<Date>,
    /// Release dates for some OS versions (`released 2019-09-10 for server2008_sp2`).
    pub released_for: Vec<(OsId, Date)>,
    pub applies: Vec<OsId>,
    /// The build revision this update brings: a host at this revision or later has it.
    pub revision: Option<u32>,
    /// Revisions for some OS versions (`revision 4704 for server2016`).
    pub revision_for: Vec<(OsId, u32)>,
    /// Updates that must be installed before this one.
    pub after: Vec<UpdateId>,
    /// KBs this update replaces (they may be undeclared).
    pub supersedes: Vec<Kb>,
    /// Every declared update that replaces this one, directly or through others.
    pub superseded_by: Vec<Kb>,
    pub links: Vec<String>,
}

impl Update {
    /// The release date on `os` (the default one when no `for` names it).
    pub fn released_on(&self, os: Option<OsId>) -> Option<Date> {
        os.and_then(|os| self.released_for.iter().find(|(o, _)| *o == os).map(|(_, d)| *d)).or(self.released)
    }

    /// The revision that brings the update on `os`.
    pub fn revision_on(&self, os: OsId) -> Option<u32> {
        self.revision_for.iter().find(|(o, _)| *o == os).map(|(_, r)| *r).or(self.revision)
    }

    /// Whether the update is for `os` (an update without `applies` is for every OS).
    pub fn applies_to(&self, os: OsId) -> bool {
        self.applies.is_empty() || self.applies.contains(&os)
    }
}

#[derive(Clone, Debug)]
pub struct Certificate {
    pub id: String,
    pub name: String,
    pub thumbprint: String,
    /// The bool fact that says the certificate is in the host's store (`require certificate`).
    pub fact: Option<FieldId>,
    pub links: Vec<String>,
}

/// A piece of software whose version the host reports (`require component wsus >= 3.0.2`).
#[derive(Clone, Debug)]
pub struct Component {
    pub id: String,
    pub name: String,
    /// The version fact.
    pub fact: FieldId,
    pub links: Vec<String>,
}

/// A step that is none of the other kinds (`require action oem_firmware`): done when its bool
/// fact holds; without a fact, needed whenever its rule fires.
#[derive(Clone, Debug)]
pub struct Action {
    pub id: String,
    pub name: String,
    pub fact: Option<FieldId>,
    pub links: Vec<String>,
}

/// A setting or feature of the host (`require setting netfx35`).
#[derive(Clone, Debug)]
pub struct Setting {
    pub id: String,
    pub name: String,
    /// The fact that holds the setting's value.
    pub fact: FieldId,
    pub links: Vec<String>,
}

/// Which facts play the roles built-in notions (`host.os`, `patched`) read. Every role is
/// optional; the checker refuses a host value whose role is not bound.
#[derive(Clone, Debug, Default)]
pub struct HostRoles {
    pub product: Option<FieldId>,
    pub product_version: Option<FieldId>,
    pub platform: Option<FieldId>,
    pub os_version: Option<FieldId>,
    pub os_role: Option<FieldId>,
    pub hotfixes: Option<FieldId>,
    /// The date fact a host's clock fills in when the facts leave it out (optional role).
    pub evaluation_date: Option<FieldId>,
    /// The Windows edition (an enum fact): per-edition end-of-support dates read it.
    pub os_edition: Option<FieldId>,
    /// The host is enrolled in Extended Security Updates (a bool fact).
    pub esu: Option<FieldId>,
}

/// Values derived from the facts by built-in rules (see `docs/language.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HostValue {
    /// The declared product named by the product role.
    Product,
    /// The first declared OS whose build pattern and role match the host.
    Os,
    /// The fourth part of the host's build.
    Revision,
    /// The product version is one the product lists (or the product lists `all`).
    VersionListed,
    /// The platform is one the product lists.
    PlatformListed,
    /// The `end_of_support` date of the host's OS, for its edition.
    EndOfSupport,
    /// The `esu_until` date of the host's OS, for its edition.
    EsuUntil,
    /// The host's Windows is in support at the evaluation date: before its end of support, or
    /// enrolled in ESU (the `esu` role) before the ESU end. An OS without an end date is in
    /// support.
    InSupport,
}

impl HostValue {
    pub const ALL: [(&'static str, HostValue); 8] = [
        ("product", HostValue::Product),
        ("os", HostValue::Os),
        ("revision", HostValue::Revision),
        ("version_listed", HostValue::VersionListed),
        ("platform_listed", HostValue::PlatformListed),
        ("end_of_support", HostValue::EndOfSupport),
        ("esu_until", HostValue::EsuUntil),
        ("in_support", HostValue::InSupport),
    ];

    pub fn name(self) -> &'static str {
        HostValue::ALL.iter().find(|(_, v)| *v == self).map_or("?", |(n, _)| n)
    }

    pub fn ty(self) -> Type {
        match self {
            HostValue::Product => Type::Product,
            HostValue::Os => Type::Os,
            HostValue::Revision => Type::Int,
            HostValue::VersionListed | HostValue::PlatformListed | HostValue::InSupport => Type::Bool,
            HostValue::EndOfSupport | HostValue::EsuUntil => Type::Date,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Const(Value),
    Field(FieldId),
    Host(HostValue),
    /// The status given by the rules before this one.
    Status,
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Compare(Box<Expr>, CmpOp, Box<Expr>),
    In(Box<Expr>, Vec<Value>),
    Patched(UpdateId),
    /// Whether a fact or host value has a value: false when unknown or none (never undetermined).
    Known(Box<Expr>),
    /// `definitely(c)`: the condition holds on what the facts show (undetermined reads false).
    Definitely(Box<Expr>),
    /// `possibly(c)`: the condition holds or is undetermined.
    Possibly(Box<Expr>),
    /// `released(KB)`: the update is out, for the host's OS, at the evaluation date.
    Released(UpdateId),
    /// `release_date(KB)`: the update's release date for the host's OS (none when not given).
    ReleaseDate(UpdateId),
}

/// What an edition fact tells of an OS's lifecycle: a known edition, an unknown one, or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EditionIs {
    Known(usize),
    /// Unknown, among this many editions (the `os_edition` enum's variants).
    Unknown(usize),
    None,
}

impl Os {
    /// The earliest and latest end of support the host's edition allows (one date for a known
    /// edition); `None` when one of them has no end (the OS is then in support).
    pub fn support_ends(&self, edition: EditionIs) -> Option<(Date, Date)> {
        range(self.end_of_support, &self.end_of_support_for, edition)
    }

    /// The same for the end of Extended Security Updates; `None`: no ESU.
    pub fn esu_ends(&self, edition: EditionIs) -> Option<(Date, Date)> {
        range(self.esu_until, &self.esu_until_for, edition)
    }
}

/// The dates an edition may have: its own (or the default) for a known edition, those of every
/// edition for an unknown one (an edition without a date makes the whole `None`: no end), the
/// default for none.
fn range(default: Option<Date>, per_edition: &[(usize, Date)], edition: EditionIs) -> Option<(Date, Date)> {
    let of = |e: usize| per_edition.iter().find(|(v, _)| *v == e).map(|(_, d)| *d).or(default);
    match edition {
        EditionIs::Known(e) => of(e).map(|d| (d, d)),
        EditionIs::Unknown(editions) if !per_edition.is_empty() && editions > 0 => {
            let dates: Option<Vec<Date>> = (0..editions).map(of).collect();
            let dates = dates?;
            Some((*dates.iter().min()?, *dates.iter().max()?))
        }
        _ => default.map(|d| (d, d)),
    }
}

/// The facts a rule's outcome depends on (its `when`, requirements and `severity ... if`), with
/// the facts host values are derived from and the facts that decide whether those are read, in
/// declaration order.
pub fn rule_reads<'p>(program: &'p Program, rule: &'p Rule) -> Vec<FieldId> {
    let mut reads = vec![false; program.fields.len()];
    let mut conds: Vec<&'p Expr> = vec![&rule.when];
    conds.extend(rule.require.iter().map(|q| &q.met));
    conds.extend(rule.otherwise.as_ref().map(|(c, _)| c));
    let mut stack = conds;
    let mark = |f: Option<FieldId>, stack: &mut Vec<&'p Expr>, reads: &mut Vec<bool>| {
        let Some(f) = f else { return };
        if let Some(seen) = reads.get_mut(f)
            && !*seen
        {
            *seen = true;
            if let Some(c) = program.fields.get(f).and_then(|d| d.condition.as_ref()) {
                stack.push(c);
            }
        }
    };
    let h = &program.host;
    while let Some(e) = stack.pop() {
        match e {
            Expr::Field(f) => mark(Some(*f), &mut stack, &mut reads),
            Expr::Host(value) => {
                let roles: &[Option<FieldId>] = match value {
                    HostValue::Product => &[h.product],
                    HostValue::Os => &[h.os_version, h.os_role],
                    HostValue::EndOfSupport | HostValue::EsuUntil => &[h.os_version, h.os_role, h.os_edition],
                    HostValue::InSupport => &[h.os_version, h.os_role, h.os_edition, h.esu, h.evaluation_date],
                    HostValue::Revision => &[h.os_version],
                    HostValue::VersionListed => &[h.product, h.product_version],
                    HostValue::PlatformListed => &[h.product, h.platform],
                };
                for role in roles {
                    mark(*role, &mut stack, &mut reads);
                }
            }
            Expr::Patched(_) => {
                for role in [h.hotfixes, h.os_version, h.os_role] {
                    mark(role, &mut stack, &mut reads);
                }
            }
            Expr::Not(inner) | Expr::Known(inner) | Expr::Definitely(inner) | Expr::Possibly(inner) => {
                stack.push(inner);
            }
            Expr::Released(_) | Expr::ReleaseDate(_) => {
                for role in [h.evaluation_date, h.os_version, h.os_role] {
                    mark(role, &mut stack, &mut reads);
                }
            }
            Expr::And(parts) | Expr::Or(parts) => stack.extend(parts.iter()),
            Expr::Compare(l, _, r) => {
                stack.push(l);
                stack.push(r);
            }
            Expr::In(l, _) => stack.push(l),
            Expr::Const(_) | Expr::Status => {}
        }
    }
    reads.iter().enumerate().filter(|(_, r)| **r).map(|(f, _)| f).collect()
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub name: String,
    pub docs: Vec<String>,
    pub cite: Option<String>,
    pub when: Expr,
    /// Every one of these is needed: the rule fires when its `when` holds and one is not met,
    /// with a finding for each one not met. A rule without requirements fires on its `when`.
    pub require: Vec<Requirement>,
    pub severity: Level,
    /// `severity A if COND else B`.
    pub otherwise: Option<(Expr, Level)>,
    pub message: Vec<Segment>,
    pub certificate: Option<CertId>,
    pub links: Vec<String>,
    pub line: usize,
    /// The rule's name: where diagnostics about the rule point.
    pub span: Span,
}

/// One group of a `require` clause.
#[derive(Clone, Debug, PartialEq)]
pub struct Requirement {
    pub need: Need,
    /// Holds when the host meets the requirement, or (updates) none of its updates is out yet.
    pub met: Expr,
    /// `any KIND since DATE`: the finding names the newest released update only.
    pub newest: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Need {
    /// Any one of these updates.
    Updates(Vec<UpdateId>),
    Certificate(CertId),
    /// The component's version compared with `version` by `op` (`>=`, `>` or `==`); `shown`:
    /// the version as its users know it, when the rules give one.
    Component {
        component: ComponentId,
        op: crate::ast::CmpOp,
        version: Version,
        shown: Option<String>,
    },
    Setting {
        setting: SettingId,
        value: Value,
    },
    Action(ActionId),
    /// Any one of these (of different kinds; the updates among them are one `Updates`).
    AnyOf(Vec<Need>),
}

impl Need {
    /// The updates this need asks for, alternatives included.
    pub fn update_ids(&self) -> Vec<UpdateId> {
        match self {
            Need::Updates(ids) => ids.clone(),
            Need::AnyOf(needs) => needs.iter().flat_map(Need::update_ids).collect(),
            _ => Vec::new(),
        }
    }

    /// The need itself, or each of its alternatives.
    pub fn alternatives(&self) -> &[Need] {
        match self {
            Need::AnyOf(needs) => needs,
            single => std::slice::from_ref(single),
        }
    }
}

/// A piece of a message: text, or a value interpolated from `{path}`.
#[derive(Clone, Debug, PartialEq)]
pub enum Segment {
    Text(String),
    Value(Expr),
    /// `{need}`: what the finding's requirement asks, in words (`Step::words`).
    Need,
}

#[derive(Clone, Debug)]
pub struct TestCase {
    pub name: String,
    pub given: serde_json::Value,
    pub expect: Expected,
    pub line: usize,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expected {
    Error {
        code: String,
        at: Option<String>,
    },
    Verdict {
        status: Level,
        installs: Vec<Vec<Kb>>,
        certificates: Vec<String>,
        components: Vec<String>,
        settings: Vec<String>,
        actions: Vec<String>,
        /// `(a or b)`: findings offering alternatives, each as its summary line.
        alternatives: Vec<String>,
        fires: Vec<String>,
        quiet: Vec<String>,
        /// Rules the answer must list as undetermined, and rules it must not.
        undetermined: Vec<String>,
        decided: Vec<String>,
    },
}

#[cfg(test)]
mod build_pattern_tests {
    use super::BuildPattern;
    use crate::ast::CmpOp;
    use crate::value::Version;

    fn v(text: &str) -> Version {
        Version(text.split('.').map(|p| p.parse().unwrap()).collect())
    }

    fn patterns() -> Vec<BuildPattern> {
        let mut out: Vec<BuildPattern> =
            ["6.1", "6.1.7601", "6.2", "10.0", "10.0.19044"].iter().map(|p| BuildPattern::Prefix(v(p))).collect();
        let bounds = ["6.1", "6.2", "6.3.9600", "10.0", "10.0.19044"];
        let ops = [CmpOp::Ge, CmpOp::Gt, CmpOp::Le, CmpOp::Lt];
        for a in bounds {
            for op in ops {
                out.push(BuildPattern::Range(vec![(op, v(a))]));
                for b in bounds {
                    for high in [CmpOp::Le, CmpOp::Lt] {
                        if matches!(op, CmpOp::Ge | CmpOp::Gt) {
                            out.push(BuildPattern::Range(vec![(op, v(a)), (high, v(b))]));
                        }
                    }
                }
            }
        }
        out
    }

    /// Builds at and around every bound, shorter and longer.
    fn builds() -> Vec<Version> {
        let mut out = Vec::new();
        for base in
            ["6.0", "6.1", "6.2", "6.3", "6.3.9600", "6.4", "10.0", "10.0.19043", "10.0.19044", "10.0.19045", "11.0"]
        {
            let b = v(base);
            for extra in [vec![], vec![0], vec![1], vec![7601], vec![9600, 5], vec![19044, 1], vec![30000]] {
                let mut parts = b.0.clone();
                parts.extend(extra);
                out.push(Version(parts));
            }
        }
        out
    }

    #[test]
    fn overlap_emptiness_and_examples_agree_with_matching() {
        let builds = builds();
        let patterns = patterns();
        for a in &patterns {
            let matched: Vec<&Version> = builds.iter().filter(|b| a.matches(b)).collect();
            if a.is_empty() {
                assert!(matched.is_empty(), "{} is empty yet matches {:?}", a.text(), matched.first());
            } else {
                let example = a.example().unwrap();
                assert!(a.matches(&example), "{}: example {example}", a.text());
            }
            for b in &patterns {
                let both = builds.iter().any(|x| a.matches(x) && b.matches(x));
                // The candidates hold every edge, so a shared build among them exists whenever
                // one exists at all (and never when the patterns are disjoint).
                assert_eq!(a.overlaps(b), both, "{} and {}", a.text(), b.text());
            }
        }
    }
}
