//! `airlock:escape/probe`: tries every entry point of WASI 0.2 that can yield
//! authority (environment, stdio, terminals, clocks, random, files, sockets,
//! name lookup, outgoing HTTP, exit) and reports, per entry point, whether it
//! reached something real. The escape suite (`tests/tests/escape.rs`) runs it
//! composed deny-all (nothing may reach the host) and allow-all (everything does).
//!
//! Each probe handles every answer a denied interface can give (its error case,
//! an empty list, `none`, an inert handle, zero) without panicking, and waits on
//! a pollable only after the operation it belongs to was accepted. Details are
//! deterministic: counts and error names, never times or random values.
//!
//! `no_std` on wasm (see `guest-rt`), so the imports are exactly the world's.

#![cfg_attr(target_family = "wasm", no_std)]

extern crate alloc;

use alloc::string::String;
use guest_rt as _;

/// The probes, in order; the last two trap when denied.
pub const NAMES: &[&str] = &[
    "wasi:cli/environment#get-environment",
    "wasi:cli/environment#get-arguments",
    "wasi:cli/environment#initial-cwd",
    "wasi:cli/stdin#get-stdin",
    "wasi:cli/stdout#get-stdout",
    "wasi:cli/stderr#get-stderr",
    "wasi:cli/terminal-stdin#get-terminal-stdin",
    "wasi:cli/terminal-stdout#get-terminal-stdout",
    "wasi:cli/terminal-stderr#get-terminal-stderr",
    "wasi:clocks/wall-clock#now",
    "wasi:clocks/monotonic-clock#now",
    "wasi:random/random#get-random-bytes",
    "wasi:random/insecure#get-insecure-random-bytes",
    "wasi:random/insecure#get-insecure-random-u64",
    "wasi:random/insecure-seed#insecure-seed",
    "wasi:filesystem/preopens#get-directories",
    "wasi:sockets/instance-network#instance-network",
    "wasi:sockets/tcp-create-socket#create-tcp-socket",
    "wasi:sockets/udp-create-socket#create-udp-socket",
    "wasi:sockets/ip-name-lookup#resolve-addresses",
    "wasi:http/outgoing-handler#handle",
    "wasi:random/random#get-random-u64",
    "wasi:cli/exit#exit",
];

/// How many of [`NAMES`] `try-all` runs (all but the two that trap when denied).
pub const NON_TRAPPING: usize = NAMES.len() - 2;

/// One attempt, mirroring the WIT `outcome` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub function: String,
    pub reached: bool,
    pub detail: String,
}

#[cfg(target_family = "wasm")]
mod probes {
    use super::Outcome;
    use crate::bindings::wasi;
    use alloc::borrow::ToOwned;
    use alloc::format;
    use alloc::string::String;
    use guest_rt::kebab;

    fn outcome(function: &str, reached: bool, detail: String) -> Outcome {
        Outcome {
            function: function.to_owned(),
            reached,
            detail,
        }
    }

