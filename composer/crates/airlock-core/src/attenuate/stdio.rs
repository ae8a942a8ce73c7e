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
//!
//! WASI 0.3 (`wasi:cli/stdin@0.3.0` and friends) has no `wasi:io`: its three
//! streams are independent, so the same keys are decided per stream there:
//! `allow` a grant of that stream's interface at `@0.3`, `deny` a denial,
//! and only `discard` and `{ fixed = "text" }` go to the stdio3 interposer
//! (`composer/interposers/stdio3`, instance `LIBRARY.stdio3`), wired for
//! those streams only. Every pattern here names its version (`@0.2`,
//! `@0.3`, the latter never matching a `0.3.0-rc-*` pre-release), so each
//! interposer serves its own WASI; `attenuate::keep_used` drops the one the
//! library does not import, and the audit keeps one line for both.
//!
//! A pre-release import (`@0.3.0-rc-*`) of a stream set to anything but
//! `allow` is denied, so no wider grant hands it the host's stream.
//!
//! The 0.3 stream functions are not `async func`, so a component exporting
//! them lifts them sync and runs no more code for a call once it returned,
//! while a discarded stream must be read to its end and a fixed stdin
//! written and then ended after the call. So stdio3 is two components
//! composed here into one (see `composer/interposers/stdio3`): the sync half
//! exports the library's functions and calls the async half
//! (`stdio3pump`), whose `async func`s return at once and keep serving the
//! stream.

use super::{Interposer, SliceError, Slices};
use crate::manifest::ComponentSpec;
use crate::names::InterfaceName;
use crate::policy::Pattern;
use airlock_slice_settings::{Clock, Slice, SliceKind, StdinMode, StdioSettings, StreamMode};
use std::sync::LazyLock;
use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions};

/// `composer/interposers/stdio`, prebuilt (`just interposers`): WASI 0.2.
const WASM: &[u8] = include_bytes!("../../../../interposers/stdio.wasm");

/// `composer/interposers/stdio3`, prebuilt (`just build-async-probes`, then
/// packed): the sync half of WASI 0.3's `discard` and fixed streams, which
/// exports the library's stream functions.
const SYNC3: &[u8] = include_bytes!("../../../../interposers/stdio3.wasm");

/// `composer/interposers/stdio3pump`, prebuilt likewise: the async half,
/// which keeps a stream going after the sync half returned.
const PUMP3: &[u8] = include_bytes!("../../../../interposers/stdio3pump.wasm");

/// What the sync half imports from the async half.
const PUMP_INTERFACE: &str = "airlock:interpose/stdio3-pump@0.1.0";

/// The stdio3 interposer: its two halves composed into one component, the
/// pump instantiated and its export given to the sync half (a component
/// instance cannot call itself). Its imports are the halves' (`config`,
/// `wasi:cli/types`); it exports the three streams.
static WASM3: LazyLock<&'static [u8]> = LazyLock::new(|| {
    let bytes = compose_halves().unwrap_or_else(|e| panic!("composing the stdio3 interposer: {e}"));
    Box::leak(bytes.into_boxed_slice())
});

fn compose_halves() -> Result<Vec<u8>, String> {
    let mut graph = CompositionGraph::new();
    let mut register = |name: &str, bytes: &[u8]| {
        let package = Package::from_bytes(name, None, bytes.to_vec(), graph.types_mut())
            .map_err(|e| format!("{name}: {e:#}"))?;
        graph
            .register_package(package)
            .map_err(|e| format!("{name}: {e}"))
    };
    let pump = register("airlock:stdio3-pump", PUMP3)?;
    let sync = register("airlock:stdio3", SYNC3)?;
    let pump = graph.instantiate(pump);
    let sync = graph.instantiate(sync);
    let served = graph
        .alias_instance_export(pump, PUMP_INTERFACE)
        .map_err(|e| e.to_string())?;
    graph
        .set_instantiation_argument(sync, PUMP_INTERFACE, served)
        .map_err(|e| e.to_string())?;
    for name in [
        "wasi:cli/stdin@0.3.0",
        "wasi:cli/stdout@0.3.0",
        "wasi:cli/stderr@0.3.0",
    ] {
        let export = graph
            .alias_instance_export(sync, name)
            .map_err(|e| e.to_string())?;
        graph
            .export(export, name.to_string())
            .map_err(|e| e.to_string())?;
    }
    graph
        .encode(EncodeOptions {
            define_components: true,
            validate: true,
            processor: None,
        })
        .map_err(|e| e.to_string())
}

