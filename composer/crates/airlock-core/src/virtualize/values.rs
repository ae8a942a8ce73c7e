//! Denial values: which WIT values a stub can produce without any capability,
//! and how they look in the canonical ABI (flat core values or bytes in memory).
//!
//! A stub never allocates: every value it returns is all-zero bits except for
//! discriminants and fresh handles (of its own resources, of streams that have
//! already ended, of futures that resolve at once). Zero bits are a valid value
//! of every handle-free type (`0`, `false`, the first enum case, an empty
//! string or list as `(ptr 0, len 0)`, `none`), so a return area is
//! zero-filled and only the non-zero parts are stored.

use wit_parser::abi::WasmType;
use wit_parser::{Handle, Int, Resolve, SizeAlign, Type, TypeDefKind, TypeId};

/// A WIT value the stub returns, described by its non-zero parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Value {
    /// All bits zero: only valid for types where [`Values::zero_is_valid`] holds.
    Zero,
    /// Case `index` of a variant, enum, option or result; `payload` is
    /// `None` for no payload or a zero payload.
    Case {
        index: u32,
        payload: Option<Box<Value>>,
    },
    /// The fields of a record or tuple, in order.
    Fields(Vec<Value>),
    /// A fresh handle (rep 0) to a resource defined by the stub itself.
    NewHandle(TypeId),
    /// The readable end of a new stream (of this `stream<T>` type) whose
    /// writable end is dropped at once: the reader sees the end.
    EndedStream(TypeId),
    /// The readable end of a new future (of this `future<T>` type) resolved
    /// with `payload`, written asynchronously from the stub's static memory.
    /// The payload holds no handles ([`Value::is_plain`]).
    Future { ty: TypeId, payload: Box<Value> },
}

impl Value {
    /// Case `index` with the given payload, normalising a zero payload to
    /// `None` and case 0 with no payload to `Zero`.
    pub(crate) fn case(index: u32, payload: Value) -> Value {
        if index == 0 && payload == Value::Zero {
            return Value::Zero;
        }
        let payload = (payload != Value::Zero).then(|| Box::new(payload));
        Value::Case { index, payload }
    }

    /// The handles this value creates, in order of appearance (the payloads
    /// of futures too).
    pub(crate) fn made(&self, out: &mut Vec<Made>) {
        match self {
            Value::Zero => {}
            Value::Case { payload, .. } => {
                if let Some(p) = payload {
                    p.made(out);
                }
            }
            Value::Fields(fields) => fields.iter().for_each(|f| f.made(out)),
            Value::NewHandle(r) => out.push(Made::Resource(*r)),
            Value::EndedStream(ty) => out.push(Made::EndedStream(*ty)),
            Value::Future { ty, payload } => {
                out.push(Made::Future(*ty));
                payload.made(out);
            }
        }
    }

    /// The handle this value is, if it is one.
    fn as_made(&self) -> Option<Made> {
        match self {
            Value::NewHandle(r) => Some(Made::Resource(*r)),
            Value::EndedStream(ty) => Some(Made::EndedStream(*ty)),
            Value::Future { ty, .. } => Some(Made::Future(*ty)),
            _ => None,
        }
    }

    /// The futures this value makes, with their payloads, in order.
    pub(crate) fn futures<'v>(&'v self, out: &mut Vec<(TypeId, &'v Value)>) {
        match self {
            Value::Zero | Value::NewHandle(_) | Value::EndedStream(_) => {}
            Value::Case { payload, .. } => {
                if let Some(p) = payload {
                    p.futures(out);
                }
            }
            Value::Fields(fields) => fields.iter().for_each(|f| f.futures(out)),
            Value::Future { ty, payload } => {
                out.push((*ty, payload));
                payload.futures(out);
            }
        }
    }

    /// Whether the value is plain data, the same bytes at every call (no
    /// handle to make): only such values can be a future's payload, which
    /// is written from static memory.
    pub(crate) fn is_plain(&self) -> bool {
        let mut made = Vec::new();
        self.made(&mut made);
        made.is_empty()
    }
}

