//! Which of a component's imports the host will provide under a config, and
//! one error that lists every import it will not provide, with the reason.

use super::config::HostConfig;
use super::link::{self, Family, Provided};
use airlock_core::names::{InterfaceName, compatible};
use semver::Version;
use std::collections::BTreeMap;
use std::fmt;
use wasmtime::Engine;
use wasmtime::component::Component;

/// Why the host will not provide one import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The host provides it, but the config does not permit it; `flag` permits it.
    NotPermitted {
        /// The `airlock run` flag that would permit it, e.g. `--allow-net`.
        flag: &'static str,
    },
    /// A WASI interface at a version this host does not serve.
    Version {
        /// What the host serves instead.
        provided: String,
    },
    /// A WASI interface this host does not implement at all.
    UnknownWasi,
    /// Not a WASI interface: only another component can provide it.
    NotWasi,
}

/// One import the host will not provide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsatisfiedImport {
    /// The import name as the component spells it.
    pub import: String,
    /// Why it is not provided.
    pub reason: Reason,
}

impl fmt::Display for UnsatisfiedImport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let import = &self.import;
        match &self.reason {
            Reason::NotPermitted { flag } => {
                write!(f, "`{import}` is imported but not permitted; pass {flag}")
            }
            Reason::Version { provided } => write!(
                f,
                "`{import}` is imported but this host serves only `{provided}` (not semver-compatible)"
            ),
            Reason::UnknownWasi => write!(
                f,
                "`{import}` is imported but this host does not implement it; deny or virtualize it when composing"
            ),
            Reason::NotWasi => write!(
                f,
                "`{import}` is imported but is not a WASI interface, so no host provides it; \
                 compose in a component that exports it, or deny it"
            ),
        }
    }
}

/// Every import of a component that the host will not provide. Returned (inside
/// `anyhow::Error`) before anything is instantiated; downcast to inspect it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct UnsatisfiedImports {
    /// Sorted by import name.
    pub imports: Vec<UnsatisfiedImport>,
}

impl fmt::Display for UnsatisfiedImports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.imports.len();
        write!(
            f,
            "the host will not provide {n} import{} of the component:",
            if n == 1 { "" } else { "s" }
        )?;
        for import in &self.imports {
            write!(f, "\n  - {import}")?;
        }
        Ok(())
    }
}

/// The interfaces to link for `component` under `config`, or every import that
/// the host will not provide.
pub fn plan(
    engine: &Engine,
    component: &Component,
    config: &HostConfig,
) -> Result<Vec<&'static Provided>, UnsatisfiedImports> {
    let mut link: BTreeMap<(&'static str, link::Track), &'static Provided> = BTreeMap::new();
    let mut problems = BTreeMap::new();
    for (import, _) in component.component_type().imports(engine) {
        match check(import, config) {
            Ok(provided) => {
                link.insert((provided.name, provided.track), provided);
            }
            Err(reason) => {
                problems.insert(import.to_string(), reason);
            }
        }
    }
    if !problems.is_empty() {
        let imports = problems
            .into_iter()
            .map(|(import, reason)| UnsatisfiedImport { import, reason })
            .collect();
        return Err(UnsatisfiedImports { imports });
    }
    // Link in the table's (dependency) order.
    let mut link: Vec<_> = link.into_values().collect();
    link.sort_by_key(|p| link::PROVIDED.iter().position(|q| std::ptr::eq(*p, q)));
    Ok(link)
}

/// The entry serving `import` (on the track its version is compatible with),
/// if the host has one and `config` permits it.
fn check(import: &str, config: &HostConfig) -> Result<&'static Provided, Reason> {
    let name = InterfaceName::parse(import).ok_or(Reason::NotWasi)?;
    if !name.is_wasi() {
        return Err(Reason::NotWasi);
    }
    let unversioned = name.unversioned();
    let candidates: Vec<&'static Provided> = link::provided(&unversioned).collect();
    if candidates.is_empty() {
        return Err(Reason::UnknownWasi);
    }
    let track_version = |p: &Provided| Version::parse(p.track.version()).expect("a valid version");
    let served = name.version.as_ref().and_then(|v| {
        candidates
            .iter()
            .copied()
            .find(|p| compatible(v, &track_version(p)))
    });
    let Some(provided) = served else {
        // Name the entry on the import's own release line (0.3 for a
        // `0.3.0-rc-*` name), else the first.
        let near = name.version.as_ref().and_then(|v| {
            candidates.iter().copied().find(|p| {
                let t = track_version(p);
                (t.major, t.minor) == (v.major, v.minor)
            })
        });
        let p = near.unwrap_or(candidates[0]);
        return Err(Reason::Version {
            provided: link::versioned(&unversioned, p.track),
        });
    };
    match permission(provided.family, config) {
        None => Ok(provided),
        Some(flag) => Err(Reason::NotPermitted { flag }),
    }
}

