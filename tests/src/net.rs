//! Real network peers on 127.0.0.1 for the `http` and `sockets` slice tests
//! and benchmark: a tiny HTTP/1.1 server that counts the requests it
//! receives, and the net-probe component composed with a slice.

use crate::workspace;
use airlock_core::manifest::Manifest;
use airlock_core::spec::CompositionSpec;
use airlock_host::{HostConfig, Session, Val};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// An HTTP/1.1 server on `127.0.0.1:port` that answers every request with
/// `200 ok` (and closes the connection) after counting it by `METHOD PATH`.
/// Stops when dropped.
pub struct HttpServer {
    /// The port it listens on.
    pub port: u16,
    counts: Arc<Mutex<BTreeMap<String, u32>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl HttpServer {
    /// Listens on an ephemeral port of 127.0.0.1.
    pub fn start() -> HttpServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
        let port = listener.local_addr().unwrap().port();
        let counts = Arc::new(Mutex::new(BTreeMap::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (counts, stop) = (counts.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        serve(stream, &counts);
                    }
                }
            })
        };
        HttpServer {
            port,
            counts,
            stop,
            thread: Some(thread),
        }
    }

    /// Requests that a slice allowing only `GET` to this server (`GET
    /// 127.0.0.1:PORT`) must refuse: another method, `other`'s port, another
    /// address, the host by name, a method in the wrong case. Each path is
    /// its own, so the server's counts show which got through.
    pub fn off_rule_requests(&self, other: &HttpServer) -> [(&'static str, String); 5] {
        [
            ("POST", self.url("/post")),
            ("GET", other.url("/other-port")),
            ("GET", format!("http://127.0.0.2:{}/other-host", self.port)),
            ("GET", format!("http://localhost:{}/by-name", self.port)),
            ("get", self.url("/lowercase")),
        ]
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// How many `METHOD PATH` requests arrived.
    pub fn count(&self, method: &str, path: &str) -> u32 {
        let key = format!("{method} {path}");
        self.counts.lock().unwrap().get(&key).copied().unwrap_or(0)
    }

    /// How many requests arrived in all.
    pub fn total(&self) -> u32 {
        self.counts.lock().unwrap().values().sum()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads one request head, counts it, answers `200 ok`.
fn serve(mut stream: TcpStream, counts: &Mutex<BTreeMap<String, u32>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head);
    let mut first = text.lines().next().unwrap_or("").split(' ');
    let key = format!(
        "{} {}",
        first.next().unwrap_or(""),
        first.next().unwrap_or("")
    );
    *counts.lock().unwrap().entry(key).or_default() += 1;
    let _ =
        stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
}

/// The net-probe component (`just build-components` builds it).
pub fn net_probe() -> PathBuf {
    let path = workspace().join("target/wasm32-wasip2/component/net_probe.wasm");
    assert!(
        path.exists(),
        "`{}` is missing: run `just build-components` first",
        path.display()
    );
    path
}

/// The net-probe alone, as the root of a composition whose manifest has
/// `allow` as its allow-list and `table` as the probe's table (after `path`).
pub fn probe_spec(allow: &[&str], table: &str) -> CompositionSpec {
    let dir = workspace().join("target");
    let manifest = format!(
        "[output]\nroot = \"probe\"\n[allow]\ninterfaces = {allow:?}\n[components.probe]\npath = {:?}\n{table}\n",
        net_probe().display().to_string()
    );
    let path = dir.join("net-probe-airlock.toml");
    let manifest = Manifest::parse(&manifest, &path).expect("a valid manifest");
    CompositionSpec::from_manifest(&manifest, &path).expect("a valid spec")
}

/// The net-probe's export.
pub const PROBE: &str = "airlock:net-probe/probe";

/// A running composed net-probe with HTTP and sockets linked by the host.
pub fn probe_session(bytes: &[u8]) -> Session {
    let config = HostConfig {
        allow_http: true,
        allow_net: true,
        ..HostConfig::default()
    };
    Session::new(&airlock_host::engine(), bytes, &config).expect("the probe instantiates")
}

/// Calls a probe function with string arguments: `Ok(status or ())` or the
/// probe's error text.
pub fn call(session: &mut Session, func: &str, args: &[&str]) -> Result<Option<u16>, String> {
    let args: Vec<Val> = args.iter().map(|a| Val::String(a.to_string())).collect();
    let result = session
        .call_export(Some(PROBE), func, &args)
        .unwrap_or_else(|e| panic!("calling `{func}`: {e:#}"));
    match result.into_iter().next() {
        Some(Val::Result(Ok(None))) => Ok(None),
        Some(Val::Result(Ok(Some(v)))) => match *v {
            Val::U16(status) => Ok(Some(status)),
            other => panic!("unexpected value {other:?}"),
        },
        Some(Val::Result(Err(Some(e)))) => match *e {
            Val::String(s) => Err(s),
            other => panic!("unexpected error {other:?}"),
        },
        other => panic!("unexpected result {other:?}"),
    }
}
