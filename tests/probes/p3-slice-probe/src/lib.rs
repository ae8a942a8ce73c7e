//! `airlock:p3-slice-probe/probe`: a WASI 0.3 library for the slice tests
//! (`tests/tests/slice_p3.rs`). `env` returns the environment it gets from
//! `wasi:cli/environment@0.3.0`; `fetch` sends a request through
//! `wasi:http/client@0.3.0` and says what came back: the status (`200`) or
//! the error code in kebab case (`err(http-request-denied)`), then how the
//! request's transmission ended (`; sent ok`).
//!
//! `no_std` on wasm (see `guest-rt`), so the imports are exactly the world's.

#![cfg_attr(target_family = "wasm", no_std)]

extern crate alloc;

use guest_rt as _;

#[cfg(target_family = "wasm")]
mod calls {
    use crate::bindings::wasi::http::client;
    use crate::bindings::wasi::http::types::{
        ErrorCode, Fields, Method, Request, Scheme, Trailers,
    };
    use crate::bindings::wit_future;
    use alloc::format;
    use alloc::string::String;
    use guest_rt::kebab;

    fn method(name: &str) -> Method {
        match name {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "OPTIONS" => Method::Options,
            "PATCH" => Method::Patch,
            other => Method::Other(String::from(other)),
        }
    }

    /// `METHOD http://AUTHORITY/PATH`: the status or the error.
    pub async fn fetch(method_name: &str, url: &str) -> String {
        let (scheme, rest) = match url.split_once("://") {
            Some(("http", rest)) => (Scheme::Http, rest),
            Some(("https", rest)) => (Scheme::Https, rest),
            _ => return format!("bad url `{url}`"),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, "/"),
        };
        // The trailers' writer is dropped at once: the request has none.
        let (writer, trailers) =
            wit_future::new::<Result<Option<Trailers>, ErrorCode>>(|| Ok(None));
        drop(writer);
        // No body: said so, or hyper sends an empty chunked body after the
        // head, which the tests' one-shot server may not wait for.
        let headers = match Fields::from_list(&[(String::from("content-length"), b"0".to_vec())]) {
            Ok(headers) => headers,
            Err(e) => return format!("headers: {e:?}"),
        };
        let (request, sent) = Request::new(headers, None, trailers, None);
        let set = [
            request.set_method(&method(method_name)),
            request.set_scheme(Some(&scheme)),
            request.set_authority(Some(authority)),
            request.set_path_with_query(Some(path)),
        ];
        if set.iter().any(Result::is_err) {
            return format!("the request refused `{method_name} {url}`");
        }
        let answer = match client::send(request).await {
            Ok(response) => format!("{}", response.get_status_code()),
            Err(e) => format!("err({})", kebab(&format!("{e:?}"))),
        };
        let sent = match sent.await {
            Ok(()) => String::from("ok"),
            Err(e) => format!("err({})", kebab(&format!("{e:?}"))),
        };
        format!("{answer}; sent {sent}")
    }
}

mod bindings {
    wit_bindgen::generate!({
        path: [
            "../../../wit/deps-0.3/clocks",
            "../../../wit/deps-0.3/random",
            "../../../wit/deps-0.3/filesystem",
            "../../../wit/deps-0.3/sockets",
            "../../../wit/deps-0.3/cli",
            "../../../wit/deps-0.3/http",
            "../../../wit/p3-slice-probe",
        ],
        world: "airlock:p3-slice-probe/p3-slice-probe",
        generate_all,
    });

    use alloc::string::String;
    use alloc::vec::Vec;
    use exports::airlock::p3_slice_probe::probe::Guest;

    #[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
    struct Component;

    impl Guest for Component {
        fn env() -> Vec<(String, String)> {
            wasi::cli::environment::get_environment()
        }

        #[cfg(target_family = "wasm")]
        async fn fetch(method: String, url: String) -> String {
            super::calls::fetch(&method, &url).await
        }

        #[cfg(not(target_family = "wasm"))]
        async fn fetch(method: String, url: String) -> String {
            alloc::format!("{method} {url}")
        }
    }

    #[cfg(target_family = "wasm")]
    export!(Component);
}
