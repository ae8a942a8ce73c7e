//! The whole pipeline, from a spec to verified output bytes and their audit,
//! one stage after another, each handing the next a value it does not edit:
//! load ([`load::read`]) -> attenuate ([`attenuate::keep_used`]) -> load
//! ([`load::normalize`]) -> plan -> virtualize -> compose -> verify -> report.

use crate::error::Error;
use crate::inspect::{Decoded, InspectError};
use crate::load::Components;
use crate::report::Report;
use crate::spec::{CompositionSpec, InstanceSpec};
use crate::verdicts::{Verdict, VerdictCache};
use crate::{attenuate, compose, load, plan, verify, virtualize};
use indexmap::IndexMap;
use std::path::Path;

/// A composition that passed verification.
pub struct Composed {
    /// The output component.
    pub bytes: Vec<u8>,
    /// Its audit.
    pub report: Report,
}

/// Loads, plans, virtualizes, composes and verifies. Writes nothing.
pub fn compose(spec: &CompositionSpec) -> Result<Composed, Error> {
    compose_cached(spec, None, None)
}

/// [`compose`], reusing `libraries` (what [`load::read`] returned for the
/// instances of `spec` that are not built in: an instance missing from it is
/// read here) and keeping validation verdicts in `cache` (see
/// [`crate::verdicts`]): the cache is the only thing written. When the
/// composition fails after trusting a cached verdict, those components are
/// validated again: an invalid one is the error then (and its entry removed),
/// as it would have been without the cache.
pub fn compose_cached(
    spec: &CompositionSpec,
    libraries: Option<IndexMap<String, load::Read>>,
    cache: Option<&VerdictCache>,
) -> Result<Composed, Error> {
    // The libraries first: which slices they use decides which interposers
    // are read at all.
    let mut libraries = libraries.unwrap_or_default();
    let missing: Vec<&InstanceSpec> = spec
        .instances
        .iter()
        .filter(|i| i.builtin.is_none() && !libraries.contains_key(&i.name))
        .collect();
    if !missing.is_empty() {
        libraries.extend(load::read(missing, cache)?);
    }
    let spec = attenuate::keep_used(spec, &libraries);
    let spec = spec.as_ref();
    let mut read = libraries;
    read.extend(load::read(
        spec.instances.iter().filter(|i| i.builtin.is_some()),
        cache,
    )?);
    let loaded = load::normalize(spec, read)?;
    compose_loaded(spec, &loaded).map_err(|e| match cache {
        Some(cache) => recheck(spec, &loaded, cache).unwrap_or(e),
        None => e,
    })
}

/// Plans, virtualizes, composes and verifies `loaded`.
fn compose_loaded(spec: &CompositionSpec, loaded: &Components) -> Result<Composed, Error> {
    let decoded: Vec<&Decoded> = loaded.values().map(|l| &l.decoded).collect();
    let plan = plan::plan(spec, &decoded)?;
    let components = loaded
        .iter()
        .map(|(name, l)| (name.as_str(), l.bytes.as_slice()))
        .collect();
    // The denial components are synthesized while wac-graph reads the
    // instances' components (one at a time: its type arena takes `&mut`).
    let (stubs, instances) = std::thread::scope(|scope| {
        let stubs = scope.spawn(|| virtualize::stubs(&plan, spec, loaded));
        let instances = compose::instantiate(&plan, &components);
        let stubs = stubs
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (stubs, instances)
    });
    let stubs = stubs?;
    let virtuals = stubs
        .components
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_slice()))
        .collect();
    let bytes = instances?.finish(&plan, &virtuals)?;
    let bytes = add_metadata(bytes, spec.output_package.as_deref())?;
    let digests: Vec<String> = loaded.values().map(|l| l.digest.clone()).collect();
    let provenance = crate::provenance::Provenance::of(spec, &digests);
    let bytes = crate::provenance::embed(bytes, &provenance);
    let output_imports = verify::check(&bytes, spec)?;
    // The interfaces carried for their types come first, as in the output.
    let carried = plan.carried_exports.iter().map(|(_, i)| i.clone());
    let output_exports = carried
        .chain(
            compose::output_exports(&plan)?
                .into_iter()
                .map(|(_, export)| export.to_string()),
        )
        .collect();
    let report = Report::new(
        plan,
        &stubs.functions,
        output_imports,
        output_exports,
        bytes.len(),
    );
    Ok(Composed { bytes, report })
}

