//! `interposer-shrink FILE...`: the last step of `just interposers`, after
//! `pack.mjs`. Rewrites each packed interposer component in place with its
//! internal names shortened (`airlock_core::virtualize::shrink_internal_names`,
//! as the composer does to its stubs): about a third of an interposer's bytes
//! are names that nothing outside it sees. The test `interposers_are_fresh`
//! runs the same function on a fresh pack and compares the bytes.

use std::process::ExitCode;

fn main() -> ExitCode {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: interposer-shrink FILE.wasm...");
        return ExitCode::from(2);
    }
    for file in &files {
        let shrunk = std::fs::read(file)
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                let shrunk = airlock_core::virtualize::shrink_internal_names(&bytes)?;
                Ok((bytes.len(), shrunk))
            })
            .and_then(|(before, shrunk)| {
                std::fs::write(file, &shrunk).map_err(|e| e.to_string())?;
                Ok((before, shrunk.len()))
            });
        match shrunk {
            Ok((before, after)) if before == after => {
                eprintln!("{file}: {before} bytes, kept (no name could be shortened safely)")
            }
            Ok((before, after)) => eprintln!("{file}: {before} -> {after} bytes"),
            Err(e) => {
                eprintln!("{file}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
