//! The validation verdict cache (`airlock_core::verdicts`) at the CLI
//! (`airlock::main` in this process, so the cache keys are this test
//! binary's): a second run trusts the first run's verdicts, a corrupt or
//! foreign entry is recomputed, `--no-cache` writes nothing, an invalid
//! component is never recorded, and a forged "valid" entry for invalid bytes
//! changes nothing about the outcome. Every run passes `--cache-dir` (a
//! temporary folder) or `--no-cache`: the user's cache is never touched.

use airlock_core::digest::sha256;
use airlock_core::spec::CompositionSpec;
use airlock_core::testkit::{component_from_wit, wat};
use airlock_core::verdicts::VerdictCache;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The app's WIT: it imports `test:lib/api@0.1.0`, and `import` (world
/// items) from `packages` (more WIT packages).
fn app_wit(import: &str, packages: &str) -> String {
    format!(
        "package test:app;

interface main {{
  run: func() -> u32;
}}

world app {{
  import test:lib/api@0.1.0;
{import}  export main;
}}

package test:lib@0.1.0 {{
  interface api {{
    count: func() -> u32;
  }}
}}
{packages}"
    )
}

/// A library whose `count` is `body` (WAT), exported as `test:lib/api@0.1.0`.
fn lib(body: &str) -> Vec<u8> {
    lib_importing("", body)
}

/// [`lib`], with `imports` (WAT) first.
fn lib_importing(imports: &str, body: &str) -> Vec<u8> {
    wat(&format!(
        r#"(component
            {imports}
            (core module $m (func (export "count") (result i32) {body}))
            (core instance $i (instantiate $m))
            (func $count (result u32) (canon lift (core func $i "count")))
            (instance $api (export "count" (func $count)))
            (export "test:lib/api@0.1.0" (instance $api)))"#
    ))
    .expect("the library's text parses")
}

/// A library that validates, and one that does not: `count` produces no
/// value. Both decode (wit-parser's decoder does not check function bodies).
fn libs() -> (Vec<u8>, Vec<u8>) {
    let (good, bad) = (lib("i32.const 7"), lib(""));
    assert!(airlock_core::verify::validate(&good).is_ok());
    assert!(airlock_core::verify::validate(&bad).is_err());
    (good, bad)
}