/// A handle that a stub makes at each call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Made {
    /// `[resource-new]` of the stub's own resource, with rep 0.
    Resource(TypeId),
    /// `stream.new` of this stream type, then `stream.drop-writable`: the
    /// readable end of an ended stream.
    EndedStream(TypeId),
    /// `future.new` of this future type, then an async `future.write` of the
    /// payload from static memory: the readable end of a resolved future.
    Future(TypeId),
}

/// One flat core value of a direct (non-memory) result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Flat {
    /// A constant of the given core type (only integers are ever non-zero).
    Const(WasmType, i64),
    /// A handle made at the call, in a slot of the given core type (an
    /// `i64` slot of a variant joins an `i32` handle with a wider case).
    Make(Made, WasmType),
}

/// How wide a store into memory is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Width {
    U8,
    U16,
    U32,
}

/// One store into the zero-filled return area.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Store {
    /// Byte offset from the start of the return area.
    pub offset: u32,
    pub width: Width,
    pub what: Stored,
}

/// What a [`Store`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stored {
    /// A discriminant.
    Const(u32),
    /// A handle made at the call.
    Make(Made),
}

/// Follows type aliases (`type a = b`, `use` re-exports) to the defining type.
pub(crate) fn unalias(resolve: &Resolve, mut ty: Type) -> Type {
    while let Type::Id(id) = ty {
        match &resolve.types[id].kind {
            TypeDefKind::Type(inner) => ty = *inner,
            _ => break,
        }
    }
    ty
}

/// Follows aliases from a type id to the id of its definition.
pub(crate) fn unalias_id(resolve: &Resolve, id: TypeId) -> TypeId {
    match unalias(resolve, Type::Id(id)) {
        Type::Id(id) => id,
        _ => id,
    }
}

/// The kind of `ty` after following aliases, or `None` for primitive types.
pub(crate) fn kind(resolve: &Resolve, ty: Type) -> Option<&TypeDefKind> {
    match unalias(resolve, ty) {
        Type::Id(id) => Some(&resolve.types[id].kind),
        _ => None,
    }
}

/// Knows which values the stub can make: zero bits, and handles of the
/// resources it defines itself (`stubbed`).
pub(crate) struct Values<'a> {
    pub resolve: &'a Resolve,
    pub stubbed: &'a dyn Fn(TypeId) -> bool,
}

