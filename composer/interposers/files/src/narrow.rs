//! The exported `descriptor` over the host's, and the walk that keeps every
//! host call under the narrowed root.
//!
//! # Symlinks left under the root
//!
//! The library cannot follow a symlink out (the walk resolves every symlink
//! itself), but the trusted app and host tools follow them physically, so a
//! writable slice must not leave one that leads out from where it stands.
//! The rule: every symlink the library creates (`symlink-at`) or moves
//! (`rename-at`, `link-at`: the link itself, or beneath a directory it
//! renames) must be *contained* where it lands ([`path::contained`]): a
//! relative target whose `..` all come first, no more of them than the
//! link's depth below the root, then names only. Otherwise the call gets
//! `not-permitted` and changes nothing. A contained link stays contained
//! when it moves deeper, so a directory renamed to the same depth or deeper
//! is not looked into; one renamed shallower is walked first (reading
//! symlinks, following none). Why it is enough: when every symlink under the
//! root is contained, the host following one climbs real directories no
//! higher than the root, then only descends or follows another contained
//! symlink, so it stays inside; creating files and directories changes no
//! symlink, and every call that makes or moves one keeps this true. Symlinks
//! the host itself put under the root that are not contained are the
//! host's: they may lead out whatever the library does.

use crate::bindings::airlock::interpose::config;
use crate::bindings::exports::wasi::filesystem::preopens::Guest as PreopensGuest;
use crate::bindings::exports::wasi::filesystem::types::{
    Advice, Descriptor, DescriptorBorrow, DescriptorFlags, DescriptorStat, DescriptorType,
    DirectoryEntry, DirectoryEntryStream, ErrorCode, Filesize, Guest, GuestDescriptor,
    GuestDirectoryEntryStream, InputStream, MetadataHashValue, NewTimestamp, OpenFlags,
    OutputStream, PathFlags,
};
use crate::bindings::wasi::filesystem::preopens as host_preopens;
use crate::bindings::wasi::filesystem::types as host;
use crate::bindings::wasi::io::error::Error;
use crate::path::{self, Refusal};
use airlock_slice_settings::FilesSettings as Settings;
use alloc::rc::Rc;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

pub struct Component;

/// How many symlinks one path may pass through (as Linux's `MAXSYMLINKS`).
const MAX_LINKS: usize = 40;

/// The narrowed root, shared by every descriptor opened under it.
struct Root {
    dir: host::Descriptor,
    read_only: bool,
    /// How directories on the way are opened: as the root itself is (they
    /// can be changed only when the slice is writable and the host lets the
    /// root be changed; the host checks the flag on every change).
    walk: host::DescriptorFlags,
}

impl Root {
    fn dir_flags(&self) -> host::DescriptorFlags {
        self.walk
    }
}

fn dir_flags(read_only: bool) -> host::DescriptorFlags {
    if read_only {
        host::DescriptorFlags::READ
    } else {
        host::DescriptorFlags::READ | host::DescriptorFlags::MUTATE_DIRECTORY
    }
}

/// A descriptor the library holds: the host's, its place under the root.
pub struct Desc {
    /// `None`: this is the root itself.
    host: Option<host::Descriptor>,
    root: Rc<Root>,
    /// Components under the root (directories: where relative paths start).
    path: Vec<String>,
}

/// Where a path leads: the host directory holding its last component.
struct Place {
    /// `None`: the root.
    parent: Option<host::Descriptor>,
    /// The last component (`.` for the root itself).
    name: String,
    /// The full resolved components under the root.
    path: Vec<String>,
}

impl Place {
    fn dir<'a>(&'a self, root: &'a Root) -> &'a host::Descriptor {
        self.parent.as_ref().unwrap_or(&root.dir)
    }
}

fn refused(r: Refusal) -> ErrorCode {
    match r {
        Refusal::Escape => ErrorCode::NotPermitted,
        Refusal::Invalid => ErrorCode::Invalid,
    }
}

