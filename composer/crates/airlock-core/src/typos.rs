//! A pattern (`grant`, `deny`, `[allow]`) that names nothing is a typo, not a
//! no-op: `wasi:filesytem/*` would compose and leave the app without files.
//! Each pattern must match an import or export of some component of the
//! composition, or a WASI interface the composer knows (whatever the version);
//! otherwise it is refused with the closest name that would have matched.
//! The plain names of bare functions and inline interfaces count too.

use crate::inspect::{Decoded, ItemKind};
use crate::names::InterfaceName;
use crate::policy::Pattern;
use crate::spec::CompositionSpec;
use crate::wasi_deps;
use std::collections::BTreeSet;

/// A pattern that matches nothing, and what was probably meant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnknownPattern {
    /// Where it was written: `[allow]`, or `grant`/`deny` of an instance.
    pub place: String,
    /// The pattern as written.
    pub pattern: String,
    /// The closest pattern that would match something, if one is close.
    pub suggestion: Option<String>,
}

/// Every pattern of `spec` that matches no interface of `decoded` (in spec
/// order) and no known WASI interface.
pub fn unknown_patterns(spec: &CompositionSpec, decoded: &[&Decoded]) -> Vec<UnknownPattern> {
    let mut names: BTreeSet<String> = wasi_deps::interface_names().map(String::from).collect();
    for dec in decoded {
        for item in dec.imports.iter().chain(&dec.exports) {
            if let Some(n) = InterfaceName::parse(&item.name) {
                names.insert(n.unversioned());
            } else if item.kind != ItemKind::Type {
                names.insert(item.name.clone());
            }
        }
    }
    let mut found = Vec::new();
    let mut check = |place: String, pattern: &Pattern| {
        if !names.iter().any(|n| pattern.matches_unversioned(n)) {
            found.push(UnknownPattern {
                place,
                pattern: pattern.to_string(),
                suggestion: closest(pattern, &names),
            });
        }
    };
    for p in &spec.allow.0 {
        check("[allow] interfaces".into(), p);
    }
    // Built-in interposers' patterns are the composer's own.
    for inst in spec.instances.iter().filter(|i| i.builtin.is_none()) {
        for p in &inst.grant.0 {
            check(format!("`grant` of `{}`", inst.name), p);
        }
        for p in &inst.deny.0 {
            check(format!("`deny` of `{}`", inst.name), p);
        }
    }
    found.sort();
    found.dedup();
    found
}

/// The candidate closest to `pattern`'s glob by edit distance, in the same
/// shape (a whole name, `ns:pkg/*` or `ns:*`), with the version requirement
/// kept; `None` when nothing is close.
fn closest(pattern: &Pattern, names: &BTreeSet<String>) -> Option<String> {
    let glob = pattern.glob();
    // A plain name that is the last part of an interface's (`stdout`):
    // that interface was meant, not a bare function.
    if !glob.contains([':', '/', '*'])
        && let Some(n) = names
            .iter()
            .find(|n| n.rsplit_once('/').is_some_and(|(_, i)| i == glob))
    {
        return Some(n.clone());
    }
    let candidates = names.iter().flat_map(|n| {
        let Some((namespace, _)) = n.split_once(':') else {
            // A plain name: itself only.
            return vec![n.clone()];
        };
        let package = n.split_once('/').map_or(n.as_str(), |(p, _)| p);
        vec![n.clone(), format!("{package}/*"), format!("{namespace}:*")]
    });
    let (distance, best) = candidates.map(|c| (edit_distance(glob, &c), c)).min()?;
    if distance > (glob.len() / 4).max(2) {
        return None;
    }
    let version = pattern.as_str().split_once('@').map(|(_, v)| v);
    Some(match version {
        Some(v) => format!("{best}@{v}"),
        None => best,
    })
}

/// The word of `candidates` closest to `word`, when it is close (a typo).
pub fn closest_word<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let (distance, best) = candidates.map(|c| (edit_distance(word, c), c)).min()?;
    (distance > 0 && distance <= (word.len() / 4).max(2)).then_some(best)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suggest(pattern: &str, names: &[&str]) -> Option<String> {
        let names = names.iter().map(|s| s.to_string()).collect();
        closest(&pattern.parse().unwrap(), &names)
    }

    #[test]
    fn suggests_the_closest_name_in_the_same_shape() {
        let names = ["wasi:filesystem/types", "wasi:cli/stdout", "my:lib/api"];
        assert_eq!(
            suggest("wasi:filesytem/*", &names).as_deref(),
            Some("wasi:filesystem/*")
        );
        assert_eq!(
            suggest("wasi:cli/stduot@0.2", &names).as_deref(),
            Some("wasi:cli/stdout@0.2")
        );
        assert_eq!(suggest("other:thing/else", &names), None);
        let names = ["wasi:cli/stdout", "thing-in", "lists"];
        assert_eq!(suggest("thing-im", &names).as_deref(), Some("thing-in"));
        assert_eq!(suggest("list", &names).as_deref(), Some("lists"));
        assert_eq!(
            suggest("stdout", &names).as_deref(),
            Some("wasi:cli/stdout")
        );
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
