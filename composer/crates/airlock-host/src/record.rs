//! Counting the calls that yield authority.
//!
//! After `link` has linked an interface with wasmtime-wasi's own
//! `add_to_linker`, the functions below are redefined (linker shadowing) by
//! closures that count the call in [`HostState::calls`] and then delegate to
//! wasmtime-wasi's `Host` trait implementation, so behaviour is the real one.
//! Recorded, keyed `interface#function` without a version (see [`RECORDED`]):
//! - `wasi:cli/environment#get-environment`, `#get-arguments`, `#initial-cwd`
//! - `wasi:cli/exit#exit`
//! - `wasi:filesystem/preopens#get-directories`
//! - `wasi:sockets/tcp-create-socket#create-tcp-socket`
//! - `wasi:sockets/udp-create-socket#create-udp-socket`
//! - `wasi:sockets/ip-name-lookup#resolve-addresses`
//! - `wasi:http/outgoing-handler#handle`
//!
//! and on WASI 0.3, keyed `interface@0.3#function` (see [`RECORDED_P3`]):
//! - `wasi:cli/environment@0.3#get-environment`, `#get-arguments`, `#get-initial-cwd`
//! - `wasi:cli/exit@0.3#exit`
//! - `wasi:filesystem/preopens@0.3#get-directories`
//! - `wasi:sockets/types@0.3#[static]tcp-socket.create`, `#[static]udp-socket.create`
//! - `wasi:sockets/ip-name-lookup@0.3#resolve-addresses`
//! - `wasi:http/client@0.3#send`

use super::link::{Track, versioned};
use super::state::HostState;
use std::collections::BTreeSet;
use wasmtime::StoreContextMut;
use wasmtime::component::{Accessor, ComponentType, Linker, LinkerInstance, Lower, Resource};
use wasmtime_wasi::TrappableError;
use wasmtime_wasi::cli::WasiCliView;
use wasmtime_wasi::filesystem::WasiFilesystemView;
use wasmtime_wasi::p2::bindings::{self as p2, sync};
use wasmtime_wasi::sockets::{WasiSockets, WasiSocketsView};
use wasmtime_wasi_http::p2::bindings::http::{outgoing_handler, types as http_types};
use wasmtime_wasi_http::{WasiHttp, WasiHttpView};

/// The functions whose calls are counted, as `interface#function`.
pub static RECORDED: &[&str] = &[
    "wasi:cli/environment#get-environment",
    "wasi:cli/environment#get-arguments",
    "wasi:cli/environment#initial-cwd",
    "wasi:cli/exit#exit",
    "wasi:filesystem/preopens#get-directories",
    "wasi:sockets/tcp-create-socket#create-tcp-socket",
    "wasi:sockets/udp-create-socket#create-udp-socket",
    "wasi:sockets/ip-name-lookup#resolve-addresses",
    "wasi:http/outgoing-handler#handle",
];

/// The WASI 0.3 functions whose calls are counted, as `interface@0.3#function`.
pub static RECORDED_P3: &[&str] = &[
    "wasi:cli/environment@0.3#get-environment",
    "wasi:cli/environment@0.3#get-arguments",
    "wasi:cli/environment@0.3#get-initial-cwd",
    "wasi:cli/exit@0.3#exit",
    "wasi:filesystem/preopens@0.3#get-directories",
    "wasi:sockets/types@0.3#[static]tcp-socket.create",
    "wasi:sockets/types@0.3#[static]udp-socket.create",
    "wasi:sockets/ip-name-lookup@0.3#resolve-addresses",
    "wasi:http/client@0.3#send",
];

type Cx<'a> = StoreContextMut<'a, HostState>;

/// Redefines the recorded functions of the `linked` interfaces (unversioned
/// names, by track).
pub fn add_recorders(
    l: &mut Linker<HostState>,
    linked: &BTreeSet<(&str, Track)>,
) -> wasmtime::Result<()> {
    l.allow_shadowing(true);
    let p2: BTreeSet<&str> = linked
        .iter()
        .filter(|(_, t)| *t == Track::P2)
        .map(|(n, _)| *n)
        .collect();
    let p3: BTreeSet<&str> = linked
        .iter()
        .filter(|(_, t)| *t == Track::P3)
        .map(|(n, _)| *n)
        .collect();
    let result = add(l, &p2).and_then(|()| add_p3(l, &p3));
    l.allow_shadowing(false);
    result
}

