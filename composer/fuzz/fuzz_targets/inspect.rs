//! The component inspector: any bytes decode or give an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(decoded) = airlock_core::inspect::decode(data, Path::new("fuzz.wasm")) {
        // Every name the inspector reports can be classified.
        for item in decoded.imports.iter().chain(&decoded.exports) {
            let _ = airlock_core::inspect::Family::of(&item.name);
        }
    }
});
