//! Shortens the names inside a component that nothing outside it can see.
//!
//! wit-component names things for people: the core module exports
//! `wasi:io/streams@0.2.12#[method]output-stream.blocking-write-and-flush` and
//! the component aliases it by that name; the core module imports
//! `wasi:io/streams@0.2.12` `[method]output-stream.write` from a core instance
//! that exports it by that name; each exported interface is wrapped in a
//! nested component whose imports are named `import-method-...` and are
//! instantiated by those names. In a deny-all-WASI stub these names were about
//! 40 KB of 88 KB, and 38-46% of the larger interposers. Only the component's
//! own imports and exports (and the nested components' exports, which become
//! the exported instances' types) are visible from outside, so everything else
//! is renamed to `a`, `b`, ...:
//! - the main core module's (the first one's) exports, and the names by which
//!   the component aliases them from its instances;
//! - the main module's import modules, and the names by which it is
//!   instantiated;
//! - an import module's fields, and the exports of the core instances that
//!   satisfy it, when those instances are made of exports (`FromExports`),
//!   are never aliased and are used for nothing else (else the fields keep
//!   their names);
//! - the imports of the top-level nested components, and the names by which
//!   they are instantiated.
//!
//! Every renaming is a map from exact old names (a module and a field for an
//! import) to distinct new ones, applied to both the name and every use of it.
//! A component whose layout is not the one wit-component makes (a core module
//! or component imported, aliased or exported) is kept as it is. Validation
//! alone would not catch two same-typed functions swapped, so the result must
//! also resolve every renamed name to the same item, by index, as the input
//! does (`Layout::wiring`); and it must validate. Else the input is kept (once it
//! validates: a stub's encoded bytes are validated here, and only here).
//!
//! The composer runs this on every synthesized stub; `just interposers` runs
//! it (the `interposer-shrink` tool) on the prebuilt interposers.

use std::collections::HashMap;
use std::convert::Infallible;
use wasm_encoder::reencode::{
    Error as ReencodeError, Reencode, ReencodeComponent, component_utils,
};
use wasmparser::{
    ComponentAlias, ComponentExternalKind, ComponentOuterAliasKind, ComponentTypeRef, ExternalKind,
    Parser, Payload,
};

/// `component` with its internal names shortened (see the module's doc),
/// validated; `component` itself if that fails and it validates; else why
/// `component` does not validate.
///
/// Public for the build of the prebuilt interposers (`just interposers`)
/// and their freshness test, which run it on wit-component's output as the
/// composer runs it on its stubs.
pub fn shrink(component: &[u8]) -> Result<Vec<u8>, String> {
    let shrunk = Layout::read(component).and_then(|before| {
        let mut renamer = Renamer {
            plan: Plan::of(&before),
            ..Renamer::default()
        };
        let mut out = wasm_encoder::Component::new();
        renamer
            .parse_component(&mut out, Parser::new(0), component)
            .ok()?;
        let out = out.finish();
        let same = before.wiring()? == Layout::read(&out)?.wiring()?;
        (same && crate::verify::validate(&out).is_ok()).then_some(out)
    });
    match shrunk {
        Some(out) => Ok(out),
        None => crate::verify::validate(component).map(|()| component.to_vec()),
    }
}

/// A short name for the `n`th item: `a`..`z`, `aa`.. (kebab-case, so valid
/// as a component import name too).
fn short(mut n: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'a' + (n % 26) as u8);
        n /= 26;
        if n == 0 {
            break;
        }
        n -= 1;
    }
    s.reverse();
    String::from_utf8(s).expect("ascii")
}

/// Each distinct name, in order of first appearance -> `short(its rank)`.
fn numbered<'a>(names: impl IntoIterator<Item = &'a str>) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for name in names {
        let next = short(map.len());
        map.entry(name.to_string()).or_insert(next);
    }
    map
}

