//! Supply-chain cases of issue 17 at the CLI (`airlock::main`):
//! - the capability lock records the functions of each import, so a library
//!   swapped for one that calls more of an interface it already imported (or
//!   the same function with another signature) is stopped like a new import;
//! - the output never replaces the lock, the manifest, an input or a cache
//!   blob, and is written with ordinary permissions;
//! - provenance is verified against the bytes nested in an output; a section
//!   forged into anything else is labelled as a claim, and `publish` copies
//!   only verified provenance.
//!
//! Each case has a control: the same steps without the attack succeed.

use airlock_core::testkit::component_from_wit;
use airlock_tests::randgen::wasi_deps;
use std::path::{Path, PathBuf};

/// Runs the CLI: (exit code, stdout, stderr).
fn airlock(args: &[&dyn AsRef<std::ffi::OsStr>]) -> (i32, String, String) {
    let all: Vec<std::ffi::OsString> = std::iter::once("airlock".into())
        .chain(args.iter().map(|a| a.as_ref().to_os_string()))
        .collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = airlock::main(airlock_tests::without_user_cache(all), &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

const APP: &str = "package test:app;

world app {
  import wasi:cli/stdout@0.2.12;
  import test:lib/api@0.1.0;
  export wasi:cli/run@0.2.12;
}

package test:lib@0.1.0 {
  interface api {
    summarize: func(text: string) -> string;
  }
}
";

/// A library exporting `test:lib/api` that imports `imports` (world items),
/// with `packages` (inline WIT packages) available to them.
fn lib_wit(imports: &str, packages: &str) -> String {
    format!(
        "package test:lib@0.1.0;

interface api {{
  summarize: func(text: string) -> string;
}}

world lib {{
{imports}
  export api;
}}

{packages}"
    )
}

/// A library that imports `wasi:cli/environment@0.2.11` with only `functions`
/// (WIT lines): a component imports only the functions it calls.
fn env_lib(functions: &str) -> String {
    lib_wit(
        "  import wasi:cli/environment@0.2.11;",
        &format!("package wasi:cli@0.2.11 {{\n  interface environment {{\n{functions}\n  }}\n}}\n"),
    )
}

const INITIAL_CWD: &str = "    initial-cwd: func() -> option<string>;";
const GET_ENVIRONMENT: &str = "    get-environment: func() -> list<tuple<string, string>>;";
const GET_ARGUMENTS: &str = "    get-arguments: func() -> list<string>;";

/// A project folder: `app.wasm`, `lib.wasm` and `airlock.toml`.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(lib: &str) -> Self {
        Self::with_manifest(lib, "")
    }

    /// With `output` (TOML lines) in the manifest's `[output]` table.
    fn with_manifest(lib: &str, output: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let p = Self { dir };
        std::fs::write(p.path("app.wasm"), component(APP)).unwrap();
        p.swap_lib(lib);
        std::fs::write(
            p.manifest(),
            format!(
                "[output]\nroot = \"app\"\n{output}\n\n[allow]\ninterfaces = [\"wasi:cli/stdout@0.2\"]\n\n\
                 [components.app]\npath = \"app.wasm\"\ngrant = [\"wasi:cli/stdout\"]\n\n\
                 [components.lib]\npath = \"lib.wasm\"\ndeny = [\"test:*\"]\n"
            ),
        )
        .unwrap();
        p
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn manifest(&self) -> PathBuf {
        self.path("airlock.toml")
    }

    fn lock(&self) -> PathBuf {
        self.path("airlock.lock")
    }

    fn lock_text(&self) -> String {
        std::fs::read_to_string(self.lock()).unwrap()
    }

    /// Replaces the library (a new release, or a swapped one).
    fn swap_lib(&self, wit: &str) {
        std::fs::write(self.path("lib.wasm"), component(wit)).unwrap();
    }

    fn compose(&self, extra: &[&str]) -> (i32, String, String) {
        let (m, o) = (self.manifest(), self.path("out.wasm"));
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"compose", &"-m", &m, &"-o", &o];
        for e in extra {
            args.push(e);
        }
        airlock(&args)
    }

    fn run(&self, command: &str, extra: &[&str]) -> (i32, String, String) {
        let m = self.manifest();
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&command, &"-m", &m];
        for e in extra {
            args.push(e);
        }
        airlock(&args)
    }
}

