//! The `http` interposer: exports `wasi:http/outgoing-handler` and forwards a
//! request to the host's (imported) handler only when one of its rules allows
//! the request's method and authority. Any other request is dropped here, and
//! the caller gets `HTTP-request-denied`: it never reaches the host. Settings
//! (`airlock:interpose/config`), one per entry: `allow METHODS AUTHORITY`
//! (see [`rules`], the crate `interpose-http-rules`, for the matching).
//!
//! A request whose `host` header names another authority is denied too.
//! A request without a scheme is sent as `https` (what wasi-http hosts assume),
//! and the interposer sets that scheme explicitly, so the port it checked is
//! the port the host connects to. Other schemes are denied.

#![cfg_attr(target_family = "wasm", no_std)]

extern crate alloc;

pub use interpose_http_rules as rules;

use interpose_rt as _;

mod bindings {
    wit_bindgen::generate!({
        // `wit/interpose/deps` links to the vendored WASI packages.
        path: "../../../wit/interpose",
        world: "airlock:interpose/http-filter",
        generate_all,
    });

    use super::rules::{self, Scheme, host_header_ok};
    use airlock::interpose::config;
    use airlock_slice_settings::HttpSettings;
    use core::sync::atomic::AtomicPtr;
    use exports::wasi::http::outgoing_handler::Guest;
    use wasi::http::outgoing_handler as host;
    use wasi::http::types::{
        ErrorCode, FutureIncomingResponse, Method, OutgoingRequest, RequestOptions,
        Scheme as WasiScheme,
    };

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

    impl Guest for Component {
        fn handle(
            request: OutgoingRequest,
            options: Option<RequestOptions>,
        ) -> Result<FutureIncomingResponse, ErrorCode> {
            let scheme = match request.scheme() {
                Some(WasiScheme::Http) => Scheme::Http,
                Some(WasiScheme::Https) => Scheme::Https,
                None => {
                    // Pin the host's default, so the checked port is the one used.
                    if request.set_scheme(Some(&WasiScheme::Https)).is_err() {
                        return Err(ErrorCode::HttpRequestDenied);
                    }
                    Scheme::Https
                }
                Some(WasiScheme::Other(_)) => return Err(ErrorCode::HttpRequestDenied),
            };
            let method = request.method();
            let authority = request.authority();
            let allowed = rules::allows(
                settings(),
                method_name(&method),
                scheme,
                authority.as_deref(),
            ) && authority
                .as_deref()
                .is_some_and(|a| host_header_ok(a, &request.headers().get("host")));
            if !allowed {
                // Dropping `request` here frees it; the host never sees it sent.
                return Err(ErrorCode::HttpRequestDenied);
            }
            host::handle(request, options)
        }
    }

    #[cfg(target_family = "wasm")]
    export!(Component);
}
