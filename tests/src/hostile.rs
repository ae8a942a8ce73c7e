//! A tiny hostile OCI registry for the tests: a `std::net::TcpListener` on
//! 127.0.0.1 in a thread, answering each request with whatever the test's
//! handler says (honest answers from a [`Catalog`], or lies: a wrong size,
//! an endless body, a trickle, a token service elsewhere). It records every
//! request with its headers and counts the body bytes it sent. One request
//! per connection (`Connection: close`); at most 256 connections; a body is
//! never longer than 4 GiB. Dropping the server stops it: the accept loop and
//! every connection end within a second or so.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// The OCI manifest's media type.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// The wasm config's media type.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// The component layer's media type.
pub const LAYER_MEDIA_TYPE: &str = "application/wasm";

/// The longest body the server ever sends.
const MAX_BODY: u64 = 4 << 30;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `HEAD`, ...
    pub method: String,
    /// The request target: path and query.
    pub target: String,
    /// Header names in lowercase, in order.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// The query (after `?`), or "".
    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }

    /// A header's value (name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What a reply's body is.
#[derive(Debug, Clone)]
pub enum Body {
    /// These bytes.
    Bytes(Vec<u8>),
    /// `prefix`, then `pattern` repeated up to `len` bytes in all (generated
    /// as it is sent; `u64::MAX`: until the client leaves).
    Repeat {
        /// Sent first.
        prefix: Vec<u8>,
        /// Then this, over and over.
        pattern: Vec<u8>,
        /// The whole length.
        len: u64,
    },
    /// One byte every `every`, until the client leaves.
    Trickle {
        /// The pause between bytes.
        every: Duration,
    },
}

/// An answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Body,
    /// The `Content-Length` to announce (`None`: the body ends when the
    /// connection closes). May lie.
    pub content_length: Option<u64>,
}

impl Reply {
    /// `status` with these bytes (and their true length).
    pub fn bytes(status: u16, content_type: &str, bytes: Vec<u8>) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            content_length: Some(bytes.len() as u64),
            body: Body::Bytes(bytes),
        }
    }

    /// `200` with a JSON document.
    pub fn json(value: &serde_json::Value) -> Self {
        Self::bytes(200, "application/json", value.to_string().into_bytes())
    }

    /// An OCI error envelope with `status` and `code`.
    pub fn error(status: u16, code: &str) -> Self {
        Self::bytes(
            status,
            "application/json",
            serde_json::json!({"errors": [{"code": code, "message": code.to_lowercase()}]})
                .to_string()
                .into_bytes(),
        )
    }

    /// `401` with this `WWW-Authenticate` challenge.
    pub fn challenge(value: &str) -> Self {
        Self::error(401, "UNAUTHORIZED").header("WWW-Authenticate", value)
    }

    /// `prefix` then `pattern` repeated, `len` bytes in all, without a
    /// `Content-Length` (the body ends when the connection closes).
    pub fn stream(content_type: &str, prefix: &[u8], pattern: &[u8], len: u64) -> Self {
        Self {
            status: 200,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: Body::Repeat {
                prefix: prefix.to_vec(),
                pattern: pattern.to_vec(),
                len,
            },
            content_length: None,
        }
    }

    /// With one more header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Announcing `Content-Length: len` (`None`: none), whatever the body.
    pub fn content_length(mut self, len: Option<u64>) -> Self {
        self.content_length = len;
        self
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

struct Shared {
    stop: AtomicBool,
    requests: Mutex<Vec<Request>>,
    sent: AtomicU64,
    workers: Mutex<Vec<JoinHandle<()>>>,
    handler: Box<Handler>,
}

/// A running hostile registry.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts a server on 127.0.0.1 (a free port) answering with `handler`.
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("non-blocking");
        let addr = listener.local_addr().expect("an address");
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            requests: Mutex::new(Vec::new()),
            sent: AtomicU64::new(0),
            workers: Mutex::new(Vec::new()),
            handler: Box::new(handler),
        });
        let accept = {
            let shared = shared.clone();
            std::thread::spawn(move || accept_loop(&listener, &shared))
        };
        Self {
            addr,
            shared,
            accept: Some(accept),
        }
    }

    /// `127.0.0.1:PORT`
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// Every `Authorization` header value received so far.
    pub fn authorizations(&self) -> Vec<String> {
        self.requests()
            .iter()
            .filter_map(|r| r.header("authorization").map(str::to_string))
            .collect()
    }

    /// How many requests had a path ending in `suffix`.
    pub fn count(&self, suffix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.path().ends_with(suffix))
            .count()
    }

    /// Body bytes written to sockets so far (what the kernel accepted).
    pub fn body_bytes_sent(&self) -> u64 {
        self.shared.sent.load(Ordering::Relaxed)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(a) = self.accept.take() {
            let _ = a.join();
        }
        let workers = std::mem::take(&mut *self.shared.workers.lock().unwrap());
        for w in workers {
            let _ = w.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    while !shared.stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, _)) => {
                let mut workers = shared.workers.lock().unwrap();
                workers.retain(|w| !w.is_finished());
                if workers.len() >= 256 {
                    continue; // dropped: the client sees a closed connection
                }
                let shared = shared.clone();
                workers.push(std::thread::spawn(move || serve(stream, &shared)));
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// Reads one request (head at most 64 KiB; a body is read and dropped).
fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 64 << 10 || stream.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.split("\r\n");
    let mut first = lines.next()?.split_whitespace();
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: u64 = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let _ = std::io::copy(&mut stream.take(length.min(1 << 30)), &mut std::io::sink());
    Some(Request {
        method,
        target,
        headers,
    })
}

