//! The embedded `files` interposer: a read-only directory tree carried in
//! its settings, served as `wasi:filesystem` with its own `wasi:io` (see
//! `wit/interpose/embed.wit`). Nothing is imported from the host.
//!
//! Paths are reduced to components under the root with the files
//! interposer's rules (`../files/src/path.rs`: absolute paths and
//! `..` above the root get `not-permitted`); the tree has no symlinks (the
//! composer refuses them), so there is nothing else to escape through.

#![cfg_attr(target_family = "wasm", no_std)]

extern crate alloc;

use airlock_slice_settings::EmbedLine;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use interpose_rt as _;

#[allow(dead_code)] // only `normalize` is used here
#[path = "../../files/src/path.rs"]
pub mod path;

/// One node of the embedded tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A directory.
    Dir,
    /// A file and its contents.
    File(alloc::rc::Rc<[u8]>),
}

/// The embedded tree: `/`-joined paths under the root (`""`: the root).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tree {
    /// The preopen name the library sees.
    pub name: String,
    /// Every node, by path, sorted by path (one entry per path). A sorted
    /// list and not a `BTreeMap`: the same lookups and order for a few
    /// hundred bytes of code instead of about four thousand.
    pub nodes: Vec<(String, Node)>,
}

impl Tree {
    /// Reads the settings ([`EmbedLine`]s: `as NAME`, `dir PATH`, `file
    /// BASE64 PATH`); malformed lines are skipped (the composer writes them
    /// with the same type).
    pub fn parse(lines: &[String]) -> Tree {
        let mut tree = Tree {
            name: "/".to_string(),
            nodes: Vec::new(),
        };
        tree.insert(String::new(), Node::Dir);
        for line in lines {
            match line.parse::<EmbedLine>() {
                Ok(EmbedLine::As(name)) => tree.name = name.into(),
                Ok(EmbedLine::Dir(path)) => tree.insert(path, Node::Dir),
                Ok(EmbedLine::File { data, path }) => tree.insert(path, Node::File(data.into())),
                Err(_) => {}
            }
        }
        tree
    }

    /// Adds `node` at `path`, in order; a later line for the same path wins.
    fn insert(&mut self, path: String, node: Node) {
        match self.nodes.binary_search_by(|(p, _)| p.as_str().cmp(&path)) {
            Ok(i) => {
                if let Some(entry) = self.nodes.get_mut(i) {
                    entry.1 = node;
                }
            }
            Err(i) => self.nodes.insert(i, (path, node)),
        }
    }

    /// The node at `parts`.
    pub fn get(&self, parts: &[String]) -> Option<&Node> {
        let path = parts.join("/");
        let i = self
            .nodes
            .binary_search_by(|(p, _)| p.as_str().cmp(&path))
            .ok()?;
        self.nodes.get(i).map(|(_, node)| node)
    }

    /// The names directly in the directory `parts`, with their nodes, sorted.
    pub fn list(&self, parts: &[String]) -> Vec<(String, &Node)> {
        let dir = parts.join("/");
        self.nodes
            .iter()
            .filter_map(|(path, node)| {
                let name = if dir.is_empty() {
                    path.as_str()
                } else {
                    path.strip_prefix(dir.as_str())?.strip_prefix('/')?
                };
                (!name.is_empty() && !name.contains('/')).then(|| (name.to_string(), node))
            })
            .collect()
    }
}

/// The next `len` bytes of `total` from `pos` (at least one), or `None` at the end.
pub fn chunk(total: usize, pos: usize, len: u64) -> Option<core::ops::Range<usize>> {
    if pos >= total {
        return None;
    }
    let len = usize::try_from(len).unwrap_or(usize::MAX).min(total - pos);
    Some(pos..pos + len)
}

mod bindings {
    wit_bindgen::generate!({
        // `wit/interpose/deps` links to the vendored WASI packages.
        path: "../../../wit/interpose",
        world: "airlock:interpose/files-embed",
        generate_all,
    });

    #[cfg(target_family = "wasm")]
    use super::serve::Component;
    #[cfg(target_family = "wasm")]
    export!(Component);
}

#[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
mod serve;

#[cfg(test)]
mod tests {
    use super::*;

    fn v(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn the_tree_lists_direct_children_only() {
        let tree = Tree::parse(&v(&[
            "as /assets",
            "dir sub",
            "file aGk= a.txt",
            "file aGkh sub/b.txt",
        ]));
        assert_eq!(tree.name, "/assets");
        let names =
            |p: &[&str]| -> Vec<String> { tree.list(&v(p)).into_iter().map(|(n, _)| n).collect() };
        assert_eq!(names(&[]), ["a.txt", "sub"]);
        assert_eq!(names(&["sub"]), ["b.txt"]);
        assert_eq!(
            tree.get(&v(&["sub", "b.txt"])),
            Some(&Node::File(b"hi!".as_slice().into()))
        );
        assert_eq!(tree.get(&v(&["missing"])), None);
    }

    #[test]
    fn nodes_stay_sorted_and_a_later_line_wins() {
        let tree = Tree::parse(&v(&[
            "file aGk= z.txt",
            "dir b",
            "file aGk= a.txt",
            "file aGkh z.txt",
            "dir b",
        ]));
        let paths: Vec<&str> = tree.nodes.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["", "a.txt", "b", "z.txt"]);
        assert_eq!(
            tree.get(&v(&["z.txt"])),
            Some(&Node::File(b"hi!".as_slice().into()))
        );
        assert_eq!(tree.get(&v(&[])), Some(&Node::Dir));
    }

    #[test]
    fn chunks_end_with_the_file() {
        assert_eq!(chunk(5, 0, 3), Some(0..3));
        assert_eq!(chunk(5, 3, 10), Some(3..5));
        assert_eq!(chunk(5, 5, 1), None);
        assert_eq!(chunk(5, 0, u64::MAX), Some(0..5));
    }
}