/// A conversion between the two copies wit-bindgen generates of one WIT enum
/// of `wasi:filesystem/types` (the host's, imported, and ours, exported),
/// variant by variant: no `unsafe` lifting of discriminants, and a variant
/// missing on either side fails to compile.
macro_rules! same_enum {
    ($(#[$doc:meta])* fn $name:ident($from:ty) -> $to:ty { $($variant:ident),* $(,)? }) => {
        $(#[$doc])*
        fn $name(value: $from) -> $to {
            match value {
                $(<$from>::$variant => <$to>::$variant,)*
            }
        }
    };
}

same_enum! {
    /// The host's error, passed on.
    fn code(host::ErrorCode) -> ErrorCode {
        Access, WouldBlock, Already, BadDescriptor, Busy, Deadlock, Quota, Exist,
        FileTooLarge, IllegalByteSequence, InProgress, Interrupted, Invalid, Io,
        IsDirectory, Loop, TooManyLinks, MessageSize, NameTooLong, NoDevice, NoEntry,
        NoLock, InsufficientMemory, InsufficientSpace, NotDirectory, NotEmpty,
        NotRecoverable, Unsupported, NoTty, NoSuchDevice, Overflow, NotPermitted, Pipe,
        ReadOnly, InvalidSeek, TextFileBusy, CrossDevice,
    }
}

same_enum! {
    /// The host's descriptor type, passed on.
    fn kind(host::DescriptorType) -> DescriptorType {
        Unknown, BlockDevice, CharacterDevice, Directory, Fifo, SymbolicLink,
        RegularFile, Socket,
    }
}

same_enum! {
    /// The library's advice, passed to the host.
    fn host_advice(Advice) -> host::Advice {
        Normal, Sequential, Random, WillNeed, DontNeed, NoReuse,
    }
}

impl Desc {
    fn host(&self) -> &host::Descriptor {
        self.host.as_ref().unwrap_or(&self.root.dir)
    }

    fn writable(&self) -> Result<(), ErrorCode> {
        if self.root.read_only {
            Err(ErrorCode::ReadOnly)
        } else {
            Ok(())
        }
    }

    /// Resolves `path` (relative to this descriptor) under the root: every
    /// directory on the way is opened from the root one component at a time
    /// without following symlinks; a symlink met is resolved here, and the
    /// last component too when `follow` is set.
    fn place(&self, path: &str, follow: bool) -> Result<Place, ErrorCode> {
        let mut parts = path::normalize(&self.path, path).map_err(refused)?;
        let root = &self.root;
        let mut links = 0;
        'walk: loop {
            let mut parent: Option<host::Descriptor> = None;
            for i in 0..parts.len() {
                let dir = parent.as_ref().unwrap_or(&root.dir);
                let name = parts[i].as_str();
                if i + 1 == parts.len() {
                    if follow && let Some(next) = link(dir, &parts, i, &mut links)? {
                        parts = next;
                        continue 'walk;
                    }
                    let name = parts[i].clone();
                    return Ok(Place {
                        parent,
                        name,
                        path: parts,
                    });
                }
                // Open first: the host refuses a symlink (told not to
                // follow), and only then is it looked at.
                let flags = host::PathFlags::empty();
                match dir.open_at(flags, name, host::OpenFlags::DIRECTORY, root.dir_flags()) {
                    Ok(next) => parent = Some(next),
                    Err(e) => match link(dir, &parts, i, &mut links)? {
                        Some(next) => {
                            parts = next;
                            continue 'walk;
                        }
                        None => return Err(code(e)),
                    },
                }
            }
            // No components: the root itself.
            return Ok(Place {
                parent: None,
                name: ".".to_string(),
                path: parts,
            });
        }
    }

    fn child(&self, host: host::Descriptor, path: Vec<String>) -> Descriptor {
        Descriptor::new(Desc {
            host: Some(host),
            root: self.root.clone(),
            path,
        })
    }
}

/// When `parts[i]` (in `dir`) is a symlink: the path with it replaced by its
/// target, read from where the link is (refused when it leaves the root).
/// `None`: not a symlink, or missing (a last component may be about to be
/// created).
fn link(
    dir: &host::Descriptor,
    parts: &[String],
    i: usize,
    links: &mut usize,
) -> Result<Option<Vec<String>>, ErrorCode> {
    match dir.stat_at(host::PathFlags::empty(), &parts[i]) {
        Ok(st) if st.type_ == host::DescriptorType::SymbolicLink => {
            *links += 1;
            if *links > MAX_LINKS {
                return Err(ErrorCode::Loop);
            }
            let target = dir.readlink_at(&parts[i]).map_err(code)?;
            let mut next = path::normalize(&parts[..i], &target).map_err(refused)?;
            next.extend_from_slice(&parts[i + 1..]);
            Ok(Some(next))
        }
        Ok(_) | Err(host::ErrorCode::NoEntry) => Ok(None),
        Err(e) => Err(code(e)),
    }
}

/// `not-permitted` when the entry at `from`, renamed or hard-linked to `to`,
/// would leave a symlink that is not contained where it lands
/// ([`path::contained`]; see the module's documentation): the entry itself
/// when it is a symlink (looked at, not followed), and, with `walk_dirs`,
/// every symlink beneath it when it is a directory going shallower.
fn lands_contained(
    root: &Root,
    from: &Place,
    to: &Place,
    walk_dirs: bool,
) -> Result<(), ErrorCode> {
    let dir = from.dir(root);
    let st = dir
        .stat_at(host::PathFlags::empty(), &from.name)
        .map_err(code)?;
    match st.type_ {
        host::DescriptorType::SymbolicLink => {
            let target = dir.readlink_at(&from.name).map_err(code)?;
            // It lands in the directory holding `to`.
            path::contained(to.path.len().saturating_sub(1), &target).map_err(refused)
        }
        host::DescriptorType::Directory if walk_dirs && to.path.len() < from.path.len() => {
            let moved = dir
                .open_at(
                    host::PathFlags::empty(),
                    &from.name,
                    host::OpenFlags::DIRECTORY,
                    host::DescriptorFlags::READ,
                )
                .map_err(code)?;
            // Its entries will stand in `to`, `to.path.len()` below the root.
            links_contained(&moved, to.path.len())
        }
        _ => Ok(()),
    }
}

/// `not-permitted` unless every symlink beneath the directory `dir` is
/// contained ([`path::contained`]) with `dir`'s own entries standing `depth`
/// directories below the root. Symlinks are read, never followed; one
/// directory is open per level.
fn links_contained(dir: &host::Descriptor, depth: usize) -> Result<(), ErrorCode> {
    let mut subdirs = Vec::new();
    let entries = dir.read_directory().map_err(code)?;
    while let Some(entry) = entries.read_directory_entry().map_err(code)? {
        let type_ = match entry.type_ {
            host::DescriptorType::Unknown => {
                dir.stat_at(host::PathFlags::empty(), &entry.name)
                    .map_err(code)?
                    .type_
            }
            known => known,
        };
        match type_ {
            host::DescriptorType::SymbolicLink => {
                let target = dir.readlink_at(&entry.name).map_err(code)?;
                path::contained(depth, &target).map_err(refused)?;
            }
            host::DescriptorType::Directory => subdirs.push(entry.name),
            _ => {}
        }
    }
    drop(entries);
    for name in subdirs {
        let sub = dir
            .open_at(
                host::PathFlags::empty(),
                &name,
                host::OpenFlags::DIRECTORY,
                host::DescriptorFlags::READ,
            )
            .map_err(code)?;
        links_contained(&sub, depth + 1)?;
    }
    Ok(())
}

fn follows(flags: PathFlags) -> bool {
    flags.contains(PathFlags::SYMLINK_FOLLOW)
}

fn timestamp(t: NewTimestamp) -> host::NewTimestamp {
    match t {
        NewTimestamp::NoChange => host::NewTimestamp::NoChange,
        NewTimestamp::Now => host::NewTimestamp::Now,
        NewTimestamp::Timestamp(d) => host::NewTimestamp::Timestamp(d),
    }
}

fn stat(s: host::DescriptorStat) -> DescriptorStat {
    DescriptorStat {
        type_: kind(s.type_),
        link_count: s.link_count,
        size: s.size,
        data_access_timestamp: s.data_access_timestamp,
        data_modification_timestamp: s.data_modification_timestamp,
        status_change_timestamp: s.status_change_timestamp,
    }
}

fn hash(h: host::MetadataHashValue) -> MetadataHashValue {
    MetadataHashValue {
        lower: h.lower,
        upper: h.upper,
    }
}

impl GuestDescriptor for Desc {
    fn read_via_stream(&self, offset: Filesize) -> Result<InputStream, ErrorCode> {
        self.host().read_via_stream(offset).map_err(code)
    }
    fn write_via_stream(&self, offset: Filesize) -> Result<OutputStream, ErrorCode> {
        self.writable()?;
        self.host().write_via_stream(offset).map_err(code)
    }
    fn append_via_stream(&self) -> Result<OutputStream, ErrorCode> {
        self.writable()?;
        self.host().append_via_stream().map_err(code)
    }
    fn advise(&self, offset: Filesize, length: Filesize, advice: Advice) -> Result<(), ErrorCode> {
        self.host()
            .advise(offset, length, host_advice(advice))
            .map_err(code)
    }
    fn sync_data(&self) -> Result<(), ErrorCode> {
        self.host().sync_data().map_err(code)
    }
    fn get_flags(&self) -> Result<DescriptorFlags, ErrorCode> {
        let flags = self.host().get_flags().map_err(code)?;
        Ok(DescriptorFlags::from_bits_retain(flags.bits()))
    }
    fn get_type(&self) -> Result<DescriptorType, ErrorCode> {
        self.host().get_type().map(kind).map_err(code)
    }
    fn set_size(&self, size: Filesize) -> Result<(), ErrorCode> {
        self.writable()?;
        self.host().set_size(size).map_err(code)
    }
    fn set_times(&self, atime: NewTimestamp, mtime: NewTimestamp) -> Result<(), ErrorCode> {
        self.writable()?;
        self.host()
            .set_times(timestamp(atime), timestamp(mtime))
            .map_err(code)
    }
    fn read(&self, length: Filesize, offset: Filesize) -> Result<(Vec<u8>, bool), ErrorCode> {
        self.host().read(length, offset).map_err(code)
    }
    fn write(&self, buffer: Vec<u8>, offset: Filesize) -> Result<Filesize, ErrorCode> {
        self.writable()?;
        self.host().write(&buffer, offset).map_err(code)
    }
    fn read_directory(&self) -> Result<DirectoryEntryStream, ErrorCode> {
        let entries = self.host().read_directory().map_err(code)?;
        Ok(DirectoryEntryStream::new(Entries(entries)))
    }
    fn sync(&self) -> Result<(), ErrorCode> {
        self.host().sync().map_err(code)
    }
    fn create_directory_at(&self, path: String) -> Result<(), ErrorCode> {
        self.writable()?;
        let p = self.place(&path, false)?;
        p.dir(&self.root).create_directory_at(&p.name).map_err(code)
    }
    fn stat(&self) -> Result<DescriptorStat, ErrorCode> {
        self.host().stat().map(stat).map_err(code)
    }
    fn stat_at(&self, flags: PathFlags, path: String) -> Result<DescriptorStat, ErrorCode> {
        let p = self.place(&path, follows(flags))?;
        let dir = p.dir(&self.root);
        dir.stat_at(host::PathFlags::empty(), &p.name)
            .map(stat)
            .map_err(code)
    }
    fn set_times_at(
        &self,
        flags: PathFlags,
        path: String,
        atime: NewTimestamp,
        mtime: NewTimestamp,
    ) -> Result<(), ErrorCode> {
        self.writable()?;
        let p = self.place(&path, follows(flags))?;
        p.dir(&self.root)
            .set_times_at(
                host::PathFlags::empty(),
                &p.name,
                timestamp(atime),
                timestamp(mtime),
            )
            .map_err(code)
    }
    fn link_at(
        &self,
        old_flags: PathFlags,
        old_path: String,
        new_descriptor: DescriptorBorrow<'_>,
        new_path: String,
    ) -> Result<(), ErrorCode> {
        self.writable()?;
        let other: &Desc = new_descriptor.get();
        let old = self.place(&old_path, follows(old_flags))?;
        let new = other.place(&new_path, false)?;
        // A hard link of a symlink is that symlink, standing somewhere else.
        lands_contained(&self.root, &old, &new, false)?;
        old.dir(&self.root)
            .link_at(
                host::PathFlags::empty(),
                &old.name,
                new.dir(&other.root),
                &new.name,
            )
            .map_err(code)
    }
    fn open_at(
        &self,
        flags: PathFlags,
        path: String,
        open: OpenFlags,
        dflags: DescriptorFlags,
    ) -> Result<Descriptor, ErrorCode> {
        let writes = OpenFlags::CREATE | OpenFlags::TRUNCATE;
        let mutates = DescriptorFlags::WRITE | DescriptorFlags::MUTATE_DIRECTORY;
        if open.intersects(writes) || dflags.intersects(mutates) {
            self.writable()?;
        }
        let open_in = |p: &Place| {
            p.dir(&self.root).open_at(
                host::PathFlags::empty(),
                &p.name,
                host::OpenFlags::from_bits_retain(open.bits()),
                host::DescriptorFlags::from_bits_retain(dflags.bits()),
            )
        };
        // Open first (the host refuses a final symlink, told not to follow
        // it); resolve it here only then, when following was asked for.
        let p = self.place(&path, false)?;
        let (fd, p) = match open_in(&p) {
            Ok(fd) => (fd, p),
            Err(e) if !follows(flags) => return Err(code(e)),
            Err(e) => {
                let q = self.place(&path, true)?;
                if q.path == p.path {
                    return Err(code(e));
                }
                (open_in(&q).map_err(code)?, q)
            }
        };
        Ok(self.child(fd, p.path))
    }
    fn readlink_at(&self, path: String) -> Result<String, ErrorCode> {
        let p = self.place(&path, false)?;
        p.dir(&self.root).readlink_at(&p.name).map_err(code)
    }
    fn remove_directory_at(&self, path: String) -> Result<(), ErrorCode> {
        self.writable()?;
        let p = self.place(&path, false)?;
        p.dir(&self.root).remove_directory_at(&p.name).map_err(code)
    }
    fn rename_at(
        &self,
        old_path: String,
        new_descriptor: DescriptorBorrow<'_>,
        new_path: String,
    ) -> Result<(), ErrorCode> {
        self.writable()?;
        let other: &Desc = new_descriptor.get();
        let old = self.place(&old_path, false)?;
        let new = other.place(&new_path, false)?;
        lands_contained(&self.root, &old, &new, true)?;
        old.dir(&self.root)
            .rename_at(&old.name, new.dir(&other.root), &new.name)
            .map_err(code)
    }
    fn symlink_at(&self, old_path: String, new_path: String) -> Result<(), ErrorCode> {
        self.writable()?;
        let new = self.place(&new_path, false)?;
        // The link's target must be contained, read from where the link is
        // (see the module's documentation).
        path::contained(new.path.len().saturating_sub(1), &old_path).map_err(refused)?;
        new.dir(&self.root)
            .symlink_at(&old_path, &new.name)
            .map_err(code)
    }
    fn unlink_file_at(&self, path: String) -> Result<(), ErrorCode> {
        self.writable()?;
        let p = self.place(&path, false)?;
        p.dir(&self.root).unlink_file_at(&p.name).map_err(code)
    }
    fn is_same_object(&self, other: DescriptorBorrow<'_>) -> bool {
        let other: &Desc = other.get();
        self.host().is_same_object(other.host())
    }
    fn metadata_hash(&self) -> Result<MetadataHashValue, ErrorCode> {
        self.host().metadata_hash().map(hash).map_err(code)
    }
    fn metadata_hash_at(
        &self,
        flags: PathFlags,
        path: String,
    ) -> Result<MetadataHashValue, ErrorCode> {
        let p = self.place(&path, follows(flags))?;
        p.dir(&self.root)
            .metadata_hash_at(host::PathFlags::empty(), &p.name)
            .map(hash)
            .map_err(code)
    }
}

/// A directory listing: the host's.
pub struct Entries(host::DirectoryEntryStream);

impl GuestDirectoryEntryStream for Entries {
    fn read_directory_entry(&self) -> Result<Option<DirectoryEntry>, ErrorCode> {
        let entry = self.0.read_directory_entry().map_err(code)?;
        Ok(entry.map(|e| DirectoryEntry {
            type_: kind(e.type_),
            name: e.name,
        }))
    }
}

impl Guest for Component {
    type Descriptor = Desc;
    type DirectoryEntryStream = Entries;

    fn filesystem_error_code(err: &Error) -> Option<ErrorCode> {
        host::filesystem_error_code(err).map(code)
    }
}

impl PreopensGuest for Component {
    /// The narrowed root alone, opened from the host preopen it lies under;
    /// nothing when there is none (or the way there is not a plain directory).
    fn get_directories() -> Vec<(Descriptor, String)> {
        let Some(settings) = Settings::from_lines(&config::get()) else {
            return Vec::new();
        };
        let Some(dir) = open_root(&settings) else {
            return Vec::new();
        };
        let walk = match dir.get_flags() {
            Ok(flags) if !settings.access.is_read_only() => flags & dir_flags(false),
            _ => dir_flags(true),
        };
        let root = Rc::new(Root {
            dir,
            read_only: settings.access.is_read_only(),
            walk,
        });
        let desc = Descriptor::new(Desc {
            host: None,
            root,
            path: Vec::new(),
        });
        alloc::vec![(desc, settings.name.into())]
    }
}

/// Opens `settings.dir` from the host preopen it lies under, one component at
/// a time, following no symlink: changeable when the slice is writable and
/// the host permits it, else for reading.
fn open_root(settings: &Settings) -> Option<host::Descriptor> {
    let writable = (!settings.access.is_read_only())
        .then(|| open_with(settings, dir_flags(false)))
        .flatten();
    writable.or_else(|| open_with(settings, dir_flags(true)))
}

fn open_with(settings: &Settings, flags: host::DescriptorFlags) -> Option<host::Descriptor> {
    let mut preopens = host_preopens::get_directories();
    let names: Vec<String> = preopens.iter().map(|(_, n)| n.clone()).collect();
    let (index, below) = path::host_preopen(settings.dir.as_str(), &names)?;
    let mut dir = preopens.swap_remove(index).0;
    drop(preopens);
    for name in below {
        dir = dir
            .open_at(
                host::PathFlags::empty(),
                name,
                host::OpenFlags::DIRECTORY,
                flags,
            )
            .ok()?;
    }
    Some(dir)
}
