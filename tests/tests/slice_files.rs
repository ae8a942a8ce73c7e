//! The `files` slice (`files = { dir = "/docs/public", as = "/data" }`): one
//! host preopen narrowed to a subtree, enforced inside the composed output.
//! The probe (`tests/probes/fs-probe`) is a library written with Rust's
//! `std::fs`, plus raw `wasi:filesystem` calls that hand the interposer paths
//! exactly as given. Real escapes are tried against a host directory holding
//! a secret beside the narrowed subtree; the control run grants the same
//! probe the whole preopen and shows the same escapes reach the secret.

use airlock_core::manifest::Manifest;
use airlock_core::spec::CompositionSpec;
use airlock_host::{HostConfig, Preopen, Session, Val};
use airlock_tests::{compose, import_names, workspace};
use std::path::{Path, PathBuf};

const SECRET: &str = "the-secret-2f9c";
const PUBLIC: &str = "public text";

/// The built probe component.
fn probe_wasm() -> PathBuf {
    let path = workspace().join("target/wasm32-wasip2/component/fs_probe.wasm");
    assert!(
        path.exists(),
        "`{}` is missing: run `just build-components` first",
        path.display()
    );
    path
}

/// The probe composed alone with `extra` lines in its `[components.probe]`.
fn composed(dir: &Path, extra: &str) -> Vec<u8> {
    let text = format!(
        r#"
[output]
root = "probe"

[allow]
interfaces = ["wasi:filesystem/*@0.2", "wasi:io/*@0.2"]

[components.probe]
path = "{}"
{extra}
"#,
        probe_wasm().display()
    );
    let path = dir.join("airlock.toml");
    let manifest = Manifest::parse(&text, &path).unwrap();
    let spec = CompositionSpec::from_manifest(&manifest, &path).unwrap();
    compose(&spec).unwrap().bytes
}

/// The narrowed slice: `/docs/public` of the host, seen as `/data`.
const NARROW: &str = r#"files = { dir = "/docs/public", as = "/data" }"#;
/// The control: the whole filesystem granted directly.
const DIRECT: &str = r#"grant = ["wasi:filesystem/*", "wasi:io/*"]"#;

/// `docs/` with `public/a.txt`, `public/sub/b.txt`, `secret.txt` and the
/// symlinks `public/link -> ../secret.txt`, `public/abs -> /secret.txt` and
/// `public/inner -> sub/b.txt` (one that stays inside).
fn host_tree() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir_all(docs.join("public/sub")).unwrap();
    std::fs::write(docs.join("public/a.txt"), PUBLIC).unwrap();
    std::fs::write(docs.join("public/sub/b.txt"), "inside").unwrap();
    std::fs::write(docs.join("secret.txt"), SECRET).unwrap();
    std::os::unix::fs::symlink("../secret.txt", docs.join("public/link")).unwrap();
    std::os::unix::fs::symlink("/secret.txt", docs.join("public/abs")).unwrap();
    std::os::unix::fs::symlink("sub/b.txt", docs.join("public/inner")).unwrap();
    tmp
}

/// A session over `bytes` with the host preopen `/docs` (writable on the
/// host: read-only must come from the slice).
fn session(bytes: &[u8], tree: &Path) -> Session {
    session_on(bytes, tree, false)
}

fn session_on(bytes: &[u8], tree: &Path, host_read_only: bool) -> Session {
    let config = HostConfig {
        dirs: vec![Preopen {
            host: tree.join("docs"),
            guest: "/docs".into(),
            read_only: host_read_only,
        }],
        ..HostConfig::default()
    };
    Session::new(&airlock_host::engine(), bytes, &config).unwrap()
}

fn call(s: &mut Session, func: &str, args: Vec<Val>) -> Val {
    let mut out = s
        .call_export(Some("airlock:fs-probe/fs"), func, &args)
        .unwrap();
    assert_eq!(out.len(), 1, "{func}");
    out.remove(0)
}

fn string(v: Val) -> String {
    match v {
        Val::String(s) => s,
        other => panic!("not a string: {other:?}"),
    }
}

