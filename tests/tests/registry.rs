//! Against a REAL registry (Debian's `docker-registry`, started per test on
//! 127.0.0.1): publish the workspace's components, compose the example app
//! with `stats` from the registry, and the lock's guarantees: pinned digests,
//! the capability lock, offline mode, provenance; and interop with `wkg`
//! both ways. Without `docker-registry` (or `wkg` for the interop test)
//! these tests fail with a message saying how to install it.

use airlock_host::{HostConfig, Preopen};
use airlock_tests::registry::TestRegistry;
use airlock_tests::{app_sections, run_app, workspace};
use std::path::{Path, PathBuf};

/// Runs the CLI in-process: (exit code, stdout, stderr).
fn airlock(args: &[&str]) -> (i32, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = airlock::main(
        airlock_tests::without_user_cache(std::iter::once("airlock").chain(args.iter().copied())),
        &mut out,
        &mut err,
    );
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn component(name: &str) -> PathBuf {
    let path = workspace().join(format!("target/wasm32-wasip2/component/{name}.wasm"));
    assert!(
        path.exists(),
        "`{}` is missing: run `just build-components` first",
        path.display()
    );
    path
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Publishes a file; returns the digest it was pushed with.
fn publish(registry: &TestRegistry, file: &Path, package: &str) -> String {
    let (code, out, err) = airlock(&[
        "publish",
        s(file),
        "--package",
        package,
        "--registry",
        &registry.url(),
        "--source",
        "https://example.invalid/airlock",
    ]);
    assert_eq!(code, 0, "publish {package}: {err}");
    let digest = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("digest "))
        .unwrap_or_else(|| panic!("no digest in {out}"))
        .trim()
        .to_string();
    assert!(digest.starts_with("sha256:"), "{out}");
    digest
}

/// The example app's manifest in `dir`, with `stats` as a registry package.
fn app_manifest(dir: &Path, registry: &TestRegistry, stats_req: &str) -> PathBuf {
    let text = std::fs::read_to_string(workspace().join("examples/app/airlock.toml")).unwrap();
    let target = workspace().join("target");
    let text = text
        .replace(
            "path = \"../../target/wasm32-wasip2/component/stats.wasm\"",
            &format!("package = \"airlock:stats@{stats_req}\""),
        )
        .replace("path = \"../../target/airlock/app.wasm\"\n", "")
        .replace("\"../../target/", &format!("\"{}/", target.display()));
    assert!(text.contains("package = \"airlock:stats@"), "{text}");
    let text = format!("{text}\n[registry]\ndefault = \"{}\"\n", registry.url());
    let path = dir.join("airlock.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn compose(manifest: &Path, out: &Path, cache: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "compose",
        "--manifest",
        s(manifest),
        "-o",
        s(out),
        "--cache-dir",
        s(cache),
    ];
    args.extend_from_slice(extra);
    airlock(&args)
}

fn lock_text(manifest: &Path) -> String {
    std::fs::read_to_string(manifest.with_file_name("airlock.lock")).expect("airlock.lock")
}

/// The imports `airlock.lock` accepts for `stats`.
fn locked_stats_imports(manifest: &Path) -> Vec<String> {
    let lock = airlock_registry::lock::LockFile::load(&manifest.with_file_name("airlock.lock"))
        .unwrap()
        .expect("airlock.lock");
    lock.components["stats"].imports.clone()
}

/// Runs the composed example app and checks that `stats` (from the registry) did its job.
fn assert_stats_ran(bytes: &[u8]) {
    let docs = tempfile::tempdir().unwrap();
    let config = HostConfig {
        dirs: vec![Preopen {
            host: docs.path().into(),
            guest: "/data".into(),
            read_only: true,
        }],
        ..HostConfig::default()
    };
    let sections = app_sections(&run_app(bytes, config).stdout);
    assert!(!sections["paragraph-stats"].is_empty(), "{sections:?}");
}

#[test]
fn publish_then_compose_from_the_registry_and_run() {
    let registry = TestRegistry::start().unwrap();
    let start = std::time::Instant::now();
    let digest = publish(&registry, &component("stats"), "airlock:stats@0.1.0");
    eprintln!("publish: {} ms", start.elapsed().as_millis());

    // The wkg layout, read back with plain HTTP.
    let manifest = registry
        .get_json(
            "/v2/airlock/stats/manifests/0.1.0",
            "application/vnd.oci.image.manifest.v1+json",
        )
        .unwrap();
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.wasm.config.v0+json"
    );
    assert_eq!(manifest["layers"].as_array().unwrap().len(), 1);
    assert_eq!(manifest["layers"][0]["mediaType"], "application/wasm");
    assert_eq!(manifest["layers"][0]["digest"], digest.as_str());
    let notes = &manifest["annotations"];
    assert_eq!(notes["org.opencontainers.image.version"], "0.1.0");
    assert_eq!(notes["org.opencontainers.image.title"], "airlock:stats");
    assert_eq!(
        notes["org.opencontainers.image.source"],
        "https://example.invalid/airlock"
    );
    let config_digest = manifest["config"]["digest"].as_str().unwrap();
    let config = registry
        .get_json(&format!("/v2/airlock/stats/blobs/{config_digest}"), "*/*")
        .unwrap();
    assert_eq!(config["architecture"], "wasm");
    assert_eq!(config["os"], "wasip2");
    assert_eq!(config["layerDigests"][0], digest.as_str());
    assert!(
        config["component"]["exports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "airlock:stats/stats@0.1.0"),
        "{config}"
    );
    // The package name and version are embedded in the pushed component (wkg needs them).
    let (status, blob) = registry
        .get(&format!("/v2/airlock/stats/blobs/{digest}"), "*/*")
        .unwrap();
    assert_eq!(status, 200);
    let payload = wasm_metadata::Payload::from_binary(&blob).unwrap();
    let meta = payload.metadata();
    assert_eq!(meta.name.as_deref(), Some("airlock:stats"));
    assert_eq!(
        meta.version.as_ref().map(|v| v.to_string()).as_deref(),
        Some("0.1.0")
    );

    // Compose the example app with `stats` from the registry.
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let manifest = app_manifest(dir.path(), &registry, "0.1");
    let out = dir.path().join("app.wasm");
    let start = std::time::Instant::now();
    let (code, stdout, err) = compose(&manifest, &out, &cache, &[]);
    eprintln!("compose (cold cache): {} ms", start.elapsed().as_millis());
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("fetching `airlock:stats@0.1.0`"), "{err}");
    assert!(err.contains("fetched `airlock:stats@0.1.0`: "), "{err}");
    assert!(stdout.contains("component `stats`"), "{stdout}");
    let lock = lock_text(&manifest);
    assert!(lock.contains("package = \"airlock:stats@0.1.0\""), "{lock}");
    assert!(lock.contains(&format!("digest = \"{digest}\"")), "{lock}");
    assert!(cache.join("blobs/sha256").join(&digest[7..]).exists());

    // It runs, and `stats` (from the registry) does its job.
    let bytes = std::fs::read(&out).unwrap();
    assert_stats_ran(&bytes);

    // Provenance: the section names the package and its digest.
    let (code, text, err) = airlock(&["inspect", s(&out)]);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("provenance (airlock "), "{text}");
    assert!(
        text.contains(&format!("stats  package airlock:stats@0.1.0  {digest}")),
        "{text}"
    );
    assert!(text.contains("app: grant wasi:cli/*"), "{text}");
    let (_, json, _) = airlock(&["inspect", s(&out), "--json"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        json["provenance"]["components"].as_array().unwrap().len(),
        6
    );

    // Warm cache: no download, byte-identical output.
    let again = dir.path().join("again.wasm");
    let start = std::time::Instant::now();
    let (code, _, err) = compose(&manifest, &again, &cache, &[]);
    eprintln!("compose (warm cache): {} ms", start.elapsed().as_millis());
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("fetching"), "{err}");
    assert_eq!(std::fs::read(&again).unwrap(), bytes);

    // Publishing the composed output carries the provenance summary as an annotation.
    publish(&registry, &out, "airlock:example-app@0.1.0");
    let manifest = registry
        .get_json(
            "/v2/airlock/example-app/manifests/0.1.0",
            "application/vnd.oci.image.manifest.v1+json",
        )
        .unwrap();
    let summary = manifest["annotations"]["dev.airlock.provenance"]
        .as_str()
        .unwrap();
    assert!(
        summary.contains(&format!("stats=airlock:stats@0.1.0 {digest}")),
        "{summary}"
    );
}

