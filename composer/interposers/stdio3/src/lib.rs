//! The stdio interposer for WASI 0.3.0: serves a library's
//! `wasi:cli/stdin@0.3.0`, `stdout@0.3.0` and `stderr@0.3.0` for the streams
//! set to `discard` or `{ fixed = "text" }` (the composer wires only those
//! here; `allow` is a plain grant, `deny` a denial). Settings
//! (`airlock:interpose/config`): the stdio interposer's lines
//! ([`airlock_slice_settings::StdioSettings`]).
//!
//! # What the component model allows
//!
//! `read-via-stream` and `write-via-stream` are not `async func`, so they are
//! lifted sync: an `async` lift of a sync function type does not validate
//! ("the `async` canonical option requires an async function type",
//! wasmparser), so wit-bindgen binds them sync and `wit_bindgen::spawn` has
//! no task to run in. A sync task may not block before it returns (wasmtime:
//! "cannot block a synchronous task before returning"), and after it
//! returns none of this component's code runs again for that call. What
//! it can leave behind is one pending `stream.read` or `stream.write` (and
//! a pending `future.write`, see [`resolved`]): it moves bytes when the
//! other end reads or writes, up to its buffer, but the stream's writable
//! end cannot be dropped while that write is pending ("cannot drop busy
//! stream"), and nothing would re-issue a read once the buffer is full.
//! Hence:
//! - `stdin` fixed to the empty text: an ended stream (its writable end
//!   dropped at once) and a future of `ok`. Served.
//! - `stdin` fixed to a non-empty text: the text could be handed over by a
//!   pending write, but the stream could never end, and a reader that reads
//!   to the end would wait forever. Refused: trap.
//! - `stdout`, `stderr` `discard`: consuming a stream to its end needs code
//!   that runs as the writer writes; a pending read absorbs at most its
//!   buffer, then the writer waits forever. Refused: trap.
//!
//! A trap names nothing once packed (pack.mjs drops the name section); the
//! composer's audit and documentation say which keys are refused for 0.3.
//!
//! `no_std` with `interpose-rt`, so it imports nothing of WASI: only
//! `config` (and `wasi:cli/types@0.3.0` has no functions).

#![cfg_attr(target_family = "wasm", no_std)]

extern crate alloc;

use airlock_slice_settings::{StdinMode, StdioSettings, StreamMode};
use interpose_rt as _;

/// What `read-via-stream` does with these settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stdin {
    /// An ended stream and a future of `ok` (fixed to the empty text).
    Empty,
    /// Trap: the stream cannot carry the text and then end (fixed to a
    /// non-empty text), or stdin is not this interposer's (any other mode).
    Refused,
}

/// `read-via-stream`'s answer for `settings`.
pub fn stdin(settings: &StdioSettings) -> Stdin {
    match &settings.stdin {
        StdinMode::Fixed(text) if text.is_empty() => Stdin::Empty,
        _ => Stdin::Refused,
    }
}

/// Whether `write-via-stream` of a stream in `mode` is refused: always, as
/// `discard` cannot be served (and other modes are not wired here).
pub fn write_refused(mode: StreamMode) -> bool {
    let _ = mode;
    true
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

    use super::Stdin;
    use airlock_slice_settings::StdioSettings;
    use wasi::cli::types::ErrorCode;
    use exports::wasi::cli::{stderr, stdin, stdout};
    use wit_bindgen::{FutureReader, StreamReader};

    struct Component;

    fn settings() -> StdioSettings {
        StdioSettings::from_lines(&airlock::interpose::config::get())
    }

    /// A future resolved with `value`, from a sync function: `future.new`,
    /// then an async `future.write` left pending until the reader reads
    /// (wit-bindgen would write on drop and wait for the reader at the end
    /// of the task, which a sync task may not). The lowered value is
    /// leaked: it must outlive the call.
    fn resolved<T: wit_future::FuturePayload>(value: T) -> FutureReader<T> {
        let vtable = T::VTABLE;
        // SAFETY: the intrinsics of `T`'s own vtable, on the handles that
        // `future.new` just returned; the buffer has `T`'s canonical layout
        // and is never freed.
        unsafe {
            let handles = (vtable.new)();
            let (readable, writable) = (handles as u32, (handles >> 32) as u32);
            let buf = alloc::alloc::alloc(vtable.layout);
            (vtable.lower)(value, buf);
            (vtable.start_write)(writable, buf);
            FutureReader::new(readable, vtable)
        }
    }

    impl stdin::Guest for Component {
        fn read_via_stream() -> (StreamReader<u8>, FutureReader<Result<(), ErrorCode>>) {
            match super::stdin(&settings()) {
                Stdin::Empty => {
                    let (writer, data) = wit_stream::new::<u8>();
                    drop(writer);
                    (data, resolved(Ok(())))
                }
                Stdin::Refused => refused(),
            }
        }
    }

    impl stdout::Guest for Component {
        fn write_via_stream(_data: StreamReader<u8>) -> FutureReader<Result<(), ErrorCode>> {
            if super::write_refused(settings().stdout) {
                refused()
            }
            unreachable!()
        }
    }

    impl stderr::Guest for Component {
        fn write_via_stream(_data: StreamReader<u8>) -> FutureReader<Result<(), ErrorCode>> {
            if super::write_refused(settings().stderr) {
                refused()
            }
            unreachable!()
        }
    }

    /// A stream the component model does not let a sync export serve.
    fn refused() -> ! {
        core::arch::wasm32::unreachable()
    }

    export!(Component);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_empty_fixed_stdin_is_served() {
        let with = |stdin| StdioSettings {
            stdin,
            ..StdioSettings::default()
        };
        assert_eq!(stdin(&with(StdinMode::Fixed("".into()))), Stdin::Empty);
        for refused in [
            StdinMode::Fixed("hello".into()),
            StdinMode::Allow,
            StdinMode::Deny,
        ] {
            assert_eq!(stdin(&with(refused)), Stdin::Refused);
        }
        assert!(write_refused(StreamMode::Discard));
    }
}
