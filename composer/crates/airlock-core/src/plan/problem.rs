//! Why a policy cannot be met: every problem the planner finds, each with a
//! message that names the instance, the interface and what to change.

use crate::names::InterfaceName;

/// A reason the policy cannot be met. All of them are collected.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, thiserror::Error)]
pub enum Problem {
    /// A non-WASI import that nothing provides and nobody denied.
    #[error(
        "`{instance}` imports `{import}`, which no component exports and which is not WASI; \
         add a component that exports it, or deny it explicitly \
         (`deny = [\"{import}\"]` under [components.{instance}], or `--deny {import}`)"
    )]
    Unsatisfied {
        /// The instance.
        instance: String,
        /// The import.
        import: String,
    },
    /// More than one component could provide the import.
    #[error(
        "`{instance}` imports `{import}`, which several components export: {}; \
         choose one with `wire = {{ \"{import}\" = \"NAME\" }}` under [components.{instance}]",
        quoted(.candidates, ", ")
    )]
    Ambiguous {
        /// The instance.
        instance: String,
        /// The import.
        import: String,
        /// The candidates.
        candidates: Vec<String>,
    },
    /// A grant selects an import that the allow-list forbids.
    #[error(
        "`{instance}` is granted `{import}` (by `{grant}`), but the allow-list does not \
         permit it; add `\"{pattern}\"` to `[allow] interfaces` (or `--allow {pattern}`), \
         or narrow the grant",
        pattern = track_pattern(.import)
    )]
    GrantNotAllowed {
        /// The instance.
        instance: String,
        /// The import.
        import: String,
        /// The grant pattern.
        grant: String,
    },
    /// A wire points at a component that does not export the import.
    #[error(
        "`{instance}` wires `{import}` to `{target}`, which does not export a compatible `{import}`"
    )]
    WireMismatch {
        /// The instance.
        instance: String,
        /// The import.
        import: String,
        /// The wired target.
        target: String,
    },
    /// A type imported at the top level of a world (a `use` or a `resource`
    /// in the world itself) that is not denied: such types are not linked or
    /// granted, only denied (served inside the output).
    #[error(
        "`{instance}` imports `{import}`, a type at the top level of its world (a `use` or \
         `resource` in the world itself); airlock does not link or grant such types, it only \
         denies them: deny it explicitly (`deny = [\"{import}\"]` under \
         [components.{instance}], or `--deny {import}`) with the functions that use it"
    )]
    TypeImport {
        /// The instance.
        instance: String,
        /// The import.
        import: String,
    },
    /// A bare function whose signature uses a type imported at the top
    /// level of the world, not denied together with that type.
    #[error(
        "`{instance}` imports `{import}`, a function that uses `{ty}`, a type at the top level \
         of its world; airlock does not link or grant such types, it only denies them: deny \
         both explicitly (`deny = [\"{import}\", \"{ty}\"]` under [components.{instance}])"
    )]
    WorldTypeFunction {
        /// The instance.
        instance: String,
        /// The function.
        import: String,
        /// The world-level type it uses.
        ty: String,
    },
    /// A bare function or inline interface that another component exports
    /// under the same plain name, but with another type.
    #[error(
        "`{instance}` imports `{import}`, which `{provider}` exports with another type \
         ({difference}); only an export of the same type can serve it: make them match, or \
         deny it explicitly (`deny = [\"{import}\"]` under [components.{instance}], or \
         `--deny {import}`)"
    )]
    PlainMismatch {
        /// The instance.
        instance: String,
        /// The plain name it imports.
        import: String,
        /// The component that exports that name.
        provider: String,
        /// How the two differ.
        difference: String,
    },
    /// An instance links an interface from a provider, but a type dependency of
    /// that interface (e.g. `wasi:io/streams` under an interface that passes
    /// streams) does not come from the same place for both: the handle types
    /// would differ, and the output would not validate.
    #[error(
        "`{instance}` imports `{import}` from `{provider}`, whose types come from `{dependency}`, \
         but `{instance}` and `{provider}` do not get `{dependency}` from the same place \
         (each instance's denials are its own); grant `{dependency}` to both (and allow it)"
    )]
    SharedDependency {
        /// The importing instance.
        instance: String,
        /// The linked import.
        import: String,
        /// Its provider.
        provider: String,
        /// The type dependency they must share.
        dependency: String,
    },
    /// An interface the output re-exports `use`s a type of an interface that is
    /// satisfied inside the output (by another component or a denial), and that
    /// type refers to a named type (record, variant, enum, flags, resource) of
    /// any interface: the output cannot export it (wasmparser: "instance not
    /// valid to be used as export"), even when the exported interface `use`s both.
    #[error(
        "`{instance}` exports `{export}`, which `use`s a type that refers to `{missing}` from \
         an interface satisfied inside the output (by another component or a denial); the \
         output cannot export `{export}` that way (it exports such an interface beside only \
         when it is denied or holds types alone, so that no component's functions are \
         exposed): grant that interface to `{instance}` (and allow it), or do not re-export \
         `{instance}`"
    )]
    UnnamedExportType {
        /// The exporting instance.
        instance: String,
        /// The exported interface.
        export: String,
        /// The type, `interface.type`, that the output would have to export.
        missing: String,
    },
    /// An instance gets an interface from the host, but a type dependency of it
    /// (with resources) from inside the output: the handle types would differ.
    #[error(
        "`{instance}` gets `{import}` from the host, whose types come from `{dependency}`, \
         but `{instance}` gets `{dependency}` inside the output (from a component or a denial); \
         the two must come from the same place: do not grant `{import}`, or have `{dependency}` \
         come from the host too"
    )]
    HostDependency {
        /// The importing instance.
        instance: String,
        /// The granted import.
        import: String,
        /// The type dependency satisfied inside the output.
        dependency: String,
    },
    /// An instance is given virtual values (e.g. `env`) for an import that is
    /// not virtualized (granted, or linked to a component): they would be ignored.
    #[error(
        "`{instance}` is given virtual values (`{key}`) for `{import}`, which is {fate}; \
         virtual values only serve imports that are not granted: remove `{key}` or the \
         grant under [components.{instance}]"
    )]
    VirtualNotDenied {
        /// The instance.
        instance: String,
        /// The import.
        import: String,
        /// The manifest key of the values.
        key: String,
        /// Where the import comes from instead, e.g. ``granted (by `wasi:cli/*`)``.
        fate: String,
    },
    /// A granted interface declares a `use` of another interface that WASI's
    /// own WIT does not have, and the allow-list does not permit that one.
    #[error(
        "`{instance}` is granted `{import}`, which it declares uses types of `{dependency}`; \
         airlock knows no such dependency in WASI's own WIT, and granting `{import}` would hand \
         `{dependency}` to `{instance}` from the host: grant `{dependency}` to `{instance}` \
         too if that is intended"
    )]
    UndeclaredDependency {
        /// The instance.
        instance: String,
        /// The granted import.
        import: String,
        /// The interface it claims to use types of.
        dependency: String,
    },
    /// A WASI interface (on the track compiled into the composer) declares a
    /// `use` that WASI's own WIT does not have: a forged type dependency.
    #[error(
        "`{instance}` declares that `{import}` uses type `{ty}` of `{dependency}`, which WASI's \
         own `{import}` does not (at its semver track); the component's WIT is forged or \
         mismatched, and it is refused"
    )]
    ForgedUse {
        /// The instance.
        instance: String,
        /// The interface that declares the `use`.
        import: String,
        /// The interface it claims to use types of.
        dependency: String,
        /// The type it takes from there.
        ty: String,
    },
    /// A WASI interface that a granted one needs from the host declares
    /// functions WASI's own WIT does not have (at its semver track).
    #[error(
        "`{instance}` declares functions in `{import}` that WASI's own `{import}` does not \
         have: {}; it would reach `{import}` of the host, where the output merges every \
         component's declaration of it: the component's WIT is forged or newer than \
         airlock knows, and it is refused",
        quoted(.functions, ", ")
    )]
    ForgedFunctions {
        /// The instance.
        instance: String,
        /// The interface.
        import: String,
        /// The functions WASI does not have.
        functions: Vec<String>,
    },
    /// Interfaces use each other's types in a cycle (possible only when
    /// components declare the same names differently).
    #[error(
        "interfaces use each other's types in a cycle: {} (as declared by {})",
        quoted(.interfaces, " -> "),
        quoted(.declared_by, ", ")
    )]
    UseCycle {
        /// The interfaces, in order, the first repeated at the end.
        interfaces: Vec<String>,
        /// The instances whose declarations make the cycle.
        declared_by: Vec<String>,
    },
    /// A pattern that matches no interface of any component and no WASI
    /// interface the composer knows: a typo.
    #[error(
        "{} has `{}`, which matches no interface of any component and no WASI \
         interface airlock knows{}",
        .0.place,
        .0.pattern,
        did_you_mean(.0.suggestion.as_deref())
    )]
    UnknownPattern(crate::typos::UnknownPattern),
    /// An explicitly denied interface that a granted one needs from the host.
    #[error(
        "`{instance}` is granted `{of}`, which uses types of `{import}`, but `{import}` is denied \
         explicitly; the host must provide both or neither: remove the deny or narrow the grant"
    )]
    DeniedDependency {
        /// The instance.
        instance: String,
        /// The denied interface.
        import: String,
        /// The granted interface that uses its types.
        of: String,
    },
    /// An exported function that uses a type at the top level of its world
    /// that is denied, so defined inside the output.
    #[error(
        "`{instance}` exports `{export}`, which uses `{ty}`, a type at the top level of its \
         world that is denied and so defined inside the output; airlock does not export a \
         function whose type is defined inside the output (the output would not validate): \
         do not re-export `{instance}`"
    )]
    WorldTypeExport {
        /// The exporting instance.
        instance: String,
        /// The exported function.
        export: String,
        /// The denied world type it uses.
        ty: String,
    },
    /// A slice whose interposer serves WASI 0.2 only, on a library that
    /// imports the WASI 0.3 interface it would narrow.
    #[error(
        "`{instance}` imports `{import}` (WASI 0.3), which its `{key}` slice cannot narrow: \
         the `{key}` slice serves WASI 0.2 only for now; remove `{key}` and grant the \
         interface whole (`grant = [\"{import}\"]`) or leave it denied"
    )]
    SliceOnlyOnWasi02 {
        /// The instance.
        instance: String,
        /// The WASI 0.3 import.
        import: String,
        /// The manifest key of the slice (`files`, `sockets`, `clock`).
        key: String,
    },
    /// Components import each other in a cycle.
    #[error(
        "components import each other in a cycle: {}",
        quoted(.instances, " -> ")
    )]
    Cycle {
        /// The instances in the cycle, in order.
        instances: Vec<String>,
    },
}

