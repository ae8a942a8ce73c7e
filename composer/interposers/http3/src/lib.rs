//! The `http` interposer on WASI 0.3: exports `wasi:http/client@0.3.0` and
//! forwards a request to the host's (imported) `send` only when one of its
//! rules allows the request's method and authority. Any other request is
//! dropped here, and the caller gets `HTTP-request-denied`: it never reaches
//! the host. Settings (`airlock:interpose/config`), one per entry: `allow
//! METHODS AUTHORITY`, read and matched as the 0.2 interposer does
//! (`composer/interposers/http`; the matching is the crate
//! `interpose-http-rules`, shared by both).
//!
//! A request whose `host` header names another authority is denied too.
//! A request without a scheme is sent as `https` (what wasi-http hosts
//! assume), and the interposer sets that scheme explicitly, so the port it
//! checked is the port the host connects to. Other schemes are denied.
//!
//! `no_std` with `interpose-rt`, so the component imports nothing of WASI 0.2.

#![cfg_attr(target_family = "wasm", no_std)]

extern crate alloc;

use interpose_rt as _;

mod bindings {
    wit_bindgen::generate!({
        // The whole `airlock:interpose` 0.3 package is parsed, so every WASI
        // 0.3 package its worlds use is listed.
        path: [
            "../../../wit/deps-0.3/clocks",
            "../../../wit/deps-0.3/filesystem",
            "../../../wit/deps-0.3/sockets",
            "../../../wit/deps-0.3/random",
            "../../../wit/deps-0.3/cli",
            "../../../wit/deps-0.3/http",
            "../../../wit/interpose-p3",
        ],
        world: "airlock:interpose/http3-filter",
        generate_all,
    });

    use airlock::interpose::config;
    use airlock_slice_settings::HttpSettings;
    use core::sync::atomic::AtomicPtr;
    use exports::wasi::http::client::Guest;
    use interpose_http_rules::{self as rules, Scheme, host_header_ok};
    use wasi::http::client as host;
    use wasi::http::types::{ErrorCode, Method, Request, Response, Scheme as WasiScheme};

    #[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
    struct Component;

    /// The rules, read once per instance: they are fixed in the output.
    fn settings() -> &'static HttpSettings {
        static RULES: AtomicPtr<HttpSettings> = AtomicPtr::new(core::ptr::null_mut());
        interpose_rt::once(&RULES, || HttpSettings::from_lines(&config::get()))
    }

    fn method_name(m: &Method) -> &str {
        match m {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Connect => "CONNECT",
            Method::Options => "OPTIONS",
            Method::Trace => "TRACE",
            Method::Patch => "PATCH",
            Method::Other(name) => name,
        }
    }

    /// Whether `request` may go to the host (its scheme pinned to `https`
    /// when it had none).
    fn allowed(request: &Request) -> bool {
        let scheme = match request.get_scheme() {
            Some(WasiScheme::Http) => Scheme::Http,
            Some(WasiScheme::Https) => Scheme::Https,
            None => {
                // Pin the host's default, so the checked port is the one used.
                if request.set_scheme(Some(&WasiScheme::Https)).is_err() {
                    return false;
                }
                Scheme::Https
            }
            Some(WasiScheme::Other(_)) => return false,
        };
        let method = request.get_method();
        let authority = request.get_authority();
        rules::allows(
            settings(),
            method_name(&method),
            scheme,
            authority.as_deref(),
        ) && authority
            .as_deref()
            .is_some_and(|a| host_header_ok(a, &request.get_headers().get("host")))
    }

    impl Guest for Component {
        async fn send(request: Request) -> Result<Response, ErrorCode> {
            if !allowed(&request) {
                // Dropping `request` here frees it; the host never sees it sent.
                return Err(ErrorCode::HttpRequestDenied);
            }
            host::send(request).await
        }
    }

    #[cfg(target_family = "wasm")]
    export!(Component);
}
