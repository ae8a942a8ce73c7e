//! `airlock run`'s flags: what host configuration they become, and the exit
//! code of a run (the host itself is tested in `airlock-host`).

use airlock::commands::run::{RunArgs, config, run};
use airlock_core::testkit::exit_command;
use airlock_host::Preopen;
use anyhow::Result;
use clap::Parser;
use std::path::Path;

fn exit_component() -> Result<Vec<u8>> {
    exit_command(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit/deps"))
}

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    run: RunArgs,
}

fn parse(args: &[&str]) -> RunArgs {
    Cli::try_parse_from(std::iter::once("airlock-run").chain(args.iter().copied()))
        .expect("valid arguments")
        .run
}

#[test]
fn flags_become_the_host_config() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let host_dir = dir.path().to_str().unwrap().to_string();
    let args = parse(&[
        "dir/app.wasm",
        "--env",
        "A=1",
        "--env",
        "PATH",
        "--dir-ro",
        &format!("{host_dir}::/data"),
        "--allow-net",
        "--",
        "x",
        "--y",
    ]);
    let c = config(&args)?;
    assert_eq!(c.args, ["app.wasm", "x", "--y"]);
    assert_eq!(c.env, [("A".to_string(), "1".to_string())]);
    assert_eq!(c.inherit_env, ["PATH"]);
    assert_eq!(
        c.dirs,
        [Preopen {
            host: host_dir.into(),
            guest: "/data".into(),
            read_only: true
        }]
    );
    assert!(c.allow_net && !c.allow_http);

    let bad = config(&parse(&["app.wasm", "--dir", "/no/such/dir"])).unwrap_err();
    assert!(
        bad.to_string()
            .contains("`/no/such/dir` is not a directory"),
        "{bad}"
    );
    Ok(())
}

#[test]
fn run_returns_the_exit_code() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let app = dir.path().join("exit.wasm");
    std::fs::write(&app, exit_component()?)?;
    let app = app.to_str().unwrap();
    // `--no-cache`: a test leaves nothing in the user's cache.
    assert_eq!(run(parse(&["--no-cache", app]))?, 0);
    assert_eq!(run(parse(&["--no-cache", app, "--", "fail"]))?, 1);

    let missing = run(parse(&["/no/such/app.wasm"])).unwrap_err();
    assert!(
        format!("{missing:#}").contains("reading `/no/such/app.wasm`"),
        "{missing:#}"
    );
    Ok(())
}
