//! Content digests, `sha256:<hex>`: what the registry, the lock and the
//! provenance record name components by.

use sha2::Digest as _;

/// `sha256:<hex>` of some bytes: the OCI content digest.
pub fn sha256(bytes: &[u8]) -> String {
    digest_text(sha2::Sha256::digest(bytes))
}

/// `sha256:<hex>` of a finished sha256 hash (for bytes hashed as they stream).
pub fn digest_text(hash: impl AsRef<[u8]>) -> String {
    let mut out = String::with_capacity(71);
    out.push_str("sha256:");
    for b in hash.as_ref() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Whether `text` is a digest Airlock accepts: `sha256:` and 64 lowercase hex digits.
pub fn is_digest(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    })
}
