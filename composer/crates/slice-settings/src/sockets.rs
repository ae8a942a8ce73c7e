//! `sockets = { connect = ["127.0.0.1:8080", "10.0.0.1:*"], bind = [] }`.
//!
//! An address is `IP:PORT` or `IP:*` (any port), IPv6 in brackets
//! (`[::1]:8080`); host names are not resolved. Ports are `0` to `65535`.
//! [`SocketAddress`]'s text is normalised (`[0::1]:80` is `[::1]:80`). An
//! address matches when its IP is the rule's (same family, compared as
//! numbers: `127.0.0.1` is not `[::ffff:127.0.0.1]`) and its port is the
//! rule's or the rule says `*`.
//!
//! Settings lines: `connect ADDRESS`, `bind ADDRESS` ([`SocketsLine`]).

use crate::{LineError, SliceKind};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::net::IpAddr;
use core::str::FromStr;

/// `IP:PORT` or `IP:*` (port 0 included).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SocketAddress {
    ip: IpAddr,
    port: Option<u16>,
    /// Leading zeros of the port, as written (`:080`).
    zeros: u8,
}

impl SocketAddress {
    /// `ip:port`, or `ip:*` for `None`.
    pub fn new(ip: IpAddr, port: Option<u16>) -> Self {
        Self { ip, port, zeros: 0 }
    }

    /// The IP address.
    pub fn ip(&self) -> IpAddr {
        self.ip
    }

    /// The port; `None`: any port (`*`).
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// Whether `ip:port` is this address.
    pub fn matches(&self, ip: IpAddr, port: u16) -> bool {
        self.ip == ip && self.port.is_none_or(|p| p == port)
    }
}

impl fmt::Display for SocketAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ip {
            IpAddr::V4(v4) => write!(f, "{v4}:")?,
            IpAddr::V6(v6) => write!(f, "[{v6}]:")?,
        }
        match self.port {
            Some(p) => crate::write_port(f, p, self.zeros),
            None => f.write_str("*"),
        }
    }
}

impl FromStr for SocketAddress {
    type Err = SocketAddressError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (ip, port) = text.rsplit_once(':').ok_or(SocketAddressError::Form)?;
        let ip = match ip.strip_prefix('[').and_then(|v6| v6.strip_suffix(']')) {
            Some(v6) => IpAddr::V6(
                crate::ip::v6(v6).ok_or_else(|| SocketAddressError::Ipv6 { text: v6.into() })?,
            ),
            None => IpAddr::V4(
                crate::ip::v4(ip).ok_or_else(|| SocketAddressError::Ip { text: ip.into() })?,
            ),
        };
        let (port, zeros) = match port {
            "*" => (None, 0),
            p => match crate::port_digits(p, 0) {
                Some((n, zeros)) => (Some(n), zeros),
                None => return Err(SocketAddressError::Port { port: p.into() }),
            },
        };
        Ok(SocketAddress { ip, port, zeros })
    }
}

/// Why an address is refused; the messages are the composer's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SocketAddressError {
    /// No `:`.
    Form,
    /// Not an IPv6 address inside the brackets.
    Ipv6 {
        /// The text inside the brackets.
        text: String,
    },
    /// Not an IPv4 address (and not bracketed).
    Ip {
        /// The text before the last `:`.
        text: String,
    },
    /// Not a port (0 to 65535) nor `*`.
    Port {
        /// The port as written.
        port: String,
    },
}

impl fmt::Display for SocketAddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocketAddressError::Form => {
                f.write_str("write `IP:PORT` or `IP:*` (IPv6 as `[::1]:PORT`)")
            }
            SocketAddressError::Ipv6 { text } => write!(f, "`{text}` is not an IPv6 address"),
            SocketAddressError::Ip { text } => write!(
                f,
                "`{text}` is not an IP address (host names are not resolved; IPv6 goes in brackets)"
            ),
            SocketAddressError::Port { port } => {
                write!(f, "`{port}` is not a port (0 to 65535, or `*` for any)")
            }
        }
    }
}

impl core::error::Error for SocketAddressError {}

/// What an address allows: `connect` or `bind` (and then listen).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TcpVerb {
    /// `start-connect` to the address.
    Connect,
    /// `start-bind` (and then `start-listen`) on the address.
    Bind,
}

impl TcpVerb {
    /// `connect` or `bind`.
    pub const fn as_str(self) -> &'static str {
        match self {
            TcpVerb::Connect => "connect",
            TcpVerb::Bind => "bind",
        }
    }
}

impl fmt::Display for TcpVerb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the manifest's `sockets` table cannot be used (the message goes
/// under the key `sockets`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SocketsError {
    /// Both lists empty.
    NoAddresses,
    /// An address that cannot be read.
    Address {
        /// Its list.
        verb: TcpVerb,
        /// The address as written.
        address: String,
        /// What is wrong with it.
        error: SocketAddressError,
    },
}

