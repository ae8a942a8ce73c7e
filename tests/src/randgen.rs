//! A generator of random compositions, for invariant testing and fuzzing.
//!
//! One [`Case`] is a pool of random WIT interfaces (package `gen:lib@0.1.0`) over
//! every WIT type (records, variants, enums, flags, lists, options, results,
//! tuples, strings, resources with constructors, methods and static functions,
//! `own`/`borrow` handles), some `use`-ing types of earlier ones or of WASI;
//! components whose worlds import and export subsets of the pool and import
//! WASI interfaces; and a random policy (allow-list, grants, explicit denials).
//! Everything comes from a seeded xorshift generator, so a seed reproduces a case.
//!
//! [`check_case`] builds the components (wit-component's dummy module), composes,
//! and checks the invariant: `pipeline::compose` returns an error (never panics),
//! or bytes that validate and whose imports, read from the bytes with wasmparser
//! alone, match the allow-list or are `use` dependencies of matched ones.

use airlock::names::InterfaceName;
use airlock::policy::{Pattern, PatternSet};
use airlock::spec::CompositionSpec;
use anyhow::{Context, Result, anyhow, bail};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// xorshift64*: small, deterministic, good enough for test generation.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed` (any value, zero included).
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// A random element.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// WASI interfaces a generated world may import (all in `wit/deps`, 0.2.12).
pub const WASI_IMPORTS: &[&str] = &[
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-stdout",
    "wasi:clocks/wall-clock",
    "wasi:clocks/monotonic-clock",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
    "wasi:filesystem/types",
    "wasi:filesystem/preopens",
    "wasi:sockets/network",
    "wasi:sockets/instance-network",
    "wasi:sockets/tcp",
    "wasi:sockets/tcp-create-socket",
    "wasi:sockets/udp-create-socket",
    "wasi:sockets/ip-name-lookup",
    "wasi:io/streams",
    "wasi:io/poll",
    "wasi:http/types",
    "wasi:http/outgoing-handler",
];

/// WASI types a generated interface may `use` (interface, type, is a resource).
const WASI_TYPES: &[(&str, &str, bool)] = &[
    ("wasi:io/streams", "input-stream", true),
    ("wasi:io/streams", "output-stream", true),
    ("wasi:io/poll", "pollable", true),
    ("wasi:clocks/wall-clock", "datetime", false),
    ("wasi:filesystem/types", "descriptor", true),
    ("wasi:filesystem/types", "error-code", false),
    ("wasi:sockets/network", "ip-address", false),
    ("wasi:http/types", "fields", true),
];

/// Patterns a policy is drawn from (allow-lists, grants, denials).
const PATTERNS: &[&str] = &[
    "wasi:*",
    "wasi:cli/*",
    "wasi:cli/*@0.2",
    "wasi:cli/stdout@0.2",
    "wasi:cli/std*",
    "wasi:cli/environment",
    "wasi:io/*",
    "wasi:io/streams@0.2",
    "wasi:clocks/*",
    "wasi:clocks/wall-clock@0.2.12",
    "wasi:random/*",
    "wasi:filesystem/*",
    "wasi:filesystem/preopens@0.2",
    "wasi:sockets/*",
    "wasi:sockets/tcp*",
    "wasi:http/*",
    "wasi:http/outgoing-handler@0.2.*",
    "wasi:*@0.3",
    "gen:*",
    "gen:lib/*",
    "gen:lib/*@0.1",
    "gen:lib/i0",
    "gen:lib/i1@0.1.0",
    "gen:lib/i2",
    "*",
];

const PRIMITIVES: &[&str] = &[
    "bool", "s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64", "f32", "f64", "char", "string",
];

/// One generated interface of the pool.
#[derive(Debug, Clone, Default)]
pub struct GenInterface {
    /// `i3`
    pub name: String,
    /// Its WIT body (between the braces).
    pub body: String,
    /// Pool interfaces it `use`s (by index).
    pub uses: BTreeSet<usize>,
    /// WASI interfaces it `use`s (unversioned).
    pub wasi_uses: BTreeSet<String>,
    /// Named non-resource types it defines, usable by later interfaces.
    pub types: Vec<String>,
    /// Resources it defines.
    pub resources: Vec<String>,
}

