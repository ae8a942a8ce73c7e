//! `airlock publish`: push a component to an OCI registry as `ns:name@version`,
//! in the layout wkg uses, with its package name and version embedded.

use crate::error::Error;
use airlock_core::inspect;
use airlock_registry::client::Client;
use airlock_registry::config::RegistryConfig;
use airlock_registry::{PackageRef, RegistryError};
use clap::Args;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `airlock publish`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  airlock publish target/wasm32-wasip2/component/stats.wasm --package airlock:stats@0.1.0
  airlock publish stats.wasm --package airlock:stats@0.1.0 --registry http://127.0.0.1:5000
  airlock publish app.wasm --package acme:app@1.0.0 --registry ghcr.io/acme \\
      --source https://github.com/acme/app

The package `ns:name@1.2.3` goes to `REGISTRY/ns/name:1.2.3` (wkg's mapping).
An Airlock output's provenance is copied into the `dev.airlock.provenance`
annotation only when it verifies against the components inside (see
`airlock inspect`).
The registry: `--registry`, else `AIRLOCK_REGISTRY`, else wkg's config file
(`$XDG_CONFIG_HOME/wasm-pkg/config.toml`: `namespace_registries`, `default_registry`).")]
pub struct PublishArgs {
    /// The component to publish.
    pub component: PathBuf,
    /// The package name and exact version, `namespace:name@1.2.3` (embedded in the component).
    #[arg(long, value_name = "NS:NAME@VERSION")]
    pub package: String,
    /// The registry, e.g. `ghcr.io/team` or `http://127.0.0.1:5000` (plain HTTP).
    #[arg(long, value_name = "REGISTRY")]
    pub registry: Option<String>,
    /// The source repository, recorded as the `org.opencontainers.image.source` annotation.
    #[arg(long, value_name = "URL")]
    pub source: Option<String>,
}

/// The manifest annotation that carries an Airlock output's provenance summary.
pub const PROVENANCE_ANNOTATION: &str = "dev.airlock.provenance";

/// Runs `airlock publish`; returns the exit code.
pub fn run(args: PublishArgs, out: &mut dyn Write) -> Result<i32, Error> {
    let package = PackageRef::parse(&args.package)?;
    let original = inspect::read(&args.component)?;
    inspect::decode(&original, &args.component)?;
    let bytes = embed_package(&original, &package)?;
    let decoded = inspect::decode(&bytes, &args.component)?;
    let imports: Vec<String> = decoded.imports.iter().map(|i| i.name.clone()).collect();
    let exports: Vec<String> = decoded.exports.iter().map(|i| i.name.clone()).collect();

    let mut annotations = BTreeMap::from([
        (
            "org.opencontainers.image.title".to_string(),
            package.name.to_string(),
        ),
        (
            "org.opencontainers.image.version".to_string(),
            package.version.to_string(),
        ),
    ]);
    if let Some(source) = &args.source {
        annotations.insert("org.opencontainers.image.source".into(), source.clone());
    }
    match provenance_annotation(&bytes) {
        Ok(Some(summary)) => {
            annotations.insert(PROVENANCE_ANNOTATION.into(), summary);
        }
        Ok(None) => {}
        Err(why) => {
            let _ = writeln!(out, "note: `{PROVENANCE_ANNOTATION}` left out: {why}");
        }
    }

    let config = RegistryConfig::from_env(args.registry.clone(), None)?;
    let registry = config.registry_for(&package.name)?;
    let start = Instant::now();
    let pushed = Client::new(&registry)?.push(&package, &bytes, &imports, &exports, annotations)?;
    let _ = writeln!(
        out,
        "published `{package}` to `{}` ({:.1} KiB in {} ms)\n  digest   {}\n  manifest {}",
        pushed.reference,
        bytes.len() as f64 / 1024.0,
        start.elapsed().as_millis(),
        pushed.digest,
        pushed.manifest_digest
    );
    Ok(0)
}

/// The value of the [`PROVENANCE_ANNOTATION`] for a component: its
/// provenance summary when the section verifies against the components
/// nested inside; `None` without a section; an error saying why a section
/// is not copied (claimed, differs or malformed).
pub fn provenance_annotation(component: &[u8]) -> Result<Option<String>, String> {
    let provenance = match airlock_core::provenance::read(component) {
        Ok(Some(p)) => p,
        Ok(None) => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    match airlock_core::provenance::verify(component, &provenance) {
        airlock_core::provenance::Verification::Verified => Ok(Some(provenance.summary())),
        check => Err(format!(
            "the `{}` section is {} (see `airlock inspect`)",
            airlock_core::provenance::SECTION,
            check.label()
        )),
    }
}

/// Records `ns:name` and the version in the component's metadata (wkg and
/// wasm-pkg-client read them from there).
pub fn embed_package(bytes: &[u8], package: &PackageRef) -> Result<Vec<u8>, Error> {
    let mut meta = wasm_metadata::AddMetadata::default();
    meta.name = wasm_metadata::AddMetadataField::Set(package.name.to_string());
    meta.version = wasm_metadata::AddMetadataField::Set(wasm_metadata::Version::new(
        package.version.to_string(),
    ));
    meta.to_wasm(bytes).map_err(|e| {
        Error::Registry(RegistryError::Prepare {
            package: package.to_string(),
            message: format!("{e:#}"),
        })
    })
}
