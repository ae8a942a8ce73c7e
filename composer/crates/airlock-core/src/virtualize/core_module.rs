//! The core wasm module of a stub, emitted with wasm-encoder in the names of
//! wit-component's legacy mangling (`iface#func`, `cabi_realloc`,
//! `[export]iface` / `[resource-new]R`).
//!
//! Async functions (`async func`) are lifted with the async ABI and a
//! callback (`[async-lift]iface#func`, `[callback][async-lift]iface#func`):
//! the function hands its denial to `task.return` (`[export]iface`
//! `[task-return]func`) at once and returns `EXIT`, so its callback is never
//! called. A result holding a `stream<T>` gets a new stream whose writable end
//! is dropped at once (`[stream-new-N]func`, `[stream-drop-writable-N]func`):
//! the reader sees it ended. A `future<T>` gets a new future with an async
//! write of its value from static memory (`[async-lower][future-write-N]func`):
//! the write stays pending until the reader reads, which it can do at once.
//! Neither needs the caller to wait, so sync functions (which may not block)
//! return them too. The writable ends of futures are kept, per future type,
//! in a waitable set; each later call that makes such a future first polls
//! the set (which never blocks) and drops the ends whose writes finished, so
//! a stub holds only the futures not read yet. Readable ends passed in
//! (`write-via-stream(data)`) are dropped, so their writers see the stub is
//! not reading.
//!
//! Memory layout: the event of `waitable-set.poll` at [`POLL_EVENT`], a
//! static return area at [`RETURN_AREA`] for results that do not fit one
//! core value, then the fixed data of virtual values and the
//! values of futures (data segments), then a bump heap for `cabi_realloc`.
//! Callers copy string and list arguments into the heap before a call; the
//! stub never reads them, so each function that takes such arguments resets
//! the heap.

use super::values::{Flat, Made, Store, Stored, Value, Values, Width, kind, unalias_id};
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
    Function as WitFunction, FutureIntrinsic, Handle, InterfaceId, LiftLowerAbi, Mangling,
    ManglingAndAbi, ResourceIntrinsic, SizeAlign, StreamIntrinsic, Type, TypeDefKind, TypeId,
    TypeOwner, WasmExport, WasmExportKind, WasmImport, WorldKey,
};

/// The name mangling of the core module (what `wit-bindgen` emits too).
pub(crate) const MANGLING: ManglingAndAbi = ManglingAndAbi::Legacy(LiftLowerAbi::Sync);

/// The mangling of async functions: lifted with the async ABI and a callback.
const ASYNC_MANGLING: ManglingAndAbi = ManglingAndAbi::Legacy(LiftLowerAbi::AsyncCallback);

/// The callback ABI's code for "the task is done".
const CALLBACK_EXIT: i32 = 0;

/// Where `waitable-set.poll` writes its event (two words), below the return area.
const POLL_EVENT: u32 = 0;

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
    /// The denied interface, as the importing world names it; `None` for a
    /// bare function (the world's own).
    pub interface: Option<&'a WorldKey>,
    pub func: &'a WitFunction,
    pub body: Body,
}

/// The intrinsics a stub imports. Stream and future intrinsics are named
/// after a function and the index of the type in its signature, so they
/// carry the export (its index in `exports`) they serve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Intrinsic {
    /// `[resource-new]R` of a resource the stub exports.
    ResourceNew(TypeId),
    /// `[resource-drop]R` of a resource the stub imports.
    ResourceDrop(TypeId),
    /// `stream.new`.
    StreamNew(usize, TypeId),
    /// `stream.drop-writable`.
    StreamDropWritable(usize, TypeId),
    /// `stream.drop-readable`.
    StreamDropReadable(usize, TypeId),
    /// `future.new`.
    FutureNew(usize, TypeId),
    /// `future.write`, async.
    FutureWrite(usize, TypeId),
    /// `future.drop-readable`.
    FutureDropReadable(usize, TypeId),
    /// `future.drop-writable`.
    FutureDropWritable(usize, TypeId),
    /// `task.return` of an async function.
    TaskReturn(usize),
    /// `waitable-set.new`.
    WaitableSetNew,
    /// `waitable-set.poll`.
    WaitableSetPoll,
    /// `waitable.join`.
    WaitableJoin,
}

