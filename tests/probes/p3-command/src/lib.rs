//! A WASI 0.3 command (`wasi:cli/run@0.3.0`, `run: async func() -> result`)
//! for `airlock run`'s tests (`tests/tests/run_p3.rs`). It prints, one per
//! line on `wasi:cli/stdout@0.3.0`:
//!
//! ```text
//! hello from WASI 0.3
//! arg ARG            (argv[0] first)
//! env KEY=VALUE
//! preopen NAME
//! ```
//!
//! then, by its first argument:
//! - `cat PATH`: the file at PATH, opened through the preopen whose name
//!   starts PATH (`wasi:filesystem/types@0.3.0`, read as a stream);
//! - `connect A.B.C.D:PORT`: connects over TCP (`wasi:sockets/types@0.3.0`)
//!   and prints `connected to A.B.C.D:PORT`.
//!
//! Failures go to stderr as `cat: PATH: ERROR` or `connect: ADDR: ERROR`
//! (the WASI error code in kebab case) and `run` returns `err` (exit 1).
//!
//! `no_std` on wasm (see `guest-rt`), so the imports are exactly the world's:
//! a pure WASI 0.3 command, with no 0.2 import from std.

#![cfg_attr(target_family = "wasm", no_std)]

extern crate alloc;

use guest_rt as _;

#[cfg(target_family = "wasm")]
mod command {
    use crate::bindings::wasi::cli::{environment, stderr, stdout};
    use crate::bindings::wasi::filesystem::preopens;
    use crate::bindings::wasi::filesystem::types::{
        Descriptor, DescriptorFlags, OpenFlags, PathFlags,
    };
    use crate::bindings::wasi::sockets::types::{
        IpAddressFamily, IpSocketAddress, Ipv4SocketAddress, TcpSocket,
    };
    use crate::bindings::wit_stream;
    use alloc::format;
    use alloc::string::String;
    use alloc::vec::Vec;
    use guest_rt::kebab;

    /// The whole program; `Err` is the message for stderr.
    pub async fn main(out: &mut String) -> Result<(), String> {
        out.push_str("hello from WASI 0.3\n");
        let args = environment::get_arguments();
        for arg in &args {
            out.push_str(&format!("arg {arg}\n"));
        }
        for (key, value) in environment::get_environment() {
            out.push_str(&format!("env {key}={value}\n"));
        }
        let dirs = preopens::get_directories();
        for (_, name) in &dirs {
            out.push_str(&format!("preopen {name}\n"));
        }
        match (args.get(1).map(String::as_str), args.get(2)) {
            (Some("cat"), Some(path)) => {
                let text = cat(&dirs, path)
                    .await
                    .map_err(|e| format!("cat: {path}: {e}"))?;
                out.push_str(&String::from_utf8_lossy(&text));
            }
            (Some("connect"), Some(addr)) => {
                connect(addr)
                    .await
                    .map_err(|e| format!("connect: {addr}: {e}"))?;
                out.push_str(&format!("connected to {addr}\n"));
            }
            _ => {}
        }
        Ok(())
    }

    /// The bytes of the file at `path`, through the preopen whose name starts it.
    async fn cat(dirs: &[(Descriptor, String)], path: &str) -> Result<Vec<u8>, String> {
        let (dir, rest) = dirs
            .iter()
            .find_map(|(dir, name)| {
                let rest = path.strip_prefix(name.as_str())?;
                let rest = rest.strip_prefix('/').unwrap_or(rest);
                Some((dir, rest))
            })
            .ok_or_else(|| String::from("no preopened directory holds it"))?;
        let file = dir
            .open_at(
                PathFlags::empty(),
                String::from(rest),
                OpenFlags::empty(),
                DescriptorFlags::READ,
            )
            .await
            .map_err(|e| kebab(&format!("{e:?}")))?;
        let (data, done) = file.read_via_stream(0);
        let bytes = data.collect().await;
        done.await.map_err(|e| kebab(&format!("{e:?}")))?;
        Ok(bytes)
    }

    /// Connects to `A.B.C.D:PORT` over TCP.
    async fn connect(addr: &str) -> Result<(), String> {
        let parsed = (|| {
            let (ip, port) = addr.split_once(':')?;
            let mut octets = ip.split('.').map(|o| o.parse::<u8>().ok());
            let mut octet = || octets.next().flatten();
            let address = (octet()?, octet()?, octet()?, octet()?);
            let port = port.parse::<u16>().ok()?;
            Some(Ipv4SocketAddress { port, address })
        })()
        .ok_or_else(|| String::from("expected A.B.C.D:PORT"))?;
        let error = |e| kebab(&format!("{e:?}"));
        let socket = TcpSocket::create(IpAddressFamily::Ipv4).map_err(error)?;
        socket
            .connect(IpSocketAddress::Ipv4(parsed))
            .await
            .map_err(error)
    }

    /// Writes `bytes` to stdout (`err` false) or stderr through a stream, then
    /// waits for the host to have taken them.
    pub async fn write(err: bool, bytes: Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        let (mut tx, rx) = wit_stream::new::<u8>();
        let done = if err {
            stderr::write_via_stream(rx)
        } else {
            stdout::write_via_stream(rx)
        };
        // A denied stream is dropped by its reader: the rest is returned, and
        // there is nowhere else to write it.
        let _ = tx.write_all(bytes).await;
        drop(tx);
        let _ = done.await;
    }
}

mod bindings {
    wit_bindgen::generate!({
        path: [
            "../../../wit/deps-0.3/clocks",
            "../../../wit/deps-0.3/filesystem",
            "../../../wit/deps-0.3/sockets",
            "../../../wit/deps-0.3/random",
            "../../../wit/deps-0.3/cli",
            "../../../wit/p3-command",
        ],
        world: "airlock:p3-command/p3-command",
        generate_all,
    });

    #[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
    struct Command;

    impl exports::wasi::cli::run::Guest for Command {
        #[cfg(target_family = "wasm")]
        async fn run() -> Result<(), ()> {
            let mut out = alloc::string::String::new();
            let result = super::command::main(&mut out).await;
            super::command::write(false, out.into_bytes()).await;
            match result {
                Ok(()) => Ok(()),
                Err(message) => {
                    let line = alloc::format!("{message}\n");
                    super::command::write(true, line.into_bytes()).await;
                    Err(())
                }
            }
        }

        #[cfg(not(target_family = "wasm"))]
        async fn run() -> Result<(), ()> {
            Ok(())
        }
    }

    #[cfg(target_family = "wasm")]
    export!(Command);
}
