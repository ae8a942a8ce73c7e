//! Requests against the HTTP rules, as plain functions (unit-tested natively).
//!
//! The rules (`METHODS AUTHORITY`, read from the settings lines `allow RULE`)
//! are [`airlock_slice_settings::HttpSettings`]: the composer checks and
//! writes them with the same types. This crate reads the other side, the
//! request: its authority (`HOST[:PORT]`, a DNS name, an IPv4 address or a
//! bracketed IPv6 address, compared case-insensitively; a trailing dot of
//! the host is ignored) and its effective port (the authority's, else the
//! scheme's default: 80 for `http`, 443 for `https`).
//!
//! A request matches when its method, host and effective port match one
//! rule. An IPv6 host is compared as text, lowercased, as the rule was
//! written (a rule `[0::1]` does not match a request to `[::1]`; noted as
//! disagreement D1 in `airlock-slice-settings`' `WIRING.md`: it fails closed). Anything this crate cannot read (no authority, user info, odd
//! characters, a bad port) matches nothing: when in doubt, deny.
//!
//! One crate for both HTTP interposers: `interpose-http` (WASI 0.2,
//! `wasi:http/outgoing-handler`) and `interpose-http3` (WASI 0.3,
//! `wasi:http/client`) read their requests differently and match them here.

#![cfg_attr(target_family = "wasm", no_std)]

extern crate alloc;

use airlock_slice_settings::HttpSettings;
use airlock_slice_settings::http::is_dns_name;
use alloc::string::String;
use alloc::vec::Vec;

/// The scheme of a request (other schemes are denied before matching).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// `http`: default port 80.
    Http,
    /// `https`: default port 443.
    Https,
}

impl Scheme {
    fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// Whether a request with this method, scheme and authority may go to the host.
pub fn allows(rules: &HttpSettings, method: &str, scheme: Scheme, authority: Option<&str>) -> bool {
    let Some((host, port)) = authority.and_then(split_authority) else {
        return false;
    };
    // A request's host may end with the root's dot; it names the same host.
    let host = host.strip_suffix('.').unwrap_or(host);
    let Some(host) = host_name(host) else {
        return false;
    };
    let port = match port {
        None => scheme.default_port(),
        Some(p) => match port_number(p) {
            Some(p) => p,
            None => return false,
        },
    };
    rules.allows(method, &host, port, scheme.default_port())
}

/// Whether the request's `host` header values (if any) name its authority.
/// Runtimes such as wasmtime refuse a guest's `host` header, but one that
/// sent it would let a proxy or virtual host route the request elsewhere.
pub fn host_header_ok(authority: &str, values: &[Vec<u8>]) -> bool {
    values
        .iter()
        .all(|v| v.eq_ignore_ascii_case(authority.as_bytes()))
}

/// `host[:port]` or `[v6][:port]`, split; `None` when it has no host or more
/// than one unbracketed `:`.
fn split_authority(authority: &str) -> Option<(&str, Option<&str>)> {
    let (host, rest) = if authority.starts_with('[') {
        let end = authority.find(']')?;
        authority.split_at_checked(end + 1)?
    } else {
        match authority.split_once(':') {
            Some((host, port)) => return (!host.is_empty()).then_some((host, Some(port))),
            None => return (!authority.is_empty()).then_some((authority, None)),
        }
    };
    match rest {
        "" => Some((host, None)),
        _ => Some((host, Some(rest.strip_prefix(':')?))),
    }
}

/// A host (DNS name, IPv4 address or `[IPv6]`), lowercased; `None` when it is
/// anything else (user info, a wildcard, percent-escapes, spaces ...).
fn host_name(host: &str) -> Option<String> {
    match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => {
            let ok = !v6.is_empty()
                && v6.contains(':')
                && v6
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
            ok.then(|| host.to_ascii_lowercase())
        }
        None => dns_name(host),
    }
}

/// A DNS name (or IPv4 address), lowercased.
fn dns_name(name: &str) -> Option<String> {
    is_dns_name(name).then(|| name.to_ascii_lowercase())
}

