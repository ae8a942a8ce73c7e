//! The interfaces this host can provide, each with its family and the
//! wasmtime-wasi (or wasmtime-wasi-http) function that links exactly that
//! interface. Nothing is linked in bulk: `imports` picks the entries a
//! component imports and the config permits, and only those are linked.

use super::state::HostState;
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime_wasi::cli::{WasiCli, WasiCliView};
use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView};
use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::{self as p2, sync};
use wasmtime_wasi::random::WasiRandom;
use wasmtime_wasi::sockets::{WasiSockets, WasiSocketsView};
use wasmtime_wasi_http::p2::bindings as http;
use wasmtime_wasi_http::{WasiHttp, WasiHttpView};

/// The WASI version of the WIT that wasmtime-wasi 48 implements; the linker
/// serves any semver-compatible import (`0.2.0` ..= `0.2.x`) with it.
pub const HOST_WASI_VERSION: &str = "0.2.12";

/// Groups of interfaces that are permitted together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    /// `wasi:cli/std*` and `wasi:cli/terminal-*`: always permitted.
    Stdio,
    /// `wasi:io/*`: always permitted.
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
    /// `wasi:http/outgoing-handler` and `wasi:http/types`: permitted with `allow_http`.
    Http,
}

type LinkFn = fn(&mut Linker<HostState>) -> wasmtime::Result<()>;

/// One interface the host can provide.
pub struct Provided {
    /// `wasi:cli/stdout`, without a version.
    pub name: &'static str,
    /// The permission group it belongs to.
    pub family: Family,
    /// Links exactly this interface.
    pub link: LinkFn,
}

macro_rules! provided {
    ($($name:literal, $family:ident, $link:expr;)*) => {
        &[$(Provided { name: $name, family: Family::$family, link: $link }),*]
    };
}

type S = HostState;
type Io = HasSelf<ResourceTable>;

fn table(s: &mut S) -> &mut ResourceTable {
    &mut s.table
}

/// Every interface this host can provide, in dependency order.
pub static PROVIDED: &[Provided] = provided![
    "wasi:io/error", Io, |l| p2::io::error::add_to_linker::<S, Io>(l, table);
    "wasi:io/poll", Io, |l| sync::io::poll::add_to_linker::<S, Io>(l, table);
    "wasi:io/streams", Io, |l| sync::io::streams::add_to_linker::<S, Io>(l, table);
    "wasi:clocks/wall-clock", Clocks, |l| p2::clocks::wall_clock::add_to_linker::<S, WasiClocks>(l, S::clocks);
    "wasi:clocks/monotonic-clock", Clocks, |l| p2::clocks::monotonic_clock::add_to_linker::<S, WasiClocks>(l, S::clocks);
    "wasi:random/random", Random, |l| p2::random::random::add_to_linker::<S, WasiRandom>(l, |s| s.wasi.random());
    "wasi:random/insecure", Random, |l| p2::random::insecure::add_to_linker::<S, WasiRandom>(l, |s| s.wasi.random());
    "wasi:random/insecure-seed", Random, |l| p2::random::insecure_seed::add_to_linker::<S, WasiRandom>(l, |s| s.wasi.random());
    "wasi:cli/environment", Environment, |l| p2::cli::environment::add_to_linker::<S, WasiCli>(l, S::cli);
    "wasi:cli/exit", Exit, |l| p2::cli::exit::add_to_linker::<S, WasiCli>(l, S::cli);
    "wasi:cli/stdin", Stdio, |l| p2::cli::stdin::add_to_linker::<S, WasiCli>(l, S::cli);
    "wasi:cli/stdout", Stdio, |l| p2::cli::stdout::add_to_linker::<S, WasiCli>(l, S::cli);
    "wasi:cli/stderr", Stdio, |l| p2::cli::stderr::add_to_linker::<S, WasiCli>(l, S::cli);
    "wasi:cli/terminal-input", Stdio, |l| p2::cli::terminal_input::add_to_linker::<S, WasiCli>(l, S::cli);
    "wasi:cli/terminal-output", Stdio, |l| p2::cli::terminal_output::add_to_linker::<S, WasiCli>(l, S::cli);
    "wasi:cli/terminal-stdin", Stdio, |l| p2::cli::terminal_stdin::add_to_linker::<S, WasiCli>(l, S::cli);
    "wasi:cli/terminal-stdout", Stdio, |l| p2::cli::terminal_stdout::add_to_linker::<S, WasiCli>(l, S::cli);
    "wasi:cli/terminal-stderr", Stdio, |l| p2::cli::terminal_stderr::add_to_linker::<S, WasiCli>(l, S::cli);
    "wasi:filesystem/types", Filesystem, |l| sync::filesystem::types::add_to_linker::<S, WasiFilesystem>(l, S::filesystem);
    "wasi:filesystem/preopens", Filesystem, |l| p2::filesystem::preopens::add_to_linker::<S, WasiFilesystem>(l, S::filesystem);
    "wasi:sockets/network", Sockets, |l| p2::sockets::network::add_to_linker::<S, WasiSockets>(l, &Default::default(), S::sockets);
    "wasi:sockets/instance-network", Sockets, |l| p2::sockets::instance_network::add_to_linker::<S, WasiSockets>(l, S::sockets);
    "wasi:sockets/tcp", Sockets, |l| sync::sockets::tcp::add_to_linker::<S, WasiSockets>(l, S::sockets);
    "wasi:sockets/tcp-create-socket", Sockets, |l| p2::sockets::tcp_create_socket::add_to_linker::<S, WasiSockets>(l, S::sockets);
    "wasi:sockets/udp", Sockets, |l| sync::sockets::udp::add_to_linker::<S, WasiSockets>(l, S::sockets);
    "wasi:sockets/udp-create-socket", Sockets, |l| sync::sockets::udp_create_socket::add_to_linker::<S, WasiSockets>(l, S::sockets);
    "wasi:sockets/ip-name-lookup", Sockets, |l| p2::sockets::ip_name_lookup::add_to_linker::<S, WasiSockets>(l, S::sockets);
    "wasi:http/types", Http, |l| http::http::types::add_to_linker::<S, WasiHttp>(l, &Default::default(), S::http);
    "wasi:http/outgoing-handler", Http, |l| http::http::outgoing_handler::add_to_linker::<S, WasiHttp>(l, S::http);
];

/// The entry for an unversioned interface name, if this host can provide it.
pub fn provided(name: &str) -> Option<&'static Provided> {
    PROVIDED.iter().find(|p| p.name == name)
}

/// The versioned name under which the linker holds an interface.
pub fn versioned(name: &str) -> String {
    format!("{name}@{HOST_WASI_VERSION}")
}
