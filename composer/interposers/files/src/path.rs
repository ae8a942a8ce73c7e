//! Path rules of the narrowed preopen, as plain functions (unit-tested
//! natively). A path is always reduced to components under the narrowed root
//! before anything reaches the host.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// Why a path is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Absolute, or `..` climbing above the root: `error-code.not-permitted`.
    Escape,
    /// A NUL byte or an empty name: `error-code.invalid`.
    Invalid,
}

/// `path`, taken relative to the directory `base` (components under the
/// root), as components under the root. Lexical: `a/..` is `base` whatever
/// `a` is, which keeps the result inside the root (the walk then refuses to
/// pass a symlink it has not resolved itself).
pub fn normalize(base: &[String], path: &str) -> Result<Vec<String>, Refusal> {
    if path.starts_with('/') {
        return Err(Refusal::Escape);
    }
    if path.contains('\0') {
        return Err(Refusal::Invalid);
    }
    let mut out: Vec<String> = base.to_vec();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop().ok_or(Refusal::Escape)?;
            }
            name => out.push(name.to_string()),
        }
    }
    Ok(out)
}

/// Whether a symlink whose directory is `depth` directories below the root
/// (0: the root itself) may have the target `target`: it must be
/// *contained*, that is relative, with every `..` at its start, no more of
/// them than `depth`, and then plain names only (`.` and empty parts are
/// ignored). Absolute targets and `..` too many or after a name are
/// [`Refusal::Escape`]; a NUL byte is [`Refusal::Invalid`].
///
/// Why: the host resolves a symlink's target from the directory the link is
/// in, physically. Climbing `k <= depth` real directories ends under the
/// root; from there a name only descends, or follows another symlink, which
/// stays under the root when it is contained too. So when every symlink
/// under the root is contained, none leads out. A `..` after a name is
/// refused even where [`normalize`] keeps the path inside: the host takes
/// `d/..` from wherever `d` leads (with `d -> .` in the root, `d/../x` is
/// the root's sibling `x`). Containment depends only on the target and the
/// depth, so a contained link stays contained when it moves deeper, and
/// may not when it moves shallower.
pub fn contained(depth: usize, target: &str) -> Result<(), Refusal> {
    if target.starts_with('/') {
        return Err(Refusal::Escape);
    }
    if target.contains('\0') {
        return Err(Refusal::Invalid);
    }
    let mut climbs = 0;
    let mut named = false;
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." if named => return Err(Refusal::Escape),
            ".." => {
                climbs += 1;
                if climbs > depth {
                    return Err(Refusal::Escape);
                }
            }
            _ => named = true,
        }
    }
    Ok(())
}

/// The components of a guest path such as `/docs/public` or `./data`
/// (empty, `.` parts dropped); `None` when it has `..` or a NUL byte.
pub fn components(path: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return None,
            p if p.contains('\0') => return None,
            p => out.push(p),
        }
    }
    Some(out)
}

/// Which host preopen the narrowed directory `dir` lies under: the index in
/// `names` of the longest preopen name that is a component-wise prefix of
/// `dir` (an absolute `dir` matches absolute names only), and the components
/// below it.
pub fn host_preopen<'a>(dir: &'a str, names: &[String]) -> Option<(usize, Vec<&'a str>)> {
    let want = components(dir)?;
    let absolute = dir.starts_with('/');
    let mut best: Option<(usize, usize)> = None;
    for (i, name) in names.iter().enumerate() {
        if name.starts_with('/') != absolute {
            continue;
        }
        let Some(have) = components(name) else {
            continue;
        };
        if have.len() <= want.len()
            && have.iter().zip(&want).all(|(a, b)| a == b)
            && best.is_none_or(|(_, len)| have.len() > len)
        {
            best = Some((i, have.len()));
        }
    }
    best.map(|(i, len)| (i, want[len..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn paths_stay_under_the_root() {
        assert_eq!(normalize(&[], "a.txt"), Ok(v(&["a.txt"])));
        assert_eq!(normalize(&[], "./sub//b/../c"), Ok(v(&["sub", "c"])));
        assert_eq!(normalize(&v(&["sub"]), "../a.txt"), Ok(v(&["a.txt"])));
        assert_eq!(normalize(&[], ""), Ok(v(&[])));
        assert_eq!(normalize(&[], "sub/.."), Ok(v(&[])));
    }

    #[test]
    fn escapes_are_refused() {
        assert_eq!(normalize(&[], "/secret.txt"), Err(Refusal::Escape));
        assert_eq!(normalize(&[], "../secret.txt"), Err(Refusal::Escape));
        assert_eq!(normalize(&[], "sub/../../secret.txt"), Err(Refusal::Escape));
        assert_eq!(normalize(&v(&["sub"]), "../../x"), Err(Refusal::Escape));
        assert_eq!(normalize(&[], "a\0b"), Err(Refusal::Invalid));
    }

    #[test]
    fn contained_symlink_targets_climb_first_and_no_higher_than_the_root() {
        for (depth, target) in [
            (0, "a.txt"),
            (0, "sub/b.txt"),
            (0, "./sub//b.txt/"),
            (0, ""),
            (1, ".."),
            (1, "../a.txt"),
            (2, "../../a.txt"),
            (2, "../sub/./b"),
            (3, "../../x"),
        ] {
            assert_eq!(contained(depth, target), Ok(()), "{depth} {target}");
        }
        for (depth, target) in [
            // Too many `..` from where the link is.
            (0, ".."),
            (0, "../secret.txt"),
            (1, "../../secret.txt"),
            (2, "../../../x"),
            // Absolute.
            (5, "/secret.txt"),
            // `..` after a name: inside by `normalize`, not by the host's
            // resolution when the name is a symlink (`d -> .`).
            (0, "d/../secret.txt"),
            (3, "../a/../b"),
            (1, "a/.."),
        ] {
            assert_eq!(
                contained(depth, target),
                Err(Refusal::Escape),
                "{depth} {target}"
            );
        }
        assert_eq!(contained(0, "a\0b"), Err(Refusal::Invalid));
    }

    #[test]
    fn a_contained_target_stays_contained_deeper_only() {
        // `a/b/l -> ../../x` is contained at depth 2 (and deeper), not at 0.
        assert_eq!(contained(2, "../../x"), Ok(()));
        assert_eq!(contained(7, "../../x"), Ok(()));
        assert_eq!(contained(1, "../../x"), Err(Refusal::Escape));
        assert_eq!(contained(0, "../../x"), Err(Refusal::Escape));
        // Where `normalize` agrees it leaves the root.
        assert_eq!(normalize(&[], "../../x"), Err(Refusal::Escape));
    }

    #[test]
    fn the_longest_host_preopen_wins() {
        let names = v(&["/", "/docs", "/docs/pub", "data"]);
        assert_eq!(
            host_preopen("/docs/public", &names),
            Some((1, vec!["public"]))
        );
        assert_eq!(host_preopen("/docs/pub/x", &names), Some((2, vec!["x"])));
        assert_eq!(host_preopen("/etc", &names), Some((0, vec!["etc"])));
        assert_eq!(host_preopen("data/a", &names), Some((3, vec!["a"])));
        assert_eq!(host_preopen("/docs/../etc", &names), None);
        assert_eq!(host_preopen("/docs", &v(&["/docs/public"])), None);
    }
}
