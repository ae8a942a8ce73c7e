//! Whether an export can serve an import of the same plain name (a bare
//! function, or an inline interface): the same kind and the same types, read
//! from the two components' own WIT. A plain name has no package and no
//! version to vouch for it, so its type is what links it.
//!
//! Types are compared by their structure, as the component model does:
//! records, variants, enums and flags by their fields and cases, type
//! aliases by what they stand for, resources by where they are defined (the
//! interface's own name; `self.NAME` for one of the inline interface itself).
//! An inline interface's export may have more than its import asks for;
//! every function and named type the import declares must be there, alike.
//! wac-graph checks the same again when it links.

use wit_parser::{
    Function, Handle, InterfaceId, Resolve, Type, TypeDefKind, TypeId, TypeOwner, WorldItem,
};

/// Why the export `theirs` cannot serve the import `mine` (items of their
/// components' worlds), in words for a message; `None` when it can.
pub(super) fn mismatch(
    mine: (&Resolve, &WorldItem),
    theirs: (&Resolve, &WorldItem),
) -> Option<String> {
    let (a, b) = (mine.0, theirs.0);
    match (mine.1, theirs.1) {
        (WorldItem::Function(f), WorldItem::Function(g)) => {
            let (mine, theirs) = (function(a, None, f), function(b, None, g));
            (mine != theirs).then(|| format!("`{theirs}` there, `{mine}` here"))
        }
        (WorldItem::Interface { id: i, .. }, WorldItem::Interface { id: j, .. }) => {
            interface((a, *i), (b, *j))
        }
        (mine, theirs) => Some(format!("{} there, {} here", kind_of(theirs), kind_of(mine))),
    }
}

/// `a function`, `an interface` or `a type`.
fn kind_of(item: &WorldItem) -> &'static str {
    match item {
        WorldItem::Function(_) => "a function",
        WorldItem::Interface { .. } => "an interface",
        WorldItem::Type { .. } => "a type",
    }
}

/// The first function or named type of `mine` that `theirs` lacks or has
/// with another type.
fn interface(mine: (&Resolve, InterfaceId), theirs: (&Resolve, InterfaceId)) -> Option<String> {
    let ((a, i), (b, j)) = (mine, theirs);
    let (ours, other) = (&a.interfaces[i], &b.interfaces[j]);
    for (name, ty) in &ours.types {
        let mine = typedef(a, Some(i), *ty);
        match other.types.get(name) {
            None => return Some(format!("no type `{name}` there")),
            Some(t) if typedef(b, Some(j), *t) != mine => {
                let theirs = typedef(b, Some(j), *t);
                return Some(format!("type `{name}` is `{theirs}` there, `{mine}` here"));
            }
            Some(_) => {}
        }
    }
    for (name, f) in &ours.functions {
        let mine = function(a, Some(i), f);
        match other.functions.get(name) {
            None => return Some(format!("no function `{name}` there")),
            Some(g) if function(b, Some(j), g) != mine => {
                let theirs = function(b, Some(j), g);
                return Some(format!("`{name}` is `{theirs}` there, `{mine}` here"));
            }
            Some(_) => {}
        }
    }
    None
}

/// `func(a: u32) -> string`, `async func()`: a function's signature, its
/// types written out structurally. `own` is the inline interface being
/// compared, whose resources are `self.NAME`.
pub(super) fn function(resolve: &Resolve, own: Option<InterfaceId>, f: &Function) -> String {
    let params: Vec<String> = f
        .params
        .iter()
        .map(|p| format!("{}: {}", p.name, ty(resolve, own, &p.ty)))
        .collect();
    let prefix = if f.kind.is_async() { "async " } else { "" };
    let result = f
        .result
        .as_ref()
        .map(|t| format!(" -> {}", ty(resolve, own, t)))
        .unwrap_or_default();
    format!("{prefix}func({}){result}", params.join(", "))
}

/// A type written out structurally.
fn ty(resolve: &Resolve, own: Option<InterfaceId>, t: &Type) -> String {
    match t {
        Type::Id(id) => typedef(resolve, own, *id),
        Type::Bool => "bool".into(),
        Type::U8 => "u8".into(),
        Type::U16 => "u16".into(),
        Type::U32 => "u32".into(),
        Type::U64 => "u64".into(),
        Type::S8 => "s8".into(),
        Type::S16 => "s16".into(),
        Type::S32 => "s32".into(),
        Type::S64 => "s64".into(),
        Type::F32 => "f32".into(),
        Type::F64 => "f64".into(),
        Type::Char => "char".into(),
        Type::String => "string".into(),
        Type::ErrorContext => "error-context".into(),
    }
}

