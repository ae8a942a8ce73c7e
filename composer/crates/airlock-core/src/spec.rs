//! The resolved input of a composition, whichever way it was given: from a
//! manifest (`airlock.toml`) or from command-line flags (wac-plug style).

use crate::attenuate::{self, Slices};
use crate::manifest::{Manifest, RegistrySection};
use crate::policy::{Pattern, PatternError, PatternSet};
use crate::virtualize::{Virtuals, parse_clock};
use std::path::{Path, PathBuf};

/// Everything the pipeline needs to know about what to compose and what is allowed.
#[derive(Debug, Clone)]
pub struct CompositionSpec {
    /// Name of the instance whose exports become the output's exports (the
    /// first of `exports`).
    pub root: String,
    /// Every instance whose exports the output re-exports, the root first.
    pub exports: Vec<String>,
    /// The output's package name (`ns:name@version`), if given.
    pub output_package: Option<String>,
    /// What the output may import.
    pub allow: PatternSet,
    /// Component instances, in a stable order (by name).
    pub instances: Vec<InstanceSpec>,
    /// Policy the composer added on its own, for the audit (e.g. the plug
    /// form's root keeping `wasi:cli/exit`).
    pub notes: Vec<Note>,
    /// The manifest's `[registry]`: where `package = ...` components come from.
    pub registry: Option<RegistrySection>,
}

/// A policy line the composer added on its own, shown in the audit when the
/// instance imports the interface it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The instance.
    pub instance: String,
    /// The interface, unversioned (`wasi:cli/exit`).
    pub interface: String,
    /// The line for the audit.
    pub text: String,
}

/// One component instance in the composition.
#[derive(Debug, Clone)]
pub struct InstanceSpec {
    /// The instance's name (manifest key or file stem).
    pub name: String,
    /// Where its component file is (for a registry component, its cached copy
    /// once resolved: see `registry::resolve`; for a built-in interposer, a
    /// label such as `<built-in env interposer>`).
    pub path: PathBuf,
    /// The registry package: the requirement as written until resolved, then
    /// the exact `ns:name@1.2.3`. `None` for files.
    pub package: Option<String>,
    /// The component's bytes when it is built into airlock (an interposer).
    pub builtin: Option<&'static [u8]>,
    /// A registry component's bytes, verified against its digest when it was
    /// resolved: used instead of reading `path` again (the cache may change).
    pub verified: Option<std::sync::Arc<[u8]>>,
    /// What of the allow-list it may reach.
    pub grant: PatternSet,
    /// Explicit wiring: imports matching the pattern come from the named instance.
    pub wire: Vec<(Pattern, String)>,
    /// Non-WASI imports the user explicitly virtualizes as denied.
    pub deny: PatternSet,
    /// Virtual values served inside the output instead of denials (`env`,
    /// `args`, `cwd`, `clock`, `random`).
    pub virtuals: Virtuals,
    /// The audit's lines for the instance's attenuated capabilities (e.g.
    /// `env LANG (host)`, `http GET *.example.com`); for an interposer, the
    /// one line of the slice it serves.
    pub slices: Vec<crate::attenuate::Slice>,
}

impl InstanceSpec {
    /// The bytes to use instead of reading `path`: built into airlock, or a
    /// registry component's verified bytes.
    pub fn bytes(&self) -> Option<&[u8]> {
        self.builtin.or(self.verified.as_deref())
    }
}