/// Validates again, in full, every component whose verdict came from the
/// cache; the error naming those that do not validate, if any.
fn recheck(spec: &CompositionSpec, loaded: &Components, cache: &VerdictCache) -> Option<Error> {
    let errors: Vec<InspectError> = loaded
        .iter()
        .filter(|(_, l)| l.verdict == Verdict::Cached)
        .filter_map(|(name, l)| {
            // The entry is the component's as read: renamed bytes inherit
            // its verdict (`load::normalize`), and fail with it.
            let message = cache.recheck(&l.bytes, &l.digest).err()?;
            let path = spec
                .instance(name)
                .map(|i| i.path.clone())
                .unwrap_or_default();
            Some(InspectError::Invalid { path, message })
        })
        .collect();
    (!errors.is_empty()).then_some(Error::Inspect(errors))
}

/// Plans and verifies without keeping the output (for `airlock check`).
pub fn check(spec: &CompositionSpec) -> Result<Report, Error> {
    check_cached(spec, None, None)
}

/// [`check`] with what [`compose_cached`] takes.
pub fn check_cached(
    spec: &CompositionSpec,
    libraries: Option<IndexMap<String, load::Read>>,
    cache: Option<&VerdictCache>,
) -> Result<Report, Error> {
    let mut composed = compose_cached(spec, libraries, cache)?;
    composed.report.output_bytes = None;
    Ok(composed.report)
}

/// Records the output package name and version (`ns:name@1.2.3`) in the output's metadata.
fn add_metadata(bytes: Vec<u8>, package: Option<&str>) -> Result<Vec<u8>, Error> {
    let Some(package) = package else {
        return Ok(bytes);
    };
    let (name, version) = match package.split_once('@') {
        Some((n, v)) => (n, Some(v)),
        None => (package, None),
    };
    with_name_and_version(&bytes, name, version).map_err(|e| {
        Error::Compose(compose::ComposeError {
            message: format!("record the package name `{package}`: {e:#}"),
        })
    })
}