/// What the renaming needs to know of a component's top level: its core
/// modules, core instances, the aliases of core instances' exports, its
/// nested components and their instantiations, in index order.
#[derive(Default)]
struct Layout {
    modules: Vec<CoreModule>,
    instances: Vec<CoreInstance>,
    /// Aliases of core instances' exports: (instance, name).
    aliases: Vec<(u32, String)>,
    /// Each nested component's import names, in order.
    components: Vec<Vec<String>>,
    /// Each instantiation of a nested component: the component and its
    /// arguments.
    instantiations: Vec<(u32, Vec<Item<ComponentExternalKind>>)>,
}

/// A named item of a kind: an export, or an argument of an instantiation.
type Item<Kind> = (String, Kind, u32);

#[derive(Default)]
struct CoreModule {
    /// (module, field), in order.
    imports: Vec<(String, String)>,
    exports: Vec<Item<ExternalKind>>,
}

enum CoreInstance {
    /// A module instantiated with arguments (name, instance).
    Module(u32, Vec<(String, u32)>),
    /// Exports of items of the component.
    Exports(Vec<Item<ExternalKind>>),
}

/// What a name resolves to, by index.
#[derive(Debug, PartialEq)]
enum Target {
    /// Item `index` of kind `kind` of the module instantiated as `instance`.
    InModule(u32, ExternalKind, u32),
    /// A core item of the component.
    Core(ExternalKind, u32),
    /// An item of the component.
    Item(ComponentExternalKind, u32),
}

