//! The socket address rules and their matching, as plain functions
//! (unit-tested natively).
//!
//! A rule is `IP:PORT` or `IP:*` (any port), with IPv6 addresses in brackets
//! (`[::1]:8080`). An address matches a rule when its IP is the rule's IP
//! (the same family, compared as numbers: `127.0.0.1` does not match
//! `[::ffff:127.0.0.1]`) and its port is the rule's port or the rule says `*`.
//! IPv6 flow information and scope ids are ignored.

use alloc::string::String;
use alloc::vec::Vec;
use core::net::IpAddr;

/// One allowed address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    ip: IpAddr,
    /// `None`: any port.
    port: Option<u16>,
}

impl Rule {
    /// Reads `IP:PORT`, `IP:*`, `[IPV6]:PORT` or `[IPV6]:*`; `None` when malformed.
    pub fn parse(text: &str) -> Option<Rule> {
        let (ip, port) = text.rsplit_once(':')?;
        let ip = match ip.strip_prefix('[') {
            Some(v6) => IpAddr::V6(v6.strip_suffix(']')?.parse().ok()?),
            None => IpAddr::V4(ip.parse().ok()?),
        };
        let port = match port {
            "*" => None,
            p if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
                Some(p.parse().ok()?)
            }
            _ => return None,
        };
        Some(Rule { ip, port })
    }

    fn matches(&self, ip: IpAddr, port: u16) -> bool {
        self.ip == ip && self.port.is_none_or(|p| p == port)
    }
}

/// The rules of one interposer instance.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    /// Where TCP may connect.
    pub connect: Vec<Rule>,
    /// Where TCP may bind (and then listen).
    pub bind: Vec<Rule>,
}

impl Rules {
    /// Reads the settings lines `connect ADDRESS` and `bind ADDRESS`; other
    /// and malformed lines are skipped (the composer validated them; skipping
    /// denies more).
    pub fn parse(lines: &[String]) -> Rules {
        let mut rules = Rules::default();
        for line in lines {
            let (verb, address) = line.split_once(' ').unwrap_or((line, ""));
            let list = match verb {
                "connect" => &mut rules.connect,
                "bind" => &mut rules.bind,
                _ => continue,
            };
            list.extend(Rule::parse(address));
        }
        rules
    }

    /// Whether TCP may connect to `ip:port`.
    pub fn may_connect(&self, ip: IpAddr, port: u16) -> bool {
        self.connect.iter().any(|r| r.matches(ip, port))
    }

    /// Whether TCP may bind to `ip:port`.
    pub fn may_bind(&self, ip: IpAddr, port: u16) -> bool {
        self.bind.iter().any(|r| r.matches(ip, port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{Ipv4Addr, Ipv6Addr};

    fn rules(lines: &[&str]) -> Rules {
        Rules::parse(&lines.iter().map(|l| l.to_string()).collect::<Vec<_>>())
    }

    const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    #[test]
    fn connect_matches_ip_and_port_or_any_port() {
        let r = rules(&["connect 127.0.0.1:8080", "connect 10.0.0.1:*"]);
        assert!(r.may_connect(LOCAL, 8080));
        assert!(!r.may_connect(LOCAL, 8081));
        assert!(!r.may_connect(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), 8080));
        assert!(r.may_connect(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 1));
        assert!(r.may_connect(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 65535));
        assert!(!r.may_bind(LOCAL, 8080));
    }

    #[test]
    fn families_do_not_mix() {
        let r = rules(&["connect 127.0.0.1:80", "bind [::1]:*"]);
        let mapped = IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped());
        assert!(!r.may_connect(mapped, 80));
        assert!(r.may_bind(IpAddr::V6(Ipv6Addr::LOCALHOST), 9000));
        assert!(!r.may_bind(LOCAL, 9000));
    }

    #[test]
    fn malformed_rules_are_skipped() {
        for bad in [
            "connect 127.0.0.1",
            "connect 127.0.0.1:",
            "connect 127.0.0.1:x",
            "connect 127.0.0.1:65536",
            "connect ::1:80",
            "connect [::1]",
            "connect localhost:80",
            "connect *:80",
            "listen 127.0.0.1:80",
        ] {
            assert_eq!(rules(&[bad]), Rules::default(), "{bad}");
        }
    }
}