impl fmt::Display for SocketsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocketsError::NoAddresses => f.write_str(
                "no addresses: list some in `connect` or `bind` (e.g. `connect = \
                 [\"127.0.0.1:8080\"]`), or leave `sockets` out to deny TCP",
            ),
            SocketsError::Address {
                verb,
                address,
                error,
            } => write!(f, "`{verb}` `{address}`: {error}"),
        }
    }
}

impl core::error::Error for SocketsError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            SocketsError::NoAddresses => None,
            SocketsError::Address { error, .. } => Some(error),
        }
    }
}

/// One settings line of the sockets interposer: `connect ADDRESS` or `bind ADDRESS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SocketsLine {
    /// What the address allows.
    pub verb: TcpVerb,
    /// The address.
    pub address: SocketAddress,
}

impl fmt::Display for SocketsLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.verb, self.address)
    }
}

impl FromStr for SocketsLine {
    type Err = LineError;

    fn from_str(line: &str) -> Result<Self, Self::Err> {
        let bad = || LineError::new(SliceKind::Sockets, line);
        let (verb, address) = crate::verb(line);
        let verb = match verb {
            "connect" => TcpVerb::Connect,
            "bind" => TcpVerb::Bind,
            _ => return Err(bad()),
        };
        let address = address.parse().map_err(|_| bad())?;
        Ok(SocketsLine { verb, address })
    }
}

/// The sockets interposer's settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct SocketsSettings {
    /// Where TCP may connect.
    pub connect: Vec<SocketAddress>,
    /// Where TCP may bind (and then listen).
    pub bind: Vec<SocketAddress>,
}