/// A `result<T, string>` as text: `Ok(rendered T)` or `Err(message)`.
fn result(v: Val) -> Result<String, String> {
    let render = |v: Option<Box<Val>>| match v.map(|b| *b) {
        None => String::new(),
        Some(Val::String(s)) => s,
        Some(Val::U64(n)) => n.to_string(),
        Some(Val::List(items)) => items.into_iter().map(string).collect::<Vec<_>>().join(","),
        Some(other) => panic!("unexpected {other:?}"),
    };
    match v {
        Val::Result(Ok(v)) => Ok(render(v)),
        Val::Result(Err(e)) => Err(render(e)),
        other => panic!("not a result: {other:?}"),
    }
}

fn read(s: &mut Session, path: &str) -> Result<String, String> {
    result(call(s, "read", vec![Val::String(path.into())]))
}

fn raw_read(s: &mut Session, path: &str, follow: bool) -> Result<String, String> {
    result(call(
        s,
        "raw-read",
        vec![Val::String(path.into()), Val::Bool(follow)],
    ))
}

fn preopens(s: &mut Session) -> Vec<String> {
    match call(s, "preopens", Vec::new()) {
        Val::List(items) => items.into_iter().map(string).collect(),
        other => panic!("not a list: {other:?}"),
    }
}

/// Paths that try to leave `/docs/public`, through std (wasi-libc) and raw.
const STD_ESCAPES: [&str; 6] = [
    "/data/../secret.txt",
    "/data/sub/../../secret.txt",
    "/data/link",
    "/data/abs",
    "/docs/secret.txt",
    "/secret.txt",
];
const RAW_ESCAPES: [&str; 6] = [
    "../secret.txt",
    "sub/../../secret.txt",
    "/secret.txt",
    "/docs/secret.txt",
    "link",
    "abs",
];

#[test]
fn the_library_reads_inside_the_narrowed_directory_with_std() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = host_tree();
    let bytes = composed(tmp.path(), NARROW);
    let mut s = session(&bytes, tree.path());
    assert_eq!(preopens(&mut s), ["/data"]);
    assert_eq!(read(&mut s, "/data/a.txt"), Ok(PUBLIC.into()));
    assert_eq!(read(&mut s, "/data/sub/b.txt"), Ok("inside".into()));
    assert_eq!(read(&mut s, "/data/sub/../a.txt"), Ok(PUBLIC.into()));
    // A symlink that stays inside is resolved by the interposer.
    assert_eq!(read(&mut s, "/data/inner"), Ok("inside".into()));
    assert_eq!(
        result(call(&mut s, "list", vec![Val::String("/data".into())])),
        Ok("a.txt,abs,inner,link,sub".into())
    );
}

#[test]
fn every_escape_fails_and_the_secret_never_appears() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = host_tree();
    let bytes = composed(tmp.path(), NARROW);
    let mut s = session(&bytes, tree.path());
    for path in STD_ESCAPES {
        let got = read(&mut s, path);
        assert!(got.is_err(), "std read of `{path}` escaped: {got:?}");
        assert!(!format!("{got:?}").contains(SECRET));
    }
    for path in RAW_ESCAPES {
        for follow in [true, false] {
            let got = raw_read(&mut s, path, follow);
            assert!(
                got.is_err(),
                "raw read of `{path}` ({follow}) escaped: {got:?}"
            );
            assert!(!format!("{got:?}").contains(SECRET));
        }
        let stat = result(call(
            &mut s,
            "raw-stat",
            vec![Val::String(path.into()), Val::Bool(true)],
        ));
        assert!(stat.is_err(), "stat of `{path}`: {stat:?}");
    }
    let listing = result(call(&mut s, "list", vec![Val::String("/data/..".into())]));
    assert!(
        !format!("{listing:?}").contains("secret"),
        "listing above the root: {listing:?}"
    );
}

