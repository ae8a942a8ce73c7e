//! `stdout`, `stderr` (`allow`, `discard`, `deny`) and `stdin` (`allow`,
//! `deny`, `{ fixed = "text" }`) per stream. A stream left unset follows the
//! library's grants (`grant = ["wasi:cli/*"]`: allowed; else denied); a key
//! that is set wins over the grants.
//!
//! Host streams and closed streams alone need no interposer: `allow` is a
//! grant of the host's stream (the allow-list must permit it), `deny` a denial
//! that wins over grants (a closed stream). A discarding or fixed stream
//! cannot be a host stream, and neither can a closed one beside a host stream
//! (the denial stub would have to make a host `output-stream`, so
//! `get-stdout` would trap). Then the stdio interposer
//! (`composer/interposers/stdio`) serves all three streams and the `wasi:io`
//! resources behind them (its own streams and pollables, wrapping the host's
//! for the streams that are allowed). The library's `wasi:io` imports, and
//! `wasi:clocks/monotonic-clock` whose pollables are `wasi:io`'s (the host's,
//! wrapped, when granted; else denied), are wired to it; the interposer is
//! granted only what is allowed. Settings: `stdout MODE`, `stderr MODE`,
//! `stdin allow|deny`, `stdin fixed TEXT`, `monotonic allow`.

use super::{Interposer, SliceError, Slices};
use crate::manifest::ComponentSpec;
use crate::names::InterfaceName;
use crate::policy::Pattern;
use airlock_slice_settings::{Clock, Slice, SliceKind, StdinMode, StdioSettings, StreamMode};

/// `composer/interposers/stdio`, prebuilt (`just interposers`).
const WASM: &[u8] = include_bytes!("../../../../interposers/stdio.wasm");

/// The library imports the interposer serves: the streams and their types.
const WIRES: [&str; 6] = [
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:io/streams",
    "wasi:io/poll",
    "wasi:io/error",
];

/// Its pollables are `wasi:io/poll`'s, so the interposer serves it too
/// unless a frozen clock (a virtual value) does.
const MONOTONIC: &str = "wasi:clocks/monotonic-clock";

/// Interfaces that hand out `wasi:io` streams or pollables and that the
/// interposer does not serve: granted from the host beside it, their host
/// streams would not fit the library's `wasi:io` (the interposer's).
const HOST_IO: [&str; 11] = [
    "wasi:filesystem/types",
    "wasi:filesystem/preopens",
    "wasi:sockets/network",
    "wasi:sockets/tcp",
    "wasi:sockets/udp",
    "wasi:sockets/tcp-create-socket",
    "wasi:sockets/udp-create-socket",
    "wasi:sockets/ip-name-lookup",
    "wasi:http/types",
    "wasi:http/outgoing-handler",
    "wasi:http/incoming-handler",
];

/// The WASI version the names above are checked at (versioned grant
/// patterns such as `wasi:cli/*@0.2` match it).
const VERSION: &str = "0.2.12";

