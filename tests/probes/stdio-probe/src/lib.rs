//! `airlock:stdio-probe/probe`: uses its standard streams as a library would
//! (a blocking write, a non-blocking write that waits on a pollable, reading
//! stdin to its end, a sleep on the monotonic clock) and reports what came
//! back, so the stdio slice's tests can check what the library saw against
//! what the host received.
//!
//! `no_std` on wasm (see `guest-rt`), so the imports are exactly the world's.

#![cfg_attr(target_family = "wasm", no_std)]

extern crate alloc;

use guest_rt as _;

/// The most stdin bytes read, so a stream that never ends cannot hang a test.
pub const MAX_STDIN: usize = 1 << 20;

#[cfg(target_family = "wasm")]
mod bindings {
    wit_bindgen::generate!({
        path: [
            "../../../wit/deps/io",
            "../../../wit/deps/clocks",
            "../../../wit/deps/random",
            "../../../wit/deps/filesystem",
            "../../../wit/deps/sockets",
            "../../../wit/deps/cli",
            "../../../wit/deps/http",
            "../../../wit/stdio-probe",
        ],
        world: "airlock:stdio-probe/stdio-probe",
        generate_all,
    });

    use super::MAX_STDIN;
    use alloc::string::String;
    use alloc::vec::Vec;
    use exports::airlock::stdio_probe::probe::Guest;
    use guest_rt::kebab;
    use wasi::clocks::monotonic_clock;
    use wasi::io::poll;
    use wasi::io::streams::{OutputStream, StreamError};

    struct Component;

    fn word(e: &StreamError) -> String {
        kebab(&alloc::format!("{e:?}"))
    }

    /// The non-blocking protocol: wait for a permit, write, flush, wait.
    fn write_polled(out: &OutputStream, mut bytes: &[u8]) -> Result<(), StreamError> {
        while !bytes.is_empty() {
            let pollable = out.subscribe();
            poll::poll(&[&pollable]);
            let permit = out.check_write()?;
            let n = usize::try_from(permit)
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            out.write(&bytes[..n])?;
            bytes = &bytes[n..];
        }
        out.flush()?;
        out.subscribe().block();
        out.check_write().map(|_| ())
    }

    impl Guest for Component {
        fn write_stdout(text: String) -> Result<(), String> {
            let out = wasi::cli::stdout::get_stdout();
            out.blocking_write_and_flush(text.as_bytes())
                .map_err(|e| word(&e))
        }

        fn write_stderr(text: String) -> Result<(), String> {
            let out = wasi::cli::stderr::get_stderr();
            write_polled(&out, text.as_bytes()).map_err(|e| word(&e))
        }

        fn read_stdin() -> (Vec<u8>, String) {
            let input = wasi::cli::stdin::get_stdin();
            let mut bytes = Vec::new();
            while bytes.len() < MAX_STDIN {
                input.subscribe().block();
                match input.read(4096) {
                    Ok(chunk) => bytes.extend(chunk),
                    Err(e) => return (bytes, word(&e)),
                }
            }
            (bytes, String::from("too long"))
        }

        fn sleep(nanos: u64) -> u64 {
            monotonic_clock::subscribe_duration(nanos).block();
            monotonic_clock::now()
        }
    }

    export!(Component);
}
