//! The abstract syntax tree of a rules file: what the author wrote, with a span on every node.
//!
//! The AST keeps literals as written (their raw text) so that the formatter can reproduce them and
//! the checker can point at them when they are invalid. Nothing here is resolved or typed yet.

use std::fmt;

/// A byte range in the source text.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Span { start: clamp(start), end: clamp(end) }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

// Spans print compactly so that AST dumps stay readable (and tests can strip them).
impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}..{}", self.start, self.end)
    }
}

/// A name as written, e.g. a product id or a fact name.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A dotted name such as `os.version` or `host.os`.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    pub segments: Vec<String>,
    pub span: Span,
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.segments.join("."))
    }
}

/// A whole rules file.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct File {
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `use "PATH"`: another rules file's declarations.
    Use(UseItem),
    Decl(Decl),
    Series(Series),
    Facts(Facts),
    Host(Host),
    Let(Let),
    Rule(Rule),
    Test(Test),
}

/// `use "lib/windows.preflight"`.
#[derive(Clone, Debug, PartialEq)]
pub struct UseItem {
    pub path: Literal,
    pub span: Span,
}

/// The declaration kinds that share the `KIND ID { key value, ... }` shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeclKind {
    Advisory,
    Product,
    Os,
    Update,
    Certificate,
    Component,
    Setting,
    Action,
    Milestone,
}

impl DeclKind {
    pub fn keyword(self) -> &'static str {
        match self {
            DeclKind::Advisory => "advisory",
            DeclKind::Product => "product",
            DeclKind::Os => "os",
            DeclKind::Update => "update",
            DeclKind::Certificate => "certificate",
            DeclKind::Component => "component",
            DeclKind::Setting => "setting",
            DeclKind::Action => "action",
            DeclKind::Milestone => "milestone",
        }
    }
}

/// `advisory`, `product`, `os`, `update` or `certificate`: an id and its properties.
#[derive(Clone, Debug, PartialEq)]
pub struct Decl {
    pub kind: DeclKind,
    pub docs: Vec<String>,
    pub id: Ident,
    pub props: Vec<Prop>,
    pub span: Span,
}

