//! Invariant testing over random, partly hostile compositions (see
//! `airlock_tests::randgen`): whatever the components and the policy, the
//! composer refuses with an error or writes an output that validates, imports
//! nothing outside the allow-list (and its `use` dependencies), and in which
//! each instance reaches only what its own grant permits (read from the bytes
//! by `airlock_core::reach`, checked against WASI's WIT). Never a panic.
//!
//! Bounded here; `just fuzz` runs many more:
//! `AIRLOCK_GEN_CASES` (default 150) cases from seed `AIRLOCK_GEN_SEED` (default 1);
//! `AIRLOCK_GEN_ASYNC` and `AIRLOCK_GEN_STREAMS` set the shares (percent) of
//! async functions and of stream and future types (see `randgen::Shares`).

use airlock_tests::randgen::{self, Outcome};
use std::collections::BTreeMap;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn random_compositions_never_leak() {
    let cases = env_u64("AIRLOCK_GEN_CASES", 150);
    let first = env_u64("AIRLOCK_GEN_SEED", 1);
    let deps = randgen::wasi_deps();
    let (mut composed, mut refused, mut imports) = (0u64, 0u64, 0usize);
    let (mut reached, mut dependencies) = (0usize, 0usize);
    // Denied functions whose stubs answer with ended streams, resolved futures.
    let (mut ended_streams, mut resolved_futures) = (0usize, 0usize);
    let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
    // Kinds of policy problems (a refused case may have several).
    let mut problems: BTreeMap<String, u64> = BTreeMap::new();
    // Adversarial kind -> (cases, composed).
    let mut kinds: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut caught: Vec<String> = Vec::new();
    let start = std::time::Instant::now();
    for seed in first..first + cases {
        let case = randgen::generate(seed);
        let dir = tempfile::tempdir().unwrap();
        let outcome = randgen::check_case(&case, dir.path(), &deps);
        for kind in case
            .kinds
            .iter()
            .copied()
            .chain(case.kinds.is_empty().then_some("plain"))
        {
            let entry = kinds.entry(kind).or_default();
            entry.0 += 1;
            entry.1 += u64::from(matches!(outcome, Ok(Outcome::Composed { .. })));
        }
        match outcome {
            Ok(Outcome::Composed {
                imports: n,
                reached: r,
                dependencies: d,
                ended_streams: s,
                resolved_futures: f,
            }) => {
                if std::env::var_os("AIRLOCK_GEN_VERBOSE").is_some() {
                    eprintln!("seed {seed} {:?}: composed", case.kinds);
                }
                composed += 1;
                imports += n;
                reached += r;
                dependencies += d;
                ended_streams += s;
                resolved_futures += f;
            }
            Ok(Outcome::Refused(message)) => {
                refused += 1;
                // Not a leak (nothing was written), but a composer bug that the
                // final verification or wac caught: reported with its seed.
                let internal = [
                    "the composed output",
                    "an instance inside the composed output",
                    "cannot read the composed output",
                    "cannot compose",
                    "cannot virtualize",
                    "internal error",
                ];
                if internal.iter().any(|p| message.starts_with(p)) {
                    caught.push(format!(
                        "seed {seed}: {}",
                        message.lines().next().unwrap_or("")
                    ));
                }
                if std::env::var_os("AIRLOCK_GEN_VERBOSE").is_some() {
                    eprintln!(
                        "seed {seed} {:?}: {}",
                        case.kinds,
                        message.replace('\n', " / ")
                    );
                }
                // Group refusals by the first words of the message.
                let key: String = message
                    .split_whitespace()
                    .take(4)
                    .collect::<Vec<_>>()
                    .join(" ");
                *reasons.entry(key).or_default() += 1;
                for problem in problem_kinds(&message) {
                    *problems.entry(problem).or_default() += 1;
                }
            }
            Err(e) => {
                if std::env::var_os("AIRLOCK_GEN_VERBOSE").is_some() {
                    eprintln!("seed {seed}: FAILED {:?}: {e:#}", case.kinds);
                }
                failures.push(format!("{e:#}\n{}", case.describe()));
            }
        }
    }
    eprintln!(
        "randgen: {cases} cases (seeds {first}..{}) in {:.1?}: {composed} composed ({imports} output imports checked; {reached} instance/host-import pairs, {dependencies} of them type dependencies), {refused} refused, {} violations",
        first + cases,
        start.elapsed(),
        failures.len()
    );
    eprintln!(
        "  denied functions answering with an ended stream: {ended_streams}, with a future resolved at once: {resolved_futures}"
    );
    for (reason, n) in &reasons {
        eprintln!("  refused {n:>4}: {reason} ...");
    }
    for (problem, n) in &problems {
        eprintln!("    policy problem in {n:>4} cases: {problem} ...");
    }
    for (kind, (n, ok)) in &kinds {
        eprintln!("  kind {kind:<17} {n:>5} cases, {ok:>5} composed");
    }
    eprintln!(
        "  {} composer bugs caught by the final verification (no output written):",
        caught.len()
    );
    for c in &caught {
        eprintln!("    {c}");
    }
    assert!(
        failures.is_empty(),
        "{} failing cases; first:\n{}",
        failures.len(),
        failures[0]
    );
    // The generator must exercise both paths.
    assert!(
        composed > 0 && refused > 0,
        "composed {composed}, refused {refused}"
    );
}

