//! The `files` interposer: exports `wasi:filesystem/types` and `preopens`
//! built on the host's, with ONE preopen whose root is a subtree of a host
//! preopen. Settings (`airlock:interpose/config`): `dir PATH`, `as NAME`,
//! `read-only BOOL` (see `wit/interpose/files.wit`), read by
//! [`airlock_slice_settings::FilesSettings`], the type the composer writes
//! them with.
//!
//! Every path a library passes is reduced to components under the narrowed
//! root ([`path::normalize`]: absolute paths and `..` above the root are
//! refused with `not-permitted`), then walked from the root one component at
//! a time, never letting the host follow a symlink: a symlink met on the way
//! is read and resolved here, within the root (an absolute target or one that
//! climbs out is refused). A symlink swapped in by someone else between the
//! check and the step makes the host's step fail (it is told not to follow).
//!
//! Read-only: create, truncate and write flags, and every method that changes
//! something, get `error-code.read-only`.
//!
//! Streams are the host's (`wasi:io/streams` is shared with the host), so
//! `read-via-stream` returns the host's stream as is.

#![cfg_attr(target_family = "wasm", no_std)]

extern crate alloc;

use interpose_rt as _;

pub mod path;

mod bindings {
    wit_bindgen::generate!({
        // `wit/interpose/deps` links to the vendored WASI packages.
        path: "../../../wit/interpose",
        world: "airlock:interpose/files-narrow",
        generate_all,
    });

    #[cfg(target_family = "wasm")]
    use super::narrow::Component;
    #[cfg(target_family = "wasm")]
    export!(Component);
}

#[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
mod narrow;