/// A type definition written out structurally (a resource by its place).
fn typedef(resolve: &Resolve, own: Option<InterfaceId>, id: TypeId) -> String {
    let t = |t: &Type| ty(resolve, own, t);
    let opt = |o: &Option<Type>| o.as_ref().map_or_else(|| "_".to_string(), t);
    let list = |items: Vec<String>| items.join(", ");
    match &resolve.types[id].kind {
        TypeDefKind::Type(inner) => t(inner),
        TypeDefKind::Record(r) => {
            let fields = r.fields.iter().map(|f| format!("{}: {}", f.name, t(&f.ty)));
            format!("record {{ {} }}", list(fields.collect()))
        }
        TypeDefKind::Variant(v) => {
            let cases = v.cases.iter().map(|c| match &c.ty {
                Some(ty) => format!("{}({})", c.name, t(ty)),
                None => c.name.clone(),
            });
            format!("variant {{ {} }}", list(cases.collect()))
        }
        TypeDefKind::Enum(e) => {
            let cases = e.cases.iter().map(|c| c.name.clone());
            format!("enum {{ {} }}", list(cases.collect()))
        }
        TypeDefKind::Flags(f) => {
            let flags = f.flags.iter().map(|c| c.name.clone());
            format!("flags {{ {} }}", list(flags.collect()))
        }
        TypeDefKind::Tuple(tuple) => {
            format!("tuple<{}>", list(tuple.types.iter().map(t).collect()))
        }
        TypeDefKind::Option(inner) => format!("option<{}>", t(inner)),
        TypeDefKind::Result(r) => format!("result<{}, {}>", opt(&r.ok), opt(&r.err)),
        TypeDefKind::List(inner) => format!("list<{}>", t(inner)),
        TypeDefKind::Map(k, v) => format!("map<{}, {}>", t(k), t(v)),
        TypeDefKind::FixedLengthList(inner, n) => format!("list<{}, {n}>", t(inner)),
        TypeDefKind::Future(inner) => format!("future<{}>", opt(inner)),
        TypeDefKind::Stream(inner) => format!("stream<{}>", opt(inner)),
        TypeDefKind::Handle(Handle::Own(r)) => format!("own<{}>", resource(resolve, own, *r)),
        TypeDefKind::Handle(Handle::Borrow(r)) => {
            format!("borrow<{}>", resource(resolve, own, *r))
        }
        TypeDefKind::Resource => format!("resource {}", resource(resolve, own, id)),
        TypeDefKind::Unknown => "unknown".into(),
    }
}

/// Where a resource is defined: `ns:pkg/iface@1.0.0.name`, `self.name` in
/// the inline interface `own`, `world.name` at the top level of a world.
fn resource(resolve: &Resolve, own: Option<InterfaceId>, mut id: TypeId) -> String {
    while let TypeDefKind::Type(Type::Id(next)) = resolve.types[id].kind {
        id = next;
    }
    let def = &resolve.types[id];
    let name = def.name.as_deref().unwrap_or_default();
    match def.owner {
        TypeOwner::Interface(i) if Some(i) == own => format!("self.{name}"),
        TypeOwner::Interface(i) => match resolve.id_of(i) {
            Some(iface) => format!("{iface}.{name}"),
            None => format!(
                "{}.{name}",
                resolve.interfaces[i].name.as_deref().unwrap_or("?")
            ),
        },
        TypeOwner::World(_) => format!("world.{name}"),
        TypeOwner::None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The import `name` of the world in `wit`, in its resolve.
    fn item(wit: &str, name: &str) -> (Resolve, WorldItem) {
        let mut resolve = Resolve::default();
        let pkg = resolve.push_str("t.wit", wit).unwrap();
        let world = resolve.select_world(&[pkg], None).unwrap();
        let w = &resolve.worlds[world];
        let item = w
            .imports
            .iter()
            .chain(&w.exports)
            .find(|(k, _)| resolve.name_world_key(k) == name)
            .map(|(_, i)| i.clone())
            .unwrap();
        (resolve, item)
    }

    fn check(import: &str, export: &str, name: &str) -> Option<String> {
        let (a, i) = item(&format!("package t:a; world a {{ import {import} }}"), name);
        let (b, e) = item(&format!("package t:b; world b {{ export {export} }}"), name);
        mismatch((&a, &i), (&b, &e))
    }

    #[test]
    fn functions_match_by_signature() {
        let f = "f: func(a: list<u32>) -> result<string, u8>;";
        assert_eq!(check(f, f, "f"), None);
        assert_eq!(
            check(f, "f: func(a: list<u64>) -> result<string, u8>;", "f").unwrap(),
            "`func(a: list<u64>) -> result<string, u8>` there, \
             `func(a: list<u32>) -> result<string, u8>` here"
        );
        assert!(check(f, "f: func(b: list<u32>) -> result<string, u8>;", "f").is_some());
        assert!(check("f: func();", "f: async func();", "f").is_some());
        assert_eq!(
            check("f: func();", "f: interface { f: func(); }", "f").unwrap(),
            "an interface there, a function here"
        );
    }

    #[test]
    fn inline_interfaces_match_by_members() {
        let import = "i: interface { record p { x: u32 } resource r; f: func(p: p) -> r; }";
        assert_eq!(check(import, import, "i"), None);
        // More is fine; types compare by structure, not name.
        let more = "i: interface { record p { x: u32 } resource r; \
                    type q = p; f: func(p: q) -> r; g: func(); }";
        assert_eq!(check(import, more, "i"), None);
        let other = "i: interface { record p { y: u32 } resource r; f: func(p: p) -> r; }";
        assert_eq!(
            check(import, other, "i").unwrap(),
            "type `p` is `record { y: u32 }` there, `record { x: u32 }` here"
        );
        let fewer = "i: interface { record p { x: u32 } resource r; }";
        assert_eq!(check(import, fewer, "i").unwrap(), "no function `f` there");
    }
}
