//! `http = ["GET *.example.com", "GET,POST 127.0.0.1:8080", "* api.example.com:*"]`.
//!
//! A rule is `METHODS AUTHORITY`:
//! - `METHODS`: `*` (any method) or a comma list of method names (RFC 9110
//!   tokens), compared case-sensitively as HTTP does (`GET` is not `get`).
//! - `AUTHORITY`: `HOST[:PORT]`. `HOST` is a DNS name, an IPv4 address, a
//!   bracketed IPv6 address, or `*.DOMAIN` for every subdomain of `DOMAIN` at
//!   any depth (not `DOMAIN` itself); hosts are case-insensitive and kept
//!   lowercased. `PORT` is `1` to `65535` or `*` (any); without a port a rule
//!   matches only the default port of the request's scheme (80 for `http`,
//!   443 for `https`).
//!
//! [`HttpRule`]'s text is normalised: single space, host lowercased. An IPv6
//! host keeps the digits as written (`[0::1]` stays `[0::1]`, as the
//! composer has always written it).
//!
//! Settings lines: `allow RULE` ([`HttpLine`]), one per rule.

use crate::{LineError, SliceKind};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

/// One `METHODS AUTHORITY` rule, checked and normalised.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HttpRule {
    /// `None`: any method (`*`).
    methods: Option<Vec<String>>,
    /// Lowercase, as written: `*.example.com`, `example.com`, `[::1]`.
    host: String,
    port: PortPattern,
    /// Leading zeros of an exact port, as written (`:080`).
    zeros: u8,
}

/// Which hosts a rule matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HostPattern<'a> {
    /// This host only (lowercase; an IPv6 address in brackets).
    Exact(&'a str),
    /// Any subdomain of this domain, at any depth (lowercase, without `*.`).
    Subdomains(&'a str),
}

/// Which ports a rule matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PortPattern {
    /// No port written: the default port of the request's scheme.
    Default,
    /// `:*`
    Any,
    /// `:N` (1 to 65535).
    Exact(u16),
}

impl HttpRule {
    /// The method names, or `None` for any method.
    pub fn methods(&self) -> Option<&[String]> {
        self.methods.as_deref()
    }

    /// The hosts the rule matches.
    pub fn host(&self) -> HostPattern<'_> {
        match self.host.strip_prefix("*.") {
            Some(domain) => HostPattern::Subdomains(domain),
            None => HostPattern::Exact(&self.host),
        }
    }

    /// The ports the rule matches.
    pub fn port(&self) -> PortPattern {
        self.port
    }

    /// Whether a request with this method, host (lowercase, without a
    /// trailing dot; an IPv6 address in brackets) and port matches the rule;
    /// `default_port` is the port of the request's scheme.
    pub fn matches(&self, method: &str, host: &str, port: u16, default_port: u16) -> bool {
        let method_ok = match &self.methods {
            None => true,
            Some(list) => list.iter().any(|m| m == method),
        };
        let host_ok = match self.host() {
            HostPattern::Exact(h) => h == host,
            HostPattern::Subdomains(domain) => host
                .strip_suffix(domain)
                .and_then(|sub| sub.strip_suffix('.'))
                .is_some_and(|sub| !sub.is_empty()),
        };
        let port_ok = match self.port {
            PortPattern::Any => true,
            PortPattern::Default => port == default_port,
            PortPattern::Exact(p) => port == p,
        };
        method_ok && host_ok && port_ok
    }
}

impl fmt::Display for HttpRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.methods {
            None => f.write_str("*")?,
            Some(list) => {
                for (i, m) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    f.write_str(m)?;
                }
            }
        }
        write!(f, " {}", self.host)?;
        match self.port {
            PortPattern::Default => Ok(()),
            PortPattern::Any => f.write_str(":*"),
            PortPattern::Exact(p) => {
                f.write_str(":")?;
                crate::write_port(f, p, self.zeros)
            }
        }
    }
}

