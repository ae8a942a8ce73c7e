//! What the benchmarks share: their options, the table they print, timing,
//! and the JSON they write. No assertions on timings: numbers to steer by,
//! compared within one run.
//!
//! Usage (the justfile passes these; every benchmark takes them all):
//! `--airlock PATH --wac PATH [--runs N] [--out DIR] [--sizes 10,100,...] [--only SECTION,..]`
//! where `--airlock` is a release build of the CLI (the compose timings are
//! whole-process) and `--wac` a `wac` binary. The benchmarks themselves run in
//! the dev profile with dependencies at opt-level 2 (wasmtime and cranelift
//! are the workspace's test build; see `[profile.dev.package."*"]`).
//!
//! Each benchmark writes its rows to `OUT/parts/NAME.json`, then all parts
//! together to `OUT/latest.json` (`just bench` removes the old parts first).

// Each benchmark uses part of this module.
#![allow(dead_code)]

pub mod generate;

use airlock_core::spec::CompositionSpec;
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The benchmarks, in the order of their rows in `latest.json`.
const BENCHES: [&str; 4] = ["compose", "scaling", "sizes", "runtime"];

pub struct Args {
    pub airlock: PathBuf,
    pub wac: PathBuf,
    pub runs: usize,
    pub out: PathBuf,
    pub sizes: Vec<usize>,
    /// Run only these sections (`compose`, `verify`, `scaling`, `size`,
    /// `runtime`); all when empty.
    pub only: Vec<String>,
}

impl Args {
    /// Where the compositions being timed are written.
    pub fn work(&self) -> PathBuf {
        self.out.join("work")
    }
}

fn args() -> Result<Args> {
    let mut a = Args {
        airlock: PathBuf::from("target/release/airlock"),
        wac: PathBuf::from("target/bench/tools/bin/wac"),
        runs: 11,
        out: PathBuf::from("target/bench"),
        sizes: vec![10, 100, 1000, 5000],
        only: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().with_context(|| format!("`{arg}` needs a value"));
        match arg.as_str() {
            "--airlock" => a.airlock = value()?.into(),
            "--wac" => a.wac = value()?.into(),
            "--runs" => a.runs = value()?.parse()?,
            "--out" => a.out = value()?.into(),
            "--sizes" => {
                a.sizes = value()?
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()?
            }
            "--only" => a.only = value()?.split(',').map(str::to_string).collect(),
            _ => {} // `cargo bench` passes `--bench`
        }
    }
    Ok(a)
}

/// One part of a benchmark, selectable with `--only`.
pub type Section = fn(&Args, &mut Table) -> Result<()>;

/// Runs the benchmark `bench`: those of its `sections` that `--only` selects,
/// in order. Prints its table and writes its part and `latest.json`.
pub fn main(bench: &str, sections: &[(&str, Section)]) -> Result<()> {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("--measure") {
        measure(&argv[2], &argv[3..]);
    }
    let args = args()?;
    let selected: Vec<Section> = sections
        .iter()
        .filter(|(name, _)| args.only.is_empty() || args.only.iter().any(|s| s == name))
        .map(|&(_, section)| section)
        .collect();
    if selected.is_empty() {
        println!("airlock bench {bench}: no section selected by `--only`");
        return Ok(());
    }
    std::env::set_current_dir(root())?;
    std::fs::create_dir_all(args.work())?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let date = String::from_utf8(
        Command::new("date")
            .arg("-u")
            .arg("+%Y-%m-%d %H:%M UTC")
            .output()?
            .stdout,
    )?
    .trim()
    .to_string();
    let header = format!(
        "airlock bench {bench}, {date}, {cores} cores, median of {} runs (airlock CLI: release; wasmtime: dev profile, deps opt-level 2)",
        args.runs
    );
    println!("{header}");
    let mut table = Table::default();
    for section in selected {
        section(&args, &mut table)?;
    }
    table.print(&header);

    let part = json!({
        "date": date,
        "cores": cores,
        "runs": args.runs,
        "rows": table.json(),
    });
    let parts = args.out.join("parts");
    std::fs::create_dir_all(&parts)?;
    let part_path = parts.join(format!("{bench}.json"));
    std::fs::write(&part_path, serde_json::to_string_pretty(&part)?)?;
    let latest = args.out.join("latest.json");
    std::fs::write(&latest, serde_json::to_string_pretty(&merge(&parts)?)?)?;
    println!(
        "\nwritten: {} and {}",
        part_path.display(),
        latest.display()
    );
    Ok(())
}

