//! An independent reader of the OUTPUT bytes: for every top-level instance,
//! which of the output's imports (the host's interfaces) reach it, through
//! every alias, re-export, nested instantiation and bag of exports.
//!
//! It knows nothing of the plan or of wac: it parses the component with
//! `wasmparser` and evaluates its component-level index spaces (functions,
//! instances, components). Each component definition is summarised once, when
//! its section ends: what each of its exports is, in terms of its own imports
//! (a value built only from imports, bags of exports, nested instantiations
//! and lifted functions). Instantiating a definition substitutes the
//! arguments into that summary. Nested definitions end before the component
//! that holds them, and an outer alias can only name a definition that ended
//! earlier, so one pass in byte order sees every summary before its first use.
//!
//! What it cannot see: a function made by `canon lift` is the component's own
//! code, whatever its core code does (it may call a lowered import: that is
//! the lifting component's authority, checked on its own instance). Types,
//! values and core items are not authority and are ignored. An instance of a
//! component that is not known statically (an imported component) is assumed
//! to pass any of its arguments to any of its exports.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::rc::Rc;
use wasmparser::{
    CanonicalFunction, Chunk, ComponentAlias, ComponentExternalKind, ComponentInstance,
    ComponentName, ComponentOuterAliasKind, ComponentTypeRef, Encoding, KnownCustom, Parser,
    Payload,
};

/// Components nested deeper than this are refused.
pub const MAX_NESTING: usize = 100;
/// Values (bags of exports inside bags, export paths) deeper than this are refused.
pub const MAX_VALUE_DEPTH: u32 = 200;
/// At most this many values are built while evaluating one output, beyond one
/// per byte of input (what reading its items needs): a bound on the values
/// that instantiations derive, and so on memory.
pub const MAX_NODES: u64 = 1_000_000;
/// At most this many evaluation steps are taken for one output.
pub const MAX_STEPS: u64 = 50_000_000;
/// The name under which an instantiation without a name is reported:
/// `#instance N`, N its index in the top-level instance index space.
pub const UNNAMED_PREFIX: &str = "#instance ";

/// How much of one host import reaches an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    /// The whole import (the instance itself, or a function import).
    Whole,
    /// Only these exports of the imported instance (function names as the
    /// host instance exports them, e.g. `now`, `[method]descriptor.read`).
    Functions(BTreeSet<String>),
}

impl Access {
    fn merge(&mut self, other: Access) {
        match (&mut *self, other) {
            (Access::Whole, _) => {}
            (_, Access::Whole) => *self = Access::Whole,
            (Access::Functions(mine), Access::Functions(theirs)) => mine.extend(theirs),
        }
    }
}

/// What of the host reaches each top-level instance of an output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Reach {
    /// Instance name (from the `component-name` section, or
    /// [`UNNAMED_PREFIX`] and its index) -> top-level import name -> access.
    /// Every top-level instantiation is listed, also those reaching nothing.
    pub instances: BTreeMap<String, BTreeMap<String, Access>>,
}

impl Reach {
    /// The instances that had no name in the name section.
    pub fn unnamed(&self) -> impl Iterator<Item = &str> {
        self.instances
            .keys()
            .map(String::as_str)
            .filter(|n| n.starts_with(UNNAMED_PREFIX))
    }
}

/// Why the reach of an output cannot be computed. The output must then be refused.
#[derive(Debug, thiserror::Error)]
pub enum ReachError {
    /// The bytes do not parse.
    #[error("cannot read the component: {0}")]
    Parse(#[from] wasmparser::BinaryReaderError),
    /// The bytes end in the middle of a section.
    #[error("the component is truncated")]
    Truncated,
    /// A structure the parser let through but a component cannot have.
    #[error("malformed component: {what} (offset {offset})")]
    Malformed {
        /// What is wrong.
        what: &'static str,
        /// Where in the bytes.
        offset: u64,
    },
    /// A core module, not a component.
    #[error("not a component: the bytes are a core wasm module")]
    NotComponent,
    /// An index past the end of its index space.
    #[error("{sort} index {index} is out of range at offset {offset}: {len} defined at that point")]
    OutOfRange {
        /// `function`, `instance` or `component`.
        sort: &'static str,
        /// The index used.
        index: u32,
        /// How many items the index space held.
        len: usize,
        /// Where in the bytes.
        offset: u64,
    },
    /// An outer alias that reaches past the outermost component.
    #[error("outer alias at offset {offset} reaches {count} levels out, only {depth} enclose it")]
    OuterTooFar {
        /// The alias's count.
        count: u32,
        /// How many components enclose it.
        depth: usize,
        /// Where in the bytes.
        offset: u64,
    },
    /// An alias of an export that the instance does not have.
    #[error("instance has no export `{name}` (alias at offset {offset})")]
    NoSuchExport {
        /// The export name.
        name: String,
        /// Where in the bytes.
        offset: u64,
    },
    /// An export taken from something that is not an instance.
    #[error("export `{name}` is taken from something that is not an instance (offset {offset})")]
    NotAnInstance {
        /// The export name.
        name: String,
        /// Where in the bytes.
        offset: u64,
    },
    /// An instantiation without an argument its component needs.
    #[error("instantiation at offset {offset} gives no argument `{name}`")]
    MissingArgument {
        /// The import name.
        name: String,
        /// Where in the bytes.
        offset: u64,
    },
    /// A name given twice where names must be unique.
    #[error("{what} `{name}` appears twice (offset {offset})")]
    Duplicate {
        /// `export`, `instantiation argument` or `instance name`.
        what: &'static str,
        /// The name.
        name: String,
        /// Where in the bytes.
        offset: u64,
    },
    /// Components nested too deep.
    #[error("components are nested more than {MAX_NESTING} deep (offset {offset})")]
    TooDeep {
        /// Where in the bytes.
        offset: u64,
    },
    /// Instances in instances, or export paths, too deep.
    #[error("instances are nested more than {MAX_VALUE_DEPTH} deep (offset {offset})")]
    ValueTooDeep {
        /// Where in the bytes.
        offset: u64,
    },
    /// The evaluation would take too long or too much memory.
    #[error(
        "the component is too complex to analyse (more than {MAX_NODES} derived values or {MAX_STEPS} steps; offset {offset})"
    )]
    TooComplex {
        /// Where in the bytes.
        offset: u64,
    },
}