impl FromStr for HttpRule {
    type Err = HttpRuleError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut words = text.split_whitespace();
        let (Some(methods), Some(authority), None) = (words.next(), words.next(), words.next())
        else {
            return Err(HttpRuleError::Form);
        };
        let word = methods;
        let methods = if word == "*" {
            None
        } else {
            let list: Vec<String> = word.split(',').map(str::to_string).collect();
            if let Some(bad) = list.iter().find(|m| !is_token(m)) {
                return Err(HttpRuleError::Method {
                    method: bad.clone(),
                });
            }
            Some(list)
        };
        if let Some((scheme, rest)) = split_once_bytes(authority, "://") {
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            // Joined by hand: no formatting code in the interposer.
            let mut suggestion = String::from(word);
            suggestion.push(' ');
            suggestion.push_str(host);
            return Err(HttpRuleError::Url {
                scheme: scheme.into(),
                suggestion,
            });
        }
        let (host, port, zeros) = authority_parts(authority)?;
        Ok(HttpRule {
            methods,
            host,
            port,
            zeros,
        })
    }
}

/// `text.split_once(pat)`, by bytes: core's string searcher has a panic path
/// whose message formatting (with Unicode tables) is kilobytes of the http
/// interposer, which reads its rules with this module.
fn split_once_bytes<'a>(text: &'a str, pat: &str) -> Option<(&'a str, &'a str)> {
    let at = text
        .as_bytes()
        .windows(pat.len())
        .position(|w| w == pat.as_bytes())?;
    Some((text.get(..at)?, text.get(at + pat.len()..)?))
}

/// `HOST[:PORT]` checked: the lowercased host, the port and its leading zeros.
fn authority_parts(authority: &str) -> Result<(String, PortPattern, u8), HttpRuleError> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return Err(HttpRuleError::UnclosedBracket {
                authority: authority.into(),
            });
        };
        if crate::ip::v6(v6).is_none() {
            return Err(HttpRuleError::Ipv6 { text: v6.into() });
        }
        let port =
            match after {
                "" => None,
                _ => Some(after.strip_prefix(':').ok_or_else(|| {
                    HttpRuleError::PortAfterBracket {
                        authority: authority.into(),
                    }
                })?),
            };
        // `[v6]`: the authority without what follows `]` (no slicing by
        // index, so no panic path with its formatting code).
        (authority.strip_suffix(after).unwrap_or(authority), port)
    } else {
        let (host, port) = match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        let name = host.strip_prefix("*.").unwrap_or(host);
        if host == "*" {
            return Err(HttpRuleError::HostNeeded);
        }
        if !is_dns_name(name) {
            return Err(HttpRuleError::HostName { host: host.into() });
        }
        // Dotted numbers must be a real IPv4 address (`256.1.1.1` is a typo).
        if name
            .split('.')
            .all(|l| l.bytes().all(|b| b.is_ascii_digit()))
            && (host != name || crate::ip::v4(name).is_none())
        {
            return Err(HttpRuleError::Ipv4 { host: host.into() });
        }
        (host, port)
    };
    let (port, zeros) = match port {
        None => (PortPattern::Default, 0),
        Some("*") => (PortPattern::Any, 0),
        Some(p) => match crate::port_digits(p, 1) {
            Some((n, zeros)) => (PortPattern::Exact(n), zeros),
            None => return Err(HttpRuleError::Port { port: p.into() }),
        },
    };
    Ok((host.to_ascii_lowercase(), port, zeros))
}