impl Values<'_> {
    /// Whether all-zero bits are a valid value of `ty` (true unless a handle,
    /// future or stream sits where zero bits would put one).
    pub(crate) fn zero_is_valid(&self, ty: &Type) -> bool {
        let Some(kind) = kind(self.resolve, *ty) else {
            return !matches!(unalias(self.resolve, *ty), Type::ErrorContext);
        };
        match kind {
            TypeDefKind::Record(r) => r.fields.iter().all(|f| self.zero_is_valid(&f.ty)),
            TypeDefKind::Tuple(t) => t.types.iter().all(|t| self.zero_is_valid(t)),
            TypeDefKind::FixedLengthList(t, n) => *n == 0 || self.zero_is_valid(t),
            // Zero bits select case 0.
            TypeDefKind::Variant(v) => v.cases[0].ty.is_none_or(|t| self.zero_is_valid(&t)),
            TypeDefKind::Result(r) => r.ok.is_none_or(|t| self.zero_is_valid(&t)),
            TypeDefKind::Option(_)
            | TypeDefKind::Enum(_)
            | TypeDefKind::Flags(_)
            | TypeDefKind::List(_)
            | TypeDefKind::Map(..) => true,
            TypeDefKind::Handle(_)
            | TypeDefKind::Future(_)
            | TypeDefKind::Stream(_)
            | TypeDefKind::Resource
            | TypeDefKind::Unknown => false,
            TypeDefKind::Type(_) => unreachable!("aliases are followed"),
        }
    }

    /// The `stream<T>` or `future<T>` type that `ty` is (aliases followed), if any.
    pub(crate) fn transmit(&self, ty: &Type) -> Option<(TypeId, &TypeDefKind)> {
        match unalias(self.resolve, *ty) {
            Type::Id(id) => match &self.resolve.types[id].kind {
                kind @ (TypeDefKind::Stream(_) | TypeDefKind::Future(_)) => Some((id, kind)),
                _ => None,
            },
            _ => None,
        }
    }

    /// Whether a stream or future appears anywhere in `ty`.
    pub(crate) fn contains_transmit(&self, ty: &Type) -> bool {
        let Some(kind) = kind(self.resolve, *ty) else {
            return false;
        };
        let inner: Vec<&Type> = match kind {
            TypeDefKind::Stream(_) | TypeDefKind::Future(_) => return true,
            TypeDefKind::Record(r) => r.fields.iter().map(|f| &f.ty).collect(),
            TypeDefKind::Tuple(t) => t.types.iter().collect(),
            TypeDefKind::Variant(v) => v.cases.iter().filter_map(|c| c.ty.as_ref()).collect(),
            TypeDefKind::Result(r) => r.ok.iter().chain(r.err.iter()).collect(),
            TypeDefKind::Option(t) | TypeDefKind::List(t) | TypeDefKind::FixedLengthList(t, _) => {
                vec![t]
            }
            TypeDefKind::Map(k, v) => vec![k, v],
            _ => return false,
        };
        inner.into_iter().any(|t| self.contains_transmit(t))
    }

    /// The resource defined by the stub that `ty` is an `own` handle of, if any.
    pub(crate) fn own_stubbed(&self, ty: &Type) -> Option<TypeId> {
        match kind(self.resolve, *ty)? {
            TypeDefKind::Handle(Handle::Own(r)) => {
                let r = unalias_id(self.resolve, *r);
                (self.stubbed)(r).then_some(r)
            }
            _ => None,
        }
    }

    /// Some valid value of `ty` that needs no capability: zero bits where
    /// valid, fresh handles of the stub's own resources, else `None`.
    pub(crate) fn inert(&self, ty: &Type) -> Option<Value> {
        if self.zero_is_valid(ty) {
            return Some(Value::Zero);
        }
        if let Some(r) = self.own_stubbed(ty) {
            return Some(Value::NewHandle(r));
        }
        match kind(self.resolve, *ty)? {
            TypeDefKind::Record(r) => self.fields(r.fields.iter().map(|f| &f.ty)),
            TypeDefKind::Tuple(t) => self.fields(t.types.iter()),
            TypeDefKind::Variant(v) => self.first_case(v.cases.iter().map(|c| c.ty.as_ref())),
            TypeDefKind::Result(r) => self.first_case([r.ok.as_ref(), r.err.as_ref()]),
            _ => None,
        }
    }

    fn fields<'t>(&self, types: impl Iterator<Item = &'t Type>) -> Option<Value> {
        types
            .map(|t| self.inert(t))
            .collect::<Option<_>>()
            .map(Value::Fields)
    }

    /// The first case whose payload can be made.
    fn first_case<'t>(&self, cases: impl IntoIterator<Item = Option<&'t Type>>) -> Option<Value> {
        cases.into_iter().zip(0..).find_map(|(ty, index)| {
            let payload = ty.map_or(Some(Value::Zero), |t| self.inert(t))?;
            Some(Value::case(index, payload))
        })
    }

    /// The flat core values of `value` (of type `ty`).
    pub(crate) fn flatten(&self, ty: &Type, value: &Value, out: &mut Vec<Flat>) {
        let resolve = self.resolve;
        match value {
            Value::Zero => out.extend(
                flat_types(resolve, ty)
                    .into_iter()
                    .map(|t| Flat::Const(t, 0)),
            ),
            Value::NewHandle(_) | Value::EndedStream(_) | Value::Future { .. } => {
                let made = value.as_made().expect("a handle");
                out.push(Flat::Make(made, WasmType::I32))
            }
            Value::Fields(values) => {
                for (t, v) in field_types(resolve, ty).iter().zip(values) {
                    self.flatten(t, v, out);
                }
            }
            Value::Case { index, payload } => {
                // The discriminant, then the slots all cases share (joined
                // types), the chosen case's payload in the first ones.
                out.push(Flat::Const(WasmType::I32, i64::from(*index)));
                let mut flat = Vec::new();
                let (_, cases) = variant_cases(resolve, ty);
                if let (Some(p), Some(t)) = (payload, cases[*index as usize]) {
                    self.flatten(&t, p, &mut flat);
                }
                let slots = flat_types(resolve, ty).into_iter().skip(1);
                for (i, slot) in slots.enumerate() {
                    out.push(match flat.get(i) {
                        // Payloads are integers (discriminants, handles) or
                        // zero, so widening is all a joined slot needs.
                        Some(Flat::Const(_, v)) => Flat::Const(slot, *v),
                        Some(Flat::Make(made, _)) => Flat::Make(*made, slot),
                        None => Flat::Const(slot, 0),
                    });
                }
            }
        }
    }

    /// The stores that write `value` (of type `ty`) at `offset` of a
    /// zero-filled area.
    pub(crate) fn stores(
        &self,
        sizes: &SizeAlign,
        ty: &Type,
        value: &Value,
        offset: u32,
        out: &mut Vec<Store>,
    ) {
        let resolve = self.resolve;
        match value {
            Value::Zero => {}
            Value::NewHandle(_) | Value::EndedStream(_) | Value::Future { .. } => {
                let made = value.as_made().expect("a handle");
                out.push(Store {
                    offset,
                    width: Width::U32,
                    what: Stored::Make(made),
                })
            }
            Value::Fields(values) => {
                let types = field_types(resolve, ty);
                for ((at, t), v) in sizes.field_offsets(&types).into_iter().zip(values) {
                    self.stores(sizes, t, v, offset + at.size_wasm32() as u32, out);
                }
            }
            Value::Case { index, payload } => {
                let (tag, cases) = variant_cases(resolve, ty);
                if *index != 0 {
                    let width = match tag {
                        Int::U8 => Width::U8,
                        Int::U16 => Width::U16,
                        Int::U32 | Int::U64 => Width::U32,
                    };
                    out.push(Store {
                        offset,
                        width,
                        what: Stored::Const(*index),
                    });
                }
                if let (Some(p), Some(t)) = (payload, cases[*index as usize]) {
                    let at = sizes.payload_offset(tag, cases.iter().map(|c| c.as_ref()));
                    self.stores(sizes, &t, p, offset + at.size_wasm32() as u32, out);
                }
            }
        }
    }
}