/// A handle passed in that the stub drops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dropped {
    /// An `own` handle of a resource the stub imports.
    Resource(TypeId),
    /// The readable end of a stream.
    Stream(TypeId),
    /// The readable end of a future.
    Future(TypeId),
}

/// A parameter handle to drop: in core local `local`, only when local
/// `guard` (an option's discriminant) is non-zero, if any.
#[derive(Clone, Copy, Debug)]
struct ParamDrop {
    local: u32,
    guard: Option<u32>,
    what: Dropped,
}

impl Dropped {
    fn intrinsic(self, export: usize) -> Intrinsic {
        match self {
            Dropped::Resource(r) => Intrinsic::ResourceDrop(r),
            Dropped::Stream(ty) => Intrinsic::StreamDropReadable(export, ty),
            Dropped::Future(ty) => Intrinsic::FutureDropReadable(export, ty),
        }
    }
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

/// Builds the core module exporting `exports`; `inline` gives the world keys
/// of denied inline interfaces (which have no name of their own), `name`
/// names the module for backtraces.
pub(crate) fn build(
    values: &Values<'_>,
    sizes: &SizeAlign,
    exports: &[Export<'_>],
    inline: &HashMap<InterfaceId, WorldKey>,
    name: &str,
) -> Vec<u8> {
    let resolve = values.resolve;
    let mut types = Types::default();
    let mut names = NameMap::new();

    // Imports first: they come first in the function index space. Async
    // intrinsics of equal types are shared: one `task.return` for every
    // function returning `result<_, error-code>`, one `stream.new` for every
    // `stream<u8>`.
    let mut wanted = Vec::new();
    let mut made = Vec::new();
    for (i, export) in exports.iter().enumerate() {
        let Body::Return(value) = &export.body else {
            continue;
        };
        if let Some(value) = value {
            made.clear();
            value.made(&mut made);
            for m in &made {
                match *m {
                    Made::Resource(r) => wanted.push(Intrinsic::ResourceNew(r)),
                    Made::EndedStream(ty) => wanted.extend([
                        Intrinsic::StreamNew(i, ty),
                        Intrinsic::StreamDropWritable(i, ty),
                    ]),
                    Made::Future(ty) => wanted.extend([
                        Intrinsic::FutureNew(i, ty),
                        Intrinsic::FutureWrite(i, ty),
                        Intrinsic::FutureDropWritable(i, ty),
                        Intrinsic::WaitableSetNew,
                        Intrinsic::WaitableSetPoll,
                        Intrinsic::WaitableJoin,
                    ]),
                }
            }
        }
        for drop in dropped_params(values, export.func) {
            wanted.push(drop.what.intrinsic(i));
        }
        if export.func.kind.is_async() {
            wanted.push(Intrinsic::TaskReturn(i));
        }
    }
    let mut intrinsics = IndexMap::new();
    let mut by_type = HashMap::new();
    let mut index_of = HashMap::new();
    for intrinsic in wanted {
        let shared = *by_type
            .entry(sharing_key(resolve, exports, intrinsic))
            .or_insert(intrinsic);
        let next = intrinsics.len() as u32;
        let index = *intrinsics.entry(shared).or_insert(next);
        index_of.insert(intrinsic, index);
    }
    let mut imports = ImportSection::new();
    for &intrinsic in intrinsics.keys() {
        let (module, field, ty) = import_of(resolve, exports, inline, intrinsic, &mut types);
        imports.import(&module, &field, EntityType::Function(ty));
    }
    let call = |i: Intrinsic| Instruction::Call(index_of[&i]);

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

    // The return area holds sync results returned through memory and async
    // results handed to `task.return` through memory.
    let return_area = exports
        .iter()
        .filter(|e| match e.func.kind.is_async() {
            false => {
                resolve
                    .wasm_signature(AbiVariant::GuestExport, e.func)
                    .retptr
            }
            true => task_return_signature(resolve, e).indirect_params,
        })
        .filter_map(|e| e.func.result.map(|t| sizes.size(&t).size_wasm32() as u32))
        .max()
        .unwrap_or(0);
    let mut heap = (RETURN_AREA + return_area).next_multiple_of(8);

    // Fixed data of virtual values and values of futures, between the
    // return area and the heap.
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
    // A future's value stays in place until its reader reads it, at any
    // later time: each distinct value gets its own bytes, never written again.
    let mut future_at = HashMap::new();
    let mut placed: HashMap<Vec<u8>, u32> = HashMap::new();
    for (i, export) in exports.iter().enumerate() {
        let Body::Return(Some(value)) = &export.body else {
            continue;
        };
        let mut futures = Vec::new();
        value.futures(&mut futures);
        for (ty, payload) in futures {
            let bytes = match future_payload(resolve, ty) {
                Some(t) => plain_bytes(values, sizes, &t, payload),
                None => Vec::new(),
            };
            let at = *placed.entry(bytes).or_insert_with_key(|bytes| {
                let at = heap;
                if bytes.iter().any(|b| *b != 0) {
                    data.active(0, &ConstExpr::i32_const(at as i32), bytes.iter().copied());
                }
                heap = (heap + bytes.len() as u32).next_multiple_of(8);
                at
            });
            future_at.insert((i, ty), at);
        }
    }
    // The seeded generator, a function after `cabi_realloc`, and its state (global 1).
    let seed = exports.iter().find_map(|e| match e.body {
        Body::Random { seed, .. } => Some(seed),
        _ => None,
    });
    let next_u64 = realloc + 1;
    let mut next = realloc + 1;
    if seed.is_some() {
        functions.function(types.index(vec![], vec![ValType::I64]));
        code.function(&splitmix64_body());
        next += 1;
    }
    // The one callback of async functions; never called, as they return `EXIT`.
    let callback = exports.iter().any(|e| e.func.kind.is_async()).then(|| {
        let i32x3 = vec![ValType::I32; 3];
        functions.function(types.index(i32x3, vec![ValType::I32]));
        let mut f = Function::new([]);
        f.instruction(&Instruction::I32Const(CALLBACK_EXIT));
        f.instruction(&Instruction::End);
        code.function(&f);
        next += 1;
        next - 1
    });
    // Per future type, the waitable set (a global, made at first use) of the
    // writable ends whose writes are pending, and the function that first
    // drops those whose writes finished (the reader read, or dropped its
    // end), then adds a new one. So a stub holds only the futures not read
    // yet, however often it is called.
    let first_global = 1 + u32::from(seed.is_some());
    let mut pending = HashMap::new();
    let mut sets = 0;
    for &intrinsic in intrinsics.keys() {
        let Intrinsic::FutureWrite(e, ty) = intrinsic else {
            continue;
        };
        functions.function(types.index(vec![ValType::I32], vec![]));
        code.function(&pending_body(
            first_global + sets,
            index_of[&Intrinsic::FutureDropWritable(e, ty)],
            [
                Intrinsic::WaitableSetNew,
                Intrinsic::WaitableSetPoll,
                Intrinsic::WaitableJoin,
            ]
            .map(|i| index_of[&i]),
        ));
        pending.insert(sharing_key(resolve, exports, intrinsic), next);
        sets += 1;
        next += 1;
    }
    let pending_of = |i: Intrinsic| pending[&sharing_key(resolve, exports, i)];

    // Denials with the same core signature and the same body (most `err`s,
    // empty lists, `none`s) share one function, exported under each name:
    // less code to store and for the runtime to compile. Traps stay apart, so
    // each is named after its function in backtraces.
    let mut shared: HashMap<(u32, Vec<u8>), u32> = HashMap::new();
    for (i, export) in exports.iter().enumerate() {
        let is_async = export.func.kind.is_async();
        let variant = match is_async {
            true => AbiVariant::GuestExportAsync,
            false => AbiVariant::GuestExport,
        };
        let sig = resolve.wasm_signature(variant, export.func);
        let params = sig.params.iter().map(|t| val_type(*t)).collect();
        let results = sig.results.iter().map(|t| val_type(*t)).collect();
        let ty = types.index(params, results);

        // Scratch locals after the parameters: an `i64` for the two ends of
        // a new stream or future.
        let scratch = sig.params.len() as u32;
        let mut f = match export.body {
            Body::Random {
                out: RandomOut::Bytes,
                ..
            } => Function::new([(3, ValType::I32)]),
            Body::Return(Some(ref v)) if makes_transmit(v) => Function::new([(1, ValType::I64)]),
            _ => Function::new([]),
        };
        let make = |f: &mut Function, m: Made| {
            make_handle(f, m, i, scratch, &call, &pending_of, &future_at)
        };
        match &export.body {
            Body::Trap => {
                f.instruction(&Instruction::Unreachable);
            }
            Body::Static(_) => {
                assert!(!is_async, "virtual values serve sync functions only");
                assert!(sig.retptr, "fixed data is returned through memory");
                f.instruction(&Instruction::I32Const(static_at[&i] as i32));
            }
            Body::Random { out, .. } => {
                assert!(!is_async, "virtual values serve sync functions only");
                random_body(&mut f, *out, heap, realloc, next_u64);
            }
            Body::Return(value) => {
                if sig.indirect_params || sig.params.contains(&WasmType::Length) {
                    f.instruction(&Instruction::I32Const(heap as i32));
                    f.instruction(&Instruction::GlobalSet(0));
                }
                for drop in dropped_params(values, export.func) {
                    if let Some(guard) = drop.guard {
                        f.instruction(&Instruction::LocalGet(guard));
                        f.instruction(&Instruction::If(BlockType::Empty));
                    }
                    f.instruction(&Instruction::LocalGet(drop.local));
                    f.instruction(&call(drop.what.intrinsic(i)));
                    if drop.guard.is_some() {
                        f.instruction(&Instruction::End);
                    }
                }
                // Sync: the value is returned (through memory when it does
                // not fit); async: it is handed to `task.return` likewise.
                let through_memory = match is_async {
                    false => sig.retptr,
                    true => task_return_signature(resolve, export).indirect_params,
                };
                match (value, export.func.result) {
                    (Some(value), Some(ty)) if through_memory => {
                        let size = sizes.size(&ty).size_wasm32() as i32;
                        f.instruction(&Instruction::I32Const(RETURN_AREA as i32));
                        f.instruction(&Instruction::I32Const(0));
                        f.instruction(&Instruction::I32Const(size));
                        f.instruction(&Instruction::MemoryFill(0));
                        let mut stores = Vec::new();
                        values.stores(sizes, &ty, value, 0, &mut stores);
                        for store in stores {
                            emit_store(&mut f, store, &make);
                        }
                        f.instruction(&Instruction::I32Const(RETURN_AREA as i32));
                    }
                    (Some(value), Some(ty)) => {
                        let mut flat = Vec::new();
                        values.flatten(&ty, value, &mut flat);
                        for v in flat {
                            emit_flat(&mut f, v, &make);
                        }
                    }
                    _ => {}
                }
                if is_async {
                    f.instruction(&call(Intrinsic::TaskReturn(i)));
                    f.instruction(&Instruction::I32Const(CALLBACK_EXIT));
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

        let mangling = if is_async { ASYNC_MANGLING } else { MANGLING };
        let export_name = |mangling, kind| {
            resolve.wasm_export_name(
                mangling,
                WasmExport::Func {
                    interface: export.interface,
                    func: export.func,
                    kind,
                },
            )
        };
        exported.export(
            &export_name(mangling, WasmExportKind::Normal),
            ExportKind::Func,
            index,
        );
        if let Some(callback) = callback.filter(|_| is_async) {
            let name = export_name(mangling, WasmExportKind::Callback);
            exported.export(&name, ExportKind::Func, callback);
        }
        // Backtraces show this name. Only traps get one: names of all WASI
        // functions would be a third of a deny-all stub.
        if matches!(export.body, Body::Trap) {
            let plain = export_name(MANGLING, WasmExportKind::Normal);
            // A type of the importer's world itself and its functions are
            // carried in an interface of the stub's own (see `deny`); the
            // importer knows them by their plain names.
            let in_world_types = format!("{}#", crate::deny::WORLD_TYPES);
            let plain = plain.strip_prefix(&in_world_types).unwrap_or(&plain);
            names.append(index, &format!("airlock denied {plain}"));
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
    for _ in 0..sets {
        let set = GlobalType {
            val_type: ValType::I32,
            mutable: true,
            shared: false,
        };
        globals.global(set, &ConstExpr::i32_const(0));
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

/// The import module, name and core type index of an intrinsic.
fn import_of(
    resolve: &wit_parser::Resolve,
    exports: &[Export<'_>],
    inline: &HashMap<InterfaceId, WorldKey>,
    intrinsic: Intrinsic,
    types: &mut Types,
) -> (String, String, u32) {
    let i32_ = ValType::I32;
    let (resource, resource_intrinsic, ty) = match intrinsic {
        Intrinsic::ResourceNew(r) => (
            r,
            ResourceIntrinsic::ExportedNew,
            types.index(vec![i32_], vec![i32_]),
        ),
        Intrinsic::ResourceDrop(r) => (
            r,
            ResourceIntrinsic::ImportedDrop,
            types.index(vec![i32_], vec![]),
        ),
        Intrinsic::TaskReturn(e) => {
            let export = &exports[e];
            let (module, name, sig) =
                export
                    .func
                    .task_return_import(resolve, export.interface, Mangling::Legacy);
            let params = sig.params.iter().map(|t| val_type(*t)).collect();
            return (module, name, types.index(params, vec![]));
        }
        Intrinsic::StreamNew(e, ty)
        | Intrinsic::StreamDropWritable(e, ty)
        | Intrinsic::StreamDropReadable(e, ty) => {
            let (which, core) = match intrinsic {
                Intrinsic::StreamNew(..) => (StreamIntrinsic::New, (vec![], vec![ValType::I64])),
                Intrinsic::StreamDropWritable(..) => {
                    (StreamIntrinsic::DropWritable, (vec![i32_], vec![]))
                }
                _ => (StreamIntrinsic::DropReadable, (vec![i32_], vec![])),
            };
            let (module, name) = resolve.wasm_import_name(
                MANGLING,
                WasmImport::StreamIntrinsic {
                    interface: exports[e].interface,
                    func: exports[e].func,
                    ty: Some(ty),
                    intrinsic: which,
                    exported: true,
                    async_: false,
                },
            );
            return (module, name, types.index(core.0, core.1));
        }
        Intrinsic::WaitableSetNew | Intrinsic::WaitableSetPoll | Intrinsic::WaitableJoin => {
            let (name, core) = match intrinsic {
                Intrinsic::WaitableSetNew => ("[waitable-set-new]", (vec![], vec![i32_])),
                Intrinsic::WaitableSetPoll => {
                    ("[waitable-set-poll]", (vec![i32_, i32_], vec![i32_]))
                }
                _ => ("[waitable-join]", (vec![i32_, i32_], vec![])),
            };
            return (
                "$root".to_string(),
                name.to_string(),
                types.index(core.0, core.1),
            );
        }
        Intrinsic::FutureNew(e, ty)
        | Intrinsic::FutureWrite(e, ty)
        | Intrinsic::FutureDropReadable(e, ty)
        | Intrinsic::FutureDropWritable(e, ty) => {
            let (which, async_, core) = match intrinsic {
                Intrinsic::FutureNew(..) => {
                    (FutureIntrinsic::New, false, (vec![], vec![ValType::I64]))
                }
                Intrinsic::FutureWrite(..) => {
                    (FutureIntrinsic::Write, true, (vec![i32_, i32_], vec![i32_]))
                }
                Intrinsic::FutureDropWritable(..) => {
                    (FutureIntrinsic::DropWritable, false, (vec![i32_], vec![]))
                }
                _ => (FutureIntrinsic::DropReadable, false, (vec![i32_], vec![])),
            };
            let (module, name) = resolve.wasm_import_name(
                MANGLING,
                WasmImport::FutureIntrinsic {
                    interface: exports[e].interface,
                    func: exports[e].func,
                    ty: Some(ty),
                    intrinsic: which,
                    exported: true,
                    async_,
                },
            );
            return (module, name, types.index(core.0, core.1));
        }
    };
    let owner = match resolve.types[resource].owner {
        TypeOwner::Interface(i) => inline.get(&i).cloned().unwrap_or(WorldKey::Interface(i)),
        _ => unreachable!("stub resources belong to interfaces"),
    };
    let (module, name) = resolve.wasm_import_name(
        MANGLING,
        WasmImport::ResourceIntrinsic {
            interface: Some(&owner),
            resource,
            intrinsic: resource_intrinsic,
        },
    );
    (module, name, ty)
}

/// What makes two intrinsics interchangeable: the same operation on equal
/// types. Resource intrinsics are keyed by their resource; `task.return` by
/// the function's result type; stream and future intrinsics by the stream
/// or future type.
fn sharing_key(
    resolve: &wit_parser::Resolve,
    exports: &[Export<'_>],
    intrinsic: Intrinsic,
) -> (u8, String) {
    let of = |ty: TypeId| type_key(resolve, &Type::Id(ty));
    match intrinsic {
        Intrinsic::ResourceNew(r) => (0, of(r)),
        Intrinsic::ResourceDrop(r) => (1, of(r)),
        Intrinsic::StreamNew(_, ty) => (2, of(ty)),
        Intrinsic::StreamDropWritable(_, ty) => (3, of(ty)),
        Intrinsic::StreamDropReadable(_, ty) => (4, of(ty)),
        Intrinsic::FutureNew(_, ty) => (5, of(ty)),
        Intrinsic::FutureWrite(_, ty) => (6, of(ty)),
        Intrinsic::FutureDropReadable(_, ty) => (7, of(ty)),
        Intrinsic::FutureDropWritable(_, ty) => (9, of(ty)),
        Intrinsic::WaitableSetNew => (10, String::new()),
        Intrinsic::WaitableSetPoll => (11, String::new()),
        Intrinsic::WaitableJoin => (12, String::new()),
        Intrinsic::TaskReturn(e) => {
            let result = exports[e].func.result.as_ref();
            (8, result.map_or_else(String::new, |t| type_key(resolve, t)))
        }
    }
}

/// A key equal for types the component model sees as equal: anonymous
/// types by their structure, named ones (records, variants, enums, flags,
/// resources) by their definition.
fn type_key(resolve: &wit_parser::Resolve, ty: &Type) -> String {
    let key = |t: &Type| type_key(resolve, t);
    let opt = |t: &Option<Type>| t.as_ref().map_or_else(|| "_".to_string(), key);
    let id = match super::values::unalias(resolve, *ty) {
        Type::Id(id) => id,
        other => return format!("{other:?}"),
    };
    match &resolve.types[id].kind {
        TypeDefKind::Option(t) => format!("option<{}>", key(t)),
        TypeDefKind::List(t) => format!("list<{}>", key(t)),
        TypeDefKind::FixedLengthList(t, n) => format!("list<{}, {n}>", key(t)),
        TypeDefKind::Map(k, v) => format!("map<{}, {}>", key(k), key(v)),
        TypeDefKind::Result(r) => format!("result<{}, {}>", opt(&r.ok), opt(&r.err)),
        TypeDefKind::Future(t) => format!("future<{}>", opt(t)),
        TypeDefKind::Stream(t) => format!("stream<{}>", opt(t)),
        TypeDefKind::Tuple(t) => {
            let parts: Vec<String> = t.types.iter().map(key).collect();
            format!("tuple<{}>", parts.join(", "))
        }
        TypeDefKind::Handle(Handle::Own(r)) => format!("own<{}>", unalias_id(resolve, *r).index()),
        TypeDefKind::Handle(Handle::Borrow(r)) => {
            format!("borrow<{}>", unalias_id(resolve, *r).index())
        }
        _ => format!("#{}", id.index()),
    }
}

/// The core signature of an async function's `task.return`.
fn task_return_signature(
    resolve: &wit_parser::Resolve,
    export: &Export<'_>,
) -> wit_parser::abi::WasmSignature {
    export
        .func
        .task_return_import(resolve, export.interface, Mangling::Legacy)
        .2
}

/// The payload type of future type `ty`.
fn future_payload(resolve: &wit_parser::Resolve, ty: TypeId) -> Option<Type> {
    match &resolve.types[ty].kind {
        TypeDefKind::Future(payload) => *payload,
        other => unreachable!("not a future: {other:?}"),
    }
}

/// The canonical ABI bytes of `value` (plain data) of type `ty`.
fn plain_bytes(values: &Values<'_>, sizes: &SizeAlign, ty: &Type, value: &Value) -> Vec<u8> {
    let mut bytes = vec![0; sizes.size(ty).size_wasm32()];
    let mut stores = Vec::new();
    values.stores(sizes, ty, value, 0, &mut stores);
    for store in stores {
        let Stored::Const(v) = store.what else {
            unreachable!("a future's value is plain data");
        };
        let at = store.offset as usize;
        let width = match store.width {
            Width::U8 => 1,
            Width::U16 => 2,
            Width::U32 => 4,
        };
        bytes[at..at + width].copy_from_slice(&v.to_le_bytes()[..width]);
    }
    bytes
}

/// Emits the code that makes handle `m` for export `export`, leaving it (an
/// `i32`) on the stack; local `scratch` is an `i64`.
fn make_handle(
    f: &mut Function,
    m: Made,
    export: usize,
    scratch: u32,
    call: &impl Fn(Intrinsic) -> Instruction<'static>,
    pending: &impl Fn(Intrinsic) -> u32,
    future_at: &HashMap<(usize, TypeId), u32>,
) {
    use Instruction::*;
    // `stream.new` and `future.new` return the readable end in the low 32
    // bits and the writable end in the high 32 bits.
    let writable = [LocalTee(scratch), I64Const(32), I64ShrU, I32WrapI64];
    let readable = [LocalGet(scratch), I32WrapI64];
    match m {
        Made::Resource(r) => {
            f.instruction(&I32Const(0));
            f.instruction(&call(Intrinsic::ResourceNew(r)));
        }
        Made::EndedStream(ty) => {
            f.instruction(&call(Intrinsic::StreamNew(export, ty)));
            for i in &writable {
                f.instruction(i);
            }
            f.instruction(&call(Intrinsic::StreamDropWritable(export, ty)));
            for i in &readable {
                f.instruction(i);
            }
        }
        Made::Future(ty) => {
            f.instruction(&call(Intrinsic::FutureNew(export, ty)));
            for i in &writable {
                f.instruction(i);
            }
            // `BLOCKED` until the reader reads: the write completes then.
            f.instruction(&I32Const(future_at[&(export, ty)] as i32));
            f.instruction(&call(Intrinsic::FutureWrite(export, ty)));
            f.instruction(&Drop);
            // The writable end is dropped once its write is done.
            f.instruction(&LocalGet(scratch));
            for i in &writable[1..] {
                f.instruction(i);
            }
            f.instruction(&Call(pending(Intrinsic::FutureWrite(export, ty))));
            for i in &readable {
                f.instruction(i);
            }
        }
    }
}

/// Whether `value` makes a stream or a future.
fn makes_transmit(value: &Value) -> bool {
    let mut made = Vec::new();
    value.made(&mut made);
    made.iter().any(|m| !matches!(m, Made::Resource(_)))
}

/// The body of `pending(writable)` for one future type: drops the writable
/// ends in the type's waitable set (global `set`) whose writes finished,
/// then adds `writable` (a future with a pending write). `intrinsics` are
/// `waitable-set.new`, `waitable-set.poll` and `waitable.join`; the poll's
/// event goes to [`POLL_EVENT`] (a finished write is the only event the set
/// can have).
fn pending_body(set: u32, drop_writable: u32, intrinsics: [u32; 3]) -> Function {
    use Instruction::*;
    let [new, poll, join] = intrinsics;
    let mut f = Function::new([]);
    for i in [
        GlobalGet(set),
        I32Eqz,
        If(BlockType::Empty),
        Call(new),
        GlobalSet(set),
        Else,
        Block(BlockType::Empty),
        Loop(BlockType::Empty),
        GlobalGet(set),
        I32Const(POLL_EVENT as i32),
        Call(poll),
        // `EVENT_NONE` (0): nothing finished.
        I32Eqz,
        BrIf(1),
        // The event's first word: the waitable, a writable end.
        I32Const(POLL_EVENT as i32),
        I32Load(MemArg {
            offset: 0,
            align: 2,
            memory_index: 0,
        }),
        Call(drop_writable),
        Br(0),
        End,
        End,
        End,
        LocalGet(0),
        GlobalGet(set),
        Call(join),
        End,
    ] {
        f.instruction(&i);
    }
    f
}

/// Parameter handles the stub drops, so what the caller passed is released:
/// top-level `own` handles of resources the stub imports and readable ends
/// of streams and futures (also inside an `option`). (Handles nested deeper,
/// or passed indirectly, are not dropped; they live until the stub
/// instance does.)
fn dropped_params(values: &Values<'_>, func: &WitFunction) -> Vec<ParamDrop> {
    let resolve = values.resolve;
    let sig = resolve.wasm_signature(AbiVariant::GuestExport, func);
    if sig.indirect_params {
        return Vec::new();
    }
    let dropped = |ty: &Type| -> Option<Dropped> {
        if let Some((id, kind)) = values.transmit(ty) {
            return Some(match kind {
                TypeDefKind::Stream(_) => Dropped::Stream(id),
                _ => Dropped::Future(id),
            });
        }
        match kind(resolve, *ty) {
            Some(TypeDefKind::Handle(Handle::Own(r))) => {
                let r = unalias_id(resolve, *r);
                (!(values.stubbed)(r)).then_some(Dropped::Resource(r))
            }
            _ => None,
        }
    };
    let mut local = 0;
    let mut drops = Vec::new();
    for param in &func.params {
        if let Some(what) = dropped(&param.ty) {
            drops.push(ParamDrop {
                local,
                guard: None,
                what,
            });
        } else if let Some(TypeDefKind::Option(inner)) = kind(resolve, param.ty)
            && let Some(what @ (Dropped::Stream(_) | Dropped::Future(_))) = dropped(inner)
        {
            drops.push(ParamDrop {
                local: local + 1,
                guard: Some(local),
                what,
            });
        }
        local += super::values::flat_types(resolve, &param.ty).len() as u32;
    }
    drops
}

fn val_type(ty: WasmType) -> ValType {
    match ty {
        WasmType::I32 | WasmType::Pointer | WasmType::Length => ValType::I32,
        WasmType::I64 | WasmType::PointerOrI64 => ValType::I64,
        WasmType::F32 => ValType::F32,
        WasmType::F64 => ValType::F64,
    }
}

fn emit_flat(f: &mut Function, flat: Flat, make: &impl Fn(&mut Function, Made)) {
    match flat {
        Flat::Const(ty, v) => {
            f.instruction(&match val_type(ty) {
                ValType::I64 => Instruction::I64Const(v),
                ValType::F32 => Instruction::F32Const(0.0.into()),
                ValType::F64 => Instruction::F64Const(0.0.into()),
                _ => Instruction::I32Const(v as i32),
            });
        }
        Flat::Make(m, slot) => {
            make(f, m);
            if val_type(slot) == ValType::I64 {
                f.instruction(&Instruction::I64ExtendI32U);
            }
        }
    }
}

fn emit_store(f: &mut Function, store: Store, make: &impl Fn(&mut Function, Made)) {
    f.instruction(&Instruction::I32Const(RETURN_AREA as i32));
    match store.what {
        Stored::Const(v) => {
            f.instruction(&Instruction::I32Const(v as i32));
        }
        Stored::Make(m) => make(f, m),
    }
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