/// Directories read through, then moved out of the root by the host or
/// replaced by a symlink leading out or by another directory, are not
/// followed: each read after the change sees what a fresh walk from the root
/// sees. (The interposer walks every path afresh; a cache of directory
/// handles, which the walk once had, must keep this true: a handle kept
/// from an earlier read still reaches the moved directory.)
#[test]
fn directories_moved_out_or_replaced_between_reads_are_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = host_tree();
    let docs = tree.path().join("docs");
    let bytes = composed(tmp.path(), NARROW);
    let mut s = session(&bytes, tree.path());
    let deep = |d: &Path| d.join("deeper/c.txt");
    let public_sub = docs.join("public/sub");
    std::fs::create_dir_all(public_sub.join("deeper")).unwrap();
    std::fs::write(deep(&public_sub), PUBLIC).unwrap();
    for _ in 0..3 {
        assert_eq!(read(&mut s, "/data/sub/deeper/c.txt"), Ok(PUBLIC.into()));
    }
    assert_eq!(
        raw_read(&mut s, "sub/deeper/c.txt", false),
        Ok(PUBLIC.into())
    );

    // Moved out of the root (still inside the host's preopen), the secret
    // written into it; nothing in its place.
    let moved = docs.join("moved");
    std::fs::rename(&public_sub, &moved).unwrap();
    std::fs::write(deep(&moved), SECRET).unwrap();
    let no_secret = |got: Result<String, String>, what: &str| {
        assert!(got.is_err(), "{what}: {got:?}");
        assert!(!format!("{got:?}").contains(SECRET), "{what}: {got:?}");
    };
    no_secret(read(&mut s, "/data/sub/deeper/c.txt"), "moved out");
    no_secret(raw_read(&mut s, "sub/deeper/c.txt", true), "moved out, raw");

    // Read again through the root (kept afresh), then replaced by symlinks
    // to where it went: relative (climbing out) and absolute.
    std::fs::create_dir_all(public_sub.join("deeper")).unwrap();
    std::fs::write(deep(&public_sub), "again").unwrap();
    assert_eq!(read(&mut s, "/data/sub/deeper/c.txt"), Ok("again".into()));
    for target in ["../moved", "/moved"] {
        std::fs::remove_dir_all(&public_sub).ok();
        std::fs::remove_file(&public_sub).ok();
        std::os::unix::fs::symlink(target, &public_sub).unwrap();
        no_secret(read(&mut s, "/data/sub/deeper/c.txt"), target);
        no_secret(raw_read(&mut s, "sub/deeper/c.txt", true), target);
        no_secret(raw_read(&mut s, "sub/deeper/c.txt", false), target);
        // Kept again through a real directory before the next swap.
        std::fs::remove_file(&public_sub).unwrap();
        std::fs::create_dir_all(public_sub.join("deeper")).unwrap();
        std::fs::write(deep(&public_sub), "again").unwrap();
        assert_eq!(read(&mut s, "/data/sub/deeper/c.txt"), Ok("again".into()));
    }

    // The deeper level alone moved out and a symlink to it put in its place.
    std::fs::remove_dir_all(&moved).unwrap();
    std::fs::rename(public_sub.join("deeper"), &moved).unwrap();
    std::fs::write(moved.join("c.txt"), SECRET).unwrap();
    std::os::unix::fs::symlink("../../moved", public_sub.join("deeper")).unwrap();
    no_secret(read(&mut s, "/data/sub/deeper/c.txt"), "deeper level");

    // Replaced by another directory (removed and made again: the host may
    // even reuse the identity): the new one's file is read.
    std::fs::remove_file(public_sub.join("deeper")).unwrap();
    std::fs::create_dir(public_sub.join("deeper")).unwrap();
    std::fs::write(deep(&public_sub), "first").unwrap();
    assert_eq!(read(&mut s, "/data/sub/deeper/c.txt"), Ok("first".into()));
    std::fs::remove_dir_all(&public_sub).unwrap();
    std::fs::create_dir_all(public_sub.join("deeper")).unwrap();
    std::fs::write(deep(&public_sub), "second").unwrap();
    assert_eq!(read(&mut s, "/data/sub/deeper/c.txt"), Ok("second".into()));
    assert_eq!(
        raw_read(&mut s, "sub/deeper/c.txt", false),
        Ok("second".into())
    );
}

