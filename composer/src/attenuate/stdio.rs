//! `stdout`, `stderr` (`allow`, `discard`, `deny`) and `stdin` (`allow`,
//! `deny`, `{ fixed = "text" }`) per stream.
//!
//! Only `allow` (with the others left unset), or only `deny`, need no
//! interposer: `allow` is a grant of the host's stream (the allow-list must
//! permit it), `deny` alone the default denial (a closed stream). A discarding
//! or fixed stream cannot be a host stream, and neither can a closed one once
//! another stream is the host's (the denial stub would have to make a host
//! `output-stream`, so `get-stdout` would trap). Then the stdio interposer
//! (`components/interpose-stdio`) serves all three streams and the `wasi:io`
//! resources behind them (its own streams and pollables, wrapping the host's
//! for the streams that are allowed). The library's `wasi:io` imports, and
//! `wasi:clocks/monotonic-clock` whose pollables are `wasi:io`'s, are wired
//! to it; the interposer is granted only the host streams set to `allow`.
//! Settings: `stdout MODE`, `stderr MODE`, `stdin allow|deny`, `stdin fixed TEXT`.

use super::{Interposer, SliceError, Slices};
use crate::manifest::{Access, ComponentSpec, StdinSpec, StreamMode};
use crate::names::InterfaceName;
use crate::policy::Pattern;

/// `components/interpose-stdio`, prebuilt (`just interposers`).
const WASM: &[u8] = include_bytes!("../../interposers/stdio.wasm");

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
/// (denied: zero, pollables always ready) unless a frozen clock does.
const MONOTONIC: &str = "wasi:clocks/monotonic-clock";

/// Interfaces whose types are `wasi:io`'s: granted from the host, they would
/// hand the library host streams or pollables that the interposer's
/// `wasi:io` cannot take (the types differ).
const SHARES_IO: [&str; 18] = [
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:io/streams",
    "wasi:io/poll",
    "wasi:io/error",
    "wasi:clocks/monotonic-clock",
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
    let stdout = c.stdout.unwrap_or(StreamMode::Deny);
    let stderr = c.stderr.unwrap_or(StreamMode::Deny);
    let stdin = c.stdin.clone().unwrap_or(StdinSpec::Access(Access::Deny));
    let summary = format!(
        "stdout {}, stderr {}, stdin {}",
        mode(stdout),
        mode(stderr),
        match &stdin {
            StdinSpec::Access(Access::Allow) => "allow".to_string(),
            StdinSpec::Access(Access::Deny) => "deny".to_string(),
            StdinSpec::Fixed { fixed } => format!("fixed ({} bytes)", fixed.len()),
        }
    );
    let mut host = Vec::new();
    for (allowed, interface, key) in [
        (stdout == StreamMode::Allow, "wasi:cli/stdout", "stdout"),
        (stderr == StreamMode::Allow, "wasi:cli/stderr", "stderr"),
        (
            stdin == StdinSpec::Access(Access::Allow),
            "wasi:cli/stdin",
            "stdin",
        ),
    ] {
        if allowed {
            host.push((interface, key));
        }
    }
    let denied_beside_host = !host.is_empty()
        && (c.stdout == Some(StreamMode::Deny)
            || c.stderr == Some(StreamMode::Deny)
            || c.stdin == Some(StdinSpec::Access(Access::Deny)));
    let interposed = stdout == StreamMode::Discard
        || stderr == StreamMode::Discard
        || matches!(stdin, StdinSpec::Fixed { .. })
        || denied_beside_host;
    if !interposed {
        // Host streams or the default denial: plain grants, nothing inside.
        refuse_granted_denials(c)?;
        out.grants.extend(host);
        out.summary.push(summary);
        return Ok(());
    }
    let key = first_key(c);
    refuse_shared_io(c, key)?;
    let mut config = vec![
        format!("stdout {}", mode(stdout)),
        format!("stderr {}", mode(stderr)),
    ];
    config.push(match &stdin {
        StdinSpec::Access(Access::Allow) => "stdin allow".to_string(),
        StdinSpec::Access(Access::Deny) => "stdin deny".to_string(),
        StdinSpec::Fixed { fixed } => format!("stdin fixed {fixed}"),
    });
    let mut wires = WIRES.to_vec();
    if !frozen_clock(c) {
        wires.push(MONOTONIC);
    }
    out.interposers.push(Interposer {
        kind: "stdio",
        wasm: WASM,
        wires,
        grants: host.iter().map(|(interface, _)| *interface).collect(),
        library_grants: Vec::new(),
        config,
        summary,
    });
    Ok(())
}

fn mode(m: StreamMode) -> &'static str {
    match m {
        StreamMode::Allow => "allow",
        StreamMode::Discard => "discard",
        StreamMode::Deny => "deny",
    }
}

