//! IP addresses read as `core::net`'s `FromStr` reads them, byte for byte
//! the same grammar (tested against it), in a few hundred bytes of code:
//! `core::net`'s parser is about 2.5 KB of the sockets and http interposers,
//! which read their settings with this crate.
//!
//! - IPv4: four decimal octets 0 to 255 separated by `.`, one to three
//!   digits each, no leading zero (`01` is refused).
//! - IPv6: up to eight groups of one to four hex digits (either case, leading
//!   zeros allowed) separated by `:`, at most one `::` standing for one or
//!   more zero groups, and the last two groups optionally written as an IPv4
//!   address (not before a `::`). No zone, no brackets.

use core::net::{Ipv4Addr, Ipv6Addr};

/// A cursor over the text being read.
struct Reader<'a> {
    rest: &'a [u8],
}

impl Reader<'_> {
    /// Runs `read`; on `None`, puts the cursor back where it was.
    fn atomically<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        let at = self.rest;
        let got = read(self);
        if got.is_none() {
            self.rest = at;
        }
        got
    }

    fn given(&mut self, byte: u8) -> Option<()> {
        let (&first, rest) = self.rest.split_first()?;
        (first == byte).then(|| self.rest = rest)
    }

    /// A number of at most `max_digits` digits in `radix` (10 or 16), below
    /// `limit`; with `zero_prefix` false, `0` followed by a digit is refused.
    fn number(
        &mut self,
        radix: u32,
        max_digits: usize,
        zero_prefix: bool,
        limit: u32,
    ) -> Option<u32> {
        self.atomically(|r| {
            let leading_zero = r.rest.first() == Some(&b'0');
            let mut value = 0u32;
            let mut digits = 0;
            while let Some((&b, rest)) = r.rest.split_first() {
                let Some(d) = char::from(b).to_digit(radix) else {
                    break;
                };
                r.rest = rest;
                value = value * radix + d;
                digits += 1;
                if digits > max_digits {
                    return None;
                }
            }
            let ok = digits > 0 && (zero_prefix || !leading_zero || digits == 1) && value < limit;
            ok.then_some(value)
        })
    }

    /// `sep` first unless `index` is 0, then `read`, all or nothing.
    fn separated<T>(
        &mut self,
        sep: u8,
        index: usize,
        read: impl FnOnce(&mut Self) -> Option<T>,
    ) -> Option<T> {
        self.atomically(|r| {
            if index > 0 {
                r.given(sep)?;
            }
            read(r)
        })
    }

    fn v4(&mut self) -> Option<[u8; 4]> {
        self.atomically(|r| {
            let mut octets = [0u8; 4];
            for (i, octet) in octets.iter_mut().enumerate() {
                *octet = r.separated(b'.', i, |r| r.number(10, 3, false, 256))? as u8;
            }
            Some(octets)
        })
    }

    /// Groups into `groups`: how many, and whether the last two were an IPv4
    /// address.
    fn groups(&mut self, groups: &mut [u16]) -> (usize, bool) {
        let limit = groups.len();
        for i in 0..limit {
            // An IPv4 address needs two groups' room.
            if i + 1 < limit
                && let Some([a, b, c, d]) = self.separated(b':', i, Self::v4)
            {
                groups[i] = u16::from_be_bytes([a, b]);
                groups[i + 1] = u16::from_be_bytes([c, d]);
                return (i + 2, true);
            }
            match self.separated(b':', i, |r| r.number(16, 4, true, 0x1_0000)) {
                Some(g) => groups[i] = g as u16,
                None => return (i, false),
            }
        }
        (limit, false)
    }

    fn v6(&mut self) -> Option<[u16; 8]> {
        self.atomically(|r| {
            let mut head = [0u16; 8];
            let (head_len, head_v4) = r.groups(&mut head);
            if head_len == 8 {
                return Some(head);
            }
            if head_v4 {
                return None;
            }
            r.given(b':')?;
            r.given(b':')?;
            // `::` is at least one zero group: seven more at most.
            let mut tail = [0u16; 7];
            let (tail_len, _) = r.groups(tail.get_mut(..7 - head_len)?);
            // The head's groups, zeros, then the tail's at the end.
            let mut groups = [0u16; 8];
            for (g, h) in groups.iter_mut().zip(head.iter().take(head_len)) {
                *g = *h;
            }
            for (g, t) in groups
                .iter_mut()
                .rev()
                .zip(tail.iter().take(tail_len).rev())
            {
                *g = *t;
            }
            Some(groups)
        })
    }
}

