//! `airlock inspect`: the capability surface of one component.

use crate::error::Error;
use airlock_core::inspect::{self, Family};
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
  airlock inspect lib.wasm --json | jq '.families.network'

For an Airlock output, the provenance it carries is checked against the
components nested inside: `verified` when each listed sha-256 matches,
`differs` naming what does not, and `claimed, not verified` when the file
does not contain what it lists (anyone can write the section).")]
pub struct InspectArgs {
    /// The component to inspect.
    pub component: PathBuf,
    /// How to print the surface: `text` or `json` (a graph, `dot`, is for
    /// compositions: `airlock compose --format dot`).
    #[arg(long, value_enum, default_value_t = crate::Format::Text)]
    pub format: crate::Format,
    /// Print JSON (same as `--format json`).
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
    pub provenance: Option<airlock_core::provenance::Provenance>,
    /// Whether `provenance` matches the components inside.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance_check: Option<airlock_core::provenance::Verification>,
    /// Why a provenance section was ignored (it is not valid).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance_warning: Option<String>,
}

/// Runs `airlock inspect`; returns the exit code.
pub fn run(args: InspectArgs, out: &mut dyn Write) -> Result<i32, Error> {
    let json = args.json || matches!(args.format, crate::Format::Json);
    if let Some(note) = airlock_core::preview1::note(&args.component).filter(|_| !json) {
        let _ = writeln!(out, "{note}");
    }
    let bytes = inspect::read(&args.component)?;
    let decoded = inspect::decode(&bytes, &args.component)?;
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
    // A section anyone could have written: checked against the bytes; one
    // that does not parse is reported and ignored, never fatal.
    let (provenance, provenance_warning) = match airlock_core::provenance::read(&bytes) {
        Ok(p) => (p, None),
        Err(e) => (None, Some(format!("{e}; ignored"))),
    };
    let provenance_check = provenance
        .as_ref()
        .map(|p| airlock_core::provenance::verify(&bytes, p));
    let surface = Surface {
        component: args.component.display().to_string(),
        families,
        exports: decoded.exports.iter().map(|e| e.name.clone()).collect(),
        provenance,
        provenance_check,
        provenance_warning,
    };
    if matches!(args.format, crate::Format::Dot) {
        return Err(Error::Usage(
            "`inspect` prints a component's surface as `text` or `json`; `--format dot` draws \
             a composition: `airlock compose ... --format dot`"
                .into(),
        ));
    }
    if args.json || matches!(args.format, crate::Format::Json) {
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
    if let (Some(p), Some(check)) = (&surface.provenance, &surface.provenance_check) {
        print_provenance(out, p, check);
    }
    if let Some(warning) = &surface.provenance_warning {
        let _ = writeln!(out, "warning: {warning}");
    }
    Ok(0)
}

/// The `airlock-provenance` section and what checking it found, for people.
fn print_provenance(
    out: &mut dyn Write,
    p: &airlock_core::provenance::Provenance,
    check: &airlock_core::provenance::Verification,
) {
    use airlock_core::provenance::Verification;
    let _ = writeln!(out, "provenance ({}): {}", p.tool, check.label());
    match check {
        Verification::Verified => {
            let _ = writeln!(
                out,
                "  each component's sha-256 matches the component nested in this file"
            );
        }
        Verification::Claimed => {
            let _ = writeln!(
                out,
                "  this file does not contain the components listed: what follows is a claim"
            );
        }
        Verification::Differs { differences } => {
            for d in differences {
                let _ = writeln!(out, "  {d}");
            }
        }
    }
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