/// Whether `name` is a DNS name as rules and requests write it:
/// dot-separated labels (1 to 63 bytes) of ASCII letters, digits and `-`, at
/// most 253 bytes in all (an IPv4 address is one too).
pub fn is_dns_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// An HTTP method name (an RFC 9110 `token`), `*` excepted.
fn is_token(m: &str) -> bool {
    !m.is_empty()
        && m != "*"
        && m.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Why a rule is refused; the messages are the composer's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HttpRuleError {
    /// Not two words.
    Form,
    /// A method that is not a token (or `*` in a list).
    Method {
        /// The method as written.
        method: String,
    },
    /// A URL instead of an authority.
    Url {
        /// The URL's scheme.
        scheme: String,
        /// The rule to write instead, `METHODS HOST[:PORT]`.
        suggestion: String,
    },
    /// `[` without `]`.
    UnclosedBracket {
        /// The authority as written.
        authority: String,
    },
    /// Not an IPv6 address inside the brackets.
    Ipv6 {
        /// The text inside the brackets.
        text: String,
    },
    /// Something other than `:PORT` after `]`.
    PortAfterBracket {
        /// The authority as written.
        authority: String,
    },
    /// `*` alone as the host.
    HostNeeded,
    /// Not a DNS name, IPv4 address or `*.domain`.
    HostName {
        /// The host as written.
        host: String,
    },
    /// Dotted numbers that are not an IPv4 address (or a wildcard of one).
    Ipv4 {
        /// The host as written.
        host: String,
    },
    /// Not a port (1 to 65535) nor `*`.
    Port {
        /// The port as written.
        port: String,
    },
}

impl fmt::Display for HttpRuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpRuleError::Form => {
                f.write_str("a rule is `METHODS AUTHORITY`, e.g. `GET,POST api.example.com:8080`")
            }
            HttpRuleError::Method { method } => write!(
                f,
                "`{method}` is not a method name; write `*` alone or names like `GET,POST`"
            ),
            HttpRuleError::Url { scheme, suggestion } => write!(
                f,
                "a rule takes an authority (`HOST[:PORT]`), not a URL (`{scheme}://...`): \
                 write `{suggestion}`"
            ),
            HttpRuleError::UnclosedBracket { authority } => {
                write!(f, "`{authority}` has an unclosed `[`")
            }
            HttpRuleError::Ipv6 { text } => write!(f, "`{text}` is not an IPv6 address"),
            HttpRuleError::PortAfterBracket { authority } => {
                write!(f, "`{authority}`: write a port after the `]` as `:PORT`")
            }
            HttpRuleError::HostNeeded => f.write_str(
                "a host is needed: `*` alone would allow every host; grant \
                 `wasi:http/outgoing-handler` instead if that is meant",
            ),
            HttpRuleError::HostName { host } => write!(
                f,
                "`{host}` is not a host name, IPv4 address or `*.domain` (IPv6 goes in brackets)"
            ),
            HttpRuleError::Ipv4 { host } => write!(f, "`{host}` is not an IPv4 address"),
            HttpRuleError::Port { port } => {
                write!(f, "`{port}` is not a port (1 to 65535, or `*` for any)")
            }
        }
    }
}

impl core::error::Error for HttpRuleError {}

/// Why the manifest's `http` list cannot be used (the message goes under
/// the key `http`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HttpError {
    /// `http = []`.
    NoRules,
    /// A rule that cannot be read.
    Rule {
        /// The rule as written.
        rule: String,
        /// What is wrong with it.
        error: HttpRuleError,
    },
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::NoRules => f.write_str(
                "no rules: write at least one `METHODS AUTHORITY` rule (e.g. `GET \
                 api.example.com`), or leave `http` out to deny all requests",
            ),
            HttpError::Rule { rule, error } => write!(f, "`{rule}`: {error}"),
        }
    }
}

impl core::error::Error for HttpError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            HttpError::NoRules => None,
            HttpError::Rule { error, .. } => Some(error),
        }
    }
}

/// One settings line of the http interposer: `allow RULE`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum HttpLine {
    /// `allow RULE`
    Allow(HttpRule),
}

impl fmt::Display for HttpLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpLine::Allow(rule) => write!(f, "allow {rule}"),
        }
    }
}

impl FromStr for HttpLine {
    type Err = LineError;

