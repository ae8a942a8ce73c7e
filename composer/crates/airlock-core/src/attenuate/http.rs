//! `http = ["GET *.example.com", "GET,POST 127.0.0.1:8080", "* api.example.com"]`:
//! `wasi:http/outgoing-handler` from the host, narrowed to these rules; any
//! other request is dropped inside the output with `HTTP-request-denied`.
//!
//! A rule is `METHODS AUTHORITY` (e.g. `GET,POST *.example.com:8080`); its
//! grammar, checks and messages are [`airlock_slice_settings::http`]'s,
//! shared with the interposer that reads the rules back. A request without
//! authority, or with a scheme other than `http`/`https`, is denied.
//! Settings: `allow METHODS AUTHORITY`, one per rule.

use super::{Interposer, SliceError, Slices};
use crate::manifest::ComponentSpec;
use airlock_slice_settings::{HttpSettings, Slice, SliceKind};

/// `composer/interposers/http`, prebuilt (`just interposers`).
const WASM: &[u8] = include_bytes!("../../../../interposers/http.wasm");

pub(super) fn add(c: &ComponentSpec, out: &mut Slices) -> Result<(), SliceError> {
    let Some(rules) = &c.http else {
        return Ok(());
    };
    let settings =
        HttpSettings::from_manifest(rules).map_err(|e| SliceError::new("http", e.to_string()))?;
    out.interposers.push(Interposer {
        kind: SliceKind::Http.as_str(),
        wasm: WASM,
        wires: vec!["wasi:http/outgoing-handler"],
        grants: vec!["wasi:http/outgoing-handler", "wasi:http/types"],
        // Requests and responses are `wasi:http/types` resources the library
        // creates and reads itself (their `wasi:io` streams and pollables come
        // along as type dependencies); the interposer only decides on `handle`.
        library_grants: vec!["wasi:http/types"],
        config: settings.lines(),
        summary: Slice::Http(settings),
    });
    Ok(())
}