fn serve(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_write_timeout(Some(Duration::from_millis(200)));
    // A TLS handshake (an HTTPS client): answer in plain HTTP at once, as
    // real HTTP servers do.
    let mut first = [0u8; 1];
    if stream.peek(&mut first).is_ok_and(|n| n == 1) && first[0] == 0x16 {
        let _ = stream.write_all(b"HTTP/1.0 400 Bad Request\r\nConnection: close\r\n\r\n");
        return;
    }
    let Some(request) = read_request(&mut stream) else {
        return;
    };
    let reply = (shared.handler)(&request);
    shared.requests.lock().unwrap().push(request.clone());
    let mut head = format!("HTTP/1.1 {} X\r\nConnection: close\r\n", reply.status);
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(n) = reply.content_length {
        head.push_str(&format!("Content-Length: {n}\r\n"));
    }
    head.push_str("\r\n");
    if !write_all(&mut stream, head.as_bytes(), shared, false) {
        return;
    }
    if request.method == "HEAD" {
        return;
    }
    match &reply.body {
        Body::Bytes(b) => {
            write_all(&mut stream, b, shared, true);
        }
        Body::Repeat {
            prefix,
            pattern,
            len,
        } => {
            let len = (*len).min(MAX_BODY);
            let prefix = &prefix[..prefix.len().min(len as usize)];
            if !write_all(&mut stream, prefix, shared, true) {
                return;
            }
            let mut left = len - prefix.len() as u64;
            let mut chunk = Vec::with_capacity(64 << 10);
            while chunk.len() < 64 << 10 && !pattern.is_empty() {
                chunk.extend_from_slice(pattern);
            }
            while left > 0 && !chunk.is_empty() {
                let n = chunk.len().min(left as usize);
                if !write_all(&mut stream, &chunk[..n], shared, true) {
                    return;
                }
                left -= n as u64;
            }
        }
        Body::Trickle { every } => loop {
            if !write_all(&mut stream, b" ", shared, true) {
                return;
            }
            std::thread::sleep(*every);
        },
    }
    let _ = stream.flush();
}

/// Writes everything unless the client left or the server stops; counts
/// body bytes. True when all was written.
fn write_all(stream: &mut TcpStream, mut bytes: &[u8], shared: &Shared, body: bool) -> bool {
    while !bytes.is_empty() {
        if shared.stop.load(Ordering::Relaxed) {
            return false;
        }
        match stream.write(bytes) {
            Ok(0) => return false,
            Ok(n) => {
                if body {
                    shared.sent.fetch_add(n as u64, Ordering::Relaxed);
                }
                bytes = &bytes[n..];
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) => {}
            Err(_) => return false,
        }
    }
    true
}

/// `sha256:<hex>`
pub fn sha256(bytes: &[u8]) -> String {
    airlock_registry::sha256(bytes)
}

/// An OCI image manifest in wkg's layout for a layer with this digest and
/// declared size (which may lie).
pub fn manifest(config: &[u8], layer_digest: &str, layer_size: u64) -> Vec<u8> {
    serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": {
            "mediaType": CONFIG_MEDIA_TYPE,
            "digest": sha256(config),
            "size": config.len(),
        },
        "layers": [{
            "mediaType": LAYER_MEDIA_TYPE,
            "digest": layer_digest,
            "size": layer_size,
        }],
    })
    .to_string()
    .into_bytes()
}

