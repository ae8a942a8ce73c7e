//! A test component: what a library written with Rust's `std::fs` sees of
//! its files. Real libraries use std, and std on `wasm32-wasip2` reads files
//! through wasi-libc (`open-at`, then `read-via-stream`), so this is what the
//! `files` slice must serve. `raw-*` functions call `wasi:filesystem`
//! directly, to hand the interposer paths that wasi-libc would rewrite.

use std::fmt::Debug;

mod bindings {
    wit_bindgen::generate!({
        path: [
            "../../../wit/deps/io",
            "../../../wit/deps/clocks",
            "../../../wit/deps/filesystem",
            "../../../wit/fs-probe",
        ],
        world: "airlock:fs-probe/probe",
        generate_all,
    });
    use super::Probe;
    export!(Probe);
}

use bindings::exports::airlock::fs_probe::fs::Guest;
use bindings::wasi::filesystem::{preopens, types};

struct Probe;

fn text(e: impl Debug) -> String {
    format!("{e:?}")
}

/// The first preopen (the probe is given one).
fn first() -> Result<types::Descriptor, String> {
    preopens::get_directories()
        .into_iter()
        .next()
        .map(|(d, _)| d)
        .ok_or_else(|| "no preopen".to_string())
}

impl Guest for Probe {
    fn preopens() -> Vec<String> {
        preopens::get_directories()
            .into_iter()
            .map(|(_, name)| name)
            .collect()
    }

    fn read(path: String) -> Result<String, String> {
        std::fs::read_to_string(&path).map_err(text)
    }

    fn write(path: String, text: String) -> Result<(), String> {
        std::fs::write(&path, text).map_err(self::text)
    }

    fn list(dir: String) -> Result<Vec<String>, String> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&dir).map_err(text)? {
            names.push(
                entry
                    .map_err(text)?
                    .file_name()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
        names.sort();
        Ok(names)
    }

    fn read_many(path: String, times: u32) -> Result<u64, String> {
        let mut total = 0u64;
        for _ in 0..times {
            total += std::fs::read(&path).map_err(text)?.len() as u64;
        }
        Ok(total)
    }

    fn raw_read(path: String, follow: bool) -> Result<String, String> {
        let root = first()?;
        let flags = if follow {
            types::PathFlags::SYMLINK_FOLLOW
        } else {
            types::PathFlags::empty()
        };
        let file = root
            .open_at(
                flags,
                &path,
                types::OpenFlags::empty(),
                types::DescriptorFlags::READ,
            )
            .map_err(text)?;
        let (bytes, _) = file.read(1 << 20, 0).map_err(text)?;
        String::from_utf8(bytes).map_err(text)
    }

    fn raw_stat(path: String, follow: bool) -> Result<u64, String> {
        let root = first()?;
        let flags = if follow {
            types::PathFlags::SYMLINK_FOLLOW
        } else {
            types::PathFlags::empty()
        };
        root.stat_at(flags, &path).map(|s| s.size).map_err(text)
    }

    fn raw_write(path: String, text: String) -> Result<(), String> {
        let root = first()?;
        let file = root
            .open_at(
                types::PathFlags::empty(),
                &path,
                types::OpenFlags::CREATE,
                types::DescriptorFlags::WRITE,
            )
            .map_err(self::text)?;
        file.write(text.as_bytes(), 0).map_err(self::text)?;
        Ok(())
    }

    fn raw_symlink(target: String, path: String) -> Result<(), String> {
        first()?.symlink_at(&target, &path).map_err(text)
    }

    fn raw_rename(old: String, new: String) -> Result<(), String> {
        let root = first()?;
        root.rename_at(&old, &root, &new).map_err(text)
    }

    fn raw_link(old: String, new: String) -> Result<(), String> {
        let root = first()?;
        root.link_at(types::PathFlags::empty(), &old, &root, &new)
            .map_err(text)
    }
}
