//! `cargo bench -p airlock --bench compose`: composing the example app, the
//! airlock CLI (a whole release process; every input validated, and again
//! with the inputs' validation verdicts from a cache) against `wac plug` on
//! the same components, in time and peak memory (section `compose`); and what
//! per-instance verification costs within composing (section `verify`).
//! Options: see `harness`.

mod harness;

use anyhow::Result;
use harness::{
    Args, ExampleApp, Table, component_path, compose, example_spec, median, ms, ratio, run_measured,
};
use serde_json::json;
use std::time::Instant;

fn main() -> Result<()> {
    harness::main(
        "compose",
        &[
            ("compose", compose_vs_wac),
            ("compose", p3_vs_wac),
            ("verify", verification_share),
        ],
    )
}

fn compose_vs_wac(args: &Args, table: &mut Table) -> Result<()> {
    let mut app = ExampleApp::new(args)?;
    // Warm the page cache (and the verdict cache), then alternate the three.
    app.build()?;
    let (mut ta, mut tc, mut tw) = (Vec::new(), Vec::new(), Vec::new());
    let (mut ma, mut mc, mut mw) = (0, 0, 0);
    for _ in 0..args.runs {
        let (t, m) = run_measured(&mut app.airlock)?;
        ta.push(t);
        ma = ma.max(m);
        let (t, m) = run_measured(&mut app.airlock_cached)?;
        tc.push(t);
        mc = mc.max(m);
        let (t, m) = run_measured(&mut app.wac)?;
        tw.push(t);
        mw = mw.max(m);
    }
    let (a, c, w) = (median(ta), median(tc), median(tw));
    let wac_valid = airlock_core::verify::validate(&std::fs::read(&app.wac_out)?).is_ok();
    table.add(
        "compose",
        &format!(
            "example app, {} components, deny-by-default (airlock, --no-cache)",
            app.components
        ),
        ms(a),
        ratio(a.as_secs_f64(), w.as_secs_f64(), "wac plug"),
        json!({"airlock_s": a.as_secs_f64(), "wac_s": w.as_secs_f64(), "airlock_maxrss_kib": ma, "wac_maxrss_kib": mw}),
    );
    table.add(
        "compose",
        "the same, input verdicts from the cache (a second run)",
        ms(c),
        ratio(c.as_secs_f64(), w.as_secs_f64(), "wac plug"),
        json!({"airlock_cached_s": c.as_secs_f64(), "wac_s": w.as_secs_f64(), "airlock_cached_maxrss_kib": mc}),
    );
    table.add(
        "compose",
        &format!("same components, `wac plug` 0.12, no virtualization (valid: {wac_valid})"),
        ms(w),
        String::new(),
        json!({"wac_s": w.as_secs_f64()}),
    );
    table.add(
        "compose",
        "peak memory, airlock (--no-cache) / wac plug",
        format!("{} MiB", ma / 1024),
        ratio(ma as f64, mw as f64, "wac plug"),
        json!({"airlock_kib": ma, "airlock_cached_kib": mc, "wac_kib": mw}),
    );
    Ok(())
}

/// A WASI 0.3 example against `wac plug` on the same inputs: the async
/// probe (every WASI 0.3 entry point that yields authority, async functions,
/// streams and futures) plugged with the async vault. airlock denies all of
/// WASI 0.3 inside (deny by default, `--no-cache`); wac links the vault and
/// leaves WASI to the host.
fn p3_vs_wac(args: &Args, table: &mut Table) -> Result<()> {
    let work = args.work();
    std::fs::create_dir_all(&work)?;
    let (probe, vault) = (component_path("async_probe"), component_path("async_vault"));
    let mut airlock = std::process::Command::new(&args.airlock);
    airlock
        .arg("compose")
        .arg(&probe)
        .arg("--plug")
        .arg(&vault)
        .arg("--no-cache")
        .arg("-o")
        .arg(work.join("p3-airlock.wasm"));
    let mut wac = std::process::Command::new(&args.wac);
    wac.arg("plug")
        .arg(&probe)
        .arg("--plug")
        .arg(&vault)
        .arg("-o")
        .arg(work.join("p3-wac.wasm"));
    run_measured(&mut airlock)?;
    run_measured(&mut wac)?;
    let (mut ta, mut tw) = (Vec::new(), Vec::new());
    for _ in 0..args.runs {
        ta.push(run_measured(&mut airlock)?.0);
        tw.push(run_measured(&mut wac)?.0);
    }
    let (a, w) = (median(ta), median(tw));
    table.add(
        "compose",
        "WASI 0.3 example (async probe + vault), all of WASI 0.3 denied (--no-cache)",
        ms(a),
        ratio(a.as_secs_f64(), w.as_secs_f64(), "wac plug"),
        json!({"airlock_s": a.as_secs_f64(), "wac_s": w.as_secs_f64()}),
    );
    table.add(
        "compose",
        "same components, `wac plug` 0.12, WASI 0.3 left to the host",
        ms(w),
        String::new(),
        json!({"wac_s": w.as_secs_f64()}),
    );
    Ok(())
}

/// What per-instance verification (reading the output's instances and checking
/// each one's host reach against its grants) costs, as a share of composing the
/// example app in-process. Both run in this bench's profile (the composer's own
/// code unoptimized, its dependencies at opt-level 2), so the share is an upper
/// bound of the release figure.
fn verification_share(args: &Args, table: &mut Table) -> Result<()> {
    let spec = example_spec()?;
    let bytes = compose(&spec)?.bytes;
    let (mut whole, mut imports_only, mut compose_times) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..args.runs {
        let t = Instant::now();
        compose(&spec)?;
        compose_times.push(t.elapsed());
        let t = Instant::now();
        airlock_core::verify::check(&bytes, &spec)?;
        whole.push(t.elapsed());
        let t = Instant::now();
        airlock_core::verify::check_output(&bytes, &spec.allow)?;
        imports_only.push(t.elapsed());
    }
    let (c, w, i) = (median(compose_times), median(whole), median(imports_only));
    let per_instance = w.saturating_sub(i);
    table.add(
        "verify",
        "per-instance verification of the example app (in-process)",
        ms(per_instance),
        format!(
            "{:.1}% of compose ({}); allow-list check and validation {}",
            100.0 * per_instance.as_secs_f64() / c.as_secs_f64(),
            ms(c),
            ms(i)
        ),
        json!({"per_instance_ms": per_instance.as_secs_f64() * 1e3, "compose_ms": c.as_secs_f64() * 1e3, "imports_and_validation_ms": i.as_secs_f64() * 1e3}),
    );
    Ok(())
}
