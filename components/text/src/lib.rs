//! `airlock:text/text`: small, Unicode-aware string utilities.
//!
//! On wasm the crate is `no_std` (see `guest-rt`) so the component imports nothing.

#![cfg_attr(target_family = "wasm", no_std)]

extern crate alloc;

use alloc::string::String;
use guest_rt as _;

use unicode_segmentation::UnicodeSegmentation;

mod slug;
pub use slug::slugify;

/// Words by Unicode word boundaries (UAX #29) that contain a letter or digit.
pub fn word_count(s: &str) -> u32 {
    u32::try_from(s.unicode_words().count()).unwrap_or(u32::MAX)
}

/// Uppercases the first letter of each whitespace-separated word and lowercases
/// the rest, except words written entirely in capitals (acronyms), which are kept.
pub fn title_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut word = String::new();
    for c in s.chars() {
        if c.is_whitespace() {
            push_title_word(&mut out, &word);
            word.clear();
            out.push(c);
        } else {
            word.push(c);
        }
    }
    push_title_word(&mut out, &word);
    out
}

fn push_title_word(out: &mut String, word: &str) {
    let has_letters = word.chars().any(char::is_alphabetic);
    let acronym = word.chars().filter(|c| c.is_alphabetic()).count() > 1
        && word.chars().all(|c| !c.is_lowercase());
    if !has_letters || acronym {
        out.push_str(word);
        return;
    }
    // The first letter may come after leading punctuation: "(hello" -> "(Hello".
    let mut seen_letter = false;
    for c in word.chars() {
        if c.is_alphabetic() && !seen_letter {
            seen_letter = true;
            out.extend(c.to_uppercase());
        } else if seen_letter {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
}

/// The first `n` extended grapheme clusters of `s`; no ellipsis is added.
pub fn truncate(s: &str, n: u32) -> &str {
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    match s.grapheme_indices(true).nth(n) {
        Some((end, _)) => &s[..end],
        None => s,
    }
}

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/text",
        world: "airlock:text/library",
    });

    /// Exported only on wasm: native linkers reject the `:` in export names, and
    /// native builds exist for the unit tests of the plain functions above.
    #[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
    struct Component;

    use alloc::borrow::ToOwned;
    use alloc::string::String;

    impl exports::airlock::text::text::Guest for Component {
        fn slugify(s: String) -> String {
            super::slugify(&s)
        }
        fn word_count(s: String) -> u32 {
            super::word_count(&s)
        }
        fn title_case(s: String) -> String {
            super::title_case(&s)
        }
        fn truncate(s: String, n: u32) -> String {
            super::truncate(&s, n).to_owned()
        }
    }

    #[cfg(target_family = "wasm")]
    export!(Component);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slugify("Café résumé: 2 notes!"), "café-résumé-2-notes");
        assert_eq!(slugify("  Hello,  World  "), "hello-world");
        assert_eq!(slugify("snake_case and-kebab"), "snake-case-and-kebab");
        assert_eq!(slugify("ÜBER Straße"), "über-straße");
        assert_eq!(slugify("!!!"), "");
        assert_eq!(slugify(""), "");
    }

    #[test]
    fn words() {
        assert_eq!(word_count("don't stop, 2 go"), 4);
        assert_eq!(word_count("  "), 0);
        assert_eq!(word_count("Café résumé — naïve"), 3);
        // UAX #29 breaks at "-" but not at "." between letters.
        assert_eq!(word_count("a-b c.d"), 3);
    }

    #[test]
    fn titles() {
        assert_eq!(title_case("the quick brown fox"), "The Quick Brown Fox");
        assert_eq!(title_case("café résumé"), "Café Résumé");
        assert_eq!(
            title_case("using the API  (again)"),
            "Using The API  (Again)"
        );
        assert_eq!(title_case("hELLO wORLD"), "Hello World");
        assert_eq!(title_case("2024 plans"), "2024 Plans");
        assert_eq!(title_case("a"), "A");
        assert_eq!(title_case("I am"), "I Am");
    }

    #[test]
    fn truncation_counts_graphemes() {
        assert_eq!(truncate("hello world", 5), "hello");
        assert_eq!(truncate("hi", 10), "hi");
        assert_eq!(truncate("", 3), "");
        assert_eq!(truncate("abc", 0), "");
        // "e" + combining acute accent is one grapheme; so is a flag.
        assert_eq!(truncate("e\u{301}tude", 1), "e\u{301}");
        assert_eq!(truncate("🇫🇷🇩🇪", 1), "🇫🇷");
    }
}
