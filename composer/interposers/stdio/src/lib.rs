//! The stdio interposer: serves a library's `wasi:cli/stdin`, `stdout` and
//! `stderr` per stream (the host's, discarding, closed, or fixed bytes), and
//! the `wasi:io` resources behind them. Settings (`airlock:interpose/config`),
//! one per entry: `stdout MODE`, `stderr MODE` (`allow`, `discard`, `deny`),
//! `stdin allow`, `stdin deny`, `stdin fixed TEXT`, `monotonic allow`
//! ([`airlock_slice_settings::StdioSettings`], the types the composer writes
//! them with). A stream not named is closed, the monotonic clock denied: when
//! in doubt, deny.
//!
//! A discarding or fixed stream is not a host stream, so the library's
//! `wasi:io/streams` (and `poll`, `error`) are this component's: each resource
//! wraps a host resource or is served here. The host's streams are asked for
//! only when their setting is `allow`; the composer grants exactly those.

#![cfg_attr(target_family = "wasm", no_std)]

extern crate alloc;

use alloc::vec::Vec;
use core::ops::Range;
use interpose_rt as _;

/// The next read of at most `len` bytes from fixed contents of `total` bytes,
/// `pos` bytes in: the range to return, or `None` at the end (the stream is
/// then closed, which is how `wasi:io` says end of stream).
pub fn next_chunk(total: usize, pos: usize, len: u64) -> Option<Range<usize>> {
    if pos >= total {
        return None;
    }
    let n = usize::try_from(len).unwrap_or(usize::MAX).min(total - pos);
    Some(pos..pos + n)
}

/// Which of a `poll` list to report without asking the host: the pollables
/// that are always ready (`true` in `always_ready`), by index. Empty: every
/// pollable is the host's, so the host's `poll` decides.
pub fn ready_without_host(always_ready: &[bool]) -> Vec<u32> {
    always_ready
        .iter()
        .enumerate()
        .filter(|(_, ready)| **ready)
        .filter_map(|(i, _)| u32::try_from(i).ok())
        .collect()
}

/// How many bytes a discarding stream says it accepts per write.
pub const DISCARD_PERMIT: u64 = 1 << 20;

#[cfg(target_family = "wasm")]
mod bindings {
    wit_bindgen::generate!({
        // `wit/interpose/deps` links to the vendored WASI packages.
        path: "../../../wit/interpose",
        world: "airlock:interpose/stdio",
        generate_all,
    });

    use super::guest::Component;
    export!(Component);
}

#[cfg(target_family = "wasm")]
mod guest {
    use super::bindings::airlock::interpose::config;
    use super::bindings::exports::wasi::cli::{stderr, stdin, stdout};
    use super::bindings::exports::wasi::clocks::monotonic_clock;
    use super::bindings::exports::wasi::io::{error, poll, streams};
    use super::bindings::wasi::cli as host_cli;
    use super::bindings::wasi::clocks::monotonic_clock as host_clock;
    use super::bindings::wasi::io::{error as host_error, poll as host_poll, streams as host};
    use super::{DISCARD_PERMIT, next_chunk, ready_without_host};
    use airlock_slice_settings::{StdinMode, StdioSettings as Settings, StreamMode};
    use alloc::string::String;
    use alloc::vec::Vec;
    use core::sync::atomic::{AtomicUsize, Ordering};
    use streams::{InputStream, InputStreamBorrow, OutputStream, StreamError};

    pub struct Component;

    /// How far fixed stdin has been read, shared by every handle of it (as
    /// the host's stdin is: a second `get-stdin` does not start over).
    static FIXED_POS: AtomicUsize = AtomicUsize::new(0);

    fn settings() -> Settings {
        Settings::from_lines(&config::get())
    }

    /// An error of a host stream (streams served here only ever close).
    pub struct Error(host_error::Error);

    impl error::GuestError for Error {
        fn to_debug_string(&self) -> String {
            self.0.to_debug_string()
        }
    }

    impl error::Guest for Component {
        type Error = Error;
    }

    /// A pollable: the host's, or always ready (for streams served here).
    pub enum Pollable {
        Host(host_poll::Pollable),
        Ready,
    }

    impl poll::GuestPollable for Pollable {
        fn ready(&self) -> bool {
            match self {
                Pollable::Host(p) => p.ready(),
                Pollable::Ready => true,
            }
        }
        fn block(&self) {
            if let Pollable::Host(p) = self {
                p.block();
            }
        }
    }

