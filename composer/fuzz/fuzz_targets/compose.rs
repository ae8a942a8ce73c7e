//! The whole pipeline on mutated component bytes. The first byte picks a
//! policy; the rest is the root component. The composer must refuse or write
//! an output that validates and whose imports (read with wasmparser alone)
//! all match the allow-list or are `wasi:io` interfaces (the only `use`
//! dependencies of the `wasi:cli` interfaces the policies below list alone).
#![no_main]

use airlock_core::policy::PatternSet;
use airlock_core::spec::CompositionSpec;
use libfuzzer_sys::fuzz_target;

const POLICIES: &[&[&str]] = &[
    &[],
    &["wasi:cli/stdout@0.2"],
    &["wasi:*"],
    &["wasi:cli/*", "wasi:io/*"],
    &["*"],
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, component)) = data.split_first() else {
        return;
    };
    let allow: Vec<String> = POLICIES[usize::from(selector) % POLICIES.len()]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root.wasm");
    std::fs::write(&root, component).unwrap();
    let deny = if selector & 0x80 != 0 {
        vec!["*".to_string()]
    } else {
        vec![]
    };
    let spec = CompositionSpec::from_plugs(&root, &[], &allow, &[], &deny).unwrap();
    let Ok(composed) = airlock_core::pipeline::compose(&spec) else {
        return;
    };
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&composed.bytes)
        .expect("the output validates");
    let allow = PatternSet::parse(&allow).unwrap();
    let verified = airlock_core::verify::check_output(&composed.bytes, &allow).expect("verified");
    for name in top_level_imports(&composed.bytes) {
        assert!(
            verified.0.contains_key(&name),
            "`{name}` is imported but not verified"
        );
        let parsed = airlock_core::names::InterfaceName::parse(&name).expect("an interface");
        assert!(
            allow.matches(&parsed) || (parsed.is_wasi() && parsed.package == "io"),
            "`{name}` is outside the allow-list"
        );
    }
});

/// The output's top-level import names, with wasmparser alone.
fn top_level_imports(bytes: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    let mut depth = 0usize;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.expect("parses") {
            wasmparser::Payload::ModuleSection { .. }
            | wasmparser::Payload::ComponentSection { .. } => depth += 1,
            wasmparser::Payload::End(_) => depth = depth.saturating_sub(1),
            wasmparser::Payload::ComponentImportSection(reader) if depth == 0 => {
                for import in reader {
                    names.push(import.expect("an import").name.name.to_string());
                }
            }
            _ => {}
        }
    }
    names
}
