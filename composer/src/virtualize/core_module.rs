//! The core wasm module of a stub, emitted with wasm-encoder in the names of
//! wit-component's legacy mangling (`iface#func`, `cabi_realloc`,
//! `[export]iface` / `[resource-new]R`).
//!
//! Memory layout: a static return area at [`RETURN_AREA`] for results that do
//! not fit one core value, then the fixed data of virtual values (data
//! segments), then a bump heap for `cabi_realloc`. Callers copy
//! string and list arguments into the heap before a call; the stub never
//! reads them, so each function that takes such arguments resets the heap.

use super::values::{Flat, Store, Stored, Value, Values, Width, kind, unalias_id};
use indexmap::IndexMap;
use std::collections::HashMap;
use wasm_encoder::Encode;
use wasm_encoder::{
    BlockType, CodeSection, ConstExpr, EntityType, ExportKind, ExportSection, Function,
    FunctionSection, GlobalSection, GlobalType, ImportSection, Instruction, MemArg, MemorySection,
    MemoryType, Module, NameMap, NameSection, TypeSection, ValType,
};
use wit_parser::abi::{AbiVariant, WasmType};
use wit_parser::{
    Function as WitFunction, Handle, LiftLowerAbi, ManglingAndAbi, ResourceIntrinsic, SizeAlign,
    TypeDefKind, TypeId, TypeOwner, WasmExport, WasmExportKind, WasmImport, WorldKey,
};

/// The name mangling of the core module (what `wit-bindgen` emits too).
pub(crate) const MANGLING: ManglingAndAbi = ManglingAndAbi::Legacy(LiftLowerAbi::Sync);

/// Where results that do not fit one core value are written.
const RETURN_AREA: u32 = 8;

/// What one exported function does.
pub(crate) enum Body {
    /// `unreachable`.
    Trap,
    /// Returns this value, or nothing.
    Return(Option<Value>),
    /// Returns a pointer to fixed data in a data segment (results returned
    /// through memory only).
    Static(StaticData),
    /// Returns values of the seeded generator (splitmix64, state in a global).
    Random { seed: u64, out: RandomOut },
}

/// Fixed data a [`Body::Static`] returns, laid out at a base address: the
/// result's return-area bytes first, then what they point to.
#[derive(Clone, Debug)]
pub(crate) enum StaticData {
    /// `list<tuple<string, string>>`.
    Pairs(Vec<(String, String)>),
    /// `list<string>`.
    Strings(Vec<String>),
    /// `option<string>`, `some`.
    SomeString(String),
    /// A `datetime` record: seconds, 0 nanoseconds.
    Datetime(u64),
}

impl StaticData {
    /// The bytes of the data placed at `base` (a multiple of 8).
    fn layout(&self, base: u32) -> Vec<u8> {
        let mut head = Vec::new();
        let mut tail = Vec::new();
        let u32le = |v: u32| v.to_le_bytes();
        // Strings go after a head of `head_len` bytes; returns (ptr, len).
        let string = |tail: &mut Vec<u8>, head_len: u32, s: &str| {
            let at = base + head_len + tail.len() as u32;
            tail.extend_from_slice(s.as_bytes());
            (at, s.len() as u32)
        };
        match self {
            StaticData::Pairs(pairs) => {
                let head_len = 8 + 16 * pairs.len() as u32;
                head.extend(u32le(base + 8));
                head.extend(u32le(pairs.len() as u32));
                for (k, v) in pairs {
                    for s in [k, v] {
                        let (ptr, len) = string(&mut tail, head_len, s);
                        head.extend(u32le(ptr));
                        head.extend(u32le(len));
                    }
                }
            }
            StaticData::Strings(strings) => {
                let head_len = 8 + 8 * strings.len() as u32;
                head.extend(u32le(base + 8));
                head.extend(u32le(strings.len() as u32));
                for s in strings {
                    let (ptr, len) = string(&mut tail, head_len, s);
                    head.extend(u32le(ptr));
                    head.extend(u32le(len));
                }
            }
            StaticData::SomeString(s) => {
                let (ptr, len) = string(&mut tail, 12, s);
                head.extend(u32le(1)); // discriminant `some` (u8), then padding
                head.extend(u32le(ptr));
                head.extend(u32le(len));
            }
            StaticData::Datetime(secs) => {
                head.extend(secs.to_le_bytes());
                head.extend(u32le(0));
                head.extend(u32le(0)); // padding to the record's size
            }
        }
        head.extend(tail);
        head
    }
}