/// The flat core types of `ty`, however many there are.
pub(crate) fn flat_types(resolve: &Resolve, ty: &Type) -> Vec<WasmType> {
    let mut storage = vec![WasmType::I32; flat_count_bound(resolve, ty)];
    let mut flat = wit_parser::abi::FlatTypes::new(&mut storage);
    assert!(resolve.push_flat(ty, &mut flat), "bound is large enough");
    flat.to_vec()
}

/// An upper bound of the number of flat values of `ty` (for sizing a buffer).
fn flat_count_bound(resolve: &Resolve, ty: &Type) -> usize {
    let Some(kind) = kind(resolve, *ty) else {
        return 2; // strings
    };
    match kind {
        TypeDefKind::Record(r) => r
            .fields
            .iter()
            .map(|f| flat_count_bound(resolve, &f.ty))
            .sum(),
        TypeDefKind::Tuple(t) => t.types.iter().map(|t| flat_count_bound(resolve, t)).sum(),
        TypeDefKind::FixedLengthList(t, n) => *n as usize * flat_count_bound(resolve, t),
        TypeDefKind::Flags(f) => f.repr().count(),
        TypeDefKind::Variant(v) => {
            1 + v
                .cases
                .iter()
                .map(|c| c.ty.map_or(0, |t| flat_count_bound(resolve, &t)))
                .sum::<usize>()
        }
        TypeDefKind::Option(t) => 1 + flat_count_bound(resolve, t),
        TypeDefKind::Result(r) => {
            1 + [r.ok, r.err]
                .iter()
                .flatten()
                .map(|t| flat_count_bound(resolve, t))
                .sum::<usize>()
        }
        _ => 2,
    }
}

