//! The components nested at the top level of a component, and the named
//! instances made from them, read from the bytes alone (for the provenance
//! record and the golden tests' view of each stub).

use std::collections::BTreeMap;
use wasmparser::{
    BinaryReaderError, Chunk, ComponentAlias, ComponentExternalKind, ComponentInstance,
    ComponentName, ComponentOuterAliasKind, ComponentTypeRef, KnownCustom, Parser, Payload,
};

/// What a component's top level defines and instantiates.
pub struct TopLevel<'a> {
    /// Every component defined at the top level (not imported or aliased), in order.
    pub components: Vec<&'a [u8]>,
    /// Each named instance made from a component defined here, in instance
    /// order: its name and that component's bytes.
    pub instances: Vec<(String, &'a [u8])>,
}

/// The payloads of `component`'s own top level, in order. A nested module
/// or component is one `ModuleSection` or `ComponentSection` payload: its
/// bytes are skipped, not parsed (most of an output's bytes are nested).
pub fn top_level_payloads(
    component: &[u8],
) -> impl Iterator<Item = Result<Payload<'_>, BinaryReaderError>> {
    let mut parser = Parser::new(0);
    let mut offset = 0usize;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let parsed = parser.parse(&component[offset..], true);
        let (consumed, payload) = match parsed {
            Ok(Chunk::Parsed { consumed, payload }) => (consumed, payload),
            Ok(Chunk::NeedMoreData(_)) => unreachable!("all the bytes are given (eof)"),
            Err(e) => {
                done = true;
                return Some(Err(e));
            }
        };
        offset += consumed;
        match &payload {
            // The parser has moved past the nested bytes; so do we.
            Payload::ModuleSection {
                unchecked_range, ..
            }
            | Payload::ComponentSection {
                unchecked_range, ..
            } => match usize::try_from(unchecked_range.end) {
                Ok(end) if end <= component.len() => offset = end,
                _ => {
                    // Cut short inside: what reading past the end says.
                    done = true;
                    let at = u64::try_from(component.len()).unwrap_or(u64::MAX);
                    let end = wasmparser::BinaryReader::new(&[], at).read_u8();
                    return Some(Err(end.expect_err("nothing to read")));
                }
            },
            Payload::End(_) => done = true,
            _ => {}
        }
        Some(Ok(payload))
    })
}

/// Reads `component`'s top level (nested components are skipped whole).
pub fn top_level(component: &[u8]) -> Result<TopLevel<'_>, BinaryReaderError> {
    // The top level's component and instance index spaces: a component
    // defined here (its bytes) or not (imported, aliased); the component an
    // instance instantiates, if any.
    let mut components: Vec<Option<&[u8]>> = Vec::new();
    let mut instances: Vec<Option<u32>> = Vec::new();
    let mut names: BTreeMap<u32, String> = BTreeMap::new();
    for payload in top_level_payloads(component) {
        let payload = payload?;
        match payload {
            Payload::ComponentSection {
                unchecked_range, ..
            } => {
                let bytes = usize::try_from(unchecked_range.start)
                    .ok()
                    .zip(usize::try_from(unchecked_range.end).ok())
                    .and_then(|(start, end)| component.get(start..end));
                components.push(bytes);
            }
            Payload::ComponentImportSection(reader) => {
                for import in reader {
                    match import?.ty {
                        ComponentTypeRef::Component(_) => components.push(None),
                        ComponentTypeRef::Instance(_) => instances.push(None),
                        _ => {}
                    }
                }
            }
            Payload::ComponentAliasSection(reader) => {
                for alias in reader {
                    match alias? {
                        ComponentAlias::InstanceExport { kind, .. } => match kind {
                            ComponentExternalKind::Component => components.push(None),
                            ComponentExternalKind::Instance => instances.push(None),
                            _ => {}
                        },
                        ComponentAlias::Outer {
                            kind: ComponentOuterAliasKind::Component,
                            ..
                        } => components.push(None),
                        _ => {}
                    }
                }
            }
            Payload::ComponentInstanceSection(reader) => {
                for instance in reader {
                    instances.push(match instance? {
                        ComponentInstance::Instantiate {
                            component_index, ..
                        } => Some(component_index),
                        ComponentInstance::FromExports(_) => None,
                    });
                }
            }
            // An export is a new index too, for the same item.
            Payload::ComponentExportSection(reader) => {
                for export in reader {
                    let export = export?;
                    let index = export.index as usize;
                    match export.kind {
                        ComponentExternalKind::Component => {
                            components.push(components.get(index).copied().flatten());
                        }
                        ComponentExternalKind::Instance => {
                            instances.push(instances.get(index).copied().flatten());
                        }
                        _ => {}
                    }
                }
            }
            Payload::CustomSection(reader) => {
                if let KnownCustom::ComponentName(section) = reader.as_known() {
                    for sub in section {
                        if let ComponentName::Instances(map) = sub? {
                            for naming in map {
                                let naming = naming?;
                                names.insert(naming.index, naming.name.to_string());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let named = instances
        .iter()
        .enumerate()
        .filter_map(|(index, component)| {
            let bytes = components.get((*component)? as usize).copied().flatten()?;
            Some((names.get(&(index as u32))?.clone(), bytes))
        })
        .collect();
    Ok(TopLevel {
        components: components.into_iter().flatten().collect(),
        instances: named,
    })
}

#[cfg(test)]
mod tests {
    use super::top_level_payloads;
    use wasmparser::Payload;

    fn kinds(component: &[u8]) -> Vec<String> {
        top_level_payloads(component)
            .map(|p| match p {
                Ok(Payload::ModuleSection { .. }) => "module".into(),
                Ok(Payload::ComponentSection { .. }) => "component".into(),
                Ok(Payload::CustomSection(c)) => format!("custom {}", c.name()),
                Ok(Payload::ComponentInstanceSection(_)) => "instances".into(),
                Ok(Payload::Version { .. }) => "version".into(),
                Ok(Payload::End(_)) => "end".into(),
                Ok(_) => "other".into(),
                Err(e) => format!("error: {}", e.message()),
            })
            .collect()
    }

    /// The top level only, each nested definition as one payload; bytes
    /// cut inside a nested definition are an error, not a panic.
    #[test]
    fn nested_definitions_are_skipped_whole() {
        let component = wat::parse_str(
            r#"(component
                (core module (@custom "inside" "x") (func (export "f")))
                (component $c (component (core module)))
                (instance (instantiate $c))
                (@custom "outside" "y"))"#,
        )
        .unwrap();
        assert_eq!(
            kinds(&component),
            [
                "version",
                "module",
                "component",
                "instances",
                "custom outside",
                "custom component-name",
                "end"
            ]
        );
        let cut = &component[..component.len() / 2];
        let kinds = kinds(cut);
        assert!(kinds.last().unwrap().starts_with("error"), "{kinds:?}");
    }
}
