//! Shortens the names inside a stub that nothing outside it can see.
//!
//! wit-component names things for people: the core module exports
//! `wasi:io/streams@0.2.12#[method]output-stream.blocking-write-and-flush` and
//! the component aliases it by that name; each exported interface is wrapped
//! in a nested component whose imports are named `import-method-...` and are
//! instantiated by those names. In a deny-all-WASI stub these names were about
//! 40 KB of 88 KB. Only the component's own imports and exports (and the
//! nested components' exports, which become the exported instances' types)
//! are visible from outside, so everything else is renamed to `a`, `b`, ...
//!
//! Stubs of async functions, streams and futures import one intrinsic per
//! function and type (`[export]wasi:filesystem/types@0.3.0`
//! `[async-lower][future-write-1][method]descriptor.read-via-stream`); the
//! main module's import modules that hold such intrinsics are renamed too,
//! with their fields, and so are the exports of the core instances that
//! satisfy them. (A stub without them keeps its imports' names as they were.)
//!
//! The result is validated; if it does not validate, the input is kept (once
//! it validates: the encoder's bytes are validated here, and only here).

use std::collections::HashMap;
use std::convert::Infallible;
use wasm_encoder::reencode::{
    Error as ReencodeError, Reencode, ReencodeComponent, component_utils,
};