impl SocketsSettings {
    /// The manifest's `sockets` table, checked: some address, each readable
    /// (`connect` first).
    pub fn from_manifest<S: AsRef<str>>(connect: &[S], bind: &[S]) -> Result<Self, SocketsError> {
        if connect.is_empty() && bind.is_empty() {
            return Err(SocketsError::NoAddresses);
        }
        let list = |verb: TcpVerb, list: &[S]| {
            list.iter()
                .map(|a| {
                    let a = a.as_ref();
                    a.parse().map_err(|error| SocketsError::Address {
                        verb,
                        address: a.into(),
                        error,
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Self {
            connect: list(TcpVerb::Connect, connect)?,
            bind: list(TcpVerb::Bind, bind)?,
        })
    }

    /// Reads settings lines: `connect ADDRESS`, `bind ADDRESS`; other and
    /// malformed lines are skipped (the composer checked them; skipping
    /// denies more).
    pub fn from_lines<S: AsRef<str>>(lines: &[S]) -> Self {
        let mut s = Self::default();
        for line in lines
            .iter()
            .filter_map(|l| l.as_ref().parse::<SocketsLine>().ok())
        {
            match line.verb {
                TcpVerb::Connect => s.connect.push(line.address),
                TcpVerb::Bind => s.bind.push(line.address),
            }
        }
        s
    }

    /// The settings lines: every `connect`, then every `bind`.
    pub fn lines(&self) -> Vec<String> {
        let line = |verb| {
            move |address: &SocketAddress| SocketsLine {
                verb,
                address: *address,
            }
        };
        self.connect
            .iter()
            .map(line(TcpVerb::Connect))
            .chain(self.bind.iter().map(line(TcpVerb::Bind)))
            .map(|l| l.to_string())
            .collect()
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

    fn address(text: &str) -> Result<String, String> {
        text.parse::<SocketAddress>()
            .map(|a| a.to_string())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn addresses_are_normalised_and_round_trip() {
        for (text, normal) in [
            ("127.0.0.1:8080", "127.0.0.1:8080"),
            ("10.0.0.1:*", "10.0.0.1:*"),
            ("[0::1]:0", "[::1]:0"),
            ("[0::1]:443", "[::1]:443"),
            ("0.0.0.0:*", "0.0.0.0:*"),
            ("[::FFFF:127.0.0.1]:65535", "[::ffff:127.0.0.1]:65535"),
            // Ports as written, as the audit has always shown them.
            ("1.2.3.4:00080", "1.2.3.4:00080"),
            ("1.2.3.4:00000", "1.2.3.4:00000"),
        ] {
            assert_eq!(address(text).as_deref(), Ok(normal), "{text}");
            let a: SocketAddress = text.parse().unwrap();
            assert_eq!(a.to_string().parse(), Ok(a));
        }
    }

    #[test]
    fn parts_are_typed() {
        let a: SocketAddress = "[::1]:080".parse().unwrap();
        assert_eq!(a.ip(), IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert_eq!(a.port(), Some(80));
        assert!(a.matches(IpAddr::V6(Ipv6Addr::LOCALHOST), 80));
        let b = SocketAddress::new(IpAddr::V4(Ipv4Addr::LOCALHOST), None);
        assert_eq!(b.to_string(), "127.0.0.1:*");
        assert_eq!("127.0.0.1:*".parse(), Ok(b));
    }

    #[test]
    fn bad_addresses_say_what_the_composer_says() {
        let not_ip = |ip: &str| {
            alloc::format!(
                "`{ip}` is not an IP address (host names are not resolved; IPv6 goes in brackets)"
            )
        };
        for (bad, says) in [
            (
                "127.0.0.1",
                "write `IP:PORT` or `IP:*` (IPv6 as `[::1]:PORT`)".to_string(),
            ),
            ("localhost:80", not_ip("localhost")),
            ("*:80", not_ip("*")),
            ("::1:80", not_ip("::1")),
            ("[::1", not_ip("[:")),
            ("[::1]", not_ip("[:")),
            ("01.0.0.1:80", not_ip("01.0.0.1")),
            ("[nope]:80", "`nope` is not an IPv6 address".to_string()),
            (
                "127.0.0.1:",
                "`` is not a port (0 to 65535, or `*` for any)".to_string(),
            ),
            (
                "127.0.0.1:x",
                "`x` is not a port (0 to 65535, or `*` for any)".to_string(),
            ),
            (
                "127.0.0.1:65536",
                "`65536` is not a port (0 to 65535, or `*` for any)".to_string(),
            ),
            (
                "127.0.0.1:+1",
                "`+1` is not a port (0 to 65535, or `*` for any)".to_string(),
            ),
            (
                "127.0.0.1:000001",
                "`000001` is not a port (0 to 65535, or `*` for any)".to_string(),
            ),
        ] {
            assert_eq!(address(bad), Err(says), "{bad}");
        }
    }

    #[test]
    fn the_manifest_table_says_which_address() {
        assert_eq!(
            SocketsSettings::from_manifest::<&str>(&[], &[])
                .unwrap_err()
                .to_string(),
            "no addresses: list some in `connect` or `bind` (e.g. `connect = [\"127.0.0.1:8080\"]`), or leave `sockets` out to deny TCP"
        );
        // golden `slice-sockets-bad-address`
        assert_eq!(
            SocketsSettings::from_manifest(&["127.0.0.1:8080"], &["localhost:80"])
                .unwrap_err()
                .to_string(),
            "`bind` `localhost:80`: `localhost` is not an IP address (host names are not resolved; IPv6 goes in brackets)"
        );
        // `connect` is checked first.
        assert!(matches!(
            SocketsSettings::from_manifest(&["x"], &["y"]),
            Err(SocketsError::Address {
                verb: TcpVerb::Connect,
                ..
            })
        ));
    }

    #[test]
    fn settings_lines_round_trip_and_skip_what_they_cannot_read() {
        // golden `slice-sockets`
        let s =
            SocketsSettings::from_manifest(&["127.0.0.1:8080", "10.0.0.1:*", "[0::1]:443"], &[])
                .unwrap();
        let lines = s.lines();
        assert_eq!(
            lines,
            [
                "connect 127.0.0.1:8080",
                "connect 10.0.0.1:*",
                "connect [::1]:443"
            ]
        );
        assert_eq!(SocketsSettings::from_lines(&lines), s);
        let s = SocketsSettings::from_manifest(&["192.168.1.10:5432"], &["0.0.0.0:*"]).unwrap();
        assert_eq!(s.lines(), ["connect 192.168.1.10:5432", "bind 0.0.0.0:*"]);
        assert_eq!(SocketsSettings::from_lines(&s.lines()), s);
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
            "connect",
        ] {
            assert_eq!(
                SocketsSettings::from_lines(&[bad]),
                SocketsSettings::default(),
                "{bad}"
            );
        }
    }

    #[test]
    fn addresses_match_ip_family_and_port() {
        let s = SocketsSettings::from_lines(&[
            "connect 127.0.0.1:8080",
            "connect 10.0.0.1:*",
            "bind [::1]:*",
        ]);
        let local = IpAddr::V4(Ipv4Addr::LOCALHOST);
        assert!(s.may_connect(local, 8080));
        assert!(!s.may_connect(local, 8081));
        assert!(s.may_connect(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 65535));
        assert!(!s.may_bind(local, 8080));
        assert!(!s.may_connect(IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped()), 8080));
        assert!(s.may_bind(IpAddr::V6(Ipv6Addr::LOCALHOST), 9000));
    }
}
