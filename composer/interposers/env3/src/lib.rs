//! The `env-from-host` interposer on WASI 0.3: exports
//! `wasi:cli/environment@0.3.0` built from the host's (imported) one, keeping
//! only the variables its settings name, plus fixed values. The settings and
//! what is done with them are the 0.2 interposer's (`composer/interposers/env`):
//! [`airlock_slice_settings::EnvSettings`] reads the lines and filters.
//!
//! The three functions are sync in WASI 0.3 too, so no component-model async
//! is needed (wit-bindgen's `async` feature stays off). `no_std` with
//! `interpose-rt`, so the component imports nothing of WASI 0.2.

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
        world: "airlock:interpose/env3-filter",
        generate_all,
    });

    use airlock::interpose::config;
    use airlock_slice_settings::EnvSettings as Settings;
    use alloc::string::String;
    use alloc::vec::Vec;
    use exports::wasi::cli::environment::Guest;
    use wasi::cli::environment as host;

    #[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
    struct Component;

    fn settings() -> Settings {
        Settings::from_lines(&config::get())
    }

    impl Guest for Component {
        fn get_environment() -> Vec<(String, String)> {
            // The host is asked only when a host variable is named.
            settings().environment(host::get_environment)
        }
        fn get_arguments() -> Vec<String> {
            settings().args
        }
        fn get_initial_cwd() -> Option<String> {
            settings().cwd
        }
    }

    #[cfg(target_family = "wasm")]
    export!(Component);
}