/// The kind of the WASI 0.3 interposer (instance `LIBRARY.stdio3`).
const KIND3: &str = "stdio3";

/// The library imports the interposer serves: the streams and their types.
const WIRES: [&str; 6] = [
    "wasi:cli/stdin@0.2",
    "wasi:cli/stdout@0.2",
    "wasi:cli/stderr@0.2",
    "wasi:io/streams@0.2",
    "wasi:io/poll@0.2",
    "wasi:io/error@0.2",
];

/// Its pollables are `wasi:io/poll`'s, so the interposer serves it too
/// unless a frozen clock (a virtual value) does.
const MONOTONIC: &str = "wasi:clocks/monotonic-clock@0.2";

/// Each stream's interface: the manifest key, then the pattern of each
/// WASI version: 0.2, 0.3, and 0.3's pre-releases (`0.3.0-rc-*`, which
/// toolchains still emit and `@0.3` never matches).
const STREAMS: [(&str, [&str; 3]); 3] = [
    (
        "stdout",
        [
            "wasi:cli/stdout@0.2",
            "wasi:cli/stdout@0.3",
            "wasi:cli/stdout@0.3.0-rc-*",
        ],
    ),
    (
        "stderr",
        [
            "wasi:cli/stderr@0.2",
            "wasi:cli/stderr@0.3",
            "wasi:cli/stderr@0.3.0-rc-*",
        ],
    ),
    (
        "stdin",
        [
            "wasi:cli/stdin@0.2",
            "wasi:cli/stdin@0.3",
            "wasi:cli/stdin@0.3.0-rc-*",
        ],
    ),
];