/// The parts in `dir` as one document: every benchmark's rows, in
/// [`BENCHES`] order, under the date, cores and runs of the first part.
fn merge(dir: &Path) -> Result<Value> {
    let mut merged: Option<Value> = None;
    for bench in BENCHES {
        let path = dir.join(format!("{bench}.json"));
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let part: Value =
            serde_json::from_str(&text).with_context(|| format!("reading `{}`", path.display()))?;
        match &mut merged {
            None => merged = Some(part),
            Some(all) => {
                let rows = part["rows"].as_array().cloned().unwrap_or_default();
                if let Some(all) = all["rows"].as_array_mut() {
                    all.extend(rows);
                }
            }
        }
    }
    merged.with_context(|| format!("no benchmark results in `{}`", dir.display()))
}

/// One row of the table.
pub struct Row {
    section: &'static str,
    what: String,
    value: String,
    /// The comparison, e.g. `0.52x wac plug`.
    ratio: String,
    json: Value,
}

#[derive(Default)]
pub struct Table(Vec<Row>);

impl Table {
    pub fn add(
        &mut self,
        section: &'static str,
        what: &str,
        value: String,
        ratio: String,
        json: Value,
    ) {
        println!("  {section:<10} {what:<58} {value:>14}  {ratio}");
        self.0.push(Row {
            section,
            what: what.to_string(),
            value,
            ratio,
            json,
        });
    }

    /// Whether the last row is a failure (its value `fails`).
    pub fn last_failed(&self) -> bool {
        self.0.last().is_some_and(|r| r.value == "fails")
    }

    fn print(&self, header: &str) {
        println!("\n{header}");
        println!("| section | measure | value | comparison |");
        println!("|---|---|---:|---|");
        for r in &self.0 {
            println!("| {} | {} | {} | {} |", r.section, r.what, r.value, r.ratio);
        }
    }

    fn json(&self) -> Vec<Value> {
        self.0
            .iter()
            .map(|r| {
                json!({
                    "section": r.section, "measure": r.what, "value": r.value,
                    "comparison": r.ratio, "data": r.json,
                })
            })
            .collect()
    }
}

/// The workspace.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The vendored WASI WIT (`wit/deps`).
pub fn wasi_deps() -> PathBuf {
    root().join("wit/deps")
}

/// The vendored WASI 0.3.0 WIT.
pub fn wasi_deps_0_3() -> PathBuf {
    root().join("wit/deps-0.3")
}

/// A component of the workspace, as `just build-components` leaves it.
pub fn component_path(name: &str) -> PathBuf {
    root().join(format!("target/wasm32-wasip2/component/{name}.wasm"))
}

pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

pub fn us(d: Duration) -> String {
    format!("{:.2} µs", d.as_secs_f64() * 1e6)
}

pub fn kib(bytes: usize) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

pub fn ratio(a: f64, b: f64, what: &str) -> String {
    format!("{:.2}x {what}", a / b)
}

/// Runs a command to completion; its wall time and peak resident memory (KiB).
/// Measured by a fresh copy of this binary in between: a child's `ru_maxrss`
/// starts at its parent's peak (Linux records the parent's high-water mark at
/// `exec`), and this process is large, the intermediary is not.
pub fn run_measured(cmd: &mut Command) -> Result<(Duration, u64)> {
    let output = Command::new(std::env::current_exe()?)
        .arg("--measure")
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .stderr(std::process::Stdio::piped())
        .output()?;
    if !output.status.success() {
        bail!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let text = String::from_utf8(output.stdout)?;
    let (secs, rss) = text.trim().split_once(' ').context("measure output")?;
    Ok((Duration::from_secs_f64(secs.parse()?), rss.parse()?))
}

/// `--measure PROGRAM ARGS..`: runs it, prints `SECONDS MAXRSS_KIB`, exits with its status.
fn measure(program: &str, args: &[String]) -> ! {
    let start = Instant::now();
    let child = Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            eprintln!("cannot start `{program}`: {e}");
            std::process::exit(127)
        });
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: `rusage` is plain integers, for which all zeroes is valid.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `status` and `usage` are valid out-pointers; `pid` is our own child.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = start.elapsed();
    if rc != pid || !libc::WIFEXITED(status) {
        std::process::exit(125);
    }
    println!("{} {}", elapsed.as_secs_f64(), usage.ru_maxrss);
    std::process::exit(libc::WEXITSTATUS(status));
}

