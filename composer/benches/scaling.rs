//! `cargo bench -p airlock --bench scaling`: the airlock CLI composing
//! generated compositions of `--sizes` instances in several shapes (flat,
//! nested, repeated), as whole processes: time, peak memory, output size, and
//! how time grows with the size. Options: see `harness`.

mod harness;

use anyhow::Result;
use harness::generate::{Shape, base, generate};
use harness::{Args, Table, median, ms, run_measured};
use serde_json::json;
use std::process::Command;
use std::time::Duration;

fn main() -> Result<()> {
    harness::main("scaling", &[("scaling", scaling)])
}

fn scaling(args: &Args, table: &mut Table) -> Result<()> {
    let base = base()?;
    for shape in Shape::ALL {
        let mut times = Vec::new();
        for n in shape.sizes(&args.sizes) {
            let dir = args.work().join(format!("{}-{n}", shape.key()));
            let steps = generate(shape, n, &dir, &base)?;
            let runs = if n >= 1000 { 1 } else { 3 };
            let mut samples = Vec::new();
            let mut rss = 0;
            let mut failure = None;
            'runs: for _ in 0..runs {
                let mut total = Duration::ZERO;
                for (manifest, out) in &steps {
                    let mut cmd = Command::new(&args.airlock);
                    // Every input validated, in every run (no verdict cache).
                    cmd.args(["compose", "--no-cache", "--manifest"])
                        .arg(manifest)
                        .arg("-o")
                        .arg(out);
                    match run_measured(&mut cmd) {
                        Ok((t, m)) => {
                            total += t;
                            rss = rss.max(m);
                        }
                        Err(e) => {
                            failure = Some(format!("{e:#}"));
                            break 'runs;
                        }
                    }
                }
                samples.push(total);
            }
            let what = format!("{}, {n} instances", shape.label());
            match failure {
                Some(e) => {
                    let reason = e.rsplit("failed: ").next().unwrap_or(&e);
                    let short: String = reason.chars().take(100).collect();
                    table.add(
                        "scaling",
                        &what,
                        "fails".into(),
                        short.clone(),
                        json!({"n": n, "shape": shape.key(), "error": e}),
                    );
                }
                None => {
                    let t = median(samples);
                    let out = &steps.last().expect("a step").1;
                    let bytes = std::fs::read(out)?;
                    // The CLI verified it; validate again, independently.
                    let valid = airlock_core::verify::validate(&bytes).is_ok();
                    times.push((n, t));
                    table.add(
                        "scaling",
                        &what,
                        ms(t),
                        format!(
                            "{} MiB peak, output {} KiB, {}",
                            rss / 1024,
                            bytes.len() / 1024,
                            if valid { "valid" } else { "INVALID" }
                        ),
                        json!({"n": n, "shape": shape.key(), "s": t.as_secs_f64(), "maxrss_kib": rss,
                               "output_bytes": bytes.len(), "valid": valid, "processes": steps.len()}),
                    );
                }
            }
            // A failed case's inputs are kept for a look.
            if !table.last_failed() && std::env::var_os("BENCH_KEEP").is_none() {
                std::fs::remove_dir_all(&dir).ok();
            }
        }
        // 100 -> 1000 where both ran; otherwise the two largest sizes.
        let pairs: Vec<((usize, Duration), (usize, Duration))> = match (
            times.iter().find(|(n, _)| *n == 100),
            times.iter().find(|(n, _)| *n == 1000),
        ) {
            (Some(a), Some(b)) if times.last() == Some(b) => vec![(*a, *b)],
            (Some(a), Some(b)) => vec![(*a, *b), (*b, *times.last().expect("ran"))],
            _ if times.len() >= 2 => vec![(times[times.len() - 2], times[times.len() - 1])],
            _ => vec![],
        };
        for ((n0, t0), (n1, t1)) in pairs {
            let growth = t1.as_secs_f64() / t0.as_secs_f64();
            table.add(
                "scaling",
                &format!("{}: time growth {n0} -> {n1} instances", shape.label()),
                format!("{growth:.1}x"),
                format!("{:.1}x is linear", n1 as f64 / n0 as f64),
                json!({"shape": shape.key(), "from": n0, "to": n1, "growth": growth}),
            );
        }
    }
    Ok(())
}
