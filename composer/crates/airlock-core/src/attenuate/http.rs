//! `http = ["GET *.example.com", "GET,POST 127.0.0.1:8080", "* api.example.com"]`:
//! `wasi:http/outgoing-handler` (WASI 0.2) or `wasi:http/client` (0.3) from
//! the host, narrowed to these rules; any other request is dropped inside the
//! output with `HTTP-request-denied`.
//!
//! A rule is `METHODS AUTHORITY` (e.g. `GET,POST *.example.com:8080`); its
//! grammar, checks and messages are [`airlock_slice_settings::http`]'s,
//! shared with the interposer that reads the rules back. A request without
//! authority, or with a scheme other than `http`/`https`, is denied.
//! Settings: `allow METHODS AUTHORITY`, one per rule.

use super::{Interposer, SliceError, Slices};
use crate::manifest::ComponentSpec;
use airlock_slice_settings::{HttpSettings, Slice, SliceKind};

/// `composer/interposers/http`, prebuilt (`just interposers`): WASI 0.2's
/// `wasi:http/outgoing-handler`.
const WASM: &[u8] = include_bytes!("../../../../interposers/http.wasm");

/// `composer/interposers/http3`, prebuilt likewise (`just build-async-probes`
/// builds it): WASI 0.3's `wasi:http/client`, same rules and matching.
const WASM3: &[u8] = include_bytes!("../../../../interposers/http3.wasm");

pub(super) fn add(c: &ComponentSpec, out: &mut Slices) -> Result<(), SliceError> {
    let Some(rules) = &c.http else {
        return Ok(());
    };
    let settings =
        HttpSettings::from_manifest(rules).map_err(|e| SliceError::new("http", e.to_string()))?;
    // One interposer per WASI version, each serving only its own (`@0.3`
    // never matches a `0.3.0-rc-*` pre-release); `attenuate::keep_used`
    // drops the one the library does not import.
    //
    // Requests and responses are `wasi:http/types` resources the library
    // creates and reads itself (on 0.2 their `wasi:io` streams and pollables
    // come along as type dependencies, on 0.3 `wasi:clocks/types`); the
    // interposer only decides on `handle` (0.2) or `send` (0.3).
    out.interposers.push(Interposer {
        kind: SliceKind::Http.as_str(),
        wasm: WASM,
        wires: vec!["wasi:http/outgoing-handler@0.2"],
        grants: vec!["wasi:http/outgoing-handler@0.2", "wasi:http/types@0.2"],
        library_grants: vec!["wasi:http/types@0.2"],
        config: settings.lines(),
        summary: Slice::Http(settings.clone()),
    });
    out.interposers.push(Interposer {
        kind: "http3",
        wasm: WASM3,
        wires: vec!["wasi:http/client@0.3"],
        grants: vec!["wasi:http/client@0.3", "wasi:http/types@0.3"],
        library_grants: vec!["wasi:http/types@0.3"],
        config: settings.lines(),
        summary: Slice::Http(settings),
    });
    // 0.3's pre-releases (`0.3.0-rc-*`, which toolchains still emit) are
    // served by neither: denied, so that no wider grant hands them the
    // host's client unfiltered.
    out.denies.push((CLIENT_RC, "http"));
    Ok(())
}

/// `wasi:http/client` of 0.3's pre-releases, denied beside the slice.
const CLIENT_RC: &str = "wasi:http/client@0.3.0-rc-*";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::InterfaceName;
    use crate::policy::Pattern;

    fn slices(keys: &str) -> Result<Slices, SliceError> {
        super::super::testing::slices(keys, add)
    }

    fn matches(patterns: &[&str], name: &str) -> bool {
        let name = InterfaceName::parse(name).unwrap();
        patterns
            .iter()
            .any(|p| p.parse::<Pattern>().unwrap().matches(&name))
    }

    #[test]
    fn one_interposer_per_wasi_version_with_the_same_rules() {
        let s = slices("http = [\"GET,POST 127.0.0.1:8080\", \"* *.example.com\"]").unwrap();
        let [v2, v3] = &s.interposers[..] else {
            panic!("{:?}", s.interposers);
        };
        assert_eq!((v2.kind, v3.kind), ("http", "http3"));
        assert_eq!(v2.wasm, WASM);
        assert_eq!(v3.wasm, WASM3);
        for i in [v2, v3] {
            assert_eq!(
                i.config,
                ["allow GET,POST 127.0.0.1:8080", "allow * *.example.com"]
            );
            assert_eq!(
                i.summary.to_string(),
                "http GET,POST 127.0.0.1:8080; * *.example.com"
            );
        }
        // Each wires and is granted its own version only.
        for (name, wired2, wired3) in [
            ("wasi:http/outgoing-handler@0.2.0", true, false),
            ("wasi:http/outgoing-handler@0.2.12", true, false),
            ("wasi:http/client@0.3.0", false, true),
            ("wasi:http/client@0.3.0-rc-2026-03-15", false, false),
            ("wasi:http/client@0.2.12", false, false),
            ("wasi:http/types@0.3.0", false, false),
        ] {
            assert_eq!(matches(&v2.wires, name), wired2, "{name}");
            assert_eq!(matches(&v3.wires, name), wired3, "{name}");
        }
        for (name, granted2, granted3) in [
            ("wasi:http/outgoing-handler@0.2.12", true, false),
            ("wasi:http/types@0.2.12", true, false),
            ("wasi:http/client@0.3.0", false, true),
            ("wasi:http/types@0.3.0", false, true),
            ("wasi:http/types@0.3.0-rc-2026-03-15", false, false),
        ] {
            assert_eq!(matches(&v2.grants, name), granted2, "{name}");
            assert_eq!(matches(&v3.grants, name), granted3, "{name}");
        }
        assert!(matches(&v2.library_grants, "wasi:http/types@0.2.12"));
        assert!(!matches(&v2.library_grants, "wasi:http/types@0.3.0"));
        assert!(matches(&v3.library_grants, "wasi:http/types@0.3.0"));
        assert!(!matches(&v3.library_grants, "wasi:http/types@0.2.12"));
        // The pre-release client neither serves is denied (a denial wins over grants).
        assert_eq!(s.denies, [(CLIENT_RC, "http")]);
        let denies: Vec<&str> = s.denies.iter().map(|(p, _)| *p).collect();
        assert!(matches(&denies, "wasi:http/client@0.3.0-rc-2026-03-15"));
        assert!(!matches(&denies, "wasi:http/client@0.3.0"));
        assert!(!matches(&denies, "wasi:http/outgoing-handler@0.2.12"));
    }

    #[test]
    fn no_rules_no_interposer() {
        assert_eq!(slices("").unwrap(), Slices::default());
        assert!(slices("http = [\"GET\"]").is_err());
    }
}