/// `component` with internal names shortened, validated; `component` itself
/// if that fails and it validates; else why `component` does not validate.
pub(crate) fn shrink(component: &[u8]) -> Result<Vec<u8>, String> {
    let mut renamer = Renamer {
        imports: plan_import_renames(component).unwrap_or_default(),
        ..Renamer::default()
    };
    let mut out = wasm_encoder::Component::new();
    let shrunk = renamer
        .parse_component(&mut out, wasmparser::Parser::new(0), component)
        .ok()
        .map(|()| out.finish())
        .filter(|out| crate::verify::validate(out).is_ok());
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

/// Import fields of the async ABI's intrinsics (`task.return`, streams,
/// futures), whose import modules are renamed.
const ASYNC_INTRINSICS: [&str; 5] = [
    "[task-return]",
    "[stream-",
    "[future-",
    "[async-lower]",
    "[waitable-",
];

/// How the main module's imports are renamed.
#[derive(Default)]
struct ImportRenames {
    /// Old module name -> its new name and its fields' (old -> new).
    modules: HashMap<String, (String, HashMap<String, String>)>,
    /// Top-level core instance -> the main module's import module it
    /// satisfies, when that module is renamed.
    satisfies: HashMap<u32, String>,
}

/// Finds the main module's import modules that hold async intrinsics, and
/// the core instances that satisfy them.
fn plan_import_renames(component: &[u8]) -> Option<ImportRenames> {
    use wasmparser::{Parser, Payload};
    let mut renames = ImportRenames::default();
    let mut depth = 0;
    let mut modules = 0;
    let mut in_main = false;
    for payload in Parser::new(0).parse_all(component) {
        match payload.ok()? {
            Payload::ModuleSection { .. } => {
                in_main = depth == 0 && modules == 0;
                if depth == 0 {
                    modules += 1;
                }
                depth += 1;
            }
            Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => {
                depth -= 1;
                in_main = false;
            }
            Payload::ImportSection(section) if in_main => {
                let imports: Vec<_> = section.into_imports().collect::<Result<_, _>>().ok()?;
                let renamed: Vec<&str> = imports
                    .iter()
                    .filter(|i| ASYNC_INTRINSICS.iter().any(|p| i.name.starts_with(p)))
                    .map(|i| i.module)
                    .collect();
                for import in &imports {
                    if !renamed.contains(&import.module) {
                        continue;
                    }
                    let next = short(renames.modules.len());
                    let (_, fields) = renames
                        .modules
                        .entry(import.module.to_string())
                        .or_insert_with(|| (next, HashMap::new()));
                    let next = short(fields.len());
                    fields.entry(import.name.to_string()).or_insert(next);
                }
            }
            Payload::InstanceSection(section) if depth == 0 => {
                for instance in section {
                    if let wasmparser::Instance::Instantiate {
                        module_index: 0,
                        args,
                    } = instance.ok()?
                    {
                        for arg in args.iter() {
                            if renames.modules.contains_key(arg.name) {
                                renames.satisfies.insert(arg.index, arg.name.to_string());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Some(renames)
}

#[derive(Default)]
struct Renamer {
    /// The renaming of the main module's imports.
    imports: ImportRenames,
    depth: u32,
    /// Top-level core modules and components seen so far.
    modules: u32,
    components: u32,
    /// Inside the first top-level core module (the stub's code).
    in_main_module: bool,
    /// Inside this top-level nested component.
    in_component: Option<u32>,
    /// Core export names of the main module: old -> new.
    core_names: HashMap<String, String>,
    /// Top-level core instances so far, and which instantiate the main module.
    core_instances: u32,
    main_instances: Vec<u32>,
    /// Per nested component: its import names, old -> new.
    import_names: HashMap<u32, HashMap<String, String>>,
}

impl Reencode for Renamer {
    type Error = Infallible;

    fn parse_import_section(
        &mut self,
        imports: &mut wasm_encoder::ImportSection,
        section: wasmparser::ImportSectionReader<'_>,
    ) -> Result<(), ReencodeError<Infallible>> {
        if !self.in_main_module || self.imports.modules.is_empty() {
            return wasm_encoder::reencode::utils::parse_import_section(self, imports, section);
        }
        for import in section.into_imports() {
            let import = import?;
            let ty = self.entity_type(import.ty)?;
            match self.imports.modules.get(import.module) {
                Some((module, fields)) => imports.import(module, &fields[import.name], ty),
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
        if !self.in_main_module {
            return wasm_encoder::reencode::utils::parse_export(self, exports, export);
        }
        let next = short(self.core_names.len());
        let name = self
            .core_names
            .entry(export.name.to_string())
            .or_insert(next)
            .clone();
        exports.export(&name, self.export_kind(export.kind)?, export.index);
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
        let top = self.depth == 0;
        if top {
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
        let Some(index) = self.in_component.filter(|_| self.depth == 1) else {
            return component_utils::parse_component_import_section(self, imports, section);
        };
        for import in section {
            let import = import?;
            let names = self.import_names.entry(index).or_default();
            let next = short(names.len());
            let name = names
                .entry(import.name.name.to_string())
                .or_insert(next)
                .clone();
            let name = wasm_encoder::ComponentExternName::from(name.as_str());
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
            && let Some(names) = self.import_names.get(component_index)
        {
            let args: Vec<(String, wasm_encoder::ComponentExportKind, u32)> = args
                .iter()
                .map(|arg| {
                    let name = names.get(arg.name).cloned().unwrap_or(arg.name.to_string());
                    (name, arg.kind.into(), arg.index)
                })
                .collect();
            instances.instantiate(
                *component_index,
                args.iter().map(|(n, k, i)| (n.as_str(), *k, *i)),
            );
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
                let args: Vec<(String, u32)> = args
                    .iter()
                    .map(|arg| {
                        let name = match self.imports.modules.get(arg.name) {
                            Some((new, _)) => new.clone(),
                            None => arg.name.to_string(),
                        };
                        (name, arg.index)
                    })
                    .collect();
                let kind = wasm_encoder::ModuleArg::Instance;
                instances.instantiate(0, args.iter().map(|(n, i)| (n.as_str(), kind(*i))));
                Ok(())
            }
            wasmparser::Instance::FromExports(exports)
                if self.imports.satisfies.contains_key(&index) =>
            {
                let module = &self.imports.satisfies[&index];
                let fields = self.imports.modules[module].1.clone();
                let mut renamed = Vec::new();
                for export in exports.iter() {
                    let name = fields.get(export.name).cloned();
                    let name = name.unwrap_or_else(|| export.name.to_string());
                    renamed.push((name, self.export_kind(export.kind)?, export.index));
                }
                instances.export_items(renamed.iter().map(|(n, k, i)| (n.as_str(), *k, *i)));
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
            if let wasmparser::ComponentAlias::CoreInstanceExport {
                kind,
                instance_index,
                name,
            } = alias
                && self.depth == 0
                && self.main_instances.contains(&instance_index)
                && let Some(new) = self.core_names.get(name).cloned()
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