#[test]
fn a_read_only_slice_refuses_writes_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = host_tree();
    let bytes = composed(tmp.path(), NARROW);
    let mut s = session(&bytes, tree.path());
    let write = |s: &mut Session, f: &str, path: &str| {
        result(call(
            s,
            f,
            vec![Val::String(path.into()), Val::String("overwritten".into())],
        ))
    };
    let got = write(&mut s, "write", "/data/a.txt");
    assert!(got.is_err(), "{got:?}");
    let got = write(&mut s, "write", "/data/new.txt");
    assert!(got.is_err(), "{got:?}");
    let got = write(&mut s, "raw-write", "new.txt");
    assert!(
        got.as_ref().is_err_and(|e| e.contains("read-only")),
        "{got:?}"
    );
    let public = tree.path().join("docs/public");
    assert_eq!(
        std::fs::read_to_string(public.join("a.txt")).unwrap(),
        PUBLIC
    );
    assert!(!public.join("new.txt").exists());
}

#[test]
fn a_writable_slice_writes_inside_only() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = host_tree();
    let extra = r#"files = { dir = "/docs/public", as = "/data", read-only = false }"#;
    let bytes = composed(tmp.path(), extra);
    let mut s = session(&bytes, tree.path());
    let write = |s: &mut Session, path: &str| {
        result(call(
            s,
            "write",
            vec![Val::String(path.into()), Val::String("written".into())],
        ))
    };
    assert_eq!(write(&mut s, "/data/sub/new.txt"), Ok(String::new()));
    let public = tree.path().join("docs/public");
    assert_eq!(
        std::fs::read_to_string(public.join("sub/new.txt")).unwrap(),
        "written"
    );
    assert!(write(&mut s, "/data/../outside.txt").is_err());
    assert!(write(&mut s, "/data/link").is_err());
    assert_eq!(
        std::fs::read_to_string(tree.path().join("docs/secret.txt")).unwrap(),
        SECRET
    );
    assert!(!tree.path().join("docs/outside.txt").exists());
}

#[test]
fn a_writable_slice_of_a_read_only_host_directory_reads_and_cannot_write() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = host_tree();
    let extra = r#"files = { dir = "/docs/public", as = "/data", read-only = false }"#;
    let bytes = composed(tmp.path(), extra);
    let mut s = session_on(&bytes, tree.path(), true);
    assert_eq!(preopens(&mut s), ["/data"]);
    assert_eq!(read(&mut s, "/data/sub/b.txt"), Ok("inside".into()));
    let got = result(call(
        &mut s,
        "write",
        vec![Val::String("/data/new.txt".into()), Val::String("x".into())],
    ));
    assert!(got.is_err(), "{got:?}");
    assert!(!tree.path().join("docs/public/new.txt").exists());
}

#[test]
fn control_the_whole_preopen_granted_directly_reaches_the_secret() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = host_tree();
    let bytes = composed(tmp.path(), DIRECT);
    let mut s = session(&bytes, tree.path());
    assert_eq!(preopens(&mut s), ["/docs"]);
    // The same escapes, from where the narrowed root would be.
    assert_eq!(
        read(&mut s, "/docs/public/../secret.txt"),
        Ok(SECRET.into())
    );
    assert_eq!(read(&mut s, "/docs/public/link"), Ok(SECRET.into()));
    assert_eq!(
        raw_read(&mut s, "public/sub/../../secret.txt", true),
        Ok(SECRET.into())
    );
    assert_eq!(raw_read(&mut s, "public/link", true), Ok(SECRET.into()));
    let got = result(call(
        &mut s,
        "raw-write",
        vec![
            Val::String("public/new.txt".into()),
            Val::String("x".into()),
        ],
    ));
    assert_eq!(got, Ok(String::new()));
}

