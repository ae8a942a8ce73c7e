//! The interfaces this host can provide, each with its family and the
//! wasmtime-wasi (or wasmtime-wasi-http) function that links exactly that
//! interface. Nothing is linked in bulk: `imports` picks the entries a
//! component imports and the config permits, and only those are linked.
//!
//! Two tracks: WASI 0.2 ([`HOST_WASI_VERSION`]) and WASI 0.3
//! ([`HOST_WASI_P3_VERSION`], wasmtime-wasi's `p3`, component-model async);
//! an import is served by the entry of its name on the semver-compatible track.

use super::state::HostState;
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime_wasi::cli::{WasiCli, WasiCliView};
use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView};
use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::{self as p2, sync};
use wasmtime_wasi::p3::bindings as p3;
use wasmtime_wasi::random::WasiRandom;
use wasmtime_wasi::sockets::{WasiSockets, WasiSocketsView};
use wasmtime_wasi_http::p2::bindings as http;
use wasmtime_wasi_http::p3::bindings as http3;
use wasmtime_wasi_http::{WasiHttp, WasiHttpView};

/// The WASI 0.2 version of the WIT that wasmtime-wasi 48 implements; the linker
/// serves any semver-compatible import (`0.2.0` ..= `0.2.x`) with it.
pub const HOST_WASI_VERSION: &str = "0.2.12";

/// The WASI 0.3 version that wasmtime-wasi 48 implements (`p3`); it serves
/// `0.3.x` imports, not the `0.3.0-rc-*` pre-releases.
pub const HOST_WASI_P3_VERSION: &str = "0.3.0";

/// Which WASI release an entry implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Track {
    /// WASI 0.2, at [`HOST_WASI_VERSION`].
    P2,
    /// WASI 0.3, at [`HOST_WASI_P3_VERSION`].
    P3,
}

impl Track {
    /// The version the linker holds this track's interfaces at.
    pub fn version(self) -> &'static str {
        match self {
            Track::P2 => HOST_WASI_VERSION,
            Track::P3 => HOST_WASI_P3_VERSION,
        }
    }
}

/// Groups of interfaces that are permitted together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    /// `wasi:cli/std*`, `wasi:cli/terminal-*` and (0.3) `wasi:cli/types`: always permitted.
    Stdio,
    /// `wasi:io/*` (0.2 only): always permitted.
    Io,
    /// `wasi:clocks/*`: always permitted.
    Clocks,
    /// `wasi:random/*`: always permitted.
    Random,
    /// `wasi:cli/environment`: always permitted (its contents come from the config).
    Environment,
    /// `wasi:cli/exit`: always permitted.
    Exit,
    /// `wasi:filesystem/*`: permitted when the config preopens a directory, or
    /// linked with no preopens under `link_empty`.
    Filesystem,
    /// `wasi:sockets/*`: permitted with `allow_net`, or linked with no network
    /// under `link_empty`.
    Sockets,
    /// `wasi:http/outgoing-handler` (0.2), `wasi:http/client` (0.3) and
    /// `wasi:http/types`: permitted with `allow_http`.
    Http,
}

type LinkFn = fn(&mut Linker<HostState>) -> wasmtime::Result<()>;

/// One interface the host can provide.
pub struct Provided {
    /// `wasi:cli/stdout`, without a version.
    pub name: &'static str,
    /// The WASI release it belongs to.
    pub track: Track,
    /// The permission group it belongs to.
    pub family: Family,
    /// Links exactly this interface.
    pub link: LinkFn,
}

macro_rules! provided {
    ($($track:ident $name:literal, $family:ident, $link:expr;)*) => {
        &[$(Provided { name: $name, track: Track::$track, family: Family::$family, link: $link }),*]
    };
}

type S = HostState;
type Io = HasSelf<ResourceTable>;

fn table(s: &mut S) -> &mut ResourceTable {
    &mut s.table
}

