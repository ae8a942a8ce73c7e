//! The offset-clock interposer: exports `wasi:clocks/wall-clock` as the
//! host's wall clock shifted by a fixed number of seconds. Settings
//! (`airlock:interpose/config`): `offset SECONDS` (signed).

#![cfg_attr(target_family = "wasm", no_std)]

extern crate alloc;

use alloc::string::String;
use guest_rt as _;

/// The offset in the settings (0 when absent or malformed).
pub fn offset(lines: &[String]) -> i64 {
    lines
        .iter()
        .find_map(|l| l.strip_prefix("offset "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

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
    use exports::wasi::clocks::wall_clock::{Datetime, Guest};
    use wasi::clocks::wall_clock as host;

    #[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
    struct Component;

    impl Guest for Component {
        fn now() -> Datetime {
            let now = host::now();
            Datetime {
                seconds: super::shift(now.seconds, super::offset(&config::get())),
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
    use alloc::string::ToString;

    #[test]
    fn offsets_shift_both_ways_and_saturate() {
        assert_eq!(offset(&["offset -60".to_string()]), -60);
        assert_eq!(offset(&[]), 0);
        assert_eq!(shift(1000, 3600), 4600);
        assert_eq!(shift(1000, -60), 940);
        assert_eq!(shift(10, -60), 0);
    }
}