/// Indexes into a stream's patterns.
const V2: usize = 0;
const V3: usize = 1;
const RC: usize = 2;

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
    // What each stream is, by key: the host's, closed by its key (unset ones
    // not granted keep the default denial, which needs nothing when the
    // library does not import them), or discarded/fixed.
    let is_host = [
        stdout == StreamMode::Allow,
        stderr == StreamMode::Allow,
        stdin == StdinMode::Allow,
    ];
    let is_closed = [
        c.stdout == Some(StreamMode::Deny),
        c.stderr == Some(StreamMode::Deny),
        c.stdin == Some(StdinMode::Deny),
    ];
    let is_served = [
        stdout == StreamMode::Discard,
        stderr == StreamMode::Discard,
        matches!(stdin, StdinMode::Fixed(_)),
    ];
    let pick = |which: [bool; 3], version: usize| -> Vec<(&'static str, &'static str)> {
        STREAMS
            .iter()
            .zip(which)
            .filter(|(_, on)| *on)
            .map(|((key, patterns), _)| (patterns[version], *key))
            .collect()
    };
    let host = pick(is_host, V2);
    let closed = pick(is_closed, V2);
    let interposed = is_served.contains(&true) || (!host.is_empty() && !closed.is_empty());
    let mut settings = StdioSettings {
        stdout,
        stderr,
        stdin,
        monotonic: false,
    };
    // WASI 0.3: each stream alone, a grant, a denial that wins over a wider
    // grant, or the stdio3 interposer (added last, after the 0.2 one). A
    // pre-release import of a stream set to anything but `allow` is denied,
    // so that no wider grant gives it the host's.
    let grants3 = pick(is_host, V3);
    let mut denies3 = pick(is_closed, V3);
    let not_host: [bool; 3] = std::array::from_fn(|i| is_closed[i] || is_served[i]);
    denies3.extend(pick(not_host, RC));
    let served3: Vec<&'static str> = pick(is_served, V3).into_iter().map(|(i, _)| i).collect();
    if !interposed {
        // WASI 0.2, host streams or closed ones: plain grants, or denials
        // that win over a wider grant (with no host stream, `wasi:io` is
        // denied too, so the denial stub makes closed streams of its own).
        out.grants.extend(host.into_iter().chain(grants3));
        out.denies.extend(closed.into_iter().chain(denies3));
        out.summary.push(Slice::Stdio(settings));
        return Ok(());
    }
    refuse_host_io(c, first_key(c))?;
    out.grants.extend(grants3);
    out.denies.extend(denies3);
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
        summary: Slice::Stdio(settings.clone()),
    });
    if !served3.is_empty() {
        // The same settings and audit line (stdio3 reads only its streams').
        out.interposers.push(Interposer {
            kind: KIND3,
            wasm: *WASM3,
            wires: served3,
            grants: Vec::new(),
            library_grants: Vec::new(),
            config: settings.lines(),
            summary: Slice::Stdio(settings),
        });
    }
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
    // `interface` may name its track (`@0.2`): checked at `VERSION` anyway.
    let interface = interface.split('@').next().unwrap_or(interface);
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

    fn slices(keys: &str) -> Result<Slices, SliceError> {
        super::super::testing::slices(keys, add)
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
        // Each WASI version by its own pattern.
        assert_eq!(
            s.grants,
            [
                ("wasi:cli/stdout@0.2", "stdout"),
                ("wasi:cli/stdin@0.2", "stdin"),
                ("wasi:cli/stdout@0.3", "stdout"),
                ("wasi:cli/stdin@0.3", "stdin")
            ]
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
        // Each stream at 0.2, 0.3 and 0.3's pre-releases.
        assert_eq!(s.denies.len(), 9);
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
        assert_eq!(i.grants, ["wasi:cli/stderr@0.2", "wasi:cli/stdin@0.2"]);
        assert_eq!(i.config, ["stdout discard", "stderr allow", "stdin allow"]);
        // ...unless the library's own `deny` carves one out.
        let s =
            slices("stdout = \"discard\"\ngrant = [\"wasi:cli/*\"]\ndeny = [\"wasi:cli/stdin\"]")
                .unwrap();
        assert_eq!(s.interposers[0].grants, ["wasi:cli/stderr@0.2"]);
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
        // (In WASI 0.3 the streams are independent: a grant and a denial.)
        assert_eq!(s.grants, [("wasi:cli/stdout@0.3", "stdout")]);
        assert_eq!(
            s.denies,
            [
                ("wasi:cli/stderr@0.3", "stderr"),
                ("wasi:cli/stderr@0.3.0-rc-*", "stderr")
            ]
        );
        assert_eq!(s.interposers.len(), 1);
        assert_eq!(s.interposers[0].grants, ["wasi:cli/stdout@0.2"]);
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
        assert_eq!(s.grants, [("wasi:cli/stderr@0.3", "stderr")]);
        let i = &s.interposers[0];
        assert_eq!(i.kind, "stdio");
        assert_eq!(i.grants, ["wasi:cli/stderr@0.2"]);
        assert_eq!(
            i.config,
            ["stdout discard", "stderr allow", "stdin fixed hello, world"]
        );
        assert_eq!(
            i.summary.to_string(),
            "stdout discard, stderr allow, stdin fixed (12 bytes)"
        );
        assert!(i.wires.contains(&"wasi:io/streams@0.2") && i.wires.contains(&MONOTONIC));
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

    #[test]
    fn wasi_0_3_streams_are_decided_one_by_one() {
        // Allowed: a grant; discarded or fixed: the stdio3 interposer, wired
        // for those streams only and granted nothing.
        let s = slices("stdout = \"allow\"\nstderr = \"discard\"\nstdin = { fixed = \"abc\" }")
            .unwrap();
        assert_eq!(s.grants, [("wasi:cli/stdout@0.3", "stdout")]);
        assert_eq!(
            s.denies,
            [
                ("wasi:cli/stderr@0.3.0-rc-*", "stderr"),
                ("wasi:cli/stdin@0.3.0-rc-*", "stdin")
            ]
        );
        let [v2, v3] = &s.interposers[..] else {
            panic!("{:?}", s.interposers);
        };
        assert_eq!((v2.kind, v3.kind), ("stdio", "stdio3"));
        assert_eq!(v3.wasm, *WASM3);
        assert_eq!(v3.wires, ["wasi:cli/stderr@0.3", "wasi:cli/stdin@0.3"]);
        assert!(v3.grants.is_empty() && v3.library_grants.is_empty());
        assert_eq!(
            v3.config,
            ["stdout allow", "stderr discard", "stdin fixed abc"]
        );
        // One audit line for both.
        assert_eq!(v3.summary, v2.summary);
        assert_eq!(
            v3.summary.to_string(),
            "stdout allow, stderr discard, stdin fixed (3 bytes)"
        );
        // Denied by its key: a denial, which wins over a wider grant.
        let s = slices("stdout = \"discard\"\nstdin = \"deny\"\ngrant = [\"wasi:cli/*\"]").unwrap();
        assert_eq!(
            s.grants,
            [("wasi:cli/stderr@0.3", "stderr")],
            "stderr follows the grant"
        );
        assert_eq!(
            s.denies,
            [
                ("wasi:cli/stdin@0.3", "stdin"),
                ("wasi:cli/stdout@0.3.0-rc-*", "stdout"),
                ("wasi:cli/stdin@0.3.0-rc-*", "stdin")
            ]
        );
        assert_eq!(s.interposers[1].wires, ["wasi:cli/stdout@0.3"]);
        // No discarded or fixed stream: no stdio3.
        let s = slices("stdout = \"allow\"\nstderr = \"deny\"").unwrap();
        assert!(s.interposers.iter().all(|i| i.kind == "stdio"));
    }

    /// Each pattern serves its own WASI version: the 0.2 interposer never
    /// takes a 0.3 import, and `@0.3` never a `0.3.0-rc-*` pre-release.
    #[test]
    fn each_interposer_serves_its_own_wasi_version() {
        use crate::names::InterfaceName;
        let hits = |patterns: &[&str], name: &str| {
            let name = InterfaceName::parse(name).unwrap();
            patterns
                .iter()
                .any(|p| p.parse::<Pattern>().unwrap().matches(&name))
        };
        let s = slices(
            "stdout = \"discard\"\nstderr = \"allow\"\nstdin = \"deny\"\ngrant = [\"wasi:clocks/*\"]",
        )
        .unwrap();
        let [v2, v3] = &s.interposers[..] else {
            panic!("{:?}", s.interposers);
        };
        let grants: Vec<&str> = s.grants.iter().map(|(i, _)| *i).collect();
        let denies: Vec<&str> = s.denies.iter().map(|(i, _)| *i).collect();
        for (name, by_v2, by_v3, granted, denied) in [
            ("wasi:cli/stdout@0.2.12", true, false, false, false),
            ("wasi:cli/stdout@0.3.0", false, true, false, false),
            ("wasi:cli/stderr@0.3.0", false, false, true, false),
            ("wasi:cli/stdin@0.3.0", false, false, false, true),
            ("wasi:cli/stdin@0.2.0", true, false, false, false),
            (
                "wasi:clocks/monotonic-clock@0.2.12",
                true,
                false,
                false,
                false,
            ),
            (
                "wasi:clocks/monotonic-clock@0.3.0",
                false,
                false,
                false,
                false,
            ),
            // A pre-release: never wired or granted by the keys, denied
            // unless the stream is allowed (no wider grant may reach it).
            (
                "wasi:cli/stdout@0.3.0-rc-2026-03-15",
                false,
                false,
                false,
                true,
            ),
            (
                "wasi:cli/stderr@0.3.0-rc-2026-03-15",
                false,
                false,
                false,
                false,
            ),
            (
                "wasi:cli/stdin@0.3.0-rc-2026-03-15",
                false,
                false,
                false,
                true,
            ),
        ] {
            assert_eq!(hits(&v2.wires, name), by_v2, "{name}");
            assert_eq!(hits(&v3.wires, name), by_v3, "{name}");
            assert_eq!(hits(&grants, name), granted, "{name}");
            assert_eq!(hits(&denies, name), denied, "{name}");
        }
        // The 0.2 interposer is granted 0.2 only.
        assert!(hits(&v2.grants, "wasi:cli/stderr@0.2.12"));
        assert!(!hits(&v2.grants, "wasi:cli/stderr@0.3.0"));
        assert!(hits(&v2.grants, "wasi:clocks/monotonic-clock@0.2.12"));
    }
}
