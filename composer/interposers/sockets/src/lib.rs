//! The `sockets` interposer: exports `wasi:sockets/tcp` and
//! `wasi:sockets/tcp-create-socket`, with its own `tcp-socket` resource that
//! wraps the host's and forwards every method, except:
//! - `start-connect` to an address no `connect` rule lists,
//! - `start-bind` to an address no `bind` rule lists,
//! - `start-listen` on a socket that was not bound through an allowed
//!   `start-bind` (so an implicit bind cannot open a listener),
//!
//! which fail with `access-denied` without reaching the host. Settings
//! (`airlock:interpose/config`), one per entry: `connect ADDRESS`, `bind
//! ADDRESS` ([`airlock_slice_settings::SocketsSettings`], the types the
//! composer writes them with). UDP and name lookup are not served here: the
//! composer leaves them denied.

#![cfg_attr(target_family = "wasm", no_std)]

extern crate alloc;

use interpose_rt as _;

mod bindings {
    wit_bindgen::generate!({
        // `wit/interpose/deps` links to the vendored WASI packages.
        path: "../../../wit/interpose",
        world: "airlock:interpose/sockets-filter",
        generate_all,
    });

    use airlock::interpose::config;
    use airlock_slice_settings::SocketsSettings as Rules;
    use core::cell::Cell;
    use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    use core::sync::atomic::AtomicPtr;
    use exports::wasi::sockets::tcp::{self as ex, GuestTcpSocket, ShutdownType};
    use exports::wasi::sockets::tcp_create_socket;
    use wasi::io::poll::Pollable;
    use wasi::io::streams::{InputStream, OutputStream};
    use wasi::sockets::network::{ErrorCode, IpAddressFamily, IpSocketAddress, Network};
    use wasi::sockets::tcp as host;

    #[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
    struct Component;

