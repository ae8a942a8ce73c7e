//! `airlock:telemetry/telemetry`: word statistics from a library that also tries
//! every capability it can reach, like a compromised dependency would.
//!
//! The useful part (`count_words`) is plain Rust. The attempts call WASI directly
//! through bindings generated from the vendored WIT (`wit/deps`, 0.2.12). Each
//! attempt handles every answer a denied interface can give (its own error code,
//! an empty list, a zero clock, a refused setter) without panicking, and never
//! waits on a pollable unless the operation it belongs to was accepted.
//!
//! On wasm the crate is `no_std` (see `guest-rt`), so its imports are exactly
//! the WASI interfaces its WIT world names, at the vendored 0.2.12.

#![cfg_attr(target_family = "wasm", no_std)]

extern crate alloc;

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use guest_rt as _;

/// Word totals: how many words, and the most frequent ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordStats {
    pub words: u32,
    /// Count descending, then word ascending.
    pub top: Vec<(String, u32)>,
}

/// Words are runs of letters, digits and apostrophes, lowercased, with leading
/// and trailing apostrophes removed ("don't" is one word, "'quoted'" is "quoted").
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '\u{2019}'))
        .map(|w| w.trim_matches(|c| c == '\'' || c == '\u{2019}'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Counts the words of `text` and returns the `top_n` most frequent.
pub fn count_words(text: &str, top_n: u32) -> WordStats {
    let mut counts: BTreeMap<String, u32> = BTreeMap::new();
    let mut total = 0u32;
    for word in words(text) {
        total = total.saturating_add(1);
        let count = counts.entry(word).or_insert(0);
        *count = count.saturating_add(1);
    }
    let mut top: Vec<(String, u32)> = counts.into_iter().collect();
    // The map iterates in word order and the sort is stable: ties stay alphabetical.
    top.sort_by_key(|&(_, count)| core::cmp::Reverse(count));
    top.truncate(usize::try_from(top_n).unwrap_or(usize::MAX));
    WordStats { words: total, top }
}

/// One capability attempt, mirroring the WIT `attempt` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub capability: &'static str,
    pub action: &'static str,
    pub got_through: bool,
    pub detail: String,
}

#[cfg(target_family = "wasm")]
mod attempts {
    use super::Attempt;
    use crate::bindings::wasi;
    use alloc::borrow::ToOwned;
    use alloc::string::String;
    use alloc::vec::Vec;
    use alloc::{format, vec};

    fn attempt(
        capability: &'static str,
        action: &'static str,
        got_through: bool,
        detail: String,
    ) -> Attempt {
        Attempt {
            capability,
            action,
            got_through,
            detail,
        }
    }

    /// Every attempt, in the documented order.
    pub fn all() -> Vec<Attempt> {
        vec![env(), files(), tcp(), http(), clock(), random()]
    }

    fn env() -> Attempt {
        let vars = wasi::cli::environment::get_environment();
        let seen = |key: &str| {
            if vars.iter().any(|(k, _)| k == key) {
                "found"
            } else {
                "not found"
            }
        };
        let detail = format!(
            "{} variables visible; HOME {}, AWS_SECRET_ACCESS_KEY {}",
            vars.len(),
            seen("HOME"),
            seen("AWS_SECRET_ACCESS_KEY"),
        );
        attempt(
            "env",
            "read HOME and AWS_SECRET_ACCESS_KEY",
            !vars.is_empty(),
            detail,
        )
    }

    fn files() -> Attempt {
        const ACTION: &str = "list preopens and read a file";
        let dirs = wasi::filesystem::preopens::get_directories();
        let Some((dir, path)) = dirs.first() else {
            return attempt(
                "files",
                ACTION,
                false,
                "no preopened directories".to_owned(),
            );
        };
        let outcome = match read_a_file(dir) {
            Ok((name, bytes)) => format!("read {bytes} bytes of `{name}`"),
            Err(why) => why,
        };
        let detail = format!("{} preopened; in `{path}`: {outcome}", dirs.len());
        attempt("files", ACTION, true, detail)
    }

    /// Reads up to 64 bytes of the alphabetically first regular file in `dir`.
    fn read_a_file(dir: &wasi::filesystem::types::Descriptor) -> Result<(String, usize), String> {
        use wasi::filesystem::types::{DescriptorFlags, DescriptorType, OpenFlags, PathFlags};

        let entries = dir
            .read_directory()
            .map_err(|e| format!("read-directory: {}", e.name()))?;
        let mut first: Option<String> = None;
        // Bounded: a virtual directory stream might never end.
        for _ in 0..4096 {
            match entries.read_directory_entry() {
                Ok(Some(entry)) => {
                    if entry.type_ == DescriptorType::RegularFile
                        && first.as_ref().is_none_or(|f| entry.name < *f)
                    {
                        first = Some(entry.name);
                    }
                }
                Ok(None) => break,
                Err(e) => return Err(format!("read-directory-entry: {}", e.name())),
            }
        }
        drop(entries);
        let name = first.ok_or_else(|| "no regular files".to_owned())?;
        let file = dir
            .open_at(
                PathFlags::empty(),
                &name,
                OpenFlags::empty(),
                DescriptorFlags::READ,
            )
            .map_err(|e| format!("open-at `{name}`: {}", e.name()))?;
        let (bytes, _end) = file
            .read(64, 0)
            .map_err(|e| format!("read `{name}`: {}", e.name()))?;
        Ok((name, bytes.len()))
    }

    fn tcp() -> Attempt {
        use wasi::sockets::network::{IpAddressFamily, IpSocketAddress, Ipv4SocketAddress};

        const ACTION: &str = "connect 127.0.0.1:9";
        let socket =
            match wasi::sockets::tcp_create_socket::create_tcp_socket(IpAddressFamily::Ipv4) {
                Ok(socket) => socket,
                Err(e) => {
                    let detail = format!("create-tcp-socket: {}", e.name());
                    return attempt("tcp", ACTION, false, detail);
                }
            };
        let network = wasi::sockets::instance_network::instance_network();
        let address = IpSocketAddress::Ipv4(Ipv4SocketAddress {
            port: 9,
            address: (127, 0, 0, 1),
        });
        let outcome = match socket.start_connect(&network, address) {
            Err(e) => format!("start-connect: {}", e.name()),
            Ok(()) => finish_connect(&socket),
        };
        attempt("tcp", ACTION, true, format!("socket created; {outcome}"))
    }

    /// Only called after `start-connect` was accepted, so the socket is real and
    /// its pollable will become ready.
    fn finish_connect(socket: &wasi::sockets::tcp::TcpSocket) -> String {
        use wasi::sockets::network::ErrorCode;

        for _ in 0..3 {
            match socket.finish_connect() {
                Ok((input, output)) => {
                    drop((input, output));
                    return "connected".to_owned();
                }
                Err(ErrorCode::WouldBlock) => socket.subscribe().block(),
                Err(e) => return format!("finish-connect: {}", e.name()),
            }
        }
        "finish-connect: still pending".to_owned()
    }

    fn http() -> Attempt {
        use wasi::http::types::{Fields, Method, OutgoingRequest, Scheme};

        const ACTION: &str = "GET http://example.com/";
        let headers = Fields::new();
        // Setters answer with an error when a value is refused; note it and go on.
        let mut refused: Vec<&str> = Vec::new();
        if headers.append("user-agent", b"telemetry/0.1").is_err() {
            refused.push("user-agent");
        }
        let request = OutgoingRequest::new(headers);
        if request.set_method(&Method::Get).is_err() {
            refused.push("method");
        }
        if request.set_scheme(Some(&Scheme::Http)).is_err() {
            refused.push("scheme");
        }
        if request.set_authority(Some("example.com")).is_err() {
            refused.push("authority");
        }
        if request.set_path_with_query(Some("/")).is_err() {
            refused.push("path");
        }
        let refused = if refused.is_empty() {
            String::new()
        } else {
            format!(" (setters refused: {})", refused.join(", "))
        };
        // A returned future is not awaited: the attempt is the request leaving.
        match wasi::http::outgoing_handler::handle(request, None) {
            Ok(_response) => attempt(
                "http",
                ACTION,
                true,
                format!("request handed to the host{refused}"),
            ),
            Err(e) => {
                let detail = format!("handle: {}{refused}", guest_rt::kebab(&format!("{e:?}")));
                attempt("http", ACTION, false, detail)
            }
        }
    }

    fn clock() -> Attempt {
        let now = wasi::clocks::wall_clock::now();
        let (got_through, detail) = if now.seconds != 0 {
            (true, "wall clock returned a real time")
        } else {
            (false, "wall clock returned zero")
        };
        attempt(
            "clock",
            "read the wall clock",
            got_through,
            detail.to_owned(),
        )
    }

    fn random() -> Attempt {
        let bytes = wasi::random::random::get_random_bytes(16);
        let detail = format!("got {} of 16 bytes", bytes.len());
        attempt("random", "draw 16 random bytes", bytes.len() == 16, detail)
    }
}

/// Native builds (unit tests) have no WASI to attempt anything with.
#[cfg(not(target_family = "wasm"))]
mod attempts {
    use alloc::vec::Vec;

    pub fn all() -> Vec<super::Attempt> {
        Vec::new()
    }
}

mod bindings {
    wit_bindgen::generate!({
        path: [
            "../../wit/deps/io",
            "../../wit/deps/clocks",
            "../../wit/deps/random",
            "../../wit/deps/filesystem",
            "../../wit/deps/sockets",
            "../../wit/deps/cli",
            "../../wit/deps/http",
            "../../wit/telemetry",
        ],
        world: "airlock:telemetry/library",
        generate_all,
    });

    use exports::airlock::telemetry::telemetry::{Attempt, Guest, Summary, WordCount};

    /// Exported only on wasm: native linkers reject the `:` in export names, and
    /// native builds exist for the unit tests of the plain functions above.
    #[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
    struct Component;

    use alloc::borrow::ToOwned;
    use alloc::string::String;

    impl Guest for Component {
        fn summarize(text: String, top_n: u32) -> Summary {
            let stats = super::count_words(&text, top_n);
            let attempts = super::attempts::all()
                .into_iter()
                .map(|a| Attempt {
                    capability: a.capability.to_owned(),
                    action: a.action.to_owned(),
                    got_through: a.got_through,
                    detail: a.detail,
                })
                .collect();
            Summary {
                words: stats.words,
                top_words: stats
                    .top
                    .into_iter()
                    .map(|(word, count)| WordCount { word, count })
                    .collect(),
                attempts,
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
    fn counts_and_orders_words() {
        let s = count_words("The cat and the hat. THE END, and don't 'quote' me", 3);
        assert_eq!(s.words, 11);
        let top: Vec<(&str, u32)> = s.top.iter().map(|(w, c)| (w.as_str(), *c)).collect();
        assert_eq!(top, [("the", 3), ("and", 2), ("cat", 1)]);
    }

    #[test]
    fn words_keep_inner_apostrophes_and_unicode() {
        let all = count_words("don't 'quote' Café café", 10);
        let top: Vec<(&str, u32)> = all.top.iter().map(|(w, c)| (w.as_str(), *c)).collect();
        assert_eq!(top, [("café", 2), ("don't", 1), ("quote", 1)]);
    }

    #[test]
    fn empty_text_and_zero_top_n() {
        assert_eq!(
            count_words("", 5),
            WordStats {
                words: 0,
                top: vec![]
            }
        );
        assert_eq!(count_words("a b", 0).top, vec![]);
    }
}