/// One generated component: a world over the pool and WASI.
#[derive(Debug, Clone, Default)]
pub struct GenComponent {
    /// `c0` (the root is `c0`).
    pub name: String,
    /// Pool interfaces imported (by index).
    pub imports: BTreeSet<usize>,
    /// Pool interfaces exported (by index).
    pub exports: BTreeSet<usize>,
    /// WASI interfaces imported (unversioned).
    pub wasi: BTreeSet<String>,
    /// World-level function imports (`import f0: func();`).
    pub bare_funcs: usize,
    /// Allowed patterns granted to this instance.
    pub grant: Vec<String>,
    /// Explicit denials.
    pub deny: Vec<String>,
}

/// A random composition and policy.
#[derive(Debug, Clone, Default)]
pub struct Case {
    /// The seed that produced it.
    pub seed: u64,
    /// The interface pool.
    pub pool: Vec<GenInterface>,
    /// The components; `components[0]` is the root.
    pub components: Vec<GenComponent>,
    /// The allow-list.
    pub allow: Vec<String>,
}

struct TypeGen<'a> {
    rng: &'a mut Rng,
    /// Named data types in scope (local and `use`d).
    named: Vec<String>,
    /// Resources in scope (local and `use`d).
    resources: Vec<String>,
}

impl TypeGen<'_> {
    /// A data type (no handles) of at most `depth` nesting.
    fn data(&mut self, depth: u32) -> String {
        let leaf = depth == 0 || self.rng.chance(35);
        if leaf {
            if !self.named.is_empty() && self.rng.chance(35) {
                return self.rng.pick(&self.named).clone();
            }
            return (*self.rng.pick(PRIMITIVES)).to_string();
        }
        let d = depth - 1;
        match self.rng.below(6) {
            0 => format!("list<{}>", self.data(d)),
            1 => format!("option<{}>", self.data(d)),
            2 => match self.rng.below(4) {
                0 => format!("result<{}, {}>", self.data(d), self.data(d)),
                1 => format!("result<{}>", self.data(d)),
                2 => format!("result<_, {}>", self.data(d)),
                _ => "result".to_string(),
            },
            3 => {
                let n = 1 + self.rng.below(3);
                let items: Vec<String> = (0..n).map(|_| self.data(d)).collect();
                format!("tuple<{}>", items.join(", "))
            }
            4 => format!("list<tuple<string, {}>>", self.data(d)),
            _ => self.data(d),
        }
    }

    /// A parameter type: data, or a handle (`borrow<r>`, `r`).
    fn param(&mut self) -> String {
        if !self.resources.is_empty() && self.rng.chance(25) {
            let r = self.rng.pick(&self.resources).clone();
            return if self.rng.chance(50) {
                format!("borrow<{r}>")
            } else {
                r
            };
        }
        self.data(3)
    }

    /// A result type: data, or an owned handle, possibly in an option, list or result.
    fn result(&mut self) -> String {
        if !self.resources.is_empty() && self.rng.chance(25) {
            let r = self.rng.pick(&self.resources).clone();
            return match self.rng.below(4) {
                0 => r,
                1 => format!("option<{r}>"),
                2 => format!("list<{r}>"),
                _ => format!("result<{r}, {}>", self.data(1)),
            };
        }
        self.data(3)
    }

    fn signature(&mut self, max_params: usize) -> String {
        let n = self.rng.below(max_params + 1);
        let params: Vec<String> = (0..n).map(|i| format!("p{i}: {}", self.param())).collect();
        let mut s = format!("func({})", params.join(", "));
        if self.rng.chance(75) {
            let _ = write!(s, " -> {}", self.result());
        }
        s
    }
}

