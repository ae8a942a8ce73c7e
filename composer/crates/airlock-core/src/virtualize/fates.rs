//! Deciding what each denied function does (its fate), from its WIT signature
//! and, for WASI, a short table of exceptions. Pure: no side effects.
//!
//! WASI rules (package namespace `wasi`), on the function's result type:
//! - `result<T, E>`: `err` with the case of `E` named like a denial (see
//!   [`DENIAL_CASES`]), else `ok(handle)` when `E` is absent and `T` is a
//!   handle of a resource the stub defines (a take-once accessor such as
//!   `outgoing-request.body`, whose error says nothing), else the first `err`
//!   case without payload, else the first whose payload the stub can make.
//! - `option<T>`: `none`. `list<T>`: the empty list.
//! - `stream<T>`: a stream that has already ended. `future<T>`: a future that
//!   resolves at once with the denial of `T` (by these same rules), which
//!   must be plain data (it is written from static memory). A tuple or
//!   record holding streams or futures (`tuple<stream<u8>, future<result<_,
//!   error-code>>>`): each part by these rules, the rest inert.
//! - `own<R>` of a resource the stub defines: a fresh handle (rep 0); its
//!   methods deny in turn.
//! - no result: nothing happens. Handle-free data (clocks, seeds): zero.
//! - exceptions, which trap: `wasi:cli/exit` (`exit`, `exit-with-code`):
//!   continuing after a denied exit would be wrong; `wasi:random/random`
//!   `get-random-u64`: a fake value would be silent (the WIT asks
//!   deterministic environments to omit the interface instead).
//! - anything else (e.g. `own<R>` of a resource the stub imports): trap.
//!
//! User rules (any other namespace, denied explicitly): `result` gives `err`
//! as above, and so does a `future` of a `result` (alone, or beside ended
//! streams in a tuple); everything else traps, since there is no way to say
//! "denied".
//!
//! Async functions (`async func`) get the same fates as sync ones; the stub
//! hands the value to `task.return` at once instead of returning it.

use super::values::{Value, Values, kind, unalias_id};
use airlock_slice_settings::TrapReason;
use std::fmt;
use wit_parser::{Function, InterfaceId, Resolve, Type, TypeDefKind, TypeId, TypeOwner};

/// Error-case names that mean "denied", in order of preference.
pub const DENIAL_CASES: [&str; 7] = [
    "access-denied",
    "HTTP-request-denied",
    "access",
    "not-permitted",
    "forbidden",
    "permission-denied",
    "denied",
];

/// Which rules decide the fates of an interface's functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rules {
    /// Graceful denials wherever the WIT allows (namespace `wasi`).
    Wasi,
    /// `err` for functions returning `result`, trap otherwise.
    User,
}

impl Rules {
    /// The rules for `iface`: [`Rules::Wasi`] for packages in the `wasi` namespace.
    pub fn of(resolve: &Resolve, iface: InterfaceId) -> Rules {
        let wasi = resolve.interfaces[iface]
            .package
            .is_some_and(|p| resolve.packages[p].name.namespace == "wasi");
        if wasi { Rules::Wasi } else { Rules::User }
    }
}

/// What a denied function does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Returns `err`; `case` names the case of the error type (payload zero:
    /// `0`, `""`, empty list...), `None` when the error type is not a variant
    /// or enum (or absent).
    ErrorCase { case: Option<String> },
    /// Returns `ok` with a fresh handle of `resource`, defined by the stub.
    OkNewHandle { resource: String },
    /// Returns an empty list.
    EmptyList,
    /// Returns `none`.
    NoneValue,
    /// Returns the all-zero value (`0`, a zero record, the first enum case).
    Zero,
    /// Returns a fresh handle of `resource`, defined by the stub.
    NewHandle { resource: String },
    /// Returns nothing and does nothing.
    NoOp,
    /// Returns a stream that has already ended (its writer is gone).
    EndedStream,
    /// Returns a future that resolves at once, with the value of `then`
    /// (`None`: a future without a value).
    Future { then: Option<Box<Fate>> },
    /// Returns a tuple or record whose parts hold streams or futures; each
    /// part's fate in order.
    Parts(Vec<Fate>),
    /// Traps (`unreachable`), with the function named in the backtrace.
    Trap { reason: TrapReason },
    /// A virtual value: returns the configured fixed value, described by `value`.
    Fixed { value: String },
    /// A virtual value: returns values of a generator seeded with `seed`
    /// (deterministic, NOT cryptographically secure).
    Seeded { seed: u64 },
}

