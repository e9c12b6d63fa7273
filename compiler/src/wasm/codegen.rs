//! The code generator: IR → WebAssembly functions, specialised to one rules file.
//!
//! Memory layout of the generated part (from [`DATA_BASE`]): the *state* (one 16-byte slot per
//! fact — known flag at +0, unknown flag at +4 (neither: none), payload at +8 —, one per host
//! value, a 32-byte one per rule — fired, level, status when it fired, unmet requirements,
//! undetermined, second possible level —, and the final status), then the constants (strings,
//! version records, KB arrays).
//!
//! Conditions are three-valued: 0 false, 1 undetermined, 2 true (`and` is the minimum, `or` the
//! maximum, `not` is 2 - x). Payloads: bool 0/1, int, date as days, index for product / OS / enum values,
//! level ordinal for a status, a version record pointer, `ptr << 32 | len` for strings and
//! `ptr << 32 | count` for KB arrays.
//!
//! Every answer mirrors `facts.rs` and `interp.rs`; the differential test holds them together.

use super::link::Symbols;
use crate::ast::CmpOp;
use crate::ir::{BuildPattern, Expr, HostValue, Level, Presence, Program, Rule, Segment, Type, Value};
use crate::value::Date;
use std::collections::{BTreeMap, HashMap};
use wasm_encoder::{BlockType, Function, Instruction as I, MemArg, ValType};

/// Where the generated constants and state begin (below: the support runtime's constants).
pub const DATA_BASE: u32 = 1024;

/// A generated function, ready for the linker.
pub struct GenFunction {
    pub name: String,
    pub export: Option<String>,
    /// Index into [`Generated::types`].
    pub type_offset: u32,
    pub body: Function,
}

/// A function type: parameters and results.
pub type Signature = (Vec<ValType>, Vec<ValType>);

pub struct Generated {
    pub types: Vec<Signature>,
    pub functions: Vec<GenFunction>,
    pub data: Vec<u8>,
    pub data_base: u32,
    pub heap_base: u32,
    pub min_pages: u64,
}

/// A generated function: name, export name, parameters, results.
type Spec = (&'static str, Option<&'static str>, &'static [ValType], &'static [ValType]);

/// The generated functions, in index order after the support functions.
const FUNCTIONS: [Spec; 9] = [
    ("evaluate", Some("evaluate"), &[ValType::I32, ValType::I32, ValType::I32], &[ValType::I32]),
    ("output", Some("output"), &[], &[ValType::I32]),
    ("abi_version", Some("abi_version"), &[], &[ValType::I32]),
    ("read_facts", None, &[], &[ValType::I32]),
    ("derive_host", None, &[], &[]),
    ("run_rules", None, &[], &[]),
    ("write_verdict", None, &[], &[]),
    ("write_kind", None, &[ValType::I32], &[]),
    ("write_name", None, &[ValType::I32, ValType::I32], &[]),
];

const HOST_VALUES: [HostValue; 8] = [
    HostValue::Product,
    HostValue::Os,
    HostValue::Revision,
    HostValue::VersionListed,
    HostValue::PlatformListed,
    HostValue::EndOfSupport,
    HostValue::EsuUntil,
    HostValue::InSupport,
];

fn mem(offset: u64, align: u32) -> MemArg {
    MemArg { offset, align, memory_index: 0 }
}

fn ordinal(level: Level) -> i32 {
    Level::ALL.iter().position(|l| *l == level).and_then(|p| i32::try_from(p).ok()).unwrap_or(0)
}

/// A string as it appears inside a JSON string literal, escaped as serde_json escapes it.
fn escaped(text: &str) -> Vec<u8> {
    let quoted = serde_json::to_string(text).unwrap_or_default();
    quoted.as_bytes().get(1..quoted.len().saturating_sub(1)).unwrap_or_default().to_vec()
}

/// How a value is compared: versions with `vcmp`, strings byte-wise, the rest as integers.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Version,
    Str,
    Kbs,
    Int,
}

fn kind_of(ty: &Type) -> Kind {
    match ty {
        Type::Version | Type::Build => Kind::Version,
        Type::String => Kind::Str,
        Type::Kbs => Kind::Kbs,
        _ => Kind::Int,
    }
}

/// A finding's tails by evaluation date: (from this date on, this text), latest first; the last
/// for any other date.
type Dated = Vec<(Option<Date>, String)>;

/// Where `status` comes from: locals while rules run (the status so far and the highest one
/// undetermined rules could give: `status` is unknown when that is higher), a rule's slot while
/// its message is written.
#[derive(Clone, Copy)]
enum StatusFrom {
    Local { status: u32, possible: u32 },
    Slot(u32),
    None,
}

/// Condition values.
const FALSE: i32 = 0;
const UNDETERMINED: i32 = 1;
const TRUE: i32 = 2;

/// A value loaded into locals: known (i32), unknown (i32: the host did not send it; neither
/// flag: none) and payload (i64).
#[derive(Clone, Copy)]
struct Loaded {
    known: u32,
    unknown: u32,
    payload: u32,
}

/// A function body under construction.
struct Body {
    params: u32,
    locals: Vec<ValType>,
    code: Vec<I<'static>>,
}

impl Body {
    fn new(params: usize) -> Self {
        Body { params: u32::try_from(params).unwrap_or(0), locals: Vec::new(), code: Vec::new() }
    }

    fn local(&mut self, ty: ValType) -> u32 {
        self.locals.push(ty);
        self.params + u32::try_from(self.locals.len() - 1).unwrap_or(0)
    }

    fn i(&mut self, instruction: I<'static>) -> &mut Self {
        self.code.push(instruction);
        self
    }

    fn finish(self) -> Function {
        let mut f = Function::new_with_locals_types(self.locals);
        for instruction in &self.code {
            f.instruction(instruction);
        }
        f.instruction(&I::End);
        f
    }
}

struct Gen<'p> {
    program: &'p Program,
    support: &'p Symbols,
    data: Vec<u8>,
    interned: HashMap<Vec<u8>, u32>,
    facts: u32,
    host: u32,
    rules: u32,
    status_slot: u32,
    state_size: u32,
    /// While the rules are generated: conditions several rules share (named values such as
    /// `covered`, a `patched` test), each computed once per host into a local.
    shared: Vec<(Expr, u32)>,
}

pub fn generate(program: &Program, support: &Symbols) -> Result<Generated, String> {
    let slots = |n: usize| u32::try_from(n * 16).unwrap_or(u32::MAX);
    let facts = DATA_BASE;
    let host = facts + slots(program.fields.len());
    let rules = host + slots(HOST_VALUES.len());
    let status_slot = rules + slots(program.rules.len() * 2);
    let state_size = status_slot + 16 - DATA_BASE;
    let mut g = Gen {
        program,
        support,
        data: vec![0; state_size as usize],
        interned: HashMap::new(),
        facts,
        host,
        rules,
        status_slot,
        state_size,
        shared: Vec::new(),
    };
    let bodies = vec![
        g.evaluate()?,
        g.output()?,
        g.abi_version(),
        g.read_facts()?,
        g.derive_host()?,
        g.run_rules()?,
        g.write_verdict()?,
        g.write_kind()?,
        g.write_name()?,
    ];
    let mut types = Vec::new();
    let mut functions = Vec::new();
    for ((name, export, params, results), body) in FUNCTIONS.iter().zip(bodies) {
        let signature = (params.to_vec(), results.to_vec());
        let type_offset = match types.iter().position(|t| *t == signature) {
            Some(p) => p,
            None => {
                types.push(signature);
                types.len() - 1
            }
        };
        functions.push(GenFunction {
            name: (*name).to_string(),
            export: export.map(str::to_string),
            type_offset: u32::try_from(type_offset).map_err(|e| e.to_string())?,
            body: body.finish(),
        });
    }
    let end = DATA_BASE + u32::try_from(g.data.len()).map_err(|e| e.to_string())?;
    let heap_base = (end + 15) & !15;
    // The state is zero when the module starts and cleared by every evaluation: it needs no bytes
    // in the data segment.
    let data = g.data.split_off(g.state_size as usize);
    Ok(Generated {
        types,
        functions,
        data,
        data_base: DATA_BASE + g.state_size,
        heap_base,
        min_pages: u64::from(heap_base).div_ceil(65536).max(1),
    })
}

