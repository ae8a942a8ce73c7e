//! Output size added by each kind of slice and virtual value: the example
//! app composed as is, then with one key added to `[components.telemetry]`
//! (the allow-list widened where the slice needs it, the same for both).
//! `just bench` runs it; sizes are exact, so one run is enough.

use airlock_core::policy::PatternSet;
use airlock_tests::{compose, try_example_spec_with_telemetry};

/// (what, the key as written, what the allow-list must permit beside the example's).
const CASES: [(&str, &str, &[&str]); 11] = [
    ("virtual env", r#"env = { LOG_LEVEL = "info" }"#, &[]),
    ("virtual clock", r#"clock = "frozen:1704067200""#, &[]),
    ("virtual random", "random = { seed = 42 }", &[]),
    ("slice env-from-host", r#"env-from-host = ["LANG"]"#, &[]),
    ("slice clock offset", r#"clock = "offset:+3600""#, &[]),
    ("slice exit deny", r#"exit = "deny""#, &[]),
    ("slice stdout discard", r#"stdout = "discard""#, &[]),
    (
        "slice http",
        r#"http = ["GET *.example.com"]"#,
        &["wasi:http/*@0.2"],
    ),
    (
        "slice sockets",
        r#"sockets = { connect = ["127.0.0.1:8080"] }"#,
        &["wasi:sockets/*@0.2", "wasi:io/*@0.2"],
    ),
    (
        "slice files (narrowed preopen)",
        r#"files = { dir = "/docs/public" }"#,
        &["wasi:io/*@0.2"],
    ),
    (
        "slice files (embedded)",
        r#"files = { embed = "../../wit/stats", as = "/assets" }"#,
        &[],
    ),
];

fn size(extra: &str, allow: &[&str]) -> Result<usize, String> {
    let mut spec = try_example_spec_with_telemetry(extra).map_err(|e| format!("{e:#}"))?;
    let more = PatternSet::parse(allow).map_err(|e| e.to_string())?;
    spec.allow.0.extend(more.0);
    compose(&spec)
        .map(|c| c.bytes.len())
        .map_err(|e| format!("{e:#}"))
}

fn main() {
    println!("{:<32} {:>10} {:>10}", "kind", "bytes", "added");
    for (what, extra, allow) in CASES {
        let base = size("", allow).expect("the example composes");
        match size(extra, allow) {
            Ok(bytes) => println!("{what:<32} {bytes:>10} {:>+10}", bytes as i64 - base as i64),
            Err(e) => println!("{what:<32} refused: {}", e.replace('\n', " ")),
        }
    }
}
