//! The exported interfaces over the embedded [`Tree`].

use crate::bindings::airlock::interpose::config;
use crate::bindings::exports::wasi::clocks::monotonic_clock;
use crate::bindings::exports::wasi::filesystem::preopens;
use crate::bindings::exports::wasi::filesystem::types::{
    self, Advice, Descriptor, DescriptorBorrow, DescriptorFlags, DescriptorStat, DescriptorType,
    DirectoryEntry, DirectoryEntryStream, ErrorCode, Filesize, MetadataHashValue, NewTimestamp,
    OpenFlags, PathFlags,
};
use crate::bindings::exports::wasi::io::error::{self, ErrorBorrow};
use crate::bindings::exports::wasi::io::poll::{self, PollableBorrow};
use crate::bindings::exports::wasi::io::streams::{
    self, InputStream, InputStreamBorrow, OutputStream, Pollable, StreamError,
};
use crate::path::{self, Refusal};
use crate::{Node, Tree, chunk};
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::Cell;

pub struct Component;

// --- wasi:io: errors never made, pollables always ready, streams in memory.

pub struct Error;

impl error::GuestError for Error {
    fn to_debug_string(&self) -> String {
        String::from("embedded file error")
    }
}

impl error::Guest for Component {
    type Error = Error;
}

pub struct Ready;

impl poll::GuestPollable for Ready {
    fn ready(&self) -> bool {
        true
    }
    fn block(&self) {}
}

impl poll::Guest for Component {
    type Pollable = Ready;
    fn poll(list: Vec<PollableBorrow<'_>>) -> Vec<u32> {
        (0..list.len() as u32).collect()
    }
}

fn ready() -> Pollable {
    Pollable::new(Ready)
}

/// An embedded file's bytes from a position.
pub struct In {
    data: Rc<[u8]>,
    pos: Cell<usize>,
}

impl In {
    fn take(&self, len: u64) -> Result<Vec<u8>, StreamError> {
        let range = chunk(self.data.len(), self.pos.get(), len).ok_or(StreamError::Closed)?;
        self.pos.set(range.end);
        Ok(self.data[range].to_vec())
    }
    fn skip_n(&self, len: u64) -> Result<u64, StreamError> {
        let range = chunk(self.data.len(), self.pos.get(), len).ok_or(StreamError::Closed)?;
        self.pos.set(range.end);
        Ok(range.len() as u64)
    }
}

impl streams::GuestInputStream for In {
    fn read(&self, len: u64) -> Result<Vec<u8>, StreamError> {
        self.take(len)
    }
    fn blocking_read(&self, len: u64) -> Result<Vec<u8>, StreamError> {
        self.take(len)
    }
    fn skip(&self, len: u64) -> Result<u64, StreamError> {
        self.skip_n(len)
    }
    fn blocking_skip(&self, len: u64) -> Result<u64, StreamError> {
        self.skip_n(len)
    }
    fn subscribe(&self) -> Pollable {
        ready()
    }
}

/// No output stream is ever handed out (writes are refused); the type must exist.
pub struct Closed;

impl streams::GuestOutputStream for Closed {
    fn check_write(&self) -> Result<u64, StreamError> {
        Err(StreamError::Closed)
    }
    fn write(&self, _: Vec<u8>) -> Result<(), StreamError> {
        Err(StreamError::Closed)
    }
    fn blocking_write_and_flush(&self, _: Vec<u8>) -> Result<(), StreamError> {
        Err(StreamError::Closed)
    }
    fn flush(&self) -> Result<(), StreamError> {
        Err(StreamError::Closed)
    }
    fn blocking_flush(&self) -> Result<(), StreamError> {
        Err(StreamError::Closed)
    }
    fn subscribe(&self) -> Pollable {
        ready()
    }
    fn write_zeroes(&self, _: u64) -> Result<(), StreamError> {
        Err(StreamError::Closed)
    }
    fn blocking_write_zeroes_and_flush(&self, _: u64) -> Result<(), StreamError> {
        Err(StreamError::Closed)
    }
    fn splice(&self, _: InputStreamBorrow<'_>, _: u64) -> Result<u64, StreamError> {
        Err(StreamError::Closed)
    }
    fn blocking_splice(&self, _: InputStreamBorrow<'_>, _: u64) -> Result<u64, StreamError> {
        Err(StreamError::Closed)
    }
}

impl streams::Guest for Component {
    type InputStream = In;
    type OutputStream = Closed;
}

