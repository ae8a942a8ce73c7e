//! The provenance of a composed output, carried inside it as the custom
//! section `airlock-provenance` (JSON): each component with its source (a
//! file name or an exact registry package) and sha256 digest, and the policy
//! the output was built with. No timestamps: the same inputs give the same bytes.
//!
//! Anyone can write such a section into any component, so what it claims is
//! checked where it can be ([`verify`]): an output holds each component it
//! was composed from as a nested component, instantiated under the
//! component's name; each listed digest must be the digest of those bytes.

use crate::spec::CompositionSpec;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

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
    /// The sha256 of the component as nested in the output, when that differs
    /// from `digest` (its imports were renamed to the versions the composition
    /// settled on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub composed_digest: Option<String>,
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
                composed_digest: None,
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
                    slices: inst.slices.iter().map(ToString::to_string).collect(),
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

/// Appends the section to a component (custom sections may come last). The
/// digest of each component as nested in `component` is recorded where it
/// differs from the digest of the file it was read from.
pub fn embed(mut component: Vec<u8>, provenance: &Provenance) -> Vec<u8> {
    let mut provenance = provenance.clone();
    if let Ok(nested) = Nested::of(&component) {
        for c in &mut provenance.components {
            c.composed_digest = nested
                .by_instance
                .get(&c.name)
                .filter(|d| **d != c.digest)
                .cloned();
        }
    }
    let data = serde_json::to_vec(&provenance).expect("provenance serializes");
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
/// A section that is not valid JSON of this shape, or that appears twice, is
/// an error.
pub fn read(component: &[u8]) -> Result<Option<Provenance>, ProvenanceError> {
    let mut depth = 0usize;
    let mut found = None;
    for payload in wasmparser::Parser::new(0).parse_all(component) {
        let payload = payload.map_err(|e| ProvenanceError {
            message: e.to_string(),
        })?;
        match payload {
            wasmparser::Payload::ModuleSection { .. }
            | wasmparser::Payload::ComponentSection { .. } => depth += 1,
            wasmparser::Payload::End(_) => depth = depth.saturating_sub(1),
            wasmparser::Payload::CustomSection(c) if depth == 0 && c.name() == SECTION => {
                if found.is_some() {
                    return Err(ProvenanceError {
                        message: "the section appears more than once".into(),
                    });
                }
                found = Some(
                    serde_json::from_slice(c.data()).map_err(|e| ProvenanceError {
                        message: e.to_string(),
                    })?,
                );
            }
            _ => {}
        }
    }
    Ok(found)
}

/// What checking a provenance section against the bytes it describes found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Verification {
    /// Every listed component is inside, with the listed digest.
    Verified,
    /// None of the listed components is inside: the section is a claim that
    /// these bytes cannot confirm (it is not an Airlock output, or its
    /// structure was changed).
    #[serde(rename = "claimed-not-verified")]
    Claimed,
    /// Listed components are inside with other bytes, or missing.
    Differs {
        /// One entry per component that does not match.
        differences: Vec<Difference>,
    },
}

/// A listed component whose bytes are not what the provenance says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Difference {
    /// The instance name.
    pub component: String,
    /// The digest the provenance lists for it (as nested in the output).
    pub listed: String,
    /// The digest of the component nested under that name, if there is one.
    pub found: Option<String>,
}

impl Verification {
    /// True when every listed component was found as listed.
    pub fn is_verified(&self) -> bool {
        matches!(self, Verification::Verified)
    }

    /// A short label: `verified`, `claimed, not verified` or `differs`.
    pub fn label(&self) -> &'static str {
        match self {
            Verification::Verified => "verified",
            Verification::Claimed => "claimed, not verified",
            Verification::Differs { .. } => "differs",
        }
    }
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.found {
            Some(found) => write!(
                f,
                "component `{}`: listed as {}, but the component inside has {found}",
                self.component, self.listed
            ),
            None => write!(
                f,
                "component `{}`: {} is not inside this file",
                self.component, self.listed
            ),
        }
    }
}

/// Checks each component `provenance` lists against the components nested
/// at the top level of `component`: the one instantiated under the listed
/// name (from the output's name section) must have the listed digest (its
/// `composed-digest` when there is one); without such an instance, any
/// nested component with that digest will do.
pub fn verify(component: &[u8], provenance: &Provenance) -> Verification {
    let Ok(nested) = Nested::of(component) else {
        return Verification::Claimed;
    };
    let mut differences = Vec::new();
    let (mut matched, mut mismatched) = (0usize, 0usize);
    for c in &provenance.components {
        let listed = c.composed_digest.as_ref().unwrap_or(&c.digest);
        match nested.by_instance.get(&c.name) {
            Some(found) if found == listed => matched += 1,
            Some(found) => {
                mismatched += 1;
                differences.push(Difference {
                    component: c.name.clone(),
                    listed: listed.clone(),
                    found: Some(found.clone()),
                });
            }
            None if nested.all.contains(listed) => matched += 1,
            None => differences.push(Difference {
                component: c.name.clone(),
                listed: listed.clone(),
                found: None,
            }),
        }
    }
    if differences.is_empty() && matched > 0 {
        Verification::Verified
    } else if matched == 0 && mismatched == 0 {
        Verification::Claimed
    } else {
        Verification::Differs { differences }
    }
}

/// The components nested at the top level of a component, by digest and by
/// the name of the instance made from them.
struct Nested {
    /// Instance name -> the sha256 of the nested component it instantiates.
    by_instance: BTreeMap<String, String>,
    /// The sha256 of every nested component.
    all: BTreeSet<String>,
}

impl Nested {
    fn of(component: &[u8]) -> Result<Self, wasmparser::BinaryReaderError> {
        let top = crate::nested::top_level(component)?;
        // Each definition hashed once: instances name definitions of the
        // same bytes (the same place in `component`).
        let mut digests: HashMap<(*const u8, usize), String> = HashMap::new();
        let mut digest_of = |bytes: &[u8]| {
            digests
                .entry((bytes.as_ptr(), bytes.len()))
                .or_insert_with(|| crate::digest::sha256(bytes))
                .clone()
        };
        let all = top.components.into_iter().map(&mut digest_of).collect();
        let by_instance = top
            .instances
            .into_iter()
            .map(|(name, bytes)| (name, digest_of(bytes)))
            .collect();
        Ok(Self { by_instance, all })
    }
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
                digest: crate::digest::sha256(b"x"),
                composed_digest: None,
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
        // Nothing inside is what it lists: a claim.
        assert_eq!(verify(&with, &p), Verification::Claimed);
        // Twice is refused: tools could read either.
        let twice = embed(with, &p);
        assert!(
            read(&twice)
                .unwrap_err()
                .to_string()
                .contains("more than once")
        );
    }
}
