//! The slug rule, shared by `text` and `markdown` (which includes this file by
//! path) so heading anchors and `slugify` can never disagree.

use alloc::string::String;

/// Lowercase; letters and digits of any script are kept; every run of other
/// characters becomes one `-`; no leading or trailing `-`.
pub fn slugify(s: &str) -> String {
    let mut slug = String::with_capacity(s.len());
    let mut pending_dash = false;
    for c in s.chars() {
        if c.is_alphanumeric() {
            if pending_dash && !slug.is_empty() {
                slug.push('-');
            }
            pending_dash = false;
            slug.extend(c.to_lowercase());
        } else {
            pending_dash = true;
        }
    }
    slug
}
