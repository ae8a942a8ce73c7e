//! Step 3: decide, for every import of every instance, where it comes from:
//! another component, the host (granted and allowed), or a virtualization
//! inside the output. Pure data; the audit prints it. Deny by default.
//!
//! [`plan`] plans each instance (`instance`, with `providers` to find what
//! other components export, and `signature` to match bare functions and
//! inline interfaces to exports of their plain name), then checks what WASI-looking WIT declares
//! (`wasi_checks`) and which types cross between instances (`type_deps`),
//! and orders the instances (`order`). Every [`Problem`] is collected.

mod instance;
mod order;
mod problem;
mod providers;
mod signature;
mod type_deps;
mod wasi_checks;

pub(crate) use instance::world_types_used;
pub use problem::{PolicyError, Problem};

use crate::attenuate::Slice;
use crate::inspect::{Decoded, Family};
use crate::names::InterfaceName;
use crate::spec::CompositionSpec;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The whole plan: one entry per instance, providers before their users.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// The instance whose exports the output re-exports.
    pub root: String,
    /// Every instance whose exports the output re-exports, the root first.
    pub exports: Vec<String>,
    /// Instances in instantiation order.
    pub instances: Vec<InstancePlan>,
    /// Policy the composer added on its own (see `CompositionSpec::notes`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// (instance, import): interfaces an exporting instance gets inside the
    /// output (linked or denied) whose types its exported interfaces name.
    /// The output exports each first, under the import's name, so that the
    /// types are named (wasmparser: "instance not valid to be used as export").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub carried_exports: Vec<(String, String)>,
}

/// What happens to each import of one instance.
#[derive(Debug, Clone, Serialize)]
pub struct InstancePlan {
    /// The instance's name.
    pub name: String,
    /// Its imports (normalised names), in the component's order.
    pub imports: Vec<ImportPlan>,
    /// Its exports.
    pub exports: Vec<String>,
    /// Its virtual values, one line for the audit (empty: none).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub virtual_values: String,
    /// Its attenuated capabilities, one audit line each (empty: none).
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "as_lines")]
    pub slices: Vec<Slice>,
}

/// Slices as the audit words them, in JSON too.
fn as_lines<S: serde::Serializer>(slices: &[Slice], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(slices.iter().map(ToString::to_string))
}

/// One import and its fate.
#[derive(Debug, Clone, Serialize)]
pub struct ImportPlan {
    /// The import name, after version normalisation.
    pub name: String,
    /// Its capability family.
    pub family: Family,
    /// Where it comes from.
    pub fate: Fate,
}

/// Where an import comes from.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "fate", rename_all = "kebab-case")]
pub enum Fate {
    /// Another component's export.
    Linked {
        /// The providing instance.
        provider: String,
        /// Its export name.
        export: String,
    },
    /// The host, through the output's import of the same name.
    Granted {
        /// The grant pattern that selected it.
        grant: String,
    },
    /// The host too: a type dependency of a granted interface.
    GrantedDependency {
        /// The granted interface that `use`s it.
        of: String,
    },
    /// Virtualized inside the output: denied, or served by virtual values.
    /// The plan leaves `functions` empty; the report fills it from the stubs.
    Denied {
        /// Why it is served inside the output.
        reason: DenyReason,
        /// For `types-only`: the granted interface whose types need it.
        #[serde(skip_serializing_if = "Option::is_none")]
        of: Option<String>,
        /// Per function, the denial behaviour.
        functions: BTreeMap<String, String>,
    },
}

/// Why an import is served inside the output instead of by the host.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum DenyReason {
    /// WASI that the instance is not granted.
    Default,
    /// The user's `deny`.
    Explicit,
    /// The instance's virtual values serve some of its functions.
    Virtual,
    /// Needed only for the types of a granted interface (`Fate::Denied`'s
    /// `of`): the types line up, the functions are denied.
    TypesOnly,
}

/// Plans the composition. `decoded` holds each instance's decoded component
/// (after version normalisation), in the same order as `spec.instances`.
pub fn plan(spec: &CompositionSpec, decoded: &[&Decoded]) -> Result<Plan, PolicyError> {
    let mut problems: BTreeSet<Problem> = crate::typos::unknown_patterns(spec, decoded)
        .into_iter()
        .map(Problem::UnknownPattern)
        .collect();
    let mut instances = Vec::new();
    let exports = providers::ExportIndex::new(decoded);
    for (inst, dec) in spec.instances.iter().zip(decoded) {
        let planned = instance::plan_instance(spec, inst, dec, &exports, &mut problems);
        instances.push(planned);
    }
    for (inst, dec) in spec.instances.iter().zip(decoded) {
        wasi_checks::forged_uses(&inst.name, dec, &mut problems);
    }
    type_deps::use_cycles(spec, decoded, &mut problems);
    type_deps::shared_dependencies(spec, decoded, &instances, &mut problems);
    let carried_exports = type_deps::unnamed_export_types(spec, decoded, &instances, &mut problems);
    type_deps::world_type_exports(spec, decoded, &instances, &mut problems);
    let order = order::topological_order(&instances).unwrap_or_else(|cycle| {
        problems.insert(Problem::Cycle { instances: cycle });
        (0..instances.len()).collect()
    });
    if !problems.is_empty() {
        return Err(PolicyError(problems.into_iter().collect()));
    }
    let notes = notes(spec, decoded, &instances);
    let mut slots: Vec<Option<InstancePlan>> = instances.into_iter().map(Some).collect();
    Ok(Plan {
        root: spec.root.clone(),
        exports: spec.exports.clone(),
        instances: order.into_iter().filter_map(|i| slots[i].take()).collect(),
        notes,
        carried_exports,
    })
}

