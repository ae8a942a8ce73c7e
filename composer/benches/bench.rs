//! `just bench`: compose speed against `wac plug`, scaling, output size and
//! runtime overhead in wasmtime. Prints ONE table and writes it as JSON.
//! No assertions on timings: numbers to steer by, compared within one run.
//!
//! Usage (the justfile passes these):
//! `bench --airlock PATH --wac PATH [--runs N] [--out DIR] [--sizes 10,100,...]`
//! where `--airlock` is a release build of the CLI (the compose timings are
//! whole-process) and `--wac` a `wac` binary. This binary itself runs in the
//! dev profile with dependencies at opt-level 2 (wasmtime and cranelift are
//! the workspace's test build; see `[profile.dev.package."*"]`).

use airlock_core::policy::PatternSet;
use airlock_core::spec::CompositionSpec;
use airlock_core::testkit::wat;
use airlock_host::{HostConfig, HostState, Preopen, Session, engine};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use wasmtime::component::{Component, Linker, Val};
use wasmtime::{Engine, Store};
use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::{ManglingAndAbi, Resolve};

const WASI: [&str; 7] = airlock_core::testkit::WASI_PACKAGES;

struct Args {
    airlock: PathBuf,
    wac: PathBuf,
    runs: usize,
    out: PathBuf,
    sizes: Vec<usize>,
    /// Run only these sections (`compose`, `scaling`, `size`, `runtime`); all when empty.
    only: Vec<String>,
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

/// One row of the table.
struct Row {
    section: &'static str,
    what: String,
    value: String,
    /// The comparison, e.g. `0.52x wac plug`.
    ratio: String,
    json: Value,
}

#[derive(Default)]
struct Table(Vec<Row>);

impl Table {
    fn add(
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

    fn print(&self, header: &str) {
        println!("\n{header}");
        println!("| section | measure | value | comparison |");
        println!("|---|---|---:|---|");
        for r in &self.0 {
            println!("| {} | {} | {} | {} |", r.section, r.what, r.value, r.ratio);
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn component_path(name: &str) -> PathBuf {
    root().join(format!("target/wasm32-wasip2/component/{name}.wasm"))
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn us(d: Duration) -> String {
    format!("{:.2} µs", d.as_secs_f64() * 1e6)
}

fn ratio(a: f64, b: f64, what: &str) -> String {
    format!("{:.2}x {what}", a / b)
}

/// Runs a command to completion; its wall time and peak resident memory (KiB).
/// Measured by a fresh copy of this binary in between: a child's `ru_maxrss`
/// starts at its parent's peak (Linux records the parent's high-water mark at
/// `exec`), and this process is large, the intermediary is not.
fn run_measured(cmd: &mut Command) -> Result<(Duration, u64)> {
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
    // SAFETY: `usage` is a valid out-pointer for wait4 on our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = start.elapsed();
    if rc != pid || !libc::WIFEXITED(status) {
        std::process::exit(125);
    }
    println!("{} {}", elapsed.as_secs_f64(), usage.ru_maxrss);
    std::process::exit(libc::WEXITSTATUS(status));
}

fn main() -> Result<()> {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("--measure") {
        measure(&argv[2], &argv[3..]);
    }
    let args = args()?;
    std::env::set_current_dir(root())?;
    let work = args.out.join("work");
    std::fs::create_dir_all(&work)?;
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
        "airlock bench, {date}, {cores} cores, median of {} runs (airlock CLI: release; wasmtime: dev profile, deps opt-level 2)",
        args.runs
    );
    println!("{header}");
    let mut table = Table::default();

    let run = |section: &str| args.only.is_empty() || args.only.iter().any(|s| s == section);
    if run("compose") {
        compose_vs_wac(&args, &work, &mut table)?;
    }
    if run("verify") {
        verification_share(&args, &mut table)?;
    }
    if run("scaling") {
        scaling(&args, &work, &mut table)?;
    }
    if run("size") {
        sizes(&mut table)?;
    }
    if run("runtime") {
        runtime(&args, &work, &mut table)?;
    }

    table.print(&header);
    let json = json!({
        "date": date,
        "cores": cores,
        "runs": args.runs,
        "rows": table.0.iter().map(|r| json!({
            "section": r.section, "measure": r.what, "value": r.value,
            "comparison": r.ratio, "data": r.json,
        })).collect::<Vec<_>>(),
    });
    let stamp = date.replace([' ', ':'], "-");
    std::fs::write(
        args.out.join("latest.json"),
        serde_json::to_string_pretty(&json)?,
    )?;
    std::fs::write(
        args.out.join(format!("bench-{stamp}.json")),
        serde_json::to_string_pretty(&json)?,
    )?;
    println!("\nwritten: {}/latest.json", args.out.display());
    Ok(())
}

// ---------------------------------------------------------------- compose vs wac

fn compose_vs_wac(args: &Args, work: &Path, table: &mut Table) -> Result<()> {
    let out_airlock = work.join("app-airlock.wasm");
    let out_wac = work.join("app-wac.wasm");
    let mut airlock = Command::new(&args.airlock);
    airlock
        .args(["compose", "--manifest", "examples/app/airlock.toml", "-o"])
        .arg(&out_airlock);
    // The same components as the manifest: the root as the socket, the rest as plugs.
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
    wac.arg(&root.path).arg("-o").arg(&out_wac);
    // Warm the page cache, then alternate the two.
    run_measured(&mut airlock)?;
    run_measured(&mut wac)?;
    let (mut ta, mut tw, mut ma, mut mw) = (Vec::new(), Vec::new(), 0, 0);
    for _ in 0..args.runs {
        let (t, m) = run_measured(&mut airlock)?;
        ta.push(t);
        ma = ma.max(m);
        let (t, m) = run_measured(&mut wac)?;
        tw.push(t);
        mw = mw.max(m);
    }
    let (a, w) = (median(ta), median(tw));
    let wac_valid = airlock_core::verify::validate(&std::fs::read(&out_wac)?).is_ok();
    table.add(
        "compose",
        &format!("example app, {} components, deny-by-default (airlock)", spec.instances.len()),
        ms(a),
        ratio(a.as_secs_f64(), w.as_secs_f64(), "wac plug"),
        json!({"airlock_s": a.as_secs_f64(), "wac_s": w.as_secs_f64(), "airlock_maxrss_kib": ma, "wac_maxrss_kib": mw}),
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
        "peak memory, airlock / wac plug",
        format!("{} MiB", ma / 1024),
        ratio(ma as f64, mw as f64, "wac plug"),
        json!({"airlock_kib": ma, "wac_kib": mw}),
    );
    Ok(())
}

// ---------------------------------------------------------------- scaling

/// A composition shape for the scaling runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// The root imports every other instance's interface; each leaf imports
    /// `wasi:random/random`, which is denied (one denial component per leaf).
    FanOutDeny,
    /// Instance `i` imports the interfaces of `2i+1` and `2i+2` (depth log2 n).
    Tree,
    /// Instance `i` imports the interface of `i+1` (depth n).
    Chain,
    /// Fan-outs of 100 leaves (each denied `wasi:random`) composed first, then
    /// composed under one root: a composed output is an ordinary component.
    Nested,
    /// Groups of up to 400 instances of the SAME two components (a chain
    /// alternating `a` and `b`, wired explicitly), each group composed
    /// first, then a root over the groups. No denials.
    Repeated,
}

/// Chain instances per group of the repeated shape.
const CHAIN: usize = 400;

/// Leaves per group of the nested shape.
const GROUP: usize = 100;

impl Shape {
    fn label(self) -> &'static str {
        match self {
            Shape::FanOutDeny => "flat fan-out, each leaf denied wasi:random",
            Shape::Tree => "flat binary tree",
            Shape::Chain => "flat chain",
            Shape::Nested => "nested fan-outs of 100, each leaf denied wasi:random",
            Shape::Repeated => "nested chains of 400, two components repeated",
        }
    }
    fn key(self) -> &'static str {
        match self {
            Shape::FanOutDeny => "fanout",
            Shape::Tree => "tree",
            Shape::Chain => "chain",
            Shape::Nested => "nested",
            Shape::Repeated => "repeated",
        }
    }
    /// The sizes run: a flat component holds at most 1000 instances
    /// (wasmparser's limit, which wasmtime shares), and each composed instance
    /// takes two (its instantiation and the alias of its export), four with a
    /// denial component.
    fn sizes(self, requested: &[usize]) -> Vec<usize> {
        let max = match self {
            Shape::FanOutDeny => 240,
            Shape::Tree | Shape::Chain => 450,
            // Its definitions are 5 per leaf: validating them is quadratic in
            // their number in wasmparser (and wasmtime), 1.2 GB at 1000.
            Shape::Nested => 1000,
            Shape::Repeated => usize::MAX,
        };
        let mut sizes: Vec<usize> = requested.iter().map(|&n| n.min(max)).collect();
        sizes.dedup();
        sizes
    }
    fn imports(self, i: usize, n: usize) -> Vec<usize> {
        let v: Vec<usize> = match self {
            Shape::FanOutDeny | Shape::Nested if i == 0 => (1..n).collect(),
            Shape::FanOutDeny | Shape::Nested => vec![],
            Shape::Tree => vec![2 * i + 1, 2 * i + 2],
            Shape::Chain => vec![i + 1],
            Shape::Repeated => unreachable!("generated by `generate_repeated`"),
        };
        v.into_iter().filter(|&j| j < n).collect()
    }
}

/// Builds a component from WIT text with a dummy (trapping) core module.
fn component(resolve: &Resolve, wit: &str) -> Result<Vec<u8>> {
    let mut resolve = resolve.clone();
    let pkg = resolve.push_str("gen.wit", wit)?;
    let world = resolve.select_world(&[pkg], None)?;
    let mut module = wit_component::dummy_module(&resolve, world, ManglingAndAbi::Standard32);
    wit_component::embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8)?;
    ComponentEncoder::default().module(&module)?.encode()
}

/// One generated composition step: `c0.wasm` .. in `dir`, `c0` the root
/// (instances `first..first+n` export `api{i}`), and its manifest.
fn generate_flat(
    shape: Shape,
    first: usize,
    n: usize,
    dir: &Path,
    base: &Resolve,
) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let iface = |i: usize| format!("interface api{i} {{ f: func(x: u32) -> u32; }}\n");
    let mut manifest = String::from("[output]\nroot = \"c0\"\n[allow]\ninterfaces = []\n");
    for i in 0..n {
        let imports = shape.imports(i, n);
        let mut wit = String::from("package bench:lib;\n");
        wit += &iface(first + i);
        for &j in &imports {
            wit += &iface(first + j);
        }
        wit += "world w {\n";
        for &j in &imports {
            wit += &format!("  import api{};\n", first + j);
        }
        if matches!(shape, Shape::FanOutDeny | Shape::Nested) && i > 0 {
            wit += "  import wasi:random/random@0.2.12;\n";
        }
        wit += &format!("  export api{};\n}}\n", first + i);
        let bytes = component(base, &wit).with_context(|| format!("generating c{i}"))?;
        std::fs::write(dir.join(format!("c{i}.wasm")), bytes)?;
        manifest += &format!("[components.c{i}]\npath = \"c{i}.wasm\"\n");
    }
    let path = dir.join("airlock.toml");
    std::fs::write(&path, manifest)?;
    Ok(path)
}