/// `None` when `config` permits the family, else the flag that would.
fn permission(family: Family, config: &HostConfig) -> Option<&'static str> {
    match family {
        Family::Stdio
        | Family::Io
        | Family::Clocks
        | Family::Random
        | Family::Environment
        | Family::Exit => None,
        // Linked empty (no preopens, no network) when `link_empty`, as wasmtime does.
        Family::Filesystem => {
            (config.dirs.is_empty() && !config.link_empty).then_some("--dir HOST[::GUEST]")
        }
        Family::Sockets => (!config.allow_net && !config.link_empty).then_some("--allow-net"),
        Family::Http => (!config.allow_http).then_some("--allow-http"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(import: &str, config: &HostConfig) -> Option<Reason> {
        check(import, config).err()
    }

    #[test]
    fn classifies_imports() {
        let none = HostConfig::default();
        let net = HostConfig {
            allow_net: true,
            ..HostConfig::default()
        };
        assert_eq!(reason("wasi:cli/stdout@0.2.0", &none), None);
        assert_eq!(reason("wasi:io/streams@0.2.13", &none), None);
        assert_eq!(
            reason("wasi:sockets/udp@0.2.3", &none),
            Some(Reason::NotPermitted {
                flag: "--allow-net"
            })
        );
        assert_eq!(reason("wasi:sockets/udp@0.2.3", &net), None);
        // `airlock run` links the filesystem and sockets empty, as wasmtime does;
        // HTTP still needs its flag.
        let command = HostConfig::command("app.wasm");
        assert_eq!(reason("wasi:filesystem/preopens@0.2.0", &command), None);
        assert_eq!(reason("wasi:sockets/tcp@0.2.6", &command), None);
        assert_eq!(
            reason("wasi:filesystem/preopens@0.2.0", &none),
            Some(Reason::NotPermitted {
                flag: "--dir HOST[::GUEST]"
            })
        );
        assert_eq!(
            reason("wasi:http/outgoing-handler@0.2.0", &command),
            Some(Reason::NotPermitted {
                flag: "--allow-http"
            })
        );
        // WASI 0.3 (wasmtime-wasi's `p3`), under the same flags as 0.2.
        assert_eq!(reason("wasi:cli/stdout@0.3.0", &none), None);
        assert_eq!(reason("wasi:cli/types@0.3.0", &none), None);
        assert_eq!(reason("wasi:clocks/system-clock@0.3.0", &none), None);
        assert_eq!(
            reason("wasi:sockets/types@0.3.0", &none),
            Some(Reason::NotPermitted {
                flag: "--allow-net"
            })
        );
        assert_eq!(reason("wasi:sockets/types@0.3.0", &net), None);
        assert_eq!(reason("wasi:sockets/ip-name-lookup@0.3.0", &command), None);
        assert_eq!(
            reason("wasi:filesystem/types@0.3.0", &none),
            Some(Reason::NotPermitted {
                flag: "--dir HOST[::GUEST]"
            })
        );
        assert_eq!(reason("wasi:filesystem/preopens@0.3.0", &command), None);
        assert_eq!(
            reason("wasi:http/client@0.3.0", &command),
            Some(Reason::NotPermitted {
                flag: "--allow-http"
            })
        );
        // Pre-releases are not served; the message names 0.3.0.
        assert_eq!(
            reason("wasi:cli/stdout@0.3.0-rc-2026-03-15", &none),
            Some(Reason::Version {
                provided: "wasi:cli/stdout@0.3.0".into()
            })
        );
        assert_eq!(
            reason("wasi:cli/stdout@0.4.0", &none),
            Some(Reason::Version {
                provided: "wasi:cli/stdout@0.2.12".into()
            })
        );
        // Names that only one track has.
        assert_eq!(
            reason("wasi:io/streams@0.3.0", &none),
            Some(Reason::Version {
                provided: "wasi:io/streams@0.2.12".into()
            })
        );
        assert_eq!(
            reason("wasi:clocks/system-clock@0.2.0", &none),
            Some(Reason::Version {
                provided: "wasi:clocks/system-clock@0.3.0".into()
            })
        );
        assert_eq!(
            reason("wasi:clocks/timezone@0.3.0", &none),
            Some(Reason::UnknownWasi)
        );
        assert!(matches!(
            reason("wasi:cli/stdout", &none),
            Some(Reason::Version { .. })
        ));
        assert_eq!(
            reason("wasi:keyvalue/store@0.2.0", &none),
            Some(Reason::UnknownWasi)
        );
        assert_eq!(reason("acme:kv/store@1.0.0", &none), Some(Reason::NotWasi));
        assert_eq!(reason("greet", &none), Some(Reason::NotWasi));
    }
}
