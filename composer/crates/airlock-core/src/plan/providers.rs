//! Finding the component that provides an import: an index of every
//! instance's interface exports, wires first, ambiguity an error. A plain
//! name (a bare function or inline interface) is provided by an export of
//! that name and the same type (see `signature`).

use super::{Problem, signature};
use crate::inspect::{Decoded, ItemKind};
use crate::names::InterfaceName;
use crate::spec::{CompositionSpec, InstanceSpec};
use std::collections::HashMap;
use wit_parser::WorldItem;

/// Every interface export of every instance, by unversioned name, so finding
/// providers costs one lookup per import rather than a scan of all instances;
/// and every export under a plain name, by that name.
pub(super) struct ExportIndex<'a> {
    interfaces: HashMap<String, Vec<(usize, InterfaceName, String)>>,
    /// Plain name -> (instance index, its component, the export).
    plain: HashMap<&'a str, Vec<(usize, &'a Decoded, &'a WorldItem)>>,
}

impl<'a> ExportIndex<'a> {
    pub(super) fn new(all: &[&'a Decoded]) -> Self {
        let mut index: HashMap<String, Vec<(usize, InterfaceName, String)>> = HashMap::new();
        let mut plain: HashMap<&str, Vec<_>> = HashMap::new();
        for (i, dec) in all.iter().enumerate() {
            for e in dec.exports.iter().filter(|e| e.kind == ItemKind::Interface) {
                if let Some(n) = InterfaceName::parse(&e.name) {
                    index
                        .entry(n.unversioned())
                        .or_default()
                        .push((i, n, e.name.clone()));
                }
            }
            for (key, item) in &dec.resolve.worlds[dec.world].exports {
                if let wit_parser::WorldKey::Name(name) = key {
                    plain
                        .entry(name.as_str())
                        .or_default()
                        .push((i, *dec, item));
                }
            }
        }
        Self {
            interfaces: index,
            plain,
        }
    }

    /// The highest export of instance `index` that serves `import`.
    fn serving(&self, index: usize, import: &InterfaceName) -> Option<String> {
        self.candidates(import)
            .filter(|(i, _, _)| *i == index)
            .max_by(|a, b| a.1.version.cmp(&b.1.version))
            .map(|(_, _, name)| name.clone())
    }

    fn candidates<'s>(
        &'s self,
        import: &'s InterfaceName,
    ) -> impl Iterator<Item = &'s (usize, InterfaceName, String)> {
        self.interfaces
            .get(&import.unversioned())
            .into_iter()
            .flatten()
            .filter(|(_, n, _)| n.serves(import))
    }
}

/// The component that provides `import` to `inst`: the wired one if a wire
/// matches, else the single candidate; several candidates are ambiguous.
pub(super) fn find_provider(
    spec: &CompositionSpec,
    inst: &InstanceSpec,
    import: &InterfaceName,
    exports: &ExportIndex,
) -> Result<Option<(String, String)>, Problem> {
    let serving_export = |index: usize| exports.serving(index, import);
    if let Some((_, target)) = inst.wire.iter().find(|(p, _)| p.matches(import)) {
        let index = spec
            .instances
            .iter()
            .position(|i| &i.name == target)
            .expect("checked by spec");
        return match serving_export(index) {
            Some(export) => Ok(Some((target.clone(), export))),
            None => Err(Problem::WireMismatch {
                instance: inst.name.clone(),
                import: import.to_string(),
                target: target.clone(),
            }),
        };
    }
    // A library that exports a WASI interface does not silently take over other
    // instances' WASI imports (their stdout, their files): only a wire does that.
    if import.is_wasi() {
        return Ok(None);
    }
    // Instances in spec order, each once, with its highest serving export.
    let mut providers: Vec<usize> = exports.candidates(import).map(|(i, _, _)| *i).collect();
    providers.dedup();
    let candidates: Vec<(String, String)> = providers
        .into_iter()
        .map(|i| (i, &spec.instances[i]))
        .filter(|(_, other)| other.name != inst.name)
        .filter_map(|(i, other)| serving_export(i).map(|e| (other.name.clone(), e)))
        .collect();
    match candidates.len() {
        0 => Ok(None),
        1 => Ok(candidates.into_iter().next()),
        _ => Err(Problem::Ambiguous {
            instance: inst.name.clone(),
            import: import.to_string(),
            candidates: candidates.into_iter().map(|(n, _)| n).collect(),
        }),
    }
}

