//! WASI 0.3.0 as a first-class family (issue 13, item 1): components built
//! here from WIT importing 0.3 interfaces (the ratified WIT vendored in
//! `wit/deps-0.3`, and `0.3.0-rc-…` copies of it made here) get their
//! families in the audit, are matched by patterns on the 0.3 track (never an rc
//! unless the pattern names one), pass the allow-list verification with their
//! type dependencies, get types-only views on 0.3 names, and cannot forge a
//! `use` across tracks.
//!
//! Only synchronous 0.3 functions are denied here: deny stubs for `async`
//! functions, streams and futures are items 2-3 of the issue.

use airlock_core::error::Error;
use airlock_core::inspect::Family;
use airlock_core::plan::{DenyReason, Fate, ImportPlan, Problem};
use airlock_core::policy::PatternSet;
use airlock_core::spec::CompositionSpec;
use airlock_core::verify;
use airlock_tests::{import_names, workspace};
use std::path::{Path, PathBuf};
use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::{ManglingAndAbi, Resolve, SourceMap};

/// The WASI 0.3.0 packages of `wit/deps-0.3`, in dependency order.
const PACKAGES_03: [&str; 6] = ["clocks", "random", "filesystem", "sockets", "cli", "http"];

/// An rc that toolchains emit.
const RC: &str = "0.3.0-rc-2026-03-15";

/// Which WASI packages a test component's WIT may `use`.
#[derive(Clone, Copy)]
struct Deps<'a> {
    /// The 0.2 packages of `wit/deps`.
    v02: bool,
    /// The first `n` 0.3 packages of [`PACKAGES_03`] at `version` (0.3.0,
    /// or an rc: the vendored text with its versions rewritten).
    v03: usize,
    version: &'a str,
}

const ONLY_03: Deps = Deps {
    v02: false,
    v03: 6,
    version: "0.3.0",
};

/// A resolve holding the WASI packages `deps` asks for.
fn resolve(deps: Deps) -> Resolve {
    let mut resolve = if deps.v02 {
        airlock_core::testkit::wasi_resolve(&workspace().join("wit/deps")).unwrap()
    } else {
        Resolve::default()
    };
    // `clocks-timezone` is `@unstable` in 0.3.0.
    resolve.all_features = true;
    for pkg in &PACKAGES_03[..deps.v03] {
        let dir = workspace().join("wit/deps-0.3").join(pkg);
        let mut map = SourceMap::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let text = text.replace("0.3.0", deps.version);
            map.push_str(&path.display().to_string(), text);
        }
        let group = map.parse().map_err(|(_, e)| e).unwrap();
        resolve.push_group(group).unwrap();
    }
    resolve
}

/// A component (trapping code) for the single world of `wit`.
fn component(wit: &str, deps: Deps) -> Vec<u8> {
    let mut resolve = resolve(deps);
    let pkg = resolve
        .push_str("case.wit", wit)
        .unwrap_or_else(|e| panic!("{e:#}\n{wit}"));
    let world = resolve.select_world(&[pkg], None).unwrap();
    let mut module = wit_component::dummy_module(&resolve, world, ManglingAndAbi::Standard32);
    wit_component::embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8)
        .unwrap();
    ComponentEncoder::default()
        .module(&module)
        .unwrap()
        .validate(true)
        .encode()
        .unwrap()
}

/// A library component `name.wasm` in `dir` importing `imports`, exporting a
/// function.
fn library(dir: &Path, name: &str, imports: &[&str], deps: Deps, packages: &str) -> PathBuf {
    let wit = format!(
        "package test:{name}@0.1.0;\nworld lib {{\n{}  export api: interface {{ go: func(); }}\n}}\n{packages}\n",
        imports
            .iter()
            .map(|i| format!("  import {i};\n"))
            .collect::<String>(),
    );
    let path = dir.join(format!("{name}.wasm"));
    std::fs::write(&path, component(&wit, deps)).unwrap();
    path
}

