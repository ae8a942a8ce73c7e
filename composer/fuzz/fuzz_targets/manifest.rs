//! The manifest parser and spec resolution: any text gives a manifest or an
//! error, never a panic.
#![no_main]

use airlock_core::manifest::Manifest;
use airlock_core::spec::CompositionSpec;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz/airlock.toml");
    if let Ok(manifest) = Manifest::parse(text, path) {
        let _ = CompositionSpec::from_manifest(&manifest, path);
    }
});