/// A spec that does not hold together.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// A pattern is malformed.
    #[error("in `{context}`: {source}")]
    Pattern {
        /// Where the pattern was written (e.g. `components.app.grant`).
        context: String,
        /// What is wrong with it.
        source: PatternError,
    },
    /// `[output] root` names no component.
    #[error("the root `{root}` is not a component of the composition; available: {available}")]
    UnknownRoot {
        /// The root as written.
        root: String,
        /// The known component names.
        available: String,
    },
    /// `[output]` names no component to export.
    #[error(
        "the manifest names no component to export: add `[output]` with `root = \"NAME\"` \
         (the component whose exports the output re-exports); components: {available}"
    )]
    NoExports {
        /// The known component names.
        available: String,
    },
    /// `[output] export` (`--export`) names no component, or names one twice.
    #[error("cannot re-export the exports of `{name}`: {problem}; available: {available}")]
    BadExport {
        /// The name as written.
        name: String,
        /// What is wrong: not a component, or named twice.
        problem: &'static str,
        /// The known component names.
        available: String,
    },
    /// A wire names no component.
    #[error(
        "`components.{instance}.wire` sends `{pattern}` to `{target}`, which is not a component; available: {available}"
    )]
    UnknownWireTarget {
        /// The instance whose wiring is wrong.
        instance: String,
        /// The import pattern.
        pattern: String,
        /// The unknown target.
        target: String,
        /// The known component names.
        available: String,
    },
    /// `--grant NAME=...` names no component.
    #[error("`--grant {name}=...` names no component; available: {available}")]
    UnknownGrantTarget {
        /// The name as written.
        name: String,
        /// The component names (file stems).
        available: String,
    },
    /// `--set NAME.KEY=...` names no component.
    #[error("`--set {name}=...` names no component; available: {available}")]
    UnknownSetTarget {
        /// `NAME.KEY` as written.
        name: String,
        /// The component names.
        available: String,
    },
    /// Two components share a name (e.g. two plugs with the same file stem).
    #[error("two components are named `{name}`; rename one of the files")]
    DuplicateName {
        /// The shared name.
        name: String,
    },
    /// A virtual value that cannot be read (e.g. a malformed clock).
    #[error("in `components.{instance}.{key}`: {message}")]
    BadVirtual {
        /// The instance.
        instance: String,
        /// The manifest key.
        key: &'static str,
        /// What is wrong.
        message: String,
    },
    /// `[components.NAME]` needs exactly one of `path` and `package`.
    #[error("`components.{instance}` needs exactly one of `path` and `package`; it has {has}")]
    Source {
        /// The instance.
        instance: String,
        /// `both` or `neither`.
        has: &'static str,
    },
    /// A component file name that gives no usable instance name.
    #[error("cannot name a component after `{path}`: use a file name like `lib.wasm`")]
    Unnamed {
        /// The path.
        path: PathBuf,
    },
}

impl CompositionSpec {
    /// Resolves a parsed manifest; component paths are relative to the manifest's folder.
    pub fn from_manifest(manifest: &Manifest, manifest_path: &Path) -> Result<Self, SpecError> {
        let base = manifest_path.parent().unwrap_or(Path::new(""));
        let allow = patterns(&manifest.allow.interfaces, "allow.interfaces")?;
        let mut instances = Vec::new();
        for (name, c) in &manifest.components {
            let wire = c
                .wire
                .iter()
                .map(|(pattern, target)| {
                    let p = pattern.parse().map_err(|source| SpecError::Pattern {
                        context: format!("components.{name}.wire"),
                        source,
                    })?;
                    Ok((p, target.clone()))
                })
                .collect::<Result<_, SpecError>>()?;
            let (path, package) = match (&c.path, &c.package) {
                (Some(p), None) => (base.join(p), None),
                (None, Some(p)) => (PathBuf::new(), Some(p.clone())),
                (p, _) => {
                    return Err(SpecError::Source {
                        instance: name.clone(),
                        has: if p.is_some() { "both" } else { "neither" },
                    });
                }
            };
            let slices = attenuate::slices(c, base).map_err(|e| SpecError::BadVirtual {
                instance: name.clone(),
                key: e.key,
                message: e.message,
            })?;
            let mut inst = InstanceSpec {
                name: name.clone(),
                path,
                package,
                builtin: None,
                verified: None,
                grant: patterns(&c.grant, &format!("components.{name}.grant"))?,
                wire,
                deny: patterns(&c.deny, &format!("components.{name}.deny"))?,
                virtuals: virtuals(name, c)?,
                slices: Vec::new(),
            };
            instances.extend(add_slices(&mut inst, slices)?);
            instances.push(inst);
        }
        let exports: Vec<String> = manifest
            .output
            .root
            .iter()
            .chain(&manifest.output.export)
            .cloned()
            .collect();
        let spec = Self {
            root: exports
                .first()
                .cloned()
                .ok_or_else(|| SpecError::NoExports {
                    available: names_of(&instances),
                })?,
            exports,
            output_package: manifest.output.package.clone(),
            allow,
            instances,
            notes: Vec::new(),
            registry: manifest.registry.clone(),
        };
        spec.check().map_err(|e| match e {
            // Without `root`, the first of `export` stands in for it.
            SpecError::UnknownRoot { root, available } if manifest.output.root.is_none() => {
                SpecError::BadExport {
                    name: root,
                    problem: "it is not a component",
                    available,
                }
            }
            e => e,
        })?;
        Ok(spec)
    }

