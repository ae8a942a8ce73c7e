//! `http = ["GET *.example.com", "GET,POST 127.0.0.1:8080", "* api.example.com"]`:
//! `wasi:http/outgoing-handler` from the host, narrowed to these rules; any
//! other request is dropped inside the output with `HTTP-request-denied`.
//!
//! A rule is `METHODS AUTHORITY`. `METHODS` is `*` or a comma list of method
//! names, case-sensitive as in HTTP. `AUTHORITY` is `HOST[:PORT]`: a DNS name
//! (case-insensitive), an IPv4 address or a bracketed IPv6 address, or
//! `*.DOMAIN` for every subdomain of `DOMAIN` at any depth (not `DOMAIN`
//! itself). `PORT` is a number or `*`; without it the rule matches only the
//! default port of the request's scheme (80 for `http`, 443 for `https`).
//! A request without authority, or with a scheme other than `http`/`https`,
//! is denied. Settings: `allow METHODS AUTHORITY`, one per rule.

use super::{Interposer, SliceError, Slices};
use crate::manifest::ComponentSpec;
use std::net::{Ipv4Addr, Ipv6Addr};

/// `composer/interposers/http`, prebuilt (`just interposers`).
const WASM: &[u8] = include_bytes!("../../../../interposers/http.wasm");

pub(super) fn add(c: &ComponentSpec, out: &mut Slices) -> Result<(), SliceError> {
    let Some(rules) = &c.http else {
        return Ok(());
    };
    if rules.is_empty() {
        return Err(SliceError::new(
            "http",
            "no rules: write at least one `METHODS AUTHORITY` rule (e.g. `GET api.example.com`), or leave `http` out to deny all requests",
        ));
    }
    let rules = rules
        .iter()
        .map(|r| rule(r).map_err(|m| SliceError::new("http", format!("`{r}`: {m}"))))
        .collect::<Result<Vec<_>, _>>()?;
    out.interposers.push(Interposer {
        kind: "http",
        wasm: WASM,
        wires: vec!["wasi:http/outgoing-handler"],
        grants: vec!["wasi:http/outgoing-handler", "wasi:http/types"],
        // Requests and responses are `wasi:http/types` resources the library
        // creates and reads itself (their `wasi:io` streams and pollables come
        // along as type dependencies); the interposer only decides on `handle`.
        library_grants: vec!["wasi:http/types"],
        config: rules.iter().map(|r| format!("allow {r}")).collect(),
        summary: format!("http {}", rules.join("; ")),
    });
    Ok(())
}

/// One rule, checked and normalised (hosts lowercased, single spaces).
fn rule(text: &str) -> Result<String, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let [methods, authority] = words[..] else {
        return Err("a rule is `METHODS AUTHORITY`, e.g. `GET,POST api.example.com:8080`".into());
    };
    if methods != "*" {
        for m in methods.split(',') {
            if !is_token(m) {
                return Err(format!(
                    "`{m}` is not a method name; write `*` alone or names like `GET,POST`"
                ));
            }
        }
    }
    if let Some((scheme, rest)) = authority.split_once("://") {
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        return Err(format!(
            "a rule takes an authority (`HOST[:PORT]`), not a URL (`{scheme}://...`): \
             write `{methods} {host}`"
        ));
    }
    Ok(format!("{methods} {}", check_authority(authority)?))
}

/// `HOST[:PORT]`, with `*.` wildcard hosts and `*` ports, lowercased.
fn check_authority(authority: &str) -> Result<String, String> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (v6, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("`{authority}` has an unclosed `[`"))?;
        v6.parse::<Ipv6Addr>()
            .map_err(|_| format!("`{v6}` is not an IPv6 address"))?;
        let port =
            match after {
                "" => None,
                _ => Some(after.strip_prefix(':').ok_or_else(|| {
                    format!("`{authority}`: write a port after the `]` as `:PORT`")
                })?),
            };
        (&authority[..=rest.len() - after.len()], port)
    } else {
        let (host, port) = match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        let name = host.strip_prefix("*.").unwrap_or(host);
        if host == "*" {
            return Err(
                "a host is needed: `*` alone would allow every host; grant `wasi:http/outgoing-handler` instead if that is meant".into(),
            );
        }
        if !is_dns_name(name) {
            return Err(format!(
                "`{host}` is not a host name, IPv4 address or `*.domain` (IPv6 goes in brackets)"
            ));
        }
        // Dotted numbers must be a real IPv4 address (`256.1.1.1` is a typo).
        if name
            .split('.')
            .all(|l| l.bytes().all(|b| b.is_ascii_digit()))
            && (host != name || name.parse::<Ipv4Addr>().is_err())
        {
            return Err(format!("`{host}` is not an IPv4 address"));
        }
        (host, port)
    };
    match port {
        None | Some("*") => {}
        Some(p) => {
            let ok = !p.is_empty()
                && p.len() <= 5
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u16>().is_ok_and(|n| n != 0);
            if !ok {
                return Err(format!("`{p}` is not a port (1 to 65535, or `*` for any)"));
            }
        }
    }
    let host = host.to_ascii_lowercase();
    Ok(match port {
        Some(p) => format!("{host}:{p}"),
        None => host,
    })
}

/// Dot-separated labels of letters, digits and `-`.
fn is_dns_name(name: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_normalised() {
        assert_eq!(rule("GET  *.Example.COM").unwrap(), "GET *.example.com");
        assert_eq!(
            rule("GET,POST 127.0.0.1:8080").unwrap(),
            "GET,POST 127.0.0.1:8080"
        );
        assert_eq!(rule("* api.example.com:*").unwrap(), "* api.example.com:*");
        assert_eq!(rule("GET [::1]:8080").unwrap(), "GET [::1]:8080");
        assert_eq!(rule("PROPFIND [::1]").unwrap(), "PROPFIND [::1]");
    }

    #[test]
    fn bad_rules_name_the_problem() {
        for (bad, says) in [
            ("GET", "a rule is `METHODS AUTHORITY`"),
            ("GET a b", "a rule is `METHODS AUTHORITY`"),
            ("GET,* a.com", "`*` is not a method name"),
            ("GET, a.com", "`` is not a method name"),
            ("G@T a.com", "`G@T` is not a method name"),
            ("GET *", "a host is needed"),
            ("GET *:80", "a host is needed"),
            ("GET *.*.a.com", "is not a host name"),
            ("GET user@a.com", "`user@a.com` is not a host name"),
            ("GET a..com", "is not a host name"),
            ("GET a.com:0", "`0` is not a port"),
            ("GET a.com:", "`` is not a port"),
            ("GET a.com:65536", "`65536` is not a port"),
            ("GET a.com:80:80", "`80:80` is not a port"),
            ("GET 256.0.0.1", "`256.0.0.1` is not an IPv4 address"),
            ("GET *.10.0.0.1", "is not an IPv4 address"),
            ("GET ::1", "`` is not a host name"),
            ("GET [::1", "unclosed `[`"),
            ("GET [nope]:80", "`nope` is not an IPv6 address"),
            ("GET [::1]80", "write a port after the `]`"),
        ] {
            let err = rule(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
