//! The example app, composed from all six components, run in wasmtime with a
//! host that links only the allowed interfaces and records authority-yielding calls.
//! Expected values are computed here, independently of the components.

use airlock_host::{HostConfig, Preopen, RunOutcome};
use airlock_tests::{
    app_sections, compose, example_spec, import_names, paragraphs, run_app, sample_document,
    set_allow, set_grant,
};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use unicode_segmentation::UnicodeSegmentation;

fn calls(outcome: &RunOutcome, key: &str) -> u64 {
    outcome.calls.get(key).copied().unwrap_or(0)
}

/// The attempts the telemetry library reported: capability -> line.
fn attempts(sections: &BTreeMap<String, Vec<String>>) -> BTreeMap<String, String> {
    sections["telemetry"]
        .iter()
        .filter_map(|l| l.strip_prefix("attempt "))
        .filter_map(|l| l.split_once(": "))
        .map(|(cap, rest)| (cap.to_string(), rest.to_string()))
        .collect()
}

/// Paragraph word counts (words are UAX #29 words with a letter or digit).
fn paragraph_lengths(doc: &str) -> Vec<f64> {
    paragraphs(doc)
        .iter()
        .map(|p| {
            p.unicode_words()
                .filter(|w| w.chars().any(char::is_alphanumeric))
                .count() as f64
        })
        .collect()
}

#[test]
fn composed_app_prints_correct_results_with_telemetry_denied_everything() {
    let spec = example_spec().unwrap();
    let composed = compose(&spec).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = HostConfig {
        dirs: vec![Preopen {
            host: dir.path().into(),
            guest: "/data".into(),
            read_only: true,
        }],
        ..HostConfig::default()
    };
    let out = run_app(&composed.bytes, config);
    let s = app_sections(&out.stdout);
    let doc = String::from_utf8(sample_document()).unwrap();

    // sha-256, from a host-side crate.
    assert_eq!(
        s["sha256"],
        [hex::encode(Sha256::digest(sample_document()))]
    );

    // HTML: pulldown-cmark run natively with the same options.
    let mut options = pulldown_cmark::Options::empty();
    options.insert(pulldown_cmark::Options::ENABLE_TABLES);
    options.insert(pulldown_cmark::Options::ENABLE_FOOTNOTES);
    options.insert(pulldown_cmark::Options::ENABLE_STRIKETHROUGH);
    options.insert(pulldown_cmark::Options::ENABLE_TASKLISTS);
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new_ext(&doc, options));
    assert_eq!(s["html"].join("\n"), html.trim_end());

    // Headings: ATX lines of the sample, slugged as documented.
    let expected_headings: Vec<String> = doc
        .lines()
        .filter_map(|l| {
            let level = l.chars().take_while(|c| *c == '#').count();
            let text = l.get(level..)?.strip_prefix(' ')?;
            let slug = text
                .to_lowercase()
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join("-");
            Some(format!("{level}\t{slug}\t{text}"))
        })
        .collect();
    assert!(!expected_headings.is_empty());
    assert_eq!(s["headings"], expected_headings);

    // Paragraph statistics.
    let mut lengths = paragraph_lengths(&doc);
    let n = lengths.len() as f64;
    let mean = lengths.iter().sum::<f64>() / n;
    let stddev = (lengths.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    lengths.sort_by(f64::total_cmp);
    let mid = lengths.len() / 2;
    let median = if lengths.len().is_multiple_of(2) {
        (lengths[mid - 1] + lengths[mid]) / 2.0
    } else {
        lengths[mid]
    };
    assert_eq!(
        s["paragraph-stats"],
        [
            format!("count: {}", lengths.len()),
            format!("mean: {mean:.3}"),
            format!("median: {median:.3}"),
            format!("stddev: {stddev:.3}"),
            format!("min: {:.3}", lengths[0]),
            format!("max: {:.3}", lengths[lengths.len() - 1]),
        ]
    );

    // Telemetry did its job, and every attempt was denied inside the output.
    let words = s["telemetry"][0]
        .strip_prefix("words: ")
        .unwrap()
        .parse::<u32>()
        .unwrap();
    assert!(words > 100, "{words}");
    let a = attempts(&s);
    let expected: Vec<&str> = vec!["clock", "env", "files", "http", "random", "tcp"];
    assert_eq!(a.keys().map(String::as_str).collect::<Vec<_>>(), expected);
    for (capability, line) in &a {
        assert!(line.starts_with("denied"), "{capability}: {line}");
    }
    assert!(a["tcp"].contains("access-denied"), "{}", a["tcp"]);
    assert!(
        a["http"].to_lowercase().contains("http-request-denied"),
        "{}",
        a["http"]
    );

    // Title.
    let first = expected_headings[0]
        .rsplit('\t')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(s["title"].len(), 2);
    assert_eq!(
        s["title"][1],
        s["title"][0].graphemes(true).take(10).collect::<String>()
    );
    assert_eq!(s["title"][0].to_lowercase(), first.to_lowercase());

    // The Python and JavaScript libraries are denied explicitly in this
    // composition (tests/tests/polyglot_app.rs composes them in).
    assert_eq!(s["prose"], ["readability: denied", "sentiment: denied"]);
}

