//! `--set NAME.KEY=VALUE`: a component's virtual values and slices given on
//! the command line (`--set 'telemetry.env-from-host=["LANG"]'`), in either
//! form of `airlock compose`. VALUE is TOML, as the same key would be written
//! in `[components.NAME]`; a bare word is taken as a string
//! (`--set app.stdout=discard`).
//!
//! Settings are manifest keys, so this module builds on [`crate::manifest`]
//! (and not the other way round): [`load_manifest`] applies them to a
//! manifest, [`component`] makes the plug form's component spec of them.

use crate::manifest::{ComponentSpec, Manifest, ManifestError};
use std::path::Path;
use toml::{Table, Value};

/// The keys `--set` may give: values and slices. Grants, wiring and denials
/// have flags of their own (`--grant`, `--deny`) or need a manifest.
pub const KEYS: [&str; 13] = [
    "env",
    "env-from-host",
    "args",
    "cwd",
    "clock",
    "random",
    "exit",
    "stdout",
    "stderr",
    "stdin",
    "http",
    "sockets",
    "files",
];

/// The keys whose value is a list of strings.
const LIST_KEYS: [&str; 3] = ["env-from-host", "args", "http"];

/// One `--set NAME.KEY=VALUE`.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// The component instance.
    pub instance: String,
    /// The manifest key, e.g. `env-from-host`.
    pub key: String,
    /// The value, as TOML.
    pub value: Value,
}

/// Parses `NAME.KEY=VALUE` (clap's value parser).
pub fn parse(text: &str) -> Result<Setting, String> {
    let (target, value) = text
        .split_once('=')
        .ok_or_else(|| format!("expected NAME.KEY=VALUE, got `{text}`"))?;
    let (instance, key) = target
        .rsplit_once('.')
        .filter(|(n, k)| !n.is_empty() && !k.is_empty())
        .ok_or_else(|| format!("expected NAME.KEY=VALUE, got `{text}`"))?;
    if !KEYS.contains(&key) {
        let hint = crate::typos::closest_word(key, KEYS.into_iter())
            .map(|k| format!("did you mean `{instance}.{k}`? "))
            .unwrap_or_default();
        return Err(format!(
            "`{key}` cannot be set from the command line; {hint}keys: {}",
            KEYS.join(", ")
        ));
    }
    let mut value = parse_value(value).map_err(|e| format!("in `--set {target}=...`: {e}"))?;
    // A list key given one bare item (`--set 'lib.http=GET example.com'`) is a list of one.
    if LIST_KEYS.contains(&key)
        && let Value::String(one) = value
    {
        value = Value::Array(vec![Value::String(one)]);
    }
    Ok(Setting {
        instance: instance.to_string(),
        key: key.to_string(),
        value,
    })
}

/// A TOML value, or a bare word taken as a string.
fn parse_value(text: &str) -> Result<Value, String> {
    let wrapped = format!("v = {text}");
    match toml::from_str::<Table>(&wrapped) {
        Ok(mut t) => Ok(t.remove("v").expect("the key is there")),
        Err(_) if !text.is_empty() && !text.contains(['[', '{', '"', '\'']) => {
            Ok(Value::String(text.to_string()))
        }
        Err(e) => Err(e.message().to_string()),
    }
}

/// Writes `settings` for `instance` into its manifest table.
pub fn apply(table: &mut Table, instance: &str, settings: &[Setting]) {
    for s in settings.iter().filter(|s| s.instance == instance) {
        table.insert(s.key.clone(), s.value.clone());
    }
}

/// Reads the manifest at `path` and applies `settings` to its components'
/// tables before parsing, so they are checked as if written there.
pub fn load_manifest(path: &Path, settings: &[Setting]) -> Result<Manifest, ManifestError> {
    if settings.is_empty() {
        return Manifest::load(path);
    }
    let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let parse_err = |message: String| ManifestError::Parse {
        path: path.to_path_buf(),
        message,
    };
    let mut table: Table =
        toml::from_str(&text).map_err(|e| parse_err(e.to_string().trim_end().to_string()))?;
    let components = table
        .get_mut("components")
        .and_then(Value::as_table_mut)
        .ok_or_else(|| parse_err("no `[components]` to apply `--set` to".into()))?;
    for s in settings {
        let known: Vec<String> = components.keys().map(|k| format!("`{k}`")).collect();
        let Some(component) = components
            .get_mut(&s.instance)
            .and_then(Value::as_table_mut)
        else {
            let names = components.keys().map(String::as_str);
            return Err(ManifestError::UnknownSetTarget {
                setting: format!("{}.{}", s.instance, s.key),
                available: known.join(", "),
                suggestion: crate::typos::closest_word(&s.instance, names)
                    .map(|n| format!("; did you mean `{n}.{}`?", s.key))
                    .unwrap_or_default(),
            });
        };
        component.insert(s.key.clone(), s.value.clone());
    }
    Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| parse_err(e.message().to_string()))
}

/// The component spec that `settings` alone describe for `instance` (the plug
/// form, which has no manifest table): path `path`, nothing else but them.
pub fn component(
    instance: &str,
    path: &Path,
    settings: &[Setting],
) -> Result<ComponentSpec, String> {
    let mut table = Table::new();
    table.insert(
        "path".into(),
        Value::String(path.to_string_lossy().into_owned()),
    );
    apply(&mut table, instance, settings);
    Value::Table(table)
        .try_into::<ComponentSpec>()
        .map_err(|e| format!("in `--set {instance}.*`: {}", e.message()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_toml_or_bare_words() {
        let s = parse(r#"telemetry.env-from-host=["LANG"]"#).unwrap();
        assert_eq!(s.instance, "telemetry");
        assert_eq!(s.value, Value::Array(vec![Value::String("LANG".into())]));
        assert_eq!(
            parse("app.stdout=discard").unwrap().value,
            Value::String("discard".into())
        );
        assert_eq!(
            parse("a.b.random={ seed = 7 }").unwrap().instance,
            "a.b",
            "the key is after the last dot"
        );
    }

    #[test]
    fn a_list_key_takes_one_bare_item() {
        assert_eq!(
            parse("lib.http=GET example.com").unwrap().value,
            Value::Array(vec![Value::String("GET example.com".into())])
        );
        assert!(
            parse("lib.clok=x")
                .unwrap_err()
                .contains("did you mean `lib.clock`?")
        );
    }

    #[test]
    fn bad_settings_are_refused_with_the_keys() {
        assert!(parse("app").unwrap_err().contains("NAME.KEY=VALUE"));
        assert!(parse("app.grant=[]").unwrap_err().contains("env-from-host"));
        assert!(
            parse("app.env={ A = }")
                .unwrap_err()
                .contains("--set app.env")
        );
    }

    #[test]
    fn the_plug_form_gets_a_component_spec() {
        let sets = [parse("lib.clock=offset:+60").unwrap()];
        let c = component("lib", "lib.wasm".as_ref(), &sets).unwrap();
        assert_eq!(c.clock.as_deref(), Some("offset:+60"));
        let sets = [parse("lib.exit=maybe").unwrap()];
        assert!(component("lib", "lib.wasm".as_ref(), &sets).is_err());
    }
}
