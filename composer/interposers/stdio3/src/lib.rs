//! The stdio interposer for WASI 0.3.0: serves a library's
//! `wasi:cli/stdin@0.3.0`, `stdout@0.3.0` and `stderr@0.3.0` for the streams
//! set to `discard` or `{ fixed = "text" }` (the composer wires only those
//! here; `allow` is a plain grant, `deny` a denial). Settings
//! (`airlock:interpose/config`): the stdio interposer's lines
//! ([`airlock_slice_settings::StdioSettings`]).
//!
//! # Two halves
//!
//! `read-via-stream` and `write-via-stream` are not `async func`, so this
//! component lifts them sync: an `async` lift of a sync function type does
//! not validate ("the `async` canonical option requires an async function
//! type", wasmparser), so wit-bindgen binds them sync and
//! `wit_bindgen::spawn` has no task to run in. A sync task may not block
//! before it returns (wasmtime: "cannot block a synchronous task before
//! returning"), and after it returns none of its component's code runs again
//! for that call: what it could leave behind is one pending `stream.read` or
//! `stream.write`, which moves bytes up to its buffer but can neither be
//! re-issued nor end the stream (a busy stream's writable end cannot be
//! dropped). So a single sync component could discard no more than one
//! buffer and could never end a fixed stdin.
//!
//! Hence the second half, `composer/interposers/stdio3pump`, whose functions
//! are `async func`: this component calls them lowered async; each returns
//! at once (so this sync caller never waits: the first poll of the call
//! finds it done) and keeps serving the stream, reading a discarded one to
//! its end or writing a fixed stdin and then ending it, and then resolves
//! its future `ok`. The composer composes the two components into the stdio3
//! interposer (`attenuate::stdio`); a component instance cannot call itself,
//! so they are two.
//!
//! `no_std` with `interpose-rt`, so it imports nothing of WASI: only
//! `config`, the pump (and `wasi:cli/types@0.3.0`, which has no functions).

#![cfg_attr(target_family = "wasm", no_std)]

extern crate alloc;

use airlock_slice_settings::{StdinMode, StdioSettings, StreamMode};
use interpose_rt as _;

/// What `read-via-stream` hands out for these settings: a stream of this
/// text, or `None` when stdin is not this interposer's (not wired here; a
/// trap, when in doubt).
pub fn fixed_stdin(settings: &StdioSettings) -> Option<&str> {
    match &settings.stdin {
        StdinMode::Fixed(text) => Some(text),
        _ => None,
    }
}

/// Whether `write-via-stream` of a stream in `mode` discards (else it is not
/// this interposer's: a trap).
pub fn discards(mode: StreamMode) -> bool {
    mode == StreamMode::Discard
}

#[cfg(target_family = "wasm")]
mod bindings {
    wit_bindgen::generate!({
        path: [
            "../../../wit/deps-0.3/clocks",
            "../../../wit/deps-0.3/filesystem",
            "../../../wit/deps-0.3/sockets",
            "../../../wit/deps-0.3/random",
            "../../../wit/deps-0.3/cli",
            "../../../wit/deps-0.3/http",
            "../../../wit/interpose-p3",
        ],
        world: "airlock:interpose/stdio3",
        generate_all,
    });

    use airlock::interpose::stdio3_pump as pump;
    use airlock_slice_settings::StdioSettings;
    use core::future::Future;
    use core::pin::pin;
    use core::task::{Context, Poll, Waker};
    use exports::wasi::cli::{stderr, stdin, stdout};
    use wasi::cli::types::ErrorCode;
    use wit_bindgen::{FutureReader, StreamReader};

    struct Component;

    fn settings() -> StdioSettings {
        StdioSettings::from_lines(&airlock::interpose::config::get())
    }

    /// The result of a call of the pump, lowered async: the pump returns at
    /// once (it resolves its task before it waits), so the first poll finds
    /// the call done and this sync export never waits, as it must not (a
    /// pump that did not return at once would be a bug: trap).
    fn at_once<T>(call: impl Future<Output = T>) -> T {
        match pin!(call).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(value) => value,
            Poll::Pending => refused(),
        }
    }

    fn discard(data: StreamReader<u8>) -> FutureReader<Result<(), ErrorCode>> {
        at_once(pump::discard(data))
    }

    impl stdin::Guest for Component {
        fn read_via_stream() -> (StreamReader<u8>, FutureReader<Result<(), ErrorCode>>) {
            let settings = settings();
            let Some(text) = super::fixed_stdin(&settings) else {
                refused()
            };
            at_once(pump::fixed(alloc::string::String::from(text)))
        }
    }

    impl stdout::Guest for Component {
        fn write_via_stream(data: StreamReader<u8>) -> FutureReader<Result<(), ErrorCode>> {
            if !super::discards(settings().stdout) {
                refused()
            }
            discard(data)
        }
    }

    impl stderr::Guest for Component {
        fn write_via_stream(data: StreamReader<u8>) -> FutureReader<Result<(), ErrorCode>> {
            if !super::discards(settings().stderr) {
                refused()
            }
            discard(data)
        }
    }

    /// A stream that is not this interposer's (the composer wires only
    /// discarded and fixed ones here).
    fn refused() -> ! {
        core::arch::wasm32::unreachable()
    }

    export!(Component);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_discarded_and_fixed_streams_are_served() {
        let with = |stdin| StdioSettings {
            stdin,
            ..StdioSettings::default()
        };
        assert_eq!(fixed_stdin(&with(StdinMode::Fixed("".into()))), Some(""));
        assert_eq!(
            fixed_stdin(&with(StdinMode::Fixed("hello".into()))),
            Some("hello")
        );
        assert_eq!(fixed_stdin(&with(StdinMode::Allow)), None);
        assert_eq!(fixed_stdin(&with(StdinMode::Deny)), None);
        assert!(discards(StreamMode::Discard));
        assert!(!discards(StreamMode::Allow) && !discards(StreamMode::Deny));
    }
}
