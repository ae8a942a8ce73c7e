//! The `airlock` command line. Everything but process plumbing lives in the library.

fn main() {
    let code = airlock::cli::main(
        std::env::args_os(),
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    );
    std::process::exit(code);
}
