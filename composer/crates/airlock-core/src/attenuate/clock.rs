//! `clock = "offset:+SECONDS"`: the host's wall clock, shifted by a fixed
//! number of seconds (a frozen clock, `frozen:...`, is a virtual value and
//! needs no host; see `virtualize::virtuals`). Settings: `offset SECONDS`.

use super::{Interposer, SliceError, Slices};
use crate::manifest::ComponentSpec;

/// `composer/interposers/clock`, prebuilt (`just interposers`).
const WASM: &[u8] = include_bytes!("../../../../interposers/clock.wasm");

pub(super) fn add(c: &ComponentSpec, out: &mut Slices) -> Result<(), SliceError> {
    let Some(offset) = c.clock.as_deref().and_then(|c| c.strip_prefix("offset:")) else {
        return Ok(());
    };
    let seconds: i64 = offset.trim().parse().map_err(|_| {
        SliceError::new(
            "clock",
            format!("`offset:{offset}` needs a whole number of seconds, e.g. `offset:+3600` or `offset:-60`"),
        )
    })?;
    out.interposers.push(Interposer {
        kind: "clock",
        wasm: WASM,
        wires: vec!["wasi:clocks/wall-clock"],
        grants: vec!["wasi:clocks/wall-clock"],
        library_grants: Vec::new(),
        config: vec![format!("offset {seconds}")],
        summary: format!("clock host wall clock {seconds:+} s"),
    });
    Ok(())
}
