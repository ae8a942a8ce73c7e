//! The HTTP rules and their matching, as plain functions (unit-tested natively).
//!
//! A rule is `METHODS AUTHORITY`:
//! - `METHODS`: `*` (any method) or a comma list of method names, compared
//!   case-sensitively as HTTP does (`GET` is not `get`).
//! - `AUTHORITY`: `HOST[:PORT]`. `HOST` is a DNS name, an IPv4 address or a
//!   bracketed IPv6 address, compared case-insensitively (a trailing dot of a
//!   request's host is ignored); `*.example.com` matches every subdomain of
//!   `example.com` at any depth, but NOT `example.com` itself (write both to
//!   allow both). `PORT` is a number or `*` (any port); without a port the rule
//!   matches only the default port of the request's scheme (80 for `http`, 443
//!   for `https`), like a browser origin.
//!
//! A request matches when its method, host and effective port (the authority's
//! port, else the scheme's default) match one rule. Anything this module cannot
//! read (no authority, user info, odd characters, a bad port) matches nothing:
//! when in doubt, deny.

use alloc::string::{String, ToString};
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

/// Which hosts a rule matches.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Host {
    /// This host only (lowercase).
    Exact(String),
    /// Any subdomain of this domain (lowercase, without the `*.`).
    Subdomains(String),
}

/// Which ports a rule matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Port {
    /// `:*`
    Any,
    /// No port: the default port of the request's scheme.
    Default,
    /// `:N`
    Exact(u16),
}

/// One `METHODS AUTHORITY` rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// `None`: any method.
    methods: Option<Vec<String>>,
    host: Host,
    port: Port,
}

impl Rule {
    /// Reads `METHODS AUTHORITY`; `None` when it is malformed.
    pub fn parse(text: &str) -> Option<Rule> {
        let mut words = text.split_ascii_whitespace();
        let (methods, authority) = (words.next()?, words.next()?);
        if words.next().is_some() {
            return None;
        }
        let methods = if methods == "*" {
            None
        } else {
            let list: Vec<String> = methods.split(',').map(str::to_string).collect();
            if !list.iter().all(|m| is_token(m)) {
                return None;
            }
            Some(list)
        };
        let (host, port) = split_authority(authority)?;
        let host = match host.strip_prefix("*.") {
            Some(domain) => Host::Subdomains(dns_name(domain)?),
            None => Host::Exact(host_name(host)?),
        };
        let port = match port {
            None => Port::Default,
            Some("*") => Port::Any,
            Some(p) => Port::Exact(port_number(p)?),
        };
        Some(Rule {
            methods,
            host,
            port,
        })
    }

    fn matches(&self, method: &str, host: &str, port: u16, scheme: Scheme) -> bool {
        let method_ok = match &self.methods {
            None => true,
            Some(list) => list.iter().any(|m| m == method),
        };
        let host_ok = match &self.host {
            Host::Exact(h) => h == host,
            Host::Subdomains(domain) => host
                .strip_suffix(domain.as_str())
                .and_then(|sub| sub.strip_suffix('.'))
                .is_some_and(|sub| !sub.is_empty()),
        };
        let port_ok = match self.port {
            Port::Any => true,
            Port::Default => port == scheme.default_port(),
            Port::Exact(p) => port == p,
        };
        method_ok && host_ok && port_ok
    }
}

/// The rules of one interposer instance.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    rules: Vec<Rule>,
}

impl Rules {
    /// Reads the settings lines `allow METHODS AUTHORITY`; other and malformed
    /// lines are skipped (the composer validated them; skipping denies more).
    pub fn parse(lines: &[String]) -> Rules {
        let rules = lines
            .iter()
            .filter_map(|line| line.strip_prefix("allow "))
            .filter_map(Rule::parse)
            .collect();
        Rules { rules }
    }