/// Generates the case for `seed`.
pub fn generate(seed: u64) -> Case {
    let mut rng = Rng::new(seed);
    let n_ifaces = 1 + rng.below(6);
    let mut pool: Vec<GenInterface> = Vec::new();
    for k in 0..n_ifaces {
        let iface = gen_interface(&mut rng, k, &pool);
        pool.push(iface);
    }

    // Owners: each pool interface is exported by at most one component (sometimes two:
    // an ambiguity the composer must refuse). Components import interfaces owned by
    // later components (providers), sometimes by earlier ones (a cycle) or by nobody.
    let n_comps = 1 + rng.below(4);
    let mut components: Vec<GenComponent> = (0..n_comps)
        .map(|i| GenComponent {
            name: format!("c{i}"),
            ..GenComponent::default()
        })
        .collect();
    for (k, _) in pool.iter().enumerate() {
        if rng.chance(75) {
            let owner = rng.below(n_comps);
            components[owner].exports.insert(k);
            if rng.chance(4) {
                let other = rng.below(n_comps);
                components[other].exports.insert(k);
            }
        }
    }
    for c in 0..n_comps {
        for k in 0..pool.len() {
            if components[c].exports.contains(&k) {
                continue;
            }
            let owner = components.iter().position(|o| o.exports.contains(&k));
            let wanted = match owner {
                Some(o) if o > c => rng.chance(70),
                Some(_) => rng.chance(5),
                None => rng.chance(30),
            };
            if wanted {
                components[c].imports.insert(k);
            }
        }
        for _ in 0..rng.below(5) {
            components[c]
                .wasi
                .insert((*rng.pick(WASI_IMPORTS)).to_string());
        }
        if rng.chance(3) {
            components[c].bare_funcs = 1 + rng.below(2);
        }
    }
    // An exported interface that `use`s a pool interface needs it imported too
    // (it cannot both import and export it: drop such exports).
    for comp in &mut components {
        let mut changed = true;
        while changed {
            changed = false;
            for k in comp.exports.clone() {
                let deps = closure(&pool, k);
                if deps.iter().any(|d| comp.exports.contains(d)) {
                    comp.exports.remove(&k);
                    changed = true;
                }
            }
        }
        for k in comp
            .imports
            .clone()
            .iter()
            .chain(comp.exports.clone().iter())
        {
            for d in closure(&pool, *k) {
                comp.imports.insert(d);
            }
        }
    }

    // The policy.
    let allow: Vec<String> = (0..rng.below(5))
        .map(|_| (*rng.pick(PATTERNS)).to_string())
        .collect();
    for comp in &mut components {
        let n = rng.below(4);
        for _ in 0..n {
            let p = if !allow.is_empty() && rng.chance(85) {
                rng.pick(&allow).clone()
            } else {
                (*rng.pick(PATTERNS)).to_string()
            };
            comp.grant.push(p);
        }
        if rng.chance(40) {
            comp.deny.push((*rng.pick(PATTERNS)).to_string());
        }
        // Usually deny what no component provides, so that most cases compose.
        if rng.chance(60) {
            comp.deny.push("gen:lib/*".to_string());
        }
    }
    Case {
        seed,
        pool,
        components,
        allow,
    }
}

/// Pool interfaces that `k` depends on through `use`, transitively.
fn closure(pool: &[GenInterface], k: usize) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    let mut stack: Vec<usize> = pool[k].uses.iter().copied().collect();
    while let Some(d) = stack.pop() {
        if out.insert(d) {
            stack.extend(pool[d].uses.iter().copied());
        }
    }
    out
}