/// Every interface this host can provide, in dependency order.
pub static PROVIDED: &[Provided] = provided![
    P2 "wasi:io/error", Io, |l| p2::io::error::add_to_linker::<S, Io>(l, table);
    P2 "wasi:io/poll", Io, |l| sync::io::poll::add_to_linker::<S, Io>(l, table);
    P2 "wasi:io/streams", Io, |l| sync::io::streams::add_to_linker::<S, Io>(l, table);
    P2 "wasi:clocks/wall-clock", Clocks, |l| p2::clocks::wall_clock::add_to_linker::<S, WasiClocks>(l, S::clocks);
    P2 "wasi:clocks/monotonic-clock", Clocks, |l| p2::clocks::monotonic_clock::add_to_linker::<S, WasiClocks>(l, S::clocks);
    P2 "wasi:random/random", Random, |l| p2::random::random::add_to_linker::<S, WasiRandom>(l, |s| s.wasi.random());
    P2 "wasi:random/insecure", Random, |l| p2::random::insecure::add_to_linker::<S, WasiRandom>(l, |s| s.wasi.random());
    P2 "wasi:random/insecure-seed", Random, |l| p2::random::insecure_seed::add_to_linker::<S, WasiRandom>(l, |s| s.wasi.random());
    P2 "wasi:cli/environment", Environment, |l| p2::cli::environment::add_to_linker::<S, WasiCli>(l, S::cli);
    P2 "wasi:cli/exit", Exit, |l| p2::cli::exit::add_to_linker::<S, WasiCli>(l, S::cli);
    P2 "wasi:cli/stdin", Stdio, |l| p2::cli::stdin::add_to_linker::<S, WasiCli>(l, S::cli);
    P2 "wasi:cli/stdout", Stdio, |l| p2::cli::stdout::add_to_linker::<S, WasiCli>(l, S::cli);
    P2 "wasi:cli/stderr", Stdio, |l| p2::cli::stderr::add_to_linker::<S, WasiCli>(l, S::cli);
    P2 "wasi:cli/terminal-input", Stdio, |l| p2::cli::terminal_input::add_to_linker::<S, WasiCli>(l, S::cli);
    P2 "wasi:cli/terminal-output", Stdio, |l| p2::cli::terminal_output::add_to_linker::<S, WasiCli>(l, S::cli);
    P2 "wasi:cli/terminal-stdin", Stdio, |l| p2::cli::terminal_stdin::add_to_linker::<S, WasiCli>(l, S::cli);
    P2 "wasi:cli/terminal-stdout", Stdio, |l| p2::cli::terminal_stdout::add_to_linker::<S, WasiCli>(l, S::cli);
    P2 "wasi:cli/terminal-stderr", Stdio, |l| p2::cli::terminal_stderr::add_to_linker::<S, WasiCli>(l, S::cli);
    P2 "wasi:filesystem/types", Filesystem, |l| sync::filesystem::types::add_to_linker::<S, WasiFilesystem>(l, S::filesystem);
    P2 "wasi:filesystem/preopens", Filesystem, |l| p2::filesystem::preopens::add_to_linker::<S, WasiFilesystem>(l, S::filesystem);
    P2 "wasi:sockets/network", Sockets, |l| p2::sockets::network::add_to_linker::<S, WasiSockets>(l, &Default::default(), S::sockets);
    P2 "wasi:sockets/instance-network", Sockets, |l| p2::sockets::instance_network::add_to_linker::<S, WasiSockets>(l, S::sockets);
    P2 "wasi:sockets/tcp", Sockets, |l| sync::sockets::tcp::add_to_linker::<S, WasiSockets>(l, S::sockets);
    P2 "wasi:sockets/tcp-create-socket", Sockets, |l| p2::sockets::tcp_create_socket::add_to_linker::<S, WasiSockets>(l, S::sockets);
    P2 "wasi:sockets/udp", Sockets, |l| sync::sockets::udp::add_to_linker::<S, WasiSockets>(l, S::sockets);
    P2 "wasi:sockets/udp-create-socket", Sockets, |l| sync::sockets::udp_create_socket::add_to_linker::<S, WasiSockets>(l, S::sockets);
    P2 "wasi:sockets/ip-name-lookup", Sockets, |l| p2::sockets::ip_name_lookup::add_to_linker::<S, WasiSockets>(l, S::sockets);
    P2 "wasi:http/types", Http, |l| http::http::types::add_to_linker::<S, WasiHttp>(l, &Default::default(), S::http);
    P2 "wasi:http/outgoing-handler", Http, |l| http::http::outgoing_handler::add_to_linker::<S, WasiHttp>(l, S::http);
    // WASI 0.3 (types-only interfaces need nothing linked: wasmtime accepts an
    // imported instance of value types alone without a definition).
    P3 "wasi:cli/types", Stdio, |_| Ok(());
    P3 "wasi:clocks/types", Clocks, |l| p3::clocks::types::add_to_linker::<S, WasiClocks>(l, S::clocks);
    P3 "wasi:clocks/monotonic-clock", Clocks, |l| p3::clocks::monotonic_clock::add_to_linker::<S, WasiClocks>(l, S::clocks);
    P3 "wasi:clocks/system-clock", Clocks, |l| p3::clocks::system_clock::add_to_linker::<S, WasiClocks>(l, S::clocks);
    P3 "wasi:random/random", Random, |l| p3::random::random::add_to_linker::<S, WasiRandom>(l, |s| s.wasi.random());
    P3 "wasi:random/insecure", Random, |l| p3::random::insecure::add_to_linker::<S, WasiRandom>(l, |s| s.wasi.random());
    P3 "wasi:random/insecure-seed", Random, |l| p3::random::insecure_seed::add_to_linker::<S, WasiRandom>(l, |s| s.wasi.random());
    P3 "wasi:cli/environment", Environment, |l| p3::cli::environment::add_to_linker::<S, WasiCli>(l, S::cli);
    P3 "wasi:cli/exit", Exit, |l| p3::cli::exit::add_to_linker::<S, WasiCli>(l, S::cli);
    P3 "wasi:cli/stdin", Stdio, |l| p3::cli::stdin::add_to_linker::<S, WasiCli>(l, S::cli);
    P3 "wasi:cli/stdout", Stdio, |l| p3::cli::stdout::add_to_linker::<S, WasiCli>(l, S::cli);
    P3 "wasi:cli/stderr", Stdio, |l| p3::cli::stderr::add_to_linker::<S, WasiCli>(l, S::cli);
    P3 "wasi:cli/terminal-input", Stdio, |l| p3::cli::terminal_input::add_to_linker::<S, WasiCli>(l, S::cli);
    P3 "wasi:cli/terminal-output", Stdio, |l| p3::cli::terminal_output::add_to_linker::<S, WasiCli>(l, S::cli);
    P3 "wasi:cli/terminal-stdin", Stdio, |l| p3::cli::terminal_stdin::add_to_linker::<S, WasiCli>(l, S::cli);
    P3 "wasi:cli/terminal-stdout", Stdio, |l| p3::cli::terminal_stdout::add_to_linker::<S, WasiCli>(l, S::cli);
    P3 "wasi:cli/terminal-stderr", Stdio, |l| p3::cli::terminal_stderr::add_to_linker::<S, WasiCli>(l, S::cli);
    P3 "wasi:filesystem/types", Filesystem, |l| p3::filesystem::types::add_to_linker::<S, WasiFilesystem>(l, S::filesystem);
    P3 "wasi:filesystem/preopens", Filesystem, |l| p3::filesystem::preopens::add_to_linker::<S, WasiFilesystem>(l, S::filesystem);
    P3 "wasi:sockets/types", Sockets, |l| p3::sockets::types::add_to_linker::<S, WasiSockets>(l, S::sockets);
    P3 "wasi:sockets/ip-name-lookup", Sockets, |l| p3::sockets::ip_name_lookup::add_to_linker::<S, WasiSockets>(l, S::sockets);
    P3 "wasi:http/types", Http, |l| http3::http::types::add_to_linker::<S, WasiHttp>(l, S::http);
    P3 "wasi:http/client", Http, |l| http3::http::client::add_to_linker::<S, WasiHttp>(l, S::http);
];

/// The entries for an unversioned interface name (one per track that has it).
pub fn provided(name: &str) -> impl Iterator<Item = &'static Provided> + '_ {
    PROVIDED.iter().filter(move |p| p.name == name)
}

/// The versioned name under which the linker holds an interface of `track`.
pub fn versioned(name: &str, track: Track) -> String {
    format!("{name}@{}", track.version())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Every entry links, on both tracks, into one linker (no name defined
    /// twice), and the recorders shadow functions of it.
    #[test]
    fn the_whole_table_links_into_one_linker() {
        let mut linker = Linker::new(&crate::engine());
        for provided in PROVIDED {
            (provided.link)(&mut linker)
                .unwrap_or_else(|e| panic!("{} ({:?}): {e}", provided.name, provided.track));
        }
        let all: BTreeSet<_> = PROVIDED.iter().map(|p| (p.name, p.track)).collect();
        crate::record::add_recorders(&mut linker, &all).unwrap();
        assert_eq!(all.len(), PROVIDED.len(), "an entry is listed twice");
    }
}
