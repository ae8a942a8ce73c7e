//! `sockets = { connect = ["127.0.0.1:8080", "10.0.0.1:*"], bind = [] }`: TCP
//! from the host, narrowed to these addresses. The interposer's `tcp-socket`
//! wraps the host's and forwards every method, but `start-connect` only to a
//! `connect` address and `start-bind` (and then `start-listen`) only to a
//! `bind` address; anything else fails with `access-denied` inside the
//! output. Addresses are `IP:PORT` or `IP:*` (any port), IPv6 in brackets.
//! UDP and name lookup stay denied. Settings: `connect ADDRESS`, `bind ADDRESS`.

use super::{Interposer, SliceError, Slices};
use crate::manifest::ComponentSpec;
use std::net::{IpAddr, Ipv6Addr};

/// `composer/interposers/sockets`, prebuilt (`just interposers`).
const WASM: &[u8] = include_bytes!("../../../../interposers/sockets.wasm");

pub(super) fn add(c: &ComponentSpec, out: &mut Slices) -> Result<(), SliceError> {
    let Some(spec) = &c.sockets else {
        return Ok(());
    };
    if spec.connect.is_empty() && spec.bind.is_empty() {
        return Err(SliceError::new(
            "sockets",
            "no addresses: list some in `connect` or `bind` (e.g. `connect = [\"127.0.0.1:8080\"]`), or leave `sockets` out to deny TCP",
        ));
    }
    let mut config = Vec::new();
    let mut summary = Vec::new();
    for (verb, list) in [("connect", &spec.connect), ("bind", &spec.bind)] {
        let addresses = list
            .iter()
            .map(|a| {
                address(a).map_err(|m| SliceError::new("sockets", format!("`{verb}` `{a}`: {m}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        config.extend(addresses.iter().map(|a| format!("{verb} {a}")));
        if !addresses.is_empty() {
            summary.push(format!("tcp {verb} {}", addresses.join(", ")));
        }
    }
    out.interposers.push(Interposer {
        kind: "sockets",
        wasm: WASM,
        wires: vec!["wasi:sockets/tcp", "wasi:sockets/tcp-create-socket"],
        grants: vec![
            "wasi:sockets/tcp",
            "wasi:sockets/tcp-create-socket",
            "wasi:sockets/network",
        ],
        // The library passes the host's network handle to the interposer's
        // sockets and gets the host's streams and pollables back: those
        // handles and their types come from the host on both sides (so the
        // allow-list must permit `wasi:io/*` too).
        library_grants: vec![
            "wasi:sockets/network",
            "wasi:sockets/instance-network",
            "wasi:io/poll",
            "wasi:io/streams",
            "wasi:io/error",
        ],
        config,
        summary: summary.join("; "),
    });
    Ok(())
}

/// `IP:PORT` or `IP:*`, IPv6 in brackets, normalised (`[0::1]` -> `[::1]`).
fn address(text: &str) -> Result<String, String> {
    let (ip, port) = text
        .rsplit_once(':')
        .ok_or("write `IP:PORT` or `IP:*` (IPv6 as `[::1]:PORT`)")?;
    let ip: IpAddr = match ip.strip_prefix('[').and_then(|v6| v6.strip_suffix(']')) {
        Some(v6) => IpAddr::V6(
            v6.parse::<Ipv6Addr>()
                .map_err(|_| format!("`{v6}` is not an IPv6 address"))?,
        ),
        None => IpAddr::V4(ip.parse().map_err(|_| {
            format!(
                "`{ip}` is not an IP address (host names are not resolved; IPv6 goes in brackets)"
            )
        })?),
    };
    if port != "*"
        && !(!port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u16>().is_ok())
    {
        return Err(format!(
            "`{port}` is not a port (0 to 65535, or `*` for any)"
        ));
    }
    Ok(match ip {
        IpAddr::V4(v4) => format!("{v4}:{port}"),
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_normalised() {
        assert_eq!(address("127.0.0.1:8080").unwrap(), "127.0.0.1:8080");
        assert_eq!(address("10.0.0.1:*").unwrap(), "10.0.0.1:*");
        assert_eq!(address("[0::1]:0").unwrap(), "[::1]:0");
    }

    #[test]
    fn bad_addresses_name_the_problem() {
        for (bad, says) in [
            ("127.0.0.1", "write `IP:PORT`"),
            ("localhost:80", "`localhost` is not an IP address"),
            ("*:80", "`*` is not an IP address"),
            ("::1:80", "`::1` is not an IP address"),
            ("[nope]:80", "`nope` is not an IPv6 address"),
            ("127.0.0.1:", "`` is not a port"),
            ("127.0.0.1:65536", "`65536` is not a port"),
            ("127.0.0.1:+1", "`+1` is not a port"),
        ] {
            let err = address(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