fn gen_interface(rng: &mut Rng, k: usize, pool: &[GenInterface]) -> GenInterface {
    let mut iface = GenInterface {
        name: format!("i{k}"),
        ..GenInterface::default()
    };
    let mut body = String::new();
    let mut named = Vec::new();
    let mut resources = Vec::new();
    // `use` of earlier pool interfaces and of WASI.
    for (j, other) in pool.iter().enumerate() {
        if rng.chance(30) {
            let mut names: Vec<&String> = Vec::new();
            for t in other.types.iter().chain(&other.resources) {
                if rng.chance(60) {
                    names.push(t);
                }
            }
            if names.is_empty() {
                continue;
            }
            let list: Vec<String> = names.iter().map(|t| format!("{t} as u{j}-{t}")).collect();
            let _ = writeln!(body, "  use {}.{{{}}};", other.name, list.join(", "));
            for t in names {
                let alias = format!("u{j}-{t}");
                if other.resources.contains(t) {
                    resources.push(alias);
                } else {
                    named.push(alias);
                }
            }
            iface.uses.insert(j);
        }
    }
    if rng.chance(25) {
        let (wasi_iface, ty, is_resource) = *rng.pick(WASI_TYPES);
        let alias = format!("w-{ty}");
        let _ = writeln!(body, "  use {wasi_iface}@0.2.12.{{{ty} as {alias}}};");
        if is_resource {
            resources.push(alias);
        } else {
            named.push(alias);
        }
        iface.wasi_uses.insert(wasi_iface.to_string());
    }

    let mut g = TypeGen {
        rng,
        named,
        resources,
    };
    let n_types = g.rng.below(5);
    for t in 0..n_types {
        let name = format!("t{k}x{t}");
        match g.rng.below(6) {
            0 => {
                let n = 1 + g.rng.below(4);
                let fields: Vec<String> = (0..n).map(|f| format!("f{f}: {}", g.data(2))).collect();
                let _ = writeln!(body, "  record {name} {{ {} }}", fields.join(", "));
            }
            1 => {
                let n = 1 + g.rng.below(4);
                let cases: Vec<String> = (0..n)
                    .map(|c| {
                        if g.rng.chance(60) {
                            format!("k{c}({})", g.data(2))
                        } else {
                            format!("k{c}")
                        }
                    })
                    .collect();
                let _ = writeln!(body, "  variant {name} {{ {} }}", cases.join(", "));
            }
            2 => {
                let n = 1 + g.rng.below(5);
                let cases: Vec<String> = (0..n).map(|c| format!("e{c}")).collect();
                let _ = writeln!(body, "  enum {name} {{ {} }}", cases.join(", "));
            }
            3 => {
                let n = 1 + g.rng.below(5);
                let flags: Vec<String> = (0..n).map(|c| format!("g{c}")).collect();
                let _ = writeln!(body, "  flags {name} {{ {} }}", flags.join(", "));
            }
            4 => {
                let _ = writeln!(body, "  type {name} = {};", g.data(2));
            }
            _ => {
                // A resource: declared first so its own methods may name it.
                g.resources.push(name.clone());
                let mut items = String::new();
                if g.rng.chance(60) {
                    let n = g.rng.below(3);
                    let params: Vec<String> =
                        (0..n).map(|i| format!("p{i}: {}", g.param())).collect();
                    let _ = writeln!(items, "    constructor({});", params.join(", "));
                }
                for m in 0..g.rng.below(3) {
                    let _ = writeln!(items, "    m{m}: {};", g.signature(2));
                }
                if g.rng.chance(40) {
                    let _ = writeln!(items, "    s0: static {};", g.signature(1));
                }
                if items.is_empty() {
                    let _ = writeln!(body, "  resource {name};");
                } else {
                    let _ = writeln!(body, "  resource {name} {{\n{items}  }}");
                }
                iface.resources.push(name);
                continue;
            }
        }
        g.named.push(name.clone());
        iface.types.push(name);
    }
    let n_funcs = g.rng.below(5);
    for f in 0..n_funcs {
        let _ = writeln!(body, "  fn{f}: {};", g.signature(4));
    }
    iface.body = body;
    iface
}

impl Case {
    /// The `gen:lib` package, as a nested WIT package.
    fn pool_wit(&self) -> String {
        let mut s = String::from("package gen:lib@0.1.0 {\n");
        for i in &self.pool {
            let _ = writeln!(s, "interface {} {{\n{}}}", i.name, i.body);
        }
        s.push_str("}\n");
        s
    }

