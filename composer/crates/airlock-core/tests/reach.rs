//! The reach reader on real compositions built by the composer's own
//! pipeline: what of the host reaches each instance, read from the output
//! bytes alone.

use airlock_core::reach::{Access, host_reach};
use airlock_core::spec::CompositionSpec;
use anyhow::Result;
use std::path::{Path, PathBuf};

const ENV: &str = "wasi:cli/environment@0.2.12";

const ROOT: &str = r#"
    package test:app;
    world app {
      import test:lib/api@0.1.0;
      export wasi:cli/run@0.2.12;
    }

    package test:lib@0.1.0 {
      interface api {
        summarize: func(text: string) -> string;
      }
    }
"#;

const LIB: &str = r#"
    package test:lib@0.1.0;
    interface api {
      summarize: func(text: string) -> string;
    }
    world lib {
      import wasi:cli/environment@0.2.12;
      import wasi:clocks/wall-clock@0.2.12;
      export api;
    }
"#;

fn deps() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../wit/deps")
}

/// Writes `app.wasm` and `lib.wasm` into `dir` and composes them with `grants`.
fn compose(dir: &Path, grants: &[(&str, &str)]) -> Result<Vec<u8>> {
    let root = dir.join("app.wasm");
    let lib = dir.join("lib.wasm");
    std::fs::write(
        &root,
        airlock_core::testkit::component_from_wit(ROOT, Some(&deps()))?,
    )?;
    std::fs::write(
        &lib,
        airlock_core::testkit::component_from_wit(LIB, Some(&deps()))?,
    )?;
    let grants: Vec<(String, String)> = grants
        .iter()
        .map(|(n, p)| (n.to_string(), p.to_string()))
        .collect();
    let spec = CompositionSpec::from_plugs(
        &root,
        &[lib],
        &["wasi:cli/environment@0.2".to_string()],
        &grants,
        &[],
    )?;
    Ok(airlock_core::pipeline::compose(&spec)?.bytes)
}

#[test]
fn granted_environment_reaches_the_library_only() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let bytes = compose(dir.path(), &[("lib", "wasi:cli/environment@0.2")])?;
    let reach = host_reach(&bytes)?;
    assert_eq!(reach.unnamed().count(), 0, "{reach:#?}");
    let lib = &reach.instances["lib"];
    assert_eq!(lib.get(ENV), Some(&Access::Whole), "{reach:#?}");
    let app = &reach.instances["app"];
    assert!(!app.contains_key(ENV), "{reach:#?}");
    assert!(app.is_empty(), "{reach:#?}");
    // The wall clock is not granted: the library's denials serve it.
    assert!(
        !lib.keys().any(|k| k.starts_with("wasi:clocks/")),
        "{reach:#?}"
    );
    let denials = &reach.instances["lib (denials)"];
    assert!(!denials.contains_key(ENV), "{reach:#?}");
    Ok(())
}

#[test]
fn ungranted_library_reaches_nothing() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let bytes = compose(dir.path(), &[])?;
    let reach = host_reach(&bytes)?;
    assert_eq!(reach.unnamed().count(), 0, "{reach:#?}");
    for (instance, imports) in &reach.instances {
        assert!(imports.is_empty(), "`{instance}` reaches {imports:?}");
    }
    assert!(reach.instances.contains_key("lib"), "{reach:#?}");
    assert!(reach.instances.contains_key("app"), "{reach:#?}");
    Ok(())
}
