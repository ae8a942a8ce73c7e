//! Interface names as they appear in component imports and exports:
//! `namespace:package/interface@version`, and semver compatibility between them.

use semver::Version;
use std::fmt;

/// A parsed interface name such as `wasi:cli/stdout@0.2.4`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InterfaceName {
    /// `wasi`
    pub namespace: String,
    /// `cli`
    pub package: String,
    /// `stdout`
    pub interface: String,
    /// `0.2.4`, when the name carries one.
    pub version: Option<Version>,
}

impl InterfaceName {
    /// Parses `ns:pkg/iface[@version]`; `None` for plain names (`run`, `greet`).
    pub fn parse(name: &str) -> Option<Self> {
        let (path, version) = match name.split_once('@') {
            Some((path, v)) => (path, Some(Version::parse(v).ok()?)),
            None => (name, None),
        };
        let (namespace, rest) = path.split_once(':')?;
        let (package, interface) = rest.split_once('/')?;
        if namespace.is_empty() || package.is_empty() || interface.is_empty() {
            return None;
        }
        Some(Self {
            namespace: namespace.into(),
            package: package.into(),
            interface: interface.into(),
            version,
        })
    }

    /// `wasi:cli/stdout`, without the version.
    pub fn unversioned(&self) -> String {
        format!("{}:{}/{}", self.namespace, self.package, self.interface)
    }

    /// True for interfaces of the `wasi` namespace.
    pub fn is_wasi(&self) -> bool {
        self.namespace == "wasi"
    }

    /// True when an export of `self` can serve an import of `other`: the same
    /// interface, and versions compatible by semver (0.2.3 serves 0.2.0), as wac does.
    pub fn serves(&self, other: &InterfaceName) -> bool {
        self.unversioned() == other.unversioned()
            && match (&self.version, &other.version) {
                (None, None) => true,
                (Some(a), Some(b)) => compatible(a, b) && a >= b,
                _ => false,
            }
    }

    /// True when the two names denote the same interface on one semver track.
    pub fn same_track(&self, other: &InterfaceName) -> bool {
        self.unversioned() == other.unversioned()
            && match (&self.version, &other.version) {
                (None, None) => true,
                (Some(a), Some(b)) => compatible(a, b),
                _ => false,
            }
    }
}

impl fmt::Display for InterfaceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.unversioned())?;
        if let Some(v) = &self.version {
            write!(f, "@{v}")?;
        }
        Ok(())
    }
}

/// A plain name of a bare function or inline interface, in the component
/// model's kebab case: words of letters and digits, each starting with a
/// letter, joined by `-` (`thing-in`, `get-URL`).
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('-').all(|word| {
            word.starts_with(|c: char| c.is_ascii_alphabetic())
                && word.chars().all(|c| c.is_ascii_alphanumeric())
        })
}

/// Semver compatibility as the component model uses it: same major for 1.0 and
/// later, same minor for 0.x, same patch for 0.0.x; pre-releases only match exactly.
pub fn compatible(a: &Version, b: &Version) -> bool {
    if !a.pre.is_empty() || !b.pre.is_empty() {
        return a == b;
    }
    match (a.major, b.major) {
        (0, 0) => match (a.minor, b.minor) {
            (0, 0) => a.patch == b.patch,
            (x, y) => x == y,
        },
        (x, y) => x == y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> InterfaceName {
        InterfaceName::parse(s).unwrap()
    }

    #[test]
    fn parses_and_prints() {
        let n = name("wasi:cli/stdout@0.2.4");
        assert_eq!(n.namespace, "wasi");
        assert_eq!(n.interface, "stdout");
        assert_eq!(n.to_string(), "wasi:cli/stdout@0.2.4");
        assert!(InterfaceName::parse("run").is_none());
        assert!(InterfaceName::parse("wasi:cli/stdout@bad").is_none());
    }

    #[test]
    fn newer_patch_serves_older() {
        assert!(name("wasi:io/streams@0.2.12").serves(&name("wasi:io/streams@0.2.0")));
        assert!(!name("wasi:io/streams@0.2.0").serves(&name("wasi:io/streams@0.2.12")));
        assert!(!name("wasi:io/streams@0.3.0").serves(&name("wasi:io/streams@0.2.0")));
        assert!(name("a:b/c@1.4.0").serves(&name("a:b/c@1.0.0")));
        assert!(!name("a:b/c@2.0.0").serves(&name("a:b/c@1.0.0")));
        assert!(!name("a:b/c@0.0.2").serves(&name("a:b/c@0.0.1")));
        assert!(!name("a:b/d@0.1.0").serves(&name("a:b/c@0.1.0")));
    }
}
