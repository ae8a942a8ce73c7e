//! The interposers airlock embeds (composer/interposers/KIND.wasm) are
//! prebuilt and checked in, so that building airlock needs no wasm toolchain.
//! This test keeps them honest: each must equal a fresh build of its crate
//! packed as `just interposers` packs it (`composer/interposers/pack.mjs`:
//! Binaryen's `wasm-opt -Oz` on its core modules, custom sections dropped)
//! and then shrunk (`composer/interposers/shrink`: its internal names
//! shortened by `airlock_core::virtualize::shrink_internal_names`, called here
//! in-process on the packed bytes). Both run here again, byte for byte:
//! `just build-components` builds the crates, `just setup-js` installs the
//! pinned Binaryen, and `just interposers` refreshes the copies.

use airlock_tests::workspace;
use std::process::Command;

#[test]
fn interposers_are_fresh() {
    let dir = workspace().join("composer/interposers");
    let packed = tempfile::tempdir().unwrap();
    let mut kinds = Vec::new();
    let mut args = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let Some(kind) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".wasm"))
            .map(str::to_string)
        else {
            continue;
        };
        let fresh = workspace().join(format!(
            "target/wasm32-wasip2/component/interpose_{kind}.wasm"
        ));
        assert!(
            fresh.exists(),
            "`{}` is missing: run `just build-components` first",
            fresh.display()
        );
        args.push(fresh);
        args.push(packed.path().join(format!("{kind}.wasm")));
        kinds.push((kind, path));
    }
    assert!(
        kinds.len() >= 2,
        "found only {} interposers in `{}`",
        kinds.len(),
        dir.display()
    );
    let pack = dir.join("pack.mjs");
    let status = Command::new("node")
        .arg(&pack)
        .args(&args)
        .status()
        .unwrap_or_else(|e| {
            panic!(
                "running `node {}`: {e} (Node 20+ is needed)",
                pack.display()
            )
        });
    assert!(
        status.success(),
        "`node {}` failed ({status}); run `just setup-js` first",
        pack.display()
    );
    for (kind, path) in kinds {
        let bytes = std::fs::read(packed.path().join(format!("{kind}.wasm"))).unwrap();
        let fresh = airlock_core::virtualize::shrink_internal_names(&bytes)
            .unwrap_or_else(|e| panic!("the packed `{kind}` interposer does not validate: {e}"));
        assert!(
            std::fs::read(&path).unwrap() == fresh,
            "`{}` is stale: run `just interposers` and commit the result",
            path.display()
        );
    }
}