    /// Runs the probe `name`; unknown names are reported, not trapped on.
    pub fn run(name: &str) -> Outcome {
        let (reached, detail) = match name {
            "wasi:cli/environment#get-environment" => {
                let vars = wasi::cli::environment::get_environment();
                (!vars.is_empty(), format!("{} variables", vars.len()))
            }
            "wasi:cli/environment#get-arguments" => {
                let args = wasi::cli::environment::get_arguments();
                (!args.is_empty(), format!("{} arguments", args.len()))
            }
            "wasi:cli/environment#initial-cwd" => match wasi::cli::environment::initial_cwd() {
                Some(cwd) => (true, format!("some ({} bytes)", cwd.len())),
                None => (false, "none".to_owned()),
            },
            "wasi:cli/stdin#get-stdin" => {
                let stdin = wasi::cli::stdin::get_stdin();
                match stdin.blocking_read(64) {
                    Ok(bytes) => (!bytes.is_empty(), format!("read {} bytes", bytes.len())),
                    Err(e) => (false, format!("read: {}", kebab(&format!("{e:?}")))),
                }
            }
            "wasi:cli/stdout#get-stdout" => {
                let out = wasi::cli::stdout::get_stdout();
                write(&out, b"escape: stdout\n")
            }
            "wasi:cli/stderr#get-stderr" => {
                let out = wasi::cli::stderr::get_stderr();
                write(&out, b"escape: stderr\n")
            }
            "wasi:cli/terminal-stdin#get-terminal-stdin" => {
                terminal(wasi::cli::terminal_stdin::get_terminal_stdin().is_some())
            }
            "wasi:cli/terminal-stdout#get-terminal-stdout" => {
                terminal(wasi::cli::terminal_stdout::get_terminal_stdout().is_some())
            }
            "wasi:cli/terminal-stderr#get-terminal-stderr" => {
                terminal(wasi::cli::terminal_stderr::get_terminal_stderr().is_some())
            }
            "wasi:clocks/wall-clock#now" => {
                let now = wasi::clocks::wall_clock::now();
                let real = now.seconds != 0;
                (real, if real { "a real time" } else { "zero" }.to_owned())
            }
            "wasi:clocks/monotonic-clock#now" => {
                let real = wasi::clocks::monotonic_clock::now() != 0
                    || wasi::clocks::monotonic_clock::resolution() != 0;
                (real, if real { "ticking" } else { "zero" }.to_owned())
            }
            "wasi:random/random#get-random-bytes" => {
                let bytes = wasi::random::random::get_random_bytes(16);
                (bytes.len() == 16, format!("{} of 16 bytes", bytes.len()))
            }
            "wasi:random/insecure#get-insecure-random-bytes" => {
                let bytes = wasi::random::insecure::get_insecure_random_bytes(16);
                (bytes.len() == 16, format!("{} of 16 bytes", bytes.len()))
            }
            "wasi:random/insecure#get-insecure-random-u64" => {
                // Two draws: a real source differs at least once in 2^-64.
                let (a, b) = (
                    wasi::random::insecure::get_insecure_random_u64(),
                    wasi::random::insecure::get_insecure_random_u64(),
                );
                let real = a != b;
                (real, if real { "varies" } else { "constant" }.to_owned())
            }
            "wasi:random/insecure-seed#insecure-seed" => {
                let real = wasi::random::insecure_seed::insecure_seed() != (0, 0);
                (real, if real { "non-zero" } else { "zero" }.to_owned())
            }
            "wasi:filesystem/preopens#get-directories" => files(),
            "wasi:sockets/instance-network#instance-network" => {
                // A handle by itself grants nothing; sockets need a create call too.
                drop(wasi::sockets::instance_network::instance_network());
                (
                    false,
                    "a network handle (no authority by itself)".to_owned(),
                )
            }
            "wasi:sockets/tcp-create-socket#create-tcp-socket" => tcp(),
            "wasi:sockets/udp-create-socket#create-udp-socket" => udp(),
            "wasi:sockets/ip-name-lookup#resolve-addresses" => lookup(),
            "wasi:http/outgoing-handler#handle" => http(),
            "wasi:random/random#get-random-u64" => {
                let _ = wasi::random::random::get_random_u64();
                (true, "a value".to_owned())
            }
            "wasi:cli/exit#exit" => {
                wasi::cli::exit::exit(Ok(()));
                (false, "exit returned".to_owned())
            }
            other => (false, format!("unknown probe `{other}`")),
        };
        outcome(name, reached, detail)
    }

    fn terminal(some: bool) -> (bool, String) {
        (some, if some { "some" } else { "none" }.to_owned())
    }

    fn write(out: &wasi::io::streams::OutputStream, bytes: &[u8]) -> (bool, String) {
        match out.blocking_write_and_flush(bytes) {
            Ok(()) => (true, format!("wrote {} bytes", bytes.len())),
            Err(e) => (false, format!("write: {}", kebab(&format!("{e:?}")))),
        }
    }