impl Layout {
    /// The layout of `component`; `None` if it does not parse, or if a core
    /// module or component is imported, aliased or exported at the top level
    /// or aliased from an enclosing component (then the index spaces, or
    /// names that are seen, are not the ones this module renames).
    fn read(component: &[u8]) -> Option<Layout> {
        let mut layout = Layout::default();
        let mut depth = 0u32;
        // The top-level module or component being read (at depth 1).
        let (mut module, mut nested) = (None, None);
        for payload in Parser::new(0).parse_all(component) {
            let payload = payload.ok()?;
            match payload {
                Payload::ModuleSection { .. } | Payload::ComponentSection { .. } if depth == 0 => {
                    if matches!(payload, Payload::ModuleSection { .. }) {
                        module = Some(layout.modules.len());
                        layout.modules.push(CoreModule::default());
                    } else {
                        nested = Some(layout.components.len());
                        layout.components.push(Vec::new());
                    }
                    depth += 1;
                }
                Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
                Payload::End(_) => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        (module, nested) = (None, None);
                    }
                }
                Payload::ImportSection(section) if depth == 1 && module.is_some() => {
                    let imports = &mut layout.modules[module?].imports;
                    for import in section.into_imports() {
                        let import = import.ok()?;
                        imports.push((import.module.to_string(), import.name.to_string()));
                    }
                }
                Payload::ExportSection(section) if depth == 1 && module.is_some() => {
                    let exports = &mut layout.modules[module?].exports;
                    for export in section {
                        let export = export.ok()?;
                        exports.push((export.name.to_string(), export.kind, export.index));
                    }
                }
                Payload::ComponentImportSection(section) if depth <= 1 => {
                    for import in section {
                        let import = import.ok()?;
                        match (depth, nested, import.ty) {
                            (
                                0,
                                _,
                                ComponentTypeRef::Module(_) | ComponentTypeRef::Component(_),
                            ) => {
                                return None;
                            }
                            (1, Some(c), _) => layout.components[c].push(import.name.name.into()),
                            _ => {}
                        }
                    }
                }
                Payload::ComponentAliasSection(section) => {
                    for alias in section {
                        match alias.ok()? {
                            ComponentAlias::Outer {
                                kind:
                                    ComponentOuterAliasKind::CoreModule
                                    | ComponentOuterAliasKind::Component,
                                ..
                            } => return None,
                            ComponentAlias::InstanceExport {
                                kind:
                                    ComponentExternalKind::Module | ComponentExternalKind::Component,
                                ..
                            } if depth == 0 => return None,
                            ComponentAlias::CoreInstanceExport {
                                instance_index,
                                name,
                                ..
                            } if depth == 0 => layout.aliases.push((instance_index, name.into())),
                            _ => {}
                        }
                    }
                }
                Payload::ComponentExportSection(section) if depth == 0 => {
                    for export in section {
                        if matches!(
                            export.ok()?.kind,
                            ComponentExternalKind::Module | ComponentExternalKind::Component
                        ) {
                            return None;
                        }
                    }
                }
                Payload::InstanceSection(section) if depth == 0 => {
                    for instance in section {
                        layout.instances.push(match instance.ok()? {
                            wasmparser::Instance::Instantiate { module_index, args } => {
                                let args = args.iter().map(|a| (a.name.to_string(), a.index));
                                CoreInstance::Module(module_index, args.collect())
                            }
                            wasmparser::Instance::FromExports(exports) => {
                                let exports = exports.iter();
                                let exports =
                                    exports.map(|e| (e.name.to_string(), e.kind, e.index));
                                CoreInstance::Exports(exports.collect())
                            }
                        });
                    }
                }
                Payload::ComponentInstanceSection(section) if depth == 0 => {
                    for instance in section {
                        if let wasmparser::ComponentInstance::Instantiate {
                            component_index,
                            args,
                        } = instance.ok()?
                        {
                            let args = args.iter().map(|a| (a.name.to_string(), a.kind, a.index));
                            layout
                                .instantiations
                                .push((component_index, args.collect()));
                        }
                    }
                }
                _ => {}
            }
        }
        Some(layout)
    }

    /// What the names that [`shrink`] renames resolve to, in order: each
    /// alias of a core instance's export, each import of each instantiated
    /// core module, each import of each instantiated nested component.
    /// `None` if one does not resolve.
    fn wiring(&self) -> Option<Vec<Target>> {
        // The items of each module, and of each instance made of exports, by name.
        let modules: Vec<_> = self.modules.iter().map(|m| by_name(&m.exports)).collect();
        let exports: HashMap<u32, _> = (self.instances.iter().enumerate())
            .filter_map(|(i, instance)| match instance {
                CoreInstance::Exports(exports) => Some((i as u32, by_name(exports))),
                CoreInstance::Module(..) => None,
            })
            .collect();
        let resolve = |instance: u32, name: &str| -> Option<Target> {
            match self.instances.get(instance as usize)? {
                CoreInstance::Module(module, _) => {
                    let (kind, index) = modules.get(*module as usize)?.get(name)?;
                    Some(Target::InModule(instance, *kind, *index))
                }
                CoreInstance::Exports(_) => {
                    let (kind, index) = exports.get(&instance)?.get(name)?;
                    Some(Target::Core(*kind, *index))
                }
            }
        };
        let mut wiring = Vec::new();
        for (instance, name) in &self.aliases {
            wiring.push(resolve(*instance, name)?);
        }
        for instance in &self.instances {
            let CoreInstance::Module(module, args) = instance else {
                continue;
            };
            for (module, field) in &self.modules.get(*module as usize)?.imports {
                let (_, arg) = args.iter().find(|(name, _)| name == module)?;
                wiring.push(resolve(*arg, field)?);
            }
        }
        for (component, args) in &self.instantiations {
            for import in self.components.get(*component as usize)? {
                let (_, kind, index) = args.iter().find(|(name, ..)| name == import)?;
                wiring.push(Target::Item(*kind, *index));
            }
        }
        Some(wiring)
    }
}

/// `items` by name.
fn by_name(items: &[Item<ExternalKind>]) -> HashMap<&str, (ExternalKind, u32)> {
    let items = items.iter();
    items
        .map(|(name, kind, index)| (name.as_str(), (*kind, *index)))
        .collect()
}