#[test]
fn the_highest_matching_version_is_chosen_and_a_missing_one_is_named() {
    let registry = TestRegistry::start().unwrap();
    let stats = component("stats");
    publish(&registry, &stats, "airlock:stats@0.1.0");
    let newest = publish(&registry, &stats, "airlock:stats@0.1.3");
    publish(&registry, &stats, "airlock:stats@0.2.0");
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let manifest = app_manifest(dir.path(), &registry, "0.1");
    let (code, _, err) = compose(&manifest, &dir.path().join("a.wasm"), &cache, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(lock_text(&manifest).contains("airlock:stats@0.1.3"));
    assert!(lock_text(&manifest).contains(&newest));

    let manifest = app_manifest(dir.path(), &registry, "0.3");
    std::fs::remove_file(manifest.with_file_name("airlock.lock")).unwrap();
    let (code, _, err) = compose(&manifest, &dir.path().join("b.wasm"), &cache, &[]);
    assert_eq!(code, 1);
    assert!(
        err.contains("no version of `airlock:stats` in `")
            && err.contains("meets `^0.3`; available: `0.1.0`, `0.1.3`, `0.2.0`"),
        "{err}"
    );
    assert!(!dir.path().join("b.wasm").exists());
}

#[test]
fn a_moved_tag_is_a_digest_mismatch() {
    let registry = TestRegistry::start().unwrap();
    let locked = publish(&registry, &component("stats"), "airlock:stats@0.1.0");
    let dir = tempfile::tempdir().unwrap();
    let manifest = app_manifest(dir.path(), &registry, "0.1");
    let (code, _, err) = compose(
        &manifest,
        &dir.path().join("a.wasm"),
        &dir.path().join("c1"),
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let lock_before = lock_text(&manifest);

    // Someone pushes different content under the same tag.
    let moved = publish(&registry, &component("text"), "airlock:stats@0.1.0");
    assert_ne!(moved, locked);

    // A machine without the locked blob in its cache refuses what the registry serves now.
    let out = dir.path().join("b.wasm");
    for update in [&[][..], &["--update-lock"][..]] {
        let (code, _, err) = compose(&manifest, &out, &dir.path().join("c2"), update);
        assert_eq!(code, 1, "{err}");
        assert!(
            err.contains(&format!(
                "component `stats` (`airlock:stats@0.1.0`): the lock pins {locked} but the registry now serves {moved}"
            )),
            "{err}"
        );
        assert!(!out.exists());
        assert_eq!(lock_text(&manifest), lock_before);
    }
    let (code, _, err) = airlock(&[
        "check",
        "-m",
        s(&manifest),
        "--cache-dir",
        s(&dir.path().join("c3")),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("the lock pins"), "{err}");

    // With the locked blob cached, the locked content is used as is.
    let (code, _, err) = compose(&manifest, &out, &dir.path().join("c1"), &[]);
    assert_eq!(code, 0, "{err}");
}

/// A `stats` that also imports `wasi:sockets` (built from WIT: it composes, its code traps).
fn stats_with_sockets() -> Vec<u8> {
    let wit = std::fs::read_to_string(workspace().join("wit/stats/stats.wit")).unwrap();
    let wit = wit.replace(
        "world library {",
        "world library {\n  import wasi:sockets/tcp-create-socket@0.2.12;",
    );
    assert!(wit.contains("tcp-create-socket"));
    airlock_core::testkit::component_from_wit(&wit, Some(&workspace().join("wit/deps"))).unwrap()
}

#[test]
fn a_new_capability_fails_until_the_lock_is_updated() {
    let registry = TestRegistry::start().unwrap();
    publish(&registry, &component("stats"), "airlock:stats@0.1.0");
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let manifest = app_manifest(dir.path(), &registry, "0.1");
    let (code, _, err) = compose(&manifest, &dir.path().join("a.wasm"), &cache, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        !locked_stats_imports(&manifest)
            .iter()
            .any(|i| i.contains("sockets"))
    );

    // Version 0.2.0 wants the network; the manifest moves to it.
    let evil = dir.path().join("stats-0.2.wasm");
    std::fs::write(&evil, stats_with_sockets()).unwrap();
    publish(&registry, &evil, "airlock:stats@0.2.0");
    let manifest = app_manifest(dir.path(), &registry, "0.2");
    let lock_before = lock_text(&manifest);

    let out = dir.path().join("b.wasm");
    let (code, _, err) = compose(&manifest, &out, &cache, &[]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains(
            "component `stats` (`airlock:stats@0.2.0`) now imports `wasi:sockets/tcp-create-socket@0.2.12` (network)"
        ),
        "{err}"
    );
    assert!(err.contains("airlock lock --update"), "{err}");
    assert!(!out.exists());
    assert_eq!(lock_text(&manifest), lock_before);
    let (code, _, err) = airlock(&["check", "-m", s(&manifest), "--cache-dir", s(&cache)]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("wasi:sockets/tcp-create-socket@0.2.12"),
        "{err}"
    );
    assert_eq!(lock_text(&manifest), lock_before);

    // Accepted: the lock now lists it, and compose goes through (the import is denied inside).
    let (code, stdout, err) = airlock(&[
        "lock",
        "-m",
        s(&manifest),
        "--update",
        "--cache-dir",
        s(&cache),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.contains("stats: airlock:stats@0.2.0 sha256:"),
        "{stdout}"
    );
    assert!(err.contains("info: accepted: component `stats`"), "{err}");
    let imports = locked_stats_imports(&manifest);
    assert!(
        imports.contains(&"wasi:sockets/tcp-create-socket@0.2.12".to_string()),
        "{imports:?}"
    );
    assert!(lock_text(&manifest).contains("airlock:stats@0.2.0"));
    let (code, stdout, err) = compose(&manifest, &out, &cache, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.contains("wasi:sockets/tcp-create-socket@0.2.12"),
        "{stdout}"
    );
    assert!(out.exists());

    // Going back to 0.1 drops the capability: fine, reported, and the lock tightens.
    let manifest = app_manifest(dir.path(), &registry, "0.1");
    let (code, _, err) = compose(&manifest, &out, &cache, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(
            "info: component `stats` no longer imports `wasi:sockets/tcp-create-socket@0.2.12`"
        ),
        "{err}"
    );
    assert!(
        !locked_stats_imports(&manifest)
            .iter()
            .any(|i| i.contains("sockets"))
    );
}

#[test]
fn offline_uses_the_cache_only() {
    let dir = tempfile::tempdir().unwrap();
    let warm = dir.path().join("warm");
    let manifest;
    let online;
    {
        let registry = TestRegistry::start().unwrap();
        publish(&registry, &component("stats"), "airlock:stats@0.1.0");
        manifest = app_manifest(dir.path(), &registry, "0.1");
        let out = dir.path().join("online.wasm");
        let (code, _, err) = compose(&manifest, &out, &warm, &[]);
        assert_eq!(code, 0, "{err}");
        online = std::fs::read(&out).unwrap();
    } // the registry is gone from here on

    let out = dir.path().join("offline.wasm");
    let (code, _, err) = compose(&manifest, &out, &warm, &["--offline"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), online);

    // Without the lock, the versions seen before resolve offline too.
    std::fs::remove_file(manifest.with_file_name("airlock.lock")).unwrap();
    let (code, _, err) = compose(&manifest, &out, &warm, &["--offline"]);
    assert_eq!(code, 0, "{err}");
    assert!(lock_text(&manifest).contains("airlock:stats@0.1.0"));

    // An empty cache: a clear error, and nothing written.
    let cold = dir.path().join("cold");
    let out2 = dir.path().join("cold.wasm");
    let (code, _, err) = compose(&manifest, &out2, &cold, &["--offline"]);
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!(
            "offline: the cache `{}` has no copy of `airlock:stats@0.1.0` (sha256:",
            cold.display()
        )),
        "{err}"
    );
    assert!(!out2.exists());

    // Online with the registry gone: the error names the registry.
    let (code, _, err) = compose(&manifest, &out2, &cold, &[]);
    assert_eq!(code, 1);
    assert!(err.contains("registry `127.0.0.1:"), "{err}");
}

#[test]
fn publish_refuses_bad_input() {
    let registry = TestRegistry::start().unwrap();
    let (code, _, err) = airlock(&[
        "publish",
        s(&component("stats")),
        "--package",
        "airlock:stats@0.1",
        "--registry",
        &registry.url(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("bad package `airlock:stats@0.1`"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"not wasm").unwrap();
    let (code, _, err) = airlock(&[
        "publish",
        s(&junk),
        "--package",
        "airlock:junk@0.1.0",
        "--registry",
        &registry.url(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("is not a WebAssembly file"), "{err}");
    let (status, _) = registry.get("/v2/airlock/junk/tags/list", "*/*").unwrap();
    assert_eq!(status, 404);

    // HTTPS (the default for a bare host) against a plain-HTTP registry: a hint.
    let (code, _, err) = airlock(&[
        "publish",
        s(&component("stats")),
        "--package",
        "airlock:stats@0.1.0",
        "--registry",
        &registry.addr,
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!(
            "the registry seems to speak plain HTTP: use `http://{}`",
            registry.addr
        )),
        "{err}"
    );
}

/// wkg's config file decides the registry and its protocol: a bare
/// `127.0.0.1:PORT` (HTTPS by default) becomes plain HTTP through
/// `[registry."127.0.0.1:PORT".oci] protocol = "http"`, as wkg reads it.
#[test]
fn wkg_config_routes_a_namespace_to_a_plain_http_registry() {
    use airlock_registry::client::Client;
    use airlock_registry::config::{RegistryConfig, WkgConfig};
    use airlock_registry::{PackageName, PackageRef};

    let registry = TestRegistry::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(
        &file,
        format!(
            "default_registry = \"registry.invalid\"\n\
             [namespace_registries]\nairlock = \"{0}\"\n\
             [registry.\"{0}\".oci]\nprotocol = \"http\"\n",
            registry.addr
        ),
    )
    .unwrap();
    let config = RegistryConfig {
        wkg: WkgConfig::load(&file).unwrap(),
        wkg_path: Some(file),
        ..RegistryConfig::default()
    };
    let name = PackageName::parse("airlock:stats").unwrap();
    let target = config.registry_for(&name).unwrap();
    assert_eq!(target.host, registry.addr);
    assert!(target.http);

    let client = Client::new(&target).unwrap();
    let bytes = std::fs::read(component("stats")).unwrap();
    let package = PackageRef::parse("airlock:stats@1.2.3").unwrap();
    let pushed = client
        .push(&package, &bytes, &[], &[], Default::default())
        .unwrap();
    assert_eq!(
        pushed.reference,
        format!("{}/airlock/stats:1.2.3", registry.addr)
    );
    assert_eq!(
        client.versions(&name).unwrap(),
        std::slice::from_ref(&package.version)
    );
    let pulled = client.pull(&package).unwrap();
    assert_eq!(pulled.bytes, bytes);
    assert_eq!(pulled.digest, pushed.digest);
    // Nothing published under another name: no versions, not an error.
    let other = PackageName::parse("airlock:nothing").unwrap();
    assert!(client.versions(&other).unwrap().is_empty());
}

/// A container image (not the wasm layout) under a package's tag is refused by name.
#[test]
fn an_artifact_that_is_not_a_component_is_refused() {
    use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
    use oci_client::secrets::RegistryAuth;

    let registry = TestRegistry::start().unwrap();
    airlock_registry::client::install_tls_provider();
    let client = oci_client::Client::new(ClientConfig {
        protocol: ClientProtocol::Http,
        ..Default::default()
    });
    let reference = oci_client::Reference::with_tag(
        registry.addr.clone(),
        "airlock/stats".into(),
        "0.1.0".into(),
    );
    let layers = [ImageLayer::oci_v1(b"not a tarball".to_vec(), None)];
    let config = Config::oci_v1(b"{}".to_vec(), None);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(client.push(&reference, &layers, config, &RegistryAuth::Anonymous, None))
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let manifest = app_manifest(dir.path(), &registry, "0.1");
    let out = dir.path().join("out.wasm");
    let (code, _, err) = compose(&manifest, &out, &dir.path().join("cache"), &[]);
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!(
            "`{}/airlock/stats:0.1.0` is not a wasm component artifact: its config is `application/vnd.oci.image.config.v1+json`, not `application/vnd.wasm.config.v0+json`",
            registry.addr
        )),
        "{err}"
    );
    assert!(!out.exists());
    assert!(!manifest.with_file_name("airlock.lock").exists());
}

/// The `wkg` CLI (wasm-pkg-tools): `$WKG`, else `target/tools/bin/wkg`
/// (`just setup-wkg` installs it there), else on PATH.
fn wkg() -> PathBuf {
    let candidates = std::env::var_os("WKG")
        .map(PathBuf::from)
        .into_iter()
        .chain([workspace().join("target/tools/bin/wkg")]);
    for path in candidates {
        if path.exists() {
            return path;
        }
    }
    match std::process::Command::new("wkg").arg("--version").output() {
        Ok(out) if out.status.success() => PathBuf::from("wkg"),
        _ => panic!(
            "`wkg` is not installed: run `just setup-wkg` (cargo install wkg into target/tools)"
        ),
    }
}

fn sha256_of(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

#[test]
fn wkg_pulls_what_airlock_publishes_and_airlock_composes_what_wkg_pushes() {
    let registry = TestRegistry::start().unwrap();
    let host = registry.url().trim_start_matches("http://").to_string();
    let work = tempfile::tempdir().unwrap();
    // wkg's own config: the `airlock` namespace lives on the plain-HTTP test registry.
    let config_home = work.path().join("config");
    std::fs::create_dir_all(config_home.join("wasm-pkg")).unwrap();
    std::fs::write(
        config_home.join("wasm-pkg/config.toml"),
        format!(
            "default_registry = \"{host}\"\n[namespace_registries]\nairlock = \"{host}\"\n\
             [registry.\"{host}\".oci]\nprotocol = \"http\"\n"
        ),
    )
    .unwrap();
    let run_wkg = |args: &[&str]| {
        let out = std::process::Command::new(wkg())
            .args(args)
            .current_dir(work.path())
            .env("XDG_CONFIG_HOME", &config_home)
            .env("XDG_CACHE_HOME", work.path().join("wkg-cache"))
            .output()
            .expect("wkg runs");
        assert!(
            out.status.success(),
            "wkg {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };

    // 1. airlock publishes; `wkg get` resolves the package name and fetches the same bytes.
    let digest = publish(&registry, &component("stats"), "airlock:stats@0.1.0");
    let fetched = work.path().join("fetched.wasm");
    run_wkg(&["get", "airlock:stats@0.1.0", "-o", s(&fetched)]);
    assert_eq!(sha256_of(&std::fs::read(&fetched).unwrap()), digest);

    // 2. wkg pushes; airlock resolves `airlock:stats@0.2`, locks that exact
    //    content, and the composed app runs with it.
    let stats = component("stats");
    run_wkg(&[
        "oci",
        "push",
        "--insecure",
        &host,
        &format!("{host}/airlock/stats:0.2.0"),
        s(&stats),
    ]);
    let manifest = app_manifest(work.path(), &registry, "0.2");
    let out = work.path().join("app.wasm");
    let (code, _, err) = compose(&manifest, &out, &work.path().join("cache"), &[]);
    assert_eq!(code, 0, "{err}");
    let lock = lock_text(&manifest);
    assert!(lock.contains("airlock:stats@0.2.0"), "{lock}");
    assert!(
        lock.contains(&sha256_of(&std::fs::read(&stats).unwrap())),
        "{lock}"
    );
    assert_stats_ran(&std::fs::read(&out).unwrap());
}
