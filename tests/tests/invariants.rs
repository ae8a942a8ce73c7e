//! Invariant testing over random compositions (see `airlock_tests::randgen`):
//! whatever the components and the policy, the composer refuses with an error
//! or writes an output that validates and imports nothing outside the allow-list
//! (and its `use` dependencies). Never a panic.
//!
//! Bounded here; `just fuzz` runs many more:
//! `AIRLOCK_GEN_CASES` (default 150) cases from seed `AIRLOCK_GEN_SEED` (default 1).

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
    let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut caught: Vec<String> = Vec::new();
    let start = std::time::Instant::now();
    for seed in first..first + cases {
        let case = randgen::generate(seed);
        let dir = tempfile::tempdir().unwrap();
        match randgen::check_case(&case, dir.path(), &deps) {
            Ok(Outcome::Composed { imports: n }) => {
                composed += 1;
                imports += n;
            }
            Ok(Outcome::Refused(message)) => {
                refused += 1;
                // Not a leak (nothing was written), but a composer bug that the
                // final verification or wac caught: reported with its seed.
                let internal = ["the composed output", "cannot compose", "cannot virtualize"];
                if internal.iter().any(|p| message.starts_with(p)) {
                    caught.push(format!(
                        "seed {seed}: {}",
                        message.lines().next().unwrap_or("")
                    ));
                }
                if std::env::var_os("AIRLOCK_GEN_VERBOSE").is_some() {
                    eprintln!("seed {seed}: {}", message.replace('\n', " / "));
                }
                // Group refusals by the first words of the message.
                let key: String = message
                    .split_whitespace()
                    .take(4)
                    .collect::<Vec<_>>()
                    .join(" ");
                *reasons.entry(key).or_default() += 1;
            }
            Err(e) => failures.push(format!("{e:#}\n{}", case.describe())),
        }
    }
    eprintln!(
        "randgen: {cases} cases (seeds {first}..{}) in {:.1?}: {composed} composed ({imports} output imports checked), {refused} refused, {} violations",
        first + cases,
        start.elapsed(),
        failures.len()
    );
    for (reason, n) in &reasons {
        eprintln!("  refused {n:>4}: {reason} ...");
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

/// Prints one case (`AIRLOCK_GEN_SHOW=SEED`), for debugging.
#[test]
fn show_case() {
    if let Some(seed) = std::env::var("AIRLOCK_GEN_SHOW")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        let case = randgen::generate(seed);
        let dir = tempfile::tempdir().unwrap();
        let outcome = randgen::check_case(&case, dir.path(), &randgen::wasi_deps());
        eprintln!("{}\n{outcome:?}", case.describe());
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
        let wit = case.component_wit(0);
        let bytes =
            airlock::testkit::component_from_wit(&wit, Some(&randgen::wasi_deps())).unwrap();
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