#[test]
fn denied_attempts_never_reach_the_host() {
    // The app reads stdin and is granted stdio only: nothing else may reach the host.
    let mut spec = example_spec().unwrap();
    set_allow(
        &mut spec,
        &[
            "wasi:cli/std*@0.2",
            "wasi:cli/terminal-*@0.2",
            "wasi:cli/exit@0.2",
        ],
    );
    set_grant(
        &mut spec,
        "app",
        &["wasi:cli/std*", "wasi:cli/terminal-*", "wasi:cli/exit"],
    );
    let composed = compose(&spec).unwrap();

    let imports = import_names(&composed.bytes).unwrap();
    for name in &imports {
        let allowed = [
            "wasi:cli/std",
            "wasi:cli/terminal-",
            "wasi:cli/exit",
            "wasi:io/",
        ];
        assert!(
            allowed.iter().any(|p| name.starts_with(p)),
            "unexpected output import `{name}`"
        );
    }

    let out = run_app(&composed.bytes, HostConfig::default());
    let s = app_sections(&out.stdout);
    assert_eq!(
        s["sha256"],
        [hex::encode(Sha256::digest(sample_document()))]
    );
    for (key, n) in &out.calls {
        let reaches = key.starts_with("wasi:sockets")
            || key.starts_with("wasi:http")
            || key.starts_with("wasi:filesystem")
            || key == "wasi:cli/environment#get-environment";
        assert!(!reaches || *n == 0, "the host served `{key}` {n} times");
    }
    assert!(attempts(&s).values().all(|l| l.starts_with("denied")));
}

#[test]
fn granting_telemetry_the_environment_lets_that_attempt_through() {
    let mut spec = example_spec().unwrap();
    set_grant(&mut spec, "telemetry", &["wasi:cli/environment"]);
    let composed = compose(&spec).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = HostConfig {
        env: vec![("HOME".into(), "/home/airlock".into())],
        dirs: vec![Preopen {
            host: dir.path().into(),
            guest: "/data".into(),
            read_only: true,
        }],
        ..HostConfig::default()
    };
    let out = run_app(&composed.bytes, config);
    let s = app_sections(&out.stdout);
    let a = attempts(&s);
    assert!(a["env"].starts_with("got-through"), "{}", a["env"]);
    assert!(a["env"].contains("HOME found"), "{}", a["env"]);
    assert!(calls(&out, "wasi:cli/environment#get-environment") >= 1);
    // Everything else stays denied, and the app's stdout still works.
    for cap in ["files", "tcp", "http", "random"] {
        assert!(a[cap].starts_with("denied"), "{cap}: {}", a[cap]);
    }
    assert_eq!(
        s["sha256"],
        [hex::encode(Sha256::digest(sample_document()))]
    );
}

#[test]
fn same_inputs_give_byte_identical_output() {
    let spec = example_spec().unwrap();
    let a = compose(&spec).unwrap().bytes;
    let b = compose(&spec).unwrap().bytes;
    assert!(a == b, "two compositions of the same inputs differ");
}

#[test]
fn the_output_carries_the_package_name_and_version_of_the_manifest() {
    let composed = compose(&example_spec().unwrap()).unwrap();
    let payload = wasm_metadata::Payload::from_binary(&composed.bytes).unwrap();
    let meta = payload.metadata();
    assert_eq!(meta.name.as_deref(), Some("airlock:example-app"));
    assert_eq!(
        meta.version.as_ref().map(ToString::to_string).as_deref(),
        Some("0.1.0")
    );
}