/// Denied, as the default denial would be: zero, always-ready pollables
/// (which must be this `wasi:io/poll`'s).
impl monotonic_clock::Guest for Component {
    fn now() -> u64 {
        0
    }
    fn resolution() -> u64 {
        0
    }
    fn subscribe_instant(_: u64) -> Pollable {
        ready()
    }
    fn subscribe_duration(_: u64) -> Pollable {
        ready()
    }
}

// --- wasi:filesystem over the tree.

/// A descriptor: a node of the tree, by path.
pub struct Desc {
    tree: Rc<Tree>,
    path: Vec<String>,
}

fn refused(r: Refusal) -> ErrorCode {
    match r {
        Refusal::Escape => ErrorCode::NotPermitted,
        Refusal::Invalid => ErrorCode::Invalid,
    }
}

fn kind(node: &Node) -> DescriptorType {
    match node {
        Node::Dir => DescriptorType::Directory,
        Node::File(_) => DescriptorType::RegularFile,
    }
}

fn stat_of(node: &Node) -> DescriptorStat {
    DescriptorStat {
        type_: kind(node),
        link_count: 1,
        size: match node {
            Node::Dir => 0,
            Node::File(data) => data.len() as u64,
        },
        data_access_timestamp: None,
        data_modification_timestamp: None,
        status_change_timestamp: None,
    }
}

/// FNV-1a of the path: the same node, the same hash.
fn hash_of(path: &[String]) -> MetadataHashValue {
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    for part in path {
        for b in part.bytes().chain([b'/']) {
            h ^= b as u128;
            h = h.wrapping_mul(0x0000000001000000000000000000013B);
        }
    }
    MetadataHashValue {
        lower: h as u64,
        upper: (h >> 64) as u64,
    }
}

impl Desc {
    fn node(&self) -> &Node {
        // The path came from the tree, which never changes.
        self.tree.get(&self.path).unwrap_or(&Node::Dir)
    }
    fn file(&self) -> Result<&Rc<[u8]>, ErrorCode> {
        match self.node() {
            Node::File(data) => Ok(data),
            Node::Dir => Err(ErrorCode::IsDirectory),
        }
    }
    fn resolve(&self, path: &str) -> Result<(Vec<String>, &Node), ErrorCode> {
        if !matches!(self.node(), Node::Dir) {
            return Err(ErrorCode::NotDirectory);
        }
        let parts = path::normalize(&self.path, path).map_err(refused)?;
        let node = self.tree.get(&parts).ok_or(ErrorCode::NoEntry)?;
        Ok((parts, node))
    }
}