/// The new names (old -> new) of a component's internal names.
#[derive(Default)]
struct Plan {
    /// The main module's exports.
    exports: HashMap<String, String>,
    /// The main module's import modules: the new name, and the fields' new
    /// names when they are renamed.
    modules: HashMap<String, (String, Option<HashMap<String, String>>)>,
    /// Core instances made of exports whose export names are renamed: the
    /// main module's import module that each satisfies (and nothing else).
    satisfies: HashMap<u32, String>,
    /// Each nested component's import names (and the names of any other
    /// arguments it is instantiated with).
    components: HashMap<u32, HashMap<String, String>>,
}

impl Plan {
    fn of(layout: &Layout) -> Plan {
        let mut plan = Plan::default();
        let Some(main) = layout.modules.first() else {
            return plan;
        };
        // Each use of a core instance as an argument: (instance, module, name).
        let uses: Vec<(u32, u32, &str)> = (layout.instances.iter())
            .flat_map(|instance| match instance {
                CoreInstance::Module(module, args) => (args.iter())
                    .map(|(name, arg)| (*arg, *module, name.as_str()))
                    .collect(),
                CoreInstance::Exports(_) => Vec::new(),
            })
            .collect();
        let is_main = |instance: u32| {
            let instance = layout.instances.get(instance as usize);
            matches!(instance, Some(CoreInstance::Module(0, _)))
        };
        // The main module's exports are seen by aliases (renamed with them)
        // and by the modules its instances are passed to (which keep their
        // import names).
        if !uses.iter().any(|(instance, ..)| is_main(*instance)) {
            plan.exports = numbered(main.exports.iter().map(|(name, ..)| name.as_str()));
        }
        // The main module's import modules, and the arguments it is
        // instantiated with (wasm-opt may have removed all imports of one).
        let args: Vec<(u32, &str)> = (uses.iter())
            .filter(|(_, module, _)| *module == 0)
            .map(|(instance, _, name)| (*instance, *name))
            .collect();
        let modules = main.imports.iter().map(|(module, _)| module.as_str());
        for (module, new) in numbered(modules.chain(args.iter().map(|(_, name)| *name))) {
            // The fields are renamed with the exports of the instances that
            // satisfy the module, if each is made of exports and is used for
            // nothing else.
            let instances = (args.iter()).filter(|(_, name)| *name == module);
            let instances: Vec<u32> = instances.map(|(instance, _)| *instance).collect();
            let exports_of = |instance: u32| match layout.instances.get(instance as usize) {
                Some(CoreInstance::Exports(exports))
                    if !layout.aliases.iter().any(|(i, _)| *i == instance)
                        && (uses.iter().filter(|(i, ..)| *i == instance))
                            .all(|(_, m, name)| *m == 0 && *name == module) =>
                {
                    Some(exports)
                }
                _ => None,
            };
            let exports: Option<Vec<_>> = instances.iter().map(|i| exports_of(*i)).collect();
            let fields = exports.map(|exports| {
                let imported = (main.imports.iter())
                    .filter(|(m, _)| *m == module)
                    .map(|(_, field)| field.as_str());
                let exported = exports
                    .into_iter()
                    .flatten()
                    .map(|(name, ..)| name.as_str());
                numbered(imported.chain(exported))
            });
            if fields.is_some() {
                for instance in instances {
                    plan.satisfies.insert(instance, module.clone());
                }
            }
            plan.modules.insert(module, (new, fields));
        }
        // The nested components' imports, and the arguments they are
        // instantiated with.
        for (component, imports) in layout.components.iter().enumerate() {
            let component = component as u32;
            let args = (layout.instantiations.iter())
                .filter(|(c, _)| *c == component)
                .flat_map(|(_, args)| args.iter().map(|(name, ..)| name.as_str()));
            let names = numbered(imports.iter().map(String::as_str).chain(args));
            plan.components.insert(component, names);
        }
        plan
    }
}

/// `map`'s new name for `name`, or `name` itself (what [`shrink`] checks
/// after the renaming decides whether that is right).
fn renamed<'a>(map: &'a HashMap<String, String>, name: &'a str) -> &'a str {
    map.get(name).map_or(name, String::as_str)
}