pub(super) fn add(c: &ComponentSpec, out: &mut Slices) -> Result<(), SliceError> {
    if c.stdout.is_none() && c.stderr.is_none() && c.stdin.is_none() {
        return Ok(());
    }
    // Unset streams follow the grants.
    let by_grant = |interface: &str| granting(c, &[interface]).is_some() && !carved(c, interface);
    let out_mode = |set: Option<StreamMode>, interface: &str| {
        set.unwrap_or(if by_grant(interface) {
            StreamMode::Allow
        } else {
            StreamMode::Deny
        })
    };
    let stdout = out_mode(c.stdout, "wasi:cli/stdout");
    let stderr = out_mode(c.stderr, "wasi:cli/stderr");
    let stdin = c.stdin.clone().unwrap_or(if by_grant("wasi:cli/stdin") {
        StdinMode::Allow
    } else {
        StdinMode::Deny
    });
    let host: Vec<(&'static str, &'static str)> = [
        (stdout == StreamMode::Allow, "wasi:cli/stdout", "stdout"),
        (stderr == StreamMode::Allow, "wasi:cli/stderr", "stderr"),
        (stdin == StdinMode::Allow, "wasi:cli/stdin", "stdin"),
    ]
    .into_iter()
    .filter(|s| s.0)
    .map(|s| (s.1, s.2))
    .collect();
    // Streams set to `deny` (unset ones not granted keep the default denial,
    // which needs nothing when the library does not import them).
    let closed: Vec<(&'static str, &'static str)> = [
        (
            c.stdout == Some(StreamMode::Deny),
            "wasi:cli/stdout",
            "stdout",
        ),
        (
            c.stderr == Some(StreamMode::Deny),
            "wasi:cli/stderr",
            "stderr",
        ),
        (c.stdin == Some(StdinMode::Deny), "wasi:cli/stdin", "stdin"),
    ]
    .into_iter()
    .filter(|s| s.0)
    .map(|s| (s.1, s.2))
    .collect();
    let interposed = stdout == StreamMode::Discard
        || stderr == StreamMode::Discard
        || matches!(stdin, StdinMode::Fixed(_))
        || (!host.is_empty() && !closed.is_empty());
    let mut settings = StdioSettings {
        stdout,
        stderr,
        stdin,
        monotonic: false,
    };
    if !interposed {
        // Host streams or closed ones: plain grants, or denials that win over
        // a wider grant (with no host stream, `wasi:io` is denied too, so
        // the denial stub makes closed streams of its own).
        out.grants.extend(host);
        out.denies.extend(closed);
        out.summary.push(Slice::Stdio(settings));
        return Ok(());
    }
    refuse_host_io(c, first_key(c))?;
    let mut wires = WIRES.to_vec();
    let mut grants: Vec<&'static str> = host.iter().map(|(interface, _)| *interface).collect();
    if !frozen_clock(c) {
        wires.push(MONOTONIC);
        if by_grant(MONOTONIC) {
            // `monotonic allow` in the settings, `monotonic clock allow` in the audit.
            settings.monotonic = true;
            grants.push(MONOTONIC);
        }
    }
    out.interposers.push(Interposer {
        kind: SliceKind::Stdio.as_str(),
        wasm: WASM,
        wires,
        grants,
        library_grants: Vec::new(),
        config: settings.lines(),
        summary: Slice::Stdio(settings),
    });
    Ok(())
}

/// The key that asks for the interposer, for messages: the first stream
/// that is set to discard, fixed or closed.
fn first_key(c: &ComponentSpec) -> &'static str {
    let special = |m: Option<StreamMode>| matches!(m, Some(StreamMode::Discard | StreamMode::Deny));
    if special(c.stdout) {
        "stdout"
    } else if special(c.stderr) {
        "stderr"
    } else {
        "stdin"
    }
}

/// A frozen clock serves `wasi:clocks/monotonic-clock` as a virtual value (an
/// offset clock only shifts the wall clock).
fn frozen_clock(c: &ComponentSpec) -> bool {
    c.clock
        .as_deref()
        .is_some_and(|t| !Clock::is_offset_text(t))
}

fn matches(pattern: &str, interface: &str) -> bool {
    // A malformed pattern is reported where grants are parsed.
    pattern.parse::<Pattern>().is_ok_and(|p| {
        InterfaceName::parse(&format!("{interface}@{VERSION}")).is_some_and(|n| p.matches(&n))
    })
}

/// Whether the library's own `deny` carves `interface` out of its grants.
fn carved(c: &ComponentSpec, interface: &str) -> bool {
    c.deny.iter().any(|d| matches(d, interface))
}

/// The first grant of `c` that matches one of `interfaces`, with the interface.
fn granting<'a>(c: &'a ComponentSpec, interfaces: &[&'a str]) -> Option<(&'a str, &'a str)> {
    c.grant.iter().find_map(|text| {
        let hit = interfaces.iter().find(|name| matches(text, name))?;
        Some((text.as_str(), *hit))
    })
}