/// Computes, for every top-level instantiation of the component `bytes`, the
/// top-level imports that flow into any of its arguments.
pub fn host_reach(bytes: &[u8]) -> Result<Reach, ReachError> {
    Evaluator::default().run(bytes)
}

// ---------------------------------------------------------------------------
// Values.

type Sym = Rc<Node>;

/// What an item of a component-level index space is, in terms of the
/// imports of the component definition being evaluated.
struct Node {
    kind: Kind,
    /// Whether an `Imp` is reachable from here (else substitution keeps it).
    open: bool,
    depth: u32,
}

enum Kind {
    /// The component's own code (a lifted function): no host reach.
    Own,
    /// A known component definition (index into the summaries).
    Comp(usize),
    /// Import `name` of the definition, or its export along `path`.
    Imp { name: Rc<str>, path: Vec<Rc<str>> },
    /// An instance made of named items.
    Bag(BTreeMap<Rc<str>, Sym>),
    /// Something whose structure is unknown and that may reach any of these.
    Opaque(Vec<Sym>),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    Func,
    Instance,
    Component,
}

impl Sort {
    fn of(kind: ComponentExternalKind) -> Option<Sort> {
        match kind {
            ComponentExternalKind::Func => Some(Sort::Func),
            ComponentExternalKind::Instance => Some(Sort::Instance),
            ComponentExternalKind::Component => Some(Sort::Component),
            ComponentExternalKind::Module
            | ComponentExternalKind::Value
            | ComponentExternalKind::Type => None,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Sort::Func => "function",
            Sort::Instance => "instance",
            Sort::Component => "component",
        }
    }
}

/// A definition and its arguments' names and value addresses.
type InstantiationKey = (usize, Vec<(Rc<str>, usize)>);

/// One component being read: its tracked index spaces and exports.
#[derive(Default)]
struct Frame {
    funcs: Vec<Sym>,
    instances: Vec<Sym>,
    components: Vec<Sym>,
    exports: BTreeMap<Rc<str>, Sym>,
    /// Instantiations with the same definition and the same argument values
    /// give the same instance: (definition, argument names and values) -> it.
    /// Holds the argument values, so their addresses stay unique.
    memo: HashMap<InstantiationKey, (Vec<Sym>, Sym)>,
    /// Top level only: each instantiation's instance index and argument values.
    instantiations: Vec<(u32, Vec<Sym>)>,
}

impl Frame {
    fn space(&mut self, sort: Sort) -> &mut Vec<Sym> {
        match sort {
            Sort::Func => &mut self.funcs,
            Sort::Instance => &mut self.instances,
            Sort::Component => &mut self.components,
        }
    }

    fn get(&mut self, sort: Sort, index: u32, offset: u64) -> Result<Sym, ReachError> {
        let space = self.space(sort);
        space
            .get(index as usize)
            .cloned()
            .ok_or(ReachError::OutOfRange {
                sort: sort.label(),
                index,
                len: space.len(),
                offset,
            })
    }
}

#[derive(Default)]
struct Evaluator {
    /// Definition id -> a bag of its exports, in terms of its imports.
    summaries: Vec<Sym>,
    /// The component-name section's instance names of the top level.
    names: BTreeMap<u32, String>,
    nodes: u64,
    /// `MAX_NODES` plus the input's length.
    node_limit: u64,
    steps: u64,
}

