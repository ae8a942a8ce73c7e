//! The provenance of a composed output, carried inside it as the custom
//! section `airlock-provenance` (JSON): each component with its source (a
//! file name or an exact registry package) and sha256 digest, and the policy
//! the output was built with. No timestamps: the same inputs give the same bytes.

use crate::spec::CompositionSpec;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The custom section's name.
pub const SECTION: &str = "airlock-provenance";

/// What went into an output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Provenance {
    /// `airlock VERSION`
    pub tool: String,
    /// Every component instance, by name.
    pub components: Vec<ComponentSource>,
    /// The policy.
    pub policy: Policy,
}

/// One component instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ComponentSource {
    /// The instance name.
    pub name: String,
    /// The registry package, `ns:name@1.2.3`, for registry components.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// The file name, for components read from a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The sha256 of the component as read (before any renaming).
    pub digest: String,
}

/// The policy an output was built with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Policy {
    /// The allow-list.
    pub allow: Vec<String>,
    /// What each instance was granted, denied and wired to, and which virtual
    /// values it was given (their keys only).
    pub instances: BTreeMap<String, InstancePolicy>,
}

/// One instance's part of the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct InstancePolicy {
    /// Its grants.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grant: Vec<String>,
    /// Its explicit denials.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<String>,
    /// Its wiring, pattern -> provider.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub wire: BTreeMap<String, String>,
    /// The manifest keys of its virtual values (`env`, `clock`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub virtual_values: Vec<String>,
    /// Its slices (attenuated capabilities), as the audit words them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slices: Vec<String>,
}

/// The section could not be read.
#[derive(Debug, thiserror::Error)]
#[error("the `{SECTION}` section is not valid: {message}")]
pub struct ProvenanceError {
    /// What is wrong.
    pub message: String,
}

impl Provenance {
    /// The provenance of a composition; `digests` are in spec order.
    pub fn of(spec: &CompositionSpec, digests: &[String]) -> Self {
        let components = spec
            .instances
            .iter()
            .zip(digests)
            .map(|(inst, digest)| ComponentSource {
                name: inst.name.clone(),
                file: inst
                    .package
                    .is_none()
                    .then(|| {
                        inst.path
                            .file_name()
                            .map(|f| f.to_string_lossy().into_owned())
                    })
                    .flatten(),
                package: inst.package.clone(),
                digest: digest.clone(),
            })
            .collect();
        let strings = |set: &crate::policy::PatternSet| -> Vec<String> {
            set.0.iter().map(ToString::to_string).collect()
        };
        let instances = spec
            .instances
            .iter()
            .map(|inst| {
                let v = &inst.virtuals;
                let virtual_values = [
                    ("env", v.env.is_some()),
                    ("args", v.args.is_some()),
                    ("cwd", v.cwd.is_some()),
                    ("clock", v.clock.is_some()),
                    ("random", v.random_seed.is_some()),
                    ("config", v.config.is_some()),
                ]
                .into_iter()
                .filter(|(_, set)| *set)
                .map(|(k, _)| k.to_string())
                .collect();
                let policy = InstancePolicy {
                    grant: strings(&inst.grant),
                    deny: strings(&inst.deny),
                    wire: inst
                        .wire
                        .iter()
                        .map(|(p, t)| (p.to_string(), t.clone()))
                        .collect(),
                    virtual_values,
                    slices: inst.slices.clone(),
                };
                (inst.name.clone(), policy)
            })
            .collect();
        Self {
            tool: format!("airlock {}", env!("CARGO_PKG_VERSION")),
            components,
            policy: Policy {
                allow: strings(&spec.allow),
                instances,
            },
        }
    }

    /// One line per component, for OCI annotations and short listings:
    /// `name=package-or-file@digest`, comma separated.
    pub fn summary(&self) -> String {
        self.components
            .iter()
            .map(|c| {
                let source = c.package.as_deref().or(c.file.as_deref()).unwrap_or("?");
                format!("{}={} {}", c.name, source, c.digest)
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Appends the section to a component (custom sections may come last).
pub fn embed(mut component: Vec<u8>, provenance: &Provenance) -> Vec<u8> {
    let data = serde_json::to_vec(provenance).expect("provenance serializes");
    let mut content = Vec::new();
    leb128(&mut content, SECTION.len());
    content.extend_from_slice(SECTION.as_bytes());
    content.extend_from_slice(&data);
    component.push(0); // custom section id
    leb128(&mut component, content.len());
    component.extend_from_slice(&content);
    component
}

/// The provenance of a component: `None` when it has no top-level section.
pub fn read(component: &[u8]) -> Result<Option<Provenance>, ProvenanceError> {
    let mut depth = 0usize;
    for payload in wasmparser::Parser::new(0).parse_all(component) {
        let payload = payload.map_err(|e| ProvenanceError {
            message: e.to_string(),
        })?;
        match payload {
            wasmparser::Payload::ModuleSection { .. }
            | wasmparser::Payload::ComponentSection { .. } => depth += 1,
            wasmparser::Payload::End(_) => depth = depth.saturating_sub(1),
            wasmparser::Payload::CustomSection(c) if depth == 0 && c.name() == SECTION => {
                return serde_json::from_slice(c.data())
                    .map(Some)
                    .map_err(|e| ProvenanceError {
                        message: e.to_string(),
                    });
            }
            _ => {}
        }
    }
    Ok(None)
}

fn leb128(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeds_and_reads_back() {
        // An empty component.
        let component = wasm_encoder::Component::new().finish();
        let p = Provenance {
            tool: "airlock 0".into(),
            components: vec![ComponentSource {
                name: "stats".into(),
                package: Some("airlock:stats@0.1.0".into()),
                file: None,
                digest: crate::registry::sha256(b"x"),
            }],
            policy: Policy {
                allow: vec!["wasi:cli/stdout@0.2".into()],
                instances: BTreeMap::new(),
            },
        };
        assert_eq!(read(&component).unwrap(), None);
        let with = embed(component, &p);
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
            .validate_all(&with)
            .unwrap();
        assert_eq!(read(&with).unwrap(), Some(p.clone()));
        assert!(p.summary().starts_with("stats=airlock:stats@0.1.0 sha256:"));
    }
}
