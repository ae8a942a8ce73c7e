//! `airlock:async-probe/probe`: calls each function of
//! `airlock:async-probe/vault` (async functions, streams and futures, as
//! results and as parameters) and each WASI 0.3 entry point that can yield
//! authority, and says what came back, in a few words (deterministic: counts
//! and error names). The async suite (`tests/tests/async_denials.rs`) runs it
//! composed with everything denied (every call gets its graceful denial;
//! `count`, `get-random-u64` and `exit` trap with their names) and composed
//! with `tests/probes/async-vault` (every vault call gets the real answer).
//!
//! `call` is a sync export, like a WASI 0.2 app: it lowers the async imports
//! async and runs them with `block_on`, which must not have to wait (a sync
//! export may not block). `call-async` is an async export and may wait.
//!
//! `no_std` on wasm (see `guest-rt`), so the imports are exactly the world's.

#![cfg_attr(target_family = "wasm", no_std)]

extern crate alloc;

use guest_rt as _;

/// The calls of `vault`, one per function, in WIT order.
pub const VAULT: &[&str] = &[
    "get", "count", "read", "fetch", "write", "keys", "size", "stats",
];

/// The WASI 0.3 entry points, `interface#function`; the last two trap when
/// denied (`exit` ends the run in any case, `get-random-u64` cannot say
/// "denied").
pub const WASI: &[&str] = &[
    "wasi:cli/environment#get-environment",
    "wasi:cli/environment#get-arguments",
    "wasi:cli/environment#get-initial-cwd",
    "wasi:cli/stdin#read-via-stream",
    "wasi:cli/stdout#write-via-stream",
    "wasi:cli/stderr#write-via-stream",
    "wasi:cli/terminal-stdin#get-terminal-stdin",
    "wasi:clocks/system-clock#now",
    "wasi:clocks/monotonic-clock#now",
    "wasi:clocks/monotonic-clock#wait-for",
    "wasi:random/random#get-random-bytes",
    "wasi:random/insecure#get-insecure-random-bytes",
    "wasi:random/insecure-seed#get-insecure-seed",
    "wasi:filesystem/preopens#get-directories",
    "wasi:sockets/types#[static]tcp-socket.create",
    "wasi:sockets/types#[static]udp-socket.create",
    "wasi:sockets/ip-name-lookup#resolve-addresses",
    "wasi:http/client#send",
    "wasi:random/random#get-random-u64",
    "wasi:cli/exit#exit",
];

#[cfg(target_family = "wasm")]
mod calls {
    use crate::bindings::airlock::async_probe::vault;
    use crate::bindings::wasi;
    use crate::bindings::{wit_future, wit_stream};
    use alloc::format;
    use alloc::string::String;
    use alloc::vec;
    use guest_rt::kebab;

    fn answer<T: core::fmt::Debug, E: core::fmt::Debug>(r: Result<T, E>) -> String {
        match r {
            Ok(v) => format!("ok({v:?})"),
            Err(e) => format!("err({})", kebab(&format!("{e:?}"))),
        }
    }

    /// `ok(..)` without the value (a handle, a socket), or the error's name.
    fn status<T, E: core::fmt::Debug>(r: Result<T, E>) -> String {
        answer(r.map(|_| ()))
    }

    /// Runs one call by its name; unknown names are reported, not trapped on.
    pub async fn run(name: &str) -> String {
        match name {
            "get" => answer(vault::get(String::from("motd")).await),
            "count" => format!("{}", vault::count().await),
            "read" => {
                let (data, done) = vault::read("motd");
                let bytes = data.collect().await;
                let done = done.await;
                format!("stream of {} bytes, then {}", bytes.len(), answer(done))
            }
            "fetch" => {
                let value = vault::fetch(String::from("motd")).await;
                format!("future of {}", answer(value.await))
            }
            "write" => {
                let (mut tx, rx) = wit_stream::new::<u8>();
                let done = vault::write("motd", rx);
                let done = done.await;
                let left = tx.write_all(vec![1, 2, 3]).await;
                format!("{} of 3 bytes taken, then {}", 3 - left.len(), answer(done))
            }
            "keys" => match vault::keys().await {
                Ok(keys) => format!("ok({} keys)", keys.collect().await.len()),
                Err(e) => status::<(), _>(Err(e)),
            },
            "size" => answer(vault::size(String::from("motd")).await),
            "stats" => {
                let stats = vault::stats().await;
                answer(stats.map(|s| s.0 + s.15))
            }
            other => wasi_call(other).await,
        }
    }

