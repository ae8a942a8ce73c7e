//! `airlock inspect`: the capability surface of one component.

use crate::error::Error;
use crate::inspect::{self, Family};
use clap::Args;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use wit_parser::WorldItem;

/// Arguments of `airlock inspect`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  airlock inspect target/wasm32-wasip2/component/telemetry.wasm
  airlock inspect lib.wasm --json | jq '.families.network'")]
pub struct InspectArgs {
    /// The component to inspect.
    pub component: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// What a component could do, grouped by family.
#[derive(Debug, Serialize)]
pub struct Surface {
    /// The file.
    pub component: String,
    /// Family -> import name -> its functions.
    pub families: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    /// What it exports.
    pub exports: Vec<String>,
    /// What it was composed from, for an Airlock output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<crate::provenance::Provenance>,
}

/// Runs `airlock inspect`; returns the exit code.
pub fn run(args: InspectArgs, out: &mut dyn Write) -> Result<i32, Error> {
    let bytes = inspect::read(&args.component).map_err(|e| Error::Inspect(vec![e]))?;
    let decoded = inspect::decode(&bytes, &args.component).map_err(|e| Error::Inspect(vec![e]))?;
    let world = &decoded.resolve.worlds[decoded.world];
    let mut families: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for (key, item) in &world.imports {
        let name = decoded.resolve.name_world_key(key);
        let functions = match item {
            WorldItem::Interface { id, .. } => decoded.resolve.interfaces[*id]
                .functions
                .keys()
                .cloned()
                .collect(),
            WorldItem::Function(f) => vec![f.name.clone()],
            WorldItem::Type { .. } => Vec::new(),
        };
        families
            .entry(Family::of(&name).label().to_string())
            .or_default()
            .insert(name, functions);
    }
    let surface = Surface {
        component: args.component.display().to_string(),
        families,
        exports: decoded.exports.iter().map(|e| e.name.clone()).collect(),
        provenance: crate::provenance::read(&bytes).map_err(|e| {
            Error::Inspect(vec![inspect::InspectError::Decode {
                path: args.component.clone(),
                message: e.to_string(),
            }])
        })?,
    };
    if args.json {
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&surface).expect("serializes")
        );
        return Ok(0);
    }
    let _ = writeln!(out, "capability surface of `{}`", surface.component);
    if surface.families.is_empty() {
        let _ = writeln!(out, "  (no imports: it can reach nothing outside itself)");
    }
    for (family, imports) in &surface.families {
        let _ = writeln!(out, "  {family}:");
        for (name, functions) in imports {
            let _ = writeln!(out, "    {name}");
            if !functions.is_empty() {
                let _ = writeln!(out, "      {}", functions.join(", "));
            }
        }
    }
    let _ = writeln!(out, "exports:");
    for e in &surface.exports {
        let _ = writeln!(out, "  {e}");
    }
    if let Some(p) = &surface.provenance {
        print_provenance(out, p);
    }
    Ok(0)
}

/// The `airlock-provenance` section, for people.
fn print_provenance(out: &mut dyn Write, p: &crate::provenance::Provenance) {
    let _ = writeln!(out, "provenance ({}):", p.tool);
    let _ = writeln!(out, "  components:");
    for c in &p.components {
        let source = match (&c.package, &c.file) {
            (Some(pkg), _) => format!("package {pkg}"),
            (None, Some(f)) => format!("file {f}"),
            (None, None) => "unknown".into(),
        };
        let _ = writeln!(out, "    {}  {source}  {}", c.name, c.digest);
    }
    let _ = writeln!(out, "  allow: {}", p.policy.allow.join(", "));
    for (name, i) in &p.policy.instances {
        let mut parts = Vec::new();
        if !i.grant.is_empty() {
            parts.push(format!("grant {}", i.grant.join(", ")));
        }
        if !i.deny.is_empty() {
            parts.push(format!("deny {}", i.deny.join(", ")));
        }
        for (pattern, target) in &i.wire {
            parts.push(format!("wire {pattern} -> {target}"));
        }
        if !i.virtual_values.is_empty() {
            parts.push(format!("virtual {}", i.virtual_values.join(", ")));
        }
        if parts.is_empty() {
            parts.push("nothing granted".into());
        }
        let _ = writeln!(out, "  {name}: {}", parts.join("; "));
    }
}