    impl poll::Guest for Component {
        type Pollable = Pollable;
        fn poll(list: Vec<poll::PollableBorrow<'_>>) -> Vec<u32> {
            // WASI: an empty list traps.
            assert!(!list.is_empty(), "poll: empty list");
            let all: Vec<&Pollable> = list.iter().map(|p| p.get::<Pollable>()).collect();
            let always: Vec<bool> = all.iter().map(|p| matches!(p, Pollable::Ready)).collect();
            let ready = ready_without_host(&always);
            if !ready.is_empty() {
                return ready;
            }
            // Every pollable is the host's: the host's indices are ours.
            let host: Vec<&host_poll::Pollable> = all
                .iter()
                .filter_map(|p| match p {
                    Pollable::Host(h) => Some(h),
                    Pollable::Ready => None,
                })
                .collect();
            host_poll::poll(&host)
        }
    }

    fn ready() -> streams::Pollable {
        poll::Pollable::new(Pollable::Ready)
    }

    fn host_err(e: host::StreamError) -> StreamError {
        match e {
            host::StreamError::Closed => StreamError::Closed,
            host::StreamError::LastOperationFailed(e) => {
                StreamError::LastOperationFailed(error::Error::new(Error(e)))
            }
        }
    }

    /// An input stream: the host's stdin, fixed bytes, or closed.
    pub enum In {
        Host(host::InputStream),
        Fixed(Vec<u8>),
        Closed,
    }

    impl In {
        fn take(&self, len: u64, blocking: bool) -> Result<Vec<u8>, StreamError> {
            match self {
                In::Host(s) if blocking => s.blocking_read(len).map_err(host_err),
                In::Host(s) => s.read(len).map_err(host_err),
                In::Fixed(bytes) => {
                    let pos = FIXED_POS.load(Ordering::Relaxed);
                    let range = next_chunk(bytes.len(), pos, len).ok_or(StreamError::Closed)?;
                    FIXED_POS.store(range.end, Ordering::Relaxed);
                    Ok(bytes[range].to_vec())
                }
                In::Closed => Err(StreamError::Closed),
            }
        }
    }

    impl streams::GuestInputStream for In {
        fn read(&self, len: u64) -> Result<Vec<u8>, StreamError> {
            self.take(len, false)
        }
        fn blocking_read(&self, len: u64) -> Result<Vec<u8>, StreamError> {
            self.take(len, true)
        }
        fn skip(&self, len: u64) -> Result<u64, StreamError> {
            match self {
                In::Host(s) => s.skip(len).map_err(host_err),
                _ => self.take(len, false).map(|b| b.len() as u64),
            }
        }
        fn blocking_skip(&self, len: u64) -> Result<u64, StreamError> {
            match self {
                In::Host(s) => s.blocking_skip(len).map_err(host_err),
                _ => self.take(len, true).map(|b| b.len() as u64),
            }
        }
        fn subscribe(&self) -> streams::Pollable {
            match self {
                In::Host(s) => poll::Pollable::new(Pollable::Host(s.subscribe())),
                _ => ready(),
            }
        }
    }

    /// An output stream: the host's, a sink, or closed.
    pub enum Out {
        Host(host::OutputStream),
        Discard,
        Closed,
    }

    impl Out {
        fn open(mode: StreamMode, host: impl FnOnce() -> host::OutputStream) -> Out {
            match mode {
                StreamMode::Allow => Out::Host(host()),
                StreamMode::Discard => Out::Discard,
                StreamMode::Deny => Out::Closed,
            }
        }

        /// Accepts what a sink accepts: anything; a closed stream nothing.
        fn sink(&self) -> Result<(), StreamError> {
            match self {
                Out::Closed => Err(StreamError::Closed),
                _ => Ok(()),
            }
        }
    }

