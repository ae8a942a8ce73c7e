//! A test component for the network slices: each call makes one HTTP request
//! or one TCP connection or listener and reports what happened, so the
//! end-to-end tests can count what reaches a real server on 127.0.0.1.

#![cfg_attr(target_family = "wasm", no_std)]

extern crate alloc;

use alloc::string::{String, ToString};
use guest_rt as _;

/// `http://host[:port]/path` (or `https://`) split into scheme, authority
/// and path with query; `None` when it is not such a URL.
pub fn split_url(url: &str) -> Option<(&str, &str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    Some((scheme, authority, path))
}

/// The WIT name of an error, from its `Debug` form (`HttpRequestDenied` ->
/// `HTTP-request-denied`, as `wasi:http/types` spells it).
pub fn http_error_name(debug: &str) -> String {
    let name = guest_rt::kebab(debug);
    match name.strip_prefix("http-") {
        Some(rest) => alloc::format!("HTTP-{rest}"),
        None => name.to_string(),
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
            "../../../wit/net-probe",
        ],
        world: "airlock:net-probe/net-probe",
        generate_all,
    });

    use alloc::format;
    use alloc::string::String;
    use core::net::SocketAddr;
    use exports::airlock::net_probe::probe::Guest;
    use wasi::http::types::{Fields, Method, OutgoingRequest, Scheme};
    use wasi::sockets::instance_network::instance_network;
    use wasi::sockets::network::{
        ErrorCode, IpAddressFamily, IpSocketAddress, Ipv4SocketAddress, Ipv6SocketAddress,
    };
    use wasi::sockets::tcp::TcpSocket;
    use wasi::sockets::tcp_create_socket::create_tcp_socket;

    #[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
    struct Component;

    fn method(name: &str) -> Method {
        match name {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "CONNECT" => Method::Connect,
            "OPTIONS" => Method::Options,
            "TRACE" => Method::Trace,
            "PATCH" => Method::Patch,
            other => Method::Other(other.into()),
        }
    }

    fn address(text: &str) -> Result<(IpAddressFamily, IpSocketAddress), String> {
        let addr: SocketAddr = text
            .parse()
            .map_err(|_| format!("`{text}` is not an IP:PORT address"))?;
        Ok(match addr {
            SocketAddr::V4(a) => {
                let [a0, a1, a2, a3] = a.ip().octets();
                let address = Ipv4SocketAddress {
                    port: a.port(),
                    address: (a0, a1, a2, a3),
                };
                (IpAddressFamily::Ipv4, IpSocketAddress::Ipv4(address))
            }
            SocketAddr::V6(a) => {
                let s = a.ip().segments();
                let address = Ipv6SocketAddress {
                    port: a.port(),
                    flow_info: 0,
                    address: (s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]),
                    scope_id: 0,
                };
                (IpAddressFamily::Ipv6, IpSocketAddress::Ipv6(address))
            }
        })
    }

    fn socket(family: IpAddressFamily) -> Result<TcpSocket, String> {
        create_tcp_socket(family).map_err(|e| format!("create-tcp-socket: {}", e.name()))
    }

    /// Calls `finish` until it stops answering `would-block`.
    fn finish<T>(
        socket: &TcpSocket,
        what: &str,
        finish: impl Fn() -> Result<T, ErrorCode>,
    ) -> Result<T, String> {
        loop {
            match finish() {
                Err(ErrorCode::WouldBlock) => socket.subscribe().block(),
                other => return other.map_err(|e| format!("{what}: {}", e.name())),
            }
        }
    }

    impl Guest for Component {
        fn http_request(method_name: String, url: String) -> Result<u16, String> {
            let (scheme, authority, path) =
                super::split_url(&url).ok_or_else(|| format!("`{url}` is not a URL"))?;
            let scheme = match scheme {
                "http" => Scheme::Http,
                "https" => Scheme::Https,
                other => Scheme::Other(other.into()),
            };
            let request = OutgoingRequest::new(Fields::new());
            let set = request
                .set_method(&method(&method_name))
                .and(request.set_scheme(Some(&scheme)))
                .and(request.set_authority(Some(authority)))
                .and(request.set_path_with_query(Some(path)));
            set.map_err(|()| format!("the request `{method_name} {url}` was refused"))?;
            let future = wasi::http::outgoing_handler::handle(request, None)
                .map_err(|e| format!("handle: {}", super::http_error_name(&format!("{e:?}"))))?;
            loop {
                match future.get() {
                    None => future.subscribe().block(),
                    Some(Ok(Ok(response))) => return Ok(response.status()),
                    Some(Ok(Err(e))) => {
                        return Err(format!(
                            "response: {}",
                            super::http_error_name(&format!("{e:?}"))
                        ));
                    }
                    Some(Err(())) => return Err("response: already taken".into()),
                }
            }
        }

        fn tcp_connect(text: String) -> Result<(), String> {
            let (family, remote) = address(&text)?;
            let socket = socket(family)?;
            socket
                .start_connect(&instance_network(), remote)
                .map_err(|e| format!("start-connect: {}", e.name()))?;
            let (input, output) = finish(&socket, "finish-connect", || socket.finish_connect())?;
            drop((input, output));
            Ok(())
        }

        fn tcp_listen(text: String) -> Result<(), String> {
            let (family, local) = address(&text)?;
            let socket = socket(family)?;
            socket
                .start_bind(&instance_network(), local)
                .map_err(|e| format!("start-bind: {}", e.name()))?;
            finish(&socket, "finish-bind", || socket.finish_bind())?;
            socket
                .start_listen()
                .map_err(|e| format!("start-listen: {}", e.name()))?;
            finish(&socket, "finish-listen", || socket.finish_listen())?;
            // Keep listening for the rest of the instance, so a test can connect.
            core::mem::forget(socket);
            Ok(())
        }
    }

    #[cfg(target_family = "wasm")]
    export!(Component);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_scheme_authority_and_path() {
        assert_eq!(
            split_url("http://127.0.0.1:8080/a?b"),
            Some(("http", "127.0.0.1:8080", "/a?b"))
        );
        assert_eq!(
            split_url("https://example.com"),
            Some(("https", "example.com", "/"))
        );
        assert_eq!(split_url("example.com"), None);
    }

    #[test]
    fn http_errors_keep_their_wit_spelling() {
        assert_eq!(http_error_name("HttpRequestDenied"), "HTTP-request-denied");
        assert_eq!(http_error_name("ConnectionRefused"), "connection-refused");
    }
}
