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
//! A configurable share of the functions are `async func` and of the
//! parameter and result types are `stream<T>`, `future<T>` (also bare
//! `stream`, `future`, and WASI 0.3's `tuple<stream<T>, future<result<_, E>>>`),
//! some inside records, variants, lists and aliases ([`Shares`]:
//! `AIRLOCK_GEN_ASYNC`, `AIRLOCK_GEN_STREAMS`, percent; zero gives the cases of
//! before, as these draws come from a generator of their own). Components
//! holding them are built with the sync ABI, the async callback ABI or the
//! stackful one ([`Abi`]); such interfaces are linked, denied, granted and
//! exported like any other, and the kinds of a case say which happened.
//!
//! On top of that the generator is adversarial (see [`adversarial`]): components
//! that declare their own, forged WASI packages (a `wall-clock` that `use`s a
//! type of `wasi:cli/environment`, a `wasi:io/streams` with extra functions, a
//! `stdout` over another version's streams), WASI imports at other versions
//! (0.2.x patches, 0.3.0, `0.3.0-rc-…`), `use` cycles across two components,
//! libraries exporting WASI interfaces, and two instances of one component file
//! under different policies.
//!
//! [`check_case`] builds the components (wit-component's dummy module), composes,
//! and checks the invariants: `pipeline::compose` returns an error (never panics),
//! or bytes that validate and whose imports, read from the bytes with wasmparser
//! alone, match the allow-list or are `use` dependencies of matched ones; and,
//! instance by instance ([`check_reach`], over `airlock_core::reach`), every host
//! import that reaches an instance is one its own grant permits, or a genuine
//! WASI type dependency of one (per WASI's WIT, read here) of which only
//! functions without authority of their own arrive.

use airlock_core::names::InterfaceName;
use airlock_core::policy::{Pattern, PatternSet};
use airlock_core::reach::Access;
use airlock_core::spec::{CompositionSpec, InstanceSpec};
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

/// The WASI version vendored in `wit/deps`.
pub const WASI_VERSION: &str = "0.2.12";

/// Other versions components import WASI at: older patches of the same track
/// (the composer renames them to the highest), 0.3.0 and a toolchain's
/// release-candidate name (other tracks: nothing about them is trusted). The
/// WIT for them is the vendored WIT with its version replaced.
pub const OTHER_VERSIONS: &[&str] = &["0.2.0", "0.2.3", "0.2.6", "0.3.0", "0.3.0-rc-2025-09-16"];

/// The vendored WASI packages in dependency order, each with the packages it uses.
const REAL_PACKAGES: [(&str, &[&str]); 7] = [
    ("io", &[]),
    ("clocks", &["io"]),
    ("random", &[]),
    ("filesystem", &["io", "clocks"]),
    ("sockets", &["io", "clocks"]),
    ("cli", &["io", "clocks", "filesystem", "sockets", "random"]),
    ("http", &["io", "clocks", "random", "cli"]),
];

/// WASI interfaces a library may export (serving them to other components).
const EXPORTABLE: &[&str] = &[
    "wasi:cli/environment",
    "wasi:cli/stdout",
    "wasi:clocks/wall-clock",
    "wasi:clocks/monotonic-clock",
    "wasi:random/random",
    "wasi:random/insecure-seed",
    "wasi:filesystem/preopens",
];

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
    "wasi:*@0.2",
    "wasi:*@0.3.0-rc-2025-09-16",
    "wasi:clocks/*@>=0.2.3",
    "wasi:cli/*@0.3",
    "gen:*",
    "gen:cyc/*",
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
    /// Its async features ([`ASYNC_FUNC`], [`STREAM`], [`FUTURE`]): in its
    /// functions and types, and in the types it `use`s and names.
    pub features: BTreeSet<&'static str>,
    /// The async features of each of its named types that has any.
    pub type_features: BTreeMap<String, BTreeSet<&'static str>>,
    /// Its named types that are `char` (no `stream` of them).
    pub char_types: BTreeSet<String>,
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
    /// WASI interfaces imported, versioned (`wasi:cli/stdout@0.2.12`).
    pub wasi: BTreeSet<String>,
    /// WASI interfaces exported, versioned: the library serves them to others.
    pub wasi_exports: BTreeSet<String>,
    /// Packages the component declares itself (forged WASI packages, its own
    /// view of `gen:cyc`), pushed in order before its world. A forged package
    /// replaces the vendored one of the same name and version, and those that
    /// use it.
    pub packages: Vec<ExtraPackage>,
    /// Interfaces of `packages` imported (versioned).
    pub extra_imports: BTreeSet<String>,
    /// Interfaces of `packages` exported (versioned).
    pub extra_exports: BTreeSet<String>,
    /// World-level function imports (`import f0: func();`).
    pub bare_funcs: usize,
    /// Its bare function imports are `async func`.
    pub async_bare: bool,
    /// Its `run` export (when it exports no pool interface) is `async func`.
    pub async_run: bool,
    /// The ABI its core module lifts and lowers async functions with.
    pub abi: Abi,
    /// Allowed patterns granted to this instance.
    pub grant: Vec<String>,
    /// Explicit denials.
    pub deny: Vec<String>,
}

/// How a generated component's core module lifts and lowers `async func`s
/// (wit-component's dummy module; sync functions use the sync ABI always).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Abi {
    /// The standard mangling, sync ABI for all (an `async func` lifted and
    /// lowered synchronously).
    #[default]
    Sync,
    /// The async ABI with a callback (`[async-lift]`, `[callback]`,
    /// `[async-lower]`, `task.return`, stream and future intrinsics).
    Callback,
    /// The stackful async ABI (`[async-lift-stackful]`).
    Stackful,
}

impl Abi {
    fn mangling(self) -> wit_parser::ManglingAndAbi {
        use wit_parser::{LiftLowerAbi, ManglingAndAbi};
        match self {
            Abi::Sync => ManglingAndAbi::Standard32,
            Abi::Callback => ManglingAndAbi::Legacy(LiftLowerAbi::AsyncCallback),
            Abi::Stackful => ManglingAndAbi::Legacy(LiftLowerAbi::AsyncStackful),
        }
    }
}

/// A WIT package a component declares itself.
#[derive(Debug, Clone, Default)]
pub struct ExtraPackage {
    /// `wasi:clocks@0.2.12`, `gen:cyc@0.1.0`.
    pub name: String,
    /// The WIT file, its `package` line first.
    pub text: String,
}

/// A second instance of one component file, under its own policy.
#[derive(Debug, Clone, Default)]
pub struct Twin {
    /// The component (index) whose file it instantiates again.
    pub of: usize,
    /// Its instance name (`c1-twin`).
    pub name: String,
    /// Its grant.
    pub grant: Vec<String>,
    /// Its explicit denials.
    pub deny: Vec<String>,
    /// (importer, pool interface, wired to the twin rather than the original):
    /// every import of what the component exports is wired explicitly.
    pub wires: Vec<(usize, usize, bool)>,
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
    /// Second instances of component files.
    pub twins: Vec<Twin>,
    /// The adversarial kinds in the case (`forged-use`, `twin`...).
    pub kinds: BTreeSet<&'static str>,
}

/// How much of a case is async (percentages): a configurable share, drawn
/// from a generator of its own (see [`generate_with`]), so that the rest of a
/// case is the same whatever the shares (zero gives the cases of before).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shares {
    /// Of the generated functions (free functions, methods, static functions,
    /// a world's bare imports and `run`), those that are `async func`.
    pub async_funcs: u64,
    /// Of the parameter and result types, those that become a `stream<T>` or
    /// `future<T>` of the type drawn (or a bare `stream`, `future`, or WASI
    /// 0.3's `tuple<stream<T>, future<result<_, E>>>`); a quarter of that inside
    /// other types (records, variants, lists, options, payloads, aliases).
    pub transmit: u64,
}

impl Shares {
    /// The shares `generate` uses by default.
    pub const DEFAULT: Shares = Shares {
        async_funcs: 20,
        transmit: 12,
    };

