//! A real `airlock:async-probe/vault`, the control of the async suite
//! (`tests/tests/async_denials.rs`): every function answers with a value the
//! probe can tell from a denial.
//!
//! Sync functions cannot fill a stream (a sync task may not wait for the
//! reader), so `read` returns an ended stream too; its future says `ok`.
//! Nor can they let wit-bindgen resolve a future (it writes when the writer
//! is dropped, and waits for the reader at the end of the task), so they
//! start the write themselves and leave it pending, as the denial stubs do.
//!
//! `no_std` on wasm (see `guest-rt`), so the imports are exactly the world's.

#![cfg_attr(target_family = "wasm", no_std)]

extern crate alloc;

use guest_rt as _;

mod bindings {
    wit_bindgen::generate!({
        path: [
            "../../../wit/deps-0.3/clocks",
            "../../../wit/deps-0.3/random",
            "../../../wit/deps-0.3/filesystem",
            "../../../wit/deps-0.3/sockets",
            "../../../wit/deps-0.3/cli",
            "../../../wit/deps-0.3/http",
            "../../../wit/async-probe",
        ],
        world: "airlock:async-probe/async-vault",
        generate_all,
    });

    use alloc::format;
    use alloc::string::String;
    use exports::airlock::async_probe::vault::{Error, Guest};
    use wit_bindgen::FutureReader;

    /// A future resolved with `value`, from a sync function: `future.new`,
    /// then an async `future.write` that stays pending until the reader
    /// reads. The lowered value is leaked, as it must outlive the call.
    #[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
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

    #[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
    struct Component;

    impl Guest for Component {
        async fn get(key: String) -> Result<String, Error> {
            Ok(format!("value of {key}"))
        }

        async fn count() -> u32 {
            42
        }

        fn read(
            _key: String,
        ) -> (
            wit_bindgen::StreamReader<u8>,
            FutureReader<Result<(), Error>>,
        ) {
            let (_, data) = wit_stream::new::<u8>();
            (data, resolved(Ok(())))
        }

        async fn fetch(key: String) -> FutureReader<Result<String, Error>> {
            let _ = key;
            let (_, value) =
                wit_future::new::<Result<String, Error>>(|| Ok(String::from("fetched")));
            value
        }

        fn write(
            _key: String,
            data: wit_bindgen::StreamReader<u8>,
        ) -> FutureReader<Result<(), Error>> {
            drop(data);
            resolved(Ok(()))
        }

        async fn keys() -> Result<wit_bindgen::StreamReader<String>, Error> {
            let (_, keys) = wit_stream::new::<String>();
            Ok(keys)
        }

        async fn size(key: String) -> Result<u64, Error> {
            Ok(key.len() as u64)
        }

        #[allow(clippy::type_complexity)]
        async fn stats() -> Result<
            (
                u64,
                u64,
                u64,
                u64,
                u64,
                u64,
                u64,
                u64,
                u64,
                u64,
                u64,
                u64,
                u64,
                u64,
                u64,
                u64,
            ),
            Error,
        > {
            Ok((1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16))
        }
    }

    #[cfg(target_family = "wasm")]
    export!(Component);
}
