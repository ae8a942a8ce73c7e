//! The `env-from-host` interposer: exports `wasi:cli/environment` built from
//! the host's (imported) environment, keeping only the variables its settings
//! name, plus fixed values. Settings (`airlock:interpose/config`), one per entry:
//! `host NAME`, `set NAME=VALUE`, `arg VALUE`, `cwd PATH`.
//!
//! The host's arguments and working directory are never passed through: the
//! library gets the fixed ones, or none.

#![cfg_attr(target_family = "wasm", no_std)]

extern crate alloc;

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use guest_rt as _;

/// The parsed settings.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// Host variables to pass through, in order.
    pub host: Vec<String>,
    /// Fixed variables.
    pub set: Vec<(String, String)>,
    /// Fixed arguments.
    pub args: Vec<String>,
    /// Fixed initial working directory.
    pub cwd: Option<String>,
}

impl Settings {
    /// Parses the settings lines; unknown lines are ignored (the composer writes them).
    pub fn parse(lines: &[String]) -> Settings {
        let mut s = Settings::default();
        for line in lines {
            let (verb, rest) = line.split_once(' ').unwrap_or((line, ""));
            match verb {
                "host" => s.host.push(rest.to_string()),
                "set" => {
                    let (k, v) = rest.split_once('=').unwrap_or((rest, ""));
                    s.set.push((k.to_string(), v.to_string()));
                }
                "arg" => s.args.push(rest.to_string()),
                "cwd" => s.cwd = Some(rest.to_string()),
                _ => {}
            }
        }
        s
    }

    /// The environment the library sees: the named host variables (in the
    /// host's order) followed by the fixed ones; a fixed value wins over a
    /// host value of the same name.
    pub fn environment(&self, host: Vec<(String, String)>) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = host
            .into_iter()
            .filter(|(k, _)| self.host.iter().any(|h| h == k))
            .filter(|(k, _)| !self.set.iter().any(|(s, _)| s == k))
            .collect();
        out.extend(self.set.iter().cloned());
        out
    }
}

mod bindings {
    wit_bindgen::generate!({
        // `wit/interpose/deps` links to the vendored WASI packages.
        path: "../../../wit/interpose",
        world: "airlock:interpose/env-filter",
        generate_all,
    });

    use super::Settings;
    use airlock::interpose::config;
    use alloc::string::String;
    use alloc::vec::Vec;
    use exports::wasi::cli::environment::Guest;
    use wasi::cli::environment as host;

    #[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
    struct Component;

    fn settings() -> Settings {
        Settings::parse(&config::get())
    }

    impl Guest for Component {
        fn get_environment() -> Vec<(String, String)> {
            let settings = settings();
            // Ask the host only when a host variable is wanted at all.
            if settings.host.is_empty() {
                return settings.environment(Vec::new());
            }
            settings.environment(host::get_environment())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn s(lines: &[&str]) -> Settings {
        Settings::parse(&lines.iter().map(|l| l.to_string()).collect::<Vec<_>>())
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn only_named_host_variables_pass() {
        let settings = s(&["host LANG", "set LOG_LEVEL=info"]);
        let host = pairs(&[("AWS_SECRET", "x"), ("LANG", "C.UTF-8"), ("HOME", "/root")]);
        assert_eq!(
            settings.environment(host),
            pairs(&[("LANG", "C.UTF-8"), ("LOG_LEVEL", "info")])
        );
    }

    #[test]
    fn fixed_values_win_and_values_keep_their_equals_signs() {
        let settings = s(&["host A", "set A=x=y", "arg one", "arg two", "cwd /w"]);
        assert_eq!(
            settings.environment(pairs(&[("A", "host")])),
            pairs(&[("A", "x=y")])
        );
        assert_eq!(settings.args, ["one", "two"]);
        assert_eq!(settings.cwd.as_deref(), Some("/w"));
    }
}