    /// One WASI 0.3 entry point by its name (see [`crate::WASI`]).
    async fn wasi_call(name: &str) -> String {
        use wasi::cli::{environment, stderr, stdin, stdout, terminal_stdin};
        use wasi::clocks::{monotonic_clock, system_clock};
        use wasi::random::{insecure, insecure_seed, random};
        use wasi::sockets::types::{IpAddressFamily, TcpSocket, UdpSocket};
        match name {
            "wasi:cli/environment#get-environment" => {
                format!("{} variables", environment::get_environment().len())
            }
            "wasi:cli/environment#get-arguments" => {
                format!("{} arguments", environment::get_arguments().len())
            }
            "wasi:cli/environment#get-initial-cwd" => match environment::get_initial_cwd() {
                Some(_) => String::from("some"),
                None => String::from("none"),
            },
            "wasi:cli/stdin#read-via-stream" => {
                let (data, done) = stdin::read_via_stream();
                let bytes = data.collect().await;
                format!(
                    "stream of {} bytes, then {}",
                    bytes.len(),
                    answer(done.await)
                )
            }
            "wasi:cli/stdout#write-via-stream" | "wasi:cli/stderr#write-via-stream" => {
                let (mut tx, rx) = wit_stream::new::<u8>();
                let done = match name {
                    "wasi:cli/stdout#write-via-stream" => stdout::write_via_stream(rx),
                    _ => stderr::write_via_stream(rx),
                };
                // Write, end the stream, then wait for the answer: a host
                // resolves the future once the stream ended; a denial has
                // dropped the readable end, so the write returns at once.
                let left = tx.write_all(b"hello".to_vec()).await;
                drop(tx);
                let done = done.await;
                format!("{} of 5 bytes taken, then {}", 5 - left.len(), answer(done))
            }
            "wasi:cli/terminal-stdin#get-terminal-stdin" => {
                match terminal_stdin::get_terminal_stdin() {
                    Some(_) => String::from("some"),
                    None => String::from("none"),
                }
            }
            "wasi:clocks/system-clock#now" => {
                let now = system_clock::now();
                format!("{} s since the epoch", now.seconds)
            }
            "wasi:clocks/monotonic-clock#now" => format!("{}", monotonic_clock::now()),
            "wasi:clocks/monotonic-clock#wait-for" => {
                monotonic_clock::wait_for(1).await;
                String::from("returned")
            }
            "wasi:random/random#get-random-bytes" => {
                format!("{} bytes", random::get_random_bytes(16).len())
            }
            "wasi:random/insecure#get-insecure-random-bytes" => {
                format!("{} bytes", insecure::get_insecure_random_bytes(16).len())
            }
            "wasi:random/insecure-seed#get-insecure-seed" => {
                let (a, b) = insecure_seed::get_insecure_seed();
                format!("{}", u8::from(a != 0 || b != 0))
            }
            "wasi:filesystem/preopens#get-directories" => {
                let dirs = wasi::filesystem::preopens::get_directories();
                format!("{} directories", dirs.len())
            }
            "wasi:sockets/types#[static]tcp-socket.create" => {
                status(TcpSocket::create(IpAddressFamily::Ipv4))
            }
            "wasi:sockets/types#[static]udp-socket.create" => {
                status(UdpSocket::create(IpAddressFamily::Ipv4))
            }
            "wasi:sockets/ip-name-lookup#resolve-addresses" => {
                let found =
                    wasi::sockets::ip_name_lookup::resolve_addresses(String::from("localhost"))
                        .await;
                answer(found.map(|a| a.len()))
            }
            "wasi:http/client#send" => {
                use wasi::http::types::{ErrorCode, Fields, Request, Trailers};
                // The trailers' writer lives until the request is made: if
                // the callee dropped the readable end by then, writing the
                // (default) value finishes at once, and a sync export need
                // not wait for it.
                let (writer, trailers) =
                    wit_future::new::<Result<Option<Trailers>, ErrorCode>>(|| Ok(None));
                let (request, sent) = Request::new(Fields::new(), None, trailers, None);
                drop(writer);
                let response = wasi::http::client::send(request).await;
                format!("{}, then {}", status(response), answer(sent.await))
            }
            "wasi:random/random#get-random-u64" => format!("{}", random::get_random_u64()),
            "wasi:cli/exit#exit" => {
                wasi::cli::exit::exit(Ok(()));
                String::from("exit returned")
            }
            other => format!("unknown call `{other}`"),
        }
    }
}

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
        world: "airlock:async-probe/async-probe",
        generate_all,
    });

    use alloc::string::String;
    use alloc::vec::Vec;
    use exports::airlock::async_probe::probe::Guest;

    #[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
    struct Component;

    impl Guest for Component {
        fn names() -> Vec<String> {
            let names = super::VAULT.iter().chain(super::WASI);
            names.map(|n| String::from(*n)).collect()
        }

        #[cfg(target_family = "wasm")]
        fn call(name: String) -> String {
            wit_bindgen::block_on(super::calls::run(&name))
        }

        #[cfg(target_family = "wasm")]
        async fn call_async(name: String) -> String {
            super::calls::run(&name).await
        }

        #[cfg(not(target_family = "wasm"))]
        fn call(name: String) -> String {
            name
        }

        #[cfg(not(target_family = "wasm"))]
        async fn call_async(name: String) -> String {
            name
        }
    }

    #[cfg(target_family = "wasm")]
    export!(Component);
}