/// With the interposer, the library's `wasi:io` is the interposer's: nothing
/// that hands out host streams or pollables may reach it from the host.
fn refuse_host_io(c: &ComponentSpec, key: &'static str) -> Result<(), SliceError> {
    for (set, other) in [
        (c.files.is_some(), "files"),
        (c.http.is_some(), "http"),
        (c.sockets.is_some(), "sockets"),
    ] {
        if set {
            return Err(SliceError::new(
                key,
                format!(
                    "`{key}` needs the stdio interposer, which serves the library's `wasi:io` \
                     streams, so it cannot be combined with `{other}`, which hands out the host's; \
                     drop `{other}`, or use only `allow` (or only `deny`) for the streams"
                ),
            ));
        }
    }
    let hit = granting(c, &HOST_IO).filter(|(_, interface)| !carved(c, interface));
    if let Some((text, clash)) = hit {
        return Err(SliceError::new(
            key,
            format!(
                "`{key}` needs the stdio interposer, which serves the library's `wasi:io` \
                 streams and pollables, so it cannot be combined with the grant `{text}`, which \
                 gives the library `{clash}` from the host (whose streams would not fit); narrow \
                 the grant, or use only `allow` (or only `deny`) for the streams"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifest;
    use std::path::Path;

    fn spec(keys: &str) -> ComponentSpec {
        let text =
            format!("[output]\nroot = \"lib\"\n\n[components.lib]\npath = \"lib.wasm\"\n{keys}\n");
        let mut m = Manifest::parse(&text, Path::new("airlock.toml")).unwrap();
        m.components.remove("lib").unwrap()
    }

    fn slices(keys: &str) -> Result<Slices, SliceError> {
        let mut out = Slices::default();
        add(&spec(keys), &mut out).map(|()| out)
    }

    #[test]
    fn a_bad_stdin_says_what_is_expected() {
        for bad in ["stdin = \"discard\"", "stdin = { fixd = \"x\" }"] {
            let text =
                format!("[output]\nroot = \"lib\"\n[components.lib]\npath = \"l.wasm\"\n{bad}\n");
            let err = Manifest::parse(&text, Path::new("airlock.toml")).unwrap_err();
            let err = err.to_string();
            assert!(
                err.contains("expected `allow`, `deny` or `{ fixed = \"text\" }`"),
                "{err}"
            );
        }
    }

    #[test]
    fn nothing_asked_nothing_added() {
        assert_eq!(slices("").unwrap(), Slices::default());
    }

    #[test]
    fn host_streams_alone_or_closed_ones_alone_are_plain_grants_and_denials() {
        let s = slices("stdout = \"allow\"\nstdin = \"allow\"").unwrap();
        assert!(s.interposers.is_empty());
        assert_eq!(
            s.grants,
            [("wasi:cli/stdout", "stdout"), ("wasi:cli/stdin", "stdin")]
        );
        assert_eq!(
            s.summary
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["stdout allow, stderr deny, stdin allow"]
        );
        assert!(s.denies.is_empty());
        // Closed streams alone: denials, which win over a wider grant.
        let s = slices(
            "stdout = \"deny\"\nstderr = \"deny\"\nstdin = \"deny\"\ngrant = [\"wasi:cli/*\"]",
        )
        .unwrap();
        assert!(s.grants.is_empty() && s.interposers.is_empty());
        assert_eq!(s.denies.len(), 3);
        assert_eq!(
            s.summary
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["stdout deny, stderr deny, stdin deny"]
        );
    }

    #[test]
    fn unset_streams_follow_the_grants() {
        // `wasi:cli/*` grants stderr and stdin; stdout is set.
        let s =
            slices("stdout = \"discard\"\ngrant = [\"wasi:cli/*@0.2\", \"wasi:io/*\"]").unwrap();
        let i = &s.interposers[0];
        assert_eq!(i.grants, ["wasi:cli/stderr", "wasi:cli/stdin"]);
        assert_eq!(i.config, ["stdout discard", "stderr allow", "stdin allow"]);
        // ...unless the library's own `deny` carves one out.
        let s =
            slices("stdout = \"discard\"\ngrant = [\"wasi:cli/*\"]\ndeny = [\"wasi:cli/stdin\"]")
                .unwrap();
        assert_eq!(s.interposers[0].grants, ["wasi:cli/stderr"]);
        // A granted monotonic clock is the host's, through the interposer.
        let s = slices("stdout = \"discard\"\ngrant = [\"wasi:clocks/*\"]").unwrap();
        let i = &s.interposers[0];
        assert_eq!(i.grants, [MONOTONIC]);
        assert!(i.config.contains(&"monotonic allow".to_string()));
        assert_eq!(
            i.summary.to_string(),
            "stdout discard, stderr deny, stdin deny, monotonic clock allow"
        );
    }

    #[test]
    fn a_closed_stream_beside_a_host_stream_is_the_interposers() {
        // A denial stub cannot make a host stream (`get-stderr` would trap).
        let s = slices("stdout = \"allow\"\nstderr = \"deny\"").unwrap();
        assert!(s.grants.is_empty() && s.denies.is_empty());
        assert_eq!(s.interposers[0].grants, ["wasi:cli/stdout"]);
        assert_eq!(
            s.interposers[0].config,
            ["stdout allow", "stderr deny", "stdin deny"]
        );
    }

    #[test]
    fn discard_or_fixed_adds_the_interposer_granted_only_what_is_allowed() {
        let s = slices(
            "stdout = \"discard\"\nstderr = \"allow\"\nstdin = { fixed = \"hello, world\" }",
        )
        .unwrap();
        assert!(s.grants.is_empty());
        let i = &s.interposers[0];
        assert_eq!(i.kind, "stdio");
        assert_eq!(i.grants, ["wasi:cli/stderr"]);
        assert_eq!(
            i.config,
            ["stdout discard", "stderr allow", "stdin fixed hello, world"]
        );
        assert_eq!(
            i.summary.to_string(),
            "stdout discard, stderr allow, stdin fixed (12 bytes)"
        );
        assert!(i.wires.contains(&"wasi:io/streams") && i.wires.contains(&MONOTONIC));
        // Nothing allowed: the interposer reaches nothing of the host.
        let s = slices("stdout = \"discard\"").unwrap();
        assert!(s.interposers[0].grants.is_empty());
        // A frozen clock serves the monotonic clock itself.
        let s = slices("stdout = \"discard\"\nclock = \"frozen:0\"").unwrap();
        assert!(!s.interposers[0].wires.contains(&MONOTONIC));
    }

    #[test]
    fn host_io_beside_the_interposer_is_refused() {
        let err = slices("stdout = \"discard\"\ngrant = [\"wasi:filesystem/*\"]").unwrap_err();
        assert_eq!(err.key, "stdout");
        assert!(
            err.message.contains("`wasi:filesystem/*`"),
            "{}",
            err.message
        );
        let err = slices("stdin = { fixed = \"x\" }\ngrant = [\"wasi:*@0.2\"]").unwrap_err();
        assert_eq!(err.key, "stdin");
        assert!(err.message.contains("`wasi:*@0.2`"), "{}", err.message);
        let err = slices("stderr = \"discard\"\nhttp = [\"GET example.com\"]").unwrap_err();
        assert!(err.message.contains("`http`"), "{}", err.message);
        // Carved out by the library's own `deny`: fine.
        slices("stdout = \"discard\"\ngrant = [\"wasi:*\"]\ndeny = [\"wasi:filesystem/*\", \"wasi:sockets/*\", \"wasi:http/*\"]")
            .unwrap();
        // Grants that share nothing with `wasi:io` are fine.
        slices("stdout = \"discard\"\ngrant = [\"wasi:cli/environment\", \"wasi:random/*\"]")
            .unwrap();
    }
}