impl fmt::Display for Fate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fate::ErrorCase { case: Some(case) } => write!(f, "err({case})"),
            Fate::ErrorCase { case: None } => f.write_str("err"),
            Fate::OkNewHandle { resource } => write!(f, "ok(new `{resource}`)"),
            Fate::EmptyList => f.write_str("empty list"),
            Fate::NoneValue => f.write_str("none"),
            Fate::Zero => f.write_str("zero"),
            Fate::NewHandle { resource } => write!(f, "new `{resource}`"),
            Fate::NoOp => f.write_str("no-op"),
            Fate::EndedStream => f.write_str("ended stream"),
            Fate::Future { then: None } => f.write_str("resolved future"),
            Fate::Future { then: Some(then) } => write!(f, "future of {then}"),
            Fate::Parts(parts) => {
                let parts: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
                write!(f, "({})", parts.join(", "))
            }
            Fate::Trap { reason } => write!(f, "trap ({reason})"),
            Fate::Fixed { value } => write!(f, "fixed {value}"),
            Fate::Seeded { seed } => write!(f, "seeded ({seed}, not secure)"),
        }
    }
}

/// The fate of one function, e.g. `[method]tcp-socket.start-connect`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionFate {
    /// The function's WIT name.
    pub function: String,
    /// What it does.
    pub fate: Fate,
}

/// Decides the fate of every function of `iface`, in WIT order. Resources of
/// the interfaces in `stubbed` (the whole deny set) are defined by the stub,
/// so it can make handles to them.
pub fn plan_interface(
    resolve: &Resolve,
    iface: InterfaceId,
    rules: Rules,
    stubbed: &[InterfaceId],
) -> Vec<FunctionFate> {
    let is_stubbed = |r: TypeId| defined_by(resolve, r, stubbed);
    let values = Values {
        resolve,
        stubbed: &is_stubbed,
    };
    resolve.interfaces[iface]
        .functions
        .values()
        .map(|func| FunctionFate {
            function: func.name.clone(),
            fate: decide(&values, Some(iface), func, rules).0,
        })
        .collect()
}

/// Whether resource `r` is defined by one of the interfaces in `stubbed`.
pub(crate) fn defined_by(resolve: &Resolve, r: TypeId, stubbed: &[InterfaceId]) -> bool {
    match resolve.types[unalias_id(resolve, r)].owner {
        TypeOwner::Interface(i) => stubbed.contains(&i),
        _ => false,
    }
}

/// The fate of `func` (of `iface`; `None` for a bare function) and, unless
/// it traps or returns nothing, its result value.
/// Async functions get the same fates as sync ones: the value is what the
/// stub hands to `task.return` instead of returning it.
pub(crate) fn decide(
    values: &Values<'_>,
    iface: Option<InterfaceId>,
    func: &Function,
    rules: Rules,
) -> (Fate, Option<Value>) {
    let resolve = values.resolve;
    if rules == Rules::Wasi
        && let Some(iface) = iface
        && let Some(reason) = wasi_exception(resolve, iface, &func.name)
    {
        return (trap(reason), None);
    }
    let Some(ty) = func.result else {
        return match rules {
            Rules::Wasi => (Fate::NoOp, None),
            Rules::User => (trap(TrapReason::NoResult), None),
        };
    };
    match denial(values, ty, rules) {
        Ok((fate, value)) => (fate, Some(value)),
        Err(reason) => (trap(reason), None),
    }
}