/// What a [`Body::Random`] returns.
#[derive(Clone, Copy, Debug)]
pub(crate) enum RandomOut {
    /// `(len: u64) -> list<u8>`: `len` bytes, little-endian `u64`s in order.
    Bytes,
    /// `() -> u64`.
    U64,
    /// `() -> tuple<u64, u64>`.
    Pair,
}

/// One function the stub exports.
pub(crate) struct Export<'a> {
    /// The denied interface, as the importing world names it.
    pub interface: &'a WorldKey,
    pub func: &'a WitFunction,
    pub body: Body,
}

/// The resource intrinsics a stub imports.
enum Intrinsic {
    /// `[resource-new]R` of a resource the stub exports.
    New,
    /// `[resource-drop]R` of a resource the stub imports.
    Drop,
}

/// Core function signatures, deduplicated.
#[derive(Default)]
struct Types {
    section: TypeSection,
    indices: IndexMap<(Vec<ValType>, Vec<ValType>), u32>,
}

impl Types {
    fn index(&mut self, params: Vec<ValType>, results: Vec<ValType>) -> u32 {
        let next = self.indices.len() as u32;
        *self
            .indices
            .entry((params, results))
            .or_insert_with_key(|(p, r)| {
                self.section
                    .ty()
                    .function(p.iter().copied(), r.iter().copied());
                next
            })
    }
}