impl Evaluator {
    fn step(&mut self, offset: u64) -> Result<(), ReachError> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(ReachError::TooComplex { offset });
        }
        Ok(())
    }

    fn node(&mut self, kind: Kind, offset: u64) -> Result<Sym, ReachError> {
        let (open, depth) = match &kind {
            Kind::Own | Kind::Comp(_) => (false, 0),
            Kind::Imp { path, .. } => (true, path.len() as u32),
            Kind::Bag(items) => {
                self.nodes += items.len() as u64;
                children(items.values())
            }
            Kind::Opaque(items) => {
                self.nodes += items.len() as u64;
                children(items.iter())
            }
        };
        self.nodes += 1;
        if self.nodes > self.node_limit {
            return Err(ReachError::TooComplex { offset });
        }
        if depth > MAX_VALUE_DEPTH {
            return Err(ReachError::ValueTooDeep { offset });
        }
        Ok(Rc::new(Node { kind, open, depth }))
    }

    /// Export `name` of the instance `inst`.
    fn resolve(&mut self, inst: &Sym, name: &str, offset: u64) -> Result<Sym, ReachError> {
        match &inst.kind {
            Kind::Imp { name: import, path } => {
                let mut path = path.clone();
                path.push(name.into());
                self.node(
                    Kind::Imp {
                        name: import.clone(),
                        path,
                    },
                    offset,
                )
            }
            Kind::Bag(items) => items
                .get(name)
                .cloned()
                .ok_or_else(|| ReachError::NoSuchExport {
                    name: name.into(),
                    offset,
                }),
            Kind::Opaque(_) => Ok(inst.clone()),
            Kind::Own | Kind::Comp(_) => Err(ReachError::NotAnInstance {
                name: name.into(),
                offset,
            }),
        }
    }

    /// `sym` (in terms of a definition's imports) with `args` for those imports.
    fn subst(
        &mut self,
        sym: &Sym,
        args: &BTreeMap<Rc<str>, Sym>,
        memo: &mut HashMap<*const Node, Sym>,
        offset: u64,
    ) -> Result<Sym, ReachError> {
        if !sym.open {
            return Ok(sym.clone());
        }
        if let Some(done) = memo.get(&Rc::as_ptr(sym)) {
            return Ok(done.clone());
        }
        self.step(offset)?;
        // Recursion is bounded: a child is shallower than its parent, and
        // depth is at most MAX_VALUE_DEPTH.
        let out = match &sym.kind {
            Kind::Own | Kind::Comp(_) => sym.clone(),
            Kind::Imp { name, path } => {
                let mut value =
                    args.get(name)
                        .cloned()
                        .ok_or_else(|| ReachError::MissingArgument {
                            name: name.to_string(),
                            offset,
                        })?;
                for segment in path {
                    value = self.resolve(&value, segment, offset)?;
                }
                value
            }
            Kind::Bag(items) => {
                let mut out = BTreeMap::new();
                for (name, item) in items {
                    out.insert(name.clone(), self.subst(item, args, memo, offset)?);
                }
                self.node(Kind::Bag(out), offset)?
            }
            Kind::Opaque(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.subst(item, args, memo, offset)?);
                }
                self.node(Kind::Opaque(out), offset)?
            }
        };
        memo.insert(Rc::as_ptr(sym), out.clone());
        Ok(out)
    }

    fn run(mut self, bytes: &[u8]) -> Result<Reach, ReachError> {
        self.node_limit = MAX_NODES.saturating_add(bytes.len() as u64);
        let mut frames: Vec<Frame> = Vec::new();
        let mut parents: Vec<Parser> = Vec::new();
        let mut parser = Parser::new(0);
        let mut data = bytes;
        loop {
            let offset = (bytes.len() - data.len()) as u64;
            let (consumed, payload) = match parser.parse(data, true)? {
                Chunk::Parsed { consumed, payload } => (consumed, payload),
                Chunk::NeedMoreData(_) => return Err(ReachError::Truncated),
            };
            data = data.get(consumed..).ok_or(ReachError::Truncated)?;
            match payload {
                Payload::Version { encoding, .. } => {
                    if encoding != Encoding::Component {
                        return Err(ReachError::NotComponent);
                    }
                    if frames.len() >= MAX_NESTING {
                        return Err(ReachError::TooDeep { offset });
                    }
                    frames.push(Frame::default());
                }
                Payload::ModuleSection {
                    unchecked_range, ..
                } => {
                    // Core code: skipped whole. The parser already stands after it.
                    let len = unchecked_range
                        .end
                        .checked_sub(unchecked_range.start)
                        .and_then(|len| usize::try_from(len).ok())
                        .ok_or(ReachError::Truncated)?;
                    data = data.get(len..).ok_or(ReachError::Truncated)?;
                }
                Payload::ComponentSection { parser: inner, .. } => {
                    parents.push(std::mem::replace(&mut parser, inner));
                }
                Payload::End(_) => {
                    // Every component (the outer one and each nested one)
                    // has its frame; a nested one without a header has none.
                    if frames.len() != parents.len() + 1 {
                        return Err(ReachError::Malformed {
                            what: "a nested component without a header",
                            offset,
                        });
                    }
                    let frame = frames.pop().ok_or(ReachError::Truncated)?;
                    match parents.pop() {
                        Some(outer) => {
                            parser = outer;
                            let summary = self.node(Kind::Bag(frame.exports), offset)?;
                            self.summaries.push(summary);
                            let def = self.node(Kind::Comp(self.summaries.len() - 1), offset)?;
                            frames
                                .last_mut()
                                .ok_or(ReachError::Truncated)?
                                .components
                                .push(def);
                        }
                        None => return self.finish(frame),
                    }
                }
                Payload::ComponentImportSection(reader) => {
                    let frame = frames.last_mut().ok_or(ReachError::Truncated)?;
                    for item in reader.into_iter_with_offsets() {
                        let (offset, import) = item?;
                        let sort = match import.ty {
                            ComponentTypeRef::Func(_) => Sort::Func,
                            ComponentTypeRef::Instance(_) => Sort::Instance,
                            ComponentTypeRef::Component(_) => Sort::Component,
                            ComponentTypeRef::Module(_)
                            | ComponentTypeRef::Value(_)
                            | ComponentTypeRef::Type(_) => continue,
                        };
                        let value = self.node(
                            Kind::Imp {
                                name: import.name.name.into(),
                                path: Vec::new(),
                            },
                            offset,
                        )?;
                        frame.space(sort).push(value);
                    }
                }
                Payload::ComponentAliasSection(reader) => {
                    for item in reader.into_iter_with_offsets() {
                        let (offset, alias) = item?;
                        self.alias(&mut frames, alias, offset)?;
                    }
                }
                Payload::ComponentCanonicalSection(reader) => {
                    let frame = frames.last_mut().ok_or(ReachError::Truncated)?;
                    for item in reader.into_iter_with_offsets() {
                        let (offset, canon) = item?;
                        // Only `lift` makes a component function; the rest make core ones.
                        if let CanonicalFunction::Lift { .. } = canon {
                            let own = self.node(Kind::Own, offset)?;
                            frame.funcs.push(own);
                        }
                    }
                }
                Payload::ComponentInstanceSection(reader) => {
                    let top = frames.len() == 1;
                    let frame = frames.last_mut().ok_or(ReachError::Truncated)?;
                    for item in reader.into_iter_with_offsets() {
                        let (offset, instance) = item?;
                        let value = self.instance(frame, instance, top, offset)?;
                        frame.instances.push(value);
                    }
                }
                Payload::ComponentExportSection(reader) => {
                    let frame = frames.last_mut().ok_or(ReachError::Truncated)?;
                    for item in reader.into_iter_with_offsets() {
                        let (offset, export) = item?;
                        let Some(sort) = Sort::of(export.kind) else {
                            continue;
                        };
                        let value = frame.get(sort, export.index, offset)?;
                        let name: Rc<str> = export.name.name.into();
                        if frame.exports.contains_key(&name) {
                            return Err(ReachError::Duplicate {
                                what: "export",
                                name: name.to_string(),
                                offset,
                            });
                        }
                        frame.exports.insert(name, value.clone());
                        // An export adds an index to its sort's index space.
                        frame.space(sort).push(value);
                    }
                }
                Payload::CustomSection(reader) if frames.len() == 1 => {
                    if let KnownCustom::ComponentName(names) = reader.as_known() {
                        self.read_names(names, offset)?;
                    }
                }
                // Types, core items, start functions (values) and custom
                // sections of nested components carry no authority.
                _ => {}
            }
        }
    }

    fn read_names(
        &mut self,
        names: wasmparser::ComponentNameSectionReader<'_>,
        offset: u64,
    ) -> Result<(), ReachError> {
        for sub in names {
            if let ComponentName::Instances(map) = sub? {
                for naming in map {
                    let naming = naming?;
                    if self
                        .names
                        .insert(naming.index, naming.name.to_string())
                        .is_some()
                    {
                        return Err(ReachError::Duplicate {
                            what: "name of instance",
                            name: naming.index.to_string(),
                            offset,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    fn alias(
        &mut self,
        frames: &mut [Frame],
        alias: ComponentAlias<'_>,
        offset: u64,
    ) -> Result<(), ReachError> {
        let depth = frames.len();
        match alias {
            ComponentAlias::InstanceExport {
                kind,
                instance_index,
                name,
            } => {
                let frame = frames.last_mut().ok_or(ReachError::Truncated)?;
                let inst = frame.get(Sort::Instance, instance_index, offset)?;
                if let Some(sort) = Sort::of(kind) {
                    let value = self.resolve(&inst, name, offset)?;
                    frame.space(sort).push(value);
                }
            }
            ComponentAlias::Outer {
                kind: ComponentOuterAliasKind::Component,
                count,
                index,
            } => {
                let outer = depth
                    .checked_sub(1)
                    .and_then(|d| d.checked_sub(count as usize))
                    .ok_or(ReachError::OuterTooFar {
                        count,
                        depth: depth.saturating_sub(1),
                        offset,
                    })?;
                let value = frames[outer].get(Sort::Component, index, offset)?;
                // A definition is closed; anything else (an imported component
                // of an enclosing component) is unknown here.
                let value = match value.kind {
                    Kind::Comp(_) => value,
                    _ => self.node(Kind::Opaque(Vec::new()), offset)?,
                };
                frames[depth - 1].components.push(value);
            }
            // Core items and types are not authority.
            ComponentAlias::Outer { .. } | ComponentAlias::CoreInstanceExport { .. } => {}
        }
        Ok(())
    }

    fn instance(
        &mut self,
        frame: &mut Frame,
        instance: ComponentInstance<'_>,
        top: bool,
        offset: u64,
    ) -> Result<Sym, ReachError> {
        match instance {
            ComponentInstance::Instantiate {
                component_index,
                args,
            } => {
                let component = frame.get(Sort::Component, component_index, offset)?;
                let mut seen = HashSet::new();
                let mut values = BTreeMap::new();
                for arg in args.iter() {
                    if !seen.insert(arg.name) {
                        return Err(ReachError::Duplicate {
                            what: "instantiation argument",
                            name: arg.name.into(),
                            offset,
                        });
                    }
                    if let Some(sort) = Sort::of(arg.kind) {
                        let value = frame.get(sort, arg.index, offset)?;
                        values.insert(Rc::<str>::from(arg.name), value);
                    }
                }
                if top {
                    let index = u32::try_from(frame.instances.len())
                        .map_err(|_| ReachError::TooComplex { offset })?;
                    frame
                        .instantiations
                        .push((index, values.values().cloned().collect()));
                }
                match component.kind {
                    Kind::Comp(def) => {
                        let key = (
                            def,
                            values
                                .iter()
                                .map(|(n, v)| (n.clone(), Rc::as_ptr(v) as usize))
                                .collect::<Vec<_>>(),
                        );
                        if let Some((_, done)) = frame.memo.get(&key) {
                            return Ok(done.clone());
                        }
                        let summary =
                            self.summaries
                                .get(def)
                                .cloned()
                                .ok_or(ReachError::OutOfRange {
                                    sort: "component",
                                    index: component_index,
                                    len: self.summaries.len(),
                                    offset,
                                })?;
                        let value = self.subst(&summary, &values, &mut HashMap::new(), offset)?;
                        frame
                            .memo
                            .insert(key, (values.into_values().collect(), value.clone()));
                        Ok(value)
                    }
                    // Not known statically: any argument may reach any export.
                    _ => self.node(Kind::Opaque(values.into_values().collect()), offset),
                }
            }
            ComponentInstance::FromExports(exports) => {
                let mut items = BTreeMap::new();
                for export in exports.iter() {
                    let name: Rc<str> = export.name.name.into();
                    if items.contains_key(&name) {
                        return Err(ReachError::Duplicate {
                            what: "export",
                            name: name.to_string(),
                            offset,
                        });
                    }
                    if let Some(sort) = Sort::of(export.kind) {
                        items.insert(name, frame.get(sort, export.index, offset)?);
                    }
                }
                self.node(Kind::Bag(items), offset)
            }
        }
    }

    /// The reach of each top-level instantiation.
    fn finish(mut self, top: Frame) -> Result<Reach, ReachError> {
        let mut reach = Reach::default();
        let names = std::mem::take(&mut self.names);
        for (index, args) in top.instantiations {
            let name = match names.get(&index) {
                Some(name) => name.clone(),
                None => format!("{UNNAMED_PREFIX}{index}"),
            };
            let imports = self.collect(&args)?;
            if reach.instances.insert(name.clone(), imports).is_some() {
                return Err(ReachError::Duplicate {
                    what: "instance name",
                    name,
                    offset: 0,
                });
            }
        }
        Ok(reach)
    }

    /// The top-level imports that `roots` contain.
    fn collect(&mut self, roots: &[Sym]) -> Result<BTreeMap<String, Access>, ReachError> {
        let mut out: BTreeMap<String, Access> = BTreeMap::new();
        let mut seen: HashSet<*const Node> = HashSet::new();
        let mut todo: Vec<&Sym> = roots.iter().collect();
        while let Some(sym) = todo.pop() {
            if !sym.open || !seen.insert(Rc::as_ptr(sym)) {
                continue;
            }
            self.step(0)?;
            match &sym.kind {
                Kind::Own | Kind::Comp(_) => {}
                Kind::Imp { name, path } => {
                    let access = match path.first() {
                        None => Access::Whole,
                        Some(export) => Access::Functions(BTreeSet::from([export.to_string()])),
                    };
                    match out.get_mut(&**name) {
                        Some(have) => have.merge(access),
                        None => {
                            out.insert(name.to_string(), access);
                        }
                    }
                }
                Kind::Bag(items) => todo.extend(items.values()),
                Kind::Opaque(items) => todo.extend(items.iter()),
            }
        }
        Ok(out)
    }
}

/// Whether any of `items` is open, and one more than their greatest depth.
fn children<'a>(items: impl Iterator<Item = &'a Sym>) -> (bool, u32) {
    let mut open = false;
    let mut depth = 0;
    for item in items {
        open |= item.open;
        depth = depth.max(item.depth);
    }
    (open, depth.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compiles component text and checks that it validates (the cases are real components).
    fn component(text: &str) -> Vec<u8> {
        let bytes = wat::parse_str(text).expect("the test's text parses");
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
            .validate_all(&bytes)
            .expect("the test's component validates");
        bytes
    }

    fn reach_of(text: &str) -> Reach {
        host_reach(&component(text)).expect("reach")
    }

    fn whole(import: &str) -> BTreeMap<String, Access> {
        BTreeMap::from([(import.to_string(), Access::Whole)])
    }

    fn functions(import: &str, names: &[&str]) -> BTreeMap<String, Access> {
        BTreeMap::from([(
            import.to_string(),
            Access::Functions(names.iter().map(|n| n.to_string()).collect()),
        )])
    }

    const ENV: &str = "wasi:cli/environment@0.2.6";

    #[test]
    fn host_instance_passed_whole() {
        let reach = reach_of(
            r#"(component
              (import "wasi:cli/environment@0.2.6" (instance $env
                (export "get-environment" (func (result (list (tuple string string)))))))
              (component $Lib
                (import "wasi:cli/environment@0.2.6" (instance
                  (export "get-environment" (func (result (list (tuple string string))))))))
              (instance $lib (instantiate $Lib (with "wasi:cli/environment@0.2.6" (instance $env))))
            )"#,
        );
        assert_eq!(reach.instances.len(), 1, "{reach:?}");
        assert_eq!(reach.instances["lib"], whole(ENV));
        assert_eq!(reach.unnamed().count(), 0);
    }

    #[test]
    fn a_bare_function_import_reaches_only_the_instance_given_it() {
        // `thing-in` is a host function at the top level (a bare import):
        // the instance given it reaches all of it, the other nothing.
        let reach = reach_of(
            r#"(component
              (import "thing-in" (func $thing (result u32)))
              (component $Lib (import "thing-in" (func (result u32))))
              (component $Other)
              (instance $lib (instantiate $Lib (with "thing-in" (func $thing))))
              (instance $other (instantiate $Other))
            )"#,
        );
        assert_eq!(reach.instances["lib"], whole("thing-in"));
        assert_eq!(reach.instances["other"], BTreeMap::new());
    }

    #[test]
    fn one_function_in_a_bag_of_exports() {
        let reach = reach_of(
            r#"(component
              (import "wasi:clocks/wall-clock@0.2.6" (instance $clock
                (export "now" (func (result u64)))
                (export "resolution" (func (result u64)))))
              (alias export $clock "now" (func $now))
              (instance $part (export "now" (func $now)))
              (component $Lib (import "clock" (instance (export "now" (func (result u64))))))
              (instance $lib (instantiate $Lib (with "clock" (instance $part))))
            )"#,
        );
        assert_eq!(
            reach.instances["lib"],
            functions("wasi:clocks/wall-clock@0.2.6", &["now"])
        );
    }

    #[test]
    fn function_argument_and_instance_argument_merge() {
        let reach = reach_of(
            r#"(component
              (import "clock" (instance $clock
                (export "now" (func (result u64)))
                (export "resolution" (func (result u64)))))
              (alias export $clock "now" (func $now))
              (alias export $clock "resolution" (func $res))
              (component $Lib
                (import "now" (func (result u64)))
                (import "res" (func (result u64))))
              (instance $a (instantiate $Lib (with "now" (func $now)) (with "res" (func $res))))
              (component $Lib2
                (import "now" (func (result u64)))
                (import "clock" (instance (export "now" (func (result u64))))))
              (instance $b (instantiate $Lib2 (with "now" (func $now)) (with "clock" (instance $clock))))
            )"#,
        );
        assert_eq!(
            reach.instances["a"],
            functions("clock", &["now", "resolution"])
        );
        assert_eq!(reach.instances["b"], whole("clock"));
    }

    #[test]
    fn pass_through_component_is_followed() {
        // `fwd` exports its import again, also through an export's own index
        // and a bag holding it; `lib` gets that bag's instance.
        let reach = reach_of(
            r#"(component
              (import "wasi:cli/environment@0.2.6" (instance $env
                (export "get-environment" (func (result (list (tuple string string)))))))
              (import "other" (instance $other))
              (component $Fwd
                (import "x" (instance $x
                  (export "get-environment" (func (result (list (tuple string string)))))))
                (export $y "y" (instance $x))
                (instance $bag (export "inner" (instance $y)))
                (export "z" (instance $bag)))
              (component $Lib
                (import "e" (instance
                  (export "get-environment" (func (result (list (tuple string string))))))))
              (instance $fwd (instantiate $Fwd (with "x" (instance $env))))
              (alias export $fwd "z" (instance $z))
              (alias export $z "inner" (instance $inner))
              (instance $lib (instantiate $Lib (with "e" (instance $inner))))
              (component $Bystander (import "o" (instance)))
              (instance $bystander (instantiate $Bystander (with "o" (instance $other))))
            )"#,
        );
        assert_eq!(reach.instances["fwd"], whole(ENV));
        assert_eq!(reach.instances["lib"], whole(ENV));
        assert_eq!(reach.instances["bystander"], whole("other"));
    }

    #[test]
    fn lifted_function_carries_no_host_reach() {
        // `own` lowers the host's `f` and lifts its core re-export of it as
        // `g`: forwarding through core code is `own`'s own code, so `lib`,
        // given `g`, reaches nothing; `own` reaches the host.
        let reach = reach_of(
            r#"(component
              (import "host" (instance $h (export "f" (func))))
              (component $Own
                (import "host" (instance $h (export "f" (func))))
                (alias export $h "f" (func $f))
                (core func $lowered (canon lower (func $f)))
                (core module $m
                  (import "h" "f" (func $f))
                  (export "g" (func $f)))
                (core instance $hi (export "f" (func $lowered)))
                (core instance $i (instantiate $m (with "h" (instance $hi))))
                (func $g (canon lift (core func $i "g")))
                (export "g" (func $g)))
              (component $Lib (import "g" (func)))
              (instance $own (instantiate $Own (with "host" (instance $h))))
              (alias export $own "g" (func $g))
              (instance $lib (instantiate $Lib (with "g" (func $g))))
            )"#,
        );
        assert_eq!(reach.instances["own"], whole("host"));
        assert_eq!(reach.instances["lib"], BTreeMap::new());
    }

    #[test]
    fn nested_composition_is_followed() {
        let reach = reach_of(
            r#"(component
              (import "host" (instance $h (export "f" (func)) (export "g" (func))))
              (component $Outer
                (import "in" (instance $in (export "f" (func)) (export "g" (func))))
                (component $Inner
                  (import "i" (instance $i (export "f" (func))))
                  (alias export $i "f" (func $f))
                  (instance $b (export "f" (func $f)))
                  (export "o" (instance $b)))
                (instance $inner (instantiate $Inner (with "i" (instance $in))))
                (alias export $inner "o" (instance $o))
                (export "out" (instance $o)))
              (component $Lib (import "x" (instance (export "f" (func)))))
              (instance $outer (instantiate $Outer (with "in" (instance $h))))
              (alias export $outer "out" (instance $out))
              (instance $lib (instantiate $Lib (with "x" (instance $out))))
            )"#,
        );
        assert_eq!(reach.instances["outer"], whole("host"));
        assert_eq!(reach.instances["lib"], functions("host", &["f"]));
    }

    #[test]
    fn outer_alias_of_a_component_is_followed() {
        let reach = reach_of(
            r#"(component $top
              (import "host" (instance $h (export "f" (func))))
              (component $Fwd
                (import "x" (instance $x (export "f" (func))))
                (export "y" (instance $x)))
              (component $Wrap
                (import "w" (instance $w (export "f" (func))))
                (alias outer $top $Fwd (component $fwd))
                (instance $i (instantiate $fwd (with "x" (instance $w))))
                (alias export $i "y" (instance $y))
                (export "v" (instance $y)))
              (component $Lib (import "x" (instance (export "f" (func)))))
              (instance $wrap (instantiate $Wrap (with "w" (instance $h))))
              (alias export $wrap "v" (instance $v))
              (instance $lib (instantiate $Lib (with "x" (instance $v))))
            )"#,
        );
        assert_eq!(reach.instances["lib"], whole("host"));
    }

    #[test]
    fn imported_component_is_assumed_to_pass_everything_on() {
        let reach = reach_of(
            r#"(component
              (import "host" (instance $h (export "f" (func))))
              (import "unknown" (component $U
                (import "x" (instance (export "f" (func))))
                (export "y" (instance (export "f" (func))))))
              (component $Lib (import "x" (instance (export "f" (func)))))
              (instance $u (instantiate $U (with "x" (instance $h))))
              (alias export $u "y" (instance $y))
              (instance $lib (instantiate $Lib (with "x" (instance $y))))
            )"#,
        );
        assert_eq!(reach.instances["u"], whole("host"));
        assert_eq!(reach.instances["lib"], whole("host"));
    }

    #[test]
    fn unnamed_instantiations_get_a_synthetic_name() {
        let reach = reach_of(
            r#"(component
              (import "host" (instance $h))
              (component $Lib (import "x" (instance)))
              (instance (instantiate $Lib (with "x" (instance $h))))
              (instance $named (instantiate $Lib (with "x" (instance $h))))
            )"#,
        );
        // Instance 0 is the import.
        assert_eq!(reach.instances["#instance 1"], whole("host"));
        assert_eq!(reach.instances["named"], whole("host"));
        assert_eq!(reach.unnamed().collect::<Vec<_>>(), ["#instance 1"]);
    }

    #[test]
    fn repeated_instantiation_does_not_blow_up() {
        // Each level instantiates the one before twice: 2^60 instances if expanded.
        let mut text = String::from(
            "(component $top (import \"host\" (instance $h (export \"f\" (func))))\n\
             (component $C0 (import \"x\" (instance $x (export \"f\" (func)))) (export \"y\" (instance $x)))\n",
        );
        for k in 1..=60 {
            text += &format!(
                "(component $C{k} (import \"x\" (instance $x (export \"f\" (func))))\n\
                 (alias outer $top $C{prev} (component $c))\n\
                 (instance $a (instantiate $c (with \"x\" (instance $x))))\n\
                 (instance $b (instantiate $c (with \"x\" (instance $x))))\n\
                 (alias export $a \"y\" (instance $ay))\n\
                 (alias export $b \"y\" (instance $by))\n\
                 (instance $bag (export \"l\" (instance $ay)) (export \"r\" (instance $by)))\n\
                 (alias export $bag \"l\" (instance $l))\n\
                 (export \"y\" (instance $l)))\n",
                prev = k - 1
            );
        }
        text += "(component $Lib (import \"x\" (instance (export \"f\" (func)))))\n\
                 (instance $top60 (instantiate $C60 (with \"x\" (instance $h))))\n\
                 (alias export $top60 \"y\" (instance $y))\n\
                 (instance $lib (instantiate $Lib (with \"x\" (instance $y)))))";
        let reach = reach_of(&text);
        assert_eq!(reach.instances["lib"], whole("host"));
    }

    #[test]
    fn five_thousand_instances() {
        // A chain: each instance gets the previous one's export; the first
        // re-exports the host's `f`, the others export their own function.
        let mut text = String::from(
            r#"(component
              (import "host" (instance $h (export "f" (func))))
              (component $Lib
                (import "prev" (instance (export "g" (func))))
                (core module $m (func (export "g")))
                (core instance $i (instantiate $m))
                (func $g (canon lift (core func $i "g")))
                (instance $out (export "g" (func $g)))
                (export "out" (instance $out)))
              (component $First
                (import "x" (instance $x (export "f" (func))))
                (alias export $x "f" (func $f))
                (instance $out (export "g" (func $f)))
                (export "out" (instance $out)))
              (instance $i0 (instantiate $First (with "x" (instance $h))))
            "#,
        );
        const N: usize = 5000;
        for k in 1..=N {
            text += &format!(
                "(alias export $i{prev} \"out\" (instance $o{prev}))\n\
                 (instance $i{k} (instantiate $Lib (with \"prev\" (instance $o{prev}))))\n",
                prev = k - 1
            );
        }
        text += ")";
        // wasmparser's validator allows 1000 instances per component; the
        // reader has no such limit.
        let bytes = wat::parse_str(&text).unwrap();
        let started = std::time::Instant::now();
        let reach = host_reach(&bytes).unwrap();
        let elapsed = started.elapsed();
        assert_eq!(reach.instances.len(), N + 1);
        assert_eq!(reach.instances["i0"], whole("host"));
        assert_eq!(reach.instances["i1"], functions("host", &["f"]));
        for k in 2..=N {
            assert_eq!(reach.instances[&format!("i{k}")], BTreeMap::new(), "i{k}");
        }
        assert_eq!(reach.unnamed().count(), 0);
        assert!(elapsed.as_secs() < 5, "{elapsed:?}");
    }

    #[test]
    fn exponential_values_are_refused_quickly() {
        // Each level instantiates the one before twice with different
        // arguments, so its export holds two distinct copies: 2^60 values.
        let mut text = String::from(
            "(component $top (import \"host\" (instance $h))\n\
             (component $C0 (import \"x\" (instance $x)) (export \"y\" (instance $x)))\n",
        );
        for k in 1..=60 {
            text += &format!(
                "(component $C{k} (import \"x\" (instance $x))\n\
                 (alias outer $top $C{prev} (component $c))\n\
                 (instance $xl (export \"l\" (instance $x)))\n\
                 (instance $xr (export \"r\" (instance $x)))\n\
                 (instance $a (instantiate $c (with \"x\" (instance $xl))))\n\
                 (instance $b (instantiate $c (with \"x\" (instance $xr))))\n\
                 (alias export $a \"y\" (instance $ay))\n\
                 (alias export $b \"y\" (instance $by))\n\
                 (instance $bag (export \"a\" (instance $ay)) (export \"b\" (instance $by)))\n\
                 (export \"y\" (instance $bag)))\n",
                prev = k - 1
            );
        }
        text += "(instance $top60 (instantiate $C60 (with \"x\" (instance $h)))))";
        // The validator refuses this too (its types grow as fast); the
        // reader must not rely on that.
        let bytes = wat::parse_str(&text).unwrap();
        let started = std::time::Instant::now();
        let err = host_reach(&bytes).unwrap_err();
        assert!(matches!(err, ReachError::TooComplex { .. }), "{err}");
        assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
    }

    #[test]
    fn garbage_is_an_error() {
        for bytes in [
            &b""[..],
            b"\0asm",
            b"not wasm at all",
            b"\0asm\x0d\0\x01\0\x07\xff\xff\xff\xff\x0f",
        ] {
            assert!(host_reach(bytes).is_err(), "{bytes:?}");
        }
        let module = wat::parse_str("(module)").unwrap();
        assert!(matches!(host_reach(&module), Err(ReachError::NotComponent)));
    }

    #[test]
    fn out_of_range_indices_are_errors() {
        // The text format does not check numeric indices; the validator would refuse these.
        let cases = [
            (
                "(component (component) (instance (instantiate 0 (with \"x\" (instance 7)))))",
                "instance index 7",
            ),
            (
                "(component (instance (instantiate 3)))",
                "component index 3",
            ),
            (
                "(component (alias export 2 \"f\" (func)))",
                "instance index 2",
            ),
            ("(component (export \"f\" (func 0)))", "function index 0"),
            (
                "(component (instance (export \"c\" (component 1))))",
                "component index 1",
            ),
            (
                "(component (component (alias outer 3 0 (component))))",
                "reaches 3 levels out",
            ),
            (
                "(component (component (alias outer 1 5 (component))))",
                "component index 5",
            ),
        ];
        for (text, expected) in cases {
            let bytes = wat::parse_str(text).unwrap();
            let err = host_reach(&bytes).expect_err(text).to_string();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn invalid_wiring_is_an_error() {
        let cases = [
            // An alias of an export the bag does not have.
            (
                "(component (import \"h\" (instance $h (export \"f\" (func)))) \
              (alias export $h \"f\" (func $f)) (instance $b (export \"f\" (func $f))) \
              (alias export $b \"g\" (func)))",
                "no export `g`",
            ),
            // A definition instantiated without the argument it re-exports.
            (
                "(component (component $C (import \"x\" (instance $x)) (export \"y\" (instance $x))) \
              (instance (instantiate $C)))",
                "no argument `x`",
            ),
        ];
        for (text, expected) in cases {
            let bytes = wat::parse_str(text).unwrap();
            let err = host_reach(&bytes).expect_err(text).to_string();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn deep_nesting_is_refused() {
        // The text format refuses such nesting: build the bytes directly.
        let nested = |depth: usize| {
            let mut bytes = wasm_encoder::Component::new().finish();
            for _ in 0..depth {
                let mut outer = wasm_encoder::Component::new();
                outer.section(&wasm_encoder::RawSection {
                    id: wasm_encoder::ComponentSectionId::Component as u8,
                    data: &bytes,
                });
                bytes = outer.finish();
            }
            bytes
        };
        assert!(host_reach(&nested(MAX_NESTING - 1)).is_ok());
        for depth in [MAX_NESTING, 2000] {
            let err = host_reach(&nested(depth)).unwrap_err();
            assert!(matches!(err, ReachError::TooDeep { .. }), "{err}");
        }

        // Bags of exports inside bags.
        let mut text = String::from("(component (import \"h\" (instance $i0))\n");
        for k in 1..=(MAX_VALUE_DEPTH + 20) {
            text += &format!("(instance $i{k} (export \"e\" (instance $i{})))\n", k - 1);
        }
        text += ")";
        let err = host_reach(&wat::parse_str(&text).unwrap()).unwrap_err();
        assert!(matches!(err, ReachError::ValueTooDeep { .. }), "{err}");
    }

    #[test]
    fn mangled_bytes_never_panic() {
        let bytes = component(
            r#"(component
              (import "host" (instance $h (export "f" (func))))
              (component $Fwd
                (import "x" (instance $x (export "f" (func))))
                (core module $m (func (export "g")))
                (core instance $i (instantiate $m))
                (func $g (canon lift (core func $i "g")))
                (instance $b (export "x" (instance $x)) (export "g" (func $g)))
                (export "y" (instance $b)))
              (instance $fwd (instantiate $Fwd (with "x" (instance $h))))
              (alias export $fwd "y" (instance $y))
              (component $Lib (import "x" (instance)))
              (instance $lib (instantiate $Lib (with "x" (instance $y))))
            )"#,
        );
        assert_eq!(host_reach(&bytes).unwrap().instances["lib"], whole("host"));
        for len in 0..bytes.len() {
            let _ = host_reach(&bytes[..len]);
        }
        for at in 0..bytes.len() {
            for value in [0x00, 0x01, 0x05, 0x7f, 0x80, 0xff, bytes[at] ^ 0x01] {
                let mut mangled = bytes.clone();
                mangled[at] = value;
                let _ = host_reach(&mangled);
            }
        }
    }
}