    /// The WIT text of component `c`: its world, with the pool nested.
    pub fn component_wit(&self, c: usize) -> String {
        let comp = &self.components[c];
        let mut s = format!("package gen:{}@0.1.0;\n\n", comp.name);
        let _ = writeln!(s, "world {} {{", comp.name);
        for k in &comp.imports {
            let _ = writeln!(s, "  import gen:lib/{}@0.1.0;", self.pool[*k].name);
        }
        for w in &comp.wasi {
            let _ = writeln!(s, "  import {w}@0.2.12;");
        }
        for f in 0..comp.bare_funcs {
            let _ = writeln!(s, "  import bare{f}: func(x: u32) -> string;");
        }
        for k in &comp.exports {
            let _ = writeln!(s, "  export gen:lib/{}@0.1.0;", self.pool[*k].name);
        }
        if comp.exports.is_empty() {
            s.push_str("  export run: func() -> u32;\n");
        }
        s.push_str("}\n\n");
        s.push_str(&self.pool_wit());
        s
    }

    /// A readable dump of the case, for failure messages.
    pub fn describe(&self) -> String {
        let mut s = format!("seed {}\nallow: {:?}\n", self.seed, self.allow);
        for (i, c) in self.components.iter().enumerate() {
            let _ = writeln!(
                s,
                "component {}: grant {:?} deny {:?}\n{}",
                c.name,
                c.grant,
                c.deny,
                self.component_wit(i)
            );
        }
        s
    }
}

/// What one case came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The composer refused; its message.
    Refused(String),
    /// It wrote an output with this many imports, all within the policy.
    Composed { imports: usize },
}

/// Builds, composes and checks one case in `dir`. `Err` is an invariant
/// violation (or a generator bug): a panic, an output that does not validate,
/// or an import outside the allow-list and its type dependencies.
pub fn check_case(case: &Case, dir: &Path, wasi_deps: &Path) -> Result<Outcome> {
    let mut paths = Vec::new();
    for (i, comp) in case.components.iter().enumerate() {
        let wit = case.component_wit(i);
        let bytes = airlock::testkit::component_from_wit(&wit, Some(wasi_deps))
            .with_context(|| format!("generator bug: building `{}`", comp.name))?;
        let path = dir.join(format!("{}.wasm", comp.name));
        std::fs::write(&path, bytes)?;
        paths.push(path);
    }
    // The plug form names instances after their files (`c0` is the root); then
    // the policy is set per instance.
    let mut spec = CompositionSpec::from_plugs(&paths[0], &paths[1..], &case.allow, &[], &[])
        .map_err(|e| anyhow!("generator bug: {e}"))?;
    for (inst, comp) in spec.instances.iter_mut().zip(&case.components) {
        assert_eq!(inst.name, comp.name);
        inst.grant = patterns(&comp.grant)?;
        inst.deny = patterns(&comp.deny)?;
    }
    check_spec(&spec, Some(&deps_of(case, wasi_deps)?))
}

/// Composes `spec` and checks the invariant. `deps` maps an unversioned
/// interface name to the unversioned interfaces it `use`s, transitively; when
/// `None`, no import is accepted as a type dependency.
pub fn check_spec(
    spec: &CompositionSpec,
    deps: Option<&BTreeMap<String, BTreeSet<String>>>,
) -> Result<Outcome> {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        airlock::pipeline::compose(spec)
    }));
    let composed = match result {
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            bail!("the composer panicked: {message}");
        }
        Ok(Err(e)) => return Ok(Outcome::Refused(e.to_string())),
        Ok(Ok(c)) => c,
    };
    let bytes = composed.bytes;
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&bytes)
        .map_err(|e| anyhow!("the output does not validate: {e}"))?;
    let imports = crate::import_names(&bytes)?;
    check_imports(&imports, &spec.allow, deps)?;
    // Finer than the allow-list: each import the output keeps was granted to
    // some instance (or is a type dependency of one that was).
    let granted = PatternSet(
        spec.instances
            .iter()
            .flat_map(|i| i.grant.0.iter().cloned())
            .collect(),
    );
    let permitted: Vec<String> = imports
        .iter()
        .filter(|name| {
            InterfaceName::parse(name)
                .is_some_and(|n| spec.allow.matches(&n) && granted.matches(&n))
        })
        .cloned()
        .collect();
    check_granted(&imports, &permitted, deps)?;
    Ok(Outcome::Composed {
        imports: imports.len(),
    })
}