#[test]
fn the_output_imports_only_the_filesystem_and_its_streams() {
    let tmp = tempfile::tempdir().unwrap();
    let bytes = composed(tmp.path(), NARROW);
    let names: Vec<String> = import_names(&bytes)
        .unwrap()
        .into_iter()
        .map(|n| n.split('@').next().unwrap().to_string())
        .collect();
    // `wall-clock` only for the `datetime` type of file times: no function
    // (the library's own clock stays denied).
    assert_eq!(
        names,
        [
            "wasi:clocks/wall-clock",
            "wasi:filesystem/preopens",
            "wasi:filesystem/types",
            "wasi:io/error",
            "wasi:io/poll",
            "wasi:io/streams",
        ]
    );
}

#[test]
fn a_directory_outside_every_host_preopen_gives_no_preopen() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = host_tree();
    let bytes = composed(
        tmp.path(),
        r#"files = { dir = "/elsewhere", as = "/data" }"#,
    );
    let mut s = session(&bytes, tree.path());
    assert_eq!(preopens(&mut s), Vec::<String>::new());
    assert!(read(&mut s, "/data/a.txt").is_err());
    assert!(read(&mut s, "/docs/secret.txt").is_err());
}

/// `assets/` beside the manifest: `a.txt`, `sub/b.txt`.
fn assets(dir: &Path) {
    std::fs::create_dir_all(dir.join("assets/sub")).unwrap();
    std::fs::write(dir.join("assets/a.txt"), PUBLIC).unwrap();
    std::fs::write(dir.join("assets/sub/b.txt"), "inside").unwrap();
}

const EMBED: &str = r#"files = { embed = "assets", as = "/assets" }"#;

/// A session with no host directory at all.
fn bare_session(bytes: &[u8]) -> Session {
    Session::new(&airlock_host::engine(), bytes, &HostConfig::default()).unwrap()
}

#[test]
fn an_embedded_directory_is_read_with_std_and_needs_no_host() {
    let tmp = tempfile::tempdir().unwrap();
    assets(tmp.path());
    let bytes = composed(tmp.path(), EMBED);
    // Edited after composing: the output carries its own copy.
    std::fs::write(tmp.path().join("assets/a.txt"), "changed").unwrap();
    let names = import_names(&bytes).unwrap();
    assert!(
        names
            .iter()
            .all(|n| !n.starts_with("wasi:filesystem") && !n.starts_with("wasi:io")),
        "{names:?}"
    );
    let mut s = bare_session(&bytes);
    assert_eq!(preopens(&mut s), ["/assets"]);
    assert_eq!(read(&mut s, "/assets/a.txt"), Ok(PUBLIC.into()));
    assert_eq!(read(&mut s, "/assets/sub/b.txt"), Ok("inside".into()));
    assert_eq!(read(&mut s, "/assets/sub/../a.txt"), Ok(PUBLIC.into()));
    assert_eq!(
        result(call(&mut s, "list", vec![Val::String("/assets".into())])),
        Ok("a.txt,sub".into())
    );
    assert_eq!(raw_read(&mut s, "sub/b.txt", true), Ok("inside".into()));
    assert!(read(&mut s, "/assets/missing.txt").is_err());
}

#[test]
fn an_embedded_directory_refuses_writes_and_escapes() {
    let tmp = tempfile::tempdir().unwrap();
    assets(tmp.path());
    std::fs::write(tmp.path().join("secret.txt"), SECRET).unwrap();
    let bytes = composed(tmp.path(), EMBED);
    let mut s = bare_session(&bytes);
    for path in [
        "/assets/../secret.txt",
        "/secret.txt",
        "/assets/sub/../../secret.txt",
    ] {
        let got = read(&mut s, path);
        assert!(got.is_err(), "`{path}`: {got:?}");
    }
    for path in ["../secret.txt", "/secret.txt", "sub/../../secret.txt"] {
        let got = raw_read(&mut s, path, true);
        assert!(
            got.as_ref().is_err_and(|e| e.contains("not-permitted")),
            "`{path}`: {got:?}"
        );
    }
    let write = |s: &mut Session, f: &str, path: &str| {
        result(call(
            s,
            f,
            vec![Val::String(path.into()), Val::String("x".into())],
        ))
    };
    assert!(write(&mut s, "write", "/assets/a.txt").is_err());
    let got = write(&mut s, "raw-write", "new.txt");
    assert!(
        got.as_ref().is_err_and(|e| e.contains("read-only")),
        "{got:?}"
    );
    assert_eq!(read(&mut s, "/assets/a.txt"), Ok(PUBLIC.into()));
}

