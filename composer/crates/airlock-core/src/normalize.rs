//! Version normalisation. Components built with different toolchains import
//! the same interface at different patch versions (`wasi:io/streams@0.2.0` and
//! `@0.2.4`). wac-graph links by exact name, and merging mixed versions is not
//! reliable, so before composing every import is renamed to the highest
//! semver-compatible version that any component in the composition imports.
//! Only top-level import names change; types and code are untouched.

use crate::names::InterfaceName;
use std::borrow::Cow;
use std::collections::BTreeMap;
use wasm_encoder::reencode::{Error as ReencodeError, ReencodeComponent, component_utils};

/// Old import name -> new import name, for one composition.
#[derive(Debug, Default, Clone)]
pub struct Renames(BTreeMap<String, String>);

impl Renames {
    /// Chooses, for every interface track, the highest version imported by anyone.
    pub fn highest<'a>(import_names: impl IntoIterator<Item = &'a str>) -> Self {
        // Each distinct name once: many instances import the same interfaces.
        let unique: std::collections::BTreeSet<&str> = import_names.into_iter().collect();
        let parsed: Vec<InterfaceName> = unique
            .into_iter()
            .filter_map(InterfaceName::parse)
            .collect();
        // Names on one track share their unversioned name: group by it first,
        // so this is linear in the number of imports.
        let mut by_name: BTreeMap<String, Vec<&InterfaceName>> = BTreeMap::new();
        for name in &parsed {
            by_name.entry(name.unversioned()).or_default().push(name);
        }
        let mut renames = BTreeMap::new();
        for name in &parsed {
            let best = by_name[&name.unversioned()]
                .iter()
                .filter(|other| other.same_track(name))
                .max_by(|a, b| a.version.cmp(&b.version))
                .expect("a name is on its own track");
            if *best != name {
                renames.insert(name.to_string(), best.to_string());
            }
        }
        Self(renames)
    }

    /// The normalised form of an import name.
    pub fn apply<'a>(&self, name: &'a str) -> Cow<'a, str> {
        match self.0.get(name) {
            Some(new) => Cow::Owned(new.clone()),
            None => Cow::Borrowed(name),
        }
    }

    /// Renames the top-level imports of a component; returns the input unchanged
    /// (borrowed) when none of its imports needs renaming.
    pub fn rewrite<'a>(
        &self,
        component: &'a [u8],
        imports: &[String],
    ) -> Result<Cow<'a, [u8]>, String> {
        if !imports.iter().any(|i| self.0.contains_key(i)) {
            return Ok(Cow::Borrowed(component));
        }
        let mut out = wasm_encoder::Component::new();
        let mut renamer = TopLevelRenamer {
            renames: self,
            depth: 0,
        };
        renamer
            .parse_component(&mut out, wasmparser::Parser::new(0), component)
            .map_err(|e| format!("cannot rename imports: {e}"))?;
        Ok(Cow::Owned(out.finish()))
    }
}

/// A re-encoder that renames imports of the outermost component only.
struct TopLevelRenamer<'r> {
    renames: &'r Renames,
    depth: u32,
}

impl ReencodeComponent for TopLevelRenamer<'_> {
    fn push_depth(&mut self) {
        self.depth += 1;
    }

    fn pop_depth(&mut self) {
        self.depth -= 1;
    }

    // Only the outermost imports change: nested modules and components are
    // copied as they are (re-encoding their code was most of the cost).
    fn parse_component_submodule(
        &mut self,
        component: &mut wasm_encoder::Component,
        _parser: wasmparser::Parser,
        module: &[u8],
    ) -> Result<(), ReencodeError<Self::Error>> {
        component.section(&wasm_encoder::RawSection {
            id: wasm_encoder::ComponentSectionId::CoreModule as u8,
            data: module,
        });
        Ok(())
    }

    fn parse_component_subcomponent(
        &mut self,
        component: &mut wasm_encoder::Component,
        _parser: wasmparser::Parser,
        subcomponent: &[u8],
        _whole_component: &[u8],
    ) -> Result<(), ReencodeError<Self::Error>> {
        component.section(&wasm_encoder::RawSection {
            id: wasm_encoder::ComponentSectionId::Component as u8,
            data: subcomponent,
        });
        Ok(())
    }

    fn parse_component_import_section(
        &mut self,
        imports: &mut wasm_encoder::ComponentImportSection,
        section: wasmparser::ComponentImportSectionReader<'_>,
    ) -> Result<(), ReencodeError<Self::Error>> {
        if self.depth > 0 {
            return component_utils::parse_component_import_section(self, imports, section);
        }
        for import in section {
            let import = import?;
            let mut name = wasm_encoder::ComponentExternName::from(import.name);
            if let Cow::Owned(renamed) = self.renames.apply(&name.name) {
                name.name = Cow::Owned(renamed);
            }
            imports.import(name, self.component_type_ref(import.ty)?);
        }
        Ok(())
    }
}

impl wasm_encoder::reencode::Reencode for TopLevelRenamer<'_> {
    type Error = std::convert::Infallible;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_highest_on_each_track() {
        let r = Renames::highest([
            "wasi:io/streams@0.2.0",
            "wasi:io/streams@0.2.4",
            "wasi:io/streams@0.3.0",
            "wasi:cli/stdout@0.2.0",
            "my:lib/api",
        ]);
        assert_eq!(r.apply("wasi:io/streams@0.2.0"), "wasi:io/streams@0.2.4");
        assert_eq!(r.apply("wasi:io/streams@0.2.4"), "wasi:io/streams@0.2.4");
        assert_eq!(r.apply("wasi:io/streams@0.3.0"), "wasi:io/streams@0.3.0");
        assert_eq!(r.apply("wasi:cli/stdout@0.2.0"), "wasi:cli/stdout@0.2.0");
        assert_eq!(r.apply("my:lib/api"), "my:lib/api");
    }
}
