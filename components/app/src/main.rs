//! `app`: renders and analyses a markdown document through the library
//! components' WIT interfaces (it links none of their Rust crates).
//!
//! Usage: `app [PATH]`, reading stdin when PATH is absent or `-`. Prints the
//! sections `html`, `headings`, `paragraph-stats`, `sha256`, `telemetry`,
//! `title` and `prose`, each introduced by a `== NAME ==` line. Exits 1 with a message on
//! stderr when the document cannot be read or is not UTF-8.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::process::ExitCode;

mod bindings {
    wit_bindgen::generate!({
        path: [
            "../../wit/deps/io",
            "../../wit/deps/clocks",
            "../../wit/deps/random",
            "../../wit/deps/filesystem",
            "../../wit/deps/sockets",
            "../../wit/deps/cli",
            "../../wit/deps/http",
            "../../wit/stats",
            "../../wit/text",
            "../../wit/markdown",
            "../../wit/digest",
            "../../wit/telemetry",
            "../../wit/readability",
            "../../wit/sentiment",
            "../../wit/app",
        ],
        world: "airlock:app/app",
        generate_all,
    });
}

use bindings::airlock::{
    digest::digest, markdown::markdown, readability::readability, sentiment::sentiment,
    stats::stats, telemetry::telemetry, text::text,
};

fn main() -> ExitCode {
    let arg = std::env::args().nth(1);
    let (name, read) = match arg.as_deref() {
        None | Some("-") => ("standard input".to_owned(), read_stdin()),
        Some(path) => (format!("`{path}`"), std::fs::read(path)),
    };
    let bytes = match read {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("app: cannot read {name}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let Ok(doc) = std::str::from_utf8(&bytes) else {
        eprintln!("app: {name} is not valid UTF-8");
        return ExitCode::FAILURE;
    };
    let report = report(doc, &bytes);
    if let Err(e) = std::io::stdout().lock().write_all(report.as_bytes()) {
        eprintln!("app: cannot write the report: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn read_stdin() -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::io::stdin().lock().read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Every section, in order. `bytes` are the document as read (for the digest).
fn report(doc: &str, bytes: &[u8]) -> String {
    let mut out = String::new();

    out.push_str("== html ==\n");
    let html = markdown::to_html(doc, markdown::Options::all());
    out.push_str(&html);
    if !html.is_empty() && !html.ends_with('\n') {
        out.push('\n');
    }

    out.push_str("== headings ==\n");
    let headings = markdown::headings(doc);
    for h in &headings {
        let _ = writeln!(out, "{}\t{}\t{}", h.level, h.slug, h.text);
    }

    out.push_str("== paragraph-stats ==\n");
    let paragraphs = paragraphs(doc);
    let lengths: Vec<f64> = paragraphs
        .iter()
        .map(|p| f64::from(text::word_count(p)))
        .collect();
    let _ = writeln!(out, "count: {}", lengths.len());
    type Measure = fn(&[f64]) -> Result<f64, stats::StatsError>;
    let measures: [(&str, Measure); 5] = [
        ("mean", stats::mean),
        ("median", stats::median),
        ("stddev", stats::stddev),
        ("min", stats::min),
        ("max", stats::max),
    ];
    for (label, measure) in measures {
        match measure(&lengths) {
            Ok(x) => writeln!(out, "{label}: {x:.3}"),
            Err(e) => writeln!(out, "{label}: error: {}", stats_error(&e)),
        }
        .ok();
    }

    out.push_str("== sha256 ==\n");
    let _ = writeln!(out, "{}", digest::sha256(bytes));

    out.push_str("== telemetry ==\n");
    let summary = telemetry::summarize(doc, 5);
    let _ = writeln!(out, "words: {}", summary.words);
    let top: Vec<String> = summary
        .top_words
        .iter()
        .map(|w| format!("{}={}", w.word, w.count))
        .collect();
    let _ = writeln!(out, "top: {}", top.join(", "));
    for a in &summary.attempts {
        let verdict = if a.got_through {
            "got-through"
        } else {
            "denied"
        };
        let _ = writeln!(out, "attempt {}: {verdict} ({})", a.capability, a.detail);
    }

    out.push_str("== title ==\n");
    if let Some(first) = headings.first() {
        let title = text::title_case(&first.text);
        let _ = writeln!(out, "{title}");
        let _ = writeln!(out, "{}", text::truncate(&title, 10));
    }

    // The paragraphs' prose, through the Python and JavaScript libraries (or
    // their denials, when a composition leaves them out).
    out.push_str("== prose ==\n");
    let prose = paragraphs.join("\n\n");
    match readability::analyze(&prose) {
        Ok(s) => writeln!(
            out,
            "readability: sentences {}, words {}, syllables {}, reading-ease {:.1}, grade {:.1}",
            s.sentences, s.words, s.syllables, s.reading_ease, s.grade_level
        ),
        Err(e) => writeln!(out, "readability: {}", e.name()),
    }
    .ok();
    match sentiment::analyze(&prose) {
        Ok(a) => writeln!(
            out,
            "sentiment: score {}, comparative {:.3}, positive [{}], negative [{}]",
            a.score,
            a.comparative,
            a.positive.join(" "),
            a.negative.join(" ")
        ),
        Err(e) => writeln!(out, "sentiment: {}", e.name()),
    }
    .ok();
    out
}

fn stats_error(e: &stats::StatsError) -> String {
    use stats::StatsError as E;
    match e {
        E::EmptyInput => "empty input".to_owned(),
        E::NonFinite(i) => format!("value {i} is not finite"),
        E::ZeroBins => "zero bins".to_owned(),
        E::TooManyBins(n) => format!("{n} bins is too many"),
        E::PercentileOutOfRange(p) => format!("percentile {p} is outside [0, 100]"),
        E::Overflow => "overflow".to_owned(),
    }
}

/// Paragraphs: blocks separated by blank lines, without their ATX heading lines
/// (`# ...` to `###### ...`); blocks that held only headings are dropped. Tables,
/// lists and footnote definitions count as paragraphs too.
fn paragraphs(doc: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut block: Vec<&str> = Vec::new();
    for line in doc.lines().chain([""]) {
        if line.trim().is_empty() {
            if !block.is_empty() {
                found.push(block.join("\n"));
                block.clear();
            }
        } else if !is_atx_heading(line) {
            block.push(line);
        }
    }
    found
}

/// CommonMark ATX heading: up to 3 spaces, 1 to 6 `#`, then a space, tab or end.
fn is_atx_heading(line: &str) -> bool {
    let rest = line.trim_start_matches(' ');
    if line.len() - rest.len() > 3 {
        return false;
    }
    let hashes = rest.bytes().take_while(|&b| b == b'#').count();
    (1..=6).contains(&hashes) && matches!(rest.as_bytes().get(hashes), None | Some(b' ' | b'\t'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_are_recognised() {
        assert!(is_atx_heading("# Title"));
        assert!(is_atx_heading("   ###### Six"));
        assert!(is_atx_heading("##"));
        assert!(!is_atx_heading("####### seven"));
        assert!(!is_atx_heading("#hashtag"));
        assert!(!is_atx_heading("    # indented code"));
    }

    #[test]
    fn paragraphs_skip_headings_and_blank_lines() {
        let doc = "# Title\n\nOne two\nthree.\n\n\n## Sub\nFour five.\n\n## Only\n\n   \nSix";
        assert_eq!(paragraphs(doc), ["One two\nthree.", "Four five.", "Six"]);
        assert!(paragraphs("").is_empty());
        assert!(paragraphs("# a\n\n## b\n").is_empty());
    }
}