    /// The rules, read once per instance: they are fixed in the output.
    fn rules() -> &'static Rules {
        static RULES: AtomicPtr<Rules> = AtomicPtr::new(core::ptr::null_mut());
        interpose_rt::once(&RULES, || Rules::from_lines(&config::get()))
    }

    fn ip_port(address: &IpSocketAddress) -> (IpAddr, u16) {
        match address {
            IpSocketAddress::Ipv4(a) => {
                let (a0, a1, a2, a3) = a.address;
                (IpAddr::V4(Ipv4Addr::new(a0, a1, a2, a3)), a.port)
            }
            IpSocketAddress::Ipv6(a) => {
                let (s0, s1, s2, s3, s4, s5, s6, s7) = a.address;
                let ip = Ipv6Addr::new(s0, s1, s2, s3, s4, s5, s6, s7);
                (IpAddr::V6(ip), a.port)
            }
        }
    }

    /// The library's socket: the host's, and whether an allowed bind happened.
    struct Socket {
        host: host::TcpSocket,
        bound_as_allowed: Cell<bool>,
    }

    impl Socket {
        fn wrap(host: host::TcpSocket) -> ex::TcpSocket {
            ex::TcpSocket::new(Socket {
                host,
                bound_as_allowed: Cell::new(false),
            })
        }
    }

    impl GuestTcpSocket for Socket {
        fn start_bind(
            &self,
            network: &Network,
            local_address: IpSocketAddress,
        ) -> Result<(), ErrorCode> {
            let (ip, port) = ip_port(&local_address);
            if !rules().may_bind(ip, port) {
                return Err(ErrorCode::AccessDenied);
            }
            self.host.start_bind(network, local_address)?;
            self.bound_as_allowed.set(true);
            Ok(())
        }
        fn finish_bind(&self) -> Result<(), ErrorCode> {
            self.host.finish_bind()
        }
        fn start_connect(
            &self,
            network: &Network,
            remote_address: IpSocketAddress,
        ) -> Result<(), ErrorCode> {
            let (ip, port) = ip_port(&remote_address);
            if !rules().may_connect(ip, port) {
                return Err(ErrorCode::AccessDenied);
            }
            self.host.start_connect(network, remote_address)
        }
        fn finish_connect(&self) -> Result<(InputStream, OutputStream), ErrorCode> {
            self.host.finish_connect()
        }
        fn start_listen(&self) -> Result<(), ErrorCode> {
            // Listening on an implicitly bound (unchecked) address is not allowed.
            if !self.bound_as_allowed.get() {
                return Err(ErrorCode::AccessDenied);
            }
            self.host.start_listen()
        }
        fn finish_listen(&self) -> Result<(), ErrorCode> {
            self.host.finish_listen()
        }
        fn accept(&self) -> Result<(ex::TcpSocket, InputStream, OutputStream), ErrorCode> {
            let (socket, input, output) = self.host.accept()?;
            Ok((Socket::wrap(socket), input, output))
        }
        fn local_address(&self) -> Result<IpSocketAddress, ErrorCode> {
            self.host.local_address()
        }
        fn remote_address(&self) -> Result<IpSocketAddress, ErrorCode> {
            self.host.remote_address()
        }
        fn is_listening(&self) -> bool {
            self.host.is_listening()
        }
        fn address_family(&self) -> IpAddressFamily {
            self.host.address_family()
        }
        fn set_listen_backlog_size(&self, value: u64) -> Result<(), ErrorCode> {
            self.host.set_listen_backlog_size(value)
        }
        fn keep_alive_enabled(&self) -> Result<bool, ErrorCode> {
            self.host.keep_alive_enabled()
        }
        fn set_keep_alive_enabled(&self, value: bool) -> Result<(), ErrorCode> {
            self.host.set_keep_alive_enabled(value)
        }
        fn keep_alive_idle_time(&self) -> Result<u64, ErrorCode> {
            self.host.keep_alive_idle_time()
        }
        fn set_keep_alive_idle_time(&self, value: u64) -> Result<(), ErrorCode> {
            self.host.set_keep_alive_idle_time(value)
        }
        fn keep_alive_interval(&self) -> Result<u64, ErrorCode> {
            self.host.keep_alive_interval()
        }
        fn set_keep_alive_interval(&self, value: u64) -> Result<(), ErrorCode> {
            self.host.set_keep_alive_interval(value)
        }
        fn keep_alive_count(&self) -> Result<u32, ErrorCode> {
            self.host.keep_alive_count()
        }
        fn set_keep_alive_count(&self, value: u32) -> Result<(), ErrorCode> {
            self.host.set_keep_alive_count(value)
        }
        fn hop_limit(&self) -> Result<u8, ErrorCode> {
            self.host.hop_limit()
        }
        fn set_hop_limit(&self, value: u8) -> Result<(), ErrorCode> {
            self.host.set_hop_limit(value)
        }
        fn receive_buffer_size(&self) -> Result<u64, ErrorCode> {
            self.host.receive_buffer_size()
        }
        fn set_receive_buffer_size(&self, value: u64) -> Result<(), ErrorCode> {
            self.host.set_receive_buffer_size(value)
        }
        fn send_buffer_size(&self) -> Result<u64, ErrorCode> {
            self.host.send_buffer_size()
        }
        fn set_send_buffer_size(&self, value: u64) -> Result<(), ErrorCode> {
            self.host.set_send_buffer_size(value)
        }
        fn subscribe(&self) -> Pollable {
            self.host.subscribe()
        }
        fn shutdown(&self, shutdown_type: ShutdownType) -> Result<(), ErrorCode> {
            self.host.shutdown(match shutdown_type {
                ShutdownType::Receive => host::ShutdownType::Receive,
                ShutdownType::Send => host::ShutdownType::Send,
                ShutdownType::Both => host::ShutdownType::Both,
            })
        }
    }

    impl ex::Guest for Component {
        type TcpSocket = Socket;
    }

    impl tcp_create_socket::Guest for Component {
        fn create_tcp_socket(family: IpAddressFamily) -> Result<ex::TcpSocket, ErrorCode> {
            let socket = wasi::sockets::tcp_create_socket::create_tcp_socket(family)?;
            Ok(Socket::wrap(socket))
        }
    }

    #[cfg(target_family = "wasm")]
    export!(Component);
}
