//! `cargo bench -p airlock --bench sizes`: output size, the example app
//! deny-by-default against all granted, the deny stubs of WASI 0.2's
//! interfaces, and what denying all of WASI to one library adds (section
//! `size`); each prebuilt interposer's bytes, split into its code and data
//! and the rest, which the component model requires whatever the code
//! (section `interposer`). Sizes are exact; nothing is timed. Options: see
//! `harness`.

mod harness;

use airlock_core::policy::PatternSet;
use airlock_core::spec::CompositionSpec;
use airlock_core::testkit::{component_from_wit, wasi_resolve};
use anyhow::Result;
use harness::{Args, Table, compose, example_spec, kib, ratio, wasi_deps, wasi_deps_0_3};
use serde_json::json;

fn main() -> Result<()> {
    harness::main("sizes", &[("size", sizes), ("interposer", interposers)])
}

fn spec_all_granted(mut spec: CompositionSpec) -> CompositionSpec {
    spec.allow = PatternSet::parse(&["wasi:*"]).expect("valid");
    for i in &mut spec.instances {
        i.grant = PatternSet::parse(&["wasi:*"]).expect("valid");
    }
    spec
}

fn sizes(_: &Args, table: &mut Table) -> Result<()> {
    let spec = example_spec()?;
    let denied = compose(&spec)?;
    let granted = compose(&spec_all_granted(spec))?;
    let n_denied: usize = denied
        .report
        .plan
        .instances
        .iter()
        .flat_map(|i| &i.imports)
        .filter(|i| matches!(i.fate, airlock_core::plan::Fate::Denied { .. }))
        .count();
    let (d, g) = (denied.bytes.len(), granted.bytes.len());
    table.add(
        "size",
        "example app, deny-by-default",
        kib(d),
        ratio(d as f64, g as f64, "all granted"),
        json!({"denied_bytes": d, "granted_bytes": g}),
    );
    table.add(
        "size",
        "example app, everything granted (no virtualization)",
        kib(g),
        String::new(),
        json!({"bytes": g}),
    );
    table.add(
        "size",
        &format!("example app: added per denied interface ({n_denied} denied)"),
        format!("{} B", (d - g) / n_denied.max(1)),
        format!("{} B in all", d - g),
        json!({"added": d - g, "denied_interfaces": n_denied}),
    );

    // One stub per WASI interface alone, and one stub for all of WASI.
    let resolve = wasi_resolve(&wasi_deps())?;
    let ids: Vec<_> = resolve
        .interfaces
        .iter()
        .filter(|(_, i)| i.name.is_some())
        .map(|(id, _)| id)
        .collect();
    let mut alone = Vec::new();
    for &id in &ids {
        alone.push(
            airlock_core::virtualize::synthesize(&resolve, &[id], "x")?
                .bytes
                .len(),
        );
    }
    let all = airlock_core::virtualize::synthesize(&resolve, &ids, "x")?
        .bytes
        .len();
    table.add(
        "size",
        &format!(
            "deny stub, one WASI 0.2 interface alone (mean of {})",
            ids.len()
        ),
        format!("{} B", alone.iter().sum::<usize>() / alone.len()),
        format!(
            "min {} B, max {} B",
            alone.iter().min().unwrap(),
            alone.iter().max().unwrap()
        ),
        json!({"per_interface": alone}),
    );
    table.add(
        "size",
        &format!("deny stub, all {} WASI 0.2 interfaces in one", ids.len()),
        kib(all),
        format!("{} B per interface", all / ids.len()),
        json!({"bytes": all}),
    );

    deny_all_added(table, "0.2", &wasi_deps(), &ids, &resolve)?;
    let resolve_03 = wasi_resolve(&wasi_deps_0_3())?;
    let ids_03: Vec<_> = resolve_03
        .interfaces
        .iter()
        .filter(|(_, i)| i.name.is_some())
        .map(|(id, _)| id)
        .collect();
    deny_all_added(table, "0.3", &wasi_deps_0_3(), &ids_03, &resolve_03)?;
    Ok(())
}

/// A library importing every interface `ids` of WASI `version` (its WIT in
/// `deps`), composed under an app: the bytes denying them all adds, against
/// granting them all. The goal is WASI 0.2's figure for both (issue #13:
/// denying 0.3 costs no more than 0.2).
fn deny_all_added(
    table: &mut Table,
    version: &str,
    deps: &std::path::Path,
    ids: &[wit_parser::InterfaceId],
    resolve: &wit_parser::Resolve,
) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("airlock-bench-{}-{version}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut lib_wit =
        String::from("package bench:lib;\ninterface api { f: func() -> u32; }\nworld lib {\n");
    for &id in ids {
        let name = resolve.id_of(id).expect("named");
        lib_wit += &format!("  import {name};\n");
    }
    lib_wit += "  export api;\n}\n";
    let app_wit = "package bench:lib;\ninterface api { f: func() -> u32; }\nworld app { import api; export api; }\n";
    std::fs::write(
        dir.join("lib.wasm"),
        component_from_wit(&lib_wit, Some(deps))?,
    )?;
    std::fs::write(dir.join("app.wasm"), component_from_wit(app_wit, None)?)?;
    let spec = CompositionSpec::from_plugs(
        &dir.join("app.wasm"),
        &[dir.join("lib.wasm")],
        &[],
        &[],
        &[],
    )?;
    let denied = compose(&spec)?.bytes.len();
    let granted = compose(&spec_all_granted(spec))?.bytes.len();
    std::fs::remove_dir_all(&dir).ok();
    let added = denied - granted;
    table.add(
        "size",
        &format!(
            "deny ALL of WASI {version} ({} interfaces) to one library: bytes added",
            ids.len()
        ),
        kib(added),
        format!(
            "goal <= 32 KiB: {}",
            if added <= 32 * 1024 { "met" } else { "missed" }
        ),
        json!({"version": version, "denied_bytes": denied, "granted_bytes": granted, "added": added}),
    );
    Ok(())
}

/// Each interposer under `composer/interposers/`: its bytes, and how many of
/// them are its core modules' code and data. The rest (component types,
/// lifts, lowers, aliases, instances, the core modules' other sections and
/// every import and export name) is the floor no code change lowers: an
/// interposer exports each interface it narrows whole.
fn interposers(_: &Args, table: &mut Table) -> Result<()> {
    let dir = harness::root().join("composer/interposers");
    let mut files: Vec<_> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
        .collect();
    files.sort();
    for path in files {
        let bytes = std::fs::read(&path)?;
        let code_and_data = code_and_data(&bytes)?;
        let rest = bytes.len() - code_and_data;
        let kind = path.file_stem().unwrap_or_default().to_string_lossy();
        table.add(
            "interposer",
            &format!("`{kind}`: bytes; code and data / the rest"),
            format!("{} B", bytes.len()),
            format!(
                "{code_and_data} B / {rest} B; code and data that would fit 12 KiB: {} B",
                12_288usize.saturating_sub(rest)
            ),
            json!({"kind": kind, "bytes": bytes.len(), "code_and_data": code_and_data, "rest": rest}),
        );
    }
    Ok(())
}

/// The bytes of every code and data section of every core module nested in
/// `component`, at any depth.
fn code_and_data(component: &[u8]) -> Result<usize> {
    use wasmparser::{Parser, Payload};
    let mut sum = 0;
    for payload in Parser::new(0).parse_all(component) {
        let range = match payload? {
            Payload::CodeSectionStart { range, .. } => range,
            Payload::DataSection(reader) => reader.range(),
            _ => continue,
        };
        sum += usize::try_from(range.end - range.start)?;
    }
    Ok(sum)
}