#[test]
fn an_embedded_symlink_is_refused_at_compose_time() {
    let tmp = tempfile::tempdir().unwrap();
    assets(tmp.path());
    std::os::unix::fs::symlink("/etc/passwd", tmp.path().join("assets/link")).unwrap();
    let path = tmp.path().join("airlock.toml");
    let text = format!(
        "[output]\nroot = \"probe\"\n[components.probe]\npath = \"{}\"\n{EMBED}\n",
        probe_wasm().display()
    );
    let manifest = Manifest::parse(&text, &path).unwrap();
    let err = CompositionSpec::from_manifest(&manifest, &path)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("files") && err.contains("symlinks are not embedded"),
        "{err}"
    );
}

// Symlinks a writable slice leaves behind (issue #12, case 5): the library
// cannot follow a symlink out through the interposer, but the app and host
// tools follow them on the host. A link made where it stays inside, then
// moved shallower (renamed, hard-linked, or inside a renamed directory),
// must not end up leading out. Each attack has a control: the same calls
// with the whole preopen granted directly succeed and leave a link to the
// secret, so the checks below can fail.

/// The writable slice of `/docs/public`, seen as `/data`.
const WRITABLE: &str = r#"files = { dir = "/docs/public", as = "/data", read-only = false }"#;

/// `docs/` with `public/a.txt`, the directories `public/a/b/` and
/// `public/c/`, and `secret.txt` beside `public/`; no symlink yet.
fn link_tree() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir_all(docs.join("public/a/b")).unwrap();
    std::fs::create_dir_all(docs.join("public/c")).unwrap();
    std::fs::write(docs.join("public/a.txt"), PUBLIC).unwrap();
    std::fs::write(docs.join("secret.txt"), SECRET).unwrap();
    tmp
}

/// The symlinks under `dir` (not followed) that lead outside it, as the host
/// resolves them (lexically from where they stand when they dangle).
fn links_leading_out(dir: &Path) -> Vec<PathBuf> {
    let root = dir.canonicalize().unwrap();
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                todo.push(path);
            } else if meta.file_type().is_symlink() {
                let resolved = path.canonicalize().unwrap_or_else(|_| {
                    let target = std::fs::read_link(&path).unwrap();
                    lexical(&path.parent().unwrap().canonicalize().unwrap().join(target))
                });
                if !resolved.starts_with(&root) {
                    out.push(path.strip_prefix(dir).unwrap().to_path_buf());
                }
            }
        }
    }
    out.sort();
    out
}

/// `path` with `.` and `..` applied by name.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// A raw probe call on two paths (`raw-symlink`, `raw-rename`, `raw-link`).
fn raw2(s: &mut Session, func: &str, a: &str, b: &str) -> Result<String, String> {
    result(call(
        s,
        func,
        vec![Val::String(a.into()), Val::String(b.into())],
    ))
}

fn refused(got: Result<String, String>, what: &str) {
    assert!(
        got.as_ref().is_err_and(|e| e.contains("not-permitted")),
        "{what}: {got:?}"
    );
}

fn ok(got: Result<String, String>, what: &str) {
    assert_eq!(got, Ok(String::new()), "{what}");
}