/// The compositions to run in order for `n` instances of `shape`; the last
/// one is the result. Nested: groups of [`GROUP`] leaves under a group root
/// (`api{first}`), then one root over the groups' outputs.
fn generate(shape: Shape, n: usize, dir: &Path, base: &Resolve) -> Result<Vec<(PathBuf, PathBuf)>> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    if shape == Shape::Repeated {
        return generate_repeated(n, dir, base);
    }
    if shape != Shape::Nested {
        let m = generate_flat(shape, 0, n, dir, base)?;
        return Ok(vec![(m, dir.join("out.wasm"))]);
    }
    let groups = n.div_ceil(GROUP + 1);
    let mut steps = Vec::new();
    let mut top = String::from("[output]\nroot = \"top\"\n[allow]\ninterfaces = []\n");
    let mut top_wit = String::from("package bench:lib;\n");
    let mut top_world = String::from("world w {\n");
    for g in 0..groups {
        let first = 1_000_000 * (g + 1);
        let size = (n - 1 - g * (GROUP + 1)).min(GROUP + 1);
        let gdir = dir.join(format!("g{g}"));
        let m = generate_flat(Shape::Nested, first, size, &gdir, base)?;
        let out = dir.join(format!("g{g}.wasm"));
        steps.push((m, out));
        top += &format!("[components.g{g}]\npath = \"g{g}.wasm\"\n");
        top_wit += &format!("interface api{first} {{ f: func(x: u32) -> u32; }}\n");
        top_world += &format!("  import api{first};\n");
    }
    top_wit += "interface api0 { f: func(x: u32) -> u32; }\n";
    top_world += "  export api0;\n}\n";
    std::fs::write(
        dir.join("top.wasm"),
        component(base, &(top_wit + &top_world))?,
    )?;
    top += "[components.top]\npath = \"top.wasm\"\n";
    std::fs::write(dir.join("airlock.toml"), top)?;
    steps.push((dir.join("airlock.toml"), dir.join("out.wasm")));
    Ok(steps)
}

