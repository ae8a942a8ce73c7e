//! Step 7: the audit, as a table for people, JSON for tools and DOT for a picture.

use crate::plan::{DenyReason, Fate, Plan};
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
    /// The audit of a verified output: the plan, with what each denied
    /// function does from the stubs that serve it (`functions`: instance ->
    /// import -> function -> behaviour).
    pub fn new(
        mut plan: Plan,
        functions: &BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>>,
        output_imports: VerifiedImports,
        output_exports: Vec<String>,
        output_bytes: usize,
    ) -> Self {
        for inst in &mut plan.instances {
            let Some(served) = functions.get(&inst.name) else {
                continue;
            };
            for import in &mut inst.imports {
                if let Fate::Denied { functions, .. } = &mut import.fate
                    && let Some(fates) = served.get(&import.name)
                {
                    functions.clone_from(fates);
                }
            }
        }
        Report {
            plan,
            output_imports,
            output_exports,
            output_bytes: Some(output_bytes),
        }
    }

    /// The audit table for people, at most 80 columns wide.
    pub fn to_text(&self) -> String {
        self.to_text_width(DEFAULT_WIDTH)
    }

    /// The header and one summary line per component: what `--quiet` prints.
    pub fn summary_text(&self, width: usize) -> String {
        let mut out = String::new();
        let exporters = if self.plan.exports.len() > 1 {
            let names: Vec<String> = self.plan.exports.iter().map(|n| format!("`{n}`")).collect();
            format!("exports of {}", names.join(", "))
        } else {
            format!("root `{}`", self.plan.root)
        };
        let header = format!(
            "airlock audit: {} component(s), {exporters}",
            self.plan.instances.len()
        );
        push_wrapped(&mut out, &header, width, "", "  ");
        for inst in &self.plan.instances {
            push_wrapped(&mut out, &summary(inst), width, "  ", "      ");
        }
        let imports = format!(
            "output imports: {}",
            match self.output_imports.0.len() {
                0 => "none".to_string(),
                n => n.to_string(),
            }
        );
        push_wrapped(&mut out, &imports, width, "", "  ");
        out
    }

    /// The audit table for people, wrapped to `width` columns (a word longer
    /// than the width, such as a long interface name, stands alone on its line).
    pub fn to_text_width(&self, width: usize) -> String {
        let width = width.max(40);
        let mut out = self.summary_text(width);
        for inst in &self.plan.instances {
            let _ = writeln!(out, "\ncomponent `{}`", inst.name);
            if inst.imports.is_empty() {
                let _ = writeln!(out, "  (no imports)");
            }
            let name_width = inst.imports.iter().map(|i| i.name.len()).max().unwrap_or(0);
            for import in &inst.imports {
                let row = format!(
                    "  {:name_width$}  {:11}  {}",
                    import.name,
                    import.family.label(),
                    describe(&import.name, &import.fate),
                );
                if row.len() <= width {
                    let _ = writeln!(out, "{row}");
                } else {
                    let _ = writeln!(out, "  {}  {}", import.name, import.family.label());
                    push_wrapped(
                        &mut out,
                        &describe(&import.name, &import.fate),
                        width,
                        "      ",
                        "        ",
                    );
                }
                if let Fate::Denied { functions, .. } = &import.fate {
                    for (behaviour, names) in group_by_behaviour(functions) {
                        let text = format!("{behaviour}: {}", names.join(", "));
                        push_wrapped(&mut out, &text, width, "      ", "        ");
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
                let line = format!("{}: {}", inst.name, inst.virtual_values);
                push_wrapped(&mut out, &line, width, "  ", "    ");
            }
        }
        let with_slices: Vec<_> = self
            .plan
            .instances
            .iter()
            .filter(|i| !i.slices.is_empty())
            .collect();
        if !with_slices.is_empty() {
            push_wrapped(
                &mut out,
                "\nslices (host capabilities passed through narrowed, enforced inside the output):",
                width,
                "",
                "  ",
            );
            for inst in with_slices {
                let lines: Vec<String> = inst.slices.iter().map(ToString::to_string).collect();
                let line = format!("{}: {}", inst.name, lines.join("; "));
                push_wrapped(&mut out, &line, width, "  ", "    ");
            }
        }
        if !self.plan.notes.is_empty() {
            let _ = writeln!(out, "\nnotes:");
            for note in &self.plan.notes {
                push_wrapped(&mut out, note, width, "  ", "    ");
            }
        }
        let _ = writeln!(out, "\noutput imports ({}):", self.output_imports.0.len());
        if self.output_imports.0.is_empty() {
            let _ = writeln!(out, "  (none: the output needs nothing from its host)");
        }
        let name_width = self
            .output_imports
            .0
            .keys()
            .map(String::len)
            .max()
            .unwrap_or(0);
        for (name, why) in &self.output_imports.0 {
            let row = format!("  {name:name_width$}  {why}");
            if row.len() <= width {
                let _ = writeln!(out, "{row}");
            } else {
                let _ = writeln!(out, "  {name}");
                push_wrapped(&mut out, why, width, "      ", "        ");
            }
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

    /// Denied standard streams that trap when asked for (their result is a
    /// host stream, which a denial cannot make, e.g. `get-stdin` while stdout
    /// is granted and so `wasi:io` comes from the host): one warning each,
    /// naming the function and what avoids the trap. Built-in interposers
    /// (`NAME.KIND`) deny by design and are left out.
    pub fn trap_warnings(&self) -> Vec<String> {
        let names: Vec<&str> = self
            .plan
            .instances
            .iter()
            .map(|i| i.name.as_str())
            .collect();
        let builtin = |name: &str| {
            name.rsplit_once('.')
                .is_some_and(|(owner, _)| names.contains(&owner))
        };
        let mut warnings = Vec::new();
        for inst in self.plan.instances.iter().filter(|i| !builtin(&i.name)) {
            for import in &inst.imports {
                let Fate::Denied { functions, .. } = &import.fate else {
                    continue;
                };
                let Some(name) = crate::names::InterfaceName::parse(&import.name) else {
                    continue;
                };
                let stream = match name.unversioned().as_str() {
                    "wasi:cli/stdin" => "stdin",
                    "wasi:cli/stdout" => "stdout",
                    "wasi:cli/stderr" => "stderr",
                    _ => continue,
                };
                let track = name
                    .version
                    .as_ref()
                    .map(|v| format!("@{}.{}", v.major, v.minor))
                    .unwrap_or_default();
                for (function, behaviour) in functions {
                    if !behaviour.starts_with("trap") {
                        continue;
                    }
                    warnings.push(format!(
                        "`{}` traps if it calls `{function}` of `{}` (denied, and a stream needs \
                         the host): grant it (`--allow {}{track}`), or give `{}` a closed stream \
                         (`{stream} = \"deny\"`, `--set {}.{stream}=deny`)",
                        inst.name,
                        import.name,
                        name.unversioned(),
                        inst.name,
                        inst.name
                    ));
                }
            }
        }
        warnings
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
            let label: String = std::iter::once(inst.name.clone())
                .chain(inst.slices.iter().map(ToString::to_string))
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
                    Fate::Denied {
                        reason: DenyReason::Virtual,
                        ..
                    } => {
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

fn describe(import: &str, fate: &Fate) -> String {
    match fate {
        Fate::Linked { provider, export } if export == import => {
            format!("linked to `{provider}`")
        }
        Fate::Linked { provider, export } => format!("linked to `{provider}` ({export})"),
        Fate::Granted { grant } => format!("granted (by `{grant}`)"),
        Fate::GrantedDependency { of } => format!("granted (types of `{of}`)"),
        Fate::Denied {
            reason: DenyReason::Explicit,
            ..
        } => "denied (explicitly)".into(),
        Fate::Denied {
            reason: DenyReason::TypesOnly,
            of: Some(of),
            ..
        } => format!("types only (for `{of}`)"),
        Fate::Denied {
            reason: DenyReason::Virtual,
            ..
        } => "virtual (values inside the output)".into(),
        Fate::Denied { .. } => "denied (by default)".into(),
    }
}

/// The audit's width when the output is not a terminal.
pub const DEFAULT_WIDTH: usize = 80;

/// Appends `text` (leading newlines kept) word-wrapped to `width`: the first
/// line after `first`, the others after `rest`. A word longer than a line
/// stands alone rather than being cut, so names can still be copied.
fn push_wrapped(out: &mut String, text: &str, width: usize, first: &str, rest: &str) {
    let body = text.trim_start_matches('\n');
    for _ in 0..text.len() - body.len() {
        out.push('\n');
    }
    let mut line = first.to_string();
    let mut empty = true;
    for word in body.split(' ').filter(|w| !w.is_empty()) {
        if !empty && line.len() + 1 + word.len() > width {
            out.push_str(&line);
            out.push('\n');
            line = rest.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(&line);
    out.push('\n');
}

/// One line per component: what becomes of its imports, by kind.
fn summary(inst: &crate::plan::InstancePlan) -> String {
    let (mut granted, mut linked, mut denied, mut virtuals, mut types_only) = (0, 0, 0, 0, 0);
    for import in &inst.imports {
        match &import.fate {
            Fate::Granted { .. } | Fate::GrantedDependency { .. } => granted += 1,
            Fate::Linked { .. } => linked += 1,
            Fate::Denied {
                reason: DenyReason::Virtual,
                ..
            } => virtuals += 1,
            Fate::Denied {
                reason: DenyReason::TypesOnly,
                ..
            } => types_only += 1,
            Fate::Denied { .. } => denied += 1,
        }
    }
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut parts = vec![format!("{granted} granted"), format!("{linked} linked")];
    parts.push(format!("{denied} denied"));
    if virtuals > 0 {
        parts.push(format!("{virtuals} virtual"));
    }
    if types_only > 0 {
        parts.push(format!("{types_only} types only"));
    }
    let mut line = format!(
        "{}: {}: {}",
        inst.name,
        plural(inst.imports.len(), "import", "imports"),
        parts.join(", ")
    );
    if !inst.slices.is_empty() {
        line.push_str(&format!(
            "; {}",
            plural(inst.slices.len(), "slice", "slices")
        ));
    }
    line
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