/// The denial value of type `ty` and its fate, or why there is none.
fn denial(values: &Values<'_>, ty: Type, rules: Rules) -> Result<(Fate, Value), TrapReason> {
    let resolve = values.resolve;
    let kind = kind(resolve, ty);
    if let Some(TypeDefKind::Result(r)) = kind {
        if let Some((case, payload)) = error_value(values, r.err.as_ref(), &DENIAL_CASES) {
            return Ok((Fate::ErrorCase { case }, Value::case(1, payload)));
        }
        if rules == Rules::Wasi
            && r.err.is_none()
            && let Some(resource) = r.ok.and_then(|t| values.own_stubbed(&t))
        {
            let fate = Fate::OkNewHandle {
                resource: resource_name(resolve, resource),
            };
            return Ok((fate, Value::case(0, Value::NewHandle(resource))));
        }
        if let Some((case, payload)) = error_value(values, r.err.as_ref(), &[]) {
            return Ok((Fate::ErrorCase { case }, Value::case(1, payload)));
        }
        return Err(TrapReason::NoErrorValue);
    }
    if let Some((id, TypeDefKind::Future(payload))) = values.transmit(&ty) {
        return future(values, id, *payload, rules);
    }
    if values.contains_transmit(&ty) && !matches!(kind, Some(TypeDefKind::Stream(_))) {
        return parts(values, ty, rules);
    }
    if rules == Rules::User {
        return Err(TrapReason::NoErrorCase);
    }
    match kind {
        Some(TypeDefKind::Option(_)) => Ok((Fate::NoneValue, Value::Zero)),
        Some(TypeDefKind::List(_)) => Ok((Fate::EmptyList, Value::Zero)),
        Some(TypeDefKind::Stream(_)) => {
            let (id, _) = values.transmit(&ty).expect("a stream");
            Ok((Fate::EndedStream, Value::EndedStream(id)))
        }
        _ if values.zero_is_valid(&ty) => Ok((Fate::Zero, Value::Zero)),
        _ => match values.own_stubbed(&ty) {
            Some(resource) => {
                let fate = Fate::NewHandle {
                    resource: resource_name(resolve, resource),
                };
                Ok((fate, Value::NewHandle(resource)))
            }
            None => Err(TrapReason::NeedsHost),
        },
    }
}

/// A future (of type `id`) that resolves at once with the denial of its
/// payload type. The payload is written from static memory, so it must be
/// plain data.
fn future(
    values: &Values<'_>,
    id: TypeId,
    payload: Option<Type>,
    rules: Rules,
) -> Result<(Fate, Value), TrapReason> {
    let (then, value) = match payload {
        None if rules == Rules::User => return Err(TrapReason::NoErrorCase),
        None => (None, Value::Zero),
        Some(t) => {
            let (fate, value) = denial(values, t, rules)?;
            if !value.is_plain() {
                return Err(TrapReason::FutureNotPlain);
            }
            (Some(Box::new(fate)), value)
        }
    };
    let value = Value::Future {
        ty: id,
        payload: Box::new(value),
    };
    Ok((Fate::Future { then }, value))
}

/// A tuple or record holding streams or futures, part by part: streams end,
/// futures resolve with their denial, the rest is inert. Under user rules
/// one part must be a future that reports the denial.
fn parts(values: &Values<'_>, ty: Type, rules: Rules) -> Result<(Fate, Value), TrapReason> {
    let types: Vec<Type> = match kind(values.resolve, ty) {
        Some(TypeDefKind::Tuple(t)) => t.types.clone(),
        Some(TypeDefKind::Record(r)) => r.fields.iter().map(|f| f.ty).collect(),
        // Streams or futures inside options, lists, variants: no denial says
        // more than `none` or an empty list, which need no stream.
        Some(TypeDefKind::Option(_)) if rules == Rules::Wasi => {
            return Ok((Fate::NoneValue, Value::Zero));
        }
        Some(TypeDefKind::List(_)) if rules == Rules::Wasi => {
            return Ok((Fate::EmptyList, Value::Zero));
        }
        _ if rules == Rules::User => return Err(TrapReason::NoErrorCase),
        _ => return Err(TrapReason::NeedsHost),
    };
    let mut fates = Vec::new();
    let mut fields = Vec::new();
    let mut reports = false;
    for t in &types {
        let (fate, value) = if let Some((id, TypeDefKind::Stream(_))) = values.transmit(t) {
            (Fate::EndedStream, Value::EndedStream(id))
        } else if values.contains_transmit(t) {
            let (fate, value) = denial(values, *t, rules)?;
            reports |= matches!(fate, Fate::Future { .. } | Fate::Parts(_));
            (fate, value)
        } else {
            let value = values.inert(t).ok_or(TrapReason::NeedsHost)?;
            let fate = match &value {
                Value::NewHandle(r) => Fate::NewHandle {
                    resource: resource_name(values.resolve, *r),
                },
                _ => Fate::Zero,
            };
            (fate, value)
        };
        fates.push(fate);
        fields.push(value);
    }
    if rules == Rules::User && !reports {
        return Err(TrapReason::NoErrorCase);
    }
    Ok((Fate::Parts(fates), Value::Fields(fields)))
}

