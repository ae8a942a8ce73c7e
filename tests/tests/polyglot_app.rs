//! The example app with its Python (`readability`, componentize-py) and
//! JavaScript (`sentiment`, componentize-js) libraries composed in
//! (examples/polyglot/airlock.toml), run in wasmtime. `just test` builds those
//! two components first (`just build-polyglot`). Compiling the 20 MB output
//! takes about 20 s, so the composition is run once.

use airlock_core::inspect::Family;
use airlock_core::manifest::Manifest;
use airlock_core::plan::Fate;
use airlock_core::spec::CompositionSpec;
use airlock_host::{HostConfig, Preopen, Stdin};
use airlock_tests::{
    app_sections, compose, example_spec, import_names, paragraphs, run_app, sample_document,
    workspace,
};
use std::collections::BTreeMap;

fn polyglot_spec() -> CompositionSpec {
    let path = workspace().join("examples/polyglot/airlock.toml");
    let spec = CompositionSpec::from_manifest(&Manifest::load(&path).unwrap(), &path).unwrap();
    for inst in &spec.instances {
        assert!(
            inst.path.exists(),
            "`{}` is missing: run `just build-components build-polyglot` first",
            inst.path.display()
        );
    }
    spec
}

fn run(bytes: &[u8]) -> BTreeMap<String, Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let config = HostConfig {
        args: vec!["app.wasm".into()],
        stdin: Stdin::Bytes(sample_document()),
        dirs: vec![Preopen {
            host: dir.path().into(),
            guest: "/data".into(),
            read_only: true,
        }],
        ..HostConfig::default()
    };
    let out = run_app(bytes, config);
    app_sections(&out.stdout)
}

/// The app's prose: its paragraphs joined by blank lines.
fn prose(doc: &str) -> String {
    paragraphs(doc).join("\n\n")
}

/// Words as the WIT documents define them: runs of ASCII characters accepted by
/// `is_word_char`, joined by inner apostrophes.
fn words(text: &str, is_word_char: fn(char) -> bool) -> usize {
    let chars: Vec<char> = text.chars().collect();
    let mut count = 0;
    let mut i = 0;
    while i < chars.len() {
        if !is_word_char(chars[i]) {
            i += 1;
            continue;
        }
        count += 1;
        while i < chars.len() {
            let joins = matches!(chars[i], '\'' | '\u{2019}')
                && chars.get(i + 1).is_some_and(|c| is_word_char(*c));
            if !(is_word_char(chars[i]) || joins) {
                break;
            }
            i += 1;
        }
    }
    count
}

#[test]
fn python_and_javascript_libraries_run_isolated_in_the_composed_app() {
    let spec = polyglot_spec();
    let composed = compose(&spec).unwrap();

    // The plan: the Python and JS runtimes import sockets, files, environment,
    // clocks...; all of it is denied except the Python runtime's random seed.
    for inst in &composed.report.plan.instances {
        if inst.name != "readability" && inst.name != "sentiment" {
            continue;
        }
        let families: Vec<Family> = inst.imports.iter().map(|i| i.family).collect();
        assert!(families.contains(&Family::Files), "{}", inst.name);
        if inst.name == "readability" {
            assert!(families.contains(&Family::Network));
        }
        for import in &inst.imports {
            let granted = !matches!(import.fate, Fate::Denied { .. });
            let expected =
                inst.name == "readability" && import.name.starts_with("wasi:random/random@");
            assert_eq!(
                granted, expected,
                "`{}` of `{}`: {:?}",
                import.name, inst.name, import.fate
            );
        }
    }

    // The output imports what the Rust-only app's does (at versions normalised
    // over all components), plus that random seed.
    let unversioned = |names: Vec<String>| -> Vec<String> {
        names
            .into_iter()
            .map(|n| n.split('@').next().unwrap().to_string())
            .collect()
    };
    let rust_only = compose(&example_spec().unwrap()).unwrap();
    let mut expected = unversioned(import_names(&rust_only.bytes).unwrap());
    expected.push("wasi:random/random".into());
    expected.sort();
    assert_eq!(
        unversioned(import_names(&composed.bytes).unwrap()),
        expected
    );

    // Every section but `prose` is what the Rust-only app prints.
    let polyglot = run(&composed.bytes);
    let mut rust = run(&rust_only.bytes);
    assert_eq!(rust["prose"], ["readability: denied", "sentiment: denied"]);
    let mut without_prose = polyglot.clone();
    without_prose.remove("prose");
    rust.remove("prose");
    assert_eq!(without_prose, rust);

    // Readability (Python): counts by the WIT's rules, computed here.
    let doc = String::from_utf8(sample_document()).unwrap();
    let text = prose(&doc);
    let n_words = words(&text, |c| c.is_ascii_alphanumeric());
    let n_sentences = text
        .split(['.', '!', '?'])
        .filter(|s| s.chars().any(|c| c.is_ascii_alphanumeric()))
        .count();
    let line = &polyglot["prose"][0];
    let syllables: u32 = line
        .split_once("syllables ")
        .and_then(|(_, rest)| rest.split(',').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no syllables in {line:?}"));
    assert!(
        (n_words..=3 * n_words).contains(&(syllables as usize)),
        "{line}"
    );
    let (w, s, y) = (n_words as f64, n_sentences as f64, f64::from(syllables));
    let ease = 206.835 - 1.015 * (w / s) - 84.6 * (y / w);
    let grade = 0.39 * (w / s) + 11.8 * (y / w) - 15.59;
    assert_eq!(
        line,
        &format!(
            "readability: sentences {n_sentences}, words {n_words}, syllables {syllables}, reading-ease {ease:.1}, grade {grade:.1}"
        )
    );

    // Sentiment (JavaScript): the sample's only lexicon word is "clear" (+1).
    let n_words = words(&text, |c| c.is_ascii_alphabetic());
    assert_eq!(
        polyglot["prose"][1],
        format!(
            "sentiment: score 1, comparative {:.3}, positive [clear], negative []",
            1.0 / n_words as f64
        )
    );
}
