//! The interposers airlock embeds (composer/interposers/KIND.wasm) are
//! prebuilt and checked in, so that building airlock needs no wasm toolchain.
//! This test keeps them honest: each must equal a fresh build of its crate
//! (`just build-components` builds them; `just interposers` refreshes the copies).

use airlock_tests::workspace;

#[test]
fn interposers_are_fresh() {
    let dir = workspace().join("composer/interposers");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let Some(kind) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".wasm"))
        else {
            continue;
        };
        let fresh = workspace().join(format!(
            "target/wasm32-wasip2/component/interpose_{kind}.wasm"
        ));
        let fresh = std::fs::read(&fresh).unwrap_or_else(|e| {
            panic!(
                "`{}`: {e}; run `just build-components` first",
                fresh.display()
            )
        });
        assert!(
            std::fs::read(&path).unwrap() == fresh,
            "`{}` is stale: run `just interposers` and commit the result",
            path.display()
        );
        checked += 1;
    }
    assert!(
        checked >= 2,
        "found only {checked} interposers in `{}`",
        dir.display()
    );
}