/// A port number 1..=65535 in plain digits.
fn port_number(port: &str) -> Option<u16> {
    if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    port.parse().ok().filter(|p| *p != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(lines: &[&str]) -> HttpSettings {
        HttpSettings::from_lines(
            &lines
                .iter()
                .map(|l| format!("allow {l}"))
                .collect::<Vec<_>>(),
        )
    }

    const H: Scheme = Scheme::Http;
    const S: Scheme = Scheme::Https;

    #[test]
    fn methods_are_listed_or_any_and_case_sensitive() {
        let r = rules(&["GET,POST 127.0.0.1:8080", "* api.example.com"]);
        assert!(allows(&r, "GET", H, Some("127.0.0.1:8080")));
        assert!(allows(&r, "POST", H, Some("127.0.0.1:8080")));
        assert!(!allows(&r, "PUT", H, Some("127.0.0.1:8080")));
        assert!(!allows(&r, "get", H, Some("127.0.0.1:8080")));
        assert!(allows(&r, "DELETE", S, Some("api.example.com")));
        assert!(allows(&r, "PROPFIND", S, Some("API.Example.COM")));
    }

    #[test]
    fn wildcards_match_subdomains_at_any_depth_but_not_the_bare_domain() {
        let r = rules(&["GET *.example.com"]);
        assert!(allows(&r, "GET", S, Some("a.example.com")));
        assert!(allows(&r, "GET", S, Some("a.b.example.com")));
        assert!(allows(&r, "GET", S, Some("a.example.com.")));
        assert!(!allows(&r, "GET", S, Some("example.com")));
        assert!(!allows(&r, "GET", S, Some("badexample.com")));
        assert!(!allows(&r, "GET", S, Some("a.example.com.evil.net")));
        assert!(!allows(&r, "GET", S, Some(".example.com")));
    }

    #[test]
    fn a_rule_without_port_matches_the_schemes_default_port_only() {
        let r = rules(&["GET example.com"]);
        assert!(allows(&r, "GET", H, Some("example.com")));
        assert!(allows(&r, "GET", H, Some("example.com:80")));
        assert!(allows(&r, "GET", S, Some("example.com")));
        assert!(allows(&r, "GET", S, Some("example.com:443")));
        assert!(!allows(&r, "GET", H, Some("example.com:443")));
        assert!(!allows(&r, "GET", H, Some("example.com:8080")));
        let any = rules(&["GET example.com:*"]);
        assert!(allows(&any, "GET", H, Some("example.com:8080")));
        assert!(allows(&any, "GET", S, Some("example.com")));
        let exact = rules(&["GET example.com:8080"]);
        assert!(allows(&exact, "GET", H, Some("example.com:8080")));
        assert!(!allows(&exact, "GET", H, Some("example.com")));
    }

    #[test]
    fn ip_addresses_compare_exactly() {
        let r = rules(&["GET 127.0.0.1:8080", "GET [::1]:8080"]);
        assert!(allows(&r, "GET", H, Some("127.0.0.1:8080")));
        assert!(!allows(&r, "GET", H, Some("127.0.0.2:8080")));
        assert!(!allows(&r, "GET", H, Some("127.0.0.1:8081")));
        assert!(!allows(&r, "GET", H, Some("2130706433:8080")));
        assert!(allows(&r, "GET", H, Some("[::1]:8080")));
        assert!(!allows(&r, "GET", H, Some("[::2]:8080")));
    }

    #[test]
    fn unreadable_authorities_are_denied() {
        let r = rules(&["* example.com:*", "* *.example.com:*"]);
        for bad in [
            "",
            ":80",
            "user@example.com",
            "evil.net@example.com",
            "example.com:",
            "example.com:0",
            "example.com:99999",
            "example.com:+80",
            "example.com:80:80",
            "exa mple.com",
            "example.com/",
            "%65xample.com",
            "*.example.com",
            "a..example.com",
            "[::1",
        ] {
            assert!(!allows(&r, "GET", H, Some(bad)), "{bad}");
        }
        assert!(!allows(&r, "GET", H, None));
    }

    #[test]
    fn a_host_header_must_name_the_authority() {
        assert!(host_header_ok("a.example.com", &[]));
        assert!(host_header_ok(
            "a.example.com",
            &[b"A.example.com".to_vec()]
        ));
        assert!(!host_header_ok("a.example.com", &[b"evil.net".to_vec()]));
        let two = [b"a.example.com".to_vec(), b"evil.net".to_vec()];
        assert!(!host_header_ok("a.example.com", &two));
    }
}
