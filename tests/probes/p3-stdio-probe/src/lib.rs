//! `airlock:p3-stdio-probe/probe`: a WASI 0.3 library that writes to
//! `wasi:cli/stdout@0.3.0` and `stderr@0.3.0` and reads `stdin@0.3.0`, and
//! says what happened (how many bytes the stream took, what its future
//! said; the bytes read). The stdio slice's 0.3 tests
//! (`tests/tests/slice_stdio_p3.rs`) compose it with `stdout`, `stderr` and
//! `stdin` set, and compare what it says with what the host received.
//!
//! `no_std` on wasm (see `guest-rt`), so the imports are exactly the world's.

#![cfg_attr(target_family = "wasm", no_std)]

extern crate alloc;

use guest_rt as _;

mod bindings {
    wit_bindgen::generate!({
        path: [
            "../../../wit/deps-0.3/clocks",
            "../../../wit/deps-0.3/filesystem",
            "../../../wit/deps-0.3/sockets",
            "../../../wit/deps-0.3/random",
            "../../../wit/deps-0.3/cli",
            "../../../wit/p3-stdio-probe",
        ],
        world: "airlock:p3-stdio-probe/p3-stdio-probe",
        generate_all,
    });

    use alloc::format;
    use alloc::string::String;
    #[cfg(target_family = "wasm")]
    use guest_rt::kebab;

    #[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
    struct Probe;

    /// `ok`, or the error's name in kebab case.
    #[cfg(target_family = "wasm")]
    fn answer<E: core::fmt::Debug>(r: Result<(), E>) -> String {
        match r {
            Ok(()) => String::from("ok"),
            Err(e) => format!("err({})", kebab(&format!("{e:?}"))),
        }
    }

    /// Writes `text` to stdout (`err` false) or stderr, ends the stream,
    /// then waits for the answer.
    #[cfg(target_family = "wasm")]
    async fn write(err: bool, text: String) -> String {
        use crate::bindings::wasi::cli::{stderr, stdout};
        let bytes = text.into_bytes();
        let len = bytes.len();
        let (mut tx, rx) = wit_stream::new::<u8>();
        let done = if err {
            stderr::write_via_stream(rx)
        } else {
            stdout::write_via_stream(rx)
        };
        // A closed stream drops its readable end: the rest comes back.
        let left = tx.write_all(bytes).await;
        drop(tx);
        let done = done.await;
        format!(
            "{} of {len} bytes taken, then {}",
            len - left.len(),
            answer(done)
        )
    }

    impl exports::airlock::p3_stdio_probe::probe::Guest for Probe {
        #[cfg(target_family = "wasm")]
        async fn write_out(text: String) -> String {
            write(false, text).await
        }

        #[cfg(target_family = "wasm")]
        async fn write_err(text: String) -> String {
            write(true, text).await
        }

        #[cfg(target_family = "wasm")]
        async fn read_in() -> String {
            use crate::bindings::wasi::cli::stdin;
            let (data, done) = stdin::read_via_stream();
            let bytes = data.collect().await;
            let done = done.await;
            format!(
                "{:?}, then {}",
                String::from_utf8_lossy(&bytes),
                answer(done)
            )
        }

        #[cfg(not(target_family = "wasm"))]
        async fn write_out(text: String) -> String {
            text
        }

        #[cfg(not(target_family = "wasm"))]
        async fn write_err(text: String) -> String {
            text
        }

        #[cfg(not(target_family = "wasm"))]
        async fn read_in() -> String {
            format!("{:?}", "")
        }
    }

    #[cfg(target_family = "wasm")]
    export!(Probe);
}