/// A scratch folder with `app.wasm` and `lib.wasm` (valid).
struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let app = component_from_wit(&app_wit("", ""), None).expect("the app builds");
        std::fs::write(dir.path().join("app.wasm"), app).unwrap();
        std::fs::write(dir.path().join("lib.wasm"), libs().0).unwrap();
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn cache(&self) -> PathBuf {
        self.path("cache")
    }

    /// `airlock ARGS --cache-dir cache`: exit code and stderr (the folder as `$DIR`).
    fn airlock(&self, args: &[&str]) -> (i32, String) {
        let cache = self.cache();
        let args = std::iter::once("airlock")
            .chain(args.iter().copied())
            .chain(["--cache-dir", s(&cache)]);
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let code = airlock::main(args, &mut stdout, &mut stderr);
        let stderr = String::from_utf8(stderr).unwrap();
        (code, stderr.replace(s(self.dir.path()), "$DIR"))
    }

    /// `airlock compose app.wasm --plug lib.wasm -o OUT EXTRA` (see [`Case::airlock`]).
    fn compose_to(&self, out: &str, extra: &[&str]) -> (i32, String) {
        let (app, lib, out) = (self.path("app.wasm"), self.path("lib.wasm"), self.path(out));
        let mut args = vec!["compose", s(&app), "--plug", s(&lib), "-o", s(&out)];
        args.extend(extra);
        self.airlock(&args)
    }

    /// [`Case::compose_to`] `out.wasm`.
    fn compose(&self, extra: &[&str]) -> (i32, String) {
        self.compose_to("out.wasm", extra)
    }

    /// The entries of the cache: file name -> (inode, content).
    fn entries(&self) -> BTreeMap<String, (u64, Vec<u8>)> {
        let Ok(dir) = std::fs::read_dir(self.cache().join("validated")) else {
            return BTreeMap::new();
        };
        dir.map(|e| {
            let e = e.unwrap();
            let meta = std::fs::symlink_metadata(e.path()).unwrap();
            assert!(meta.is_file(), "{:?} is a regular file", e.path());
            let name = e.file_name().into_string().unwrap();
            (name, (inode(&meta), std::fs::read(e.path()).unwrap()))
        })
        .collect()
    }

    /// The entry that would hold the verdict for these bytes.
    fn entry_for(&self, bytes: &[u8]) -> PathBuf {
        VerdictCache::new(&self.cache()).unwrap().entry_for(bytes)
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[cfg(unix)]
fn inode(meta: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(meta)
}

#[cfg(not(unix))]
fn inode(_meta: &std::fs::Metadata) -> u64 {
    0
}

#[test]
fn a_second_compose_trusts_the_first_verdicts() {
    let case = Case::new();
    assert_eq!(case.compose(&[]), (0, "wrote $DIR/out.wasm\n".into()));
    let first = std::fs::read(case.path("out.wasm")).unwrap();
    let entries = case.entries();
    for input in ["app.wasm", "lib.wasm"] {
        let bytes = std::fs::read(case.path(input)).unwrap();
        assert!(case.entry_for(&bytes).is_file(), "{input} has an entry");
    }
    // A hit reads the entry and leaves it as it is (a miss would write a new
    // file over it); the output is the same.
    assert_eq!(case.compose(&[]).0, 0);
    assert_eq!(
        case.entries(),
        entries,
        "the entries were trusted, not rewritten"
    );
    assert_eq!(std::fs::read(case.path("out.wasm")).unwrap(), first);

    // The library's counters say the same.
    let spec = CompositionSpec::from_plugs(
        &case.path("app.wasm"),
        &[case.path("lib.wasm")],
        &[],
        &[],
        &[],
    )
    .unwrap();
    let cache = VerdictCache::new(&case.cache()).unwrap();
    let composed = airlock_core::pipeline::compose_cached(&spec, None, Some(&cache)).unwrap();
    let stats = cache.stats();
    assert_eq!((stats.misses, stats.rejected, stats.stored), (0, 0, 0));
    assert_eq!(stats.hits, entries.len(), "{stats:?}");
    // Without the cache: the same output (`compose` ignores any cache).
    assert_eq!(
        airlock_core::pipeline::compose(&spec).unwrap().bytes,
        composed.bytes
    );
}

#[test]
fn check_and_manifests_use_the_cache_too() {
    let case = Case::new();
    std::fs::write(
        case.path("airlock.toml"),
        "[output]\nroot = \"app\"\n\n[components.app]\npath = \"app.wasm\"\n\n\
         [components.lib]\npath = \"lib.wasm\"\n",
    )
    .unwrap();
    let manifest = case.path("airlock.toml");
    let check = |extra: &[&str]| {
        let mut args = vec!["check", "-m", s(&manifest)];
        args.extend(extra);
        case.airlock(&args)
    };
    let (code, err) = check(&["--no-cache"]);
    assert_eq!(code, 0, "{err}");
    assert!(case.entries().is_empty(), "--no-cache wrote nothing");
    let (code, err) = check(&[]);
    assert_eq!(code, 0, "{err}");
    let entries = case.entries();
    assert!(!entries.is_empty());
    assert_eq!(check(&[]).0, 0);
    assert_eq!(case.entries(), entries);
}

#[test]
fn corrupt_and_foreign_entries_are_recomputed() {
    let case = Case::new();
    assert_eq!(case.compose(&[]).0, 0);
    let output = std::fs::read(case.path("out.wasm")).unwrap();
    let good = case.entries();
    let genuine: Vec<u8> = good.values().next().unwrap().1.clone();
    let elsewhere = case.path("elsewhere");
    std::fs::write(&elsewhere, &genuine).unwrap();
    let spoil: [&dyn Fn(&Path); 4] = [
        &|p| std::fs::write(p, b"garbage").unwrap(),
        // Another format version.
        &|p| {
            let text = String::from_utf8(std::fs::read(p).unwrap()).unwrap();
            std::fs::write(p, text.replacen("verdict 1", "verdict 2", 1)).unwrap()
        },
        // Another entry's content (a verdict on other bytes).
        &|p| std::fs::write(p, &genuine).unwrap(),
        // A symbolic link (to a genuine entry).
        &|p| {
            std::fs::remove_file(p).unwrap();
            #[cfg(unix)]
            std::os::unix::fs::symlink(&elsewhere, p).unwrap();
        },
    ];
    for spoil in spoil {
        for name in good.keys() {
            spoil(&case.cache().join("validated").join(name));
        }
        assert_eq!(case.compose(&[]).0, 0);
        assert_eq!(std::fs::read(case.path("out.wasm")).unwrap(), output);
        let now = case.entries();
        let content = |m: &BTreeMap<String, (u64, Vec<u8>)>| -> Vec<(String, Vec<u8>)> {
            m.iter().map(|(k, (_, c))| (k.clone(), c.clone())).collect()
        };
        assert_eq!(content(&now), content(&good), "rewritten as they were");
    }
}

/// Runs sharing one cache, started together on an empty one: every run
/// succeeds with the same output, and the entries are whole (each exactly
/// what one run alone writes), with no temporary file left.
#[test]
fn concurrent_runs_share_the_cache() {
    let case = Case::new();
    let alone = Case::new();
    assert_eq!(alone.compose(&[]).0, 0);
    let expected = std::fs::read(alone.path("out.wasm")).unwrap();
    std::thread::scope(|scope| {
        for t in 0..4 {
            let (case, expected) = (&case, &expected);
            scope.spawn(move || {
                for run in 0..3 {
                    let out = format!("out-{t}-{run}.wasm");
                    let (code, err) = case.compose_to(&out, &[]);
                    assert_eq!(code, 0, "{err}");
                    assert_eq!(&std::fs::read(case.path(&out)).unwrap(), expected);
                }
            });
        }
    });
    let content = |c: &Case| -> Vec<(String, Vec<u8>)> {
        c.entries().into_iter().map(|(k, (_, b))| (k, b)).collect()
    };
    assert_eq!(content(&case), content(&alone));
}

#[test]
fn no_cache_writes_nothing() {
    let case = Case::new();
    assert_eq!(case.compose(&["--no-cache"]).0, 0);
    assert!(
        !case.cache().exists(),
        "--no-cache created the cache folder"
    );
}

#[test]
fn an_invalid_component_is_never_recorded() {
    let case = Case::new();
    let bad = libs().1;
    std::fs::write(case.path("lib.wasm"), &bad).unwrap();
    for _ in 0..2 {
        let (code, err) = case.compose(&[]);
        assert_eq!(code, 1);
        assert!(
            err.starts_with("error: `$DIR/lib.wasm` is not a valid component: type mismatch"),
            "{err}"
        );
        assert!(!case.entry_for(&bad).exists());
        assert!(!case.path("out.wasm").exists());
    }
}

/// Someone who can write to the user's cache folder forges a "valid" entry
/// for the exact hash of invalid bytes (a function body that does not type
/// check, and a truncated component). The composer still refuses them, with
/// the error it gives without the cache, writes no output, and removes the
/// forged entry.
#[test]
fn a_forged_entry_does_not_make_invalid_bytes_valid() {
    let case = Case::new();
    assert_eq!(case.compose(&[]).0, 0);
    std::fs::remove_file(case.path("out.wasm")).unwrap();
    let good = libs().0;
    let genuine_entry = case.entry_for(&good);
    let genuine = String::from_utf8(std::fs::read(&genuine_entry).unwrap()).unwrap();
    let key = |p: &Path| p.file_name().unwrap().to_str().unwrap().to_string();

    let bad_body = libs().1;
    let truncated = good[..good.len() - 3].to_vec();
    for bad in [bad_body, truncated] {
        std::fs::write(case.path("lib.wasm"), &bad).unwrap();
        let (code, expected) = case.compose(&["--no-cache"]);
        assert_eq!(code, 1, "{expected}");
        let forged_entry = case.entry_for(&bad);
        let forged = genuine
            .replace(&key(&genuine_entry), &key(&forged_entry))
            .replace(&sha256(&good), &sha256(&bad));
        std::fs::write(&forged_entry, forged).unwrap();

        assert_eq!(case.compose(&[]), (1, expected.clone()));
        assert!(!case.path("out.wasm").exists(), "no output");
        assert!(!forged_entry.exists(), "the forged entry is removed");
        // And the next run is as without the cache.
        assert_eq!(case.compose(&[]), (1, expected));
    }
}

/// An app importing `test:dep/d@0.1.1`, and libraries importing it at
/// 0.1.0: the composer renames a library's import to 0.1.1 before composing
/// it (`load::normalize`), and the renamed bytes keep the library's verdict.
fn app_with_dep() -> String {
    app_wit(
        "  import test:dep/d@0.1.1;\n",
        "package test:dep@0.1.1 {\n  interface d {\n    f: func();\n  }\n}\n",
    )
}

/// [`lib`], importing `test:dep/d@0.1.0`.
fn lib_with_dep(body: &str) -> Vec<u8> {
    lib_importing(
        r#"(import "test:dep/d@0.1.0" (instance (export "f" (func))))"#,
        body,
    )
}

/// A forged entry for an invalid library that is renamed before composing:
/// its renamed bytes are not validated again on their own (they inherit the
/// forged verdict), yet the outcome is the one without the cache, no output
/// is written, and the forged entry is removed. The control: the valid
/// library, renamed the same way, composes from its genuine entry.
#[test]
fn a_forged_entry_for_a_renamed_library_changes_nothing() {
    let case = Case::new();
    let app = component_from_wit(&app_with_dep(), None).expect("the app builds");
    std::fs::write(case.path("app.wasm"), app).unwrap();
    let (good, bad) = (lib_with_dep("i32.const 7"), lib_with_dep(""));
    assert!(airlock_core::verify::validate(&bad).is_err());
    let deny = ["--deny", "test:dep/*"];

    std::fs::write(case.path("lib.wasm"), &good).unwrap();
    assert_eq!(case.compose(&deny), (0, "wrote $DIR/out.wasm\n".into()));
    let genuine_entry = case.entry_for(&good);
    assert!(genuine_entry.is_file(), "the library as read has the entry");
    assert_eq!(case.compose(&deny).0, 0, "composes from the genuine entry");
    std::fs::remove_file(case.path("out.wasm")).unwrap();

    std::fs::write(case.path("lib.wasm"), &bad).unwrap();
    let mut no_cache = deny.to_vec();
    no_cache.push("--no-cache");
    let (code, expected) = case.compose(&no_cache);
    assert_eq!(code, 1, "{expected}");
    assert!(expected.contains("lib.wasm"), "{expected}");
    let key = |p: &Path| p.file_name().unwrap().to_str().unwrap().to_string();
    let forged_entry = case.entry_for(&bad);
    let forged = String::from_utf8(std::fs::read(&genuine_entry).unwrap())
        .unwrap()
        .replace(&key(&genuine_entry), &key(&forged_entry))
        .replace(&sha256(&good), &sha256(&bad));
    std::fs::write(&forged_entry, forged).unwrap();

    assert_eq!(case.compose(&deny), (1, expected.clone()));
    assert!(!case.path("out.wasm").exists(), "no output");
    assert!(!forged_entry.exists(), "the forged entry is removed");
    assert_eq!(case.compose(&deny), (1, expected));
}