/// Every import is in `permitted` or a `use` dependency of one that is.
fn check_granted(
    imports: &[String],
    permitted: &[String],
    deps: Option<&BTreeMap<String, BTreeSet<String>>>,
) -> Result<()> {
    let unversioned = |name: &String| InterfaceName::parse(name).map(|n| n.unversioned());
    let roots: BTreeSet<String> = permitted.iter().filter_map(unversioned).collect();
    let mut ok = roots.clone();
    if let Some(deps) = deps {
        for r in &roots {
            ok.extend(deps.get(r).into_iter().flatten().cloned());
        }
    }
    let ungranted: Vec<&String> = imports
        .iter()
        .filter(|name| unversioned(name).is_none_or(|n| !ok.contains(&n)))
        .collect();
    if !ungranted.is_empty() {
        bail!(
            "INVARIANT VIOLATION: the output imports {ungranted:?}, which no instance was granted"
        );
    }
    Ok(())
}

/// Every import matches `allow` or is a `use` dependency of one that does.
pub fn check_imports(
    imports: &[String],
    allow: &PatternSet,
    deps: Option<&BTreeMap<String, BTreeSet<String>>>,
) -> Result<()> {
    let mut permitted = BTreeSet::new();
    for name in imports {
        if let Some(n) = InterfaceName::parse(name)
            && allow.matches(&n)
        {
            permitted.insert(n.unversioned());
        }
    }
    let mut via_deps = BTreeSet::new();
    if let Some(deps) = deps {
        for p in &permitted {
            via_deps.extend(deps.get(p).into_iter().flatten().cloned());
        }
    }
    let outside: Vec<&String> = imports
        .iter()
        .filter(|name| {
            let Some(n) = InterfaceName::parse(name) else {
                return true; // a bare function or type: never permitted
            };
            !permitted.contains(&n.unversioned()) && !via_deps.contains(&n.unversioned())
        })
        .collect();
    if !outside.is_empty() {
        bail!(
            "INVARIANT VIOLATION: the output imports {outside:?}, outside the allow-list {:?}",
            allow.0.iter().map(Pattern::as_str).collect::<Vec<_>>()
        );
    }
    Ok(())
}

/// `use` dependencies (transitive, unversioned) of every WASI interface in
/// `wasi_deps` and every pool interface of `case`, computed from the WIT
/// sources with wit-parser, independently of the composer.
pub fn deps_of(case: &Case, wasi_deps: &Path) -> Result<BTreeMap<String, BTreeSet<String>>> {
    let mut resolve = wasi_resolve(wasi_deps)?;
    resolve.push_str(
        "pool.wit",
        &format!("package gen:pool;\n{}", case.pool_wit()),
    )?;
    Ok(use_closure(&resolve))
}

/// A resolve with the WASI packages of `wasi_deps`.
pub fn wasi_resolve(wasi_deps: &Path) -> Result<wit_parser::Resolve> {
    airlock::testkit::wasi_resolve(wasi_deps)
}

/// For each interface of `resolve`, the interfaces it `use`s, transitively.
pub fn use_closure(resolve: &wit_parser::Resolve) -> BTreeMap<String, BTreeSet<String>> {
    let unversioned = |id| {
        let name = resolve.id_of(id).unwrap_or_default();
        name.split('@').next().unwrap_or_default().to_string()
    };
    let mut out = BTreeMap::new();
    for (id, _) in resolve.interfaces.iter() {
        let mut seen = BTreeSet::new();
        let mut stack = vec![id];
        while let Some(i) = stack.pop() {
            for d in resolve.interface_direct_deps(i) {
                if seen.insert(d) {
                    stack.push(d);
                }
            }
        }
        out.insert(
            unversioned(id),
            seen.into_iter().map(unversioned).collect::<BTreeSet<_>>(),
        );
    }
    out
}

fn patterns(items: &[String]) -> Result<PatternSet> {
    PatternSet::parse(items).map_err(|e| anyhow!("generator bug: {e}"))
}

/// Where the workspace's vendored WASI WIT is.
pub fn wasi_deps() -> PathBuf {
    crate::workspace().join("wit/deps")
}