fn spec(root: &Path, allow: &[&str]) -> CompositionSpec {
    let allow: Vec<String> = allow.iter().map(|s| s.to_string()).collect();
    CompositionSpec::from_plugs(root, &[], &allow, &[], &[]).unwrap()
}

fn composes(spec: &CompositionSpec) -> airlock_core::pipeline::Composed {
    airlock_core::pipeline::compose(spec).unwrap_or_else(|e| panic!("refused: {e}"))
}

fn refused(spec: &CompositionSpec) -> Vec<Problem> {
    match airlock_core::pipeline::compose(spec) {
        Err(Error::Policy(e)) => e.0,
        Err(other) => panic!("refused, but not as a policy error: {other}"),
        Ok(c) => panic!("composed; its audit:\n{}", c.report.to_text()),
    }
}

/// The plan of the root's import whose name starts with `prefix`.
fn import<'a>(composed: &'a airlock_core::pipeline::Composed, prefix: &str) -> &'a ImportPlan {
    let root = &composed.report.plan.instances[0];
    root.imports
        .iter()
        .find(|i| i.name.starts_with(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` in:\n{}", composed.report.to_text()))
}

/// Synchronous 0.3 interfaces: deny stubs can stand in for them today.
const SYNC_03: [&str; 7] = [
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:clocks/system-clock",
    "wasi:clocks/timezone",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
];

fn at(names: &[&str], version: &str) -> Vec<String> {
    names.iter().map(|n| format!("{n}@{version}")).collect()
}

#[test]
fn a_03_library_composes_deny_all_with_its_families_in_the_audit() {
    let dir = tempfile::tempdir().unwrap();
    let imports = at(&SYNC_03, "0.3.0");
    let imports: Vec<&str> = imports.iter().map(String::as_str).collect();
    let lib = library(dir.path(), "sync03", &imports, ONLY_03, "");
    let composed = composes(&spec(&lib, &[]));
    let audit = composed.report.to_text();
    for (name, family) in [
        ("wasi:cli/environment@0.3.0", Family::Environment),
        ("wasi:cli/exit@0.3.0", Family::Exit),
        ("wasi:clocks/system-clock@0.3.0", Family::Clocks),
        ("wasi:clocks/timezone@0.3.0", Family::Clocks),
        ("wasi:clocks/types@0.3.0", Family::Clocks),
        ("wasi:random/insecure-seed@0.3.0", Family::Random),
    ] {
        let plan = import(&composed, name);
        assert_eq!(plan.name, name);
        assert_eq!(plan.family, family, "{name}\n{audit}");
        let row = audit
            .lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no row for {name}:\n{audit}"));
        assert!(row.contains(family.label()), "{row}\n{audit}");
    }
    // Everything denied (a library, not a program: its exit too).
    for name in SYNC_03 {
        assert!(
            matches!(
                import(&composed, name).fate,
                Fate::Denied {
                    reason: DenyReason::Default,
                    ..
                }
            ),
            "{name}\n{audit}"
        );
    }
    assert!(import_names(&composed.bytes).unwrap().is_empty(), "{audit}");
    verify::check(&composed.bytes, &spec(&lib, &[])).unwrap();
}

#[test]
fn allow_patterns_match_the_03_track_and_name_its_type_dependencies() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(
        dir.path(),
        "clock03",
        &["wasi:clocks/system-clock@0.3.0", "wasi:random/random@0.3.0"],
        ONLY_03,
        "",
    );
    // `@0.3` matches 0.3.0; its `use` of `wasi:clocks/types` comes along.
    let allowed = composes(&spec(&lib, &["wasi:clocks/system-clock@0.3"]));
    let audit = allowed.report.to_text();
    assert!(
        matches!(import(&allowed, "wasi:clocks/system-clock@").fate, Fate::Granted { ref grant } if grant == "wasi:clocks/system-clock@0.3"),
        "{audit}"
    );
    assert!(
        matches!(import(&allowed, "wasi:clocks/types@").fate, Fate::GrantedDependency { ref of } if of == "wasi:clocks/system-clock@0.3.0"),
        "{audit}"
    );
    assert!(
        matches!(
            import(&allowed, "wasi:random/random@").fate,
            Fate::Denied { .. }
        ),
        "{audit}"
    );
    let mut imports = import_names(&allowed.bytes).unwrap();
    imports.sort();
    assert_eq!(
        imports,
        ["wasi:clocks/system-clock@0.3.0", "wasi:clocks/types@0.3.0"],
        "{audit}"
    );
    // The verifier says why each output import is there.
    let allow = PatternSet::parse(&["wasi:clocks/system-clock@0.3"]).unwrap();
    let verified = verify::check_output(&allowed.bytes, &allow).unwrap();
    assert_eq!(
        verified.0["wasi:clocks/system-clock@0.3.0"],
        "allowed by `wasi:clocks/system-clock@0.3`"
    );
    assert_eq!(
        verified.0["wasi:clocks/types@0.3.0"],
        "type dependency of `wasi:clocks/system-clock`"
    );
    // A 0.2 pattern does not match 0.3.0: the clock is denied.
    let other_track = composes(&spec(&lib, &["wasi:clocks/system-clock@0.2"]));
    assert!(
        matches!(
            import(&other_track, "wasi:clocks/system-clock@").fate,
            Fate::Denied { .. }
        ),
        "{}",
        other_track.report.to_text()
    );
    assert!(import_names(&other_track.bytes).unwrap().is_empty());
    // And the allow-list check refuses the granted output under it.
    let strict = PatternSet::parse(&["wasi:clocks/system-clock@0.2"]).unwrap();
    match verify::check_output(&allowed.bytes, &strict) {
        Err(verify::VerifyError::OutsideAllowList(mut names)) => {
            names.sort();
            assert_eq!(
                names,
                ["wasi:clocks/system-clock@0.3.0", "wasi:clocks/types@0.3.0"]
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn release_candidates_match_only_patterns_that_name_them() {
    let dir = tempfile::tempdir().unwrap();
    let rc_deps = Deps {
        version: RC,
        ..ONLY_03
    };
    let lib = library(
        dir.path(),
        "clockrc",
        &[&format!("wasi:clocks/system-clock@{RC}")],
        rc_deps,
        "",
    );
    for pattern in ["wasi:clocks/system-clock@0.3", "wasi:clocks/*@0.3.*"] {
        let composed = composes(&spec(&lib, &[pattern]));
        assert!(
            matches!(
                import(&composed, "wasi:clocks/system-clock@").fate,
                Fate::Denied { .. }
            ),
            "{pattern}: {}",
            composed.report.to_text()
        );
        assert!(
            import_names(&composed.bytes).unwrap().is_empty(),
            "{pattern}"
        );
    }
    for pattern in [
        "wasi:clocks/system-clock@0.3.0-rc-*",
        "wasi:clocks/system-clock@=0.3.0-rc-2026-03-15",
        "wasi:clocks/system-clock",
        "wasi:clocks/*@=0.3.0-rc-2026-03-15",
    ] {
        let composed = composes(&spec(&lib, &[pattern]));
        let audit = composed.report.to_text();
        assert!(
            matches!(
                import(&composed, "wasi:clocks/system-clock@").fate,
                Fate::Granted { .. }
            ),
            "{pattern}: {audit}"
        );
        let types = &import(&composed, "wasi:clocks/types@").fate;
        if pattern.starts_with("wasi:clocks/*") {
            assert!(matches!(types, Fate::Granted { .. }), "{pattern}: {audit}");
            continue;
        }
        // The rc's own `wasi:clocks/types`, as the 0.3.0 WIT says.
        assert!(
            matches!(types, Fate::GrantedDependency { .. }),
            "{pattern}: {audit}"
        );
        let mut imports = import_names(&composed.bytes).unwrap();
        imports.sort();
        assert_eq!(
            imports,
            [
                format!("wasi:clocks/system-clock@{RC}"),
                format!("wasi:clocks/types@{RC}")
            ],
            "{pattern}"
        );
        let allow = PatternSet::parse(&[pattern]).unwrap();
        let verified = verify::check_output(&composed.bytes, &allow).unwrap();
        assert_eq!(
            verified.0[&format!("wasi:clocks/types@{RC}")],
            "type dependency of `wasi:clocks/system-clock`"
        );
    }
}

#[test]
fn a_type_dependency_with_ambient_functions_is_types_only_on_03() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(
        dir.path(),
        "tz",
        &[
            "wasi:clocks/timezone@0.3.0",
            "wasi:clocks/system-clock@0.3.0",
        ],
        ONLY_03,
        "",
    );
    // Granted the time zone alone, the system clock is there for `instant`:
    // its `now` must not reach the library.
    let composed = composes(&spec(&lib, &["wasi:clocks/timezone@0.3"]));
    let audit = composed.report.to_text();
    assert!(
        matches!(import(&composed, "wasi:clocks/system-clock@").fate,
            Fate::Denied { reason: DenyReason::TypesOnly, of: Some(ref of), .. }
                if of == "wasi:clocks/timezone@0.3.0"),
        "{audit}"
    );
    assert!(
        audit.contains("types only (for `wasi:clocks/timezone@0.3.0`)"),
        "{audit}"
    );
    // The output imports the host's clock for its types (the time zone's
    // `instant` is the host's); the verifier checks what reaches the library.
    let mut imports = import_names(&composed.bytes).unwrap();
    imports.sort();
    assert_eq!(
        imports,
        [
            "wasi:clocks/system-clock@0.3.0",
            "wasi:clocks/timezone@0.3.0",
            "wasi:clocks/types@0.3.0"
        ]
    );
    let tz_only = spec(&lib, &["wasi:clocks/timezone@0.3"]);
    let verified = verify::check(&composed.bytes, &tz_only).unwrap();
    assert_eq!(
        verified.0["wasi:clocks/system-clock@0.3.0"],
        "type dependency of `wasi:clocks/timezone`"
    );

    // Granted the clock too, the library reads the time: the same bytes are
    // caught under the time-zone-only policy.
    let both = spec(
        &lib,
        &["wasi:clocks/timezone@0.3", "wasi:clocks/system-clock@0.3"],
    );
    let loose = composes(&both);
    match verify::check(&loose.bytes, &tz_only) {
        Err(verify::VerifyError::BeyondGrants(v)) => {
            let v: Vec<String> = v.iter().map(ToString::to_string).collect();
            assert_eq!(v.len(), 1, "{v:#?}");
            assert!(
                v[0].contains("`wasi:clocks/system-clock@0.3.0`")
                    && v[0].contains("functions that carry authority: get-resolution, now"),
                "{v:#?}"
            );
        }
        other => panic!("{other:?}"),
    }
}

/// `package wasi:clocks@0.2.12` as an attacker writes it: a wall clock whose
/// `datetime` is 0.3's `instant`, so that a grant of the 0.2 wall clock would
/// reach the 0.3 system clock as a "type dependency".
const FORGED_WALL_CLOCK_02: &str = "package wasi:clocks@0.2.12 {
  interface wall-clock {
    use wasi:clocks/system-clock@0.3.0.{instant};
    now: func() -> instant;
    resolution: func() -> instant;
  }
}";

#[test]
fn a_02_interface_forging_a_use_of_a_03_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let deps = Deps {
        v02: false,
        v03: 1,
        version: "0.3.0",
    };
    let lib = library(
        dir.path(),
        "forger",
        &[
            "wasi:clocks/wall-clock@0.2.12",
            "wasi:clocks/system-clock@0.3.0",
        ],
        deps,
        FORGED_WALL_CLOCK_02,
    );
    let problems = refused(&spec(&lib, &["wasi:clocks/wall-clock@0.2"]));
    assert!(
        problems.iter().any(|p| matches!(p,
            Problem::ForgedUse { import, dependency, ty, .. }
                if import == "wasi:clocks/wall-clock@0.2.12"
                    && dependency == "wasi:clocks/system-clock@0.3.0"
                    && ty == "instant")),
        "{problems:#?}"
    );
}

#[test]
fn a_03_interface_forging_a_use_of_a_02_or_rc_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // 0.3.0's time zone claiming 0.2's wall clock.
    let forged = "package wasi:clocks@0.3.0 {
  interface timezone {
    use wasi:clocks/wall-clock@0.2.12.{datetime};
    utc-offset: func(when: datetime) -> option<s64>;
  }
}";
    let deps = Deps {
        v02: true,
        v03: 0,
        version: "0.3.0",
    };
    let lib = library(
        dir.path(),
        "forger03",
        &[
            "wasi:clocks/timezone@0.3.0",
            "wasi:clocks/wall-clock@0.2.12",
        ],
        deps,
        forged,
    );
    let problems = refused(&spec(&lib, &["wasi:clocks/timezone@0.3"]));
    assert!(
        problems.iter().any(|p| matches!(p,
            Problem::ForgedUse { import, dependency, .. }
                if import == "wasi:clocks/timezone@0.3.0"
                    && dependency == "wasi:clocks/wall-clock@0.2.12")),
        "{problems:#?}"
    );

    // An rc's time zone claiming the release's system clock.
    let forged_rc = format!(
        "package wasi:clocks@{RC} {{
  interface timezone {{
    use wasi:clocks/system-clock@0.3.0.{{instant}};
    utc-offset: func(when: instant) -> option<s64>;
  }}
}}"
    );
    let deps = Deps {
        v02: false,
        v03: 1,
        version: "0.3.0",
    };
    let lib = library(
        dir.path(),
        "forgerrc",
        &[
            &format!("wasi:clocks/timezone@{RC}"),
            "wasi:clocks/system-clock@0.3.0",
        ],
        deps,
        &forged_rc,
    );
    let problems = refused(&spec(&lib, &["wasi:clocks/timezone@0.3.0-rc-*"]));
    assert!(
        problems.iter().any(|p| matches!(p,
            Problem::ForgedUse { import, dependency, .. }
                if *import == format!("wasi:clocks/timezone@{RC}")
                    && dependency == "wasi:clocks/system-clock@0.3.0")),
        "{problems:#?}"
    );
}

#[test]
fn a_component_mixing_02_and_03_keeps_each_on_its_track() {
    let dir = tempfile::tempdir().unwrap();
    let deps = Deps {
        v02: true,
        v03: 6,
        version: "0.3.0",
    };
    let lib = library(
        dir.path(),
        "mixed",
        &[
            "wasi:clocks/wall-clock@0.2.12",
            "wasi:clocks/system-clock@0.3.0",
            "wasi:random/random@0.2.12",
            "wasi:random/random@0.3.0",
        ],
        deps,
        "",
    );
    let composed = composes(&spec(&lib, &["wasi:clocks/*@0.3", "wasi:random/*@0.2"]));
    let audit = composed.report.to_text();
    let mut imports = import_names(&composed.bytes).unwrap();
    imports.sort();
    assert_eq!(
        imports,
        [
            "wasi:clocks/system-clock@0.3.0",
            "wasi:clocks/types@0.3.0",
            "wasi:random/random@0.2.12"
        ],
        "{audit}"
    );
    assert!(
        matches!(
            import(&composed, "wasi:clocks/wall-clock@").fate,
            Fate::Denied { .. }
        ),
        "{audit}"
    );
    assert!(
        matches!(
            import(&composed, "wasi:random/random@0.3").fate,
            Fate::Denied { .. }
        ),
        "{audit}"
    );
}

#[test]
fn resource_types_of_a_grant_stay_the_hosts_on_03() {
    let dir = tempfile::tempdir().unwrap();
    // `client.send` takes and returns `wasi:http/types` handles: those types
    // are the host's, not a types-only view.
    let lib = library(dir.path(), "http", &["wasi:http/client@0.3.0"], ONLY_03, "");
    let composed = composes(&spec(&lib, &["wasi:http/client@0.3"]));
    let audit = composed.report.to_text();
    assert!(
        matches!(import(&composed, "wasi:http/types@").fate,
            Fate::GrantedDependency { ref of } if of == "wasi:http/client@0.3.0"),
        "{audit}"
    );
    assert_eq!(
        import(&composed, "wasi:http/client@").family,
        Family::Network
    );
    let allow = PatternSet::parse(&["wasi:http/client@0.3"]).unwrap();
    let verified = verify::check_output(&composed.bytes, &allow).unwrap();
    assert_eq!(
        verified.0["wasi:http/types@0.3.0"],
        "type dependency of `wasi:http/client`"
    );

    // Files: the descriptor is the host's, the system clock (whose `instant`
    // `descriptor-stat` holds) a types-only view.
    let lib = library(
        dir.path(),
        "files",
        &[
            "wasi:filesystem/preopens@0.3.0",
            "wasi:clocks/system-clock@0.3.0",
        ],
        ONLY_03,
        "",
    );
    let files = spec(&lib, &["wasi:filesystem/*@0.3"]);
    let composed = composes(&files);
    let audit = composed.report.to_text();
    assert!(
        matches!(
            import(&composed, "wasi:filesystem/types@").fate,
            Fate::Granted { .. }
        ),
        "{audit}"
    );
    assert!(
        matches!(import(&composed, "wasi:clocks/system-clock@").fate,
            Fate::Denied { reason: DenyReason::TypesOnly, of: Some(ref of), .. }
                if of == "wasi:filesystem/types@0.3.0"),
        "{audit}"
    );
    verify::check(&composed.bytes, &files).unwrap();
}

#[test]
fn a_name_lookup_grant_does_not_hand_out_socket_creation() {
    // 0.3 creates sockets with `[static]tcp-socket.create` of
    // `wasi:sockets/types`, which `ip-name-lookup` uses (for `ip-address`):
    // granted the lookup alone, the library gets the sockets' types only.
    let dir = tempfile::tempdir().unwrap();
    let lib = library(
        dir.path(),
        "dns",
        &["wasi:sockets/ip-name-lookup@0.3.0"],
        ONLY_03,
        "",
    );
    match airlock_core::pipeline::compose(&spec(&lib, &["wasi:sockets/ip-name-lookup@0.3"])) {
        Ok(composed) => {
            let audit = composed.report.to_text();
            assert!(
                matches!(
                    import(&composed, "wasi:sockets/types@").fate,
                    Fate::Denied {
                        reason: DenyReason::TypesOnly,
                        ..
                    }
                ),
                "{audit}"
            );
        }
        // Until deny stubs support async methods (issue 13, items 2-3), the
        // types-only view cannot be built: refused, never granted.
        Err(e) => {
            let e = e.to_string();
            assert!(
                e.contains("cannot deny `wasi:sockets/types@0.3.0`") && e.contains("async"),
                "{e}"
            );
        }
    }
}

/// The allow-list check names each output import's reason on its own track:
/// `wasi:http/types@0.3.0` is no type dependency of an allowed
/// `wasi:http/outgoing-handler@0.2.12`, though `wasi:http/types@0.2.12` is.
#[test]
fn type_dependencies_of_the_allow_list_stay_on_their_track() {
    let deps = Deps {
        v02: true,
        v03: 6,
        version: "0.3.0",
    };
    let wit = "package test:cross@0.1.0;
world w {
  import wasi:http/outgoing-handler@0.2.12;
  import wasi:http/types@0.3.0;
}";
    let bytes = component(wit, deps);
    let allow = PatternSet::parse(&["wasi:http/outgoing-handler@0.2"]).unwrap();
    match verify::check_output(&bytes, &allow) {
        Err(verify::VerifyError::OutsideAllowList(mut names)) => {
            names.sort();
            assert_eq!(names, ["wasi:clocks/types@0.3.0", "wasi:http/types@0.3.0"])
        }
        other => panic!("{other:?}"),
    }
}
