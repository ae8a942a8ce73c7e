//! The offset-clock interposer: exports `wasi:clocks/wall-clock` as the
//! host's wall clock shifted by a fixed number of seconds. Settings
//! (`airlock:interpose/config`): `offset SECONDS` (signed;
//! [`airlock_slice_settings::ClockSettings`], the type the composer writes it
//! with).

#![cfg_attr(target_family = "wasm", no_std)]

extern crate alloc;

use interpose_rt as _;

/// `seconds` shifted by `offset`, saturating at the ends of the range (a
/// datetime before the epoch cannot be expressed).
pub fn shift(seconds: u64, offset: i64) -> u64 {
    seconds.saturating_add_signed(offset)
}

mod bindings {
    wit_bindgen::generate!({
        // `wit/interpose/deps` links to the vendored WASI packages.
        path: "../../../wit/interpose",
        world: "airlock:interpose/clock-offset",
        generate_all,
    });

    use airlock::interpose::config;
    use airlock_slice_settings::ClockSettings;
    use exports::wasi::clocks::wall_clock::{Datetime, Guest};
    use wasi::clocks::wall_clock as host;

    #[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
    struct Component;

    impl Guest for Component {
        fn now() -> Datetime {
            let now = host::now();
            Datetime {
                seconds: super::shift(
                    now.seconds,
                    ClockSettings::from_lines(&config::get()).offset,
                ),
                nanoseconds: now.nanoseconds,
            }
        }
        fn resolution() -> Datetime {
            let r = host::resolution();
            Datetime {
                seconds: r.seconds,
                nanoseconds: r.nanoseconds,
            }
        }
    }

    #[cfg(target_family = "wasm")]
    export!(Component);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_shift_both_ways_and_saturate() {
        assert_eq!(shift(1000, 3600), 4600);
        assert_eq!(shift(1000, -60), 940);
        assert_eq!(shift(10, -60), 0);
    }
}