    /// Lists the preopens; in the first one, creates, writes, stats and reads back a file.
    fn files() -> (bool, String) {
        use wasi::filesystem::types::{DescriptorFlags, OpenFlags, PathFlags};

        let dirs = wasi::filesystem::preopens::get_directories();
        let Some((dir, _path)) = dirs.first() else {
            return (false, "no preopened directories".to_owned());
        };
        let steps = (|| -> Result<String, String> {
            let file = dir
                .open_at(
                    PathFlags::empty(),
                    "escape.txt",
                    OpenFlags::CREATE | OpenFlags::TRUNCATE,
                    DescriptorFlags::READ | DescriptorFlags::WRITE,
                )
                .map_err(|e| format!("open-at: {}", e.name()))?;
            let written = file
                .write(b"escaped", 0)
                .map_err(|e| format!("write: {}", e.name()))?;
            let stat = file.stat().map_err(|e| format!("stat: {}", e.name()))?;
            let (bytes, _end) = file
                .read(64, 0)
                .map_err(|e| format!("read: {}", e.name()))?;
            Ok(format!(
                "wrote {written}, size {}, read {} bytes",
                stat.size,
                bytes.len()
            ))
        })();
        let detail = match steps {
            Ok(s) | Err(s) => s,
        };
        (true, format!("{} preopened; {detail}", dirs.len()))
    }

    fn tcp() -> (bool, String) {
        use wasi::sockets::network::{
            ErrorCode, IpAddressFamily, IpSocketAddress, Ipv4SocketAddress,
        };

        let socket =
            match wasi::sockets::tcp_create_socket::create_tcp_socket(IpAddressFamily::Ipv4) {
                Ok(s) => s,
                Err(e) => return (false, format!("create: {}", e.name())),
            };
        let network = wasi::sockets::instance_network::instance_network();
        let local = IpSocketAddress::Ipv4(Ipv4SocketAddress {
            port: 0,
            address: (127, 0, 0, 1),
        });
        let bind = match socket.start_bind(&network, local) {
            Ok(()) => match socket.finish_bind() {
                Ok(()) => "bound".to_owned(),
                Err(e) => format!("finish-bind: {}", e.name()),
            },
            Err(e) => format!("start-bind: {}", e.name()),
        };
        // Connect a second socket to the discard port; only wait once accepted.
        let connect =
            match wasi::sockets::tcp_create_socket::create_tcp_socket(IpAddressFamily::Ipv4) {
                Err(e) => format!("create: {}", e.name()),
                Ok(s) => {
                    let remote = IpSocketAddress::Ipv4(Ipv4SocketAddress {
                        port: 9,
                        address: (127, 0, 0, 1),
                    });
                    match s.start_connect(&network, remote) {
                        Err(e) => format!("start-connect: {}", e.name()),
                        Ok(()) => {
                            let mut result = "connect pending".to_owned();
                            for _ in 0..3 {
                                match s.finish_connect() {
                                    Ok(_streams) => {
                                        result = "connected".to_owned();
                                        break;
                                    }
                                    Err(ErrorCode::WouldBlock) => s.subscribe().block(),
                                    Err(e) => {
                                        result = format!("connect attempted ({})", e.name());
                                        break;
                                    }
                                }
                            }
                            result
                        }
                    }
                }
            };
        (true, format!("socket created; {bind}; {connect}"))
    }

    fn udp() -> (bool, String) {
        use wasi::sockets::network::{IpAddressFamily, IpSocketAddress, Ipv4SocketAddress};

        let socket =
            match wasi::sockets::udp_create_socket::create_udp_socket(IpAddressFamily::Ipv4) {
                Ok(s) => s,
                Err(e) => return (false, format!("create: {}", e.name())),
            };
        let network = wasi::sockets::instance_network::instance_network();
        let local = IpSocketAddress::Ipv4(Ipv4SocketAddress {
            port: 0,
            address: (127, 0, 0, 1),
        });
        let bind = match socket.start_bind(&network, local) {
            Ok(()) => match socket.finish_bind() {
                Ok(()) => "bound".to_owned(),
                Err(e) => format!("finish-bind: {}", e.name()),
            },
            Err(e) => format!("start-bind: {}", e.name()),
        };
        (true, format!("socket created; {bind}"))
    }