/// `key value, value, ...` inside a declaration.
#[derive(Clone, Debug, PartialEq)]
pub struct Prop {
    pub key: Ident,
    pub values: Vec<PropValue>,
    /// `for win7, server2008r2`: the value holds for these OS versions only.
    pub for_oses: Vec<Ident>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PropValue {
    Literal(Literal),
    Name(Ident),
    /// A dotted name (`root_ca.installed`): a fact.
    Path(Path),
    /// `2019 = 14.0`: two spellings of one product version.
    Alias(Literal, Literal, Span),
    /// `>= 10.0.22000`, `>= 6.1 and < 6.2`: every build within the bounds (`>=`, `>`, `<=`, `<`).
    Range(Vec<(CmpOp, Literal)>, Span),
}

impl PropValue {
    pub fn span(&self) -> Span {
        match self {
            PropValue::Literal(lit) => lit.span,
            PropValue::Name(id) => id.span,
            PropValue::Path(p) => p.span,
            PropValue::Alias(_, _, span) | PropValue::Range(_, span) => *span,
        }
    }
}

/// A literal as written. `raw` is the source text (for strings, without the quotes and with
/// escapes undecoded).
#[derive(Clone, Debug, PartialEq)]
pub struct Literal {
    pub kind: LitKind,
    pub raw: String,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LitKind {
    String,
    Date,
    Version,
    Kb,
    Int,
    Bool,
    /// `none`: the fact is known to have no value.
    None,
}

/// The `facts { ... }` schema.
#[derive(Clone, Debug, PartialEq)]
pub struct Facts {
    pub docs: Vec<String>,
    pub fields: Vec<Field>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub docs: Vec<String>,
    pub name: Ident,
    pub kind: FieldKind,
    pub span: Span,
}

// A leaf is what most fields are; boxing it would allocate once per fact for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum FieldKind {
    /// `name { fields }`: a nested JSON object.
    Group(Vec<Field>),
    /// `name: type [?] [= default] [null = value] [if condition] [from ...]`.
    Leaf {
        ty: TypeExpr,
        optional: bool,
        default: Option<Default>,
        /// What `null` in the facts means (`null = none`); without it, null reads as absent.
        null: Option<Default>,
        condition: Option<Expr>,
        collect: Option<Collect>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeExpr {
    Named(Ident),
    Enum(Vec<Ident>, Span),
}

impl TypeExpr {
    pub fn span(&self) -> Span {
        match self {
            TypeExpr::Named(id) => id.span,
            TypeExpr::Enum(_, span) => *span,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Default {
    Literal(Literal),
    /// A list default (`[]` for a set of KBs); items are names or literals.
    List(Vec<Expr>, Span),
}

/// `host { role = fact.path, ... }`: which facts play the built-in roles.
#[derive(Clone, Debug, PartialEq)]
pub struct Host {
    pub docs: Vec<String>,
    pub bindings: Vec<(Ident, Path)>,
    pub span: Span,
}

/// `let name = condition`: a named condition rules can share.
#[derive(Clone, Debug, PartialEq)]
pub struct Let {
    pub docs: Vec<String>,
    pub name: Ident,
    pub expr: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub docs: Vec<String>,
    pub name: Ident,
    pub clauses: Vec<Clause>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Clause {
    When(Expr),
    Require(Vec<NeedGroup>, Span),
    Severity { level: Ident, otherwise: Option<(Expr, Ident)>, span: Span },
    Message(Literal),
    Certificate(Ident),
    Cite(Literal),
    Link(Literal),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Not(Box<Expr>),
    Compare(Box<Expr>, CmpOp, Box<Expr>),
    /// `x in [a, b]` or `x in name` (a `let` naming a list): the right side is a `List` or a `Path`.
    In(Box<Expr>, Box<Expr>),
    Call(Ident, Vec<Expr>),
    List(Vec<Expr>),
    Paren(Box<Expr>),
    Literal(Literal),
    Path(Path),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    /// Whether a comparison that came out `ordering` satisfies this operator.
    pub fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::{Equal, Greater, Less};
        match self {
            CmpOp::Eq => ordering == Equal,
            CmpOp::Ne => ordering != Equal,
            CmpOp::Lt => ordering == Less,
            CmpOp::Le => ordering != Greater,
            CmpOp::Gt => ordering == Greater,
            CmpOp::Ge => ordering != Less,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Test {
    pub docs: Vec<String>,
    pub name: Ident,
    pub given: Json,
    pub expect: Expect,
    pub span: Span,
}

/// A JSON value written in a test's `given` block (keys may be bare names).
#[derive(Clone, Debug, PartialEq)]
pub struct Json {
    pub kind: JsonKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum JsonKind {
    Object(Vec<(Ident, Json)>),
    Array(Vec<Json>),
    /// Raw string contents, escapes undecoded.
    String(String),
    Number(String),
    Bool(bool),
    Null,
    /// A bare name: a milestone, standing for its date.
    Name(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expect {
    Error { code: Ident, at: Option<Path>, span: Span },
    Status { status: Ident, items: Vec<Expectation>, span: Span },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expectation {
    Install(Vec<Literal>, Span),
    Certificate(Ident),
    Component(Ident),
    Setting(Ident),
    Action(Ident),
    /// `(certificate a or component b)`: one finding offering these alternatives.
    AnyOf(Vec<Expectation>, Span),
    /// `fires RULE`, or `not fires RULE` when `negated`.
    Fires(Ident, bool),
    /// `undetermined RULE`, or `not undetermined RULE` when `negated`.
    Undetermined(Ident, bool),
}

/// A chain of updates, oldest first: each entry supersedes the one before it.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub docs: Vec<String>,
    pub id: Ident,
    /// Properties every entry has.
    pub props: Vec<Prop>,
    pub entries: Vec<SeriesEntry>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SeriesEntry {
    pub docs: Vec<String>,
    pub kb: Literal,
    pub released: Literal,
    pub title: Option<Literal>,
    /// The entry's own properties (`link`, `revision`, ...).
    pub props: Vec<Prop>,
    pub span: Span,
}

/// One group of a `require` clause: any one of its needs satisfies it.
#[derive(Clone, Debug, PartialEq)]
pub struct NeedGroup {
    pub needs: Vec<Need>,
    /// Written in parentheses (required when a clause has several groups and this one has `or`).
    pub parenthesized: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Need {
    Update(Literal),
    Certificate(Ident),
    /// `component wsus >= 3.0.2` (or `>`, `==`; or a named version), optionally `as "3.0 SP2"`:
    /// the version as its users know it, which the finding shows.
    Component {
        id: Ident,
        op: CmpOp,
        version: Expr,
        shown: Option<Literal>,
    },
    /// `setting netfx35`, `setting tls == "enabled"` or `setting mode == strict`
    Setting(Ident, Option<Expr>),
    /// `action oem_firmware`
    Action(Ident),
    /// `any monthly_rollup since 2019-03-12` (a kind or a series; a date or a milestone)
    Latest {
        of: Ident,
        since: Expr,
        span: Span,
    },
}

impl Need {
    pub fn span(&self) -> Span {
        match self {
            Need::Update(lit) => lit.span,
            Need::Latest { span, .. } => *span,
            Need::Certificate(id) | Need::Setting(id, None) | Need::Action(id) => id.span,
            Need::Component { id, version, shown, .. } => {
                Span::new(id.span.start as usize, shown.as_ref().map_or(version.span.end, |s| s.span.end) as usize)
            }
            Need::Setting(id, Some(value)) => Span::new(id.span.start as usize, value.span.end as usize),
        }
    }
}

/// `from SOURCE "arg" ... [+ "text" + SOURCE ...] [map { ... }]`: how a collector reads a fact on
/// Windows.
#[derive(Clone, Debug, PartialEq)]
pub struct Collect {
    /// What is read, in order; joined into one text when there are several.
    pub pieces: Vec<CollectPiece>,
    /// `map { KEY = VALUE, ... }`: what was read → the fact's value.
    pub map: Option<Vec<MapEntry>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CollectPiece {
    /// Literal text between sources.
    Text(Literal),
    /// `SOURCE "arg" ...`.
    Source { name: Ident, args: Vec<Literal>, span: Span },
}

/// `KEY = VALUE` in a `map { ... }`.
#[derive(Clone, Debug, PartialEq)]
pub struct MapEntry {
    pub key: MapKey,
    pub value: Literal,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum MapKey {
    /// `"UEFI"` or `1`: what was read equals this (case-insensitively, as PowerShell's `-eq`).
    Equals(Literal),
    /// `matches "REGEX"`: what was read matches this regular expression (PowerShell's `-match`).
    Matches(Literal),
    /// `>= 528040`: what was read is a whole number that compares so with this one.
    Compare(CmpOp, Literal),
    /// `else`: anything that was read and matched no other entry.
    Else(Span),
    /// `missing`: nothing was read (the value or key does not exist).
    Missing(Span),
}
