//! Step 1 of the pipeline, after the spec: read each component once, decode
//! it, and rename its imports to one version per interface. Everything the
//! later stages need about one instance is one [`Loaded`], keyed by the
//! instance's name, in spec order.

use crate::error::Error;
use crate::inspect::{self, Decoded, InspectError};
use crate::normalize::Renames;
use crate::spec::{CompositionSpec, InstanceSpec};
use crate::verdicts::{Verdict, VerdictCache};
use indexmap::IndexMap;
use std::borrow::Cow;
use std::path::Path;

/// One instance's component, ready to plan.
pub struct Loaded {
    /// The bytes to compose (imports renamed to the versions chosen for the output).
    pub bytes: Vec<u8>,
    /// What `bytes` decode to.
    pub decoded: Decoded,
    /// sha256 of the component as read, before renaming (for the provenance).
    pub digest: String,
    /// Whether `bytes` were validated in this run or trusted from the cache
    /// (then checked again if the composition fails).
    pub verdict: Verdict,
}

/// Every instance's component, by instance name, in spec order.
pub type Components = IndexMap<String, Loaded>;

/// A component's bytes as read, and what they decode to.
#[derive(Debug, Clone)]
pub struct Read {
    bytes: Vec<u8>,
    decoded: Decoded,
    /// sha256 of `bytes`.
    digest: String,
    verdict: Verdict,
}

impl Read {
    /// What the component imports and exports.
    pub fn decoded(&self) -> &Decoded {
        &self.decoded
    }
}

/// Reads and decodes `instances` (each distinct file once, on every core),
/// with validation verdicts from `cache`. Every bad file is reported at once.
pub fn read<'a>(
    instances: impl IntoIterator<Item = &'a InstanceSpec>,
    cache: Option<&VerdictCache>,
) -> Result<IndexMap<String, Read>, Error> {
    let instances: Vec<&InstanceSpec> = instances.into_iter().collect();
    if let Some(files) = read_all(&instances, cache) {
        return Ok(files);
    }
    // Something failed: read them one by one to name every error.
    let mut errors = Vec::new();
    let mut files = IndexMap::new();
    for inst in instances {
        match read_one(&inst.path, inst.bytes(), cache) {
            Ok(read) => {
                files.insert(inst.name.clone(), read);
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(files)
    } else {
        Err(Error::Inspect(errors))
    }
}

/// Renames every component's imports to the highest version any of them
/// imports (per interface, semver-compatible) and orders them as the spec
/// does. `read` holds every instance of `spec`.
///
/// A renamed component keeps the verdict of the one it was renamed from:
/// renaming rewrites the outermost import names only and copies every
/// nested module and component byte for byte, so its function bodies are
/// those that were validated (or trusted) already. Its structure is checked
/// again when its WIT is decoded, and the output is validated in full.
pub fn normalize(
    spec: &CompositionSpec,
    mut read: IndexMap<String, Read>,
) -> Result<Components, Error> {
    let renames = Renames::highest(
        read.values()
            .flat_map(|r| r.decoded.imports.iter().map(|i| i.name.as_str())),
    );
    let reads: Vec<(&InstanceSpec, Read)> = spec
        .instances
        .iter()
        .map(|inst| {
            let read = read
                .swap_remove(&inst.name)
                .expect("every instance of the spec was read");
            (inst, read)
        })
        .collect();
    // Renaming re-encodes and decodes: every component on its own core.
    let renamed = crate::parallel::map(&reads, |(inst, read)| rename(&renames, inst, read));
    let mut out = IndexMap::new();
    for ((inst, read), renamed) in reads.into_iter().zip(renamed) {
        let Read {
            bytes,
            decoded,
            digest,
            verdict,
        } = read;
        let (bytes, decoded) = renamed?.unwrap_or((bytes, decoded));
        let loaded = Loaded {
            bytes,
            decoded,
            digest,
            verdict,
        };
        out.insert(inst.name.clone(), loaded);
    }
    Ok(out)
}

/// `read`'s component with its imports renamed, and what that decodes to;
/// `None` when no import needs renaming.
fn rename(
    renames: &Renames,
    inst: &InstanceSpec,
    read: &Read,
) -> Result<Option<(Vec<u8>, Decoded)>, Error> {
    let normalize_err = |message: String| Error::Normalize {
        path: inst.path.clone(),
        message,
    };
    let names: Vec<String> = read
        .decoded
        .imports
        .iter()
        .map(|i| i.name.clone())
        .collect();
    match renames
        .rewrite(&read.bytes, &names)
        .map_err(normalize_err)?
    {
        Cow::Borrowed(_) => Ok(None),
        Cow::Owned(renamed) => {
            let decoded = inspect::decode_structure(&renamed, &inst.path)
                .map_err(|e| normalize_err(e.to_string()))?;
            Ok(Some((renamed, decoded)))
        }
    }
}

/// Reads and decodes each distinct file once, on every core; `None` if any
/// fails (the caller then reads them one by one and reports every error).
fn read_all(
    instances: &[&InstanceSpec],
    cache: Option<&VerdictCache>,
) -> Option<IndexMap<String, Read>> {
    let mut paths: Vec<(&Path, Option<&[u8]>)> = instances
        .iter()
        .map(|i| (i.path.as_path(), i.bytes()))
        .collect();
    paths.sort();
    paths.dedup();
    // Largest first, so that the last to start is a small one and the
    // cores finish together.
    let size = |(path, builtin): &(&Path, Option<&[u8]>)| match builtin {
        Some(bytes) => bytes.len() as u64,
        None => std::fs::metadata(path).map_or(0, |m| m.len()),
    };
    let mut order: Vec<usize> = (0..paths.len()).collect();
    order.sort_by_cached_key(|&i| std::cmp::Reverse(size(&paths[i])));
    let read = crate::parallel::map(&order, |&i| {
        let (path, builtin) = paths[i];
        read_one(path, builtin, cache).ok()
    });
    let mut files: Vec<Option<Read>> = vec![None; paths.len()];
    for (i, file) in order.into_iter().zip(read) {
        files[i] = Some(file?);
    }
    let files: Vec<Read> = files.into_iter().collect::<Option<_>>()?;
    Some(
        instances
            .iter()
            .map(|inst| {
                let i = paths
                    .binary_search(&(inst.path.as_path(), inst.bytes()))
                    .expect("every path was read");
                (inst.name.clone(), files[i].clone())
            })
            .collect(),
    )
}

/// A component's bytes (built into airlock: an interposer; verified when
/// resolved from a registry; else read from its file) and what they decode to.
fn read_one(
    path: &Path,
    bytes: Option<&[u8]>,
    cache: Option<&VerdictCache>,
) -> Result<Read, InspectError> {
    let bytes = match bytes {
        Some(bytes) => inspect::adapt_preview1(bytes.to_vec(), path)?,
        None => inspect::read(path)?,
    };
    let digest = crate::digest::sha256(&bytes);
    let (decoded, verdict) =
        inspect::decode_cached(&bytes, path, cache.map(|c| (c, digest.as_str())))?;
    Ok(Read {
        bytes,
        decoded,
        digest,
        verdict,
    })
}