/// The repeated shape: `a.wasm` (imports `b`, exports `a`), `b.wasm` (the
/// reverse) and terminators `ta.wasm`/`tb.wasm`, shared by every group; group
/// `g` is `r{g}` (exports `group{g}`, imports `a`) over a wired chain.
fn generate_repeated(n: usize, dir: &Path, base: &Resolve) -> Result<Vec<(PathBuf, PathBuf)>> {
    std::fs::create_dir_all(dir)?;
    let ifaces = "package bench:lib;\ninterface a { f: func(x: u32) -> u32; }\ninterface b { f: func(x: u32) -> u32; }\n";
    for (file, world) in [
        ("a", "import b; export a;"),
        ("b", "import a; export b;"),
        ("ta", "export a;"),
        ("tb", "export b;"),
    ] {
        let wit = format!("{ifaces}world w {{ {world} }}\n");
        std::fs::write(dir.join(format!("{file}.wasm")), component(base, &wit)?)?;
    }
    let per_group = CHAIN + 2; // root, chain, terminator
    let groups = (n - 1).div_ceil(per_group);
    let mut steps = Vec::new();
    let mut top = String::from("[output]\nroot = \"top\"\n[allow]\ninterfaces = []\n");
    let mut top_wit = String::from("package bench:lib;\n");
    let mut top_world = String::from("world w {\n");
    let mut left = n - 1;
    for g in 0..groups {
        let size = left.min(per_group);
        left -= size;
        let chain = size.saturating_sub(2).max(1);
        let group = format!("interface group{g} {{ f: func(x: u32) -> u32; }}\n");
        let wit = format!("{ifaces}{group}world w {{ import a; export group{g}; }}\n");
        std::fs::write(dir.join(format!("r{g}.wasm")), component(base, &wit)?)?;
        let mut m = String::from("[output]\nroot = \"r\"\n[allow]\ninterfaces = []\n");
        m += &format!(
            "[components.r]\npath = \"r{g}.wasm\"\nwire = {{ \"bench:lib/a\" = \"c1\" }}\n"
        );
        for i in 1..=chain {
            let (file, import) = if i % 2 == 1 { ("a", "b") } else { ("b", "a") };
            m += &format!(
                "[components.c{i}]\npath = \"{file}.wasm\"\nwire = {{ \"bench:lib/{import}\" = \"c{}\" }}\n",
                i + 1
            );
        }
        let term = if chain % 2 == 1 { "tb" } else { "ta" };
        m += &format!("[components.c{}]\npath = \"{term}.wasm\"\n", chain + 1);
        let manifest = dir.join(format!("g{g}.toml"));
        std::fs::write(&manifest, m)?;
        steps.push((manifest, dir.join(format!("g{g}.wasm"))));
        top += &format!("[components.g{g}]\npath = \"g{g}.wasm\"\n");
        top_wit += &group;
        top_world += &format!("  import group{g};\n");
    }
    top_wit += "interface top { f: func(x: u32) -> u32; }\n";
    top_world += "  export top;\n}\n";
    std::fs::write(
        dir.join("top.wasm"),
        component(base, &(top_wit + &top_world))?,
    )?;
    top += "[components.top]\npath = \"top.wasm\"\n";
    std::fs::write(dir.join("airlock.toml"), top)?;
    steps.push((dir.join("airlock.toml"), dir.join("out.wasm")));
    Ok(steps)
}