/// The field types of a record or tuple.
fn field_types(resolve: &Resolve, ty: &Type) -> Vec<Type> {
    match kind(resolve, *ty) {
        Some(TypeDefKind::Record(r)) => r.fields.iter().map(|f| f.ty).collect(),
        Some(TypeDefKind::Tuple(t)) => t.types.clone(),
        other => unreachable!("fields of a non-record type: {other:?}"),
    }
}

/// The discriminant size and case payload types of a variant-like type.
fn variant_cases(resolve: &Resolve, ty: &Type) -> (Int, Vec<Option<Type>>) {
    match kind(resolve, *ty) {
        Some(TypeDefKind::Variant(v)) => (v.tag(), v.cases.iter().map(|c| c.ty).collect()),
        Some(TypeDefKind::Enum(e)) => (e.tag(), vec![None; e.cases.len()]),
        Some(TypeDefKind::Option(t)) => (Int::U8, vec![None, Some(*t)]),
        Some(TypeDefKind::Result(r)) => (Int::U8, vec![r.ok, r.err]),
        other => unreachable!("cases of a non-variant type: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stores of `err(case 3)` for `result<T, e>`, at the canonical ABI offsets.
    #[test]
    fn error_payloads_are_stored_after_the_aligned_discriminant() {
        let mut resolve = Resolve::default();
        let pkg = resolve
            .push_str(
                "t.wit",
                "package demo:t;
                interface t {
                    enum e { a, b, c, d }
                    resource r;
                    f: func() -> result<u64, e>;
                    g: func() -> result<r, e>;
                    h: func() -> result<tuple<u8, r>, e>;
                }",
            )
            .unwrap();
        let t = &resolve.interfaces[resolve.packages[pkg].interfaces["t"]];
        let mut sizes = SizeAlign::default();
        sizes.fill(&resolve);
        let stubbed = |_| true;
        let values = Values {
            resolve: &resolve,
            stubbed: &stubbed,
        };
        let err_d = Value::case(1, Value::case(3, Value::Zero));
        let stores = |func: &str, value: &Value| {
            let mut out = Vec::new();
            let ty = t.functions[func].result.unwrap();
            values.stores(&sizes, &ty, value, 0, &mut out);
            out.iter()
                .map(|s| (s.offset, s.width, s.what))
                .collect::<Vec<_>>()
        };
        let discriminants = |payload_at| {
            vec![
                (0, Width::U8, Stored::Const(1)),
                (payload_at, Width::U8, Stored::Const(3)),
            ]
        };
        assert_eq!(stores("f", &err_d), discriminants(8));
        assert_eq!(stores("g", &err_d), discriminants(4));
        // ok((0, handle)): the handle sits at 4 + 4 (after the u8, aligned).
        let r = *t.types.get("r").unwrap();
        let ok = Value::case(0, Value::Fields(vec![Value::Zero, Value::NewHandle(r)]));
        let handle = Stored::Make(Made::Resource(r));
        assert_eq!(stores("h", &ok), [(8, Width::U32, handle)]);

        // Flat (an async function's `task.return`): the error's discriminant
        // widened into the slot it shares with `u64`, or a handle next to it.
        let flat = |func: &str, value: &Value| {
            let mut out = Vec::new();
            values.flatten(&t.functions[func].result.unwrap(), value, &mut out);
            out
        };
        let (i32_, i64_) = (WasmType::I32, WasmType::I64);
        let err = [Flat::Const(i32_, 1), Flat::Const(i64_, 3)];
        assert_eq!(flat("f", &err_d), err);
        let ok = Value::case(0, Value::NewHandle(r));
        let ok_flat = [Flat::Const(i32_, 0), Flat::Make(Made::Resource(r), i32_)];
        assert_eq!(flat("g", &ok), ok_flat);
    }
}