fn trap(reason: TrapReason) -> Fate {
    Fate::Trap { reason }
}

/// The documented WASI functions that trap although a value could be made.
fn wasi_exception(resolve: &Resolve, iface: InterfaceId, func: &str) -> Option<TrapReason> {
    let interface = &resolve.interfaces[iface];
    let package = &resolve.packages[interface.package?].name;
    match (package.name.as_str(), interface.name.as_deref()?, func) {
        ("cli", "exit", _) => Some(TrapReason::ExitCannotReturn),
        ("random", "random", "get-random-u64") => Some(TrapReason::FakeSecureRandom),
        _ => None,
    }
}

/// The `err` payload: the case of `err` named first in `preferred`, else the
/// first case without payload, else the first whose payload can be made.
/// Returns the case name (for variants and enums) and the payload value.
fn error_value(
    values: &Values<'_>,
    err: Option<&Type>,
    preferred: &[&str],
) -> Option<(Option<String>, Value)> {
    let Some(err) = err else {
        return preferred.is_empty().then_some((None, Value::Zero));
    };
    let cases: Vec<(&str, Option<Type>)> = match kind(values.resolve, *err) {
        Some(TypeDefKind::Variant(v)) => v.cases.iter().map(|c| (c.name.as_str(), c.ty)).collect(),
        Some(TypeDefKind::Enum(e)) => e.cases.iter().map(|c| (c.name.as_str(), None)).collect(),
        _ => {
            let payload = values.inert(err)?;
            return preferred.is_empty().then_some((None, payload));
        }
    };
    let payload = |ty: Option<Type>| ty.map_or(Some(Value::Zero), |t| values.inert(&t));
    let chosen = if preferred.is_empty() {
        let without_payload = cases.iter().position(|(_, ty)| ty.is_none());
        without_payload.or_else(|| cases.iter().position(|(_, ty)| payload(*ty).is_some()))
    } else {
        preferred.iter().find_map(|want| {
            cases
                .iter()
                .position(|(name, ty)| name == want && payload(*ty).is_some())
        })
    }?;
    let (name, ty) = cases[chosen];
    let value = Value::case(chosen as u32, payload(ty)?);
    Some((Some(name.to_string()), value))
}