    /// The plug form: the root is granted the whole allow-list, each plug nothing
    /// unless a `NAME=PATTERN` grant says otherwise (the app is trusted, its libraries are not).
    /// The output exports the root's exports ([`Self::export_also`] adds more).
    pub fn from_plugs(
        root: &Path,
        plugs: &[PathBuf],
        allow: &[String],
        grants: &[(String, String)],
        deny: &[String],
    ) -> Result<Self, SpecError> {
        let allow_set = patterns(allow, "--allow")?;
        let deny_set = patterns(deny, "--deny")?;
        let mut instances = Vec::new();
        for (i, path) in std::iter::once(root)
            .chain(plugs.iter().map(PathBuf::as_path))
            .enumerate()
        {
            let name = stem(path)?;
            let explicit: Vec<&String> = grants
                .iter()
                .filter(|(n, _)| *n == name)
                .map(|(_, p)| p)
                .collect();
            let grant = if explicit.is_empty() && i == 0 {
                allow_set.clone()
            } else {
                patterns(&explicit, &format!("--grant {name}="))?
            };
            instances.push(InstanceSpec {
                name,
                path: path.to_path_buf(),
                package: None,
                grant,
                wire: Vec::new(),
                deny: deny_set.clone(),
                virtuals: Virtuals::default(),
                builtin: None,
                verified: None,
                slices: Vec::new(),
            });
        }
        // A grant for a name that is no component is a typo, not a no-op.
        if let Some((name, _)) = grants
            .iter()
            .find(|(n, _)| !instances.iter().any(|i| &i.name == n))
        {
            return Err(SpecError::UnknownGrantTarget {
                name: name.clone(),
                available: instances
                    .iter()
                    .map(|i| format!("`{}`", i.name))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let root = instances[0].name.clone();
        let mut allow_set = allow_set;
        let mut notes = Vec::new();
        // Exiting is no authority over anything outside: a program composed
        // deny-all should still exit as it would have, not trap.
        let exit = crate::names::InterfaceName {
            namespace: "wasi".into(),
            package: "cli".into(),
            interface: "exit".into(),
            version: Some(crate::wasi_deps::version().clone()),
        };
        if !allow_set.matches(&exit) && !deny_set.matches(&exit) {
            let pattern: Pattern = "wasi:cli/exit".parse().expect("a valid pattern");
            allow_set.0.push(pattern.clone());
            instances[0].grant.0.push(pattern);
            notes.push(Note {
                instance: root.clone(),
                interface: exit.unversioned(),
                text: format!(
                    "`{root}` keeps `wasi:cli/exit` (the plug form: a program's exit reaches \
                     nothing outside; `--deny wasi:cli/exit` denies it, and a denied exit traps)"
                ),
            });
        }
        let spec = Self {
            exports: vec![root.clone()],
            root,
            output_package: None,
            allow: allow_set,
            instances,
            notes,
            registry: None,
        };
        spec.check()?;
        Ok(spec)
    }

    /// Applies command-line settings (`--set NAME.KEY=VALUE`) to the plug
    /// form's instances: their virtual values and slices. `base` resolves
    /// relative paths in them (embedded files).
    pub fn with_settings(
        mut self,
        settings: &[crate::settings::Setting],
        base: &Path,
    ) -> Result<Self, SpecError> {
        if let Some(s) = settings
            .iter()
            .find(|s| self.instance(&s.instance).is_none())
        {
            return Err(SpecError::UnknownSetTarget {
                name: format!("{}.{}", s.instance, s.key),
                available: self.available(),
            });
        }
        let mut added = Vec::new();
        for inst in &mut self.instances {
            if !settings.iter().any(|s| s.instance == inst.name) {
                continue;
            }
            let mut c = crate::settings::component(&inst.name, &inst.path, settings).map_err(
                |message| SpecError::BadVirtual {
                    instance: inst.name.clone(),
                    key: "--set",
                    message,
                },
            )?;
            // Slices see the instance's grants (the root's: the allow-list),
            // as they see `grant` in a manifest.
            c.grant = inst.grant.0.iter().map(ToString::to_string).collect();
            inst.virtuals = virtuals(&inst.name, &c)?;
            let slices = attenuate::slices(&c, base).map_err(|e| SpecError::BadVirtual {
                instance: inst.name.clone(),
                key: e.key,
                message: e.message,
            })?;
            added.extend(add_slices(inst, slices)?);
        }
        self.instances.extend(added);
        self.check()?;
        Ok(self)
    }

    /// Makes the output re-export the exports of these instances too (after
    /// those already exported), e.g. to bundle several libraries in one output.
    pub fn export_also(mut self, names: &[String]) -> Result<Self, SpecError> {
        self.exports.extend(names.iter().cloned());
        self.check()?;
        Ok(self)
    }

    /// The instance with this name.
    pub fn instance(&self, name: &str) -> Option<&InstanceSpec> {
        self.instances.iter().find(|i| i.name == name)
    }

    fn available(&self) -> String {
        let names: Vec<String> = self
            .instances
            .iter()
            .map(|i| format!("`{}`", i.name))
            .collect();
        if names.is_empty() {
            "none".into()
        } else {
            names.join(", ")
        }
    }

    fn check(&self) -> Result<(), SpecError> {
        let mut seen = std::collections::BTreeSet::new();
        for i in &self.instances {
            if !seen.insert(&i.name) {
                return Err(SpecError::DuplicateName {
                    name: i.name.clone(),
                });
            }
        }
        if self.instance(&self.root).is_none() {
            return Err(SpecError::UnknownRoot {
                root: self.root.clone(),
                available: self.available(),
            });
        }
        let mut exporters = std::collections::BTreeSet::new();
        for name in &self.exports {
            let problem = if self.instance(name).is_none() {
                "it is not a component"
            } else if !exporters.insert(name) {
                "it is named twice"
            } else {
                continue;
            };
            return Err(SpecError::BadExport {
                name: name.clone(),
                problem,
                available: self.available(),
            });
        }
        for i in &self.instances {
            for (pattern, target) in &i.wire {
                if self.instance(target).is_none() {
                    return Err(SpecError::UnknownWireTarget {
                        instance: i.name.clone(),
                        pattern: pattern.to_string(),
                        target: target.clone(),
                        available: self.available(),
                    });
                }
            }
        }
        Ok(())
    }
}

/// The virtual values of `[components.NAME]`.
fn virtuals(name: &str, c: &crate::manifest::ComponentSpec) -> Result<Virtuals, SpecError> {
    // An offset clock is a slice (an interposer over the host's clock), not a value.
    let clock = c
        .clock
        .as_deref()
        .filter(|c| !c.starts_with("offset:"))
        .map(parse_clock)
        .transpose()
        .map_err(|message| SpecError::BadVirtual {
            instance: name.to_string(),
            key: "clock",
            message,
        })?;
    // With `env-from-host`, the environment filter serves the fixed values too.
    let fixed_env = c.env_from_host.is_none();
    Ok(Virtuals {
        env: c
            .env
            .as_ref()
            .filter(|_| fixed_env)
            .map(|e| e.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        args: c.args.clone().filter(|_| fixed_env),
        cwd: c.cwd.clone().filter(|_| fixed_env),
        clock,
        random_seed: c.random.as_ref().map(|r| r.seed),
        config: None,
    })
}

/// Adds `slices` to the library instance `inst` (wires, grants, audit lines)
/// and returns the interposer instances that serve them.
fn add_slices(inst: &mut InstanceSpec, slices: Slices) -> Result<Vec<InstanceSpec>, SpecError> {
    let name = inst.name.clone();
    let pattern = |text: &str, key: &str| -> Result<Pattern, SpecError> {
        text.parse().map_err(|source| SpecError::Pattern {
            context: format!("components.{name}.{key}"),
            source,
        })
    };
    let mut interposers = Vec::new();
    for (interface, key) in &slices.grants {
        inst.grant.0.push(pattern(interface, key)?);
    }
    for (interface, key) in &slices.denies {
        inst.deny.0.push(pattern(interface, key)?);
    }
    for i in slices.interposers {
        let interposer = format!("{name}.{}", i.kind);
        for wire in &i.wires {
            inst.wire.push((pattern(wire, i.kind)?, interposer.clone()));
        }
        for grant in &i.library_grants {
            inst.grant.0.push(pattern(grant, i.kind)?);
        }
        // One audit line per slice, however many interposers serve it (one
        // per WASI version).
        if !inst.slices.contains(&i.summary) {
            inst.slices.push(i.summary.clone());
        }
        interposers.push(InstanceSpec {
            name: interposer.clone(),
            path: PathBuf::from(format!("<built-in {} interposer>", i.kind)),
            package: None,
            builtin: Some(i.wasm),
            verified: None,
            grant: patterns(&i.grants, &format!("components.{name}.{}", i.kind))?,
            wire: Vec::new(),
            deny: patterns(&[attenuate::CONFIG_INTERFACE], "the interposer's settings")?,
            virtuals: Virtuals {
                config: Some(i.config),
                ..Virtuals::default()
            },
            // The slice it serves, as the library's audit line says it.
            slices: vec![i.summary.clone()],
        });
    }
    for summary in slices.summary {
        if !inst.slices.contains(&summary) {
            inst.slices.push(summary);
        }
    }
    Ok(interposers)
}

fn patterns<S: AsRef<str>>(items: &[S], context: &str) -> Result<PatternSet, SpecError> {
    PatternSet::parse(items).map_err(|source| SpecError::Pattern {
        context: context.to_string(),
        source,
    })
}

/// An instance name from a file name: `target/lib-stats.wasm` -> `lib-stats`.
fn stem(path: &Path) -> Result<String, SpecError> {
    path.file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| SpecError::Unnamed {
            path: path.to_path_buf(),
        })
}

/// `a`, `b`: the instance names, for messages.
fn names_of(instances: &[InstanceSpec]) -> String {
    let names: Vec<String> = instances.iter().map(|i| format!("`{}`", i.name)).collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}