/// Through the writable slice: `a/b/l -> ../../secret.txt` is made (inside
/// from `a/b/`, it names `public/secret.txt`), then each way of moving it
/// shallower is refused; moves that keep it inside work.
#[test]
fn a_symlink_cannot_be_renamed_to_where_it_leads_out() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = link_tree();
    let public = tree.path().join("docs/public");
    let bytes = composed(tmp.path(), WRITABLE);
    let mut s = session(&bytes, tree.path());
    ok(
        raw2(&mut s, "raw-symlink", "../../secret.txt", "a/b/l"),
        "symlink",
    );
    refused(
        raw2(&mut s, "raw-rename", "a/b/l", "l"),
        "rename to the root",
    );
    refused(
        raw2(&mut s, "raw-rename", "a/b/l", "c/l"),
        "rename to depth 1",
    );
    assert_eq!(links_leading_out(&public), Vec::<PathBuf>::new());
    assert!(std::fs::symlink_metadata(public.join("a/b/l")).is_ok());
    // Same depth or deeper: still inside, allowed.
    ok(
        raw2(&mut s, "raw-rename", "a/b/l", "a/b/m"),
        "rename in place",
    );
    std::fs::create_dir(public.join("a/b/d")).unwrap();
    ok(
        raw2(&mut s, "raw-rename", "a/b/m", "a/b/d/m"),
        "rename deeper",
    );
    assert_eq!(links_leading_out(&public), Vec::<PathBuf>::new());
    assert_eq!(
        std::fs::read_link(public.join("a/b/d/m")).unwrap(),
        Path::new("../../secret.txt")
    );
}

#[test]
fn control_a_symlink_renamed_directly_leads_to_the_secret() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = link_tree();
    let public = tree.path().join("docs/public");
    let bytes = composed(tmp.path(), DIRECT);
    let mut s = session(&bytes, tree.path());
    for (link, to) in [("public/a/b/l", "public/c/l"), ("public/a/b/m", "public/m")] {
        ok(raw2(&mut s, "raw-symlink", "../../secret.txt", link), link);
        ok(raw2(&mut s, "raw-rename", link, to), to);
    }
    // `c/l` leads to `docs/secret.txt`; `m` two levels above `public/`.
    assert_eq!(
        links_leading_out(&public),
        [PathBuf::from("c/l"), PathBuf::from("m")]
    );
    assert_eq!(std::fs::read_to_string(public.join("c/l")).unwrap(), SECRET);
}

#[test]
fn a_symlink_cannot_be_hard_linked_to_where_it_leads_out() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = link_tree();
    let public = tree.path().join("docs/public");
    let bytes = composed(tmp.path(), WRITABLE);
    let mut s = session(&bytes, tree.path());
    ok(
        raw2(&mut s, "raw-symlink", "../../secret.txt", "a/b/l"),
        "symlink",
    );
    refused(raw2(&mut s, "raw-link", "a/b/l", "l"), "link to the root");
    refused(raw2(&mut s, "raw-link", "a/b/l", "c/l"), "link to depth 1");
    assert_eq!(links_leading_out(&public), Vec::<PathBuf>::new());
    assert!(std::fs::symlink_metadata(public.join("l")).is_err());
    // A hard link of a plain file is not a symlink: allowed anywhere.
    ok(raw2(&mut s, "raw-link", "a.txt", "a/b/a2.txt"), "file link");
    assert_eq!(
        std::fs::read_to_string(public.join("a/b/a2.txt")).unwrap(),
        PUBLIC
    );
}

#[test]
fn control_a_symlink_hard_linked_directly_leads_to_the_secret() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = link_tree();
    let public = tree.path().join("docs/public");
    let bytes = composed(tmp.path(), DIRECT);
    let mut s = session(&bytes, tree.path());
    ok(
        raw2(&mut s, "raw-symlink", "../../secret.txt", "public/a/b/l"),
        "symlink",
    );
    ok(
        raw2(&mut s, "raw-link", "public/a/b/l", "public/c/l"),
        "link",
    );
    ok(raw2(&mut s, "raw-link", "public/a/b/l", "public/l"), "link");
    assert_eq!(
        links_leading_out(&public),
        [PathBuf::from("c/l"), PathBuf::from("l")]
    );
    assert_eq!(std::fs::read_to_string(public.join("c/l")).unwrap(), SECRET);
}