    fn from_str(line: &str) -> Result<Self, Self::Err> {
        line.strip_prefix("allow ")
            .and_then(|rule| rule.parse().ok())
            .map(HttpLine::Allow)
            .ok_or_else(|| LineError::new(SliceKind::Http, line))
    }
}

/// The http interposer's settings: the rules, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct HttpSettings {
    /// The rules.
    pub rules: Vec<HttpRule>,
}

impl HttpSettings {
    /// The manifest's `http` list, checked: at least one rule, each readable.
    pub fn from_manifest<S: AsRef<str>>(rules: &[S]) -> Result<Self, HttpError> {
        if rules.is_empty() {
            return Err(HttpError::NoRules);
        }
        let rules = rules
            .iter()
            .map(|r| {
                let r = r.as_ref();
                r.parse().map_err(|error| HttpError::Rule {
                    rule: r.into(),
                    error,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { rules })
    }

    /// Reads settings lines: `allow RULE`; other and malformed lines are
    /// skipped (the composer checked them; skipping denies more).
    pub fn from_lines<S: AsRef<str>>(lines: &[S]) -> Self {
        let rules = lines
            .iter()
            .filter_map(|l| l.as_ref().parse().ok())
            .map(|HttpLine::Allow(rule)| rule)
            .collect();
        Self { rules }
    }

    /// The settings lines, one `allow RULE` per rule.
    pub fn lines(&self) -> Vec<String> {
        self.rules
            .iter()
            .map(|r| HttpLine::Allow(r.clone()).to_string())
            .collect()
    }

    /// Whether a request may go to the host: see [`HttpRule::matches`].
    pub fn allows(&self, method: &str, host: &str, port: u16, default_port: u16) -> bool {
        self.rules
            .iter()
            .any(|r| r.matches(method, host, port, default_port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn rule(text: &str) -> Result<String, String> {
        text.parse::<HttpRule>()
            .map(|r| r.to_string())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn split_once_bytes_is_split_once() {
        for text in [
            "a://b",
            "://",
            "x:/y",
            "a:b://c://d",
            "\u{e9}://\u{e9}",
            "",
            "//:",
        ] {
            assert_eq!(
                split_once_bytes(text, "://"),
                text.split_once("://"),
                "{text}"
            );
        }
    }

    #[test]
    fn rules_are_normalised_and_round_trip() {
        for (text, normal) in [
            ("GET  *.Example.COM", "GET *.example.com"),
            ("GET,POST 127.0.0.1:8080", "GET,POST 127.0.0.1:8080"),
            ("* api.example.com:*", "* api.example.com:*"),
            ("* API.example.com:*", "* api.example.com:*"),
            ("GET [::1]:8080", "GET [::1]:8080"),
            ("PROPFIND [::1]", "PROPFIND [::1]"),
            ("GET [0::1]", "GET [0::1]"),
            ("GET [::FFFF:1.2.3.4]:*", "GET [::ffff:1.2.3.4]:*"),
            ("\tget\u{a0}a-b.c:65535 ", "get a-b.c:65535"),
            ("GET 10.0.0.1", "GET 10.0.0.1"),
            ("GET a.com:080", "GET a.com:080"),
            ("GET a.com:00001", "GET a.com:00001"),
            ("x~!#$%&'*+-.^_`| a", "x~!#$%&'*+-.^_`| a"),
        ] {
            assert_eq!(rule(text).as_deref(), Ok(normal), "{text}");
            let parsed: HttpRule = text.parse().unwrap();
            assert_eq!(parsed.to_string().parse(), Ok(parsed.clone()), "{text}");
        }
    }

    #[test]
    fn parts_are_typed() {
        let r: HttpRule = "GET,POST *.Example.com:8080".parse().unwrap();
        assert_eq!(
            r.methods(),
            Some(&["GET".to_string(), "POST".to_string()][..])
        );
        assert_eq!(r.host(), HostPattern::Subdomains("example.com"));
        assert_eq!(r.port(), PortPattern::Exact(8080));
        let r: HttpRule = "* [::1]:*".parse().unwrap();
        assert_eq!(r.methods(), None);
        assert_eq!(r.host(), HostPattern::Exact("[::1]"));
        assert_eq!(r.port(), PortPattern::Any);
        let r: HttpRule = "GET a.com".parse().unwrap();
        assert_eq!(r.port(), PortPattern::Default);
    }

    /// Every message, in full: they appear in the composer's errors.
    #[test]
    fn bad_rules_say_what_the_composer_says() {
        for (bad, says) in [
            (
                "GET",
                "a rule is `METHODS AUTHORITY`, e.g. `GET,POST api.example.com:8080`",
            ),
            (
                "GET a b",
                "a rule is `METHODS AUTHORITY`, e.g. `GET,POST api.example.com:8080`",
            ),
            (
                "",
                "a rule is `METHODS AUTHORITY`, e.g. `GET,POST api.example.com:8080`",
            ),
            (
                "GET,* a.com",
                "`*` is not a method name; write `*` alone or names like `GET,POST`",
            ),
            (
                "GET, a.com",
                "`` is not a method name; write `*` alone or names like `GET,POST`",
            ),
            (
                "G@T a.com",
                "`G@T` is not a method name; write `*` alone or names like `GET,POST`",
            ),
            (
                "POST https://api.example.com/v1",
                "a rule takes an authority (`HOST[:PORT]`), not a URL (`https://...`): write `POST api.example.com`",
            ),
            (
                "GET,POST http://A.com:80?x#y",
                "a rule takes an authority (`HOST[:PORT]`), not a URL (`http://...`): write `GET,POST A.com:80`",
            ),
            (
                "GET *",
                "a host is needed: `*` alone would allow every host; grant `wasi:http/outgoing-handler` instead if that is meant",
            ),
            (
                "GET *:80",
                "a host is needed: `*` alone would allow every host; grant `wasi:http/outgoing-handler` instead if that is meant",
            ),
            (
                "GET *.*.a.com",
                "`*.*.a.com` is not a host name, IPv4 address or `*.domain` (IPv6 goes in brackets)",
            ),
            (
                "GET user@a.com",
                "`user@a.com` is not a host name, IPv4 address or `*.domain` (IPv6 goes in brackets)",
            ),
            (
                "GET a..com",
                "`a..com` is not a host name, IPv4 address or `*.domain` (IPv6 goes in brackets)",
            ),
            (
                "GET ::1",
                "`` is not a host name, IPv4 address or `*.domain` (IPv6 goes in brackets)",
            ),
            (
                "GET a.com:0",
                "`0` is not a port (1 to 65535, or `*` for any)",
            ),
            (
                "GET example.com:0",
                "`0` is not a port (1 to 65535, or `*` for any)",
            ),
            (
                "GET a.com:",
                "`` is not a port (1 to 65535, or `*` for any)",
            ),
            (
                "GET a.com:65536",
                "`65536` is not a port (1 to 65535, or `*` for any)",
            ),
            (
                "GET a.com:080808",
                "`080808` is not a port (1 to 65535, or `*` for any)",
            ),
            (
                "GET a.com:+80",
                "`+80` is not a port (1 to 65535, or `*` for any)",
            ),
            (
                "GET a.com:80:80",
                "`80:80` is not a port (1 to 65535, or `*` for any)",
            ),
            ("GET 256.0.0.1", "`256.0.0.1` is not an IPv4 address"),
            ("GET 01.0.0.1", "`01.0.0.1` is not an IPv4 address"),
            ("GET 123", "`123` is not an IPv4 address"),
            ("GET *.10.0.0.1", "`*.10.0.0.1` is not an IPv4 address"),
            ("GET [::1", "`[::1` has an unclosed `[`"),
            ("GET [nope]:80", "`nope` is not an IPv6 address"),
            (
                "GET [::1]80",
                "`[::1]80`: write a port after the `]` as `:PORT`",
            ),
            (
                "GET [::1]:",
                "`` is not a port (1 to 65535, or `*` for any)",
            ),
        ] {
            assert_eq!(rule(bad), Err(says.to_string()), "{bad}");
        }
    }

    #[test]
    fn the_manifest_list_says_which_rule() {
        assert_eq!(
            HttpSettings::from_manifest::<&str>(&[])
                .unwrap_err()
                .to_string(),
            "no rules: write at least one `METHODS AUTHORITY` rule (e.g. `GET api.example.com`), or leave `http` out to deny all requests"
        );
        // golden `slice-http-bad-rule`
        assert_eq!(
            HttpSettings::from_manifest(&["GET *.example.com", "GET example.com:0"])
                .unwrap_err()
                .to_string(),
            "`GET example.com:0`: `0` is not a port (1 to 65535, or `*` for any)"
        );
        // golden `slice-http-url-rule`
        assert_eq!(
            HttpSettings::from_manifest(&["POST https://api.example.com/v1"])
                .unwrap_err()
                .to_string(),
            "`POST https://api.example.com/v1`: a rule takes an authority (`HOST[:PORT]`), not a URL (`https://...`): write `POST api.example.com`"
        );
    }

    #[test]
    fn settings_lines_round_trip_and_skip_what_they_cannot_read() {
        // golden `slice-http`
        let s = HttpSettings::from_manifest(&[
            "GET *.example.com",
            "GET,POST 127.0.0.1:8080",
            "* API.example.com:*",
        ])
        .unwrap();
        let lines = s.lines();
        assert_eq!(
            lines,
            [
                "allow GET *.example.com",
                "allow GET,POST 127.0.0.1:8080",
                "allow * api.example.com:*"
            ]
        );
        assert_eq!(HttpSettings::from_lines(&lines), s);
        for bad in [
            "allow GET",
            "allow GET a b",
            "allow GET, example.com",
            "allow GET *",
            "allow GET example.com:0",
            "deny * a.com",
            "allow",
            "GET a.com",
        ] {
            assert_eq!(
                HttpSettings::from_lines(&[bad]),
                HttpSettings::default(),
                "{bad}"
            );
            assert!(bad.parse::<HttpLine>().is_err(), "{bad}");
        }
        assert_eq!(
            "allow  GET   a.com"
                .parse::<HttpLine>()
                .unwrap()
                .to_string(),
            "allow GET a.com"
        );
    }

    #[test]
    fn rules_match_method_host_and_port() {
        let s = HttpSettings::from_lines(&[
            "allow GET,POST 127.0.0.1:8080",
            "allow * api.example.com",
            "allow GET *.example.org:*",
            "allow GET [::1]:8080",
        ]);
        assert!(s.allows("GET", "127.0.0.1", 8080, 80));
        assert!(s.allows("POST", "127.0.0.1", 8080, 80));
        assert!(!s.allows("PUT", "127.0.0.1", 8080, 80));
        assert!(!s.allows("get", "127.0.0.1", 8080, 80));
        assert!(!s.allows("GET", "127.0.0.2", 8080, 80));
        assert!(s.allows("DELETE", "api.example.com", 443, 443));
        assert!(!s.allows("DELETE", "api.example.com", 443, 80));
        assert!(s.allows("GET", "a.b.example.org", 1, 443));
        assert!(!s.allows("GET", "example.org", 443, 443));
        assert!(!s.allows("GET", "badexample.org", 443, 443));
        assert!(!s.allows("GET", ".example.org", 443, 443));
        assert!(s.allows("GET", "[::1]", 8080, 80));
        assert!(!s.allows("GET", "[::2]", 8080, 80));
        let none = HttpSettings { rules: vec![] };
        assert!(!none.allows("GET", "a.com", 80, 80));
    }
}