/// `text` as an IPv4 address, all of it.
pub fn v4(text: &str) -> Option<Ipv4Addr> {
    let mut r = Reader {
        rest: text.as_bytes(),
    };
    let octets = r.v4()?;
    r.rest.is_empty().then(|| Ipv4Addr::from(octets))
}

/// `text` as an IPv6 address, all of it.
pub fn v6(text: &str) -> Option<Ipv6Addr> {
    let mut r = Reader {
        rest: text.as_bytes(),
    };
    let groups = r.v6()?;
    r.rest.is_empty().then(|| Ipv6Addr::from(groups))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;
    use alloc::vec::Vec;

    fn same(text: &str) {
        assert_eq!(v4(text), text.parse::<Ipv4Addr>().ok(), "v4 `{text}`");
        assert_eq!(v6(text), text.parse::<Ipv6Addr>().ok(), "v6 `{text}`");
    }

    #[test]
    fn known_cases_read_as_core_reads_them() {
        for text in [
            "",
            "0.0.0.0",
            "127.0.0.1",
            "255.255.255.255",
            "256.0.0.1",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1.2.3.04",
            "0.0.0.00",
            "1.2.3.4 ",
            " 1.2.3.4",
            "1..2.3",
            "1.2.3.4.",
            "+1.2.3.4",
            "1.2.3.-4",
            "1234.1.1.1",
            "0x1.1.1.1",
            "١.٢.٣.٤",
            "::",
            "::1",
            "1::",
            ":::",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
            "1::2::3",
            "1:2:3:4:5:6:7",
            "FFFF::ffff",
            "fffff::",
            "0000::00001",
            "::ffff:1.2.3.4",
            "::1.2.3.4",
            "1.2.3.4::",
            "1:2:3:4:5:6:1.2.3.4",
            "1:2:3:4:5:6:7:1.2.3.4",
            "1:2:3:4:5::1.2.3.4",
            "::ffff:01.2.3.4",
            "::ffff:1.2.3",
            "[::1]",
            "::1%eth0",
            "1:2:3:4:5:6:7:8:",
            ":1:2:3:4:5:6:7",
            "1::2:3:4:5:6:7:8",
            "::0:0:0:0:0:0:0",
            "::0:0:0:0:0:0",
            "g::",
            "::ffff:256.1.1.1",
            "1:2:3:4:5:6::7",
            "0:0:0:0:0:0:0:0:",
        ] {
            same(text);
        }
    }

    /// Every text of up to five characters over an alphabet that makes
    /// addresses (and near misses), and longer ones built from parts.
    #[test]
    fn generated_texts_read_as_core_reads_them() {
        let alphabet = ['0', '1', '9', 'f', 'F', 'g', ':', '.'];
        let mut texts: Vec<String> = alloc::vec![String::new()];
        let mut frontier = texts.clone();
        for _ in 0..5 {
            let mut next = Vec::new();
            for t in &frontier {
                for c in alphabet {
                    let mut t = t.clone();
                    t.push(c);
                    next.push(t);
                }
            }
            texts.extend(next.iter().cloned());
            frontier = next;
        }
        let parts = [
            "", "0", "1", "12", "255", "256", "00", "ffff", "10000", "1.2.3.4", "01.2.3.4",
        ];
        for a in parts {
            for b in parts {
                for c in parts {
                    for sep in [":", "::", "."] {
                        texts.push(alloc::format!("{a}{sep}{b}{sep}{c}"));
                        texts.push(alloc::format!("{a}:{b}:{c}:{a}:{b}{sep}{c}:{a}:{b}"));
                        texts.push(alloc::format!("::{a}:{b}{sep}{c}"));
                        texts.push(alloc::format!("{a}.{b}.{c}{sep}{a}"));
                    }
                }
            }
        }
        assert!(texts.len() > 30_000);
        for text in &texts {
            same(text);
        }
    }
}
