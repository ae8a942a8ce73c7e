//! Which interposers the output needs, decided once the libraries are
//! inspected: a slice of an interface its library never imports would only
//! add bytes, and host imports that nothing uses. Its interposer is left out
//! and the library's audit line for the slice says so.

use crate::load::Read;
use crate::names::InterfaceName;
use crate::spec::CompositionSpec;
use indexmap::IndexMap;
use std::borrow::Cow;

/// `spec` without the interposers whose library imports nothing they serve.
/// `libraries` holds every instance that is not an interposer, as read.
pub fn keep_used<'a>(
    spec: &'a CompositionSpec,
    libraries: &IndexMap<String, Read>,
) -> Cow<'a, CompositionSpec> {
    let serves =
        |target: &str| {
            spec.instances.iter().any(|inst| {
                let Some(read) = libraries.get(&inst.name) else {
                    return false;
                };
                inst.wire.iter().any(|(pattern, t)| {
                    t == target
                        && read.decoded().imports.iter().any(|i| {
                            InterfaceName::parse(&i.name).is_some_and(|n| pattern.matches(&n))
                        })
                })
            })
        };
    let unused: Vec<&str> = spec
        .instances
        .iter()
        .filter(|i| i.builtin.is_some() && !serves(&i.name))
        .map(|i| i.name.as_str())
        .collect();
    if unused.is_empty() {
        return Cow::Borrowed(spec);
    }
    let mut kept = spec.clone();
    let (gone, instances) = std::mem::take(&mut kept.instances)
        .into_iter()
        .partition::<Vec<_>, _>(|i| unused.contains(&i.name.as_str()));
    kept.instances = instances;
    // One slice may have an interposer per WASI version (e.g. `env` for 0.2
    // and `env3` for 0.3): it is unused only when none of them is kept.
    let still_served: Vec<_> = kept
        .instances
        .iter()
        .filter(|i| i.builtin.is_some())
        .flat_map(|i| i.slices.clone())
        .collect();
    // A stdio slice also grants and denies streams directly (all of them on
    // WASI 0.3, see `stdio`): in force whenever the library imports a stream.
    let imports_stdio = |instance: &str| {
        libraries.get(instance).is_some_and(|read| {
            read.decoded().imports.iter().any(|i| {
                InterfaceName::parse(&i.name).is_some_and(|n| {
                    n.is_wasi()
                        && n.package == "cli"
                        && ["stdin", "stdout", "stderr"].contains(&n.interface.as_str())
                })
            })
        })
    };
    for interposer in gone {
        for inst in &mut kept.instances {
            inst.wire.retain(|(_, target)| *target != interposer.name);
            let direct = imports_stdio(&inst.name);
            for slice in inst.slices.iter_mut() {
                let in_force = still_served.contains(slice)
                    || (matches!(slice, crate::attenuate::Slice::Stdio(_)) && direct);
                if interposer.slices.contains(slice) && !in_force {
                    *slice = slice.clone().unused();
                }
            }
        }
    }
    Cow::Owned(kept)
}