fn add(l: &mut Linker<HostState>, linked: &BTreeSet<&str>) -> wasmtime::Result<()> {
    use p2::cli::{environment, exit};
    use p2::filesystem::preopens;
    use p2::sockets::{ip_name_lookup, network, tcp_create_socket};
    use sync::sockets::udp_create_socket;

    if linked.contains("wasi:cli/environment") {
        let mut i = l.instance(&versioned("wasi:cli/environment", Track::P2))?;
        nullary(
            &mut i,
            "get-environment",
            "wasi:cli/environment#get-environment",
            |s| environment::Host::get_environment(&mut s.cli()),
        )?;
        nullary(
            &mut i,
            "get-arguments",
            "wasi:cli/environment#get-arguments",
            |s| environment::Host::get_arguments(&mut s.cli()),
        )?;
        nullary(
            &mut i,
            "initial-cwd",
            "wasi:cli/environment#initial-cwd",
            |s| environment::Host::initial_cwd(&mut s.cli()),
        )?;
    }
    if linked.contains("wasi:cli/exit") {
        let mut i = l.instance(&versioned("wasi:cli/exit", Track::P2))?;
        i.func_wrap("exit", |mut cx: Cx<'_>, (status,): (Result<(), ()>,)| {
            let s = cx.data_mut();
            s.record("wasi:cli/exit#exit");
            exit::Host::exit(&mut s.cli(), status)
        })?;
    }
    if linked.contains("wasi:filesystem/preopens") {
        let mut i = l.instance(&versioned("wasi:filesystem/preopens", Track::P2))?;
        nullary(
            &mut i,
            "get-directories",
            "wasi:filesystem/preopens#get-directories",
            |s| preopens::Host::get_directories(&mut s.filesystem()),
        )?;
    }
    if linked.contains("wasi:sockets/tcp-create-socket") {
        let mut i = l.instance(&versioned("wasi:sockets/tcp-create-socket", Track::P2))?;
        i.func_wrap(
            "create-tcp-socket",
            |mut cx: Cx<'_>, (family,): (network::IpAddressFamily,)| {
                let s = cx.data_mut();
                s.record("wasi:sockets/tcp-create-socket#create-tcp-socket");
                let mut v = s.sockets();
                let r = match tcp_create_socket::Host::create_tcp_socket(&mut v, family) {
                    Ok(socket) => Ok(socket),
                    Err(e) => Err(network::Host::convert_error_code(&mut v, e)?),
                };
                Ok((r,))
            },
        )?;
    }
    if linked.contains("wasi:sockets/udp-create-socket") {
        let mut i = l.instance(&versioned("wasi:sockets/udp-create-socket", Track::P2))?;
        i.func_wrap(
            "create-udp-socket",
            |mut cx: Cx<'_>, (family,): (network::IpAddressFamily,)| {
                let s = cx.data_mut();
                s.record("wasi:sockets/udp-create-socket#create-udp-socket");
                let mut v = s.sockets();
                let r = match udp_create_socket::Host::create_udp_socket(&mut v, family) {
                    Ok(socket) => Ok(socket),
                    Err(e) => Err(network::Host::convert_error_code(&mut v, e)?),
                };
                Ok((r,))
            },
        )?;
    }
    if linked.contains("wasi:sockets/ip-name-lookup") {
        let mut i = l.instance(&versioned("wasi:sockets/ip-name-lookup", Track::P2))?;
        i.func_wrap(
            "resolve-addresses",
            |mut cx: Cx<'_>, (net, name): (Resource<network::Network>, String)| {
                let s = cx.data_mut();
                s.record("wasi:sockets/ip-name-lookup#resolve-addresses");
                let mut v = s.sockets();
                let r = match ip_name_lookup::Host::resolve_addresses(&mut v, net, name) {
                    Ok(stream) => Ok(stream),
                    Err(e) => Err(network::Host::convert_error_code(&mut v, e)?),
                };
                Ok((r,))
            },
        )?;
    }
    if linked.contains("wasi:http/outgoing-handler") {
        let mut i = l.instance(&versioned("wasi:http/outgoing-handler", Track::P2))?;
        i.func_wrap(
            "handle",
            |mut cx: Cx<'_>,
             (request, options): (
                Resource<outgoing_handler::OutgoingRequest>,
                Option<Resource<outgoing_handler::RequestOptions>>,
            )| {
                let s = cx.data_mut();
                s.record("wasi:http/outgoing-handler#handle");
                let mut v = s.http();
                let r = match outgoing_handler::Host::handle(&mut v, request, options) {
                    Ok(response) => Ok(response),
                    Err(e) => Err(http_types::Host::convert_error_code(&mut v, e)?),
                };
                Ok((r,))
            },
        )?;
    }
    Ok(())
}