fn resource_name(resolve: &Resolve, r: TypeId) -> String {
    resolve.types[r].name.clone().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const WIT: &str = "package demo:t;
interface other { resource thing; }
interface t {
    use other.{thing};
    resource r { constructor(); }
    enum e1 { a, b, not-permitted, access }
    variant v2 { with-payload(u32), no-payload }
    variant v3 { x(own<thing>), y(string) }
    variant v4 { x(own<thing>) }
    f1: func() -> result<u32, e1>;
    f2: func() -> result<u32, v2>;
    f3: func() -> result<u32, v3>;
    f4: func() -> result<u32, v4>;
    f5: func() -> result<u32, string>;
    f6: func() -> thing;
    f7: func() -> r;
    f8: func() -> result<r>;
    f9: func() -> tuple<u32, string>;
    f10: func() -> option<thing>;
    f11: func();
}";

    fn fates(rules: Rules) -> Vec<String> {
        fates_of(WIT, rules)
    }

    /// Each function's fate in interface `t` of `wit`, as the audit words it.
    fn fates_of(wit: &str, rules: Rules) -> Vec<String> {
        let mut resolve = Resolve::default();
        let pkg = resolve.push_str("t.wit", wit).unwrap();
        let t = resolve.packages[pkg].interfaces["t"];
        plan_interface(&resolve, t, rules, &[t])
            .into_iter()
            .map(|f| format!("{}: {}", f.function, f.fate))
            .collect()
    }

    #[test]
    fn wasi_rules() {
        let trap = "trap (its result needs the host)";
        let no_err = "trap (no error value without the host)";
        assert_eq!(
            fates(Rules::Wasi),
            [
                "[constructor]r: new `r`".to_string(),
                "f1: err(access)".into(), // preferred over `not-permitted`
                "f2: err(no-payload)".into(),
                "f3: err(y)".into(),
                format!("f4: {no_err}"),
                "f5: err".into(),
                format!("f6: {trap}"), // `thing` is imported, not defined by the stub
                "f7: new `r`".into(),
                "f8: ok(new `r`)".into(),
                "f9: zero".into(),
                "f10: none".into(),
                "f11: no-op".into(),
            ]
        );
    }

    /// Async functions, streams and futures (WASI 0.3 shapes and custom ones).
    const ASYNC_WIT: &str = "package demo:a;
interface other { resource thing; }
interface t {
    use other.{thing};
    resource r;
    enum error-code { io, access-denied }
    a1: async func(p: string) -> result<string, error-code>;
    a2: async func() -> u32;
    a3: async func();
    a4: async func() -> list<u8>;
    s1: func() -> stream<u8>;
    s2: func() -> tuple<stream<u8>, future<result<_, error-code>>>;
    s3: func(data: stream<u8>) -> future<result<_, error-code>>;
    s4: async func() -> result<stream<u8>, error-code>;
    f1: func() -> future;
    f2: async func() -> future<option<string>>;
    f3: func() -> future<r>;
    f4: func() -> tuple<r, future<result<_, error-code>>>;
    f5: func() -> tuple<thing, future<result<_, error-code>>>;
    f6: func() -> option<stream<u8>>;
    f7: func() -> future<future<u8>>;
}";

    fn async_fates(rules: Rules) -> Vec<String> {
        fates_of(ASYNC_WIT, rules)
    }

    #[test]
    fn async_functions_streams_and_futures_under_wasi_rules() {
        let err = "err(access-denied)";
        let plain = "trap (a denied future can only carry plain data)";
        assert_eq!(
            async_fates(Rules::Wasi),
            [
                format!("a1: {err}"),
                "a2: zero".into(),
                "a3: no-op".into(),
                "a4: empty list".into(),
                "s1: ended stream".into(),
                format!("s2: (ended stream, future of {err})"),
                format!("s3: future of {err}"),
                format!("s4: {err}"),
                "f1: resolved future".into(),
                "f2: future of none".into(),
                format!("f3: {plain}"),
                format!("f4: (new `r`, future of {err})"),
                "f5: trap (its result needs the host)".into(),
                "f6: none".into(),
                format!("f7: {plain}"),
            ]
        );
    }

    #[test]
    fn async_functions_under_user_rules_deny_through_error_cases() {
        let err = "err(access-denied)";
        let no_err = "trap (no error case to report the denial)";
        let fates = async_fates(Rules::User);
        assert_eq!(
            fates,
            [
                format!("a1: {err}"),
                format!("a2: {no_err}"),
                "a3: trap (no result to report the denial)".into(),
                format!("a4: {no_err}"),
                format!("s1: {no_err}"),
                format!("s2: (ended stream, future of {err})"),
                format!("s3: future of {err}"),
                format!("s4: {err}"),
                format!("f1: {no_err}"),
                format!("f2: {no_err}"),
                format!("f3: {no_err}"),
                format!("f4: (new `r`, future of {err})"),
                "f5: trap (its result needs the host)".into(),
                format!("f6: {no_err}"),
                format!("f7: {no_err}"),
            ]
        );
    }

    #[test]
    fn user_rules_only_deny_through_results() {
        let fates = fates(Rules::User);
        assert_eq!(fates[1], "f1: err(access)");
        assert_eq!(fates[8], "f8: err");
        for i in [0, 6, 7, 9, 10, 11] {
            assert!(fates[i].contains(": trap ("), "{}", fates[i]);
            assert!(fates[i].ends_with("to report the denial)"), "{}", fates[i]);
        }
    }
}