/// Builds the core module exporting `exports`; `name` names it for backtraces.
pub(crate) fn build(
    values: &Values<'_>,
    sizes: &SizeAlign,
    exports: &[Export<'_>],
    name: &str,
) -> Vec<u8> {
    let resolve = values.resolve;
    let mut types = Types::default();
    let mut names = NameMap::new();

    // Imports first: they come first in the function index space.
    let mut intrinsics = IndexMap::new();
    for export in exports {
        if let Body::Return(Some(value)) = &export.body {
            let mut handles = Vec::new();
            value.new_handles(&mut handles);
            for r in handles {
                intrinsics.entry(r).or_insert(Intrinsic::New);
            }
        }
        if matches!(export.body, Body::Return(_)) {
            for (_, r) in dropped_params(values, export.func) {
                intrinsics.entry(r).or_insert(Intrinsic::Drop);
            }
        }
    }
    let mut imports = ImportSection::new();
    let mut intrinsic_index = IndexMap::new();
    for (index, (&resource, intrinsic)) in intrinsics.iter().enumerate() {
        let owner = match resolve.types[resource].owner {
            TypeOwner::Interface(i) => WorldKey::Interface(i),
            _ => unreachable!("stub resources belong to interfaces"),
        };
        let (ty, intrinsic) = match intrinsic {
            Intrinsic::New => (
                types.index(vec![ValType::I32], vec![ValType::I32]),
                ResourceIntrinsic::ExportedNew,
            ),
            Intrinsic::Drop => (
                types.index(vec![ValType::I32], vec![]),
                ResourceIntrinsic::ImportedDrop,
            ),
        };
        let (module, field) = resolve.wasm_import_name(
            MANGLING,
            WasmImport::ResourceIntrinsic {
                interface: Some(&owner),
                resource,
                intrinsic,
            },
        );
        imports.import(&module, &field, EntityType::Function(ty));
        intrinsic_index.insert(resource, index as u32);
    }
    let call = |r: TypeId| Instruction::Call(intrinsic_index[&r]);

    let mut functions = FunctionSection::new();
    let mut code = CodeSection::new();
    let mut exported = ExportSection::new();

    // `cabi_realloc`, a bump allocator.
    let realloc = intrinsics.len() as u32;
    let i32x4 = vec![ValType::I32; 4];
    functions.function(types.index(i32x4, vec![ValType::I32]));
    code.function(&realloc_body());
    exported.export(
        &resolve.wasm_export_name(MANGLING, WasmExport::Realloc),
        ExportKind::Func,
        realloc,
    );

    let return_area = exports
        .iter()
        .filter(|e| {
            resolve
                .wasm_signature(AbiVariant::GuestExport, e.func)
                .retptr
        })
        .filter_map(|e| e.func.result.map(|t| sizes.size(&t).size_wasm32() as u32))
        .max()
        .unwrap_or(0);
    let mut heap = (RETURN_AREA + return_area).next_multiple_of(8);

    // Fixed data of virtual values, between the return area and the heap.
    let mut data = wasm_encoder::DataSection::new();
    let mut static_at = HashMap::new();
    for (i, export) in exports.iter().enumerate() {
        if let Body::Static(d) = &export.body {
            let bytes = d.layout(heap);
            data.active(0, &ConstExpr::i32_const(heap as i32), bytes.iter().copied());
            static_at.insert(i, heap);
            heap = (heap + bytes.len() as u32).next_multiple_of(8);
        }
    }
    // The seeded generator, a function after `cabi_realloc`, and its state (global 1).
    let seed = exports.iter().find_map(|e| match e.body {
        Body::Random { seed, .. } => Some(seed),
        _ => None,
    });
    let next_u64 = realloc + 1;
    if seed.is_some() {
        functions.function(types.index(vec![], vec![ValType::I64]));
        code.function(&splitmix64_body());
    }

    // Denials with the same core signature and the same body (most `err`s,
    // empty lists, `none`s) share one function, exported under each name:
    // less code to store and for the runtime to compile. Traps stay apart, so
    // each is named after its function in backtraces.
    let mut shared: HashMap<(u32, Vec<u8>), u32> = HashMap::new();
    let mut next = realloc + 1 + u32::from(seed.is_some());
    for (i, export) in exports.iter().enumerate() {
        let sig = resolve.wasm_signature(AbiVariant::GuestExport, export.func);
        let params = sig.params.iter().map(|t| val_type(*t)).collect();
        let results = sig.results.iter().map(|t| val_type(*t)).collect();
        let ty = types.index(params, results);

        let mut f = match export.body {
            Body::Random {
                out: RandomOut::Bytes,
                ..
            } => Function::new([(3, ValType::I32)]),
            _ => Function::new([]),
        };
        match &export.body {
            Body::Trap => {
                f.instruction(&Instruction::Unreachable);
            }
            Body::Static(_) => {
                assert!(sig.retptr, "fixed data is returned through memory");
                f.instruction(&Instruction::I32Const(static_at[&i] as i32));
            }
            Body::Random { out, .. } => {
                random_body(&mut f, *out, heap, realloc, next_u64);
            }
            Body::Return(value) => {
                if sig.indirect_params || sig.params.contains(&WasmType::Length) {
                    f.instruction(&Instruction::I32Const(heap as i32));
                    f.instruction(&Instruction::GlobalSet(0));
                }
                for (local, r) in dropped_params(values, export.func) {
                    f.instruction(&Instruction::LocalGet(local));
                    f.instruction(&call(r));
                }
                match (value, export.func.result) {
                    (Some(value), Some(ty)) if sig.retptr => {
                        let size = sizes.size(&ty).size_wasm32() as i32;
                        f.instruction(&Instruction::I32Const(RETURN_AREA as i32));
                        f.instruction(&Instruction::I32Const(0));
                        f.instruction(&Instruction::I32Const(size));
                        f.instruction(&Instruction::MemoryFill(0));
                        let mut stores = Vec::new();
                        values.stores(sizes, &ty, value, 0, &mut stores);
                        for store in stores {
                            emit_store(&mut f, store, &call);
                        }
                        f.instruction(&Instruction::I32Const(RETURN_AREA as i32));
                    }
                    (Some(value), Some(ty)) => {
                        let mut flat = Vec::new();
                        values.flatten(&ty, value, &mut flat);
                        for v in flat {
                            emit_flat(&mut f, v, &call);
                        }
                    }
                    _ => {}
                }
            }
        }
        f.instruction(&Instruction::End);
        let mut body = Vec::new();
        f.encode(&mut body);
        let key = (ty, body);
        let index = match shared.get(&key) {
            Some(&index) if !matches!(export.body, Body::Trap) => index,
            _ => {
                functions.function(ty);
                code.function(&f);
                shared.insert(key, next);
                next += 1;
                next - 1
            }
        };

        let export_name = resolve.wasm_export_name(
            MANGLING,
            WasmExport::Func {
                interface: Some(export.interface),
                func: export.func,
                kind: WasmExportKind::Normal,
            },
        );
        exported.export(&export_name, ExportKind::Func, index);
        // Backtraces show this name. Only traps get one: names of all WASI
        // functions would be a third of a deny-all stub.
        if matches!(export.body, Body::Trap) {
            names.append(index, &format!("airlock denied {export_name}"));
        }
    }

    let mut memories = MemorySection::new();
    memories.memory(MemoryType {
        minimum: u64::from(heap.div_ceil(1 << 16)),
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    exported.export(
        &resolve.wasm_export_name(MANGLING, WasmExport::Memory),
        ExportKind::Memory,
        0,
    );
    let mut globals = GlobalSection::new();
    let bump = GlobalType {
        val_type: ValType::I32,
        mutable: true,
        shared: false,
    };
    globals.global(bump, &ConstExpr::i32_const(heap as i32));
    if let Some(seed) = seed {
        let state = GlobalType {
            val_type: ValType::I64,
            mutable: true,
            shared: false,
        };
        globals.global(state, &ConstExpr::i64_const(seed as i64));
    }

    let mut name_section = NameSection::new();
    name_section.module(name);
    name_section.functions(&names);

    let mut module = Module::new();
    module
        .section(&types.section)
        .section(&imports)
        .section(&functions)
        .section(&memories)
        .section(&globals)
        .section(&exported)
        .section(&code);
    if !data.is_empty() {
        module.section(&data);
    }
    module.section(&name_section);
    module.finish()
}

/// Top-level `own` parameters of resources the stub imports, as (local index,
/// resource): the stub drops them so the caller's resources are released.
/// (Handles nested in other types, or passed indirectly, are not dropped;
/// they live until the stub instance does.)
fn dropped_params(values: &Values<'_>, func: &WitFunction) -> Vec<(u32, TypeId)> {
    let resolve = values.resolve;
    let sig = resolve.wasm_signature(AbiVariant::GuestExport, func);
    if sig.indirect_params {
        return Vec::new();
    }
    let mut local = 0;
    let mut dropped = Vec::new();
    for param in &func.params {
        if let Some(TypeDefKind::Handle(Handle::Own(r))) = kind(resolve, param.ty) {
            let r = unalias_id(resolve, *r);
            if !(values.stubbed)(r) {
                dropped.push((local, r));
            }
        }
        local += super::values::flat_types(resolve, &param.ty).len() as u32;
    }
    dropped
}

fn val_type(ty: WasmType) -> ValType {
    match ty {
        WasmType::I32 | WasmType::Pointer | WasmType::Length => ValType::I32,
        WasmType::I64 | WasmType::PointerOrI64 => ValType::I64,
        WasmType::F32 => ValType::F32,
        WasmType::F64 => ValType::F64,
    }
}

fn emit_flat(f: &mut Function, flat: Flat, call: &impl Fn(TypeId) -> Instruction<'static>) {
    match flat {
        Flat::Const(ty, v) => f.instruction(&match val_type(ty) {
            ValType::I64 => Instruction::I64Const(v),
            ValType::F32 => Instruction::F32Const(0.0.into()),
            ValType::F64 => Instruction::F64Const(0.0.into()),
            _ => Instruction::I32Const(v as i32),
        }),
        Flat::NewHandle(resource) => f
            .instruction(&Instruction::I32Const(0))
            .instruction(&call(resource)),
    };
}

fn emit_store(f: &mut Function, store: Store, call: &impl Fn(TypeId) -> Instruction<'static>) {
    f.instruction(&Instruction::I32Const(RETURN_AREA as i32));
    match store.what {
        Stored::Const(v) => f.instruction(&Instruction::I32Const(v as i32)),
        Stored::NewHandle(r) => f
            .instruction(&Instruction::I32Const(0))
            .instruction(&call(r)),
    };
    let mem = |align| MemArg {
        offset: u64::from(store.offset),
        align,
        memory_index: 0,
    };
    f.instruction(&match store.width {
        Width::U8 => Instruction::I32Store8(mem(0)),
        Width::U16 => Instruction::I32Store16(mem(1)),
        Width::U32 => Instruction::I32Store(mem(2)),
    });
}

/// `cabi_realloc(old_ptr, old_size, align, new_size) -> ptr`: bumps global 0,
/// growing memory as needed; never frees (the heap is reset per call).
fn realloc_body() -> Function {
    use Instruction::*;
    const ALIGN: u32 = 2;
    const SIZE: u32 = 3;
    const PTR: u32 = 4;
    let mut f = Function::new([(1, ValType::I32)]);
    for i in [
        // ptr = (bump + align - 1) & -align; bump = ptr + size
        GlobalGet(0),
        LocalGet(ALIGN),
        I32Add,
        I32Const(1),
        I32Sub,
        I32Const(0),
        LocalGet(ALIGN),
        I32Sub,
        I32And,
        LocalTee(PTR),
        LocalGet(SIZE),
        I32Add,
        GlobalSet(0),
        // if bump > memory.size * 64 KiB: grow by the missing pages or trap
        GlobalGet(0),
        MemorySize(0),
        I32Const(16),
        I32Shl,
        I32GtU,
        If(BlockType::Empty),
        GlobalGet(0),
        I32Const(0xffff),
        I32Add,
        I32Const(16),
        I32ShrU,
        MemorySize(0),
        I32Sub,
        MemoryGrow(0),
        I32Const(-1),
        I32Eq,
        If(BlockType::Empty),
        Unreachable,
        End,
        End,
        LocalGet(PTR),
        End,
    ] {
        f.instruction(&i);
    }
    f
}

/// The body of a seeded random function (see [`RandomOut`]); `next_u64` is
/// the generator's function index.
fn random_body(f: &mut Function, out: RandomOut, heap: u32, realloc: u32, next_u64: u32) {
    use Instruction::*;
    let ra = RETURN_AREA as i32;
    let mem = |offset: u64, align: u32| MemArg {
        offset,
        align,
        memory_index: 0,
    };
    match out {
        RandomOut::U64 => {
            f.instruction(&Call(next_u64));
        }
        RandomOut::Pair => {
            for offset in [0, 8] {
                f.instruction(&I32Const(ra))
                    .instruction(&Call(next_u64))
                    .instruction(&I64Store(mem(offset, 3)));
            }
            f.instruction(&I32Const(ra));
        }
        RandomOut::Bytes => {
            // Locals: 0 len (i64), 1 ptr, 2 i, 3 n.
            const LEN: u32 = 0;
            const PTR: u32 = 1;
            const I: u32 = 2;
            const N: u32 = 3;
            for i in [
                // More than 4 GiB cannot be returned: trap.
                LocalGet(LEN),
                I64Const(u32::MAX as i64),
                I64GtU,
                If(BlockType::Empty),
                Unreachable,
                End,
                LocalGet(LEN),
                I32WrapI64,
                LocalSet(N),
                // The heap is reset per call: the caller has copied the last list.
                I32Const(heap as i32),
                GlobalSet(0),
                I32Const(0),
                I32Const(0),
                I32Const(8),
                LocalGet(N),
                I64ExtendI32U,
                I64Const(7),
                I64Add,
                I64Const(-8),
                I64And,
                I32WrapI64,
                Call(realloc),
                LocalSet(PTR),
                Block(BlockType::Empty),
                Loop(BlockType::Empty),
                LocalGet(I),
                LocalGet(N),
                I32GeU,
                BrIf(1),
                LocalGet(PTR),
                LocalGet(I),
                I32Add,
                Call(next_u64),
                I64Store(mem(0, 3)),
                LocalGet(I),
                I32Const(8),
                I32Add,
                LocalSet(I),
                Br(0),
                End,
                End,
                I32Const(ra),
                LocalGet(PTR),
                I32Store(mem(0, 2)),
                I32Const(ra),
                LocalGet(N),
                I32Store(mem(4, 2)),
                I32Const(ra),
            ] {
                f.instruction(&i);
            }
        }
    }
}

/// splitmix64: `state += golden gamma`, then mix; the state is global 1.
fn splitmix64_body() -> Function {
    use Instruction::*;
    const Z: u32 = 0;
    let mut f = Function::new([(1, ValType::I64)]);
    for i in [
        GlobalGet(1),
        I64Const(0x9E37_79B9_7F4A_7C15_u64 as i64),
        I64Add,
        GlobalSet(1),
        GlobalGet(1),
        LocalSet(Z),
        LocalGet(Z),
        LocalGet(Z),
        I64Const(30),
        I64ShrU,
        I64Xor,
        I64Const(0xBF58_476D_1CE4_E5B9_u64 as i64),
        I64Mul,
        LocalSet(Z),
        LocalGet(Z),
        LocalGet(Z),
        I64Const(27),
        I64ShrU,
        I64Xor,
        I64Const(0x94D0_49BB_1331_11EB_u64 as i64),
        I64Mul,
        LocalSet(Z),
        LocalGet(Z),
        LocalGet(Z),
        I64Const(31),
        I64ShrU,
        I64Xor,
        End,
    ] {
        f.instruction(&i);
    }
    f
}