fn component(wit: &str) -> Vec<u8> {
    component_from_wit(wit, Some(&wasi_deps())).unwrap()
}

// ---------------------------------------------------------------- point 5

#[test]
fn a_swapped_library_calling_more_of_a_locked_interface_trips_the_lock() {
    let p = Project::new(&env_lib(INITIAL_CWD));
    let (code, _, err) = p.compose(&[]);
    assert_eq!(code, 0, "{err}");
    assert!(p.lock_text().contains("initial-cwd = \"sha256:"));

    // Control: the same library composes again, the lock unchanged.
    let before = p.lock_text();
    let (code, _, err) = p.compose(&[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(p.lock_text(), before);

    // Swapped for one that reads the whole environment and the arguments.
    std::fs::remove_file(p.path("out.wasm")).unwrap();
    p.swap_lib(&env_lib(
        &[INITIAL_CWD, GET_ENVIRONMENT, GET_ARGUMENTS].join("\n"),
    ));
    for command in ["compose", "check", "lock"] {
        let (code, _, err) = if command == "compose" {
            p.compose(&[])
        } else {
            p.run(command, &[])
        };
        assert_eq!(code, 3, "{command}: {err}");
        assert!(
            err.contains(&format!(
                "component `lib` (file `{}`) now imports `get-arguments`, `get-environment` of `wasi:cli/environment@0.2.11` (environment)",
                p.path("lib.wasm").display()
            )),
            "{command}: {err}"
        );
        assert!(err.contains("airlock lock --update"), "{err}");
        assert!(!p.path("out.wasm").exists(), "{command} wrote an output");
        assert_eq!(p.lock_text(), before, "{command} changed the lock");
    }

    // Accepted on purpose: recorded, and composing works again.
    let (code, _, err) = p.compose(&["--update-lock"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("info: accepted: component `lib`")
            && err.contains("now imports `get-arguments`, `get-environment`"),
        "{err}"
    );
    assert!(p.lock_text().contains("get-environment = \"sha256:"));
    let (code, _, err) = p.compose(&[]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn a_changed_signature_trips_the_lock_and_a_removed_function_is_only_reported() {
    let sink = |write: &str, extra: &str| {
        lib_wit(
            "  import test:log/sink@0.1.0;",
            &format!(
                "package test:log@0.1.0 {{\n  interface sink {{\n    {write}\n{extra}  }}\n}}\n"
            ),
        )
    };
    let p = Project::new(&sink(
        "write: func(message: string);",
        "    flush: func();\n",
    ));
    let (code, _, err) = p.compose(&[]);
    assert_eq!(code, 0, "{err}");

    // Control: a release that drops `flush` composes; the lock tightens.
    p.swap_lib(&sink("write: func(message: string);", ""));
    let (code, _, err) = p.compose(&[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("info: component `lib` no longer imports `flush` of `test:log/sink@0.1.0`"),
        "{err}"
    );
    assert!(!p.lock_text().contains("\nflush = "), "{}", p.lock_text());

    // The same function name with another signature.
    p.swap_lib(&sink("write: func(message: list<u8>, level: u8);", ""));
    let (code, _, err) = p.compose(&[]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("changed the signature of `write` in `test:log/sink@0.1.0` (custom)"),
        "{err}"
    );
}

/// A library importing `wasi:filesystem/types@0.2.11` with a `descriptor`
/// resource having `methods` (WIT lines, as in WASI 0.2).
fn files_lib(methods: &str) -> String {
    lib_wit(
        "  import wasi:filesystem/types@0.2.11;",
        &format!(
            "package wasi:filesystem@0.2.11 {{
  interface types {{
    type filesize = u64;
    enum error-code {{ access, would-block, already, bad-descriptor }}
    resource descriptor {{
{methods}
    }}
  }}
}}
"
        ),
    )
}

const READ: &str = "      read: func(length: filesize, offset: filesize) -> result<tuple<list<u8>, bool>, error-code>;";
const WRITE: &str =
    "      write: func(buffer: list<u8>, offset: filesize) -> result<filesize, error-code>;";
const UNLINK: &str = "      unlink-file-at: func(path: string) -> result<_, error-code>;";

/// A library importing `wasi:sockets/tcp@0.2.11` with `methods` on `tcp-socket`.
fn tcp_lib(methods: &str) -> String {
    lib_wit(
        "  import wasi:sockets/tcp@0.2.11;",
        &format!(
            "package wasi:sockets@0.2.11 {{
  interface network {{
    resource network;
    enum error-code {{ unknown, access-denied }}
    record ipv4-socket-address {{ port: u16, address: tuple<u8, u8, u8, u8> }}
  }}
  interface tcp {{
    use network.{{network, error-code, ipv4-socket-address}};
    resource tcp-socket {{
{methods}
    }}
  }}
}}
"
        ),
    )
}

const CONNECT: &str = "      start-connect: func(network: borrow<network>, remote-address: ipv4-socket-address) -> result<_, error-code>;";
const LISTEN: &str = "      start-listen: func() -> result<_, error-code>;";

/// The lock gate alone (`airlock lock`, which never accepts new
/// capabilities without `--update`): 0 for `same`, 3 naming `expect` for `swapped`.
fn lock_gate(locked: &str, same: &str, swapped: &str, expect: &str) {
    let p = Project::new(locked);
    let (code, _, err) = p.run("lock", &[]);
    assert_eq!(code, 0, "{err}");
    let before = p.lock_text();
    // Control: a rebuild with the same functions.
    p.swap_lib(same);
    let (code, _, err) = p.run("lock", &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(p.lock_text(), before);
    p.swap_lib(swapped);
    for command in ["lock", "check"] {
        let (code, _, err) = p.run(command, &[]);
        assert_eq!(code, 3, "{command}: {err}");
        assert!(err.contains(expect), "{command}: {err}");
        assert_eq!(p.lock_text(), before);
    }
}

#[test]
fn filesystem_read_swapped_for_write_and_unlink_trips_the_lock() {
    lock_gate(
        &files_lib(READ),
        &files_lib(READ),
        &files_lib(&[READ, WRITE, UNLINK].join("\n")),
        "now imports `[method]descriptor.unlink-file-at`, `[method]descriptor.write` of `wasi:filesystem/types@0.2.11` (files)",
    );
}

#[test]
fn tcp_connect_swapped_for_listen_trips_the_lock() {
    lock_gate(
        &tcp_lib(CONNECT),
        &tcp_lib(CONNECT),
        &tcp_lib(LISTEN),
        "now imports `[method]tcp-socket.start-listen` of `wasi:sockets/tcp@0.2.11` (network)",
    );
}

#[test]
fn functions_compare_on_the_semver_track() {
    // Locked at 0.2.11; a rebuild importing 0.2.13 with the same functions is
    // the same capability, with more functions it is not.
    let at = |version: &str, functions: &str| {
        lib_wit(
            &format!("  import wasi:cli/environment@{version};"),
            &format!(
                "package wasi:cli@{version} {{\n  interface environment {{\n{functions}\n  }}\n}}\n"
            ),
        )
    };
    let p = Project::new(&at("0.2.11", INITIAL_CWD));
    let (code, _, err) = p.run("lock", &[]);
    assert_eq!(code, 0, "{err}");
    p.swap_lib(&at("0.2.13", INITIAL_CWD));
    let (code, _, err) = p.run("check", &[]);
    assert_eq!(code, 0, "{err}");
    p.swap_lib(&at("0.2.13", &[INITIAL_CWD, GET_ENVIRONMENT].join("\n")));
    let (code, _, err) = p.run("check", &[]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("now imports `get-environment` of `wasi:cli/environment@0.2.13`"),
        "{err}"
    );
}

#[test]
fn an_older_lock_is_honoured_for_imports_and_upgraded_on_request() {
    let p = Project::new(&env_lib(INITIAL_CWD));
    // A format-1 lock, as an older airlock wrote it: imports only.
    let old = "version = 1\n\n[components.app]\nimports = [\"test:lib/api@0.1.0\", \"wasi:cli/stdout@0.2.12\", \"wasi:io/error@0.2.12\", \"wasi:io/poll@0.2.12\", \"wasi:io/streams@0.2.12\"]\n\n[components.lib]\nimports = [\"wasi:cli/environment@0.2.11\"]\n";
    std::fs::write(p.lock(), old).unwrap();
    let (code, _, err) = p.compose(&[]);
    assert_eq!(code, 0, "{err}");
    let note = "locks imports only: the functions used from them are not checked until `airlock lock` records them";
    assert_eq!(err.matches(note).count(), 1, "said once: {err}");
    // Not upgraded behind the user's back.
    assert_eq!(p.lock_text(), old);

    // Imports are still enforced.
    p.swap_lib(&lib_wit(
        "  import wasi:cli/environment@0.2.11;\n  import wasi:cli/exit@0.2.12;",
        &format!(
            "package wasi:cli@0.2.11 {{\n  interface environment {{\n{INITIAL_CWD}\n  }}\n}}\n"
        ),
    ));
    let (code, _, err) = p.compose(&[]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("now imports `wasi:cli/exit@0.2.12` (exit)"),
        "{err}"
    );

    // `airlock lock` upgrades it, with a note; from then on functions count.
    p.swap_lib(&env_lib(INITIAL_CWD));
    let (code, _, err) = p.run("lock", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("note: upgraded `"), "{err}");
    let text = p.lock_text();
    assert!(
        text.contains("version = 2") && text.contains("initial-cwd = "),
        "{text}"
    );
    p.swap_lib(&env_lib(&[INITIAL_CWD, GET_ENVIRONMENT].join("\n")));
    let (code, _, err) = p.compose(&[]);
    assert_eq!(code, 3, "{err}");
    assert!(!err.contains("note:"), "{err}");
}

#[test]
fn update_lock_upgrades_an_older_lock_too() {
    let p = Project::new(&env_lib(INITIAL_CWD));
    std::fs::write(
        p.lock(),
        "version = 1\n\n[components.lib]\nimports = [\"wasi:cli/environment@0.2.11\"]\n",
    )
    .unwrap();
    let (code, _, err) = p.compose(&["--update-lock"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("note: upgraded `"), "{err}");
    assert!(p.lock_text().contains("[components.lib.functions."));
}

// ---------------------------------------------------------------- point 6

/// Every file in `dir` (following no links) with its bytes.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Option<Vec<u8>>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let bytes = std::fs::read(&p).ok();
            (p, bytes)
        })
        .collect();
    files.sort();
    files
}

/// Composing to `out` is refused (exit 2), names `what`, and changes nothing.
fn refused(p: &Project, out: &Path, extra: &[&str], what: &str) {
    let before = snapshot(p.dir.path());
    let m = p.manifest();
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"compose", &"-m", &m, &"-o", &out];
    for e in extra {
        args.push(e);
    }
    let (code, _, err) = airlock(&args);
    assert_eq!(code, 2, "{}: {err}", out.display());
    assert!(err.contains(what), "{}: {err}", out.display());
    assert!(err.contains("choose another output path"), "{err}");
    assert_eq!(snapshot(p.dir.path()), before, "{}", out.display());
}