    /// No async function, stream or future: the cases of before.
    pub const NONE: Shares = Shares {
        async_funcs: 0,
        transmit: 0,
    };

    /// `AIRLOCK_GEN_ASYNC` and `AIRLOCK_GEN_STREAMS` (percent), else the defaults.
    pub fn from_env() -> Self {
        let percent = |name: &str, default: u64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .map_or(default, |v| v.min(100))
        };
        Shares {
            async_funcs: percent("AIRLOCK_GEN_ASYNC", Self::DEFAULT.async_funcs),
            transmit: percent("AIRLOCK_GEN_STREAMS", Self::DEFAULT.transmit),
        }
    }
}

/// Async features of generated WIT (kinds of a case, see [`Case::kinds`]).
const ASYNC_FUNC: &str = "async-func";
const STREAM: &str = "stream";
const FUTURE: &str = "future";

struct TypeGen<'a> {
    rng: &'a mut Rng,
    /// Draws of async functions, streams and futures.
    side: &'a mut Rng,
    shares: Shares,
    /// Named data types in scope (local and `use`d).
    named: Vec<String>,
    /// Resources in scope (local and `use`d).
    resources: Vec<String>,
    /// The async features of each named type in scope that has any.
    carried: BTreeMap<String, BTreeSet<&'static str>>,
    /// The async features met since the last [`TypeGen::take`].
    met: BTreeSet<&'static str>,
    /// Named types in scope that are `char` (`type t = char`).
    chars: BTreeSet<String>,
}

