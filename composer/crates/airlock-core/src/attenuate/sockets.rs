//! `sockets = { connect = ["127.0.0.1:8080", "10.0.0.1:*"], bind = [] }`: TCP
//! from the host, narrowed to these addresses. The interposer's `tcp-socket`
//! wraps the host's and forwards every method, but `start-connect` only to a
//! `connect` address and `start-bind` (and then `start-listen`) only to a
//! `bind` address; anything else fails with `access-denied` inside the
//! output. Addresses are `IP:PORT` or `IP:*` (any port), IPv6 in brackets
//! ([`airlock_slice_settings::sockets`], shared with the interposer).
//! UDP and name lookup stay denied. Settings: `connect ADDRESS`, `bind ADDRESS`.

use super::{Interposer, SliceError, Slices};
use crate::manifest::ComponentSpec;
use airlock_slice_settings::{Slice, SliceKind, SocketsSettings};

/// `composer/interposers/sockets`, prebuilt (`just interposers`).
const WASM: &[u8] = include_bytes!("../../../../interposers/sockets.wasm");

pub(super) fn add(c: &ComponentSpec, out: &mut Slices) -> Result<(), SliceError> {
    let Some(spec) = &c.sockets else {
        return Ok(());
    };
    let settings = SocketsSettings::from_manifest(&spec.connect, &spec.bind)
        .map_err(|e| SliceError::new("sockets", e.to_string()))?;
    out.interposers.push(Interposer {
        kind: SliceKind::Sockets.as_str(),
        wasm: WASM,
        // WASI 0.2 only: a 0.3 import under a sockets slice is refused by the planner.
        wires: vec!["wasi:sockets/tcp@0.2", "wasi:sockets/tcp-create-socket@0.2"],
        grants: vec![
            "wasi:sockets/tcp",
            "wasi:sockets/tcp-create-socket",
            "wasi:sockets/network",
        ],
        // The library passes the host's network handle to the interposer's
        // sockets and gets the host's streams and pollables back: those
        // handles and their types come from the host on both sides (so the
        // allow-list must permit `wasi:io/*` too).
        library_grants: vec![
            "wasi:sockets/network",
            "wasi:sockets/instance-network",
            "wasi:io/poll",
            "wasi:io/streams",
            "wasi:io/error",
        ],
        config: settings.lines(),
        summary: Slice::Tcp(settings),
    });
    Ok(())
}