pub fn example_spec() -> Result<CompositionSpec> {
    let path = root().join("examples/app/airlock.toml");
    let manifest = airlock_core::manifest::Manifest::load(&path)?;
    Ok(CompositionSpec::from_manifest(&manifest, &path)?)
}

/// Composes in this process.
pub fn compose(spec: &CompositionSpec) -> Result<airlock_core::pipeline::Composed> {
    airlock_core::pipeline::compose(spec).map_err(|e| anyhow::anyhow!("{e}"))
}

/// The example app composed two ways, as processes to time: `airlock
/// compose` of its manifest (deny-by-default), and `wac plug` of the same
/// components with the root as the socket and the rest as plugs.
pub struct ExampleApp {
    /// `airlock compose --no-cache`: every input validated, as on a first run.
    pub airlock: Command,
    /// `airlock compose` with a verdict cache of the bench's own (in
    /// [`Args::work`], emptied by [`ExampleApp::new`]): after one run, the
    /// inputs' validation verdicts come from it.
    pub airlock_cached: Command,
    pub wac: Command,
    pub airlock_out: PathBuf,
    pub wac_out: PathBuf,
    /// How many components the manifest composes.
    pub components: usize,
}

impl ExampleApp {
    /// The two commands, writing into [`Args::work`].
    pub fn new(args: &Args) -> Result<Self> {
        let work = args.work();
        let airlock_out = work.join("app-airlock.wasm");
        let wac_out = work.join("app-wac.wasm");
        let compose = |cache: &[&dyn AsRef<std::ffi::OsStr>]| {
            let mut cmd = Command::new(&args.airlock);
            cmd.args(["compose", "--manifest", "examples/app/airlock.toml", "-o"])
                .arg(&airlock_out)
                .args(cache);
            cmd
        };
        let airlock = compose(&[&"--no-cache"]);
        let cache = work.join("verdicts");
        if cache.exists() {
            std::fs::remove_dir_all(&cache)?;
        }
        let airlock_cached = compose(&[&"--cache-dir", &cache]);
        let spec = example_spec()?;
        let mut wac = Command::new(&args.wac);
        wac.arg("plug");
        for inst in spec.instances.iter().filter(|i| i.name != spec.root) {
            wac.arg("--plug").arg(&inst.path);
        }
        let root = spec.instance(&spec.root).context("the root")?;
        // Imports the manifest denies explicitly (libraries left out of the example)
        // get the same deny stub as a plug, so both outputs run in the same host.
        let bytes = std::fs::read(&root.path)?;
        let decoded = airlock_core::inspect::decode(&bytes, &root.path)?;
        let denied: Vec<String> = decoded
            .imports
            .iter()
            .filter(|i| {
                airlock_core::names::InterfaceName::parse(&i.name)
                    .is_some_and(|n| root.deny.matches(&n))
            })
            .map(|i| i.name.clone())
            .collect();
        if !denied.is_empty() {
            let stub = airlock_core::deny::deny_imports(
                &decoded.resolve,
                decoded.world,
                &denied,
                "app",
                &Default::default(),
            )?;
            let path = work.join("deny-app.wasm");
            std::fs::write(&path, stub.bytes)?;
            wac.arg("--plug").arg(path);
        }
        wac.arg(&root.path).arg("-o").arg(&wac_out);
        Ok(ExampleApp {
            airlock,
            airlock_cached,
            wac,
            airlock_out,
            wac_out,
            components: spec.instances.len(),
        })
    }

    /// Runs each command once, leaving both outputs (and the verdict cache filled).
    pub fn build(&mut self) -> Result<()> {
        run_measured(&mut self.airlock)?;
        run_measured(&mut self.airlock_cached)?;
        run_measured(&mut self.wac)?;
        Ok(())
    }
}