/// The notes for the audit: those whose instance is a command and imports
/// the interface the note is about.
fn notes(spec: &CompositionSpec, decoded: &[&Decoded], instances: &[InstancePlan]) -> Vec<String> {
    let imports: BTreeMap<&str, Vec<String>> = instances
        .iter()
        .map(|i| {
            let names = i
                .imports
                .iter()
                .filter_map(|imp| InterfaceName::parse(&imp.name));
            (i.name.as_str(), names.map(|n| n.unversioned()).collect())
        })
        .collect();
    spec.notes
        .iter()
        .filter(|n| {
            imports
                .get(n.instance.as_str())
                .is_some_and(|names| names.contains(&n.interface))
        })
        .filter(|n| {
            spec.instances
                .iter()
                .zip(decoded)
                .any(|(i, d)| i.name == n.instance && is_command(d))
        })
        .map(|n| n.text.clone())
        .collect()
}

/// True when the component exports `wasi:cli/run` (a program, not a library).
fn is_command(dec: &Decoded) -> bool {
    dec.exports
        .iter()
        .any(|e| InterfaceName::parse(&e.name).is_some_and(|n| n.unversioned() == "wasi:cli/run"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    /// WASI 0.2's WIT, for components that import it.
    fn wasi() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../wit/deps")
    }

    /// The spec of `manifest` and its instances' components, in spec order,
    /// each built from the WIT that `wits` gives for its name.
    pub(super) fn composition(
        manifest: &str,
        wits: &[(&str, &str)],
        deps: Option<&Path>,
    ) -> (CompositionSpec, Vec<Decoded>) {
        let path = Path::new("airlock.toml");
        let manifest = crate::manifest::Manifest::parse(manifest, path).unwrap();
        let spec = CompositionSpec::from_manifest(&manifest, path).unwrap();
        let decoded = spec
            .instances
            .iter()
            .map(|inst| {
                let (_, wit) = wits.iter().find(|(n, _)| *n == inst.name).unwrap();
                let bytes = crate::testkit::component_from_wit(wit, deps).unwrap();
                crate::inspect::decode(&bytes, &inst.path).unwrap()
            })
            .collect();
        (spec, decoded)
    }

    const APP: &str = r#"
        package test:app;
        world app {
          import test:lib/api@0.1.0;
          export run: func() -> u32;
        }
        package test:lib@0.1.0 {
          interface api { summarize: func(text: string) -> string; }
        }
    "#;

    const LIB: &str = r#"
        package test:lib@0.1.0;
        interface api { summarize: func(text: string) -> string; }
        world lib {
          import wasi:cli/environment@0.2.12;
          import wasi:filesystem/types@0.2.12;
          import wasi:random/random@0.2.12;
          export api;
        }
    "#;

    /// Plans `app` and `lib` with `allow` and `lib`'s `grant` (TOML arrays).
    fn plan_app_and_lib(allow: &str, grant: &str) -> Result<Plan, PolicyError> {
        let manifest = format!(
            "[output]\nroot = \"app\"\n[allow]\ninterfaces = {allow}\n\
             [components.app]\npath = \"app.wasm\"\n\
             [components.lib]\npath = \"lib.wasm\"\ngrant = {grant}\n"
        );
        let (spec, decoded) = composition(&manifest, &[("app", APP), ("lib", LIB)], Some(&wasi()));
        plan(&spec, &decoded.iter().collect::<Vec<_>>())
    }

    fn fates(inst: &InstancePlan) -> BTreeMap<&str, &Fate> {
        inst.imports
            .iter()
            .map(|i| (i.name.as_str(), &i.fate))
            .collect()
    }

    #[test]
    fn links_grants_and_denies_with_providers_first() {
        let plan = plan_app_and_lib(
            r#"["wasi:cli/environment@0.2", "wasi:filesystem/types@0.2"]"#,
            r#"["wasi:cli/environment", "wasi:filesystem/types"]"#,
        )
        .unwrap();
        let names: Vec<&str> = plan.instances.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["lib", "app"]);
        assert_eq!(plan.root, "app");
        let app = fates(&plan.instances[1]);
        let linked = Fate::Linked {
            provider: "lib".into(),
            export: "test:lib/api@0.1.0".into(),
        };
        assert_eq!(app, BTreeMap::from([("test:lib/api@0.1.0", &linked)]));
        let lib = fates(&plan.instances[0]);
        let granted = |grant: &str| Fate::Granted {
            grant: grant.into(),
        };
        let types = "wasi:filesystem/types@0.2.12";
        assert_eq!(
            lib["wasi:cli/environment@0.2.12"],
            &granted("wasi:cli/environment")
        );
        assert_eq!(lib[types], &granted("wasi:filesystem/types"));
        let dependency = Fate::GrantedDependency { of: types.into() };
        assert_eq!(lib["wasi:io/streams@0.2.12"], &dependency);
        let denied = |reason: DenyReason, of: Option<&str>| Fate::Denied {
            reason,
            of: of.map(String::from),
            functions: BTreeMap::new(),
        };
        // The clock comes with the files' types, not with `now()`.
        assert_eq!(
            lib["wasi:clocks/wall-clock@0.2.12"],
            &denied(DenyReason::TypesOnly, Some(types))
        );
        assert_eq!(
            lib["wasi:random/random@0.2.12"],
            &denied(DenyReason::Default, None)
        );
    }

    /// The plug form keeps `wasi:cli/exit` for a command's root, not for a
    /// library's; a pattern the user wrote grants it to either, on any track.
    #[test]
    fn a_library_alone_keeps_exit_only_by_a_pattern_the_user_wrote() {
        const LIB3: &str = r#"
            package test:lib@0.1.0;
            interface api { f: func(); }
            world lib {
              import wasi:cli/exit@0.3.0;
              export api;
            }
            package wasi:cli@0.3.0 {
              interface exit { exit: func(status: result); }
            }
        "#;
        let bytes = crate::testkit::component_from_wit(LIB3, None).unwrap();
        let path = Path::new("lib.wasm");
        let dec = crate::inspect::decode(&bytes, path).unwrap();
        let exit = |allow: &[&str]| {
            let allow: Vec<String> = allow.iter().map(|a| a.to_string()).collect();
            let spec = CompositionSpec::from_plugs(path, &[], &allow, &[], &[]).unwrap();
            let plan = plan(&spec, &[&dec]).unwrap();
            fates(&plan.instances[0])["wasi:cli/exit@0.3.0"].clone()
        };
        assert!(matches!(exit(&[]), Fate::Denied { .. }));
        let granted = |grant: &str| Fate::Granted {
            grant: grant.into(),
        };
        assert_eq!(exit(&["wasi:*@0.3"]), granted("wasi:*@0.3"));
        assert_eq!(exit(&["wasi:*"]), granted("wasi:*"));
    }

    #[test]
    fn a_grant_the_allow_list_does_not_permit_is_refused() {
        let err = plan_app_and_lib("[]", r#"["wasi:cli/environment"]"#).unwrap_err();
        let refused = Problem::GrantNotAllowed {
            instance: "lib".into(),
            import: "wasi:cli/environment@0.2.12".into(),
            grant: "wasi:cli/environment".into(),
        };
        assert_eq!(err.0, [refused]);
    }

    #[test]
    fn an_import_nothing_provides_is_unsatisfied_unless_denied() {
        let plan_app = |deny: &str| {
            let manifest = format!(
                "[output]\nroot = \"app\"\n[components.app]\npath = \"app.wasm\"\ndeny = {deny}\n"
            );
            let (spec, decoded) = composition(&manifest, &[("app", APP)], None);
            plan(&spec, &decoded.iter().collect::<Vec<_>>())
        };
        let unsatisfied = Problem::Unsatisfied {
            instance: "app".into(),
            import: "test:lib/api@0.1.0".into(),
        };
        assert_eq!(plan_app("[]").unwrap_err().0, [unsatisfied]);
        let plan = plan_app(r#"["test:lib/api"]"#).unwrap();
        let explicit = Fate::Denied {
            reason: DenyReason::Explicit,
            of: None,
            functions: BTreeMap::new(),
        };
        assert_eq!(plan.instances[0].imports[0].fate, explicit);
    }

    /// Plans `app` (importing a bare function and an inline interface) with
    /// `keys` under it, beside `libs` (name, WIT) that may export them.
    fn plan_bare(keys: &str, libs: &[(&str, &str)]) -> Result<Plan, PolicyError> {
        let app = "package test:app;
            world app {
              import thing-in: func(key: string) -> result<string, string>;
              import lists: interface { sum: func(v: list<u32>) -> u64; }
              import wasi:cli/environment@0.2.12;
            }";
        let mut manifest =
            format!("[output]\nroot = \"app\"\n[components.app]\npath = \"app.wasm\"\n{keys}\n");
        let mut wits = vec![("app", app)];
        for (name, wit) in libs {
            manifest.push_str(&format!("[components.{name}]\npath = \"{name}.wasm\"\n"));
            wits.push((name, wit));
        }
        let (spec, decoded) = composition(&manifest, &wits, Some(&wasi()));
        plan(&spec, &decoded.iter().collect::<Vec<_>>())
    }

    const BARE_LIB: &str = "package test:lib;
        world lib {
          export thing-in: func(key: string) -> result<string, string>;
          export lists: interface { sum: func(v: list<u32>) -> u64; }
        }";

    #[test]
    fn bare_names_are_denied_only_by_plain_patterns() {
        let explicit = Fate::Denied {
            reason: DenyReason::Explicit,
            of: None,
            functions: BTreeMap::new(),
        };
        for deny in [
            r#"["*"]"#,
            r#"["thing-in", "lists"]"#,
            r#"["thing-*", "l*"]"#,
        ] {
            let plan = plan_bare(&format!("deny = {deny}"), &[]).unwrap();
            let app = fates(&plan.instances[0]);
            assert_eq!(app["thing-in"], &explicit, "{deny}");
            assert_eq!(app["lists"], &explicit, "{deny}");
            assert_eq!(plan.instances[0].imports[0].family, Family::Custom);
        }
        // WASI and namespaced patterns never reach a plain name, nor does a
        // plain pattern reach WASI: the environment is denied by default.
        let err = plan_bare(r#"deny = ["wasi:*", "lists"]"#, &[]).unwrap_err();
        let unsatisfied = Problem::Unsatisfied {
            instance: "app".into(),
            import: "thing-in".into(),
        };
        assert_eq!(err.0, [unsatisfied]);
        let plan = plan_bare(r#"deny = ["thing-in", "lists"]"#, &[]).unwrap();
        let env = fates(&plan.instances[0])["wasi:cli/environment@0.2.12"].clone();
        assert!(matches!(
            env,
            Fate::Denied {
                reason: DenyReason::Default,
                ..
            }
        ));
    }

    #[test]
    fn bare_names_link_to_the_one_provider_or_the_wired_one() {
        let linked = |provider: &str, export: &str| Fate::Linked {
            provider: provider.into(),
            export: export.into(),
        };
        let plan = plan_bare("", &[("lib", BARE_LIB)]).unwrap();
        let app = plan.instances.iter().find(|i| i.name == "app").unwrap();
        assert_eq!(fates(app)["thing-in"], &linked("lib", "thing-in"));
        assert_eq!(fates(app)["lists"], &linked("lib", "lists"));

        let two = [("lib-a", BARE_LIB), ("lib-b", BARE_LIB)];
        let err = plan_bare("", &two).unwrap_err();
        assert!(err.0.contains(&Problem::Ambiguous {
            instance: "app".into(),
            import: "thing-in".into(),
            candidates: vec!["lib-a".into(), "lib-b".into()],
        }));
        let wired = r#"wire = { "thing-in" = "lib-b", "lists" = "lib-a" }"#;
        let plan = plan_bare(wired, &two).unwrap();
        let app = plan.instances.iter().find(|i| i.name == "app").unwrap();
        assert_eq!(fates(app)["thing-in"], &linked("lib-b", "thing-in"));
        assert_eq!(fates(app)["lists"], &linked("lib-a", "lists"));
    }

    #[test]
    fn bare_names_are_granted_only_by_their_exact_name() {
        let keys = |grant: &str, allow: &str| {
            format!("grant = {grant}\ndeny = [\"lists\"]\n[allow]\ninterfaces = {allow}")
        };
        let granted = Fate::Granted {
            grant: "thing-in".into(),
        };
        let plan = plan_bare(&keys(r#"["thing-in"]"#, r#"["thing-in"]"#), &[]).unwrap();
        assert_eq!(fates(&plan.instances[0])["thing-in"], &granted);
        // A wildcard grant is not its name: unsatisfied, as if not granted
        // (while the environment is granted by it).
        let allow = r#"["thing-in", "wasi:cli/*"]"#;
        let err = plan_bare(&keys(r#"["*"]"#, allow), &[]).unwrap_err();
        assert!(
            matches!(&err.0[..], [Problem::Unsatisfied { import, .. }] if import == "thing-in")
        );
        // Nor is a wildcard in the allow-list.
        let err = plan_bare(&keys(r#"["thing-in"]"#, r#"["*"]"#), &[]).unwrap_err();
        assert!(
            matches!(&err.0[..], [Problem::GrantNotAllowed { import, .. }] if import == "thing-in"),
            "{err}"
        );
    }
}
