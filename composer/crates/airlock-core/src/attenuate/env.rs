//! `env-from-host = ["LANG"]`: `wasi:cli/environment` (WASI 0.2 or 0.3) from
//! the host, narrowed to the named variables, plus the fixed `env`, `args`
//! and `cwd` values beside it (they then live in the interposer's settings
//! rather than in a denial stub). Settings: `host NAME`, `set NAME=VALUE`,
//! `arg VALUE`, `cwd PATH`.
//!
//! Variable names, of `env-from-host` and of the fixed `env` pairs alike,
//! are [`airlock_slice_settings::EnvName`]s (not empty, no `=`, no NUL),
//! checked here also when there is no `env-from-host` and the fixed values
//! are virtual values served inside the output.

use super::{Interposer, SliceError, Slices};
use crate::manifest::ComponentSpec;
use airlock_slice_settings::{EnvSettings, Slice, SliceKind};

/// `composer/interposers/env`, prebuilt (`just interposers`): WASI 0.2.
const WASM: &[u8] = include_bytes!("../../../../interposers/env.wasm");

/// `composer/interposers/env3`, prebuilt likewise: the same filter on WASI 0.3.
const WASM3: &[u8] = include_bytes!("../../../../interposers/env3.wasm");

pub(super) fn add(c: &ComponentSpec, out: &mut Slices) -> Result<(), SliceError> {
    let settings = EnvSettings::from_manifest(
        c.env_from_host.as_deref().unwrap_or_default(),
        c.env
            .iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.as_str())),
        c.args.as_deref().unwrap_or_default(),
        c.cwd.as_deref(),
    )
    .map_err(|e| SliceError::new(e.key, e.to_string()))?;
    // Without `env-from-host` the fixed values are virtual values (see
    // `virtualize::virtuals`): checked above, served without an interposer.
    if c.env_from_host.is_none() {
        return Ok(());
    }
    let summary = Slice::Env {
        host: settings.host.clone(),
        fixed: c
            .env
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        args: c.args.clone(),
        cwd: c.cwd.clone(),
    };
    // One interposer per WASI version, each serving only its own (`@0.3`
    // never matches a `0.3.0-rc-*` pre-release); `attenuate::keep_used`
    // drops the one the library does not import.
    for (kind, wasm, interface) in [
        (SliceKind::Env.as_str(), WASM, "wasi:cli/environment@0.2"),
        ("env3", WASM3, "wasi:cli/environment@0.3"),
    ] {
        out.interposers.push(Interposer {
            kind,
            wasm,
            wires: vec![interface],
            grants: vec![interface],
            library_grants: Vec::new(),
            config: settings.lines(),
            summary: summary.clone(),
        });
    }
    // 0.3's pre-releases (`0.3.0-rc-*`, which toolchains still emit) are
    // served by neither: denied, so that no wider grant hands them the
    // host's whole environment.
    out.denies.push((ENV_RC, "env-from-host"));
    Ok(())
}

/// `wasi:cli/environment` of 0.3's pre-releases, denied beside the slice.
const ENV_RC: &str = "wasi:cli/environment@0.3.0-rc-*";

#[cfg(test)]
mod tests {
    use super::*;

    fn slices(keys: &str) -> Result<Slices, SliceError> {
        super::super::testing::slices(keys, add)
    }

    #[test]
    fn host_names_and_fixed_values_become_settings() {
        let s = slices(
            "env-from-host = [\"LANG\"]\nenv = { LOG = \"a=b\" }\nargs = [\"x y\"]\ncwd = \"/w\"",
        )
        .unwrap();
        // The same settings and audit line for WASI 0.2 and 0.3.
        assert_eq!(s.interposers.len(), 2);
        for i in &s.interposers {
            assert_eq!(i.config, ["host LANG", "set LOG=a=b", "arg x y", "cwd /w"]);
            assert_eq!(
                i.summary.to_string(),
                "env LANG (host), env LOG=a=b (fixed), args [\"x y\"] (fixed), cwd /w (fixed)"
            );
        }
        // Virtual values alone need no interposer.
        assert_eq!(slices("env = { LOG = \"a\" }").unwrap(), Slices::default());
    }

    /// Each interposer serves and is granted its own WASI version only.
    #[test]
    fn one_interposer_per_wasi_version() {
        use crate::names::InterfaceName;
        use crate::policy::Pattern;
        let s = slices("env-from-host = [\"LANG\"]").unwrap();
        let [v2, v3] = &s.interposers[..] else {
            panic!("{:?}", s.interposers);
        };
        assert_eq!((v2.kind, v3.kind), ("env", "env3"));
        assert_eq!(v2.wasm, WASM);
        assert_eq!(v3.wasm, WASM3);
        let serves = |i: &Interposer, name: &str| {
            let name = InterfaceName::parse(name).unwrap();
            let matches = |p: &&str| p.parse::<Pattern>().unwrap().matches(&name);
            (i.wires.iter().any(matches), i.grants.iter().any(matches))
        };
        for (name, by_v2, by_v3) in [
            ("wasi:cli/environment@0.2.0", true, false),
            ("wasi:cli/environment@0.2.12", true, false),
            ("wasi:cli/environment@0.3.0", false, true),
            ("wasi:cli/environment@0.3.1", false, true),
            ("wasi:cli/environment@0.3.0-rc-2026-03-15", false, false),
            ("wasi:cli/environment@0.4.0", false, false),
            ("wasi:cli/stdout@0.3.0", false, false),
        ] {
            assert_eq!(serves(v2, name), (by_v2, by_v2), "{name}");
            assert_eq!(serves(v3, name), (by_v3, by_v3), "{name}");
        }
        // The pre-releases neither serves are denied (a denial wins over grants).
        assert_eq!(s.denies, [(ENV_RC, "env-from-host")]);
        let denied = |name: &str| {
            let name = InterfaceName::parse(name).unwrap();
            s.denies
                .iter()
                .any(|(p, _)| p.parse::<Pattern>().unwrap().matches(&name))
        };
        assert!(denied("wasi:cli/environment@0.3.0-rc-2026-03-15"));
        assert!(!denied("wasi:cli/environment@0.3.0"));
        assert!(!denied("wasi:cli/environment@0.2.12"));
        // Fixed values alone deny nothing.
        assert!(slices("env = { A = \"b\" }").unwrap().denies.is_empty());
    }

    /// Disagreement D2 of `airlock-slice-settings`' `WIRING.md`: fixed names
    /// are checked as host names are, with or without `env-from-host`.
    #[test]
    fn bad_names_are_refused_under_their_key() {
        for (keys, key, name) in [
            ("env-from-host = [\"A=B\"]", "env-from-host", "A=B"),
            ("env-from-host = [\"\"]", "env-from-host", ""),
            (
                "env-from-host = [\"A\"]\nenv = { \"A=B\" = \"c\" }",
                "env",
                "A=B",
            ),
            ("env = { \"A=B\" = \"c\" }", "env", "A=B"),
            ("env = { \"\" = \"c\" }", "env", ""),
            ("env = { \"a\\u0000b\" = \"c\" }", "env", "a\0b"),
        ] {
            let err = slices(keys).unwrap_err();
            assert_eq!(
                (err.key, err.message),
                (key, format!("`{name}` is not a variable name")),
                "{keys}"
            );
        }
    }
}