/// The wasm config blob for a component.
pub fn config(component: &[u8]) -> Vec<u8> {
    serde_json::json!({
        "created": "1970-01-01T00:00:00Z",
        "architecture": "wasm",
        "os": "wasip2",
        "layerDigests": [sha256(component)],
        "component": {"exports": [], "imports": [], "target": null},
    })
    .to_string()
    .into_bytes()
}

/// Honest answers: packages published in wkg's layout, by repository and
/// tag. `GET /v2/` is `200`; anything unknown is `404` with an OCI error.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    tags: BTreeMap<String, Vec<String>>,
    manifests: BTreeMap<(String, String), Vec<u8>>,
    blobs: BTreeMap<(String, String), Vec<u8>>,
}

impl Catalog {
    /// With `component` published as `repository:tag` (e.g. `team/t/lib`, `0.1.0`).
    pub fn with(mut self, repository: &str, tag: &str, component: &[u8]) -> Self {
        let config = config(component);
        let manifest = manifest(&config, &sha256(component), component.len() as u64);
        let repo = repository.to_string();
        self.tags.entry(repo.clone()).or_default().push(tag.into());
        self.manifests.insert((repo.clone(), tag.into()), manifest);
        self.blobs
            .insert((repo.clone(), sha256(&config)), config.clone());
        self.blobs
            .insert((repo, sha256(component)), component.to_vec());
        self
    }

    /// The honest answer to a request.
    pub fn reply(&self, request: &Request) -> Reply {
        let path = request.path();
        if path == "/v2/" || path == "/v2" {
            return Reply::json(&serde_json::json!({}));
        }
        let Some(rest) = path.strip_prefix("/v2/") else {
            return Reply::error(404, "NOT_FOUND");
        };
        if let Some(repo) = rest.strip_suffix("/tags/list") {
            return match self.tags.get(repo) {
                Some(tags) => Reply::json(&serde_json::json!({"name": repo, "tags": tags})),
                None => Reply::error(404, "NAME_UNKNOWN"),
            };
        }
        if let Some((repo, tag)) = rest.rsplit_once("/manifests/") {
            return match self.manifests.get(&(repo.to_string(), tag.to_string())) {
                Some(m) => Reply::bytes(200, MANIFEST_MEDIA_TYPE, m.clone())
                    .header("Docker-Content-Digest", &sha256(m)),
                None => Reply::error(404, "MANIFEST_UNKNOWN"),
            };
        }
        if let Some((repo, digest)) = rest.rsplit_once("/blobs/") {
            return match self.blobs.get(&(repo.to_string(), digest.to_string())) {
                Some(b) => Reply::bytes(200, "application/octet-stream", b.clone()),
                None => Reply::error(404, "BLOB_UNKNOWN"),
            };
        }
        Reply::error(404, "NOT_FOUND")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(server: &Server, path: &str) -> (u16, Vec<u8>) {
        let mut s = TcpStream::connect(server.host()).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic eA==\r\n\r\n"
        )
        .unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let status = String::from_utf8_lossy(&raw[9..12]).parse().unwrap();
        (status, raw[split + 4..].to_vec())
    }

    #[test]
    fn serves_a_catalog_and_records_requests() {
        let catalog = Catalog::default().with("t/lib", "0.1.0", b"component");
        let server = Server::start(move |r| catalog.reply(r));
        let (status, body) = get(&server, "/v2/t/lib/tags/list");
        assert_eq!(status, 200);
        assert!(String::from_utf8_lossy(&body).contains("0.1.0"));
        let (status, body) = get(
            &server,
            &format!("/v2/t/lib/blobs/{}", sha256(b"component")),
        );
        assert_eq!((status, body.as_slice()), (200, &b"component"[..]));
        assert_eq!(get(&server, "/v2/t/none/tags/list").0, 404);
        assert_eq!(server.requests().len(), 3);
        assert_eq!(server.authorizations(), ["Basic eA=="; 3]);
        assert_eq!(server.count("/tags/list"), 2);
    }

    #[test]
    fn streams_are_bounded_and_stop_when_dropped() {
        let server = Server::start(|_| Reply::stream("x", b"[", b"ab", 10));
        let (_, body) = get(&server, "/x");
        assert_eq!(body, b"[ababababa");
        assert_eq!(server.body_bytes_sent(), 10);

        // An endless body to a client that stops reading: dropping the server ends it.
        let server = Server::start(|_| Reply::stream("x", b"", b"z", u64::MAX));
        let mut s = TcpStream::connect(server.host()).unwrap();
        write!(s, "GET / HTTP/1.1\r\n\r\n").unwrap();
        std::thread::sleep(Duration::from_millis(300));
        let start = std::time::Instant::now();
        drop(server);
        assert!(start.elapsed() < Duration::from_secs(5));
    }
}