#[test]
fn the_output_never_replaces_the_lock() {
    let p = Project::new(&env_lib(INITIAL_CWD));
    // Without a lock yet, and with one.
    refused(&p, &p.lock(), &[], "is the capability lock");
    let (code, _, err) = p.compose(&[]);
    assert_eq!(code, 0, "{err}");
    refused(&p, &p.lock(), &[], "is the capability lock");
    // Another spelling of the path.
    let spelled = p.dir.path().join(".").join("airlock.lock");
    refused(&p, &spelled, &[], "is the capability lock");
    // Through a symlink, and as a hard link.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(p.lock(), p.path("link.wasm")).unwrap();
        refused(&p, &p.path("link.wasm"), &[], "is the capability lock");
        std::fs::hard_link(p.lock(), p.path("hard.wasm")).unwrap();
        refused(&p, &p.path("hard.wasm"), &[], "is the capability lock");
    }
    // Control: another path is fine.
    let (code, _, err) = p.compose(&[]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn the_manifest_output_path_cannot_be_the_lock() {
    let p = Project::with_manifest(&env_lib(INITIAL_CWD), "path = \"airlock.lock\"");
    let before = snapshot(p.dir.path());
    let (code, _, err) = p.run("compose", &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is the capability lock"), "{err}");
    assert_eq!(snapshot(p.dir.path()), before);
    // Control: `[output] path` elsewhere is written.
    let p = Project::with_manifest(&env_lib(INITIAL_CWD), "path = \"app.composed.wasm\"");
    let (code, _, err) = p.run("compose", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(p.path("app.composed.wasm").exists());
}

#[test]
fn the_output_never_replaces_the_manifest_an_input_or_a_cache_blob() {
    let p = Project::new(&env_lib(INITIAL_CWD));
    refused(&p, &p.manifest(), &[], "is the manifest");
    refused(
        &p,
        &p.path("lib.wasm"),
        &[],
        "is the input of component `lib`",
    );
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(p.path("lib.wasm"), p.path("to-lib.wasm")).unwrap();
        refused(
            &p,
            &p.path("to-lib.wasm"),
            &[],
            "is the input of component `lib`",
        );
        std::fs::hard_link(p.path("app.wasm"), p.path("hard-app.wasm")).unwrap();
        refused(
            &p,
            &p.path("hard-app.wasm"),
            &[],
            "is the input of component `app`",
        );
        std::os::unix::fs::symlink(p.manifest(), p.path("to-manifest.wasm")).unwrap();
        refused(&p, &p.path("to-manifest.wasm"), &[], "is the manifest");
    }
    // A blob of the component cache.
    let cache = p.path("cache");
    let blobs = cache.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let blob = blobs.join("0".repeat(64));
    std::fs::write(&blob, b"cached").unwrap();
    let cache_arg = cache.to_str().unwrap();
    refused(
        &p,
        &blob,
        &["--cache-dir", cache_arg],
        "is inside the component cache",
    );
    assert_eq!(std::fs::read(&blob).unwrap(), b"cached");
    // Control.
    let (code, _, err) = p.compose(&["--cache-dir", cache_arg]);
    assert_eq!(code, 0, "{err}");
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The process umask, from `/proc` (Linux); `0o022` where it cannot be read.
#[cfg(unix)]
fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|m| u32::from_str_radix(m.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

#[cfg(unix)]
#[test]
fn outputs_get_ordinary_permissions() {
    let p = Project::new(&env_lib(INITIAL_CWD));
    let out = p.path("out.wasm");
    // A new file: 0644 less the umask.
    let (code, _, err) = p.compose(&[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(mode(&out), 0o644 & !umask());

    // An old setuid file: its rwx bits stay, the setuid bit does not.
    set_mode(&out, 0o4755);
    assert_eq!(mode(&out), 0o4755, "the file system keeps setuid");
    let (code, _, err) = p.compose(&[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(mode(&out), 0o755);
    // Control: plain bits are kept as they were.
    set_mode(&out, 0o600);
    let (code, _, err) = p.compose(&[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(mode(&out), 0o600);

    // Through a symlink to a setgid+sticky file: the link is replaced by an
    // ordinary file; the target keeps its bytes.
    let target = p.path("target.bin");
    std::fs::write(&target, b"target").unwrap();
    set_mode(&target, 0o3775);
    let link = p.path("link.wasm");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let m = p.manifest();
    let (code, _, err) = airlock(&[&"compose", &"-m", &m, &"-o", &link]);
    assert_eq!(code, 0, "{err}");
    assert!(!std::fs::symlink_metadata(&link).unwrap().is_symlink());
    assert_eq!(mode(&link), 0o775);
    assert_eq!(std::fs::read(&target).unwrap(), b"target");

    // The lock gets ordinary permissions too (an older lock, upgraded).
    std::fs::write(
        p.lock(),
        "version = 1\n\n[components.lib]\nimports = [\"wasi:cli/environment@0.2.11\"]\n",
    )
    .unwrap();
    set_mode(&p.lock(), 0o6644);
    let (code, _, err) = p.run("lock", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(p.lock_text().contains("version = 2"));
    assert_eq!(mode(&p.lock()), 0o644);
}

// ---------------------------------------------------------------- point 7

/// A component's text `inspect` and its JSON.
fn inspect(path: &Path) -> (String, serde_json::Value) {
    let (code, text, err) = airlock(&[&"inspect", &path]);
    assert_eq!(code, 0, "{err}");
    let (code, json, err) = airlock(&[&"inspect", &path, &"--json"]);
    assert_eq!(code, 0, "{err}");
    (text, serde_json::from_str(&json).unwrap())
}

/// Appends a top-level custom section.
fn with_custom_section(mut component: Vec<u8>, name: &str, data: &[u8]) -> Vec<u8> {
    let mut content = Vec::new();
    leb128(&mut content, name.len());
    content.extend_from_slice(name.as_bytes());
    content.extend_from_slice(data);
    component.push(0);
    leb128(&mut component, content.len());
    component.extend_from_slice(&content);
    component
}

fn leb128(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// A composed output whose `lib` carries the custom section `marker`
/// (`MARKER-0000`), to alter later.
fn composed_output() -> (Project, PathBuf) {
    let p = Project::new(&env_lib(INITIAL_CWD));
    let lib = std::fs::read(p.path("lib.wasm")).unwrap();
    std::fs::write(
        p.path("lib.wasm"),
        with_custom_section(lib, "marker", b"MARKER-0000"),
    )
    .unwrap();
    let (code, _, err) = p.compose(&[]);
    assert_eq!(code, 0, "{err}");
    let out = p.path("out.wasm");
    (p, out)
}

#[test]
fn a_real_output_is_verified() {
    let (_p, out) = composed_output();
    let (text, json) = inspect(&out);
    assert!(text.contains("provenance (airlock "), "{text}");
    assert!(text.contains("): verified\n"), "{text}");
    assert_eq!(json["provenance_check"]["status"], "verified", "{json}");
    let bytes = std::fs::read(&out).unwrap();
    assert!(
        airlock::commands::publish::provenance_annotation(&bytes)
            .unwrap()
            .unwrap()
            .contains("lib=lib.wasm sha256:")
    );
    // As `publish` sends it: with the package name embedded.
    let package = airlock_registry::PackageRef::parse("test:app@1.0.0").unwrap();
    let published = airlock::commands::publish::embed_package(&bytes, &package).unwrap();
    assert!(matches!(
        airlock::commands::publish::provenance_annotation(&published),
        Ok(Some(_))
    ));
}

#[test]
fn an_output_of_normalised_components_is_verified() {
    // `lib` imports stdout at 0.2.0, `app` at 0.2.12: `lib` is composed with
    // its import renamed, so the bytes inside are not the file's.
    let p = Project::new(&lib_wit(
        "  import wasi:cli/stdout@0.2.0;",
        "package wasi:cli@0.2.0 {\n  interface stdout {\n    use wasi:io/streams@0.2.12.{output-stream};\n    get-stdout: func() -> output-stream;\n  }\n}\n",
    ));
    let (code, _, err) = p.compose(&[]);
    assert_eq!(code, 0, "{err}");
    let out = p.path("out.wasm");
    let bytes = std::fs::read(&out).unwrap();
    let provenance = airlock_core::provenance::read(&bytes).unwrap().unwrap();
    let lib = provenance
        .components
        .iter()
        .find(|c| c.name == "lib")
        .unwrap();
    assert_eq!(
        lib.digest,
        airlock_registry::sha256(&std::fs::read(p.path("lib.wasm")).unwrap())
    );
    assert!(lib.composed_digest.is_some(), "{provenance:?}");
    let (text, _) = inspect(&out);
    assert!(text.contains("): verified\n"), "{text}");
}

#[test]
fn an_output_altered_after_composing_differs() {
    let (_p, out) = composed_output();
    let mut bytes = std::fs::read(&out).unwrap();
    let at = bytes
        .windows(11)
        .position(|w| w == b"MARKER-0000")
        .expect("the marker is nested in the output");
    bytes[at + 10] = b'1';
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&bytes)
        .expect("still a valid component");
    std::fs::write(&out, &bytes).unwrap();
    let (text, json) = inspect(&out);
    assert!(text.contains("): differs\n"), "{text}");
    assert!(
        text.contains("component `lib`: listed as sha256:")
            && text.contains("but the component inside has sha256:"),
        "{text}"
    );
    assert!(
        !text.contains("component `app`:"),
        "only `lib` differs: {text}"
    );
    assert_eq!(json["provenance_check"]["status"], "differs");
    assert_eq!(
        json["provenance_check"]["differences"][0]["component"],
        "lib"
    );
    let why = airlock::commands::publish::provenance_annotation(&bytes).unwrap_err();
    assert!(why.contains("differs"), "{why}");
}

#[test]
fn forged_provenance_in_a_plain_component_is_a_claim_and_is_not_published() {
    // The provenance of a real output, copied into a plain library.
    let (p, out) = composed_output();
    let real = std::fs::read(&out).unwrap();
    let section = airlock_core::provenance::read(&real).unwrap().unwrap();
    let plain = std::fs::read(p.path("app.wasm")).unwrap();
    let forged = airlock_core::provenance::embed(plain, &section);
    let path = p.path("forged.wasm");
    std::fs::write(&path, &forged).unwrap();
    let (text, json) = inspect(&path);
    assert!(text.contains("): claimed, not verified\n"), "{text}");
    assert_eq!(
        json["provenance_check"]["status"], "claimed-not-verified",
        "{json}"
    );
    let why = airlock::commands::publish::provenance_annotation(&forged).unwrap_err();
    assert!(why.contains("claimed, not verified"), "{why}");
    // Control: a component without a section has no annotation and no note.
    let plain = std::fs::read(p.path("app.wasm")).unwrap();
    assert_eq!(
        airlock::commands::publish::provenance_annotation(&plain),
        Ok(None)
    );
}

#[test]
fn a_malformed_section_is_a_warning_not_a_wit_error() {
    let (p, _) = composed_output();
    let plain = std::fs::read(p.path("app.wasm")).unwrap();
    let bad = with_custom_section(plain, "airlock-provenance", b"{\"tool\": 1");
    let path = p.path("bad.wasm");
    std::fs::write(&path, &bad).unwrap();
    let (text, json) = inspect(&path);
    assert!(!text.contains("cannot decode the WIT"), "{text}");
    assert!(
        text.contains("warning: the `airlock-provenance` section is not valid"),
        "{text}"
    );
    assert!(text.contains("capability surface of"), "{text}");
    assert!(json["provenance_warning"].is_string(), "{json}");
    assert!(airlock::commands::publish::provenance_annotation(&bad).is_err());
    // `compose` accepts the component (the section is only data).
    std::fs::write(p.path("app.wasm"), &bad).unwrap();
    let (code, _, err) = p.compose(&[]);
    assert_eq!(code, 0, "{err}");
}
