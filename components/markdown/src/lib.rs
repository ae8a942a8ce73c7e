//! `airlock:markdown/markdown`: CommonMark to HTML with pulldown-cmark, and a
//! document's headings with anchor slugs.

extern crate alloc;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// The slug rule of the `text` component, compiled in from the same file so the
/// two can never disagree.
#[path = "../../text/src/slug.rs"]
mod slug;
pub use slug::slugify;

/// Which extensions to enable, mirroring the WIT `options` flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extensions {
    pub tables: bool,
    pub footnotes: bool,
    pub strikethrough: bool,
    pub tasklists: bool,
}

impl Extensions {
    pub const ALL: Extensions = Extensions {
        tables: true,
        footnotes: true,
        strikethrough: true,
        tasklists: true,
    };

    fn options(self) -> Options {
        let mut o = Options::empty();
        o.set(Options::ENABLE_TABLES, self.tables);
        o.set(Options::ENABLE_FOOTNOTES, self.footnotes);
        o.set(Options::ENABLE_STRIKETHROUGH, self.strikethrough);
        o.set(Options::ENABLE_TASKLISTS, self.tasklists);
        o
    }
}

/// A heading: level 1 to 6, plain text, and `slugify(text)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading {
    pub level: u8,
    pub text: String,
    pub slug: String,
}

/// Renders `doc` as HTML. Raw HTML in the document passes through unchanged.
pub fn to_html(doc: &str, extensions: Extensions) -> String {
    let mut html = String::with_capacity(doc.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, Parser::new_ext(doc, extensions.options()));
    html
}

/// The headings of `doc` in document order, parsed with every extension on.
pub fn headings(doc: &str) -> Vec<Heading> {
    let mut found = Vec::new();
    let mut current: Option<(u8, String)> = None;
    for event in Parser::new_ext(doc, Extensions::ALL.options()) {
        match (&mut current, event) {
            (None, Event::Start(Tag::Heading { level, .. })) => {
                current = Some((level as u8, String::new()));
            }
            (Some((level, text)), Event::End(TagEnd::Heading(_))) => {
                let text = text.trim().to_owned();
                let slug = slugify(&text);
                found.push(Heading {
                    level: *level,
                    text,
                    slug,
                });
                current = None;
            }
            (Some((_, text)), Event::Text(t) | Event::Code(t)) => text.push_str(&t),
            (Some((_, text)), Event::SoftBreak | Event::HardBreak) => text.push(' '),
            _ => {}
        }
    }
    found
}

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/markdown",
        world: "airlock:markdown/library",
    });

    use super::Extensions;
    use exports::airlock::markdown::markdown::{Guest, Heading, Options};

    /// Exported only on wasm: native linkers reject the `:` in export names, and
    /// native builds exist for the unit tests of the plain functions above.
    #[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
    struct Component;

    impl Guest for Component {
        fn to_html(doc: String, options: Options) -> String {
            let extensions = Extensions {
                tables: options.contains(Options::TABLES),
                footnotes: options.contains(Options::FOOTNOTES),
                strikethrough: options.contains(Options::STRIKETHROUGH),
                tasklists: options.contains(Options::TASKLISTS),
            };
            super::to_html(&doc, extensions)
        }

        fn headings(doc: String) -> Vec<Heading> {
            super::headings(&doc)
                .into_iter()
                .map(|h| Heading {
                    level: h.level,
                    text: h.text,
                    slug: h.slug,
                })
                .collect()
        }
    }

    #[cfg(target_family = "wasm")]
    export!(Component);
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "# Café résumé\n\nSome *text*.\n\n## The `code` part\n\n\
                       | a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~ new[^n]\n\n[^n]: A note.\n\n\
                       - [x] done\n- [ ] todo\n\nSetext\n======\n";

    #[test]
    fn headings_have_plain_text_and_slugs() {
        let h = headings(DOC);
        let got: Vec<(u8, &str, &str)> = h
            .iter()
            .map(|h| (h.level, h.text.as_str(), h.slug.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (1, "Café résumé", "café-résumé"),
                (2, "The code part", "the-code-part"),
                (1, "Setext", "setext")
            ]
        );
    }

    #[test]
    fn extensions_switch_on_and_off() {
        let all = to_html(DOC, Extensions::ALL);
        assert!(all.contains("<table>"), "{all}");
        assert!(all.contains("<del>old</del>"), "{all}");
        assert!(all.contains("class=\"footnote-definition\""), "{all}");
        assert!(
            all.contains("<input disabled=\"\" type=\"checkbox\" checked=\"\"/>"),
            "{all}"
        );

        let plain = to_html(DOC, Extensions::default());
        assert!(!plain.contains("<table>"), "{plain}");
        assert!(!plain.contains("<del>"), "{plain}");
        assert!(!plain.contains("footnote"), "{plain}");
        assert!(!plain.contains("checkbox"), "{plain}");
        assert!(plain.starts_with("<h1>Café résumé</h1>\n"), "{plain}");
    }

    #[test]
    fn slugs_follow_the_text_rule() {
        assert_eq!(slugify("Café résumé: 2 notes!"), "café-résumé-2-notes");
    }
}