/// `component` with its top-level name set to `name` and its version
/// section replaced, as wasm-metadata's `AddMetadata` writes them; but the
/// nested modules and components (most of the bytes) are copied whole,
/// not parsed and re-encoded.
fn with_name_and_version(
    component: &[u8],
    name: &str,
    version: Option<&str>,
) -> anyhow::Result<Vec<u8>> {
    use wasm_encoder::{ComponentSection, Encode};
    use wasmparser::Payload;
    let bytes = |range: std::ops::Range<u64>| {
        usize::try_from(range.start)
            .ok()
            .zip(usize::try_from(range.end).ok())
            .and_then(|(start, end)| component.get(start..end))
            .ok_or_else(|| anyhow::anyhow!("a section beyond the end of the component"))
    };
    let mut out = Vec::with_capacity(component.len() + 64);
    let mut named = false;
    for payload in crate::nested::top_level_payloads(component) {
        let payload = payload?;
        match &payload {
            Payload::Version { range, .. } => {
                out.extend_from_slice(bytes(range.clone())?);
                continue;
            }
            Payload::CustomSection(c) if c.name() == "component-name" => {
                let mut names =
                    wasm_metadata::ComponentNames::from_bytes(c.data(), c.data_offset())?;
                names.set_name(name);
                out.push(wasm_encoder::ComponentSectionId::CoreCustom as u8);
                out.extend(names.raw_custom_section()?);
                named = true;
                continue;
            }
            Payload::CustomSection(c) if c.name() == "version" => continue,
            _ => {}
        }
        if let Some((id, range)) = payload.as_section() {
            out.push(id);
            bytes(range)?.encode(&mut out);
        }
    }
    if !named {
        let mut names = wasm_metadata::ComponentNames::empty();
        names.set_name(name);
        out.push(wasm_encoder::ComponentSectionId::CoreCustom as u8);
        out.extend(names.raw_custom_section()?);
    }
    if let Some(version) = version {
        wasm_metadata::Version::new(version.to_string()).append_to_component(&mut out);
    }
    Ok(out)
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, then a rename,
/// so a failure never leaves a partial output. The rename replaces the entry
/// `path` itself (a symlink there is replaced, its target is not written).
/// The file gets ordinary permissions: an existing file's read/write/execute
/// bits (through a symlink, its target's), never its setuid, setgid or sticky
/// bits; a new file `0o644` less the umask.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    let write_err = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(write_err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("the folder `{}` does not exist", dir.display()),
        )));
    }
    // tempfile's errors name the random temporary file; report the output path only.
    let write_err =
        |e: std::io::Error| write_err(std::io::Error::new(e.kind(), e.kind().to_string()));
    let mut builder = tempfile::Builder::new();
    // The permission bits to keep: an existing file's, masked to rwx for
    // user, group and others.
    #[cfg(unix)]
    let kept = {
        use std::os::unix::fs::PermissionsExt;
        let kept = std::fs::metadata(path)
            .ok()
            .map(|m| m.permissions().mode() & 0o777);
        // Created with at most the final bits (the umask narrows them), so
        // the temporary file is never more open than the output will be.
        builder.permissions(std::fs::Permissions::from_mode(kept.unwrap_or(0o644)));
        kept
    };
    let mut tmp = builder.tempfile_in(dir).map_err(write_err)?;
    tmp.write_all(bytes).map_err(write_err)?;
    tmp.as_file().sync_all().map_err(write_err)?;
    #[cfg(unix)]
    if let Some(mode) = kept {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(write_err)?;
    }
    tmp.persist(path).map_err(|e| write_err(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::with_name_and_version;

    /// What wasm-metadata writes, rewriting the whole component.
    fn by_wasm_metadata(component: &[u8], name: &str, version: Option<&str>) -> Vec<u8> {
        let mut meta = wasm_metadata::AddMetadata::default();
        meta.name = wasm_metadata::AddMetadataField::Set(name.to_string());
        if let Some(v) = version {
            meta.version =
                wasm_metadata::AddMetadataField::Set(wasm_metadata::Version::new(v.to_string()));
        }
        meta.to_wasm(component).unwrap()
    }

    /// The same bytes as wasm-metadata, for a component with nested
    /// modules and components (their own names and versions untouched),
    /// with and without a top-level name already.
    #[test]
    fn names_and_versions_as_wasm_metadata_does() {
        let plain = wat::parse_str(
            r#"(component $outer
                (core module $m (@custom "version" "9.9.9") (func (export "f")))
                (component $inner (core module (func)))
                (instance $i (instantiate $inner)))"#,
        )
        .unwrap();
        let named = by_wasm_metadata(&plain, "old:name", None);
        for component in [&plain, &named] {
            for version in [Some("1.2.3"), None] {
                let ours = with_name_and_version(component, "airlock:app", version).unwrap();
                assert_eq!(
                    ours,
                    by_wasm_metadata(component, "airlock:app", version),
                    "version {version:?}"
                );
                assert!(crate::verify::validate(&ours).is_ok());
            }
        }
        // A version there already is replaced (wasm-metadata keeps both).
        let versioned = by_wasm_metadata(&plain, "old:name", Some("0.0.1"));
        let ours = with_name_and_version(&versioned, "airlock:app", Some("1.2.3")).unwrap();
        let versions: Vec<Vec<u8>> = crate::nested::top_level_payloads(&ours)
            .filter_map(|p| match p.unwrap() {
                wasmparser::Payload::CustomSection(c) if c.name() == "version" => {
                    Some(c.data().to_vec())
                }
                _ => None,
            })
            .collect();
        assert_eq!(versions, [b"1.2.3".to_vec()]);
    }
}