/// The policy cannot be met: every problem found, in a stable order.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the policy cannot be met:\n{}", bullets(.0))]
pub struct PolicyError(pub Vec<Problem>);

/// `items` in backticks, joined by `separator`.
fn quoted(items: &[String], separator: &str) -> String {
    items
        .iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(separator)
}

/// Each problem on a line of its own, as a list item.
fn bullets(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `; did you mean `S`?` for a suggestion, nothing without one.
fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default()
}

/// The pattern that allows `import` on its semver track: `wasi:cli/stdout@0.2`
/// for `wasi:cli/stdout@0.2.6`, `a:b/c@1` for `a:b/c@1.4.0`.
fn track_pattern(import: &str) -> String {
    let Some(name) = InterfaceName::parse(import) else {
        return import.to_string();
    };
    match &name.version {
        Some(v) if !v.pre.is_empty() => name.to_string(),
        Some(v) if v.major == 0 && v.minor == 0 => name.to_string(),
        Some(v) if v.major == 0 => format!("{}@0.{}", name.unversioned(), v.minor),
        Some(v) => format!("{}@{}", name.unversioned(), v.major),
        None => name.unversioned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::typos::UnknownPattern;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn unsatisfied() {
        let p = Problem::Unsatisfied {
            instance: "app".into(),
            import: "test:lib/api@0.1.0".into(),
        };
        assert_eq!(
            p.to_string(),
            "`app` imports `test:lib/api@0.1.0`, which no component exports and which is not \
             WASI; add a component that exports it, or deny it explicitly (`deny = \
             [\"test:lib/api@0.1.0\"]` under [components.app], or `--deny test:lib/api@0.1.0`)"
        );
    }

    #[test]
    fn ambiguous() {
        let p = Problem::Ambiguous {
            instance: "app".into(),
            import: "test:lib/api@0.1.0".into(),
            candidates: strings(&["lib-a", "lib-b"]),
        };
        assert_eq!(
            p.to_string(),
            "`app` imports `test:lib/api@0.1.0`, which several components export: `lib-a`, \
             `lib-b`; choose one with `wire = { \"test:lib/api@0.1.0\" = \"NAME\" }` under \
             [components.app]"
        );
    }

    #[test]
    fn grant_not_allowed_suggests_the_semver_track() {
        let p = Problem::GrantNotAllowed {
            instance: "lib".into(),
            import: "wasi:sockets/tcp@0.2.12".into(),
            grant: "wasi:sockets/*".into(),
        };
        assert_eq!(
            p.to_string(),
            "`lib` is granted `wasi:sockets/tcp@0.2.12` (by `wasi:sockets/*`), but the \
             allow-list does not permit it; add `\"wasi:sockets/tcp@0.2\"` to `[allow] \
             interfaces` (or `--allow wasi:sockets/tcp@0.2`), or narrow the grant"
        );
    }

    #[test]
    fn track_patterns() {
        for (import, pattern) in [
            ("wasi:cli/stdout@0.2.6", "wasi:cli/stdout@0.2"),
            ("a:b/c@1.4.0", "a:b/c@1"),
            ("a:b/c@0.0.3", "a:b/c@0.0.3"),
            (
                "wasi:cli/stdout@0.3.0-rc-2026-03-15",
                "wasi:cli/stdout@0.3.0-rc-2026-03-15",
            ),
            ("a:b/c", "a:b/c"),
            ("not an interface", "not an interface"),
        ] {
            assert_eq!(track_pattern(import), pattern, "{import}");
        }
    }

    #[test]
    fn wire_mismatch() {
        let p = Problem::WireMismatch {
            instance: "app".into(),
            import: "test:lib/api@0.1.0".into(),
            target: "lib".into(),
        };
        assert_eq!(
            p.to_string(),
            "`app` wires `test:lib/api@0.1.0` to `lib`, which does not export a compatible \
             `test:lib/api@0.1.0`"
        );
    }

    #[test]
    fn type_import() {
        let p = Problem::TypeImport {
            instance: "lib".into(),
            import: "r".into(),
        };
        assert_eq!(
            p.to_string(),
            "`lib` imports `r`, a type at the top level of its world (a `use` or `resource` in \
             the world itself); airlock does not link or grant such types, it only denies them: \
             deny it explicitly (`deny = [\"r\"]` under [components.lib], or `--deny r`) with \
             the functions that use it"
        );
    }

    #[test]
    fn plain_mismatch() {
        let p = Problem::PlainMismatch {
            instance: "app".into(),
            import: "thing-in".into(),
            provider: "lib".into(),
            difference: "`func(x: u32)` there, `func(x: string)` here".into(),
        };
        assert_eq!(
            p.to_string(),
            "`app` imports `thing-in`, which `lib` exports with another type (`func(x: u32)` \
             there, `func(x: string)` here); only an export of the same type can serve it: make \
             them match, or deny it explicitly (`deny = [\"thing-in\"]` under [components.app], \
             or `--deny thing-in`)"
        );
    }

    #[test]
    fn shared_dependency() {
        let p = Problem::SharedDependency {
            instance: "app".into(),
            import: "test:lib/pipe@1.0.0".into(),
            provider: "lib".into(),
            dependency: "wasi:io/error@0.2.12".into(),
        };
        assert_eq!(
            p.to_string(),
            "`app` imports `test:lib/pipe@1.0.0` from `lib`, whose types come from \
             `wasi:io/error@0.2.12`, but `app` and `lib` do not get `wasi:io/error@0.2.12` from \
             the same place (each instance's denials are its own); grant `wasi:io/error@0.2.12` \
             to both (and allow it)"
        );
    }

    #[test]
    fn unnamed_export_type() {
        let p = Problem::UnnamedExportType {
            instance: "app".into(),
            export: "test:app/geo@1.0.0".into(),
            missing: "test:shapes/types@1.0.0.kind".into(),
        };
        assert_eq!(
            p.to_string(),
            "`app` exports `test:app/geo@1.0.0`, which `use`s a type that refers to \
             `test:shapes/types@1.0.0.kind` from an interface satisfied inside the output (by \
             another component or a denial); the output cannot export `test:app/geo@1.0.0` that \
             way (it exports such an interface beside only when it is denied or holds types \
             alone, so that no component's functions are exposed): grant that interface to \
             `app` (and allow it), or do not re-export `app`"
        );
    }

    #[test]
    fn host_dependency() {
        let p = Problem::HostDependency {
            instance: "app".into(),
            import: "test:res/api@1.0.0".into(),
            dependency: "test:res/types@1.0.0".into(),
        };
        assert_eq!(
            p.to_string(),
            "`app` gets `test:res/api@1.0.0` from the host, whose types come from \
             `test:res/types@1.0.0`, but `app` gets `test:res/types@1.0.0` inside the output \
             (from a component or a denial); the two must come from the same place: do not \
             grant `test:res/api@1.0.0`, or have `test:res/types@1.0.0` come from the host too"
        );
    }

    #[test]
    fn virtual_not_denied() {
        let p = Problem::VirtualNotDenied {
            instance: "telemetry".into(),
            import: "wasi:cli/environment@0.2.12".into(),
            key: "env".into(),
            fate: "granted (by `wasi:cli/environment`)".into(),
        };
        assert_eq!(
            p.to_string(),
            "`telemetry` is given virtual values (`env`) for `wasi:cli/environment@0.2.12`, \
             which is granted (by `wasi:cli/environment`); virtual values only serve imports \
             that are not granted: remove `env` or the grant under [components.telemetry]"
        );
    }

    #[test]
    fn undeclared_dependency() {
        let p = Problem::UndeclaredDependency {
            instance: "lib".into(),
            import: "my:kv/store@1.0.0".into(),
            dependency: "my:kv/types@1.0.0".into(),
        };
        assert_eq!(
            p.to_string(),
            "`lib` is granted `my:kv/store@1.0.0`, which it declares uses types of \
             `my:kv/types@1.0.0`; airlock knows no such dependency in WASI's own WIT, and \
             granting `my:kv/store@1.0.0` would hand `my:kv/types@1.0.0` to `lib` from the \
             host: grant `my:kv/types@1.0.0` to `lib` too if that is intended"
        );
    }

    #[test]
    fn forged_use() {
        let p = Problem::ForgedUse {
            instance: "evil".into(),
            import: "wasi:clocks/wall-clock@0.2.0".into(),
            dependency: "wasi:cli/environment@0.2.0".into(),
            ty: "datetime".into(),
        };
        assert_eq!(
            p.to_string(),
            "`evil` declares that `wasi:clocks/wall-clock@0.2.0` uses type `datetime` of \
             `wasi:cli/environment@0.2.0`, which WASI's own `wasi:clocks/wall-clock@0.2.0` does \
             not (at its semver track); the component's WIT is forged or mismatched, and it is \
             refused"
        );
    }

    #[test]
    fn forged_functions() {
        let p = Problem::ForgedFunctions {
            instance: "evil".into(),
            import: "wasi:io/streams@0.2.0".into(),
            functions: strings(&["get-environment", "exit"]),
        };
        assert_eq!(
            p.to_string(),
            "`evil` declares functions in `wasi:io/streams@0.2.0` that WASI's own \
             `wasi:io/streams@0.2.0` does not have: `get-environment`, `exit`; it would reach \
             `wasi:io/streams@0.2.0` of the host, where the output merges every component's \
             declaration of it: the component's WIT is forged or newer than airlock knows, and \
             it is refused"
        );
    }

    #[test]
    fn use_cycle() {
        let p = Problem::UseCycle {
            interfaces: strings(&["a:b/x@1.0.0", "a:b/y@1.0.0", "a:b/x@1.0.0"]),
            declared_by: strings(&["one", "two"]),
        };
        assert_eq!(
            p.to_string(),
            "interfaces use each other's types in a cycle: `a:b/x@1.0.0` -> `a:b/y@1.0.0` -> \
             `a:b/x@1.0.0` (as declared by `one`, `two`)"
        );
    }

    #[test]
    fn unknown_pattern_with_and_without_a_suggestion() {
        let typo = |suggestion: Option<&str>| {
            Problem::UnknownPattern(UnknownPattern {
                place: "`grant` of `app`".into(),
                pattern: "wasi:cli/stduot".into(),
                suggestion: suggestion.map(String::from),
            })
        };
        let text = "`grant` of `app` has `wasi:cli/stduot`, which matches no interface of any \
                    component and no WASI interface airlock knows";
        assert_eq!(typo(None).to_string(), text);
        assert_eq!(
            typo(Some("wasi:cli/stdout")).to_string(),
            format!("{text}; did you mean `wasi:cli/stdout`?")
        );
    }

    #[test]
    fn denied_dependency() {
        let p = Problem::DeniedDependency {
            instance: "lib".into(),
            import: "wasi:io/streams@0.2.12".into(),
            of: "wasi:cli/stdout@0.2.12".into(),
        };
        assert_eq!(
            p.to_string(),
            "`lib` is granted `wasi:cli/stdout@0.2.12`, which uses types of \
             `wasi:io/streams@0.2.12`, but `wasi:io/streams@0.2.12` is denied explicitly; the \
             host must provide both or neither: remove the deny or narrow the grant"
        );
    }

    #[test]
    fn cycle() {
        let p = Problem::Cycle {
            instances: strings(&["a", "b", "a"]),
        };
        assert_eq!(
            p.to_string(),
            "components import each other in a cycle: `a` -> `b` -> `a`"
        );
    }

    #[test]
    fn policy_error_lists_every_problem() {
        let e = PolicyError(vec![
            Problem::TypeImport {
                instance: "lib".into(),
                import: "foo".into(),
            },
            Problem::Cycle {
                instances: strings(&["a", "b", "a"]),
            },
        ]);
        assert_eq!(
            e.to_string(),
            "the policy cannot be met:\n  - `lib` imports `foo`, a type at the top level of its \
             world (a `use` or `resource` in the world itself); airlock does not link or grant \
             such types, it only denies them: deny it explicitly (`deny = [\"foo\"]` under \
             [components.lib], or `--deny foo`) with the functions that use it\n  - components \
             import each other in a cycle: `a` -> `b` -> `a`"
        );
    }
}