    /// Whether a request with this method, scheme and authority may go to the host.
    pub fn allows(&self, method: &str, scheme: Scheme, authority: Option<&str>) -> bool {
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
        self.rules
            .iter()
            .any(|r| r.matches(method, &host, port, scheme))
    }
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
        authority.split_at(end + 1)
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

/// Dot-separated labels of letters, digits and `-`, lowercased.
fn dns_name(name: &str) -> Option<String> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    ok.then(|| name.to_ascii_lowercase())
}

/// A port number 1..=65535 in plain digits.
fn port_number(port: &str) -> Option<u16> {
    if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    port.parse().ok().filter(|p| *p != 0)
}

/// An HTTP method name: a `token` (RFC 9110), e.g. `GET` or `PROPFIND`.
fn is_token(m: &str) -> bool {
    !m.is_empty()
        && m.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
        && m != "*"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(lines: &[&str]) -> Rules {
        Rules::parse(
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
        assert!(r.allows("GET", H, Some("127.0.0.1:8080")));
        assert!(r.allows("POST", H, Some("127.0.0.1:8080")));
        assert!(!r.allows("PUT", H, Some("127.0.0.1:8080")));
        assert!(!r.allows("get", H, Some("127.0.0.1:8080")));
        assert!(r.allows("DELETE", S, Some("api.example.com")));
        assert!(r.allows("PROPFIND", S, Some("API.Example.COM")));
    }

    #[test]
    fn wildcards_match_subdomains_at_any_depth_but_not_the_bare_domain() {
        let r = rules(&["GET *.example.com"]);
        assert!(r.allows("GET", S, Some("a.example.com")));
        assert!(r.allows("GET", S, Some("a.b.example.com")));
        assert!(r.allows("GET", S, Some("a.example.com.")));
        assert!(!r.allows("GET", S, Some("example.com")));
        assert!(!r.allows("GET", S, Some("badexample.com")));
        assert!(!r.allows("GET", S, Some("a.example.com.evil.net")));
        assert!(!r.allows("GET", S, Some(".example.com")));
    }

    #[test]
    fn a_rule_without_port_matches_the_schemes_default_port_only() {
        let r = rules(&["GET example.com"]);
        assert!(r.allows("GET", H, Some("example.com")));
        assert!(r.allows("GET", H, Some("example.com:80")));
        assert!(r.allows("GET", S, Some("example.com")));
        assert!(r.allows("GET", S, Some("example.com:443")));
        assert!(!r.allows("GET", H, Some("example.com:443")));
        assert!(!r.allows("GET", H, Some("example.com:8080")));
        let any = rules(&["GET example.com:*"]);
        assert!(any.allows("GET", H, Some("example.com:8080")));
        assert!(any.allows("GET", S, Some("example.com")));
        let exact = rules(&["GET example.com:8080"]);
        assert!(exact.allows("GET", H, Some("example.com:8080")));
        assert!(!exact.allows("GET", H, Some("example.com")));
    }

    #[test]
    fn ip_addresses_compare_exactly() {
        let r = rules(&["GET 127.0.0.1:8080", "GET [::1]:8080"]);
        assert!(r.allows("GET", H, Some("127.0.0.1:8080")));
        assert!(!r.allows("GET", H, Some("127.0.0.2:8080")));
        assert!(!r.allows("GET", H, Some("127.0.0.1:8081")));
        assert!(!r.allows("GET", H, Some("2130706433:8080")));
        assert!(r.allows("GET", H, Some("[::1]:8080")));
        assert!(!r.allows("GET", H, Some("[::2]:8080")));
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
            assert!(!r.allows("GET", H, Some(bad)), "{bad}");
        }
        assert!(!r.allows("GET", H, None));
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

    #[test]
    fn malformed_rules_are_skipped() {
        for bad in [
            "GET",
            "GET a b",
            "GET, example.com",
            "GET,* example.com",
            "GET *",
            "GET *.*.example.com",
            "GET example.com:0",
            "GET user@example.com",
        ] {
            assert_eq!(rules(&[bad]), Rules::default(), "{bad}");
        }
        assert_eq!(Rules::parse(&["deny * *".to_string()]), Rules::default());
    }
}