/// Applies a [`Plan`] while re-encoding.
#[derive(Default)]
struct Renamer {
    plan: Plan,
    depth: u32,
    /// Top-level core modules and components seen so far.
    modules: u32,
    components: u32,
    /// Inside the first top-level core module (the component's code).
    in_main_module: bool,
    /// Inside this top-level nested component.
    in_component: Option<u32>,
    /// Top-level core instances so far, and which instantiate the main module.
    core_instances: u32,
    main_instances: Vec<u32>,
}

impl Reencode for Renamer {
    type Error = Infallible;

    fn parse_import_section(
        &mut self,
        imports: &mut wasm_encoder::ImportSection,
        section: wasmparser::ImportSectionReader<'_>,
    ) -> Result<(), ReencodeError<Infallible>> {
        if !self.in_main_module || self.plan.modules.is_empty() {
            return wasm_encoder::reencode::utils::parse_import_section(self, imports, section);
        }
        for import in section.into_imports() {
            let import = import?;
            let ty = self.entity_type(import.ty)?;
            match self.plan.modules.get(import.module) {
                Some((module, Some(fields))) => {
                    imports.import(module, renamed(fields, import.name), ty)
                }
                Some((module, None)) => imports.import(module, import.name, ty),
                None => imports.import(import.module, import.name, ty),
            };
        }
        Ok(())
    }

    fn parse_export(
        &mut self,
        exports: &mut wasm_encoder::ExportSection,
        export: wasmparser::Export<'_>,
    ) -> Result<(), ReencodeError<Infallible>> {
        let kind = self.export_kind(export.kind)?;
        let name = match self.in_main_module {
            true => renamed(&self.plan.exports, export.name),
            false => export.name,
        };
        exports.export(name, kind, export.index);
        Ok(())
    }
}

impl ReencodeComponent for Renamer {
    fn push_depth(&mut self) {
        self.depth += 1;
    }

    fn pop_depth(&mut self) {
        self.depth -= 1;
    }

    fn parse_component_submodule(
        &mut self,
        component: &mut wasm_encoder::Component,
        parser: wasmparser::Parser,
        module: &[u8],
    ) -> Result<(), ReencodeError<Infallible>> {
        if self.depth == 0 {
            self.in_main_module = self.modules == 0;
            self.modules += 1;
        }
        let result = component_utils::parse_component_submodule(self, component, parser, module);
        self.in_main_module = false;
        result
    }

    fn parse_component_subcomponent(
        &mut self,
        component: &mut wasm_encoder::Component,
        parser: wasmparser::Parser,
        subcomponent: &[u8],
        whole_component: &[u8],
    ) -> Result<(), ReencodeError<Infallible>> {
        let top = self.depth == 0;
        if top {
            self.in_component = Some(self.components);
            self.components += 1;
        }
        let result = component_utils::parse_component_subcomponent(
            self,
            component,
            parser,
            subcomponent,
            whole_component,
        );
        if top {
            self.in_component = None;
        }
        result
    }

    fn parse_component_import_section(
        &mut self,
        imports: &mut wasm_encoder::ComponentImportSection,
        section: wasmparser::ComponentImportSectionReader<'_>,
    ) -> Result<(), ReencodeError<Infallible>> {
        // Only the imports of a top-level nested component are internal.
        let names = (self.in_component)
            .filter(|_| self.depth == 1)
            .and_then(|index| self.plan.components.get(&index));
        let Some(names) = names.cloned() else {
            return component_utils::parse_component_import_section(self, imports, section);
        };
        for import in section {
            let import = import?;
            let name = wasm_encoder::ComponentExternName::from(renamed(&names, import.name.name));
            imports.import(name, self.component_type_ref(import.ty)?);
        }
        Ok(())
    }