    fn lookup() -> (bool, String) {
        use wasi::sockets::network::ErrorCode;

        let network = wasi::sockets::instance_network::instance_network();
        let stream = match wasi::sockets::ip_name_lookup::resolve_addresses(&network, "localhost") {
            Ok(s) => s,
            Err(e) => return (false, format!("resolve-addresses: {}", e.name())),
        };
        let mut count = 0u32;
        let mut end = "end";
        for _ in 0..64 {
            match stream.resolve_next_address() {
                Ok(Some(_)) => count += 1,
                Ok(None) => break,
                Err(ErrorCode::WouldBlock) => stream.subscribe().block(),
                Err(_) => {
                    end = "error";
                    break;
                }
            }
        }
        let _ = count;
        (true, format!("lookup accepted ({end})"))
    }

    fn http() -> (bool, String) {
        use wasi::http::types::{Fields, Method, OutgoingRequest, Scheme};

        let request = OutgoingRequest::new(Fields::new());
        let mut refused = 0;
        refused += usize::from(request.set_method(&Method::Get).is_err());
        refused += usize::from(request.set_scheme(Some(&Scheme::Http)).is_err());
        refused += usize::from(request.set_authority(Some("127.0.0.1:9")).is_err());
        refused += usize::from(request.set_path_with_query(Some("/")).is_err());
        // The attempt is the request leaving: the future is not awaited.
        match wasi::http::outgoing_handler::handle(request, None) {
            Ok(_future) => (
                true,
                format!("request handed over ({refused} setters refused)"),
            ),
            Err(e) => (
                false,
                format!(
                    "handle: {} ({refused} setters refused)",
                    kebab(&format!("{e:?}"))
                ),
            ),
        }
    }
}

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
            "../../../wit/escape",
        ],
        world: "airlock:escape/escape",
        generate_all,
    });

    use exports::airlock::escape::probe::{Guest, Outcome};

    #[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
    struct Component;

    use alloc::borrow::ToOwned;
    use alloc::string::String;
    use alloc::vec::Vec;

    #[cfg(target_family = "wasm")]
    fn convert(o: super::Outcome) -> Outcome {
        Outcome {
            function: o.function,
            reached: o.reached,
            detail: o.detail,
        }
    }

    impl Guest for Component {
        fn names() -> Vec<String> {
            super::NAMES.iter().map(|n| (*n).to_owned()).collect()
        }

        #[cfg(target_family = "wasm")]
        fn probe(name: String) -> Outcome {
            convert(super::probes::run(&name))
        }

        #[cfg(target_family = "wasm")]
        fn try_all() -> Vec<Outcome> {
            super::NAMES[..super::NON_TRAPPING]
                .iter()
                .map(|n| convert(super::probes::run(n)))
                .collect()
        }

        #[cfg(not(target_family = "wasm"))]
        fn probe(name: String) -> Outcome {
            Outcome {
                function: name,
                reached: false,
                detail: "no WASI on this target".to_owned(),
            }
        }

        #[cfg(not(target_family = "wasm"))]
        fn try_all() -> Vec<Outcome> {
            Vec::new()
        }
    }

    #[cfg(target_family = "wasm")]
    export!(Component);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_keyed_like_the_host() {
        let mut sorted: Vec<&str> = NAMES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), NAMES.len());
        assert!(
            NAMES
                .iter()
                .all(|n| n.starts_with("wasi:") && n.contains('#'))
        );
        assert_eq!(NAMES[NON_TRAPPING], "wasi:random/random#get-random-u64");
    }
}