#[test]
fn a_directory_holding_a_symlink_cannot_move_to_where_it_leads_out() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = link_tree();
    let public = tree.path().join("docs/public");
    let bytes = composed(tmp.path(), WRITABLE);
    let mut s = session(&bytes, tree.path());
    std::fs::create_dir(public.join("a/b/deep")).unwrap();
    ok(
        raw2(&mut s, "raw-symlink", "../../../secret.txt", "a/b/deep/l"),
        "symlink",
    );
    // `a/b` to `b`: `b/deep/l -> ../../../secret.txt` would lead out.
    refused(raw2(&mut s, "raw-rename", "a/b", "b"), "directory up one");
    refused(
        raw2(&mut s, "raw-rename", "a/b/deep", "deep"),
        "directory up two",
    );
    assert_eq!(links_leading_out(&public), Vec::<PathBuf>::new());
    assert!(std::fs::symlink_metadata(public.join("a/b/deep/l")).is_ok());
    // The same depth or deeper is not looked into, and stays inside.
    ok(raw2(&mut s, "raw-rename", "a/b", "c/b"), "directory across");
    ok(
        raw2(&mut s, "raw-rename", "c/b", "c/b2"),
        "directory in place",
    );
    // Shallower, with only links that stay inside from the new place: allowed.
    ok(
        raw2(&mut s, "raw-symlink", "../a.txt", "a/in"),
        "symlink inside",
    );
    std::fs::create_dir(public.join("a/x")).unwrap();
    ok(
        raw2(&mut s, "raw-rename", "a/in", "a/x/in"),
        "rename deeper",
    );
    ok(
        raw2(&mut s, "raw-rename", "a/x", "x"),
        "directory up, still inside",
    );
    assert_eq!(
        std::fs::read_to_string(public.join("x/in")).unwrap(),
        PUBLIC
    );
    assert_eq!(links_leading_out(&public), Vec::<PathBuf>::new());
}

#[test]
fn control_a_directory_moved_directly_leads_to_the_secret() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = link_tree();
    let public = tree.path().join("docs/public");
    let bytes = composed(tmp.path(), DIRECT);
    let mut s = session(&bytes, tree.path());
    std::fs::create_dir(public.join("a/b/deep")).unwrap();
    ok(
        raw2(
            &mut s,
            "raw-symlink",
            "../../../secret.txt",
            "public/a/b/deep/l",
        ),
        "symlink",
    );
    ok(
        raw2(&mut s, "raw-rename", "public/a/b", "public/b"),
        "rename",
    );
    assert_eq!(links_leading_out(&public), [PathBuf::from("b/deep/l")]);
    assert_eq!(
        std::fs::read_to_string(public.join("b/deep/l")).unwrap(),
        SECRET
    );
}

/// `d -> .` then `l -> d/../secret.txt`: inside by name (`d/..` is the
/// root), but the host takes `..` from where `d` leads, one level above.
#[test]
fn a_symlink_target_cannot_climb_after_a_name() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = link_tree();
    let public = tree.path().join("docs/public");
    let bytes = composed(tmp.path(), WRITABLE);
    let mut s = session(&bytes, tree.path());
    ok(raw2(&mut s, "raw-symlink", ".", "d"), "symlink to the root");
    refused(
        raw2(&mut s, "raw-symlink", "d/../secret.txt", "l"),
        "climb after a name",
    );
    refused(
        raw2(&mut s, "raw-symlink", "../secret.txt", "l"),
        "climb out",
    );
    ok(raw2(&mut s, "raw-symlink", "d/a.txt", "l"), "through d");
    assert_eq!(std::fs::read_to_string(public.join("l")).unwrap(), PUBLIC);
    assert_eq!(links_leading_out(&public), Vec::<PathBuf>::new());
}

#[test]
fn control_a_symlink_climbing_after_a_name_made_directly_leads_to_the_secret() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = link_tree();
    let public = tree.path().join("docs/public");
    let bytes = composed(tmp.path(), DIRECT);
    let mut s = session(&bytes, tree.path());
    ok(raw2(&mut s, "raw-symlink", ".", "public/d"), "symlink");
    ok(
        raw2(&mut s, "raw-symlink", "d/../secret.txt", "public/l"),
        "symlink",
    );
    assert_eq!(links_leading_out(&public), [PathBuf::from("l")]);
    assert_eq!(std::fs::read_to_string(public.join("l")).unwrap(), SECRET);
}