    fn parse_component_instance(
        &mut self,
        instances: &mut wasm_encoder::ComponentInstanceSection,
        instance: wasmparser::ComponentInstance<'_>,
    ) -> Result<(), ReencodeError<Infallible>> {
        if let (
            0,
            wasmparser::ComponentInstance::Instantiate {
                component_index,
                args,
            },
        ) = (self.depth, &instance)
            && let Some(names) = self.plan.components.get(component_index)
        {
            let args =
                (args.iter()).map(|arg| (renamed(names, arg.name), arg.kind.into(), arg.index));
            instances.instantiate(*component_index, args);
            return Ok(());
        }
        component_utils::parse_component_instance(self, instances, instance)
    }

    fn parse_instance(
        &mut self,
        instances: &mut wasm_encoder::InstanceSection,
        instance: wasmparser::Instance<'_>,
    ) -> Result<(), ReencodeError<Infallible>> {
        if self.depth != 0 {
            return component_utils::parse_instance(self, instances, instance);
        }
        let index = self.core_instances;
        self.core_instances += 1;
        match instance {
            wasmparser::Instance::Instantiate {
                module_index: 0,
                args,
            } => {
                self.main_instances.push(index);
                let args = args.iter().map(|arg| {
                    let name = match self.plan.modules.get(arg.name) {
                        Some((new, _)) => new.as_str(),
                        None => arg.name,
                    };
                    (name, wasm_encoder::ModuleArg::Instance(arg.index))
                });
                instances.instantiate(0, args);
                Ok(())
            }
            wasmparser::Instance::FromExports(exports)
                if self.plan.satisfies.contains_key(&index) =>
            {
                let mut items = Vec::new();
                for export in exports.iter() {
                    items.push((export.name, self.export_kind(export.kind)?, export.index));
                }
                let module = &self.plan.satisfies[&index];
                let fields = self
                    .plan
                    .modules
                    .get(module)
                    .and_then(|(_, fields)| fields.as_ref());
                let rename = |name| fields.map_or(name, |fields| renamed(fields, name));
                instances.export_items(items.into_iter().map(|(n, k, i)| (rename(n), k, i)));
                Ok(())
            }
            instance => component_utils::parse_instance(self, instances, instance),
        }
    }