fn scaling(args: &Args, work: &Path, table: &mut Table) -> Result<()> {
    let mut base = Resolve::default();
    for p in ["io", "random"] {
        base.push_path(root().join("wit/deps").join(p))?;
    }
    for shape in [
        Shape::Chain,
        Shape::Tree,
        Shape::FanOutDeny,
        Shape::Nested,
        Shape::Repeated,
    ] {
        let mut times = Vec::new();
        for n in shape.sizes(&args.sizes) {
            let dir = work.join(format!("{}-{n}", shape.key()));
            let steps = generate(shape, n, &dir, &base)?;
            let runs = if n >= 1000 { 1 } else { 3 };
            let mut samples = Vec::new();
            let mut rss = 0;
            let mut failure = None;
            'runs: for _ in 0..runs {
                let mut total = Duration::ZERO;
                for (manifest, out) in &steps {
                    let mut cmd = Command::new(&args.airlock);
                    cmd.args(["compose", "--manifest"])
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
            if failure_kept(&table.0) && std::env::var_os("BENCH_KEEP").is_none() {
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

/// Keeps a failed case's inputs for a look (the last row says "fails").
fn failure_kept(rows: &[Row]) -> bool {
    rows.last().is_none_or(|r| r.value != "fails")
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

// ---------------------------------------------------------------- sizes

fn spec_all_granted(mut spec: CompositionSpec) -> CompositionSpec {
    spec.allow = PatternSet::parse(&["wasi:*"]).expect("valid");
    for i in &mut spec.instances {
        i.grant = PatternSet::parse(&["wasi:*"]).expect("valid");
    }
    spec
}

fn example_spec() -> Result<CompositionSpec> {
    let path = root().join("examples/app/airlock.toml");
    let manifest = airlock_core::manifest::Manifest::load(&path)?;
    Ok(CompositionSpec::from_manifest(&manifest, &path)?)
}

fn compose(spec: &CompositionSpec) -> Result<airlock_core::pipeline::Composed> {
    airlock_core::pipeline::compose(spec).map_err(|e| anyhow::anyhow!("{e}"))
}

fn wasi_resolve(all_features: bool) -> Result<Resolve> {
    let mut resolve = Resolve {
        all_features,
        ..Resolve::default()
    };
    for p in WASI {
        resolve.push_path(root().join("wit/deps").join(p))?;
    }
    Ok(resolve)
}

fn kib(bytes: usize) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

fn sizes(table: &mut Table) -> Result<()> {
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
    let resolve = wasi_resolve(false)?;
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

    // A library importing all of WASI 0.2, composed under an app: denied vs granted.
    let dir = std::env::temp_dir().join(format!("airlock-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut lib_wit =
        String::from("package bench:lib;\ninterface api { f: func() -> u32; }\nworld lib {\n");
    for &id in &ids {
        let name = resolve.id_of(id).expect("named");
        lib_wit += &format!("  import {name};\n");
    }
    lib_wit += "  export api;\n}\n";
    let app_wit = "package bench:lib;\ninterface api { f: func() -> u32; }\nworld app { import api; export api; }\n";
    let mut base = resolve.clone();
    base.all_features = false;
    std::fs::write(dir.join("lib.wasm"), component(&base, &lib_wit)?)?;
    std::fs::write(dir.join("app.wasm"), component(&base, app_wit)?)?;
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
        "deny ALL of WASI 0.2 to one library: bytes added to the output",
        kib(added),
        format!(
            "goal <= 32 KiB: {}",
            if added <= 32 * 1024 { "met" } else { "missed" }
        ),
        json!({"denied_bytes": denied, "granted_bytes": granted, "added": added}),
    );
    Ok(())
}

// ---------------------------------------------------------------- runtime

fn linker(engine: &Engine) -> Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut linker)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok(linker)
}

fn store(engine: &Engine) -> Result<Store<HostState>> {
    Ok(Store::new(engine, HostState::new(&Default::default())?))
}

fn compile(engine: &Engine, bytes: &[u8]) -> Result<Component> {
    Component::new(engine, bytes).map_err(|e| anyhow::anyhow!("{e:?}"))
}

/// Median compile times (no cache) and median instantiation times of two
/// components, measured alternately so that other load on the machine hits
/// both alike. Instantiation uses the project's host (`Session::instantiate`:
/// it links exactly what the component imports, then instantiates),
/// permitting files, network and HTTP.
fn compile_and_instantiate(
    engine: &Engine,
    pair: [&[u8]; 2],
    runs: usize,
) -> Result<[(Duration, Duration, Duration); 2]> {
    let mut compiles = [Vec::new(), Vec::new()];
    let mut cpu = [Vec::new(), Vec::new()];
    let mut components = [None, None];
    for _ in 0..runs.min(7) {
        for k in 0..2 {
            let (start, start_cpu) = (Instant::now(), cpu_time());
            components[k] = Some(compile(engine, pair[k])?);
            compiles[k].push(start.elapsed());
            cpu[k].push(cpu_time() - start_cpu);
        }
    }
    let config = HostConfig {
        dirs: vec![Preopen {
            host: root().join("examples/app"),
            guest: "/docs".into(),
            read_only: true,
        }],
        allow_net: true,
        allow_http: true,
        ..HostConfig::default()
    };
    let mut inst = [Vec::new(), Vec::new()];
    for _ in 0..(runs * 20) {
        for k in 0..2 {
            let component = components[k].as_ref().expect("compiled");
            let start = Instant::now();
            let session = Session::instantiate(engine, component, &config)?;
            inst[k].push(start.elapsed());
            drop(session);
        }
    }
    let [c0, c1] = compiles;
    let [u0, u1] = cpu;
    let [i0, i1] = inst;
    Ok([
        (median(c0), median(u0), median(i0)),
        (median(c1), median(u1), median(i1)),
    ])
}

/// CPU time (user + system) of this process so far, all threads: compilation
/// runs on every core, so wall time suffers from any other load on the machine.
fn cpu_time() -> Duration {
    // SAFETY: `usage` is a valid out-pointer.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// The WIT and core module (text) of a component that forwards
/// `airlock:bench/fwd#mean` to `airlock:stats/stats#mean`.
const FWD_WIT: &str = r#"
package airlock:bench;
interface fwd {
  use airlock:stats/stats@0.1.0.{stats-error};
  mean: func(values: list<f64>) -> result<f64, stats-error>;
}
interface env {
  count: func() -> u32;
}
world forwarder {
  import airlock:stats/stats@0.1.0;
  export fwd;
}
world env-forwarder {
  import wasi:cli/environment@0.2.12;
  export env;
}
"#;

const REALLOC: &str = r#"
  (memory (export "memory") 4)
  (global $bump (mut i32) (i32.const 1024))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
    global.get $bump local.get 2 i32.add i32.const 1 i32.sub
    i32.const 0 local.get 2 i32.sub i32.and local.tee $p
    local.get 3 i32.add global.set $bump
    local.get $p)
"#;

fn fwd_module() -> String {
    format!(
        r#"(module
  (import "airlock:stats/stats@0.1.0" "mean" (func $mean (param i32 i32 i32)))
  {REALLOC}
  (func (export "airlock:bench/fwd#mean") (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.const 16 call $mean
    i32.const 16)
  (func (export "cabi_post_airlock:bench/fwd#mean") (param i32)
    i32.const 1024 global.set $bump))"#
    )
}

fn env_module() -> String {
    format!(
        r#"(module
  (import "wasi:cli/environment@0.2.12" "get-environment" (func $env (param i32)))
  {REALLOC}
  (func (export "airlock:bench/env#count") (result i32)
    i32.const 1024 global.set $bump
    i32.const 16 call $env
    i32.const 20 i32.load))"#
    )
}

fn real_component(world: &str, module_wat: &str) -> Result<Vec<u8>> {
    let mut resolve = wasi_resolve(false)?;
    resolve.push_path(root().join("wit/stats"))?;
    let pkg = resolve.push_str("bench.wit", FWD_WIT)?;
    let world = resolve.select_world(&[pkg], Some(world))?;
    let mut module = wat(module_wat)?;
    wit_component::embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8)?;
    ComponentEncoder::default()
        .module(&module)?
        .validate(true)
        .encode()
}

/// Median time of one call of each `(component, interface, function)` with
/// `args`, in alternating batches so that other load hits both alike.
fn time_calls(
    engine: &Engine,
    targets: [(&[u8], &str, &str); 2],
    args: &[Val],
    calls: usize,
) -> Result<[Duration; 2]> {
    let mut funcs = Vec::new();
    for (bytes, interface, func) in targets {
        let component = compile(engine, bytes)?;
        let mut store = store(engine)?;
        let instance = linker(engine)?
            .instantiate(&mut store, &component)
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let outer = instance
            .get_export_index(&mut store, None, interface)
            .with_context(|| format!("no export `{interface}`"))?;
        let index = instance
            .get_export_index(&mut store, Some(&outer), func)
            .with_context(|| format!("no function `{func}`"))?;
        let f = instance
            .get_func(&mut store, index)
            .context("not a function")?;
        funcs.push((store, f));
    }
    let mut results = vec![Val::Bool(false)];
    let mut samples = [Vec::new(), Vec::new()];
    // Batches of calls, median batch, per call.
    let batch = 100;
    for _ in 0..calls / batch {
        for (k, (store, f)) in funcs.iter_mut().enumerate() {
            let start = Instant::now();
            for _ in 0..batch {
                f.call(&mut *store, args, &mut results)
                    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            }
            samples[k].push(start.elapsed() / batch as u32);
        }
    }
    let [a, b] = samples;
    Ok([median(a), median(b)])
}

fn plugs(
    dir: &Path,
    root_bytes: &[u8],
    plug: Option<&Path>,
    allow: &[String],
    grants: &[(String, String)],
) -> Result<Vec<u8>> {
    let root_path = dir.join("root.wasm");
    std::fs::write(&root_path, root_bytes)?;
    let plugs: Vec<PathBuf> = plug.into_iter().map(Path::to_path_buf).collect();
    let spec = CompositionSpec::from_plugs(&root_path, &plugs, allow, grants, &[])?;
    Ok(compose(&spec)?.bytes)
}

fn runtime(args: &Args, work: &Path, table: &mut Table) -> Result<()> {
    let engine = engine();
    let ours = std::fs::read(work.join("app-airlock.wasm"))?;
    let theirs = std::fs::read(work.join("app-wac.wasm"))?;
    let [(ca, ua, ia), (cw, uw, iw)] =
        compile_and_instantiate(&engine, [&ours, &theirs], args.runs)?;
    table.add(
        "runtime",
        "example app: compile in wasmtime (cache off), airlock output, wall",
        ms(ca),
        format!(
            "{} (goal <= 1.10x)",
            ratio(ca.as_secs_f64(), cw.as_secs_f64(), "wac output")
        ),
        json!({"airlock_s": ca.as_secs_f64(), "wac_s": cw.as_secs_f64()}),
    );
    table.add(
        "runtime",
        "example app: compile, `wac plug` output, wall",
        ms(cw),
        String::new(),
        json!({"wac_s": cw.as_secs_f64()}),
    );
    table.add(
        "runtime",
        "example app: compile, airlock output, CPU time (all threads)",
        ms(ua),
        format!(
            "{} (`wac plug` output: {})",
            ratio(ua.as_secs_f64(), uw.as_secs_f64(), "wac output"),
            ms(uw)
        ),
        json!({"airlock_cpu_s": ua.as_secs_f64(), "wac_cpu_s": uw.as_secs_f64()}),
    );
    table.add(
        "runtime",
        "example app: instantiate, airlock output",
        us(ia),
        format!(
            "{} (goal <= 1.05x)",
            ratio(ia.as_secs_f64(), iw.as_secs_f64(), "wac output")
        ),
        json!({"airlock_s": ia.as_secs_f64(), "wac_s": iw.as_secs_f64()}),
    );
    table.add(
        "runtime",
        "example app: instantiate, `wac plug` output",
        us(iw),
        String::new(),
        json!({"wac_s": iw.as_secs_f64()}),
    );

    // A cross-component call: host -> forwarder -> stats, vs host -> stats.
    let stats = std::fs::read(component_path("stats"))?;
    let fwd = real_component("forwarder", &fwd_module())?;
    let composed = plugs(work, &fwd, Some(&component_path("stats")), &[], &[])?;
    let list = |n: usize| Val::List((0..n).map(|i| Val::Float64(i as f64)).collect());
    let calls = 5000;
    for (n, label) in [
        (1000, "stats.mean, 1000 values"),
        (0, "stats.mean, empty list (near no-op)"),
    ] {
        let args = [list(n)];
        let [direct, through] = time_calls(
            &engine,
            [
                (&stats, "airlock:stats/stats@0.1.0", "mean"),
                (&composed, "airlock:bench/fwd", "mean"),
            ],
            &args,
            calls,
        )?;
        table.add(
            "call",
            &format!("{label}: through one more component"),
            us(through),
            format!(
                "{} the stats component alone ({}); +{:.2} µs",
                ratio(through.as_secs_f64(), direct.as_secs_f64(), ""),
                us(direct),
                (through.as_secs_f64() - direct.as_secs_f64()) * 1e6
            ),
            json!({"through_s": through.as_secs_f64(), "direct_s": direct.as_secs_f64()}),
        );
    }

    // A denied call (served inside the output) vs the same call served by the host.
    let env = real_component("env-forwarder", &env_module())?;
    let denied = plugs(work, &env, None, &[], &[])?;
    let allow = vec!["wasi:cli/environment@0.2".to_string()];
    let granted = plugs(work, &env, None, &allow, &[])?;
    let [d, g] = time_calls(
        &engine,
        [
            (&denied, "airlock:bench/env", "count"),
            (&granted, "airlock:bench/env", "count"),
        ],
        &[],
        calls,
    )?;
    table.add(
        "call",
        "denied wasi:cli/environment.get-environment (empty list, in-output)",
        us(d),
        format!(
            "{} the host's (empty) environment ({})",
            ratio(d.as_secs_f64(), g.as_secs_f64(), ""),
            us(g)
        ),
        json!({"denied_s": d.as_secs_f64(), "host_s": g.as_secs_f64()}),
    );
    Ok(())
}