/// The kinds of the problems a policy error lists (one per `  - ` line):
/// its first words, with the names in backticks blanked.
fn problem_kinds(message: &str) -> std::collections::BTreeSet<String> {
    message
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("- "))
        .map(|line| {
            let blanked: String = line
                .split('`')
                .enumerate()
                .map(|(i, part)| if i % 2 == 1 { "_" } else { part })
                .collect();
            blanked
                .split_whitespace()
                .take(9)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// The test's own reading of WASI's WIT: type dependencies on one track only,
/// and the functions a dependency may bring (those acting on handles).
#[test]
fn wasi_model_reads_wit_deps() {
    let model = randgen::wasi_model().unwrap();
    let name = |s: &str| airlock_core::names::InterfaceName::parse(s).unwrap();
    assert!(model.depends(
        &name("wasi:filesystem/types@0.2.3"),
        &name("wasi:clocks/wall-clock@0.2.12")
    ));
    assert!(model.depends(&name("wasi:cli/stdout@0.2.0"), &name("wasi:io/error@0.2.6")));
    assert!(!model.depends(
        &name("wasi:clocks/wall-clock@0.2.12"),
        &name("wasi:cli/environment@0.2.12")
    ));
    assert!(!model.depends(
        &name("wasi:cli/stdout@0.2.6"),
        &name("wasi:io/streams@0.3.0-rc-2025-09-16")
    ));
    assert!(!model.depends(
        &name("wasi:cli/stdout@0.3.0"),
        &name("wasi:io/streams@0.3.0")
    ));
    assert!(
        model
            .handle_functions(&name("wasi:clocks/wall-clock@0.2.12"))
            .is_empty()
    );
    assert!(
        model
            .handle_functions(&name("wasi:clocks/monotonic-clock@0.2.12"))
            .is_empty()
    );
    let poll = model.handle_functions(&name("wasi:io/poll@0.2.12"));
    assert!(
        poll.contains("poll") && poll.contains("[method]pollable.block"),
        "{poll:?}"
    );
    let fs = model.handle_functions(&name("wasi:filesystem/types@0.2.12"));
    assert!(
        fs.contains("[method]descriptor.read") && fs.contains("filesystem-error-code"),
        "{fs:?}"
    );
}

/// The per-instance check is not vacuous: on outputs where host imports reach
/// instances, the same bytes checked against the policy with every grant
/// removed must fail.
#[test]
fn reach_check_catches_ungranted_reach() {
    let deps = randgen::wasi_deps();
    let model = randgen::wasi_model().unwrap();
    let mut tried = 0;
    for seed in 1..200u64 {
        let case = randgen::generate(seed);
        let dir = tempfile::tempdir().unwrap();
        let spec = randgen::build_spec(&case, dir.path(), &deps).unwrap();
        let Ok(composed) = airlock_core::pipeline::compose(&spec) else {
            continue;
        };
        let types = wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
            .validate_all(&composed.bytes)
            .unwrap();
        let imports = airlock_tests::import_names(&composed.bytes).unwrap();
        let declared = randgen::declared_functions(&types, &imports).unwrap();
        let (pairs, _) = randgen::check_reach(&spec, &composed.bytes, &declared, model)
            .unwrap_or_else(|e| panic!("seed {seed}: {e:#}"));
        if pairs == 0 {
            continue;
        }
        let mut stripped = spec.clone();
        for inst in &mut stripped.instances {
            inst.grant = Default::default();
        }
        let err = randgen::check_reach(&stripped, &composed.bytes, &declared, model)
            .expect_err("an instance reaching the host without any grant must be reported");
        assert!(err.to_string().contains("INVARIANT VIOLATION"), "{err:#}");
        tried += 1;
        if tried == 5 {
            return;
        }
    }
    panic!("only {tried} of the first cases compose with host imports");
}

/// Prints one case (`AIRLOCK_GEN_SHOW=SEED`) and, when it composes, the
/// composer's audit of it, for debugging; with `AIRLOCK_GEN_KEEP=DIR`, its
/// components and output (`out.wasm`) stay in DIR.
#[test]
fn show_case() {
    if let Some(seed) = std::env::var("AIRLOCK_GEN_SHOW")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        let case = randgen::generate(seed);
        let temp = tempfile::tempdir().unwrap();
        let dir = std::env::var_os("AIRLOCK_GEN_KEEP")
            .map_or_else(|| temp.path().to_path_buf(), std::path::PathBuf::from);
        std::fs::create_dir_all(&dir).unwrap();
        let deps = randgen::wasi_deps();
        let outcome = randgen::check_case(&case, &dir, &deps);
        eprintln!("{}\n{outcome:?}", case.describe());
        let spec = randgen::build_spec(&case, &dir, &deps).unwrap();
        if let Ok(composed) = airlock_core::pipeline::compose(&spec) {
            eprintln!("{}", composed.report.to_text());
            std::fs::write(dir.join("out.wasm"), composed.bytes).unwrap();
        }
    }
}

/// Writes the components of the first cases into `AIRLOCK_FUZZ_CORPUS`
/// (`inspect/` as is, `compose/` with a leading policy byte): the seed corpus
/// of the cargo-fuzz targets in `composer/fuzz`.
#[test]
fn dump_seed_corpus() {
    let Some(dir) = std::env::var_os("AIRLOCK_FUZZ_CORPUS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let (inspect, compose) = (dir.join("inspect"), dir.join("compose"));
    std::fs::create_dir_all(&inspect).unwrap();
    std::fs::create_dir_all(&compose).unwrap();
    let mut written = 0;
    for seed in 1..40u64 {
        let case = randgen::generate(seed);
        let real = randgen::real_wasi(&randgen::wasi_deps()).unwrap();
        let bytes = case.build(0, &real).unwrap();
        if bytes.len() > 12_000 {
            continue;
        }
        std::fs::write(inspect.join(format!("seed-gen-{seed}.wasm")), &bytes).unwrap();
        let mut with_policy = vec![seed as u8];
        with_policy.extend(&bytes);
        std::fs::write(compose.join(format!("seed-gen-{seed}")), with_policy).unwrap();
        written += 1;
        if written == 6 {
            break;
        }
    }
}