/// The component that provides the plain name `import` (a bare function or
/// inline interface `item` of `dec`, the component of `inst`): the wired one
/// if a wire names it, else the one other instance exporting that name. The
/// export must have the same type; several candidates are ambiguous.
pub(super) fn find_plain_provider(
    spec: &CompositionSpec,
    inst: &InstanceSpec,
    (import, dec, item): (&str, &Decoded, &WorldItem),
    exports: &ExportIndex,
) -> Result<Option<(String, String)>, Problem> {
    let exporters = exports.plain.get(import).into_iter().flatten();
    let differs = |other: &Decoded, export: &WorldItem| {
        signature::mismatch((&dec.resolve, item), (&other.resolve, export))
    };
    if let Some((_, target)) = inst.wire.iter().find(|(p, _)| p.matches_plain(import)) {
        let served = exporters
            .filter(|(i, _, _)| spec.instances[*i].name == *target)
            .any(|(_, other, export)| differs(other, export).is_none());
        return match served {
            true => Ok(Some((target.clone(), import.to_string()))),
            false => Err(Problem::WireMismatch {
                instance: inst.name.clone(),
                import: import.to_string(),
                target: target.clone(),
            }),
        };
    }
    let others: Vec<(&str, Option<String>)> = exporters
        .map(|(i, other, export)| (spec.instances[*i].name.as_str(), differs(other, export)))
        .filter(|(name, _)| *name != inst.name)
        .collect();
    let serving: Vec<&str> = others
        .iter()
        .filter(|(_, d)| d.is_none())
        .map(|(n, _)| *n)
        .collect();
    match (serving.as_slice(), others.first()) {
        ([one], _) => Ok(Some((one.to_string(), import.to_string()))),
        ([], None) => Ok(None),
        ([], Some((provider, difference))) => Err(Problem::PlainMismatch {
            instance: inst.name.clone(),
            import: import.to_string(),
            provider: provider.to_string(),
            difference: difference.clone().unwrap_or_default(),
        }),
        (several, _) => Err(Problem::Ambiguous {
            instance: inst.name.clone(),
            import: import.to_string(),
            candidates: several.iter().map(|n| n.to_string()).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests::composition;

    type Found = Result<Option<(String, String)>, Problem>;

    /// The provider of `import` to `app` among components named by `wits`;
    /// `app_keys` are more TOML keys for `app` (e.g. its wires).
    fn provider_among(wits: &[(&str, String)], app_keys: &str, import: &str) -> Found {
        let mut manifest = format!(
            "[output]\nroot = \"app\"\n[components.app]\npath = \"app.wasm\"\n{app_keys}\n"
        );
        for (name, _) in wits.iter().filter(|(n, _)| *n != "app") {
            manifest.push_str(&format!("[components.{name}]\npath = \"{name}.wasm\"\n"));
        }
        let wits: Vec<(&str, &str)> = wits.iter().map(|(n, w)| (*n, w.as_str())).collect();
        let (spec, decoded) = composition(&manifest, &wits, None);
        let exports = ExportIndex::new(&decoded.iter().collect::<Vec<_>>());
        let app = spec.instance("app").unwrap();
        find_provider(&spec, app, &InterfaceName::parse(import).unwrap(), &exports)
    }

    /// The provider of `test:lib/api@VERSION` to `app`, which imports it at
    /// `version`, among `libs`, each exporting it at the version given.
    fn provider(version: &str, libs: &[(&str, &str)], app_keys: &str) -> Found {
        let api = "interface api { add: func(a: u32) -> u32; }";
        let app = format!(
            "package test:app;\nworld app {{ import test:lib/api@{version}; }}\n\
             package test:lib@{version} {{ {api} }}"
        );
        let mut wits = vec![("app", app)];
        for (name, v) in libs {
            let lib = format!("package test:lib@{v};\n{api}\nworld lib {{ export api; }}");
            wits.push((name, lib));
        }
        provider_among(&wits, app_keys, &format!("test:lib/api@{version}"))
    }

    fn found(instance: &str, export: &str) -> Found {
        Ok(Some((instance.into(), export.into())))
    }

    #[test]
    fn a_semver_compatible_newer_export_serves() {
        let got = provider("0.1.0", &[("lib", "0.1.3")], "");
        assert_eq!(got, found("lib", "test:lib/api@0.1.3"));
    }

    #[test]
    fn older_and_incompatible_exports_do_not_serve() {
        let got = provider("0.1.5", &[("old", "0.1.3"), ("next", "0.2.0")], "");
        assert_eq!(got, Ok(None));
    }

    #[test]
    fn several_providers_are_ambiguous() {
        let got = provider("0.1.0", &[("lib-a", "0.1.3"), ("lib-b", "0.1.4")], "");
        let ambiguous = Problem::Ambiguous {
            instance: "app".into(),
            import: "test:lib/api@0.1.0".into(),
            candidates: vec!["lib-a".into(), "lib-b".into()],
        };
        assert_eq!(got, Err(ambiguous));
    }

    #[test]
    fn a_wire_chooses_among_providers() {
        let wire = r#"wire = { "test:lib/api" = "lib-b" }"#;
        let got = provider("0.1.0", &[("lib-a", "0.1.3"), ("lib-b", "0.1.4")], wire);
        assert_eq!(got, found("lib-b", "test:lib/api@0.1.4"));
    }

    #[test]
    fn a_wire_to_a_component_without_a_compatible_export_is_refused() {
        let wire = r#"wire = { "test:lib/api" = "next" }"#;
        let got = provider("0.1.0", &[("lib", "0.1.3"), ("next", "0.2.0")], wire);
        let mismatch = Problem::WireMismatch {
            instance: "app".into(),
            import: "test:lib/api@0.1.0".into(),
            target: "next".into(),
        };
        assert_eq!(got, Err(mismatch));
    }

    #[test]
    fn a_library_takes_over_a_wasi_import_only_by_a_wire() {
        let import = "wasi:cli/environment@0.2.0";
        let environment = "package wasi:cli@0.2.0 { interface environment { \
                           get-arguments: func() -> list<string>; } }";
        let app = format!("package test:app;\nworld app {{ import {import}; }}\n{environment}");
        let lib = format!("package test:lib;\nworld lib {{ export {import}; }}\n{environment}");
        let wits = [("app", app), ("lib", lib)];
        assert_eq!(provider_among(&wits, "", import), Ok(None));
        let wire = r#"wire = { "wasi:cli/environment" = "lib" }"#;
        assert_eq!(provider_among(&wits, wire, import), found("lib", import));
    }
}
