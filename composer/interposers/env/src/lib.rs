//! The `env-from-host` interposer: exports `wasi:cli/environment` built from
//! the host's (imported) environment, keeping only the variables its settings
//! name, plus fixed values. Settings (`airlock:interpose/config`), one per entry:
//! `host NAME`, `set NAME=VALUE`, `arg VALUE`, `cwd PATH`
//! ([`airlock_slice_settings::EnvSettings`], the types the composer writes
//! them with).
//!
//! The host's arguments and working directory are never passed through: the
//! library gets the fixed ones, or none.

#![cfg_attr(target_family = "wasm", no_std)]

extern crate alloc;

use interpose_rt as _;

mod bindings {
    wit_bindgen::generate!({
        // `wit/interpose/deps` links to the vendored WASI packages.
        path: "../../../wit/interpose",
        world: "airlock:interpose/env-filter",
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
        fn initial_cwd() -> Option<String> {
            settings().cwd
        }
    }

    #[cfg(target_family = "wasm")]
    export!(Component);
}
