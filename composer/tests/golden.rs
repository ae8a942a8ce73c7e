//! Golden tests: one folder per case under `tests/golden/`, one test per case.
//!
//! A case folder holds:
//! - `cmd`: the `airlock` arguments, one line; `$DIR` is the case's scratch copy.
//! - `*.wit`: each becomes `<stem>.wasm`, a component for the file's single world
//!   (WASI from the workspace's `wit/deps` is available).
//! - `*.wat`: each becomes `<stem>.wasm` as written (core modules, broken input).
//! - anything else (`airlock.toml`, raw files) is copied as is.
//! - `expected.txt`: exit code, stdout and stderr. `BLESS=1` rewrites it.
//!
//! After comparing, an output component (`out.wasm`) is validated and must exist
//! exactly when the command succeeded; a failed command must leave no file behind.

use anyhow::{Context, Result, bail};
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/golden exists")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    let trials = cases
        .into_iter()
        .map(|case| {
            let name = case.file_name().unwrap().to_string_lossy().into_owned();
            Trial::test(name, move || {
                run_case(&case).map_err(|e| Failed::from(format!("{e:#}")))
            })
        })
        .collect();
    libtest_mimic::run(&Arguments::from_args(), trials).exit();
}

fn wasi_deps() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit/deps")
}

fn run_case(case: &Path) -> Result<()> {
    let scratch = tempfile::tempdir()?;
    let dir = scratch.path();
    for entry in std::fs::read_dir(case)? {
        let path = entry?.path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        match path.extension().and_then(|e| e.to_str()) {
            Some("wit") => {
                let text = std::fs::read_to_string(&path)?;
                let bytes = airlock_core::testkit::component_from_wit(&text, Some(&wasi_deps()))
                    .with_context(|| format!("building `{name}`"))?;
                std::fs::write(dir.join(format!("{stem}.wasm")), bytes)?;
            }
            Some("wat") => {
                let bytes = airlock_core::testkit::wat(&std::fs::read_to_string(&path)?)?;
                std::fs::write(dir.join(format!("{stem}.wasm")), bytes)?;
            }
            _ if name == "expected.txt" || name == "cmd" => {}
            _ => {
                std::fs::copy(&path, dir.join(&name))?;
            }
        }
    }
    let before = listing(dir)?;
    let cmd = std::fs::read_to_string(case.join("cmd")).context("reading `cmd`")?;
    let dir_text = dir.to_string_lossy();
    let args = std::iter::once("airlock".to_string())
        .chain(cmd.split_whitespace().map(|a| a.replace("$DIR", &dir_text)));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = airlock::main(args, &mut out, &mut err);
    let actual = format!(
        "exit: {code}\n--- stdout\n{}--- stderr\n{}",
        String::from_utf8(out)?,
        String::from_utf8(err)?
    )
    .replace(dir_text.as_ref(), "$DIR");

    let expected_path = case.join("expected.txt");
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&expected_path, &actual)?;
    } else {
        let expected = std::fs::read_to_string(&expected_path)
            .with_context(|| format!("no `{}`; run with BLESS=1", expected_path.display()))?;
        if expected != actual {
            bail!(
                "output differs from expected.txt\n--- expected\n{expected}\n--- actual\n{actual}"
            );
        }
    }

    // The output exists exactly on success, and validates.
    let output = dir.join("out.wasm");
    if code == 0 && cmd.contains("out.wasm") {
        let bytes = std::fs::read(&output).context("success without `out.wasm`")?;
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
            .validate_all(&bytes)
            .context("the output does not validate")?;
    }
    if code != 0 {
        let after = listing(dir)?;
        if after != before {
            bail!("a failed command changed the folder: before {before:?}, after {after:?}");
        }
    }
    Ok(())
}

/// File names and sizes in a folder, to prove nothing was written or modified.
fn listing(dir: &Path) -> Result<Vec<(String, u64)>> {
    let mut files: Vec<(String, u64)> = std::fs::read_dir(dir)?
        .map(|e| {
            let e = e?;
            Ok((
                e.file_name().to_string_lossy().into_owned(),
                e.metadata()?.len(),
            ))
        })
        .collect::<Result<_>>()?;
    files.sort();
    Ok(files)
}