impl TypeGen<'_> {
    /// True when `ty` is `char` or a name of it.
    fn is_char(&self, ty: &str) -> bool {
        ty == "char" || self.chars.contains(ty)
    }

    /// The async features met since the last call.
    fn take(&mut self) -> BTreeSet<&'static str> {
        std::mem::take(&mut self.met)
    }

    /// A data type (no handles but streams and futures) of at most `depth` nesting.
    fn data(&mut self, depth: u32) -> String {
        let ty = self.data_plain(depth);
        if self.side.chance(self.shares.transmit / 4) {
            return self.transmit(ty, false);
        }
        ty
    }

    fn data_plain(&mut self, depth: u32) -> String {
        let leaf = depth == 0 || self.rng.chance(35);
        if leaf {
            if !self.named.is_empty() && self.rng.chance(35) {
                let t = self.rng.pick(&self.named).clone();
                if let Some(features) = self.carried.get(&t) {
                    self.met.extend(features.iter().copied());
                }
                return t;
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

    /// A stream or future of `payload` (never a `borrow`; a future of a
    /// result of it), or one without a payload; `top`: a parameter or result,
    /// which may also be WASI 0.3's pair of a stream and a future of its
    /// outcome (which a denial under user rules answers with an ended stream
    /// and a future of `err`).
    fn transmit(&mut self, payload: String, top: bool) -> String {
        // Component types have no `stream<char>` (yet): a stream of bytes.
        let stream_payload = match self.is_char(&payload) {
            true => "u8".to_string(),
            false => payload.clone(),
        };
        let ty = match self.side.below(if top { 8 } else { 7 }) {
            0..=2 => format!("stream<{stream_payload}>"),
            3 | 4 => format!("future<{payload}>"),
            // What user rules deny through: a future of a result.
            5 => {
                let error = *self.side.pick(&["string", "u32", "list<string>"]);
                format!("future<result<{payload}, {error}>>")
            }
            6 if self.side.chance(50) => "stream".to_string(),
            6 => "future".to_string(),
            _ => {
                self.met.insert(STREAM);
                let error = *self.side.pick(&["string", "u32", "list<string>"]);
                format!("tuple<stream<{stream_payload}>, future<result<_, {error}>>>")
            }
        };
        self.met.insert(if ty.starts_with("stream") {
            STREAM
        } else {
            FUTURE
        });
        ty
    }

    /// A parameter type: data, or a handle (`borrow<r>`, `r`); sometimes a
    /// stream or future of either (not of a borrow).
    fn param(&mut self) -> String {
        let ty = self.param_plain();
        if !ty.starts_with("borrow<") && self.side.chance(self.shares.transmit) {
            return self.transmit(ty, true);
        }
        ty
    }

    fn param_plain(&mut self) -> String {
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

    /// A result type: data, or an owned handle, possibly in an option, list or
    /// result; sometimes a stream or future of that.
    fn result(&mut self) -> String {
        let ty = self.result_plain();
        if self.side.chance(self.shares.transmit) {
            return self.transmit(ty, true);
        }
        ty
    }

    fn result_plain(&mut self) -> String {
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

    /// A function type (`func(..) -> ..`), `async` for a share of them.
    fn signature(&mut self, max_params: usize) -> String {
        let n = self.rng.below(max_params + 1);
        let params: Vec<String> = (0..n).map(|i| format!("p{i}: {}", self.param())).collect();
        let mut s = format!("func({})", params.join(", "));
        if self.rng.chance(75) {
            let _ = write!(s, " -> {}", self.result());
        }
        if self.side.chance(self.shares.async_funcs) {
            self.met.insert(ASYNC_FUNC);
            s.insert_str(0, "async ");
        }
        s
    }
}

/// Generates the case for `seed`, with the async shares of the environment
/// ([`Shares::from_env`]).
pub fn generate(seed: u64) -> Case {
    generate_with(seed, Shares::from_env())
}

/// Generates the case for `seed` with `shares` of async functions, streams
/// and futures. Their draws come from a generator of their own: the pool,
/// components, policy and adversarial kinds are those of [`Shares::NONE`],
/// with some functions made `async` and some types made streams or futures.
pub fn generate_with(seed: u64, shares: Shares) -> Case {
    let mut rng = Rng::new(seed);
    let mut side = Rng::new(seed ^ 0xA5C0_5EED_0000_0000);
    let n_ifaces = 1 + rng.below(6);
    let mut pool: Vec<GenInterface> = Vec::new();
    for k in 0..n_ifaces {
        let iface = gen_interface(&mut rng, &mut side, shares, k, &pool);
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
            let w = rng.pick(WASI_IMPORTS);
            components[c].wasi.insert(format!("{w}@{WASI_VERSION}"));
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

    // The policy. Patterns usually name something (one that names nothing is
    // a typo, which the composer refuses).
    let named: BTreeSet<String> = components
        .iter()
        .flat_map(|c| c.imports.iter().chain(&c.exports))
        .map(|k| format!("gen:lib/{}", pool[*k].name))
        .collect();
    let allow: Vec<String> = (0..rng.below(5))
        .map(|_| pick_pattern(&mut rng, &named))
        .collect();
    for comp in &mut components {
        let n = rng.below(4);
        for _ in 0..n {
            let p = if !allow.is_empty() && rng.chance(85) {
                rng.pick(&allow).clone()
            } else {
                pick_pattern(&mut rng, &named)
            };
            comp.grant.push(p);
        }
        if rng.chance(40) {
            comp.deny.push(pick_pattern(&mut rng, &named));
        }
        // Usually deny what no component provides, so that most cases compose.
        if rng.chance(60) && !named.is_empty() {
            comp.deny.push("gen:lib/*".to_string());
        }
    }
    let mut case = Case {
        seed,
        pool,
        components,
        allow,
        ..Case::default()
    };
    adversarial(&mut rng, &mut case);
    asynchronous(&mut side, shares, &mut case);
    case
}

/// Async functions in the worlds themselves (bare imports, `run`), the ABI
/// of each component, and the async kinds of the case: which of
/// [`ASYNC_FUNC`], [`STREAM`], [`FUTURE`] its components' interfaces hold;
/// where interfaces holding them go (`async-linked`: one component imports
/// what another exports; `async-denied`: imported, exported by none, denied
/// by the importer; `async-granted`: likewise, not denied, granted and
/// allowed; `async-exported`: the root exports it, so the output does); and
/// which async ABIs build the components (`abi-callback`, `abi-stackful`).
fn asynchronous(side: &mut Rng, shares: Shares, case: &mut Case) {
    let features = |case: &Case, k: usize| -> BTreeSet<&'static str> {
        let mut out = case.pool[k].features.clone();
        for d in closure(&case.pool, k) {
            out.extend(case.pool[d].features.iter().copied());
        }
        out
    };
    for c in 0..case.components.len() {
        let comp = &mut case.components[c];
        comp.async_bare = comp.bare_funcs > 0 && side.chance(shares.async_funcs);
        comp.async_run = comp.exports.is_empty() && side.chance(shares.async_funcs);
        let comp = &case.components[c];
        let mut held: BTreeSet<&'static str> = comp
            .imports
            .iter()
            .chain(&comp.exports)
            .flat_map(|k| features(case, *k))
            .collect();
        if comp.async_bare || comp.async_run {
            held.insert(ASYNC_FUNC);
        }
        // Components without async functions, streams or futures keep the
        // sync ABI (and the bytes of before).
        let abi = if held.is_empty() {
            Abi::Sync
        } else {
            match side.below(10) {
                0..=3 => Abi::Sync,
                4..=7 => Abi::Callback,
                _ => Abi::Stackful,
            }
        };
        case.components[c].abi = abi;
        case.kinds.extend(held);
        match abi {
            Abi::Sync => {}
            Abi::Callback => {
                case.kinds.insert("abi-callback");
            }
            Abi::Stackful => {
                case.kinds.insert("abi-stackful");
            }
        }
    }
    // An import of such an interface that no other component exports and
    // its importer does not deny: sometimes granted (and allowed), so the
    // output imports it from the host.
    for c in 0..case.components.len() {
        let comp = &case.components[c];
        let deny = PatternSet::parse(&comp.deny).ok();
        let wanted: Vec<String> = comp
            .imports
            .iter()
            .filter(|&&k| {
                !features(case, k).is_empty()
                    && !case
                        .components
                        .iter()
                        .enumerate()
                        .any(|(o, other)| o != c && other.exports.contains(&k))
            })
            .map(|k| format!("gen:lib/{}", case.pool[*k].name))
            .filter(|name| {
                let parsed = InterfaceName::parse(&format!("{name}@0.1.0"));
                !deny
                    .as_ref()
                    .zip(parsed.as_ref())
                    .is_some_and(|(d, n)| d.matches(n))
            })
            .collect();
        for name in wanted {
            if side.chance(35) {
                case.components[c].grant.push(name.clone());
                case.allow.push(name);
            }
        }
    }
    let allow = PatternSet::parse(&case.allow).ok();
    for (c, comp) in case.components.iter().enumerate() {
        let grant = PatternSet::parse(&comp.grant).ok();
        let deny = PatternSet::parse(&comp.deny).ok();
        for &k in &comp.imports {
            if features(case, k).is_empty() {
                continue;
            }
            let exported = case
                .components
                .iter()
                .enumerate()
                .any(|(o, other)| o != c && other.exports.contains(&k));
            let name = InterfaceName::parse(&format!("gen:lib/{}@0.1.0", case.pool[k].name));
            let matches = |set: &Option<PatternSet>| {
                set.as_ref()
                    .zip(name.as_ref())
                    .is_some_and(|(s, n)| s.matches(n))
            };
            let kind = if exported {
                "async-linked"
            } else if matches(&deny) {
                "async-denied"
            } else if matches(&grant) && matches(&allow) {
                "async-granted"
            } else {
                continue;
            };
            case.kinds.insert(kind);
        }
    }
    if case.components[0]
        .exports
        .iter()
        .any(|k| !features(case, *k).is_empty())
    {
        case.kinds.insert("async-exported");
    }
}

/// A pattern from [`PATTERNS`]; one that names none of the `named` interfaces
/// (nor WASI) is redrawn, mostly.
fn pick_pattern(rng: &mut Rng, named: &BTreeSet<String>) -> String {
    let names_something = |p: &str| {
        let glob = split_version(p).0;
        glob.starts_with("wasi:")
            || match glob.strip_suffix('*') {
                Some(prefix) => named.iter().any(|n| n.starts_with(prefix)),
                None => named.contains(glob),
            }
    };
    let mut p = *rng.pick(PATTERNS);
    for _ in 0..4 {
        if names_something(p) || rng.chance(10) {
            break;
        }
        p = *rng.pick(PATTERNS);
    }
    p.to_string()
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

/// A vendored WASI package's text at version `v`: its references renamed, and
/// its feature gates (`@since(version = 0.2.12)`) made to fit an older version.
fn at_version(text: &str, v: &str) -> String {
    if v == WASI_VERSION {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("@deprecated(") {
            continue;
        }
        if trimmed.starts_with("@since(version = ") {
            let indent = &line[..line.len() - trimmed.len()];
            out.push_str(indent);
            out.push_str("@since(version = 0.2.0)\n");
            continue;
        }
        out.push_str(&line.replace(&format!("@{WASI_VERSION}"), &format!("@{v}")));
        out.push('\n');
    }
    out
}

/// True when versions `a` and `b` are on one semver track (0.2.3 and 0.2.12;
/// a pre-release only with itself).
fn same_track(a: &str, b: &str) -> bool {
    if a.contains('-') || b.contains('-') {
        return a == b;
    }
    let head = |v: &str| -> (String, String) {
        let mut parts = v.split('.');
        let major = parts.next().unwrap_or_default().to_string();
        let minor = parts.next().unwrap_or_default().to_string();
        if major == "0" {
            (major, minor)
        } else {
            (major, String::new())
        }
    };
    head(a) == head(b)
}

/// `wasi:cli/stdout@0.2.12` -> (`wasi:cli/stdout`, `0.2.12`).
fn split_version(name: &str) -> (&str, &str) {
    name.split_once('@').unwrap_or((name, ""))
}

/// The WASI package of an interface name (`wasi:cli/stdout@0.2.12` -> `cli`).
fn wasi_package(name: &str) -> Option<&str> {
    name.strip_prefix("wasi:")?.split(['/', '@']).next()
}

/// `pkgs` and every vendored package that uses one of them, transitively.
fn with_dependents(pkgs: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = pkgs.clone();
    for (pkg, deps) in REAL_PACKAGES {
        // In dependency order: one pass suffices.
        if deps.iter().any(|d| out.contains(*d)) {
            out.insert(pkg.to_string());
        }
    }
    out
}

/// `pkgs` and every vendored package they use, transitively.
fn with_dependencies(pkgs: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = pkgs.clone();
    for (pkg, deps) in REAL_PACKAGES.iter().rev() {
        if out.contains(*pkg) {
            out.extend(deps.iter().map(|d| d.to_string()));
        }
    }
    out
}

impl GenComponent {
    /// The vendored WASI packages that its own packages replace on the track
    /// of version `v`: the forged ones and those that use them.
    fn shadowed_on(&self, v: &str) -> BTreeSet<String> {
        let forged = self
            .packages
            .iter()
            .filter_map(|p| {
                let (name, version) = split_version(&p.name);
                let pkg = name.strip_prefix("wasi:")?;
                same_track(version, v).then(|| pkg.to_string())
            })
            .collect();
        with_dependents(&forged)
    }

    /// The WASI packages it forges at version `v`.
    fn forged_at(&self, v: &str) -> BTreeSet<String> {
        self.packages
            .iter()
            .filter_map(|p| {
                let (name, version) = split_version(&p.name);
                let pkg = name.strip_prefix("wasi:")?;
                (version == v).then(|| pkg.to_string())
            })
            .collect()
    }

    /// True when the vendored package of `name` (versioned) is replaced, on
    /// its track, by a forged one (or uses one) in this component.
    fn shadowed(&self, name: &str) -> bool {
        let (_, v) = split_version(name);
        wasi_package(name).is_some_and(|p| self.shadowed_on(v).contains(p))
    }
}

/// The vendored WASI packages (at 0.2.12) that the pool interfaces component
/// `c` imports or exports `use`, with their dependencies.
fn pool_needs(case: &Case, c: usize) -> BTreeSet<String> {
    let comp = &case.components[c];
    let pkgs = comp
        .imports
        .iter()
        .chain(&comp.exports)
        .flat_map(|k| &case.pool[*k].wasi_uses)
        .filter_map(|w| wasi_package(w).map(str::to_string))
        .collect();
    with_dependencies(&pkgs)
}

/// Makes the case adversarial, each kind with its own probability (all from
/// the seed): WASI at other versions, libraries exporting WASI, forged WASI
/// packages, `use` cycles across two components, and a second instance of a
/// component under another policy.
fn adversarial(rng: &mut Rng, case: &mut Case) {
    let n = case.components.len();
    // Other versions: several 0.2.x patches across components, 0.3.0, rc names;
    // within one component, some imports moved and some kept (mixed).
    for c in 0..n {
        if rng.chance(15) {
            let v = *rng.pick(OTHER_VERSIONS);
            let comp = &mut case.components[c];
            let moved: Vec<String> = comp
                .wasi
                .iter()
                .filter(|_| rng.chance(70))
                .cloned()
                .collect();
            for w in moved {
                comp.wasi.remove(&w);
                comp.wasi.insert(format!("{}@{v}", split_version(&w).0));
            }
            if comp.wasi.is_empty() || rng.chance(40) {
                comp.wasi.insert(format!("{}@{v}", rng.pick(WASI_IMPORTS)));
            }
            case.kinds.insert("other-versions");
        }
    }
    // A library exporting a WASI interface; others import it (sometimes at an
    // older patch, which the export serves by semver).
    if rng.chance(12) {
        export_wasi(rng, case);
    }
    // Forged WASI packages, in one component (sometimes two).
    if rng.chance(25) {
        let c = rng.below(n);
        forge(rng, case, c);
        if n > 1 && rng.chance(20) {
            let d = (c + 1 + rng.below(n - 1)) % n;
            forge(rng, case, d);
        }
    }
    // A cycle of declared uses across two components: the same interface
    // names, opposite `use` directions.
    if n > 1 && rng.chance(8) {
        let a = rng.below(n);
        let b = (a + 1 + rng.below(n - 1)) % n;
        use_cycle(rng, case, a, b);
    }
    // Two instances of one component file, under different policies.
    if rng.chance(12) {
        twin(rng, case);
    }
    // No component imports or exports a vendored package it shadows.
    for comp in &mut case.components {
        let kept = |names: &BTreeSet<String>| -> BTreeSet<String> {
            names
                .iter()
                .filter(|w| !comp.shadowed(w))
                .cloned()
                .collect()
        };
        (comp.wasi, comp.wasi_exports) = (kept(&comp.wasi), kept(&comp.wasi_exports));
    }
    // Nor exports a WASI interface that it imports, or that one it imports uses.
    for c in 0..n {
        let exports = case.components[c].wasi_exports.clone();
        for w in exports {
            if imports_use(case, c, split_version(&w).0) {
                case.components[c].wasi_exports.remove(&w);
            }
        }
    }
    if case.components.iter().all(|c| c.wasi_exports.is_empty()) {
        case.kinds.remove("exports-wasi");
    }
}

/// True when component `c` imports `iface` (unversioned), or anything that
/// uses it per WASI's WIT (directly or through its pool interfaces): then it
/// cannot also export it.
fn imports_use(case: &Case, c: usize, iface: &str) -> bool {
    let comp = &case.components[c];
    let pool_uses = comp
        .imports
        .iter()
        .chain(&comp.exports)
        .flat_map(|k| &case.pool[*k].wasi_uses);
    comp.wasi
        .iter()
        .chain(&comp.extra_imports)
        .map(|w| split_version(w).0)
        .chain(pool_uses.map(String::as_str))
        .any(|w| {
            w == iface
                || wasi_model().is_ok_and(|m| m.uses.get(w).is_some_and(|d| d.contains(iface)))
        })
}

/// A library exports a WASI interface; others import it.
fn export_wasi(rng: &mut Rng, case: &mut Case) {
    let n = case.components.len();
    let iface = *rng.pick(EXPORTABLE);
    let preferred = if n > 1 && rng.chance(75) {
        1 + rng.below(n - 1)
    } else {
        0
    };
    let Some(c) = (0..n)
        .map(|i| (preferred + i) % n)
        .find(|&c| !imports_use(case, c, iface))
    else {
        return;
    };
    let v = if rng.chance(75) {
        WASI_VERSION
    } else {
        *rng.pick(OTHER_VERSIONS)
    };
    case.components[c]
        .wasi_exports
        .insert(format!("{iface}@{v}"));
    for other in (0..n).filter(|&o| o != c) {
        if rng.chance(70) {
            let wanted = if v.starts_with("0.2.") && rng.chance(30) {
                "0.2.3"
            } else {
                v
            };
            let comp = &mut case.components[other];
            comp.wasi.retain(|w| split_version(w).0 != iface);
            comp.wasi_exports.retain(|w| split_version(w).0 != iface);
            comp.wasi.insert(format!("{iface}@{wanted}"));
        }
    }
    case.kinds.insert("exports-wasi");
}

/// Package texts of a forged scenario: (kind, packages forged at `v`).
const SCENARIOS: [(&str, &[&str]); 6] = [
    // 1. The environment through a clock grant.
    ("forged-use", &["cli", "clocks"]),
    // 2. The preopens through a monotonic-clock grant.
    ("forged-use", &["filesystem", "clocks"]),
    // 3. The environment through `wasi:http/types`.
    ("forged-use", &["cli", "http"]),
    // 4. `stdout` over streams at another version (plus `io` at that version).
    ("forged-version", &["cli"]),
    // 5. `wasi:io/streams` with extra functions, under a genuine-looking `stdout`.
    ("forged-functions", &["io", "cli"]),
    // 6. `wall-clock` using `filesystem/types`: a cycle with the real
    //    `filesystem/types -> wall-clock` of another component.
    ("forged-cycle", &["filesystem", "clocks"]),
];

fn package(name: String, body: &str) -> ExtraPackage {
    ExtraPackage {
        text: format!("package {name};\n\n{body}"),
        name,
    }
}

/// Component `c` declares its own WASI packages (see [`SCENARIOS`]) and
/// imports the forged interface; usually it is granted that interface (the
/// attack needs a grant), and the allow-list permits it.
fn forge(rng: &mut Rng, case: &mut Case, preferred: usize) {
    let scenario = rng.below(SCENARIOS.len());
    let (kind, forged) = SCENARIOS[scenario];
    let v = if rng.chance(50) {
        WASI_VERSION
    } else {
        *rng.pick(&["0.2.0", "0.2.3", "0.2.6"])
    };
    // Scenario 4: the version of the streams that `stdout` uses.
    let r = match *rng.pick(&["0.3.0-rc-2025-09-16", "0.3.0", "0.2.0"]) {
        r if r == v => "0.2.3",
        r => r,
    };
    // A world cannot hold two semver-compatible versions of one interface that
    // differ (wit-component merges them): the forging component imports no
    // vendored package on the track that its forged ones replace, and its pool
    // interfaces `use` none (they name the vendored 0.2.12).
    let mut on_track: BTreeSet<String> = forged.iter().map(|p| p.to_string()).collect();
    if scenario == 3 && same_track(r, WASI_VERSION) {
        on_track.insert("io".into());
    }
    let shadowed = with_dependents(&on_track);
    let n = case.components.len();
    let Some(c) = (0..n).map(|i| (preferred + i) % n).find(|&c| {
        case.components[c].packages.is_empty() && shadowed.is_disjoint(&pool_needs(case, c))
    }) else {
        return;
    };
    let mut packages = Vec::new();
    let primary;
    match scenario {
        0 => {
            packages.push(package(
                format!("wasi:cli@{v}"),
                "interface environment {\n  record datetime { seconds: u64, nanoseconds: u32 }\n  \
                 get-environment: func() -> list<tuple<string, string>>;\n  \
                 get-arguments: func() -> list<string>;\n}\n",
            ));
            packages.push(package(
                format!("wasi:clocks@{v}"),
                &format!(
                    "interface wall-clock {{\n  use wasi:cli/environment@{v}.{{datetime}};\n  \
                     now: func() -> datetime;\n  resolution: func() -> datetime;\n}}\n"
                ),
            ));
            primary = "wasi:clocks/wall-clock";
            if rng.chance(30) {
                case.components[c]
                    .extra_imports
                    .insert(format!("wasi:cli/environment@{v}"));
            }
        }
        1 => {
            packages.push(package(
                format!("wasi:filesystem@{v}"),
                "interface preopens {\n  type instant = u64;\n  \
                 get-directories: func() -> list<tuple<u32, string>>;\n}\n",
            ));
            packages.push(package(
                format!("wasi:clocks@{v}"),
                &format!(
                    "interface monotonic-clock {{\n  use wasi:filesystem/preopens@{v}.{{instant}};\n  \
                     type duration = u64;\n  now: func() -> instant;\n  \
                     resolution: func() -> duration;\n}}\n"
                ),
            ));
            primary = "wasi:clocks/monotonic-clock";
        }
        2 => {
            packages.push(package(
                format!("wasi:cli@{v}"),
                "interface environment {\n  variant method { get, post, other(string) }\n  \
                 get-environment: func() -> list<tuple<string, string>>;\n}\n",
            ));
            packages.push(package(
                format!("wasi:http@{v}"),
                &format!(
                    "interface types {{\n  use wasi:cli/environment@{v}.{{method}};\n  \
                     resource fields {{\n    constructor();\n    \
                     get: func(name: string) -> list<list<u8>>;\n  }}\n  \
                     resource outgoing-request {{\n    constructor(headers: fields);\n    \
                     set-method: func(method: method) -> result;\n  }}\n}}\n"
                ),
            ));
            primary = "wasi:http/types";
        }
        3 => {
            let extra = if rng.chance(50) {
                "  get-environment: func() -> list<tuple<string, string>>;\n"
            } else {
                ""
            };
            packages.push(package(
                format!("wasi:io@{r}"),
                &format!(
                    "interface streams {{\n  resource output-stream {{\n    \
                     blocking-write-and-flush: func(contents: list<u8>) -> result;\n  }}\n{extra}}}\n"
                ),
            ));
            packages.push(package(
                format!("wasi:cli@{v}"),
                &format!(
                    "interface stdout {{\n  use wasi:io/streams@{r}.{{output-stream}};\n  \
                     get-stdout: func() -> output-stream;\n}}\n"
                ),
            ));
            primary = "wasi:cli/stdout";
        }
        4 => {
            let mut extra_free = *rng.pick(&[
                "",
                "  read-secret: func() -> string;\n",
                "  peek: func(s: borrow<output-stream>) -> string;\n",
                "  open-env: func(name: string) -> option<string>;\n",
            ]);
            let extra_method = *rng.pick(&["", "    secret: func() -> string;\n"]);
            let extra_poll = *rng.pick(&["", "  now: func() -> u64;\n"]);
            if extra_free.is_empty() && extra_method.is_empty() && extra_poll.is_empty() {
                extra_free = "  read-secret: func() -> string;\n";
            }
            packages.push(package(
                format!("wasi:io@{v}"),
                &format!(
                    "interface error {{\n  resource error {{\n    to-debug-string: func() -> string;\n  }}\n}}\n\n\
                     interface poll {{\n  resource pollable {{\n    ready: func() -> bool;\n    block: func();\n  }}\n  \
                     poll: func(in: list<borrow<pollable>>) -> list<u32>;\n{extra_poll}}}\n\n\
                     interface streams {{\n  use error.{{error}};\n  use poll.{{pollable}};\n  \
                     variant stream-error {{ last-operation-failed(error), closed }}\n  \
                     resource input-stream {{\n    read: func(len: u64) -> result<list<u8>, stream-error>;\n    \
                     subscribe: func() -> pollable;\n  }}\n  \
                     resource output-stream {{\n    check-write: func() -> result<u64, stream-error>;\n    \
                     write: func(contents: list<u8>) -> result<_, stream-error>;\n    \
                     blocking-write-and-flush: func(contents: list<u8>) -> result<_, stream-error>;\n    \
                     subscribe: func() -> pollable;\n{extra_method}  }}\n{extra_free}}}\n"
                ),
            ));
            packages.push(package(
                format!("wasi:cli@{v}"),
                &format!(
                    "interface stdout {{\n  use wasi:io/streams@{v}.{{output-stream}};\n  \
                     get-stdout: func() -> output-stream;\n}}\n\n\
                     interface stderr {{\n  use wasi:io/streams@{v}.{{output-stream}};\n  \
                     get-stderr: func() -> output-stream;\n}}\n"
                ),
            ));
            primary = "wasi:cli/stdout";
            for (p, iface) in [
                (30, "wasi:io/streams"),
                (20, "wasi:io/poll"),
                (20, "wasi:cli/stderr"),
            ] {
                if rng.chance(p) {
                    case.components[c]
                        .extra_imports
                        .insert(format!("{iface}@{v}"));
                }
            }
        }
        _ => {
            packages.push(package(
                format!("wasi:filesystem@{v}"),
                "interface types {\n  enum error-code { access, io }\n  resource descriptor {\n    \
                 stat: func() -> result<u64, error-code>;\n  }\n}\n",
            ));
            packages.push(package(
                format!("wasi:clocks@{v}"),
                &format!(
                    "interface wall-clock {{\n  use wasi:filesystem/types@{v}.{{error-code}};\n  \
                     record datetime {{ seconds: u64, nanoseconds: u32 }}\n  \
                     now: func() -> datetime;\n  check: func() -> result<_, error-code>;\n}}\n"
                ),
            ));
            primary = "wasi:clocks/wall-clock";
            // Another component imports the real `filesystem/types` (which uses `wall-clock`).
            let n = case.components.len();
            if n > 1 {
                let d = (c + 1 + rng.below(n - 1)) % n;
                case.components[d]
                    .wasi
                    .insert(format!("wasi:filesystem/types@{WASI_VERSION}"));
                if rng.chance(60) {
                    case.components[d].grant.push("wasi:filesystem/*".into());
                }
            }
        }
    }
    let comp = &mut case.components[c];
    comp.packages.extend(packages);
    comp.extra_imports.insert(format!("{primary}@{v}"));
    // The attack needs the forged interface granted, and allowed.
    if rng.chance(70) {
        comp.grant.push(primary.to_string());
    }
    if rng.chance(70) {
        let allow = match rng.below(4) {
            0 => "*".to_string(),
            1 => "wasi:*".to_string(),
            2 => primary.to_string(),
            _ => format!("{}/*", primary.split('/').next().unwrap_or("wasi:cli")),
        };
        case.allow.push(allow);
    }
    if scenario == 3 && rng.chance(50) {
        case.allow.push("wasi:cli/stdout@0.2".into());
    }
    case.kinds.insert(kind);
}

/// Components `a` and `b` declare `gen:cyc` with opposite `use`s between `p`
/// and `q`; `a` imports (or exports) `p`, `b` imports `q`.
fn use_cycle(rng: &mut Rng, case: &mut Case, a: usize, b: usize) {
    let name = "gen:cyc@0.1.0".to_string();
    let ca = &mut case.components[a];
    ca.packages.push(package(
        name.clone(),
        "interface p {\n  use q.{t};\n  f: func(x: t) -> t;\n}\n\n\
         interface q {\n  record t { a: u32 }\n  h: func() -> t;\n}\n",
    ));
    if rng.chance(40) {
        ca.extra_exports.insert("gen:cyc/p@0.1.0".into());
        ca.extra_imports.insert("gen:cyc/q@0.1.0".into());
    } else {
        ca.extra_imports.insert("gen:cyc/p@0.1.0".into());
    }
    let cb = &mut case.components[b];
    cb.packages.push(package(
        name,
        "interface q {\n  use p.{t};\n  g: func(x: t) -> string;\n}\n\n\
         interface p {\n  record t { b: string }\n}\n",
    ));
    cb.extra_imports.insert("gen:cyc/q@0.1.0".into());
    for c in [a, b] {
        if rng.chance(50) {
            case.components[c].deny.push("gen:cyc/*".into());
        } else if rng.chance(60) {
            case.components[c].grant.push("gen:cyc/*".into());
        }
    }
    if rng.chance(50) {
        case.allow.push("gen:cyc/*".into());
    }
    case.kinds.insert("use-cycle");
}

/// A second instance of one component file with another policy; every import
/// of what that component exports is wired to one of the two.
fn twin(rng: &mut Rng, case: &mut Case) {
    let n = case.components.len();
    let of = rng.below(n);
    let original = &case.components[of];
    let mut t = Twin {
        of,
        name: format!("{}-twin", original.name),
        ..Twin::default()
    };
    let named: BTreeSet<String> = case
        .components
        .iter()
        .flat_map(|c| c.imports.iter().chain(&c.exports))
        .map(|k| format!("gen:lib/{}", case.pool[*k].name))
        .collect();
    for _ in 0..rng.below(4) {
        let p = if !case.allow.is_empty() && rng.chance(85) {
            rng.pick(&case.allow).clone()
        } else {
            pick_pattern(rng, &named)
        };
        t.grant.push(p);
    }
    // Its policy differs from the original's.
    if t.grant == original.grant {
        t.grant.push(pick_pattern(rng, &named));
    }
    if rng.chance(40) {
        t.deny.push(pick_pattern(rng, &named));
    }
    if rng.chance(60) && !named.is_empty() {
        t.deny.push("gen:lib/*".to_string());
    }
    if original.deny.iter().any(|d| d == "gen:cyc/*") {
        t.deny.push("gen:cyc/*".to_string());
    }
    for (j, importer) in case.components.iter().enumerate() {
        if j == of {
            continue;
        }
        for k in importer.imports.intersection(&original.exports) {
            t.wires.push((j, *k, rng.chance(50)));
        }
    }
    case.twins.push(t);
    case.kinds.insert("twin");
}

fn gen_interface(
    rng: &mut Rng,
    side: &mut Rng,
    shares: Shares,
    k: usize,
    pool: &[GenInterface],
) -> GenInterface {
    let mut iface = GenInterface {
        name: format!("i{k}"),
        ..GenInterface::default()
    };
    let mut body = String::new();
    let mut named = Vec::new();
    let mut resources = Vec::new();
    let mut carried = BTreeMap::new();
    let mut chars = BTreeSet::new();
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
                    if other.char_types.contains(t) {
                        chars.insert(alias.clone());
                    }
                    if let Some(f) = other.type_features.get(t) {
                        carried.insert(alias.clone(), f.clone());
                    }
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
        side,
        shares,
        named,
        resources,
        carried,
        met: BTreeSet::new(),
        chars,
    };
    let n_types = g.rng.below(5);
    for t in 0..n_types {
        let name = format!("t{k}x{t}");
        iface.features.extend(g.take());
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
                let ty = g.data(2);
                if g.is_char(&ty) {
                    g.chars.insert(name.clone());
                    iface.char_types.insert(name.clone());
                }
                let _ = writeln!(body, "  type {name} = {ty};");
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
        let features = g.take();
        if !features.is_empty() {
            g.carried.insert(name.clone(), features.clone());
            iface.type_features.insert(name.clone(), features.clone());
            iface.features.extend(features);
        }
        g.named.push(name.clone());
        iface.types.push(name);
    }
    let n_funcs = g.rng.below(5);
    for f in 0..n_funcs {
        let _ = writeln!(body, "  fn{f}: {};", g.signature(4));
    }
    iface.features.extend(g.take());
    iface.body = body;
    iface
}

impl Case {
    /// The `gen:lib` package, as a nested WIT package.
    fn pool_wit(&self) -> String {
        self.pool_wit_of(&(0..self.pool.len()).collect())
    }

    /// The `gen:lib` package with only the interfaces `ks` (closed under `use`).
    fn pool_wit_of(&self, ks: &BTreeSet<usize>) -> String {
        let mut s = String::from("package gen:lib@0.1.0 {\n");
        for k in ks {
            let i = &self.pool[*k];
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
        for w in comp.wasi.iter().chain(&comp.extra_imports) {
            let _ = writeln!(s, "  import {w};");
        }
        let bare = if comp.async_bare {
            "async func"
        } else {
            "func"
        };
        for f in 0..comp.bare_funcs {
            let _ = writeln!(s, "  import bare{f}: {bare}(x: u32) -> string;");
        }
        for k in &comp.exports {
            let _ = writeln!(s, "  export gen:lib/{}@0.1.0;", self.pool[*k].name);
        }
        for w in comp.wasi_exports.iter().chain(&comp.extra_exports) {
            let _ = writeln!(s, "  export {w};");
        }
        if comp.exports.is_empty() {
            let run = if comp.async_run { "async func" } else { "func" };
            let _ = writeln!(s, "  export run: {run}() -> u32;");
        }
        s.push_str("}\n\n");
        // Only the pool interfaces it names: the others may `use` WASI
        // packages that this component forges.
        let used: BTreeSet<usize> = comp.imports.union(&comp.exports).copied().collect();
        s.push_str(&self.pool_wit_of(&used));
        s
    }

    /// Builds component `c` (see [`Case::component_packages`] for `real`).
    pub fn build(&self, c: usize, real: &[(String, String)]) -> Result<Vec<u8>> {
        build_component(
            &self.component_packages(c, real),
            &self.component_wit(c),
            self.components[c].abi,
        )
    }

    /// A readable dump of the case, for failure messages.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "seed {}\nkinds: {:?}\nallow: {:?}\n",
            self.seed, self.kinds, self.allow
        );
        for (i, c) in self.components.iter().enumerate() {
            let _ = writeln!(
                s,
                "component {}: grant {:?} deny {:?} abi {:?}",
                c.name, c.grant, c.deny, c.abi
            );
            for p in &c.packages {
                let _ = writeln!(s, "// its own package `{}`:\n{}", p.name, p.text);
            }
            let _ = writeln!(s, "{}", self.component_wit(i));
        }
        for t in &self.twins {
            let _ = writeln!(
                s,
                "instance {} (a second instance of {}): grant {:?} deny {:?} wires {:?}",
                t.name, self.components[t.of].name, t.grant, t.deny, t.wires
            );
        }
        s
    }

    /// The WIT texts to push, in order, before component `c`'s own
    /// ([`Case::component_wit`]): the vendored WASI packages at every version
    /// it names (`real`: file name -> text at 0.2.12), except those it forges
    /// and those that use a forged one, then its own packages.
    pub fn component_packages(&self, c: usize, real: &[(String, String)]) -> Vec<String> {
        let comp = &self.components[c];
        let mut versions: BTreeSet<&str> = BTreeSet::from([WASI_VERSION]);
        for w in comp.wasi.iter().chain(&comp.wasi_exports) {
            versions.insert(split_version(w).1);
        }
        let mut out = Vec::new();
        for v in versions {
            let excluded = with_dependents(&comp.forged_at(v));
            for (pkg, text) in real {
                if !excluded.contains(pkg.as_str()) {
                    out.push(at_version(text, v));
                }
            }
        }
        out.extend(comp.packages.iter().map(|p| p.text.clone()));
        out
    }
}

/// What one case came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The composer refused; its message.
    Refused(String),
    /// It wrote an output, within the policy.
    Composed {
        /// How many imports the output has.
        imports: usize,
        /// (instance, host import) pairs that the per-instance check saw.
        reached: usize,
        /// Of those, the ones permitted as type dependencies (functions checked).
        dependencies: usize,
        /// Denied functions (per the composer's audit) whose stub answers
        /// with a stream that has already ended (alone or in a tuple).
        ended_streams: usize,
        /// Denied functions whose stub answers with a future that resolves
        /// at once (alone or in a tuple).
        resolved_futures: usize,
    },
}

/// Builds, composes and checks one case in `dir`. `Err` is an invariant
/// violation (or a generator bug): a panic, an output that does not validate,
/// or an import outside the allow-list and its type dependencies.
pub fn check_case(case: &Case, dir: &Path, wasi_deps: &Path) -> Result<Outcome> {
    let spec = build_spec(case, dir, wasi_deps)?;
    check_spec(&spec, Some(&deps_of(case, wasi_deps)?))
}

/// Builds the components of `case` into `dir` and returns its spec.
pub fn build_spec(case: &Case, dir: &Path, wasi_deps: &Path) -> Result<CompositionSpec> {
    let real = real_wasi(wasi_deps)?;
    let mut paths = Vec::new();
    for (i, comp) in case.components.iter().enumerate() {
        let bytes = case
            .build(i, &real)
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
    // Second instances of a file: the same path, their own name and policy;
    // every import of what the file exports is wired to one of the two.
    for t in &case.twins {
        let original = &case.components[t.of].name;
        let mut inst: InstanceSpec = spec.instances[t.of].clone();
        inst.name = t.name.clone();
        inst.grant = patterns(&t.grant)?;
        inst.deny = patterns(&t.deny)?;
        inst.wire = Vec::new();
        for (importer, k, to_twin) in &t.wires {
            let pattern: Pattern = format!("gen:lib/{}", case.pool[*k].name)
                .parse()
                .map_err(|e| anyhow!("generator bug: {e}"))?;
            let target = if *to_twin { &t.name } else { original };
            spec.instances[*importer]
                .wire
                .push((pattern, target.clone()));
        }
        spec.instances.push(inst);
    }
    Ok(spec)
}

/// The vendored WASI packages of `wasi_deps` as (package, WIT text), in
/// dependency order.
pub fn real_wasi(wasi_deps: &Path) -> Result<Vec<(String, String)>> {
    REAL_PACKAGES
        .iter()
        .map(|(pkg, _)| {
            let path = wasi_deps.join(pkg).join(format!("{pkg}.wit"));
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading `{}`", path.display()))?;
            Ok((pkg.to_string(), text))
        })
        .collect()
}

/// Builds a component (wit-component's dummy module, with `abi` for async
/// functions) for the single world of `wit`, after pushing `packages` (whole
/// WIT files, in dependency order) into the resolve: like
/// `airlock_core::testkit::component_from_wit`, with any packages, forged WASI
/// ones included.
pub fn build_component(packages: &[String], wit: &str, abi: Abi) -> Result<Vec<u8>> {
    let mut resolve = wit_parser::Resolve::default();
    for (i, text) in packages.iter().enumerate() {
        resolve
            .push_str(format!("dep{i}.wit"), text)
            .with_context(|| format!("parsing `{}`", text.lines().next().unwrap_or_default()))?;
    }
    let pkg = resolve.push_str("case.wit", wit)?;
    let world = resolve.select_world(&[pkg], None)?;
    let mut module = wit_component::dummy_module(&resolve, world, abi.mangling());
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
    )?;
    // wit-component may panic on odd worlds (mixed versions); that is a
    // generator bug here, not a composer one.
    std::panic::catch_unwind(|| {
        wit_component::ComponentEncoder::default()
            .module(&module)?
            .validate(true)
            .encode()
    })
    .map_err(|_| anyhow!("wit-component panicked encoding the component"))?
}

/// Composes `spec` and checks the invariants. `deps` maps an unversioned
/// interface name to the unversioned interfaces it `use`s, transitively; when
/// `None`, no import is accepted as a type dependency. Per instance, the reach
/// read from the output ([`check_reach`]) is checked against WASI's WIT in
/// `wit/deps`.
pub fn check_spec(
    spec: &CompositionSpec,
    deps: Option<&BTreeMap<String, BTreeSet<String>>>,
) -> Result<Outcome> {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        airlock_core::pipeline::compose(spec)
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
    let behaviours: Vec<&String> = composed
        .report
        .plan
        .instances
        .iter()
        .flat_map(|i| &i.imports)
        .filter_map(|import| match &import.fate {
            airlock_core::plan::Fate::Denied { functions, .. } => Some(functions.values()),
            _ => None,
        })
        .flatten()
        .collect();
    let count = |what: &str| behaviours.iter().filter(|b| b.contains(what)).count();
    let (ended_streams, resolved_futures) = (count("ended stream"), count("future"));
    let bytes = composed.bytes;
    let types = wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
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
    // Finest: instance by instance.
    let declared = declared_functions(&types, &imports)?;
    let (reached, dependencies) = check_reach(spec, &bytes, &declared, wasi_model()?)?;
    Ok(Outcome::Composed {
        imports: imports.len(),
        reached,
        dependencies,
        ended_streams,
        resolved_futures,
    })
}

/// For each output import, the functions its instance type declares, read
/// from the validator's types (wasmparser alone).
pub fn declared_functions(
    types: &wasmparser::types::Types,
    imports: &[String],
) -> Result<BTreeMap<String, BTreeSet<String>>> {
    use wasmparser::component_types::ComponentEntityType;
    let mut out = BTreeMap::new();
    for name in imports {
        let item = types
            .component_item_for_import(name)
            .ok_or_else(|| anyhow!("the output's import `{name}` has no type"))?;
        let functions = match item.ty {
            ComponentEntityType::Instance(id) => types[id]
                .exports
                .iter()
                .filter(|(_, e)| matches!(e.ty, ComponentEntityType::Func(_)))
                .map(|(n, _)| n.clone())
                .collect(),
            ComponentEntityType::Func(_) => BTreeSet::from([name.clone()]),
            _ => BTreeSet::new(),
        };
        out.insert(name.clone(), functions);
    }
    Ok(out)
}

/// WASI as its own WIT (`wit/deps`) defines it, read here with wit-parser,
/// never through the composer: per unversioned interface, the interfaces it
/// uses (transitively), its functions, and the functions with authority of
/// their own ("ambient": free functions none of whose parameters holds a
/// resource handle, e.g. `wall-clock.now`).
#[derive(Debug)]
pub struct WasiModel {
    /// The vendored version's (major, minor): its semver track.
    track: (u64, u64),
    uses: BTreeMap<String, BTreeSet<String>>,
    functions: BTreeMap<String, BTreeSet<String>>,
    ambient: BTreeMap<String, BTreeSet<String>>,
}

impl WasiModel {
    /// Reads the WASI packages of `wasi_deps` (all features on: WASI's full surface).
    pub fn load(wasi_deps: &Path) -> Result<Self> {
        let mut resolve = wit_parser::Resolve {
            all_features: true,
            ..wit_parser::Resolve::default()
        };
        for (pkg, _) in REAL_PACKAGES {
            resolve.push_path(wasi_deps.join(pkg))?;
        }
        let version = resolve
            .packages
            .iter()
            .find_map(|(_, p)| p.name.version.clone())
            .ok_or_else(|| anyhow!("the vendored WASI packages carry no version"))?;
        let mut model = Self {
            track: (version.major, version.minor),
            uses: use_closure(&resolve),
            functions: BTreeMap::new(),
            ambient: BTreeMap::new(),
        };
        for (id, iface) in resolve.interfaces.iter() {
            let Some(name) = resolve.id_of(id) else {
                continue;
            };
            let name = split_version(&name).0.to_string();
            model
                .functions
                .insert(name.clone(), iface.functions.keys().cloned().collect());
            let ambient = iface
                .functions
                .values()
                .filter(|f| {
                    matches!(
                        f.kind,
                        wit_parser::FunctionKind::Freestanding
                            | wit_parser::FunctionKind::AsyncFreestanding
                    )
                })
                .filter(|f| {
                    !f.params
                        .iter()
                        .any(|p| holds_handle(&resolve, &p.ty, &mut BTreeSet::new()))
                })
                .map(|f| f.name.clone())
                .collect();
            model.ambient.insert(name, ambient);
        }
        Ok(model)
    }

    /// True for a WASI name on the vendored semver track (0.2.x, no pre-release).
    fn on_track(&self, name: &InterfaceName) -> bool {
        name.is_wasi()
            && name.version.as_ref().is_some_and(|v| {
                v.pre.is_empty()
                    && v.major == self.track.0
                    && (self.track.0 != 0 || v.minor == self.track.1)
            })
    }

    /// True when WASI's WIT says `root` uses types of `dep`, directly or not,
    /// both on the vendored track.
    pub fn depends(&self, root: &InterfaceName, dep: &InterfaceName) -> bool {
        self.on_track(root)
            && self.on_track(dep)
            && self
                .uses
                .get(&root.unversioned())
                .is_some_and(|d| d.contains(&dep.unversioned()))
    }

    /// The functions of `name` that act only on handles a caller already holds.
    pub fn handle_functions(&self, name: &InterfaceName) -> BTreeSet<String> {
        let u = name.unversioned();
        let all = self.functions.get(&u).cloned().unwrap_or_default();
        let ambient = self.ambient.get(&u).cloned().unwrap_or_default();
        all.difference(&ambient).cloned().collect()
    }
}

/// True when a value of type `ty` holds a resource handle.
fn holds_handle(
    resolve: &wit_parser::Resolve,
    ty: &wit_parser::Type,
    seen: &mut BTreeSet<wit_parser::TypeId>,
) -> bool {
    use wit_parser::TypeDefKind as K;
    let wit_parser::Type::Id(id) = ty else {
        return false;
    };
    if !seen.insert(*id) {
        return false;
    }
    match &resolve.types[*id].kind {
        K::Handle(_) | K::Resource => true,
        K::Record(r) => r.fields.iter().any(|f| holds_handle(resolve, &f.ty, seen)),
        K::Variant(v) => v
            .cases
            .iter()
            .filter_map(|c| c.ty.as_ref())
            .any(|t| holds_handle(resolve, t, seen)),
        K::Tuple(t) => t.types.iter().any(|t| holds_handle(resolve, t, seen)),
        K::Option(t) | K::List(t) | K::FixedLengthList(t, _) | K::Type(t) => {
            holds_handle(resolve, t, seen)
        }
        K::Result(r) => {
            r.ok.iter()
                .chain(&r.err)
                .any(|t| holds_handle(resolve, t, seen))
        }
        K::Map(k, v) => holds_handle(resolve, k, seen) || holds_handle(resolve, v, seen),
        K::Future(t) | K::Stream(t) => t.iter().any(|t| holds_handle(resolve, t, seen)),
        K::Flags(_) | K::Enum(_) | K::Unknown => false,
    }
}

/// The model of the workspace's `wit/deps`, read once.
pub fn wasi_model() -> Result<&'static WasiModel> {
    static MODEL: std::sync::OnceLock<Result<WasiModel, String>> = std::sync::OnceLock::new();
    MODEL
        .get_or_init(|| WasiModel::load(&wasi_deps()).map_err(|e| format!("{e:#}")))
        .as_ref()
        .map_err(|e| anyhow!("reading wit/deps: {e}"))
}

/// Instance by instance, from the output bytes (`airlock_core::reach`): every host
/// import that reaches an instance of `spec` (or its `NAME (denials)` and
/// `NAME (types only)` components, held to NAME's rules) must be granted to it (its grant and the
/// allow-list match the import, its deny does not), or be a genuine WASI type
/// dependency of such an import (per `model`, both on the vendored track) of
/// which only functions that act on handles arrive. `declared` gives each
/// output import's functions (what `Whole` access means). Every instance of
/// `spec` must appear in the reach. Returns how many (instance, host import)
/// pairs it checked, and how many of them were type dependencies.
pub fn check_reach(
    spec: &CompositionSpec,
    bytes: &[u8],
    declared: &BTreeMap<String, BTreeSet<String>>,
    model: &WasiModel,
) -> Result<(usize, usize)> {
    let reach = airlock_core::reach::host_reach(bytes).map_err(|e| {
        anyhow!("INVARIANT VIOLATION: the per-instance reader fails on the output: {e}")
    })?;
    let mut problems = Vec::new();
    let (mut pairs, mut dependencies) = (0, 0);
    for inst in &spec.instances {
        if !reach.instances.contains_key(&inst.name) {
            problems.push(format!(
                "instance `{}` is missing from the reach map (has {:?})",
                inst.name,
                reach.instances.keys().collect::<Vec<_>>()
            ));
        }
    }
    for (name, reached) in &reach.instances {
        let owner = name
            .strip_suffix(" (denials)")
            .or_else(|| name.strip_suffix(" (types only)"))
            .unwrap_or(name);
        let Some(inst) = spec.instances.iter().find(|i| i.name == owner) else {
            if !reached.is_empty() {
                problems.push(format!(
                    "`{name}`, no instance of the policy, reaches {:?}",
                    reached.keys().collect::<Vec<_>>()
                ));
            }
            continue;
        };
        let granted: Vec<InterfaceName> = declared
            .keys()
            .filter_map(|n| InterfaceName::parse(n))
            .filter(|n| inst.grant.matches(n) && spec.allow.matches(n) && !inst.deny.matches(n))
            .collect();
        for (import, access) in reached {
            pairs += 1;
            let functions: BTreeSet<String> = match access {
                Access::Whole => match declared.get(import) {
                    Some(f) => f.clone(),
                    None => {
                        problems.push(format!(
                            "`{name}` reaches `{import}` whole, which the output does not import"
                        ));
                        continue;
                    }
                },
                Access::Functions(f) => f.clone(),
            };
            let Some(parsed) = InterfaceName::parse(import) else {
                problems.push(format!(
                    "`{name}` reaches the host's `{import}` (not an interface)"
                ));
                continue;
            };
            if granted.contains(&parsed) {
                continue;
            }
            let roots: Vec<String> = granted
                .iter()
                .filter(|g| model.depends(g, &parsed))
                .map(ToString::to_string)
                .collect();
            if roots.is_empty() {
                problems.push(format!(
                    "`{name}` reaches `{import}` ({access:?}) from the host; its grant {:?} \
                     (with allow {:?}, deny {:?}) permits only {:?} and their WASI type \
                     dependencies",
                    pattern_texts(&inst.grant),
                    pattern_texts(&spec.allow),
                    pattern_texts(&inst.deny),
                    granted.iter().map(ToString::to_string).collect::<Vec<_>>()
                ));
                continue;
            }
            dependencies += 1;
            let permitted = model.handle_functions(&parsed);
            let authority: Vec<&String> = functions.difference(&permitted).collect();
            if !authority.is_empty() {
                problems.push(format!(
                    "`{name}` reaches `{import}` from the host as a type dependency of {roots:?}, \
                     with functions that WASI's WIT does not give it (ambient or unknown): \
                     {authority:?} ({access:?})"
                ));
            }
        }
    }
    if !problems.is_empty() {
        bail!(
            "INVARIANT VIOLATION (per instance):\n  - {}",
            problems.join("\n  - ")
        );
    }
    Ok((pairs, dependencies))
}

fn pattern_texts(set: &PatternSet) -> Vec<&str> {
    set.0.iter().map(Pattern::as_str).collect()
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
    let mut resolve = airlock_core::testkit::wasi_resolve(wasi_deps)?;
    resolve.push_str(
        "pool.wit",
        &format!("package gen:pool;\n{}", case.pool_wit()),
    )?;
    Ok(use_closure(&resolve))
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
