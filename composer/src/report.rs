//! Step 7: the audit, as a table for people, JSON for tools and DOT for a picture.

use crate::plan::{Fate, Plan};
use crate::verify::VerifiedImports;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Everything the audit shows.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The plan: every import of every instance and its fate.
    pub plan: Plan,
    /// The output's imports, each with the reason it is permitted.
    pub output_imports: VerifiedImports,
    /// The output's exports.
    pub output_exports: Vec<String>,
    /// Size of the output in bytes (absent for `check`, which writes nothing).
    pub output_bytes: Option<usize>,
}

impl Report {
    /// The audit table for people.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let exporters = if self.plan.exports.len() > 1 {
            let names: Vec<String> = self.plan.exports.iter().map(|n| format!("`{n}`")).collect();
            format!("exports of {}", names.join(", "))
        } else {
            format!("root `{}`", self.plan.root)
        };
        let _ = writeln!(
            out,
            "airlock audit: {} component(s), {exporters}",
            self.plan.instances.len(),
        );
        for inst in &self.plan.instances {
            let _ = writeln!(out, "\ncomponent `{}`", inst.name);
            if inst.imports.is_empty() {
                let _ = writeln!(out, "  (no imports)");
            }
            let width = inst.imports.iter().map(|i| i.name.len()).max().unwrap_or(0);
            for import in &inst.imports {
                let _ = writeln!(
                    out,
                    "  {:width$}  {:11}  {}",
                    import.name,
                    import.family.label(),
                    describe(&import.fate),
                );
                if let Fate::Denied { functions, .. } = &import.fate {
                    let indent = " ".repeat(width + 6);
                    for (behaviour, names) in group_by_behaviour(functions) {
                        let text = format!("{behaviour}: {}", names.join(", "));
                        for line in wrap(&text, 100usize.saturating_sub(indent.len()).max(40)) {
                            let _ = writeln!(out, "{indent}{line}");
                        }
                    }
                }
            }
        }
        let with_values: Vec<_> = self
            .plan
            .instances
            .iter()
            .filter(|i| !i.virtual_values.is_empty())
            .collect();
        if !with_values.is_empty() {
            let _ = writeln!(out, "\nvirtual values (served inside the output, no host):");
            for inst in with_values {
                let _ = writeln!(out, "  {}: {}", inst.name, inst.virtual_values);
            }
        }
        let with_slices: Vec<_> = self
            .plan
            .instances
            .iter()
            .filter(|i| !i.slices.is_empty())
            .collect();
        if !with_slices.is_empty() {
            let _ = writeln!(
                out,
                "\nslices (host capabilities passed through narrowed, enforced inside the output):"
            );
            for inst in with_slices {
                let _ = writeln!(out, "  {}: {}", inst.name, inst.slices.join("; "));
            }
        }
        let _ = writeln!(out, "\noutput imports ({}):", self.output_imports.0.len());
        if self.output_imports.0.is_empty() {
            let _ = writeln!(out, "  (none: the output needs nothing from its host)");
        }
        let width = self
            .output_imports
            .0
            .keys()
            .map(String::len)
            .max()
            .unwrap_or(0);
        for (name, why) in &self.output_imports.0 {
            let _ = writeln!(out, "  {name:width$}  {why}");
        }
        let _ = writeln!(out, "output exports ({}):", self.output_exports.len());
        for name in &self.output_exports {
            let _ = writeln!(out, "  {name}");
        }
        if let Some(bytes) = self.output_bytes {
            let _ = writeln!(out, "output size: {bytes} bytes");
        }
        out
    }

    /// The audit as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the report serializes")
    }

    /// The composition as a Graphviz graph: components, links and capability edges.
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph airlock {\n  rankdir=LR;\n  node [shape=box];\n");
        let _ = writeln!(out, "  \"host\" [shape=doubleoctagon, label=\"host\"];");
        for inst in &self.plan.instances {
            let style = if self.plan.exports.contains(&inst.name) {
                ", style=bold"
            } else {
                ""
            };
            // An interposer (it takes settings) is drawn rounded; a library
            // with slices lists them under its name.
            let interposer = inst
                .imports
                .iter()
                .any(|i| i.name.starts_with(crate::attenuate::CONFIG_INTERFACE));
            let style = if interposer {
                format!("{style}, style=rounded, color=blue")
            } else {
                style.to_string()
            };
            let label: String = std::iter::once(inst.name.as_str())
                .chain(inst.slices.iter().map(String::as_str))
                .map(|l| l.replace('"', "\\\""))
                .collect::<Vec<_>>()
                .join("\\n");
            let _ = writeln!(out, "  \"{}\" [label=\"{label}\"{style}];", inst.name);
            let mut denied = Vec::new();
            let mut virtuals = Vec::new();
            for import in &inst.imports {
                match &import.fate {
                    Fate::Linked { provider, .. } => {
                        let _ = writeln!(
                            out,
                            "  \"{provider}\" -> \"{}\" [label=\"{}\"];",
                            inst.name, import.name
                        );
                    }
                    Fate::Granted { .. } | Fate::GrantedDependency { .. } => {
                        let _ = writeln!(
                            out,
                            "  \"host\" -> \"{}\" [label=\"{}\", color=darkgreen];",
                            inst.name, import.name
                        );
                    }
                    Fate::Denied { reason, .. } if reason == "virtual" => {
                        virtuals.push(import.name.as_str());
                    }
                    Fate::Denied { .. } => denied.push(import.name.as_str()),
                }
            }
            if !denied.is_empty() {
                let _ = writeln!(
                    out,
                    "  \"{0} denials\" [shape=octagon, color=red, label=\"denied:\\n{1}\"];\n  \"{0} denials\" -> \"{0}\" [style=dashed, color=red];",
                    inst.name,
                    denied.join("\\n")
                );
            }
            if !virtuals.is_empty() {
                let _ = writeln!(
                    out,
                    "  \"{0} values\" [shape=note, color=blue, label=\"virtual values:\\n{1}\"];\n  \"{0} values\" -> \"{0}\" [style=dashed, color=blue];",
                    inst.name,
                    virtuals.join("\\n")
                );
            }
        }
        out.push_str("}\n");
        out
    }
}

fn describe(fate: &Fate) -> String {
    match fate {
        Fate::Linked { provider, export } => format!("linked to `{provider}` ({export})"),
        Fate::Granted { grant } => format!("granted (by `{grant}`)"),
        Fate::GrantedDependency { of } => format!("granted (type dependency of `{of}`)"),
        Fate::Denied { reason, .. } if reason == "explicit" => "denied (explicitly)".into(),
        Fate::Denied {
            reason,
            of: Some(of),
            ..
        } if reason == "types-only" => format!("types only (for `{of}`; functions denied)"),
        Fate::Denied { reason, .. } if reason == "virtual" => {
            "virtual (values inside the output)".into()
        }
        Fate::Denied { .. } => "denied (by default)".into(),
    }
}

/// Splits `text` at `, ` so that lines stay within `width` where possible;
/// continuation lines are indented by two spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for (i, part) in text.split(", ").enumerate() {
        let line = lines.last_mut().expect("never empty");
        if i > 0 && line.len() + part.len() + 2 > width {
            line.push(',');
            lines.push(format!("  {part}"));
        } else {
            if i > 0 {
                line.push_str(", ");
            }
            line.push_str(part);
        }
    }
    lines
}

fn group_by_behaviour(functions: &BTreeMap<String, String>) -> BTreeMap<&str, Vec<&str>> {
    let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (function, behaviour) in functions {
        groups
            .entry(behaviour.as_str())
            .or_default()
            .push(function.as_str());
    }
    groups
}
