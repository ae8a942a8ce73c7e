//! `clock = "offset:+SECONDS"`: the host's wall clock, shifted by a fixed
//! number of seconds (a frozen clock, `frozen:...`, is a virtual value and
//! needs no host; see `virtualize::virtuals`). Both forms are
//! [`airlock_slice_settings::Clock`]s. Settings: `offset SECONDS`.

use super::{Interposer, SliceError, Slices};
use crate::manifest::ComponentSpec;
use airlock_slice_settings::{Clock, ClockSettings, Slice, SliceKind};

/// `composer/interposers/clock`, prebuilt (`just interposers`).
const WASM: &[u8] = include_bytes!("../../../../interposers/clock.wasm");

pub(super) fn add(c: &ComponentSpec, out: &mut Slices) -> Result<(), SliceError> {
    let Some(text) = c.clock.as_deref().filter(|t| Clock::is_offset_text(t)) else {
        return Ok(());
    };
    let offset = match text.parse::<Clock>() {
        Ok(Clock::Offset(offset)) => offset,
        // Not reached: `offset:` texts parse as offsets or not at all.
        Ok(Clock::Frozen(_)) => return Ok(()),
        Err(e) => return Err(SliceError::new("clock", e.to_string())),
    };
    let settings = ClockSettings { offset };
    out.interposers.push(Interposer {
        kind: SliceKind::Clock.as_str(),
        wasm: WASM,
        // WASI 0.2's name; 0.3's `system-clock` under an offset clock is refused by the planner.
        wires: vec!["wasi:clocks/wall-clock@0.2"],
        grants: vec!["wasi:clocks/wall-clock"],
        library_grants: Vec::new(),
        config: settings.lines(),
        summary: Slice::Clock(settings),
    });
    Ok(())
}
