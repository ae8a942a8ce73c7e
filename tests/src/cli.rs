//! Running the `airlock` command line in a child process, for tests that need
//! a process of their own: another working folder, environment variables, a
//! crash that must not take the test binary down, or the real stdout.
//!
//! A test file calls [`cli_child!`] once (it defines an ignored test that is
//! the child's entry point) and then [`run`] / [`Cli`] as often as it likes.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The environment variable that carries the child's arguments.
pub const ARGS: &str = "AIRLOCK_TESTS_CLI_ARGS";
/// Printed by the child before the CLI runs: what follows is the CLI's output.
pub const MARK: &str = "\u{1e}airlock output follows\n";

/// Defines the ignored test `cli_child`, the entry point of [`run`]'s child.
#[macro_export]
macro_rules! cli_child {
    () => {
        #[test]
        #[ignore = "run by the other tests of this file in a child process"]
        fn cli_child() {
            $crate::cli::child_main();
        }
    };
}

/// The child's body: runs the CLI with the arguments in [`ARGS`], exits with its code.
pub fn child_main() {
    use std::io::Write;
    let Some(joined) = std::env::var_os(ARGS) else {
        return;
    };
    let joined = joined.into_string().expect("UTF-8 arguments");
    let args = std::iter::once("airlock").chain(joined.split('\u{1f}').filter(|a| !a.is_empty()));
    let args: Vec<OsString> = args.map(OsString::from).collect();
    let _ = std::io::stdout().write_all(MARK.as_bytes());
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().write_all(MARK.as_bytes());
    let code = airlock::main(args, &mut std::io::stdout(), &mut std::io::stderr());
    let _ = std::io::stdout().flush();
    std::process::exit(code);
}

/// What one `airlock` command did.
#[derive(Debug)]
pub struct Outcome {
    /// The exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    /// What it printed on stdout.
    pub stdout: String,
    /// What it printed on stderr.
    pub stderr: String,
}

/// A command line to run in a child process.
#[derive(Debug, Default)]
pub struct Cli {
    args: Vec<String>,
    dir: Option<PathBuf>,
    env: Vec<(String, OsString)>,
    remove: Vec<String>,
}

impl Cli {
    /// `airlock ARGS`.
    pub fn new<S: AsRef<str>>(args: &[S]) -> Self {
        Self {
            args: args.iter().map(|a| a.as_ref().to_string()).collect(),
            ..Self::default()
        }
    }

    /// Runs in `dir` instead of the test's working folder.
    pub fn current_dir(mut self, dir: &Path) -> Self {
        self.dir = Some(dir.to_path_buf());
        self
    }

    /// Sets an environment variable for the child.
    pub fn env(mut self, key: &str, value: impl Into<OsString>) -> Self {
        self.env.push((key.to_string(), value.into()));
        self
    }

    /// Removes an environment variable for the child.
    pub fn env_remove(mut self, key: &str) -> Self {
        self.remove.push(key.to_string());
        self
    }

    /// Runs it (the test file must have called [`cli_child!`]). Unless the
    /// test says otherwise, `AIRLOCK_CACHE_DIR` is a folder of this run's
    /// own: a test never writes into the user's cache.
    pub fn run(self) -> Outcome {
        let cache = tempfile::tempdir().expect("a temporary folder");
        let mut child = Command::new(std::env::current_exe().expect("the test binary"));
        child
            .args([
                "cli_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(ARGS, self.args.join("\u{1f}"))
            .env("AIRLOCK_CACHE_DIR", cache.path())
            .stdin(Stdio::null());
        if let Some(dir) = &self.dir {
            child.current_dir(dir);
        }
        for key in &self.remove {
            child.env_remove(key);
        }
        for (key, value) in &self.env {
            child.env(key, value);
        }
        let out = child.output().expect("the test binary runs");
        let after_mark = |bytes: &[u8]| {
            let text = String::from_utf8_lossy(bytes).into_owned();
            match text.split_once(MARK) {
                Some((_, rest)) => rest.to_string(),
                None => panic!("the child did not run the CLI: {text}"),
            }
        };
        Outcome {
            code: out.status.code(),
            stdout: after_mark(&out.stdout),
            stderr: after_mark(&out.stderr),
        }
    }
}

/// Runs `airlock ARGS` in a child process.
pub fn run<S: AsRef<str>>(args: &[S]) -> Outcome {
    Cli::new(args).run()
}