impl types::GuestDescriptor for Desc {
    fn read_via_stream(&self, offset: Filesize) -> Result<InputStream, ErrorCode> {
        let data = self.file()?.clone();
        let pos = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(data.len());
        Ok(InputStream::new(In {
            data,
            pos: Cell::new(pos),
        }))
    }
    fn write_via_stream(&self, _: Filesize) -> Result<OutputStream, ErrorCode> {
        Err(ErrorCode::ReadOnly)
    }
    fn append_via_stream(&self) -> Result<OutputStream, ErrorCode> {
        Err(ErrorCode::ReadOnly)
    }
    fn advise(&self, _: Filesize, _: Filesize, _: Advice) -> Result<(), ErrorCode> {
        Ok(())
    }
    fn sync_data(&self) -> Result<(), ErrorCode> {
        Ok(())
    }
    fn get_flags(&self) -> Result<DescriptorFlags, ErrorCode> {
        Ok(DescriptorFlags::READ)
    }
    fn get_type(&self) -> Result<DescriptorType, ErrorCode> {
        Ok(kind(self.node()))
    }
    fn set_size(&self, _: Filesize) -> Result<(), ErrorCode> {
        Err(ErrorCode::ReadOnly)
    }
    fn set_times(&self, _: NewTimestamp, _: NewTimestamp) -> Result<(), ErrorCode> {
        Err(ErrorCode::ReadOnly)
    }
    fn read(&self, length: Filesize, offset: Filesize) -> Result<(Vec<u8>, bool), ErrorCode> {
        let data = self.file()?;
        let pos = usize::try_from(offset).unwrap_or(usize::MAX);
        match chunk(data.len(), pos, length) {
            Some(range) => {
                let end = range.end == data.len();
                Ok((data[range].to_vec(), end))
            }
            None => Ok((Vec::new(), true)),
        }
    }
    fn write(&self, _: Vec<u8>, _: Filesize) -> Result<Filesize, ErrorCode> {
        Err(ErrorCode::ReadOnly)
    }
    fn read_directory(&self) -> Result<DirectoryEntryStream, ErrorCode> {
        if !matches!(self.node(), Node::Dir) {
            return Err(ErrorCode::NotDirectory);
        }
        let entries = self
            .tree
            .list(&self.path)
            .into_iter()
            .map(|(name, node)| DirectoryEntry {
                type_: kind(node),
                name,
            })
            .collect();
        Ok(DirectoryEntryStream::new(Entries {
            entries,
            next: Cell::new(0),
        }))
    }
    fn sync(&self) -> Result<(), ErrorCode> {
        Ok(())
    }
    fn create_directory_at(&self, _: String) -> Result<(), ErrorCode> {
        Err(ErrorCode::ReadOnly)
    }
    fn stat(&self) -> Result<DescriptorStat, ErrorCode> {
        Ok(stat_of(self.node()))
    }
    fn stat_at(&self, _: PathFlags, path: String) -> Result<DescriptorStat, ErrorCode> {
        self.resolve(&path).map(|(_, node)| stat_of(node))
    }
    fn set_times_at(
        &self,
        _: PathFlags,
        _: String,
        _: NewTimestamp,
        _: NewTimestamp,
    ) -> Result<(), ErrorCode> {
        Err(ErrorCode::ReadOnly)
    }
    fn link_at(
        &self,
        _: PathFlags,
        _: String,
        _: DescriptorBorrow<'_>,
        _: String,
    ) -> Result<(), ErrorCode> {
        Err(ErrorCode::ReadOnly)
    }
    fn open_at(
        &self,
        _: PathFlags,
        path: String,
        open: OpenFlags,
        flags: DescriptorFlags,
    ) -> Result<Descriptor, ErrorCode> {
        let writes = OpenFlags::CREATE | OpenFlags::TRUNCATE;
        let mutates = DescriptorFlags::WRITE | DescriptorFlags::MUTATE_DIRECTORY;
        if open.intersects(writes) || flags.intersects(mutates) {
            return Err(ErrorCode::ReadOnly);
        }
        let (parts, node) = self.resolve(&path)?;
        if open.contains(OpenFlags::DIRECTORY) && !matches!(node, Node::Dir) {
            return Err(ErrorCode::NotDirectory);
        }
        Ok(Descriptor::new(Desc {
            tree: self.tree.clone(),
            path: parts,
        }))
    }
    fn readlink_at(&self, path: String) -> Result<String, ErrorCode> {
        self.resolve(&path)?;
        Err(ErrorCode::Invalid)
    }
    fn remove_directory_at(&self, _: String) -> Result<(), ErrorCode> {
        Err(ErrorCode::ReadOnly)
    }
    fn rename_at(&self, _: String, _: DescriptorBorrow<'_>, _: String) -> Result<(), ErrorCode> {
        Err(ErrorCode::ReadOnly)
    }
    fn symlink_at(&self, _: String, _: String) -> Result<(), ErrorCode> {
        Err(ErrorCode::ReadOnly)
    }
    fn unlink_file_at(&self, _: String) -> Result<(), ErrorCode> {
        Err(ErrorCode::ReadOnly)
    }
    fn is_same_object(&self, other: DescriptorBorrow<'_>) -> bool {
        let other: &Desc = other.get();
        Rc::ptr_eq(&self.tree, &other.tree) && self.path == other.path
    }
    fn metadata_hash(&self) -> Result<MetadataHashValue, ErrorCode> {
        Ok(hash_of(&self.path))
    }
    fn metadata_hash_at(&self, _: PathFlags, path: String) -> Result<MetadataHashValue, ErrorCode> {
        self.resolve(&path).map(|(parts, _)| hash_of(&parts))
    }
}

/// A directory listing, made when it is asked for.
pub struct Entries {
    entries: Vec<DirectoryEntry>,
    next: Cell<usize>,
}

impl types::GuestDirectoryEntryStream for Entries {
    fn read_directory_entry(&self) -> Result<Option<DirectoryEntry>, ErrorCode> {
        let i = self.next.get();
        self.next.set(i + 1);
        Ok(self.entries.get(i).cloned())
    }
}

impl types::Guest for Component {
    type Descriptor = Desc;
    type DirectoryEntryStream = Entries;
    fn filesystem_error_code(_: ErrorBorrow<'_>) -> Option<ErrorCode> {
        None
    }
}

impl preopens::Guest for Component {
    fn get_directories() -> Vec<(Descriptor, String)> {
        let tree = Tree::parse(&config::get());
        let name = tree.name.clone();
        let root = Desc {
            tree: Rc::new(tree),
            path: Vec::new(),
        };
        alloc::vec![(Descriptor::new(root), name)]
    }
}