    impl streams::GuestOutputStream for Out {
        fn check_write(&self) -> Result<u64, StreamError> {
            match self {
                Out::Host(s) => s.check_write().map_err(host_err),
                _ => self.sink().map(|()| DISCARD_PERMIT),
            }
        }
        fn write(&self, contents: Vec<u8>) -> Result<(), StreamError> {
            match self {
                Out::Host(s) => s.write(&contents).map_err(host_err),
                _ => self.sink(),
            }
        }
        fn blocking_write_and_flush(&self, contents: Vec<u8>) -> Result<(), StreamError> {
            match self {
                Out::Host(s) => s.blocking_write_and_flush(&contents).map_err(host_err),
                _ => self.sink(),
            }
        }
        fn flush(&self) -> Result<(), StreamError> {
            match self {
                Out::Host(s) => s.flush().map_err(host_err),
                _ => self.sink(),
            }
        }
        fn blocking_flush(&self) -> Result<(), StreamError> {
            match self {
                Out::Host(s) => s.blocking_flush().map_err(host_err),
                _ => self.sink(),
            }
        }
        fn subscribe(&self) -> streams::Pollable {
            match self {
                Out::Host(s) => poll::Pollable::new(Pollable::Host(s.subscribe())),
                _ => ready(),
            }
        }
        fn write_zeroes(&self, len: u64) -> Result<(), StreamError> {
            match self {
                Out::Host(s) => s.write_zeroes(len).map_err(host_err),
                _ => self.sink(),
            }
        }
        fn blocking_write_zeroes_and_flush(&self, len: u64) -> Result<(), StreamError> {
            match self {
                Out::Host(s) => s.blocking_write_zeroes_and_flush(len).map_err(host_err),
                _ => self.sink(),
            }
        }
        fn splice(&self, src: InputStreamBorrow<'_>, len: u64) -> Result<u64, StreamError> {
            self.splice_from(src.get::<In>(), len, false)
        }
        fn blocking_splice(
            &self,
            src: InputStreamBorrow<'_>,
            len: u64,
        ) -> Result<u64, StreamError> {
            self.splice_from(src.get::<In>(), len, true)
        }
    }

    impl Out {
        /// Reads from `src` and writes here: the host's own splice when both
        /// are the host's, else a read then a write of what was read.
        fn splice_from(&self, src: &In, len: u64, blocking: bool) -> Result<u64, StreamError> {
            if let (Out::Host(out), In::Host(input)) = (self, src) {
                let done = if blocking {
                    out.blocking_splice(input, len)
                } else {
                    out.splice(input, len)
                };
                return done.map_err(host_err);
            }
            self.sink()?;
            let permit = match self {
                Out::Host(s) if !blocking => s.check_write().map_err(host_err)?,
                // A blocking write of at most 4096 bytes (the WASI limit).
                Out::Host(_) => 4096,
                _ => DISCARD_PERMIT,
            };
            let bytes = src.take(len.min(permit), blocking)?;
            let n = bytes.len() as u64;
            match self {
                Out::Host(s) if blocking => s.blocking_write_and_flush(&bytes).map_err(host_err)?,
                Out::Host(s) => s.write(&bytes).map_err(host_err)?,
                _ => {}
            }
            Ok(n)
        }
    }

    impl streams::Guest for Component {
        type InputStream = In;
        type OutputStream = Out;
    }

    impl stdout::Guest for Component {
        fn get_stdout() -> OutputStream {
            OutputStream::new(Out::open(settings().stdout, host_cli::stdout::get_stdout))
        }
    }

    impl stderr::Guest for Component {
        fn get_stderr() -> OutputStream {
            OutputStream::new(Out::open(settings().stderr, host_cli::stderr::get_stderr))
        }
    }

    impl stdin::Guest for Component {
        fn get_stdin() -> InputStream {
            InputStream::new(match settings().stdin {
                StdinMode::Allow => In::Host(host_cli::stdin::get_stdin()),
                StdinMode::Fixed(text) => In::Fixed(text.into_bytes()),
                StdinMode::Deny => In::Closed,
            })
        }
    }

    /// The host's clock with its pollables wrapped, when allowed; else denied
    /// as the composer's denial stub would: zero, and pollables that are
    /// always ready (a sleep returns at once).
    impl monotonic_clock::Guest for Component {
        fn now() -> u64 {
            if settings().monotonic {
                host_clock::now()
            } else {
                0
            }
        }
        fn resolution() -> u64 {
            if settings().monotonic {
                host_clock::resolution()
            } else {
                0
            }
        }
        fn subscribe_instant(when: u64) -> monotonic_clock::Pollable {
            if !settings().monotonic {
                return ready();
            }
            poll::Pollable::new(Pollable::Host(host_clock::subscribe_instant(when)))
        }
        fn subscribe_duration(when: u64) -> monotonic_clock::Pollable {
            if !settings().monotonic {
                return ready();
            }
            poll::Pollable::new(Pollable::Host(host_clock::subscribe_duration(when)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_bytes_then_end_of_stream() {
        assert_eq!(next_chunk(5, 0, 3), Some(0..3));
        assert_eq!(next_chunk(5, 3, 64), Some(3..5));
        assert_eq!(next_chunk(5, 5, 64), None);
        assert_eq!(next_chunk(5, 2, 0), Some(2..2));
        assert_eq!(next_chunk(0, 0, 1), None);
        assert_eq!(next_chunk(5, 0, u64::MAX), Some(0..5));
    }

    #[test]
    fn always_ready_pollables_answer_without_the_host() {
        assert_eq!(ready_without_host(&[false, true, false, true]), [1, 3]);
        assert!(ready_without_host(&[false, false]).is_empty());
    }
}
