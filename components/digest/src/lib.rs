//! `airlock:digest/digest`: SHA-256 and BLAKE3 as lowercase hex.
//!
//! On wasm the crate is `no_std` (see `guest-rt`) so the component imports nothing.

#![cfg_attr(target_family = "wasm", no_std)]

extern crate alloc;

use alloc::string::String;
use guest_rt as _;

use sha2::{Digest, Sha256};

/// SHA-256 of `data` as 64 lowercase hex digits.
pub fn sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// BLAKE3 (32-byte output) of `data` as 64 lowercase hex digits.
pub fn blake3(data: &[u8]) -> String {
    hex::encode(blake3::hash(data).as_bytes())
}

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/digest",
        world: "airlock:digest/library",
    });

    /// Exported only on wasm: native linkers reject the `:` in export names, and
    /// native builds exist for the unit tests of the plain functions above.
    #[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
    struct Component;

    use alloc::string::String;
    use alloc::vec::Vec;

    impl exports::airlock::digest::digest::Guest for Component {
        fn sha256(data: Vec<u8>) -> String {
            super::sha256(&data)
        }
        fn sha256_text(text: String) -> String {
            super::sha256(text.as_bytes())
        }
        fn blake3(data: Vec<u8>) -> String {
            super::blake3(&data)
        }
        fn blake3_text(text: String) -> String {
            super::blake3(text.as_bytes())
        }
    }

    #[cfg(target_family = "wasm")]
    export!(Component);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        assert_eq!(
            sha256(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            blake3(b""),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
        assert_eq!(
            blake3(b"abc"),
            "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"
        );
    }
}
