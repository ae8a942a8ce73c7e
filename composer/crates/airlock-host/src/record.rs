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

use super::link::versioned;
use super::state::HostState;
use std::collections::BTreeSet;
use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::cli::WasiCliView;
use wasmtime_wasi::filesystem::WasiFilesystemView;
use wasmtime_wasi::p2::bindings::{self as p2, sync};
use wasmtime_wasi::sockets::WasiSocketsView;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::http::{outgoing_handler, types as http_types};

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

type Cx<'a> = StoreContextMut<'a, HostState>;

/// Redefines the recorded functions of the `linked` interfaces (unversioned names).
pub fn add_recorders(l: &mut Linker<HostState>, linked: &BTreeSet<&str>) -> wasmtime::Result<()> {
    l.allow_shadowing(true);
    let result = add(l, linked);
    l.allow_shadowing(false);
    result
}

fn add(l: &mut Linker<HostState>, linked: &BTreeSet<&str>) -> wasmtime::Result<()> {
    use p2::cli::{environment, exit};
    use p2::filesystem::preopens;
    use p2::sockets::{ip_name_lookup, network, tcp_create_socket};
    use sync::sockets::udp_create_socket;

    if linked.contains("wasi:cli/environment") {
        let mut i = l.instance(&versioned("wasi:cli/environment"))?;
        i.func_wrap("get-environment", |mut cx: Cx<'_>, (): ()| {
            let s = cx.data_mut();
            s.record("wasi:cli/environment#get-environment");
            Ok((environment::Host::get_environment(&mut s.cli())?,))
        })?;
        i.func_wrap("get-arguments", |mut cx: Cx<'_>, (): ()| {
            let s = cx.data_mut();
            s.record("wasi:cli/environment#get-arguments");
            Ok((environment::Host::get_arguments(&mut s.cli())?,))
        })?;
        i.func_wrap("initial-cwd", |mut cx: Cx<'_>, (): ()| {
            let s = cx.data_mut();
            s.record("wasi:cli/environment#initial-cwd");
            Ok((environment::Host::initial_cwd(&mut s.cli())?,))
        })?;
    }
    if linked.contains("wasi:cli/exit") {
        let mut i = l.instance(&versioned("wasi:cli/exit"))?;
        i.func_wrap("exit", |mut cx: Cx<'_>, (status,): (Result<(), ()>,)| {
            let s = cx.data_mut();
            s.record("wasi:cli/exit#exit");
            exit::Host::exit(&mut s.cli(), status)
        })?;
    }
    if linked.contains("wasi:filesystem/preopens") {
        let mut i = l.instance(&versioned("wasi:filesystem/preopens"))?;
        i.func_wrap("get-directories", |mut cx: Cx<'_>, (): ()| {
            let s = cx.data_mut();
            s.record("wasi:filesystem/preopens#get-directories");
            Ok((preopens::Host::get_directories(&mut s.filesystem())?,))
        })?;
    }
    if linked.contains("wasi:sockets/tcp-create-socket") {
        let mut i = l.instance(&versioned("wasi:sockets/tcp-create-socket"))?;
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
        let mut i = l.instance(&versioned("wasi:sockets/udp-create-socket"))?;
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
        let mut i = l.instance(&versioned("wasi:sockets/ip-name-lookup"))?;
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
        let mut i = l.instance(&versioned("wasi:http/outgoing-handler"))?;
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