/// The key that asks for the interposer, for messages: the first stream
/// that is discarded, fixed or closed.
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
        .is_some_and(|c| !c.starts_with("offset:"))
}

/// A stream set to `deny` that a wider grant (`wasi:cli/*`) would hand out
/// anyway: the grant would win silently, so say so.
fn refuse_granted_denials(c: &ComponentSpec) -> Result<(), SliceError> {
    let denied = [
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
        (
            c.stdin == Some(StdinSpec::Access(Access::Deny)),
            "wasi:cli/stdin",
            "stdin",
        ),
    ];
    for (_, interface, key) in denied.into_iter().filter(|(d, _, _)| *d) {
        // An explicit `deny` of it wins over the grant (see `plan`).
        let carved = c.deny.iter().any(|d| {
            d.parse::<Pattern>().is_ok_and(|p| {
                InterfaceName::parse(&format!("{interface}@{VERSION}"))
                    .is_some_and(|n| p.matches(&n))
            })
        });
        if carved {
            continue;
        }
        if let Some((text, _)) = granting(c, &[interface]) {
            return Err(SliceError::new(
                key,
                format!(
                    "`{key} = \"deny\"` but the grant `{text}` gives the library `{interface}`; \
                     narrow the grant, or add `{interface}` to `deny`"
                ),
            ));
        }
    }
    Ok(())
}

/// The first grant of `c` that matches one of `interfaces`, with the interface.
fn granting<'a>(
    c: &'a ComponentSpec,
    interfaces: &[&'static str],
) -> Option<(&'a str, &'static str)> {
    c.grant.iter().find_map(|text| {
        // A malformed pattern is reported where grants are parsed.
        let pattern = text.parse::<Pattern>().ok()?;
        let hit = interfaces.iter().find(|name| {
            InterfaceName::parse(&format!("{name}@{VERSION}")).is_some_and(|n| pattern.matches(&n))
        })?;
        Some((text.as_str(), *hit))
    })
}

/// With the interposer, the library's `wasi:io` is the interposer's: nothing
/// that hands out host streams or pollables may reach it from the host.
fn refuse_shared_io(c: &ComponentSpec, key: &'static str) -> Result<(), SliceError> {
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
    if let Some((text, clash)) = granting(c, &SHARES_IO) {
        return Err(SliceError::new(
            key,
            format!(
                "`{key}` needs the stdio interposer, which serves the library's `wasi:io` \
                 streams and pollables, so it cannot be combined with the grant `{text}`, which \
                 gives the library `{clash}` from the host (whose streams or pollables would not \
                 fit); narrow the grant, or use only `allow` (or only `deny`) for the streams"
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
    fn only_allow_or_only_deny_are_plain_grants() {
        let s = slices("stdout = \"allow\"\nstdin = \"allow\"").unwrap();
        assert!(s.interposers.is_empty());
        assert_eq!(
            s.grants,
            [("wasi:cli/stdout", "stdout"), ("wasi:cli/stdin", "stdin")]
        );
        assert_eq!(s.summary, ["stdout allow, stderr deny, stdin allow"]);
        let s = slices("stdout = \"deny\"").unwrap();
        assert!(s.grants.is_empty() && s.interposers.is_empty());
        assert_eq!(s.summary, ["stdout deny, stderr deny, stdin deny"]);
        // A closed stream beside a host stream must be the interposer's: a
        // denial stub cannot make a host stream (`get-stderr` would trap).
        let s = slices("stdout = \"allow\"\nstderr = \"deny\"").unwrap();
        assert!(s.grants.is_empty());
        assert_eq!(s.interposers[0].grants, ["wasi:cli/stdout"]);
        assert_eq!(
            s.interposers[0].config,
            ["stdout allow", "stderr deny", "stdin deny"]
        );
        // A wider grant would hand out a denied stream anyway: refused.
        let err = slices("stdout = \"deny\"\ngrant = [\"wasi:cli/*\"]").unwrap_err();
        assert_eq!(err.key, "stdout");
        assert!(err.message.contains("`wasi:cli/*`"), "{}", err.message);
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
            i.summary,
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
        let err = slices("stdin = { fixed = \"x\" }\ngrant = [\"wasi:cli/*@0.2\"]").unwrap_err();
        assert_eq!(err.key, "stdin");
        assert!(err.message.contains("`wasi:cli/stdin`"), "{}", err.message);
        let err = slices("stderr = \"discard\"\nhttp = [\"GET example.com\"]").unwrap_err();
        assert!(err.message.contains("`http`"), "{}", err.message);
        // Grants that share nothing with `wasi:io` are fine.
        slices("stdout = \"discard\"\ngrant = [\"wasi:cli/environment\", \"wasi:random/*\"]")
            .unwrap();
    }
}