/// The WASI 0.3 recorders: the sync functions as for 0.2; `resolve-addresses`
/// and `send` (async functions) and `udp-socket.create` (async on the host)
/// through the same calls wasmtime-wasi's bindings make.
fn add_p3(l: &mut Linker<HostState>, linked: &BTreeSet<&str>) -> wasmtime::Result<()> {
    use wasmtime_wasi::p3::bindings::cli::{environment, exit};
    use wasmtime_wasi::p3::bindings::filesystem::preopens;
    use wasmtime_wasi::p3::bindings::sockets::ip_name_lookup;
    use wasmtime_wasi::p3::bindings::sockets::types::{
        HostTcpSocket, HostUdpSocket, IpAddressFamily,
    };
    use wasmtime_wasi_http::p3::bindings::http::client;
    use wasmtime_wasi_http::p3::bindings::http::types::Request;

    if linked.contains("wasi:cli/environment") {
        let mut i = instance(l, "wasi:cli/environment")?;
        nullary(
            &mut i,
            "get-environment",
            "wasi:cli/environment@0.3#get-environment",
            |s| environment::Host::get_environment(&mut s.cli()),
        )?;
        nullary(
            &mut i,
            "get-arguments",
            "wasi:cli/environment@0.3#get-arguments",
            |s| environment::Host::get_arguments(&mut s.cli()),
        )?;
        nullary(
            &mut i,
            "get-initial-cwd",
            "wasi:cli/environment@0.3#get-initial-cwd",
            |s| environment::Host::get_initial_cwd(&mut s.cli()),
        )?;
    }
    if linked.contains("wasi:cli/exit") {
        let mut i = instance(l, "wasi:cli/exit")?;
        i.func_wrap("exit", |mut cx: Cx<'_>, (status,): (Result<(), ()>,)| {
            let s = cx.data_mut();
            s.record("wasi:cli/exit@0.3#exit");
            exit::Host::exit(&mut s.cli(), status)
        })?;
    }
    if linked.contains("wasi:filesystem/preopens") {
        let mut i = instance(l, "wasi:filesystem/preopens")?;
        nullary(
            &mut i,
            "get-directories",
            "wasi:filesystem/preopens@0.3#get-directories",
            |s| preopens::Host::get_directories(&mut s.filesystem()),
        )?;
    }
    if linked.contains("wasi:sockets/types") {
        let mut i = instance(l, "wasi:sockets/types")?;
        i.func_wrap(
            "[static]tcp-socket.create",
            |mut cx: Cx<'_>, (family,): (IpAddressFamily,)| {
                let s = cx.data_mut();
                s.record("wasi:sockets/types@0.3#[static]tcp-socket.create");
                let r = HostTcpSocket::create(&mut s.sockets(), family);
                Ok((code(r)?,))
            },
        )?;
        i.func_wrap_async(
            "[static]udp-socket.create",
            |mut cx: Cx<'_>, (family,): (IpAddressFamily,)| {
                Box::new(async move {
                    let s = cx.data_mut();
                    s.record("wasi:sockets/types@0.3#[static]udp-socket.create");
                    let r = HostUdpSocket::create(&mut s.sockets(), family).await;
                    Ok((code(r)?,))
                })
            },
        )?;
    }
    if linked.contains("wasi:sockets/ip-name-lookup") {
        let mut i = instance(l, "wasi:sockets/ip-name-lookup")?;
        i.func_wrap_concurrent(
            "resolve-addresses",
            |cx: &Accessor<HostState>, (name,): (String,)| {
                Box::pin(async move {
                    cx.with(|mut a| {
                        a.data_mut()
                            .record("wasi:sockets/ip-name-lookup@0.3#resolve-addresses")
                    });
                    let cx = cx.with_getter::<WasiSockets>(HostState::sockets);
                    let r = <WasiSockets as ip_name_lookup::HostWithStore<_>>::resolve_addresses(
                        &cx, name,
                    )
                    .await?;
                    Ok((r,))
                })
            },
        )?;
    }
    if linked.contains("wasi:http/client") {
        let mut i = instance(l, "wasi:http/client")?;
        i.func_wrap_concurrent(
            "send",
            |cx: &Accessor<HostState>, (request,): (Resource<Request>,)| {
                Box::pin(async move {
                    cx.with(|mut a| a.data_mut().record("wasi:http/client@0.3#send"));
                    let cx = cx.with_getter::<WasiHttp>(HostState::http);
                    let r = <WasiHttp as client::HostWithStore<_>>::send(&cx, request).await;
                    Ok((code(r)?,))
                })
            },
        )?;
    }
    Ok(())
}

/// Redefines the function `func` of `i`, which takes no parameters, to count
/// its call as `key` and then answer with `call`.
fn nullary<R>(
    i: &mut LinkerInstance<'_, HostState>,
    func: &str,
    key: &'static str,
    call: fn(&mut HostState) -> wasmtime::Result<R>,
) -> wasmtime::Result<()>
where
    R: ComponentType + Lower + Send + Sync + 'static,
{
    i.func_wrap(func, move |mut cx: Cx<'_>, (): ()| {
        let s = cx.data_mut();
        s.record(key);
        Ok((call(s)?,))
    })
}

/// The linker instance of a WASI 0.3 interface (unversioned `name`).
fn instance<'a>(
    l: &'a mut Linker<HostState>,
    name: &str,
) -> wasmtime::Result<LinkerInstance<'a, HostState>> {
    l.instance(&versioned(name, Track::P3))
}

/// A trappable error (`TrappableError<E>`) as the guest sees it: its error
/// code, or the trap. wasmtime-wasi's own `convert_error_code` is this downcast.
fn code<T, E>(r: Result<T, TrappableError<E>>) -> wasmtime::Result<Result<T, E>>
where
    E: std::error::Error + Send + Sync + 'static,
{
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(e) => Ok(Err(e.downcast()?)),
    }
}
