//! `env-from-host = ["LANG"]`: `wasi:cli/environment` from the host, narrowed
//! to the named variables, plus the fixed `env`, `args` and `cwd` values
//! beside it (they then live in the interposer's settings rather than in a
//! denial stub). Settings: `host NAME`, `set NAME=VALUE`, `arg VALUE`, `cwd PATH`.
//!
//! Variable names, of `env-from-host` and of the fixed `env` pairs alike,
//! are [`airlock_slice_settings::EnvName`]s (not empty, no `=`, no NUL),
//! checked here also when there is no `env-from-host` and the fixed values
//! are virtual values served inside the output.

use super::{Interposer, SliceError, Slices};
use crate::manifest::ComponentSpec;
use airlock_slice_settings::{EnvSettings, Slice, SliceKind};

/// `composer/interposers/env`, prebuilt (`just interposers`).
const WASM: &[u8] = include_bytes!("../../../../interposers/env.wasm");

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
    out.interposers.push(Interposer {
        kind: SliceKind::Env.as_str(),
        wasm: WASM,
        wires: vec!["wasi:cli/environment"],
        grants: vec!["wasi:cli/environment"],
        library_grants: Vec::new(),
        config: settings.lines(),
        summary,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifest;
    use std::path::Path;

    fn slices(keys: &str) -> Result<Slices, SliceError> {
        let text =
            format!("[output]\nroot = \"lib\"\n\n[components.lib]\npath = \"lib.wasm\"\n{keys}\n");
        let mut m = Manifest::parse(&text, Path::new("airlock.toml")).unwrap();
        let c = m.components.remove("lib").unwrap();
        let mut out = Slices::default();
        add(&c, &mut out).map(|()| out)
    }

    #[test]
    fn host_names_and_fixed_values_become_settings() {
        let s = slices(
            "env-from-host = [\"LANG\"]\nenv = { LOG = \"a=b\" }\nargs = [\"x y\"]\ncwd = \"/w\"",
        )
        .unwrap();
        let i = &s.interposers[0];
        assert_eq!(i.config, ["host LANG", "set LOG=a=b", "arg x y", "cwd /w"]);
        assert_eq!(
            i.summary.to_string(),
            "env LANG (host), env LOG=a=b (fixed), args [\"x y\"] (fixed), cwd /w (fixed)"
        );
        // Virtual values alone need no interposer.
        assert_eq!(slices("env = { LOG = \"a\" }").unwrap(), Slices::default());
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