impl Gen<'_> {
    fn support_fn(&self, name: &str) -> Result<u32, String> {
        self.support
            .functions
            .get(&format!("f.{name}"))
            .copied()
            .ok_or_else(|| format!("support runtime lacks `{name}`"))
    }

    fn support_global(&self, name: &str) -> Result<u32, String> {
        self.support
            .globals
            .get(&format!("g.{name}"))
            .copied()
            .ok_or_else(|| format!("support runtime lacks global `{name}`"))
    }

    fn generated_fn(&self, name: &str) -> Result<u32, String> {
        let position =
            FUNCTIONS.iter().position(|(n, ..)| *n == name).ok_or_else(|| format!("no generated `{name}`"))?;
        Ok(self.support.function_count + u32::try_from(position).map_err(|e| e.to_string())?)
    }

    /// Calls a support function; the tape's field readers (`kind`, `start`, `end`, `skip`,
    /// `escaped`) are written in place instead, as they run for every fact and every member.
    fn call(&self, b: &mut Body, name: &str) -> Result<(), String> {
        let field = match name {
            "kind" => Some((0, false)),
            "escaped" => Some((1, false)),
            "start" => Some((4, true)),
            "end" => Some((8, true)),
            "skip" => Some((12, true)),
            _ => None,
        };
        if let Some((offset, word)) = field {
            b.i(I::I32Const(4)).i(I::I32Shl).i(I::GlobalGet(self.support_global("tape")?)).i(I::I32Add);
            b.i(if word { I::I32Load(mem(offset, 2)) } else { I::I32Load8U(mem(offset, 0)) });
            return Ok(());
        }
        self.call_support(b, name)
    }

    fn call_support(&self, b: &mut Body, name: &str) -> Result<(), String> {
        let index = self.support_fn(name)?;
        b.i(I::Call(index));
        Ok(())
    }

    /// Places bytes among the constants (once) and returns their address.
    fn intern(&mut self, bytes: &[u8], align: usize) -> u32 {
        if let Some(at) = self.interned.get(bytes) {
            return *at;
        }
        while !self.data.len().is_multiple_of(align) {
            self.data.push(0);
        }
        let at = DATA_BASE + u32::try_from(self.data.len()).unwrap_or(0);
        self.data.extend_from_slice(bytes);
        self.interned.insert(bytes.to_vec(), at);
        at
    }

    fn packed(&mut self, bytes: &[u8], align: usize, count: usize) -> i64 {
        let at = self.intern(bytes, align);
        (i64::from(at) << 32) | i64::try_from(count).unwrap_or(0)
    }

    fn version_record(&mut self, parts: &[u32]) -> i64 {
        let mut bytes = u32::try_from(parts.len()).unwrap_or(0).to_le_bytes().to_vec();
        for p in parts {
            bytes.extend_from_slice(&p.to_le_bytes());
        }
        // Records are distinguished from strings by a 4-byte alignment and their count prefix.
        i64::from(self.intern(&bytes, 4))
    }

    /// The payload of a constant, or `None` for unknown.
    fn const_payload(&mut self, v: &Value) -> Option<i64> {
        Some(match v {
            Value::Unknown | Value::None => return None,
            Value::Bool(b) => i64::from(*b),
            Value::Int(n) => *n,
            Value::Str(s) => self.packed(s.as_bytes(), 1, s.len()),
            Value::Date(d) => i64::from(d.0),
            Value::Version(v) => self.version_record(&v.0),
            Value::Kbs(kbs) => {
                let bytes: Vec<u8> = kbs.iter().flat_map(|k| k.0.to_le_bytes()).collect();
                self.packed(&bytes, 4, kbs.len())
            }
            Value::Product(i) | Value::Os(i) | Value::Enum(i) => i64::try_from(*i).unwrap_or(0),
            Value::Level(l) => i64::from(ordinal(*l)),
        })
    }

    /// Writes constant bytes to the output.
    fn out_static(&mut self, b: &mut Body, bytes: &[u8]) -> Result<(), String> {
        if bytes.is_empty() {
            return Ok(());
        }
        let at = self.intern(bytes, 1);
        b.i(I::I32Const(at as i32)).i(I::I32Const(i32::try_from(bytes.len()).map_err(|e| e.to_string())?));
        self.call(b, "out_bytes")
    }

    fn slot(&self, e: &Expr) -> Option<u32> {
        match e {
            Expr::Field(i) => Some(self.facts + u32::try_from(*i).ok()? * 16),
            Expr::Host(h) => {
                let position = HOST_VALUES.iter().position(|x| x == h)?;
                Some(self.host + u32::try_from(position).ok()? * 16)
            }
            _ => None,
        }
    }

    fn kind(&self, e: &Expr) -> Kind {
        match e {
            Expr::Const(Value::Version(_)) => Kind::Version,
            Expr::Const(Value::Str(_)) => Kind::Str,
            Expr::Const(Value::Kbs(_)) => Kind::Kbs,
            Expr::Field(i) => self.program.fields.get(*i).map_or(Kind::Int, |f| kind_of(&f.ty)),
            _ => Kind::Int,
        }
    }

    // ---------------------------------------------------------------- expressions

    /// Loads a value into two fresh locals: known (i32) and payload (i64).
    fn load(&mut self, b: &mut Body, e: &Expr, status: StatusFrom) -> Result<(u32, u32), String> {
        let v = self.load_value(b, e, status, false)?;
        Ok((v.known, v.payload))
    }

    /// Loads a value into fresh locals, with whether it is unknown.
    fn load3(&mut self, b: &mut Body, e: &Expr, status: StatusFrom) -> Result<Loaded, String> {
        self.load_value(b, e, status, true)
    }

    fn load_value(&mut self, b: &mut Body, e: &Expr, status: StatusFrom, with_unknown: bool) -> Result<Loaded, String> {
        let known = b.local(ValType::I32);
        let unknown = b.local(ValType::I32);
        let payload = b.local(ValType::I64);
        match (e, self.slot(e)) {
            (_, Some(slot)) => {
                b.i(I::I32Const(slot as i32)).i(I::I32Load(mem(0, 2))).i(I::LocalSet(known));
                b.i(I::I32Const(slot as i32)).i(I::I64Load(mem(8, 3))).i(I::LocalSet(payload));
                if with_unknown {
                    b.i(I::I32Const(slot as i32)).i(I::I32Load(mem(4, 2))).i(I::LocalSet(unknown));
                }
            }
            (Expr::Const(v), None) => {
                let p = self.const_payload(v);
                b.i(I::I32Const(i32::from(p.is_some()))).i(I::LocalSet(known));
                b.i(I::I64Const(p.unwrap_or(0))).i(I::LocalSet(payload));
                b.i(I::I32Const(i32::from(*v == Value::Unknown))).i(I::LocalSet(unknown));
            }
            (Expr::Status, None) => {
                match status {
                    StatusFrom::Local { status: l, possible } => {
                        // Unknown while an undetermined rule before could have raised it.
                        b.i(I::LocalGet(possible)).i(I::LocalGet(l)).i(I::I32GtS).i(I::LocalTee(unknown));
                        b.i(I::I32Eqz).i(I::LocalSet(known));
                        b.i(I::LocalGet(l));
                    }
                    StatusFrom::Slot(addr) => {
                        b.i(I::I32Const(1)).i(I::LocalSet(known));
                        b.i(I::I32Const(addr as i32)).i(I::I32Load(mem(8, 2)));
                    }
                    StatusFrom::None => return Err("`status` read outside a rule".into()),
                };
                b.i(I::I64ExtendI32U).i(I::LocalSet(payload));
            }
            (Expr::ReleaseDate(u), None) => {
                let (k, d) = self.release_date(b, *u)?;
                b.i(I::LocalGet(k)).i(I::LocalSet(known)).i(I::LocalGet(d)).i(I::LocalSet(payload));
            }
            (other, None) => {
                // A condition used as a value (`known(x) == true`).
                let c = b.local(ValType::I32);
                self.cond(b, other, status)?;
                b.i(I::LocalTee(c)).i(I::I32Const(UNDETERMINED)).i(I::I32Ne).i(I::LocalSet(known));
                b.i(I::LocalGet(c)).i(I::I32Const(UNDETERMINED)).i(I::I32Eq).i(I::LocalSet(unknown));
                b.i(I::LocalGet(c)).i(I::I32Const(TRUE)).i(I::I32Eq).i(I::I64ExtendI32U).i(I::LocalSet(payload));
            }
        }
        Ok(Loaded { known, unknown, payload })
    }

    /// interp's `release_date`: the update's date for the host's OS (its default date when the
    /// OS is unknown or none) into two fresh locals, known (i32) and days (i64).
    fn release_date(&mut self, b: &mut Body, update: usize) -> Result<(u32, u32), String> {
        let u = self.program.updates.get(update).ok_or("unknown update")?.clone();
        let (known, date) = (b.local(ValType::I32), b.local(ValType::I64));
        b.i(I::I32Const(i32::from(u.released.is_some()))).i(I::LocalSet(known));
        b.i(I::I64Const(u.released.map_or(0, |d| i64::from(d.0)))).i(I::LocalSet(date));
        let os_slot = self.slot(&Expr::Host(HostValue::Os)).ok_or("no os slot")?;
        for (os, d) in &u.released_for {
            b.i(I::I32Const(os_slot as i32)).i(I::I32Load(mem(0, 2)));
            b.i(I::I32Const(os_slot as i32)).i(I::I64Load(mem(8, 3))).i(I::I64Const(i64::try_from(*os).unwrap_or(-1)));
            b.i(I::I64Eq).i(I::I32And).i(I::If(BlockType::Empty));
            b.i(I::I32Const(1)).i(I::LocalSet(known)).i(I::I64Const(i64::from(d.0))).i(I::LocalSet(date));
            b.i(I::End);
        }
        Ok((known, date))
    }

    /// Turns the i32 bool on the stack into a condition value (0 or 2).
    fn truth_of_bool(b: &mut Body) {
        b.i(I::I32Const(1)).i(I::I32Shl);
    }

    /// Pushes an i32 comparison result for two known payloads of `kind`.
    fn compare_known(&self, b: &mut Body, kind: Kind, l: u32, op: CmpOp, r: u32) -> Result<(), String> {
        match kind {
            Kind::Version => {
                b.i(I::LocalGet(l)).i(I::I32WrapI64).i(I::LocalGet(r)).i(I::I32WrapI64);
                self.call(b, "vcmp")?;
                b.i(I::I32Const(0));
                b.i(match op {
                    CmpOp::Eq => I::I32Eq,
                    CmpOp::Ne => I::I32Ne,
                    CmpOp::Lt => I::I32LtS,
                    CmpOp::Le => I::I32LeS,
                    CmpOp::Gt => I::I32GtS,
                    CmpOp::Ge => I::I32GeS,
                });
            }
            Kind::Str => {
                for x in [l, r] {
                    b.i(I::LocalGet(x)).i(I::I64Const(32)).i(I::I64ShrU).i(I::I32WrapI64);
                    b.i(I::LocalGet(x)).i(I::I32WrapI64);
                }
                self.call(b, "bytes_eq")?;
                if op == CmpOp::Ne {
                    b.i(I::I32Eqz);
                }
            }
            Kind::Kbs | Kind::Int => {
                b.i(I::LocalGet(l)).i(I::LocalGet(r));
                b.i(match op {
                    CmpOp::Eq => I::I64Eq,
                    CmpOp::Ne => I::I64Ne,
                    CmpOp::Lt => I::I64LtS,
                    CmpOp::Le => I::I64LeS,
                    CmpOp::Gt => I::I64GtS,
                    CmpOp::Ge => I::I64GeS,
                });
            }
        }
        Ok(())
    }

    /// Pushes whether the text at `ptr`/`len` (locals) is `constant`: the lengths first, in
    /// place, so that most candidates cost no call.
    fn text_equals(&mut self, b: &mut Body, ptr: u32, len: u32, constant: &[u8]) -> Result<(), String> {
        let at = self.intern(constant, 1);
        let n = i32::try_from(constant.len()).map_err(|e| e.to_string())?;
        b.i(I::LocalGet(len)).i(I::I32Const(n)).i(I::I32Eq).i(I::If(BlockType::Result(ValType::I32)));
        b.i(I::LocalGet(ptr)).i(I::LocalGet(len)).i(I::I32Const(at as i32)).i(I::I32Const(n));
        self.call(b, "bytes_eq")?;
        b.i(I::Else).i(I::I32Const(0)).i(I::End);
        Ok(())
    }

    /// Pushes whether the known payload in `local` equals a constant payload.
    fn equals_constant(&self, b: &mut Body, kind: Kind, local: u32, constant: i64) -> Result<(), String> {
        match kind {
            Kind::Version => {
                b.i(I::LocalGet(local)).i(I::I32WrapI64).i(I::I32Const(constant as i32));
                self.call(b, "vcmp")?;
                b.i(I::I32Eqz);
            }
            Kind::Str => {
                // The lengths first, in place: most comparisons end there without a call.
                b.i(I::LocalGet(local)).i(I::I32WrapI64).i(I::I32Const(constant as i32)).i(I::I32Eq);
                b.i(I::If(BlockType::Result(ValType::I32)));
                b.i(I::LocalGet(local))
                    .i(I::I64Const(32))
                    .i(I::I64ShrU)
                    .i(I::I32WrapI64)
                    .i(I::LocalGet(local))
                    .i(I::I32WrapI64);
                b.i(I::I32Const((constant >> 32) as i32)).i(I::I32Const(constant as i32));
                self.call(b, "bytes_eq")?;
                b.i(I::Else).i(I::I32Const(0)).i(I::End);
            }
            Kind::Kbs | Kind::Int => {
                b.i(I::LocalGet(local)).i(I::I64Const(constant)).i(I::I64Eq);
            }
        }
        Ok(())
    }

    /// Pushes the condition's value: 0 false, 1 undetermined, 2 true (interp's `truth`).
    fn cond(&mut self, b: &mut Body, e: &Expr, status: StatusFrom) -> Result<(), String> {
        if let Some(&(_, local)) = self.shared.iter().find(|(x, _)| x == e) {
            b.i(I::LocalGet(local));
            return Ok(());
        }
        match e {
            Expr::Const(Value::Bool(v)) => {
                b.i(I::I32Const(if *v { TRUE } else { FALSE }));
            }
            Expr::Not(inner) => {
                b.i(I::I32Const(TRUE));
                self.cond(b, inner, status)?;
                b.i(I::I32Sub);
            }
            Expr::Definitely(inner) | Expr::Possibly(inner) => {
                self.cond(b, inner, status)?;
                if matches!(e, Expr::Definitely(_)) {
                    b.i(I::I32Const(TRUE)).i(I::I32Eq);
                } else {
                    b.i(I::I32Const(FALSE)).i(I::I32Ne);
                }
                Self::truth_of_bool(b);
            }
            Expr::And(parts) | Expr::Or(parts) => {
                let is_and = matches!(e, Expr::And(_));
                let Some((first, rest)) = parts.split_first() else {
                    b.i(I::I32Const(if is_and { TRUE } else { FALSE }));
                    return Ok(());
                };
                // and: a == 0 ? 0 : min(a, b and ...);   or: a == 2 ? 2 : max(a, b or ...)
                let (stop, acc) = (if is_and { FALSE } else { TRUE }, b.local(ValType::I32));
                self.cond(b, first, status)?;
                for part in rest {
                    b.i(I::LocalTee(acc)).i(I::I32Const(stop)).i(I::I32Eq);
                    b.i(I::If(BlockType::Result(ValType::I32))).i(I::I32Const(stop)).i(I::Else);
                    let next = b.local(ValType::I32);
                    self.cond(b, part, status)?;
                    b.i(I::LocalTee(next)).i(I::LocalGet(acc)).i(I::LocalGet(next)).i(I::LocalGet(acc));
                    b.i(if is_and { I::I32LtS } else { I::I32GtS }).i(I::Select);
                    b.i(I::End);
                }
            }
            Expr::Compare(l, op, r) if matches!(r.as_ref(), Expr::Const(v) if !matches!(v, Value::Unknown | Value::None)) =>
            {
                // The common shape `fact OP constant`: the constant stays an immediate.
                let kind = if self.kind(l) == Kind::Int { self.kind(r) } else { self.kind(l) };
                let Expr::Const(v) = r.as_ref() else { return Err("constant".into()) };
                let constant = self.const_payload(v).unwrap_or(0);
                let x = self.load3(b, l, status)?;
                let c = b.local(ValType::I64);
                b.i(I::LocalGet(x.known)).i(I::If(BlockType::Result(ValType::I32)));
                b.i(I::I64Const(constant)).i(I::LocalSet(c));
                self.compare_known(b, kind, x.payload, *op, c)?;
                Self::truth_of_bool(b);
                b.i(I::Else);
                self.absent_compare(b, x.unknown, *op == CmpOp::Ne);
                b.i(I::End);
            }
            Expr::Compare(l, op, r) => {
                let kind = if self.kind(l) == Kind::Int { self.kind(r) } else { self.kind(l) };
                let x = self.load3(b, l, status)?;
                let y = self.load3(b, r, status)?;
                b.i(I::LocalGet(x.unknown)).i(I::LocalGet(y.unknown)).i(I::I32Or);
                b.i(I::If(BlockType::Result(ValType::I32))).i(I::I32Const(UNDETERMINED)).i(I::Else);
                b.i(I::LocalGet(x.known)).i(I::LocalGet(y.known)).i(I::I32And);
                b.i(I::If(BlockType::Result(ValType::I32)));
                self.compare_known(b, kind, x.payload, *op, y.payload)?;
                b.i(I::Else);
                // Some side is none: equal only when both are.
                b.i(I::LocalGet(x.known)).i(I::LocalGet(y.known)).i(I::I32Or).i(I::I32Eqz);
                b.i(I::I32Const(i32::from(*op == CmpOp::Eq))).i(I::I32And);
                b.i(I::I32Const(i32::from(*op == CmpOp::Ne))).i(I::I32Or);
                if *op == CmpOp::Ne {
                    // both none: `!=` is false
                    b.i(I::LocalGet(x.known)).i(I::LocalGet(y.known)).i(I::I32Or).i(I::I32And);
                }
                b.i(I::End);
                Self::truth_of_bool(b);
                b.i(I::End);
            }
            Expr::In(l, values) => {
                let kind = self.kind(l);
                let x = self.load3(b, l, status)?;
                b.i(I::LocalGet(x.known)).i(I::If(BlockType::Result(ValType::I32)));
                b.i(I::I32Const(0));
                for v in values.iter().filter(|v| !matches!(v, Value::None | Value::Unknown)) {
                    let payload = self.const_payload(v).unwrap_or(0);
                    self.equals_constant(b, kind, x.payload, payload)?;
                    b.i(I::I32Or);
                }
                Self::truth_of_bool(b);
                b.i(I::Else);
                self.absent_compare(b, x.unknown, values.contains(&Value::None));
                b.i(I::End);
            }
            Expr::Patched(u) => self.patched(b, *u)?,
            Expr::Released(u) => {
                // interp's `released`: not for the host's OS, 0; no date, or no evaluation date,
                // is out; unknown evaluation date: 1
                let applies = self.program.updates.get(*u).map(|x| x.applies.clone()).unwrap_or_default();
                let os_slot = self.slot(&Expr::Host(HostValue::Os)).ok_or("no os slot")?;
                if !applies.is_empty() {
                    b.i(I::I32Const(os_slot as i32)).i(I::I32Load(mem(0, 2)));
                    b.i(I::I32Const(1));
                    for a in &applies {
                        b.i(I::I32Const(os_slot as i32))
                            .i(I::I64Load(mem(8, 3)))
                            .i(I::I64Const(i64::try_from(*a).unwrap_or(-1)));
                        b.i(I::I64Ne).i(I::I32And);
                    }
                    b.i(I::I32And).i(I::If(BlockType::Result(ValType::I32))).i(I::I32Const(FALSE)).i(I::Else);
                }
                let (known, date) = self.release_date(b, *u)?;
                match self.program.host.evaluation_date.and_then(|f| self.slot(&Expr::Field(f))) {
                    Some(slot) => {
                        b.i(I::LocalGet(known)).i(I::If(BlockType::Result(ValType::I32)));
                        b.i(I::I32Const(slot as i32))
                            .i(I::I32Load(mem(0, 2)))
                            .i(I::If(BlockType::Result(ValType::I32)));
                        b.i(I::LocalGet(date)).i(I::I32Const(slot as i32)).i(I::I64Load(mem(8, 3))).i(I::I64LeS);
                        Self::truth_of_bool(b);
                        b.i(I::Else);
                        b.i(I::I32Const(UNDETERMINED)).i(I::I32Const(TRUE));
                        b.i(I::I32Const(slot as i32)).i(I::I32Load(mem(4, 2))).i(I::Select);
                        b.i(I::End);
                        b.i(I::Else).i(I::I32Const(TRUE)).i(I::End);
                    }
                    None => {
                        b.i(I::I32Const(TRUE));
                    }
                }
                if !applies.is_empty() {
                    b.i(I::End);
                }
            }
            Expr::Known(inner) => {
                let (k, _) = self.load(b, inner, status)?;
                b.i(I::LocalGet(k));
                Self::truth_of_bool(b);
            }
            Expr::Field(_) | Expr::Host(_) if self.slot(e).is_some() => {
                // A bool fact or host value: known and true, read straight from its slot; 1 when
                // unknown.
                let slot = self.slot(e).unwrap_or(0) as i32;
                b.i(I::I32Const(slot)).i(I::I32Load(mem(0, 2)));
                b.i(I::I32Const(slot)).i(I::I64Load(mem(8, 3))).i(I::I64Const(1)).i(I::I64Eq).i(I::I32And);
                Self::truth_of_bool(b);
                b.i(I::I32Const(slot)).i(I::I32Load(mem(4, 2))).i(I::I32Or);
            }
            Expr::Field(_) | Expr::Host(_) | Expr::Const(_) | Expr::Status | Expr::ReleaseDate(_) => {
                let x = self.load3(b, e, status)?;
                b.i(I::LocalGet(x.known)).i(I::LocalGet(x.payload)).i(I::I64Const(1)).i(I::I64Eq).i(I::I32And);
                Self::truth_of_bool(b);
                b.i(I::LocalGet(x.unknown)).i(I::I32Or);
            }
        }
        Ok(())
    }

    /// A comparison whose subject has no value: undetermined when it is unknown, else `none_gives`.
    fn absent_compare(&self, b: &mut Body, unknown: u32, none_gives: bool) {
        b.i(I::I32Const(UNDETERMINED))
            .i(I::I32Const(if none_gives { TRUE } else { FALSE }))
            .i(I::LocalGet(unknown))
            .i(I::Select);
    }

    /// interp's `patched`: 2 when installed, superseded by an installed update, or contained in
    /// the host's build; else 1 when the installed list or (for an update a build shows) the
    /// host's OS and revision are unknown; else 0.
    fn patched(&mut self, b: &mut Body, update: usize) -> Result<(), String> {
        let u = self.program.updates.get(update).ok_or("unknown update")?.clone();
        self.patched_known(b, update)?;
        Self::truth_of_bool(b);
        let mut undetermined = false;
        if let Some(hotfixes) = self.program.host.hotfixes {
            let hot = self.slot(&Expr::Field(hotfixes)).ok_or("no hotfixes slot")?;
            b.i(I::I32Const(hot as i32)).i(I::I32Load(mem(4, 2)));
            undetermined = true;
        }
        if self.program.host.os_version.is_some() && (u.revision.is_some() || !u.revision_for.is_empty()) {
            let os = self.slot(&Expr::Host(HostValue::Os)).ok_or("no os slot")?;
            let rev = self.slot(&Expr::Host(HostValue::Revision)).ok_or("no revision slot")?;
            b.i(I::I32Const(os as i32)).i(I::I32Load(mem(4, 2)));
            b.i(I::I32Const(rev as i32)).i(I::I32Load(mem(4, 2))).i(I::I32Or);
            if undetermined {
                b.i(I::I32Or);
            }
            undetermined = true;
        }
        if undetermined {
            // max(evidence, unknown flag): 2 stays 2, 0 becomes 1 when something is unknown
            let (x, y) = (b.local(ValType::I32), b.local(ValType::I32));
            b.i(I::LocalSet(y)).i(I::LocalTee(x)).i(I::LocalGet(y)).i(I::LocalGet(x)).i(I::LocalGet(y)).i(I::I32GtS);
            b.i(I::Select);
        }
        Ok(())
    }

    /// Pushes 1 when the facts show the update installed (interp's `patched` is true).
    fn patched_known(&mut self, b: &mut Body, update: usize) -> Result<(), String> {
        let u = self.program.updates.get(update).ok_or("unknown update")?.clone();
        b.i(I::I32Const(0));
        if let Some(hotfixes) = self.program.host.hotfixes {
            let hot = self.slot(&Expr::Field(hotfixes)).ok_or("no hotfixes slot")?;
            let (ptr, count) = (b.local(ValType::I32), b.local(ValType::I32));
            b.i(I::I32Const(hot as i32))
                .i(I::I64Load(mem(8, 3)))
                .i(I::I64Const(32))
                .i(I::I64ShrU)
                .i(I::I32WrapI64)
                .i(I::LocalSet(ptr));
            b.i(I::I32Const(hot as i32)).i(I::I64Load(mem(8, 3))).i(I::I32WrapI64).i(I::LocalSet(count));
            for kb in std::iter::once(u.kb).chain(u.superseded_by.iter().copied()) {
                b.i(I::LocalGet(ptr)).i(I::LocalGet(count)).i(I::I32Const(kb.0 as i32));
                self.call(b, "kbs_has")?;
                b.i(I::I32Or);
            }
        }
        if self.program.host.os_version.is_none() {
            return Ok(());
        }
        if !u.revision_for.is_empty() {
            // Per-OS revisions: the host's OS is one of `applies` and its revision is that OS's.
            let os = self.slot(&Expr::Host(HostValue::Os)).ok_or("no os slot")?;
            let rev = self.slot(&Expr::Host(HostValue::Revision)).ok_or("no revision slot")?;
            b.i(I::I32Const(os as i32)).i(I::I32Load(mem(0, 2)));
            b.i(I::I32Const(rev as i32)).i(I::I32Load(mem(0, 2))).i(I::I32And);
            b.i(I::I32Const(0));
            for a in &u.applies {
                let Some(needed) = u.revision_on(*a) else { continue };
                b.i(I::I32Const(os as i32))
                    .i(I::I64Load(mem(8, 3)))
                    .i(I::I64Const(i64::try_from(*a).unwrap_or(-1)))
                    .i(I::I64Eq);
                b.i(I::I32Const(rev as i32)).i(I::I64Load(mem(8, 3))).i(I::I64Const(i64::from(needed))).i(I::I64GeS);
                b.i(I::I32And).i(I::I32Or);
            }
            b.i(I::I32And).i(I::I32Or);
            return Ok(());
        }
        if let Some(revision) = u.revision {
            let os = self.slot(&Expr::Host(HostValue::Os)).ok_or("no os slot")?;
            let rev = self.slot(&Expr::Host(HostValue::Revision)).ok_or("no revision slot")?;
            // os known, os in applies, revision known, revision >= needed
            b.i(I::I32Const(os as i32)).i(I::I32Load(mem(0, 2)));
            b.i(I::I32Const(0));
            for a in &u.applies {
                b.i(I::I32Const(os as i32))
                    .i(I::I64Load(mem(8, 3)))
                    .i(I::I64Const(i64::try_from(*a).unwrap_or(-1)))
                    .i(I::I64Eq)
                    .i(I::I32Or);
            }
            b.i(I::I32And);
            b.i(I::I32Const(rev as i32)).i(I::I32Load(mem(0, 2))).i(I::I32And);
            b.i(I::I32Const(rev as i32))
                .i(I::I64Load(mem(8, 3)))
                .i(I::I64Const(i64::from(revision)))
                .i(I::I64GeS)
                .i(I::I32And);
            b.i(I::I32Or);
        }
        Ok(())
    }

    // ---------------------------------------------------------------- entry points

    fn evaluate(&mut self) -> Result<Body, String> {
        let mut b = Body::new(3);
        let (ptr, len, date) = (0, 1, 2);
        let at = b.local(ValType::I32);
        let finish = |g: &Self, b: &mut Body| -> Result<(), String> {
            b.i(I::GlobalGet(g.support_global("out_end")?))
                .i(I::GlobalGet(g.support_global("out")?))
                .i(I::I32Sub)
                .i(I::Return);
            Ok(())
        };
        b.i(I::LocalGet(date)).i(I::GlobalSet(self.support_global("date")?));
        // The answers that never read the input come first, their output from the heap's base:
        // the input may not be in memory at all (`alloc` reserves nothing past the size limit).
        b.i(I::GlobalGet(self.support_global("heap_base")?)).i(I::GlobalSet(self.support_global("bump")?));
        // invalid_evaluation_date: a date argument outside what YYYY-MM-DD names (i32::MIN is none)
        b.i(I::LocalGet(date)).i(I::I32Const(i32::MIN)).i(I::I32Ne);
        b.i(I::LocalGet(date)).i(I::I32Const(Date::FIRST.0)).i(I::I32LtS);
        b.i(I::LocalGet(date)).i(I::I32Const(Date::LAST.0)).i(I::I32GtS).i(I::I32Or).i(I::I32And);
        b.i(I::If(BlockType::Empty));
        self.call(&mut b, "out_start")?;
        self.out_static(&mut b, &error_head("invalid_evaluation_date", "", "the host passed day "))?;
        b.i(I::LocalGet(date)).i(I::I64ExtendI32S);
        self.call(&mut b, "out_i64")?;
        let range = format!(" as the evaluation date; it must be a day from {} to {}", Date::FIRST, Date::LAST);
        self.out_static(&mut b, &escaped_tail(&range))?;
        finish(self, &mut b)?;
        b.i(I::End);
        // too_large, before anything reads the input (`alloc` reserved nothing for it)
        b.i(I::LocalGet(len)).i(I::I32Const(crate::json::MAX_BYTES as i32)).i(I::I32GtU).i(I::If(BlockType::Empty));
        self.call(&mut b, "out_start")?;
        let too_large = format!("the facts are over {} bytes, the most accepted", crate::json::MAX_BYTES);
        self.out_static(&mut b, &error_head("too_large", "", &too_large))?;
        self.out_static(&mut b, b"\"}}")?;
        finish(self, &mut b)?;
        b.i(I::End);
        b.i(I::LocalGet(ptr)).i(I::GlobalSet(self.support_global("in")?));
        b.i(I::LocalGet(len)).i(I::GlobalSet(self.support_global("in_len")?));
        // The heap continues after the input, wherever the host put it.
        b.i(I::LocalGet(ptr)).i(I::LocalGet(len)).i(I::I32Add).i(I::GlobalSet(self.support_global("bump")?));
        // A 0 and 7 spare bytes after the input: the reader's scans stop on the 0 without bounds
        // checks, and read a word at a time (`alloc` reserved them; this holds for any `ptr`).
        b.i(I::I32Const(8));
        self.call(&mut b, "reserve")?;
        b.i(I::LocalGet(ptr)).i(I::LocalGet(len)).i(I::I32Add).i(I::I32Const(0)).i(I::I32Store8(mem(0, 0)));
        b.i(I::LocalGet(ptr)).i(I::LocalGet(len)).i(I::I32Add).i(I::I32Const(8)).i(I::I32Add);
        b.i(I::GlobalSet(self.support_global("bump")?));
        b.i(I::I32Const(DATA_BASE as i32)).i(I::I32Const(0)).i(I::I32Const(self.state_size as i32)).i(I::MemoryFill(0));
        // invalid_json: not UTF-8, then not JSON
        for check in ["utf8_check", "parse"] {
            self.call(&mut b, check)?;
            b.i(I::LocalTee(at)).i(I::I32Const(0)).i(I::I32GeS).i(I::If(BlockType::Empty));
            self.call(&mut b, "out_start")?;
            self.out_static(&mut b, &error_head("invalid_json", "", "the facts are not valid JSON (byte "))?;
            b.i(I::LocalGet(at)).i(I::I64ExtendI32U);
            self.call(&mut b, "out_u64")?;
            self.out_static(&mut b, &escaped_tail(")"))?;
            finish(self, &mut b)?;
            b.i(I::End);
        }
        b.i(I::I32Const(0));
        self.call(&mut b, "kind")?;
        b.i(I::I32Const(6)).i(I::I32Ne).i(I::If(BlockType::Empty));
        self.call(&mut b, "out_start")?;
        self.out_static(&mut b, &error_head("not_an_object", "", "the facts must be a JSON object"))?;
        self.out_static(&mut b, b"\"}}")?;
        finish(self, &mut b)?;
        b.i(I::End);
        b.i(I::Call(self.generated_fn("read_facts")?)).i(I::If(BlockType::Empty));
        finish(self, &mut b)?;
        b.i(I::End);
        b.i(I::Call(self.generated_fn("derive_host")?));
        b.i(I::Call(self.generated_fn("run_rules")?));
        b.i(I::Call(self.generated_fn("write_verdict")?));
        finish(self, &mut b)?;
        Ok(b)
    }

    fn output(&mut self) -> Result<Body, String> {
        let mut b = Body::new(0);
        b.i(I::GlobalGet(self.support_global("out")?));
        Ok(b)
    }

    fn abi_version(&mut self) -> Body {
        let mut b = Body::new(0);
        b.i(I::I32Const(super::ABI_VERSION as i32));
        b
    }

    fn write_kind(&mut self) -> Result<Body, String> {
        let mut b = Body::new(1);
        let words = ["null", "a bool", "a bool", "a number", "a string", "an array", "an object"];
        let table = self.name_table(&words.map(|w| w.as_bytes().to_vec()));
        b.i(I::I32Const(table as i32)).i(I::LocalGet(0)).i(I::Call(self.generated_fn("write_name")?));
        Ok(b)
    }

    /// `write_name(table, index)`: writes entry `index` of a table of (ptr, len) pairs.
    fn write_name(&mut self) -> Result<Body, String> {
        let mut b = Body::new(2);
        let entry = b.local(ValType::I32);
        b.i(I::LocalGet(0)).i(I::LocalGet(1)).i(I::I32Const(3)).i(I::I32Shl).i(I::I32Add).i(I::LocalSet(entry));
        b.i(I::LocalGet(entry)).i(I::I32Load(mem(0, 2))).i(I::LocalGet(entry)).i(I::I32Load(mem(4, 2)));
        self.call(&mut b, "out_bytes")?;
        Ok(b)
    }

    /// A table of (ptr, len) pairs for `write_name`, its strings among the constants.
    fn name_table(&mut self, names: &[Vec<u8>]) -> u32 {
        let mut table = Vec::new();
        for name in names {
            let at = self.intern(name, 1);
            table.extend_from_slice(&at.to_le_bytes());
            table.extend_from_slice(&u32::try_from(name.len()).unwrap_or(0).to_le_bytes());
        }
        self.intern(&table, 4)
    }

    // ---------------------------------------------------------------- facts (facts.rs)

    fn read_facts(&mut self) -> Result<Body, String> {
        let mut b = Body::new(0);
        let node = b.local(ValType::I32);
        let d = b.local(ValType::I64);
        let (sp, sl) = (b.local(ValType::I32), b.local(ValType::I32));
        let tmp = b.local(ValType::I32);
        let located = self.locate(&mut b, d, sp, sl)?;
        for index in 0..self.program.fields.len() {
            self.read_field(&mut b, index, node, d, sp, sl, tmp, &located)?;
        }
        b.i(I::I32Const(0));
        Ok(b)
    }

    /// One pass over each object the facts are read from (the document, then each group that is
    /// an object), keeping for every declared key the value node of its last member — what a
    /// lookup from the root finds, without walking the document once per fact. Returns the
    /// local holding each path prefix's node (-1: absent).
    fn locate(&mut self, b: &mut Body, d: u32, sp: u32, sl: u32) -> Result<BTreeMap<Vec<String>, u32>, String> {
        let mut located = BTreeMap::new();
        for field in &self.program.fields {
            for depth in 1..=field.path.len() {
                let prefix = field.path.get(..depth).unwrap_or_default().to_vec();
                if let std::collections::btree_map::Entry::Vacant(slot) = located.entry(prefix) {
                    let local = b.local(ValType::I32);
                    b.i(I::I32Const(-1)).i(I::LocalSet(local));
                    slot.insert(local);
                }
            }
        }
        let (i, end, mark) = (b.local(ValType::I32), b.local(ValType::I32), b.local(ValType::I32));
        let bump = self.support_global("bump")?;
        // Objects to scan: the document (node 0), then each group found, parents first.
        let mut parents: Vec<Vec<String>> = vec![Vec::new()];
        let mut next = 0;
        while let Some(parent) = parents.get(next).cloned() {
            next += 1;
            let children: Vec<(String, u32)> = located
                .iter()
                .filter(|(p, _)| p.len() == parent.len() + 1 && p.starts_with(&parent))
                .filter_map(|(p, local)| Some((p.last()?.clone(), *local)))
                .collect();
            if children.is_empty() {
                continue;
            }
            let object = match located.get(&parent) {
                Some(&local) => {
                    // A group is scanned when it is an object; otherwise reading its facts says so.
                    b.i(I::LocalGet(local)).i(I::I32Const(0)).i(I::I32GeS).i(I::If(BlockType::Empty));
                    b.i(I::LocalGet(local));
                    self.call(b, "kind")?;
                    b.i(I::I32Const(6)).i(I::I32Eq).i(I::If(BlockType::Empty));
                    b.i(I::LocalGet(local));
                    2
                }
                None => {
                    b.i(I::I32Const(0));
                    0
                }
            };
            // i = first member's key, end = the node after the object
            b.i(I::LocalTee(i));
            self.call(b, "skip")?;
            b.i(I::LocalSet(end));
            b.i(I::LocalGet(i)).i(I::I32Const(1)).i(I::I32Add).i(I::LocalSet(i));
            b.i(I::GlobalGet(bump)).i(I::LocalSet(mark));
            b.i(I::Block(BlockType::Empty)).i(I::Loop(BlockType::Empty));
            b.i(I::LocalGet(i)).i(I::LocalGet(end)).i(I::I32GeU).i(I::BrIf(1));
            // The key's text: in place, or decoded when it has escapes.
            b.i(I::LocalGet(i));
            self.call(b, "escaped")?;
            b.i(I::If(BlockType::Empty));
            b.i(I::LocalGet(i));
            self.call(b, "decode")?;
            b.i(I::LocalTee(d)).i(I::I64Const(32)).i(I::I64ShrU).i(I::I32WrapI64).i(I::LocalSet(sp));
            b.i(I::LocalGet(d)).i(I::I32WrapI64).i(I::LocalSet(sl));
            b.i(I::Else);
            b.i(I::LocalGet(i));
            self.call(b, "start")?;
            b.i(I::LocalSet(sp));
            b.i(I::LocalGet(i));
            self.call(b, "end")?;
            b.i(I::LocalGet(sp)).i(I::I32Sub).i(I::LocalSet(sl));
            b.i(I::End);
            for (key, local) in &children {
                let at = self.intern(key.as_bytes(), 1);
                let len = i32::try_from(key.len()).map_err(|e| e.to_string())?;
                b.i(I::LocalGet(sl)).i(I::I32Const(len)).i(I::I32Eq).i(I::If(BlockType::Empty));
                b.i(I::LocalGet(sp)).i(I::LocalGet(sl)).i(I::I32Const(at as i32)).i(I::I32Const(len));
                self.call(b, "bytes_eq")?;
                b.i(I::If(BlockType::Empty));
                b.i(I::LocalGet(i)).i(I::I32Const(1)).i(I::I32Add).i(I::LocalSet(*local));
                b.i(I::End).i(I::End);
            }
            b.i(I::LocalGet(mark)).i(I::GlobalSet(bump));
            b.i(I::LocalGet(i)).i(I::I32Const(1)).i(I::I32Add);
            self.call(b, "skip")?;
            b.i(I::LocalSet(i)).i(I::Br(0));
            b.i(I::End).i(I::End);
            for _ in 0..object {
                b.i(I::End);
            }
            parents.extend(
                located
                    .keys()
                    .filter(|p| p.len() == parent.len() + 1 && p.starts_with(&parent))
                    .filter(|p| located.keys().any(|q| q.len() > p.len() && q.starts_with(p)))
                    .cloned(),
            );
        }
        Ok(located)
    }

    /// Writes an input error (static text), and returns 1 from `read_facts`.
    fn fail(&mut self, b: &mut Body, code: &str, field: &str, message: &str) -> Result<(), String> {
        self.call(b, "out_start")?;
        self.out_static(b, &error_head(code, field, message))?;
        self.out_static(b, b"\"}}")?;
        b.i(I::I32Const(1)).i(I::Return);
        Ok(())
    }

    /// Writes `wrong_type` with the kind of the node in `node`.
    fn fail_kind(&mut self, b: &mut Body, field: &str, what: &str, node: u32) -> Result<(), String> {
        self.call(b, "out_start")?;
        self.out_static(b, &error_head("wrong_type", field, &format!("`{field}` must be {what}, found ")))?;
        b.i(I::LocalGet(node));
        self.call(b, "kind")?;
        b.i(I::Call(self.generated_fn("write_kind")?));
        self.out_static(b, b"\"}}")?;
        b.i(I::I32Const(1)).i(I::Return);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn read_field(
        &mut self,
        b: &mut Body,
        index: usize,
        node: u32,
        d: u32,
        sp: u32,
        sl: u32,
        tmp: u32,
        located: &BTreeMap<Vec<String>, u32>,
    ) -> Result<(), String> {
        let field = self.program.fields.get(index).ok_or("field")?.clone();
        let slot = self.slot(&Expr::Field(index)).ok_or("slot")?;
        let dotted = field.dotted();
        b.i(I::Block(BlockType::Empty)); // $done
        if let Some(c) = &field.condition {
            if reads_host(c) {
                b.i(I::Call(self.generated_fn("derive_host")?));
            }
            // false: the fact has none; undetermined: it is unknown; true: it is read
            let c_local = b.local(ValType::I32);
            self.cond(b, c, StatusFrom::None)?;
            b.i(I::LocalTee(c_local)).i(I::I32Eqz).i(I::BrIf(0));
            b.i(I::LocalGet(c_local)).i(I::I32Const(UNDETERMINED)).i(I::I32Eq).i(I::If(BlockType::Empty));
            mark_unknown(b, slot);
            b.i(I::Br(1)).i(I::End);
        }
        b.i(I::Block(BlockType::Empty)); // $absent
        b.i(I::I32Const(0)).i(I::LocalSet(node));
        for depth in 0..field.path.len() {
            if depth > 0 {
                let group = field.path.get(..depth).map(|p| p.join(".")).unwrap_or_default();
                b.i(I::LocalGet(node));
                self.call(b, "kind")?;
                b.i(I::I32Const(6)).i(I::I32Ne).i(I::If(BlockType::Empty));
                self.fail(b, "wrong_type", &group, &format!("`{group}` must be an object"))?;
                b.i(I::End);
            }
            let prefix = field.path.get(..=depth).ok_or("path")?;
            b.i(I::LocalGet(*located.get(prefix).ok_or("located")?));
            b.i(I::LocalTee(node)).i(I::I32Const(0)).i(I::I32LtS).i(I::BrIf(0));
            b.i(I::LocalGet(node));
            self.call(b, "kind")?;
            b.i(I::I32Eqz);
            match &field.null {
                // null means what the rules say
                Some(v) => {
                    b.i(I::If(BlockType::Empty));
                    self.store_const(b, slot, v);
                    b.i(I::Br(2)).i(I::End);
                }
                None => {
                    b.i(I::BrIf(0));
                }
            }
        }
        self.convert(b, &field.ty, &dotted, slot, node, d, sp, sl, tmp)?;
        b.i(I::Br(1));
        b.i(I::End); // $absent
        if self.program.host.evaluation_date == Some(index) {
            // The host's date, when it passed one, stands in for the absent fact.
            let date = self.support_global("date")?;
            b.i(I::GlobalGet(date)).i(I::I32Const(i32::MIN)).i(I::I32Ne).i(I::If(BlockType::Empty));
            b.i(I::GlobalGet(date)).i(I::I64ExtendI32S).i(I::LocalSet(d));
            self.store_known(b, slot, d);
            b.i(I::Br(1));
            b.i(I::End);
        }
        match &field.presence {
            Presence::Required => self.fail(b, "missing_field", &dotted, &format!("`{dotted}` is required"))?,
            Presence::Optional => mark_unknown(b, slot),
            Presence::Default(v) => self.store_const(b, slot, &v.clone()),
        }
        b.i(I::End); // $done
        Ok(())
    }

    /// Stores a constant (or none) in a fact's slot.
    fn store_const(&mut self, b: &mut Body, slot: u32, v: &Value) {
        let p = self.const_payload(v);
        b.i(I::I32Const(slot as i32)).i(I::I32Const(i32::from(p.is_some()))).i(I::I32Store(mem(0, 2)));
        b.i(I::I32Const(slot as i32)).i(I::I64Const(p.unwrap_or(0))).i(I::I64Store(mem(8, 3)));
    }

    /// Marks a fact's slot known, with the payload held in the local `payload`.
    fn store_known(&self, b: &mut Body, slot: u32, payload: u32) {
        mark_known(b, slot);
        b.i(I::I32Const(slot as i32)).i(I::LocalGet(payload)).i(I::I64Store(mem(8, 3)));
    }

    /// Decodes the string node into `d` (packed) and `sp`/`sl`; wrong_type when not a string.
    fn text(&mut self, b: &mut Body, dotted: &str, node: u32, d: u32, sp: u32, sl: u32) -> Result<(), String> {
        b.i(I::LocalGet(node));
        self.call(b, "kind")?;
        b.i(I::I32Const(4)).i(I::I32Ne).i(I::If(BlockType::Empty));
        self.fail_kind(b, dotted, "a string", node)?;
        b.i(I::End);
        b.i(I::LocalGet(node));
        self.call(b, "decode")?;
        b.i(I::LocalTee(d)).i(I::I64Const(32)).i(I::I64ShrU).i(I::I32WrapI64).i(I::LocalSet(sp));
        b.i(I::LocalGet(d)).i(I::I32WrapI64).i(I::LocalSet(sl));
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn convert(
        &mut self,
        b: &mut Body,
        ty: &Type,
        dotted: &str,
        slot: u32,
        node: u32,
        d: u32,
        sp: u32,
        sl: u32,
        tmp: u32,
    ) -> Result<(), String> {
        match ty {
            Type::Bool => {
                b.i(I::LocalGet(node));
                self.call(b, "kind")?;
                b.i(I::LocalTee(tmp))
                    .i(I::I32Const(1))
                    .i(I::I32Sub)
                    .i(I::I32Const(2))
                    .i(I::I32GeU)
                    .i(I::If(BlockType::Empty));
                self.fail_kind(b, dotted, "true or false", node)?;
                b.i(I::End);
                b.i(I::LocalGet(tmp)).i(I::I32Const(2)).i(I::I32Eq).i(I::I64ExtendI32U).i(I::LocalSet(d));
                self.store_known(b, slot, d);
            }
            Type::Int => {
                b.i(I::LocalGet(node));
                self.call(b, "kind")?;
                b.i(I::I32Const(3)).i(I::I32Eq).i(I::If(BlockType::Empty));
                b.i(I::LocalGet(node));
                self.call(b, "int")?;
                b.i(I::LocalSet(d));
                b.i(I::Else).i(I::I32Const(1)).i(I::GlobalSet(self.support_global("err")?)).i(I::End);
                b.i(I::GlobalGet(self.support_global("err")?)).i(I::If(BlockType::Empty));
                self.fail_kind(b, dotted, "a whole number", node)?;
                b.i(I::End);
                self.store_known(b, slot, d);
            }
            Type::String => {
                self.text(b, dotted, node, d, sp, sl)?;
                self.store_known(b, slot, d);
            }
            Type::Date => {
                self.text(b, dotted, node, d, sp, sl)?;
                b.i(I::LocalGet(sp)).i(I::LocalGet(sl));
                self.call(b, "date")?;
                b.i(I::LocalTee(tmp)).i(I::I32Const(i32::MIN)).i(I::I32Eq).i(I::If(BlockType::Empty));
                self.fail(b, "malformed_date", dotted, &format!("`{dotted}` must be a date YYYY-MM-DD"))?;
                b.i(I::End);
                b.i(I::LocalGet(tmp)).i(I::I64ExtendI32S).i(I::LocalSet(d));
                self.store_known(b, slot, d);
            }
            Type::Version | Type::Build => {
                let (mode, message) = if *ty == Type::Version {
                    (
                        0,
                        format!(
                            "`{dotted}` must be a version: dotted numbers, optionally with a build suffix (1.2, 1.2.3-456)"
                        ),
                    )
                } else {
                    (1, format!("`{dotted}` must be a Windows build major.minor.build[.revision]"))
                };
                self.text(b, dotted, node, d, sp, sl)?;
                b.i(I::LocalGet(sp)).i(I::LocalGet(sl)).i(I::I32Const(mode));
                self.call(b, "version")?;
                b.i(I::LocalTee(tmp)).i(I::I32Eqz).i(I::If(BlockType::Empty));
                self.fail(b, "malformed_version", dotted, &message)?;
                b.i(I::End);
                b.i(I::LocalGet(tmp)).i(I::I64ExtendI32U).i(I::LocalSet(d));
                self.store_known(b, slot, d);
            }
            Type::Kbs => self.convert_kbs(b, dotted, slot, node, d, sp, sl, tmp)?,
            Type::Product | Type::Enum(_) => {
                let names: Vec<String> = match ty {
                    Type::Enum(variants) => variants.clone(),
                    _ => self.program.products.iter().map(|p| p.id.clone()).collect(),
                };
                self.text(b, dotted, node, d, sp, sl)?;
                b.i(I::Block(BlockType::Empty));
                for (i, name) in names.iter().enumerate() {
                    self.text_equals(b, sp, sl, name.as_bytes())?;
                    b.i(I::If(BlockType::Empty));
                    b.i(I::I64Const(i as i64)).i(I::LocalSet(d));
                    self.store_known(b, slot, d);
                    b.i(I::Br(1)).i(I::End);
                }
                self.fail(b, "unknown_value", dotted, &format!("`{dotted}` must be one of {}", names.join(", ")))?;
                b.i(I::End);
            }
            Type::Os | Type::Update | Type::Status => {
                return Err(format!("fact `{dotted}` has a type facts cannot have"));
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn convert_kbs(
        &mut self,
        b: &mut Body,
        dotted: &str,
        slot: u32,
        node: u32,
        d: u32,
        sp: u32,
        sl: u32,
        tmp: u32,
    ) -> Result<(), String> {
        let (child, end, array, count, index) = (
            b.local(ValType::I32),
            b.local(ValType::I32),
            b.local(ValType::I32),
            b.local(ValType::I32),
            b.local(ValType::I32),
        );
        b.i(I::LocalGet(node));
        self.call(b, "kind")?;
        b.i(I::I32Const(5)).i(I::I32Ne).i(I::If(BlockType::Empty));
        self.fail_kind(b, dotted, "an array of update ids", node)?;
        b.i(I::End);
        b.i(I::LocalGet(node));
        self.call(b, "skip")?;
        b.i(I::LocalSet(end));
        b.i(I::LocalGet(end)).i(I::LocalGet(node)).i(I::I32Sub).i(I::I32Const(2)).i(I::I32Shl);
        self.call(b, "alloc_bytes")?;
        b.i(I::LocalSet(array));
        b.i(I::LocalGet(node)).i(I::I32Const(1)).i(I::I32Add).i(I::LocalSet(child));
        b.i(I::Block(BlockType::Empty)).i(I::Loop(BlockType::Empty));
        b.i(I::LocalGet(child)).i(I::LocalGet(end)).i(I::I32GeU).i(I::BrIf(1));
        // A non-string entry: wrong_type at `field[index]`.
        b.i(I::LocalGet(child));
        self.call(b, "kind")?;
        b.i(I::I32Const(4)).i(I::I32Ne).i(I::If(BlockType::Empty));
        self.call(b, "out_start")?;
        self.out_static(b, &error_head_open("wrong_type", &format!("{dotted}[")))?;
        b.i(I::LocalGet(index)).i(I::I64ExtendI32U);
        self.call(b, "out_u64")?;
        self.out_static(b, &[b"]\",\"message\":\"".as_slice(), &escaped(&format!("`{dotted}["))].concat())?;
        b.i(I::LocalGet(index)).i(I::I64ExtendI32U);
        self.call(b, "out_u64")?;
        self.out_static(b, &escaped("]` must be a string, found "))?;
        b.i(I::LocalGet(child));
        self.call(b, "kind")?;
        b.i(I::Call(self.generated_fn("write_kind")?));
        self.out_static(b, b"\"}}")?;
        b.i(I::I32Const(1)).i(I::Return);
        b.i(I::End);
        b.i(I::LocalGet(child));
        self.call(b, "decode")?;
        b.i(I::LocalTee(d)).i(I::I64Const(32)).i(I::I64ShrU).i(I::I32WrapI64).i(I::LocalSet(sp));
        b.i(I::LocalGet(d)).i(I::I32WrapI64).i(I::LocalSet(sl));
        b.i(I::LocalGet(sp)).i(I::LocalGet(sl));
        self.call(b, "kb")?;
        b.i(I::LocalTee(tmp)).i(I::I32Const(0)).i(I::I32GeS).i(I::If(BlockType::Empty));
        b.i(I::LocalGet(array))
            .i(I::LocalGet(count))
            .i(I::I32Const(2))
            .i(I::I32Shl)
            .i(I::I32Add)
            .i(I::LocalGet(tmp))
            .i(I::I32Store(mem(0, 2)));
        b.i(I::LocalGet(count)).i(I::I32Const(1)).i(I::I32Add).i(I::LocalSet(count));
        b.i(I::End);
        b.i(I::LocalGet(child));
        self.call(b, "skip")?;
        b.i(I::LocalSet(child));
        b.i(I::LocalGet(index)).i(I::I32Const(1)).i(I::I32Add).i(I::LocalSet(index));
        b.i(I::Br(0)).i(I::End).i(I::End);
        b.i(I::LocalGet(array)).i(I::I64ExtendI32U).i(I::I64Const(32)).i(I::I64Shl);
        b.i(I::LocalGet(count)).i(I::I64ExtendI32U).i(I::I64Or).i(I::LocalSet(d));
        self.store_known(b, slot, d);
        Ok(())
    }

    // ---------------------------------------------------------------- host values (interp's Host::derive)

    fn set_host(&self, b: &mut Body, h: HostValue, payload: i64) {
        let slot = self.slot(&Expr::Host(h)).unwrap_or(0);
        mark_known(b, slot);
        b.i(I::I32Const(slot as i32)).i(I::I64Const(payload)).i(I::I64Store(mem(8, 3)));
    }

    /// Sets a host value known, with the payload in the i64 local `payload`.
    fn set_host_local(&self, b: &mut Body, h: HostValue, payload: u32) {
        let slot = self.slot(&Expr::Host(h)).unwrap_or(0);
        mark_known(b, slot);
        b.i(I::I32Const(slot as i32)).i(I::LocalGet(payload)).i(I::I64Store(mem(8, 3)));
    }

    fn derive_host(&mut self) -> Result<Body, String> {
        let mut b = Body::new(0);
        let roles = self.program.host.clone();
        // An unbound role has no value.
        let field = |i: Option<usize>| i.map_or(Expr::Const(Value::None), Expr::Field);
        b.i(I::I32Const(self.host as i32))
            .i(I::I32Const(0))
            .i(I::I32Const((HOST_VALUES.len() * 16) as i32))
            .i(I::MemoryFill(0));
        // product
        let product = self.load3(&mut b, &field(roles.product), StatusFrom::None)?;
        let (pk, pp, pu) = (product.known, product.payload, product.unknown);
        let product_slot = self.slot(&Expr::Host(HostValue::Product)).ok_or("slot")?;
        b.i(I::I32Const(product_slot as i32)).i(I::LocalGet(pk)).i(I::I32Store(mem(0, 2)));
        b.i(I::I32Const(product_slot as i32)).i(I::LocalGet(pu)).i(I::I32Store(mem(4, 2)));
        b.i(I::I32Const(product_slot as i32)).i(I::LocalGet(pp)).i(I::I64Store(mem(8, 3)));
        // os: the first declaration whose role and build match; unknown when the build is, or
        // the first whose build matches needs the role and the role is unknown
        let build = self.load3(&mut b, &field(roles.os_version), StatusFrom::None)?;
        let (bk, bp) = (build.known, build.payload);
        let role = self.load3(&mut b, &field(roles.os_role), StatusFrom::None)?;
        let (rk, rp, ru) = (role.known, role.payload, role.unknown);
        let os_slot = self.slot(&Expr::Host(HostValue::Os)).ok_or("slot")?;
        let rev_slot = self.slot(&Expr::Host(HostValue::Revision)).ok_or("slot")?;
        b.i(I::LocalGet(build.unknown)).i(I::If(BlockType::Empty));
        mark_unknown(&mut b, os_slot);
        mark_unknown(&mut b, rev_slot);
        b.i(I::End);
        b.i(I::LocalGet(bk)).i(I::If(BlockType::Empty)).i(I::Block(BlockType::Empty));
        for (index, os) in self.program.oses.clone().iter().enumerate() {
            match os.role {
                Some(role) => {
                    b.i(I::LocalGet(rk)).i(I::LocalGet(rp)).i(I::I64Const(role as i64)).i(I::I64Eq).i(I::I32And);
                    b.i(I::LocalGet(ru)).i(I::I32Or);
                }
                None => {
                    b.i(I::I32Const(1));
                }
            }
            // Only for the right role; a prefix is compared only when the first parts agree
            // (tested in place): most Windows versions are ruled out without a call.
            b.i(I::If(BlockType::Result(ValType::I32)));
            b.i(I::I32Const(0));
            for pattern in &os.builds {
                let BuildPattern::Prefix(v) = pattern else {
                    // A range: every bound holds (`vcmp` gives -1, 0 or 1 over the bound's parts).
                    let BuildPattern::Range(bounds) = pattern else { continue };
                    b.i(I::I32Const(1));
                    for (op, v) in bounds {
                        let record = self.version_record(&v.0);
                        b.i(I::LocalGet(bp)).i(I::I32WrapI64).i(I::I32Const(record as i32));
                        self.call(&mut b, "vcmp")?;
                        let (against, holds_when_equal) = match op {
                            CmpOp::Ge => (-1, false),
                            CmpOp::Gt => (1, true),
                            CmpOp::Le => (1, false),
                            CmpOp::Lt => (-1, true),
                            CmpOp::Eq => (0, true),
                            CmpOp::Ne => (0, false),
                        };
                        // `>=`: != -1; `>`: == 1; `<=`: != 1; `<`: == -1.
                        b.i(I::I32Const(against)).i(if holds_when_equal { I::I32Eq } else { I::I32Ne });
                        b.i(I::I32And);
                    }
                    b.i(I::I32Or);
                    continue;
                };
                let test: &[I<'static>] = &[I::I32Const(0), I::I32Eq];
                let gate = v.0.first().copied();
                if let Some(first) = gate {
                    // the build's first part (0 when it has none) == the pattern's
                    b.i(I::LocalGet(bp)).i(I::I32WrapI64).i(I::I32Load(mem(0, 2)));
                    b.i(I::If(BlockType::Result(ValType::I32)));
                    b.i(I::LocalGet(bp)).i(I::I32WrapI64).i(I::I32Load(mem(4, 2)));
                    b.i(I::Else).i(I::I32Const(0)).i(I::End);
                    b.i(I::I32Const(first as i32)).i(I::I32Eq).i(I::If(BlockType::Result(ValType::I32)));
                }
                let record = self.version_record(&v.0);
                b.i(I::LocalGet(bp)).i(I::I32WrapI64).i(I::I32Const(record as i32));
                self.call(&mut b, "vcmp")?;
                for t in test {
                    b.i(t.clone());
                }
                if gate.is_some() {
                    b.i(I::Else).i(I::I32Const(0)).i(I::End);
                }
                b.i(I::I32Or);
            }
            b.i(I::Else).i(I::I32Const(0)).i(I::End);
            b.i(I::If(BlockType::Empty));
            if os.role.is_some() {
                b.i(I::LocalGet(ru)).i(I::If(BlockType::Empty));
                mark_unknown(&mut b, os_slot);
                b.i(I::Br(2)).i(I::End);
            }
            self.set_host(&mut b, HostValue::Os, index as i64);
            b.i(I::Br(1)).i(I::End);
        }
        b.i(I::End);
        // revision: the fourth part of the build
        b.i(I::LocalGet(bp))
            .i(I::I32WrapI64)
            .i(I::I32Load(mem(0, 2)))
            .i(I::I32Const(4))
            .i(I::I32GeU)
            .i(I::If(BlockType::Empty));
        mark_known(&mut b, rev_slot);
        b.i(I::I32Const(rev_slot as i32))
            .i(I::LocalGet(bp))
            .i(I::I32WrapI64)
            .i(I::I32Load(mem(16, 2)))
            .i(I::I64ExtendI32U)
            .i(I::I64Store(mem(8, 3)));
        b.i(I::End);
        b.i(I::End);
        // version_listed and platform_listed, per product; unknown when the product is
        let version = self.load3(&mut b, &field(roles.product_version), StatusFrom::None)?;
        let (vk, vp) = (version.known, version.payload);
        let platform = self.load3(&mut b, &field(roles.platform), StatusFrom::None)?;
        let (fk, fp) = (platform.known, platform.payload);
        let version_slot = self.slot(&Expr::Host(HostValue::VersionListed)).ok_or("slot")?;
        let platform_slot = self.slot(&Expr::Host(HostValue::PlatformListed)).ok_or("slot")?;
        b.i(I::LocalGet(pu)).i(I::If(BlockType::Empty));
        mark_unknown(&mut b, version_slot);
        mark_unknown(&mut b, platform_slot);
        b.i(I::End);
        let platform_ty = roles.platform.and_then(|p| self.program.fields.get(p)).map(|f| f.ty.clone());
        for (index, product) in self.program.products.clone().iter().enumerate() {
            b.i(I::LocalGet(pk))
                .i(I::LocalGet(pp))
                .i(I::I64Const(index as i64))
                .i(I::I64Eq)
                .i(I::I32And)
                .i(I::If(BlockType::Empty));
            match &product.versions {
                None => self.set_host(&mut b, HostValue::VersionListed, 1),
                Some(listed) => {
                    let slot = self.slot(&Expr::Host(HostValue::VersionListed)).ok_or("slot")?;
                    b.i(I::LocalGet(vk)).i(I::If(BlockType::Empty));
                    mark_known(&mut b, slot);
                    b.i(I::I32Const(slot as i32)).i(I::I32Const(0));
                    for spelling in listed.iter().flat_map(|l| l.spellings.iter()) {
                        let record = self.version_record(&spelling.0);
                        b.i(I::LocalGet(vp)).i(I::I32WrapI64).i(I::I32Const(record as i32));
                        self.call(&mut b, "vcmp")?;
                        b.i(I::I32Eqz).i(I::I32Or);
                    }
                    b.i(I::I64ExtendI32U).i(I::I64Store(mem(8, 3)));
                    b.i(I::End);
                    b.i(I::LocalGet(version.unknown)).i(I::If(BlockType::Empty));
                    mark_unknown(&mut b, slot);
                    b.i(I::End);
                }
            }
            let slot = self.slot(&Expr::Host(HostValue::PlatformListed)).ok_or("slot")?;
            b.i(I::LocalGet(fk)).i(I::If(BlockType::Empty));
            mark_known(&mut b, slot);
            b.i(I::I32Const(slot as i32)).i(I::I32Const(i32::from(product.platforms.is_empty())));
            for name in &product.platforms {
                match &platform_ty {
                    Some(Type::Enum(variants)) => match variants.iter().position(|v| v == name) {
                        Some(v) => {
                            b.i(I::LocalGet(fp)).i(I::I64Const(v as i64)).i(I::I64Eq);
                        }
                        None => {
                            b.i(I::I32Const(0));
                        }
                    },
                    _ => {
                        let at = self.intern(name.as_bytes(), 1);
                        b.i(I::LocalGet(fp))
                            .i(I::I64Const(32))
                            .i(I::I64ShrU)
                            .i(I::I32WrapI64)
                            .i(I::LocalGet(fp))
                            .i(I::I32WrapI64);
                        b.i(I::I32Const(at as i32)).i(I::I32Const(name.len() as i32));
                        self.call(&mut b, "bytes_eq")?;
                    }
                }
                b.i(I::I32Or);
            }
            b.i(I::I64ExtendI32U).i(I::I64Store(mem(8, 3)));
            b.i(I::End);
            b.i(I::LocalGet(platform.unknown)).i(I::If(BlockType::Empty));
            mark_unknown(&mut b, platform_slot);
            b.i(I::End);
            b.i(I::End);
        }
        // end_of_support and esu_until of the OS, for its edition; unknown when the OS is
        let edition = self.load3(&mut b, &field(roles.os_edition), StatusFrom::None)?;
        let oses = self.program.oses.clone();
        self.os_dates(&mut b, HostValue::EndOfSupport, &oses, edition, |os| {
            (os.end_of_support, os.end_of_support_for.clone())
        })?;
        self.os_dates(&mut b, HostValue::EsuUntil, &oses, edition, |os| (os.esu_until, os.esu_until_for.clone()))?;
        if let Some(date_slot) = roles.evaluation_date.and_then(|f| self.slot(&Expr::Field(f))) {
            self.in_support(&mut b, date_slot, &field(roles.esu))?;
        }
        Ok(b)
    }

    /// interp's `os_date`: a date of the host's OS for its edition into the host value's slot.
    fn os_dates(
        &mut self,
        b: &mut Body,
        target: HostValue,
        oses: &[crate::ir::Os],
        edition: Loaded,
        of: impl Fn(&crate::ir::Os) -> (Option<Date>, Vec<(usize, Date)>),
    ) -> Result<(), String> {
        let os_slot = self.slot(&Expr::Host(HostValue::Os)).ok_or("slot")?;
        let slot = self.slot(&Expr::Host(target)).ok_or("slot")?;
        b.i(I::I32Const(os_slot as i32)).i(I::I32Load(mem(4, 2))).i(I::If(BlockType::Empty));
        mark_unknown(b, slot);
        b.i(I::End);
        for (index, os) in oses.iter().enumerate() {
            let (default, per_edition) = of(os);
            if default.is_none() && per_edition.is_empty() {
                continue;
            }
            b.i(I::I32Const(os_slot as i32)).i(I::I32Load(mem(0, 2)));
            b.i(I::I32Const(os_slot as i32)).i(I::I64Load(mem(8, 3))).i(I::I64Const(index as i64)).i(I::I64Eq);
            b.i(I::I32And).i(I::If(BlockType::Empty));
            let set = |g: &Self, b: &mut Body, date: Option<Date>| {
                if let Some(d) = date {
                    g.set_host(b, target, i64::from(d.0));
                }
            };
            if per_edition.is_empty() {
                set(self, b, default);
            } else {
                // the edition's own date, else the OS's; an unknown edition, unknown when the
                // editions' dates differ
                b.i(I::LocalGet(edition.known)).i(I::If(BlockType::Empty));
                for (variant, date) in &per_edition {
                    b.i(I::LocalGet(edition.payload)).i(I::I64Const(*variant as i64)).i(I::I64Eq);
                    b.i(I::If(BlockType::Empty));
                    set(self, b, Some(*date));
                    b.i(I::Else);
                }
                set(self, b, default);
                for _ in &per_edition {
                    b.i(I::End);
                }
                b.i(I::Else);
                b.i(I::LocalGet(edition.unknown)).i(I::If(BlockType::Empty));
                if per_edition.iter().all(|(_, d)| Some(*d) == default) {
                    set(self, b, default);
                } else {
                    mark_unknown(b, slot);
                }
                b.i(I::Else);
                set(self, b, default);
                b.i(I::End);
                b.i(I::End);
            }
            b.i(I::End);
        }
        Ok(())
    }

    /// interp's `in_support`: per OS, the end-of-support and ESU date ranges the edition allows
    /// (known at compile time), compared with the evaluation date.
    fn in_support(&mut self, b: &mut Body, date_slot: u32, esu: &Expr) -> Result<(), String> {
        use crate::ir::EditionIs;
        let os_slot = self.slot(&Expr::Host(HostValue::Os)).ok_or("slot")? as i32;
        let target = self.slot(&Expr::Host(HostValue::InSupport)).ok_or("slot")?;
        let edition_field = self.program.host.os_edition.map_or(Expr::Const(Value::None), Expr::Field);
        let edition = self.load3(b, &edition_field, StatusFrom::None)?;
        let enrolled = self.load3(b, esu, StatusFrom::None)?;
        let (today, e, r) = (b.local(ValType::I64), b.local(ValType::I32), b.local(ValType::I32));
        // unknown OS, or no evaluation date: unknown
        b.i(I::I32Const(os_slot)).i(I::I32Load(mem(4, 2)));
        b.i(I::I32Const(os_slot)).i(I::I32Load(mem(0, 2))).i(I::I32Const(date_slot as i32)).i(I::I32Load(mem(0, 2)));
        b.i(I::I32Eqz).i(I::I32And).i(I::I32Or).i(I::If(BlockType::Empty));
        mark_unknown(b, target);
        b.i(I::End);
        b.i(I::I32Const(date_slot as i32)).i(I::I64Load(mem(8, 3))).i(I::LocalSet(today));
        // enrolled: 2, unknown: 1, else 0
        b.i(I::LocalGet(enrolled.known)).i(I::LocalGet(enrolled.payload)).i(I::I64Const(1)).i(I::I64Eq).i(I::I32And);
        Self::truth_of_bool(b);
        b.i(I::LocalGet(enrolled.unknown)).i(I::I32Or).i(I::LocalSet(e));
        // before a range of dates: 2 before all, 1 between, 0 after all
        let before = |b: &mut Body, range: Option<(Date, Date)>, none: i32| match range {
            None => {
                b.i(I::I32Const(none));
            }
            Some((lo, hi)) => {
                b.i(I::LocalGet(today)).i(I::I64Const(i64::from(lo.0))).i(I::I64LtS);
                b.i(I::If(BlockType::Result(ValType::I32))).i(I::I32Const(TRUE)).i(I::Else);
                // between the earliest and the latest: 1, undetermined
                b.i(I::LocalGet(today)).i(I::I64Const(i64::from(hi.0))).i(I::I64LtS).i(I::End);
            }
        };
        let oses = self.program.oses.clone();
        let editions = match self.program.host.os_edition.and_then(|f| self.program.fields.get(f)).map(|f| &f.ty) {
            Some(Type::Enum(variants)) => variants.len(),
            _ => 0,
        };
        b.i(I::I32Const(os_slot)).i(I::I32Load(mem(0, 2))).i(I::I32Const(date_slot as i32)).i(I::I32Load(mem(0, 2)));
        b.i(I::I32And).i(I::If(BlockType::Empty));
        let supported = b.local(ValType::I32);
        for (index, os) in oses.iter().enumerate() {
            b.i(I::I32Const(os_slot)).i(I::I64Load(mem(8, 3))).i(I::I64Const(index as i64)).i(I::I64Eq);
            b.i(I::If(BlockType::Empty));
            // the cases of the edition: each variant with dates of its own, any other known one,
            // unknown, none
            let mut variants: Vec<usize> =
                os.end_of_support_for.iter().chain(&os.esu_until_for).map(|(v, _)| *v).collect();
            variants.sort_unstable();
            variants.dedup();
            let case = |b: &mut Body, edition_is: EditionIs| {
                before(b, os.esu_ends(edition_is), FALSE);
                b.i(I::LocalTee(r))
                    .i(I::LocalGet(e))
                    .i(I::LocalGet(r))
                    .i(I::LocalGet(e))
                    .i(I::I32LtS)
                    .i(I::Select)
                    .i(I::LocalSet(r));
                before(b, os.support_ends(edition_is), TRUE);
                b.i(I::LocalTee(supported))
                    .i(I::LocalGet(r))
                    .i(I::LocalGet(supported))
                    .i(I::LocalGet(r))
                    .i(I::I32GtS)
                    .i(I::Select)
                    .i(I::LocalSet(r));
            };
            b.i(I::LocalGet(edition.known)).i(I::If(BlockType::Empty));
            for v in &variants {
                b.i(I::LocalGet(edition.payload)).i(I::I64Const(*v as i64)).i(I::I64Eq).i(I::If(BlockType::Empty));
                case(b, EditionIs::Known(*v));
                b.i(I::Else);
            }
            case(b, EditionIs::None);
            for _ in &variants {
                b.i(I::End);
            }
            b.i(I::Else);
            b.i(I::LocalGet(edition.unknown)).i(I::If(BlockType::Empty));
            case(b, EditionIs::Unknown(editions));
            b.i(I::Else);
            case(b, EditionIs::None);
            b.i(I::End);
            b.i(I::End);
            b.i(I::End);
        }
        b.i(I::LocalGet(r)).i(I::I32Const(UNDETERMINED)).i(I::I32Eq).i(I::If(BlockType::Empty));
        mark_unknown(b, target);
        b.i(I::Else);
        b.i(I::LocalGet(r)).i(I::I32Const(TRUE)).i(I::I32Eq).i(I::I64ExtendI32U).i(I::LocalSet(today));
        self.set_host_local(b, HostValue::InSupport, today);
        b.i(I::End);
        b.i(I::End);
        Ok(())
    }

    // ---------------------------------------------------------------- rules (interp's evaluate)

    fn rule_slot(&self, r: usize) -> u32 {
        self.rules + u32::try_from(r * 32).unwrap_or(0)
    }

    fn run_rules(&mut self) -> Result<Body, String> {
        let mut b = Body::new(0);
        let status = b.local(ValType::I32);
        let possible = b.local(ValType::I32);
        let from = StatusFrom::Local { status, possible };
        let when = b.local(ValType::I32);
        let level = b.local(ValType::I32);
        let second = b.local(ValType::I32);
        let unmet = b.local(ValType::I32);
        let open = b.local(ValType::I32);
        let certain = b.local(ValType::I32);
        let c = b.local(ValType::I32);
        b.i(I::I32Const(ordinal(Level::Ready))).i(I::LocalTee(status)).i(I::LocalSet(possible));
        // Shared conditions first, smallest first, so that a larger one uses the smaller ones.
        for shared in shared_conditions(self.program) {
            self.cond(&mut b, &shared, from)?;
            let local = b.local(ValType::I32);
            b.i(I::LocalSet(local));
            self.shared.push((shared, local));
        }
        let max = |b: &mut Body, into: u32, x: u32| {
            b.i(I::LocalGet(x)).i(I::LocalGet(into)).i(I::LocalGet(x)).i(I::LocalGet(into)).i(I::I32GtS);
            b.i(I::Select).i(I::LocalSet(into));
        };
        for (r, rule) in self.program.rules.clone().iter().enumerate() {
            let slot = self.rule_slot(r);
            self.cond(&mut b, &rule.when, from)?;
            b.i(I::LocalTee(when)).i(I::If(BlockType::Empty));
            // unmet / open = the bit sets of requirements not met / undetermined
            b.i(I::I32Const(0)).i(I::LocalSet(unmet)).i(I::I32Const(0)).i(I::LocalSet(open));
            for (k, requirement) in rule.require.iter().enumerate() {
                self.cond(&mut b, &requirement.met, from)?;
                b.i(I::LocalTee(c)).i(I::I32Eqz);
                b.i(I::I32Const(k as i32)).i(I::I32Shl).i(I::LocalGet(unmet)).i(I::I32Or).i(I::LocalSet(unmet));
                b.i(I::LocalGet(c)).i(I::I32Const(UNDETERMINED)).i(I::I32Eq);
                b.i(I::I32Const(k as i32)).i(I::I32Shl).i(I::LocalGet(open)).i(I::I32Or).i(I::LocalSet(open));
            }
            // every requirement met: quiet
            let quiet_when_met = !rule.require.is_empty();
            if quiet_when_met {
                b.i(I::LocalGet(unmet)).i(I::LocalGet(open)).i(I::I32Or).i(I::If(BlockType::Empty));
            }
            // level, and the second level when `severity ... if` is undetermined
            match &rule.otherwise {
                Some((cond, alt)) => {
                    self.cond(&mut b, cond, from)?;
                    b.i(I::LocalSet(c));
                    b.i(I::I32Const(ordinal(*alt))).i(I::I32Const(ordinal(rule.severity)));
                    b.i(I::LocalGet(c)).i(I::I32Eqz).i(I::Select).i(I::LocalSet(level));
                    b.i(I::I32Const(ordinal(*alt))).i(I::LocalGet(level));
                    b.i(I::LocalGet(c)).i(I::I32Const(UNDETERMINED)).i(I::I32Eq).i(I::Select).i(I::LocalSet(second));
                }
                None => {
                    b.i(I::I32Const(ordinal(rule.severity))).i(I::LocalTee(level)).i(I::LocalSet(second));
                }
            }
            // certain: the condition holds, one level, and (with requirements) one unmet
            b.i(I::LocalGet(when)).i(I::I32Const(TRUE)).i(I::I32Eq);
            b.i(I::LocalGet(level)).i(I::LocalGet(second)).i(I::I32Eq).i(I::I32And);
            if quiet_when_met {
                b.i(I::LocalGet(unmet)).i(I::I32Const(0)).i(I::I32Ne).i(I::I32And);
            }
            b.i(I::LocalTee(certain)).i(I::If(BlockType::Empty));
            max(&mut b, status, level);
            mark_known(&mut b, slot);
            b.i(I::I32Const(slot as i32)).i(I::LocalGet(status)).i(I::I32Store(mem(8, 2)));
            if quiet_when_met {
                b.i(I::I32Const(slot as i32)).i(I::LocalGet(unmet)).i(I::I32Store(mem(12, 2)));
            }
            b.i(I::End);
            b.i(I::I32Const(slot as i32)).i(I::LocalGet(level)).i(I::I32Store(mem(4, 2)));
            // undetermined: not certain, or certain with requirements it cannot tell
            b.i(I::LocalGet(certain)).i(I::I32Eqz);
            if quiet_when_met {
                b.i(I::LocalGet(open)).i(I::I32Const(0)).i(I::I32Ne).i(I::I32Or);
            }
            b.i(I::If(BlockType::Empty));
            b.i(I::I32Const(slot as i32)).i(I::I32Const(1)).i(I::I32Store(mem(16, 2)));
            b.i(I::I32Const(slot as i32)).i(I::LocalGet(second)).i(I::I32Store(mem(20, 2)));
            max(&mut b, possible, level);
            max(&mut b, possible, second);
            b.i(I::End);
            max(&mut b, possible, status);
            if quiet_when_met {
                b.i(I::End);
            }
            b.i(I::End);
        }
        // unknown when an undetermined rule could give a status that wins
        b.i(I::I32Const(self.status_slot as i32));
        b.i(I::I32Const(ordinal(Level::Unknown))).i(I::LocalGet(status));
        b.i(I::LocalGet(status)).i(I::I32Const(ordinal(Level::Unknown))).i(I::I32LtS);
        b.i(I::LocalGet(possible)).i(I::LocalGet(status)).i(I::I32GtS).i(I::I32And);
        b.i(I::Select).i(I::I32Store(mem(0, 2)));
        self.shared.clear();
        Ok(b)
    }

    // ---------------------------------------------------------------- the verdict (serde's output of Verdict)

    /// Writes the name of the level whose ordinal is in `level`.
    fn write_level(&mut self, b: &mut Body, level: u32) -> Result<(), String> {
        let names: Vec<Vec<u8>> = Level::ALL.iter().map(|l| l.name().as_bytes().to_vec()).collect();
        let table = self.name_table(&names);
        b.i(I::I32Const(table as i32)).i(I::LocalGet(level)).i(I::Call(self.generated_fn("write_name")?));
        Ok(())
    }

    fn write_verdict(&mut self) -> Result<Body, String> {
        let mut b = Body::new(0);
        let level = b.local(ValType::I32);
        let first = b.local(ValType::I32);
        self.call(&mut b, "out_start")?;
        let head = format!(
            "{{\"advisory\":{},\"status\":\"",
            serde_json::to_string(&self.program.advisory.id).map_err(|e| e.to_string())?
        );
        self.out_static(&mut b, head.as_bytes())?;
        b.i(I::I32Const(self.status_slot as i32)).i(I::I32Load(mem(0, 2))).i(I::LocalSet(level));
        self.write_level(&mut b, level)?;
        self.out_static(&mut b, b"\"")?;
        self.write_os(&mut b)?;
        self.out_static(&mut b, b",\"findings\":[")?;
        b.i(I::I32Const(1)).i(I::LocalSet(first));
        for &(r, requirement) in &self.program.finding_order.clone() {
            let rule = self.program.rules.get(r).ok_or("finding of an unknown rule")?.clone();
            let slot = self.rule_slot(r);
            // fired, and (for a requirement's finding) that requirement not met
            b.i(I::I32Const(slot as i32)).i(I::I32Load(mem(0, 2)));
            if let Some(k) = requirement {
                b.i(I::I32Const(slot as i32)).i(I::I32Load(mem(12, 2)));
                if k > 0 {
                    b.i(I::I32Const(k as i32)).i(I::I32ShrU);
                }
                b.i(I::I32Const(1)).i(I::I32And).i(I::I32And);
            }
            b.i(I::If(BlockType::Empty));
            b.i(I::LocalGet(first)).i(I::I32Eqz).i(I::If(BlockType::Empty));
            self.out_static(&mut b, b",")?;
            b.i(I::End);
            b.i(I::I32Const(0)).i(I::LocalSet(first));
            self.write_finding(&mut b, &rule, requirement, slot, level)?;
            b.i(I::End);
        }
        self.out_static(&mut b, b"]")?;
        self.write_undetermined(&mut b, level)?;
        self.out_static(&mut b, b"}")?;
        Ok(b)
    }

    /// `,"os":"ID"` when the host's OS is a declared one (the os slot is known and holds its
    /// index); nothing when it is unknown or none matches.
    fn write_os(&mut self, b: &mut Body) -> Result<(), String> {
        if self.program.oses.is_empty() {
            return Ok(());
        }
        let Some(os_slot) = self.slot(&Expr::Host(HostValue::Os)) else { return Ok(()) };
        let ids: Vec<Vec<u8>> = self.program.oses.iter().map(|os| os.id.as_bytes().to_vec()).collect();
        let table = self.name_table(&ids);
        b.i(I::I32Const(os_slot as i32)).i(I::I32Load(mem(0, 2))).i(I::If(BlockType::Empty));
        self.out_static(b, b",\"os\":\"")?;
        b.i(I::I32Const(table as i32));
        b.i(I::I32Const(os_slot as i32)).i(I::I64Load(mem(8, 3))).i(I::I32WrapI64);
        b.i(I::Call(self.generated_fn("write_name")?));
        self.out_static(b, b"\"")?;
        b.i(I::End);
        Ok(())
    }

    /// `,"undetermined":[...]` when some rule is undetermined: each with the levels it could
    /// give and the facts it reads that are unknown (interp's `needed_facts`).
    fn write_undetermined(&mut self, b: &mut Body, level: u32) -> Result<(), String> {
        let any = b.local(ValType::I32);
        let first_fact = b.local(ValType::I32);
        b.i(I::I32Const(0)).i(I::LocalSet(any));
        for (r, rule) in self.program.rules.clone().iter().enumerate() {
            let slot = self.rule_slot(r);
            b.i(I::I32Const(slot as i32)).i(I::I32Load(mem(16, 2))).i(I::If(BlockType::Empty));
            b.i(I::LocalGet(any)).i(I::If(BlockType::Empty));
            self.out_static(b, b",")?;
            b.i(I::Else);
            self.out_static(b, b",\"undetermined\":[")?;
            b.i(I::End);
            b.i(I::I32Const(1)).i(I::LocalSet(any));
            let name = serde_json::to_string(&rule.name).map_err(|e| e.to_string())?;
            self.out_static(b, format!("{{\"rule\":{name},\"could_be\":[\"").as_bytes())?;
            b.i(I::I32Const(slot as i32)).i(I::I32Load(mem(4, 2))).i(I::LocalSet(level));
            self.write_level(b, level)?;
            b.i(I::I32Const(slot as i32)).i(I::I32Load(mem(20, 2))).i(I::LocalGet(level)).i(I::I32Ne);
            b.i(I::If(BlockType::Empty));
            self.out_static(b, b"\",\"")?;
            b.i(I::I32Const(slot as i32)).i(I::I32Load(mem(20, 2))).i(I::LocalSet(level));
            self.write_level(b, level)?;
            b.i(I::End);
            self.out_static(b, b"\"],\"needs\":[")?;
            b.i(I::I32Const(1)).i(I::LocalSet(first_fact));
            for f in crate::ir::rule_reads(self.program, rule) {
                let field = self.program.fields.get(f).ok_or("field")?.clone();
                let fact_slot = self.slot(&Expr::Field(f)).ok_or("slot")?;
                let needed = crate::verdict::NeededFact {
                    fact: field.dotted(),
                    collect: field.collect.as_ref().map(crate::ir::Collect::describe),
                };
                let json = serde_json::to_string(&needed).map_err(|e| e.to_string())?;
                b.i(I::I32Const(fact_slot as i32)).i(I::I32Load(mem(4, 2))).i(I::If(BlockType::Empty));
                b.i(I::LocalGet(first_fact)).i(I::I32Eqz).i(I::If(BlockType::Empty));
                self.out_static(b, b",")?;
                b.i(I::End);
                b.i(I::I32Const(0)).i(I::LocalSet(first_fact));
                self.out_static(b, json.as_bytes())?;
                b.i(I::End);
            }
            self.out_static(b, b"]}")?;
            b.i(I::End);
        }
        b.i(I::LocalGet(any)).i(I::If(BlockType::Empty));
        self.out_static(b, b"]")?;
        b.i(I::End);
        Ok(())
    }

    fn write_finding(
        &mut self,
        b: &mut Body,
        rule: &Rule,
        requirement: Option<usize>,
        slot: u32,
        level: u32,
    ) -> Result<(), String> {
        // The finding's JSON with markers where the severity and message go. What follows the
        // message may depend on the host's OS (the updates for it, their dates there) and on the
        // evaluation date (updates not out yet are left out), and so may a `{need}` in the
        // message: each is written by `write_by_os_and_date`.
        let program = self.program;
        let finding = move |os: Option<usize>, as_of: Option<Date>| {
            crate::interp::finding_for(program, rule, requirement, os, as_of, "\u{1}", "\u{2}".into())
        };
        let split = move |os: Option<usize>, as_of: Option<Date>| -> Result<(String, String, String), String> {
            let json = serde_json::to_string(&finding(os, as_of)).map_err(|e| e.to_string())?;
            let (head, rest) = json.split_once("\\u0001").ok_or("severity marker")?;
            let (middle, tail) = rest.split_once("\\u0002").ok_or("message marker")?;
            Ok((head.to_string(), middle.to_string(), tail.to_string()))
        };
        let (head, middle, _) = split(None, None)?;
        self.out_static(b, head.as_bytes())?;
        b.i(I::I32Const(slot as i32)).i(I::I32Load(mem(4, 2))).i(I::LocalSet(level));
        self.write_level(b, level)?;
        self.out_static(b, middle.as_bytes())?;
        for segment in &rule.message {
            match segment {
                Segment::Text(text) => self.out_static(b, &escaped(text))?,
                Segment::Value(e) => self.write_value(b, e, slot)?,
                Segment::Need => self.write_by_os_and_date(b, rule, requirement, &|os, as_of| {
                    Ok(String::from_utf8_lossy(&escaped(&finding(os, as_of).need_words())).into_owned())
                })?,
            }
        }
        self.write_by_os_and_date(b, rule, requirement, &|os, as_of| Ok(split(os, as_of)?.2))
    }

    /// Writes `text_for(host's OS, evaluation date)` where that can vary only with the OS (per
    /// OS, one text for each release date of the requirement's updates there, latest first) and
    /// the date: one set of texts per distinct set, the one for an unknown OS last.
    fn write_by_os_and_date(
        &mut self,
        b: &mut Body,
        rule: &Rule,
        requirement: Option<usize>,
        text_for: &dyn Fn(Option<usize>, Option<Date>) -> Result<String, String>,
    ) -> Result<(), String> {
        let dated = self.program.host.evaluation_date.is_some();
        let ids: Vec<usize> = match requirement.and_then(|k| rule.require.get(k)) {
            Some(q) if dated => q.need.update_ids(),
            _ => Vec::new(),
        };
        // (from this date on, this text), latest first; then the text for any other date.
        let variants = |os: Option<usize>| -> Result<Dated, String> {
            let mut dates: Vec<Date> =
                ids.iter().filter_map(|u| self.program.updates.get(*u)).filter_map(|u| u.released_on(os)).collect();
            dates.sort_unstable();
            dates.dedup();
            let mut out = Vec::new();
            // Before the first release: as the day before it (alternatives then leave the
            // updates out; a group of updates alone is not due and writes no finding).
            let before = dates.first().map(|d| Date(d.0 - 1));
            for d in dates.into_iter().rev() {
                out.push((Some(d), text_for(os, Some(d))?));
            }
            out.push((None, text_for(os, before)?));
            // A text the next date down gives too starts at that date: one test fewer.
            out.dedup_by(|below, above| {
                let same = below.1 == above.1;
                if same {
                    above.0 = below.0;
                }
                same
            });
            Ok(out)
        };
        let default_variants = variants(None)?;
        let mut tails: Vec<(Dated, Vec<usize>)> = Vec::new();
        for os in 0..self.program.oses.len() {
            let these = variants(Some(os))?;
            if these == default_variants {
                continue;
            }
            match tails.iter_mut().find(|(t, _)| *t == these) {
                Some((_, oses)) => oses.push(os),
                None => tails.push((these, vec![os])),
            }
        }
        let os_slot = self.slot(&Expr::Host(HostValue::Os)).ok_or("no os slot")?;
        for (variants, oses) in &tails {
            b.i(I::I32Const(os_slot as i32)).i(I::I32Load(mem(0, 2)));
            b.i(I::I32Const(0));
            for os in oses {
                b.i(I::I32Const(os_slot as i32))
                    .i(I::I64Load(mem(8, 3)))
                    .i(I::I64Const(i64::try_from(*os).unwrap_or(-1)))
                    .i(I::I64Eq)
                    .i(I::I32Or);
            }
            b.i(I::I32And).i(I::If(BlockType::Empty));
            self.write_dated(b, variants)?;
            b.i(I::Else);
        }
        self.write_dated(b, &default_variants)?;
        for _ in &tails {
            b.i(I::End);
        }
        Ok(())
    }

    /// Writes the tail for the evaluation date: the first whose date it is on or after (latest
    /// first), else the last (for an earlier or unknown date).
    fn write_dated(&mut self, b: &mut Body, variants: &[(Option<Date>, String)]) -> Result<(), String> {
        let date_slot = self.program.host.evaluation_date.and_then(|f| self.slot(&Expr::Field(f)));
        let mut open = 0;
        for (date, tail) in variants {
            match (date, date_slot) {
                (Some(d), Some(slot)) => {
                    b.i(I::I32Const(slot as i32)).i(I::I32Load(mem(0, 2)));
                    b.i(I::I32Const(slot as i32)).i(I::I64Load(mem(8, 3))).i(I::I64Const(i64::from(d.0))).i(I::I64GeS);
                    b.i(I::I32And).i(I::If(BlockType::Empty));
                    self.out_static(b, tail.as_bytes())?;
                    b.i(I::Else);
                    open += 1;
                }
                _ => {
                    self.out_static(b, tail.as_bytes())?;
                    break;
                }
            }
        }
        for _ in 0..open {
            b.i(I::End);
        }
        Ok(())
    }

    /// interp's `display`, escaped for a JSON string.
    fn write_value(&mut self, b: &mut Body, e: &Expr, slot: u32) -> Result<(), String> {
        let x = self.load3(b, e, StatusFrom::Slot(slot))?;
        let (k, p) = (x.known, x.payload);
        b.i(I::LocalGet(k)).i(I::I32Eqz).i(I::If(BlockType::Empty));
        b.i(I::LocalGet(x.unknown)).i(I::If(BlockType::Empty));
        self.out_static(b, b"unknown")?;
        b.i(I::Else);
        self.out_static(b, b"none")?;
        b.i(I::End);
        b.i(I::Else);
        let ty = match e {
            Expr::Field(i) => self.program.fields.get(*i).map(|f| f.ty.clone()).ok_or("field")?,
            Expr::Host(h) => h.ty(),
            Expr::ReleaseDate(_) => Type::Date,
            _ => Type::Status,
        };
        let table: Option<Vec<String>> = match &ty {
            Type::Product => Some(self.program.products.iter().map(|x| x.name.clone()).collect()),
            Type::Os => Some(self.program.oses.iter().map(|x| x.name.clone()).collect()),
            Type::Enum(variants) => Some(variants.clone()),
            Type::Status => Some(Level::ALL.iter().map(|l| l.name().to_string()).collect()),
            Type::Bool => Some(vec!["false".into(), "true".into()]),
            _ => None,
        };
        match (table, &ty) {
            (Some(words), _) => {
                let names: Vec<Vec<u8>> = words.iter().map(|w| escaped(w)).collect();
                let table = self.name_table(&names);
                b.i(I::I32Const(table as i32))
                    .i(I::LocalGet(p))
                    .i(I::I32WrapI64)
                    .i(I::Call(self.generated_fn("write_name")?));
            }
            (None, Type::Int) => {
                b.i(I::LocalGet(p));
                self.call(b, "out_i64")?;
            }
            (None, Type::String) => {
                b.i(I::LocalGet(p))
                    .i(I::I64Const(32))
                    .i(I::I64ShrU)
                    .i(I::I32WrapI64)
                    .i(I::LocalGet(p))
                    .i(I::I32WrapI64);
                self.call(b, "out_escaped")?;
            }
            (None, Type::Date) => {
                b.i(I::LocalGet(p)).i(I::I32WrapI64);
                self.call(b, "out_date")?;
            }
            (None, Type::Version | Type::Build) => {
                b.i(I::LocalGet(p)).i(I::I32WrapI64);
                self.call(b, "out_version")?;
            }
            (None, other) => return Err(format!("a message cannot show a `{}` value in a module yet", other.name())),
        }
        b.i(I::End);
        Ok(())
    }
}

/// Sets a slot's known flag.
fn mark_known(b: &mut Body, slot: u32) {
    b.i(I::I32Const(slot as i32)).i(I::I32Const(1)).i(I::I32Store(mem(0, 2)));
}

/// Sets a slot's unknown flag: the host did not send it.
fn mark_unknown(b: &mut Body, slot: u32) {
    b.i(I::I32Const(slot as i32)).i(I::I32Const(1)).i(I::I32Store(mem(4, 2)));
}

/// The conditions that appear more than once across the rules (`when`, requirements, `severity
/// ... if`) and do not read `status` (which changes from rule to rule), smallest first. Each
/// is pure, so computing it once before the rules changes no answer.
fn shared_conditions(program: &Program) -> Vec<Expr> {
    fn count<'a>(e: &'a Expr, seen: &mut Vec<(&'a Expr, usize)>) {
        let mut stack = vec![e];
        while let Some(x) = stack.pop() {
            let compound = matches!(
                x,
                Expr::Not(_)
                    | Expr::And(_)
                    | Expr::Or(_)
                    | Expr::Compare(..)
                    | Expr::In(..)
                    | Expr::Patched(_)
                    | Expr::Known(_)
            );
            if !compound {
                continue;
            }
            match seen.iter_mut().find(|(y, _)| *y == x) {
                Some((_, n)) => *n += 1,
                None => seen.push((x, 1)),
            }
            match x {
                Expr::Not(inner) | Expr::Known(inner) => stack.push(inner),
                Expr::And(parts) | Expr::Or(parts) => stack.extend(parts.iter()),
                _ => {}
            }
        }
    }
    let mut seen: Vec<(&Expr, usize)> = Vec::new();
    let rules = &program.rules;
    for rule in rules {
        count(&rule.when, &mut seen);
        rule.require.iter().for_each(|q| count(&q.met, &mut seen));
        if let Some((c, _)) = &rule.otherwise {
            count(c, &mut seen);
        }
    }
    let mut shared: Vec<Expr> =
        seen.into_iter().filter(|(e, n)| *n > 1 && !reads_status(e)).map(|(e, _)| e.clone()).collect();
    shared.sort_by_key(size);
    shared
}

fn reads_status(e: &Expr) -> bool {
    let mut found = false;
    crate::check::lint::walk(e, &mut |x| found |= matches!(x, Expr::Status));
    found
}

/// The number of nodes of an expression.
fn size(e: &Expr) -> usize {
    let mut n = 0;
    crate::check::lint::walk(e, &mut |_| n += 1);
    n
}

fn reads_host(e: &Expr) -> bool {
    let mut found = false;
    crate::check::lint::walk(e, &mut |x| found |= matches!(x, Expr::Host(_) | Expr::Patched(_)));
    found
}

/// `{"error":{"code":"C","field":"F","message":"` followed by the escaped start of the message.
fn error_head(code: &str, field: &str, message: &str) -> Vec<u8> {
    let mut out = error_head_open(code, field);
    out.extend_from_slice(b"\",\"message\":\"");
    out.extend(escaped(message));
    out
}

/// `{"error":{"code":"C","field":"F` (the field string left open).
fn error_head_open(code: &str, field: &str) -> Vec<u8> {
    let mut out = b"{\"error\":{\"code\":\"".to_vec();
    out.extend(escaped(code));
    out.extend_from_slice(b"\",\"field\":\"");
    out.extend(escaped(field));
    out
}

/// The escaped end of a message and the closing of the error object.
fn escaped_tail(text: &str) -> Vec<u8> {
    let mut out = escaped(text);
    out.extend_from_slice(b"\"}}");
    out
}