    fn parse_component_alias_section(
        &mut self,
        aliases: &mut wasm_encoder::ComponentAliasSection,
        section: wasmparser::ComponentAliasSectionReader<'_>,
    ) -> Result<(), ReencodeError<Infallible>> {
        for alias in section {
            let alias = alias?;
            // (Core instances are only made by instance sections, never by aliases.)
            if let ComponentAlias::CoreInstanceExport {
                kind,
                instance_index,
                name,
            } = alias
                && self.depth == 0
                && self.main_instances.contains(&instance_index)
                && let Some(new) = self.plan.exports.get(name).cloned()
            {
                aliases.alias(wasm_encoder::Alias::CoreInstanceExport {
                    instance: instance_index,
                    kind: self.export_kind(kind)?,
                    name: &new,
                });
            } else {
                aliases.alias(self.component_alias(alias)?);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Laid out as wit-component lays out a component: the main module
    /// first, importing two functions of one type from an instance made of
    /// exports and exporting two more of that type, lifted and wrapped in a
    /// nested component instantiated by its import names. `first` returns
    /// 10 and `second` 20, each through a chain of renamed names.
    const TWO_OF_A_TYPE: &str = r#"(component
      (core module $main
        (import "test:x/host" "get-ten" (func $ten (result i32)))
        (import "test:x/host" "get-twenty" (func $twenty (result i32)))
        (func (export "test:x/api#first") (result i32) call $ten)
        (func (export "test:x/api#second") (result i32) call $twenty))
      (core module $host
        (func (export "ten") (result i32) i32.const 10)
        (func (export "twenty") (result i32) i32.const 20))
      (core instance $host (instantiate $host))
      (alias core export $host "ten" (core func $ten))
      (alias core export $host "twenty" (core func $twenty))
      (core instance $imports
        (export "get-ten" (func $ten))
        (export "get-twenty" (func $twenty)))
      (core instance $main (instantiate $main (with "test:x/host" (instance $imports))))
      (type $f (func (result u32)))
      (alias core export $main "test:x/api#first" (core func $first))
      (func $first (type $f) (canon lift (core func $first)))
      (alias core export $main "test:x/api#second" (core func $second))
      (func $second (type $f) (canon lift (core func $second)))
      (component $api
        (import "import-func-first" (func $a (result u32)))
        (import "import-func-second" (func $b (result u32)))
        (export "first" (func $a))
        (export "second" (func $b)))
      (instance $api (instantiate $api
        (with "import-func-first" (func $first))
        (with "import-func-second" (func $second))))
      (export "test:x/api" (instance $api)))"#;

    /// What function `func` of the one exported instance of `component`
    /// returns, followed name by name through the component as a runtime
    /// follows them (for components shaped like [`TWO_OF_A_TYPE`]: funcs
    /// only, core funcs only from aliases, code `i32.const` or `call`).
    fn returns(component: &[u8], func: &str) -> i32 {
        let mut modules: Vec<&[u8]> = Vec::new();
        let mut instances = Vec::new();
        let mut core_funcs: Vec<(u32, String)> = Vec::new();
        let mut lifted: Vec<u32> = Vec::new();
        let mut nested: Vec<(Vec<String>, HashMap<String, u32>)> = Vec::new();
        let mut wrapped: Vec<(u32, HashMap<String, u32>)> = Vec::new();
        let mut depth = 0;
        for payload in Parser::new(0).parse_all(component) {
            match payload.unwrap() {
                Payload::ModuleSection {
                    unchecked_range, ..
                } => {
                    let range = unchecked_range.start as usize..unchecked_range.end as usize;
                    if depth == 0 {
                        modules.push(&component[range]);
                    }
                    depth += 1;
                }
                Payload::ComponentSection { .. } => {
                    nested.push(Default::default());
                    depth += 1;
                }
                Payload::End(_) => depth -= 1,
                Payload::InstanceSection(s) if depth == 0 => {
                    instances.extend(s.into_iter().map(Result::unwrap))
                }
                Payload::ComponentAliasSection(s) if depth == 0 => {
                    for alias in s {
                        if let ComponentAlias::CoreInstanceExport {
                            instance_index,
                            name,
                            ..
                        } = alias.unwrap()
                        {
                            core_funcs.push((instance_index, name.to_string()));
                        }
                    }
                }
                Payload::ComponentCanonicalSection(s) if depth == 0 => {
                    for canon in s {
                        if let wasmparser::CanonicalFunction::Lift {
                            core_func_index, ..
                        } = canon.unwrap()
                        {
                            lifted.push(core_func_index);
                        }
                    }
                }
                Payload::ComponentImportSection(s) if depth == 1 => {
                    let names = s.into_iter().map(|i| i.unwrap().name.name.to_string());
                    nested.last_mut().unwrap().0.extend(names);
                }
                Payload::ComponentExportSection(s) if depth == 1 => {
                    let exports = s.into_iter().map(Result::unwrap);
                    let exports = exports.map(|e| (e.name.name.to_string(), e.index));
                    nested.last_mut().unwrap().1.extend(exports);
                }
                Payload::ComponentInstanceSection(s) if depth == 0 => {
                    for instance in s {
                        if let wasmparser::ComponentInstance::Instantiate {
                            component_index,
                            args,
                        } = instance.unwrap()
                        {
                            let args = args.iter().map(|a| (a.name.to_string(), a.index));
                            wrapped.push((component_index, args.collect()));
                        }
                    }
                }
                _ => {}
            }
        }
        // The nested component's export -> its import -> the argument, a lifted core func.
        let [(component, args)] = &wrapped[..] else {
            panic!("one nested instance")
        };
        let (imports, exports) = &nested[*component as usize];
        let import = &imports[exports[func] as usize];
        let (instance, name) = &core_funcs[lifted[args[import] as usize] as usize];
        core_export(&modules, &instances, &core_funcs, *instance, name)
    }

    /// What the export `name` of core instance `instance` returns.
    fn core_export(
        modules: &[&[u8]],
        instances: &[wasmparser::Instance],
        core_funcs: &[(u32, String)],
        instance: u32,
        name: &str,
    ) -> i32 {
        match &instances[instance as usize] {
            wasmparser::Instance::FromExports(exports) => {
                let export = exports.iter().find(|e| e.name == name).unwrap();
                let (instance, name) = &core_funcs[export.index as usize];
                core_export(modules, instances, core_funcs, *instance, name)
            }
            wasmparser::Instance::Instantiate { module_index, args } => {
                let (mut imports, mut exports, mut bodies) = (Vec::new(), Vec::new(), Vec::new());
                for payload in Parser::new(0).parse_all(modules[*module_index as usize]) {
                    match payload.unwrap() {
                        Payload::ImportSection(s) => {
                            imports.extend(s.into_imports().map(Result::unwrap))
                        }
                        Payload::ExportSection(s) => {
                            exports.extend(s.into_iter().map(Result::unwrap))
                        }
                        Payload::CodeSectionEntry(body) => bodies.push(body),
                        _ => {}
                    }
                }
                let mut func = exports.iter().find(|e| e.name == name).unwrap().index as usize;
                loop {
                    if let Some(import) = imports.get(func) {
                        let arg = args.iter().find(|a| a.name == import.module).unwrap();
                        return core_export(modules, instances, core_funcs, arg.index, import.name);
                    }
                    let body = &bodies[func - imports.len()];
                    match body.get_operators_reader().unwrap().read().unwrap() {
                        wasmparser::Operator::I32Const { value } => return value,
                        wasmparser::Operator::Call { function_index } => {
                            func = function_index as usize
                        }
                        op => panic!("unexpected {op:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn renamed_names_reach_the_same_functions() {
        let before = wat::parse_str(TWO_OF_A_TYPE).unwrap();
        assert_eq!(
            (returns(&before, "first"), returns(&before, "second")),
            (10, 20)
        );
        let after = shrink(&before).unwrap();
        assert!(
            after.len() < before.len(),
            "{} -> {}",
            before.len(),
            after.len()
        );
        assert_eq!(
            (returns(&after, "first"), returns(&after, "second")),
            (10, 20)
        );
        // Every kind of name was renamed (none of the old ones is left) ...
        let text = wasmprinter::print_bytes(&after).unwrap();
        for old in ["test:x/host", "get-ten", "#first", "import-func"] {
            assert!(!text.contains(old), "`{old}` is left:\n{text}");
        }
        // ... but the component's own names, and the nested component's exports.
        for kept in [r#""test:x/api""#, r#""first""#, r#""second""#] {
            assert!(text.contains(kept), "`{kept}` is gone:\n{text}");
        }
    }

    #[test]
    fn a_swap_that_validates_is_not_the_same_wiring() {
        // Two same-typed functions swapped: valid, and wrong. The check in
        // `shrink` sees it; validation alone would not.
        let before = wat::parse_str(TWO_OF_A_TYPE).unwrap();
        let swapped = TWO_OF_A_TYPE.replace(r#"(export "get-ten""#, r#"(export "get-XXX""#);
        let swapped = swapped.replace(r#"(export "get-twenty""#, r#"(export "get-ten""#);
        let swapped = wat::parse_str(swapped.replace("get-XXX", "get-twenty")).unwrap();
        crate::verify::validate(&swapped).unwrap();
        assert_eq!(returns(&swapped, "first"), 20);
        let wiring = |bytes: &[u8]| Layout::read(bytes).unwrap().wiring().unwrap();
        assert_ne!(wiring(&before), wiring(&swapped));
        let after = shrink(&before).unwrap();
        assert_eq!(wiring(&before), wiring(&after));
    }

    #[test]
    fn short_names() {
        let names: Vec<String> = [0, 1, 25, 26, 27, 701, 702].map(short).into();
        assert_eq!(names, ["a", "b", "z", "aa", "ab", "zz", "aaa"]);
    }
}
