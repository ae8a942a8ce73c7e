//! The `airlock` command line. Everything but process plumbing lives in the library.

fn main() {
    airlock::set_audit_width(audit_width());
    let code = airlock::main(
        std::env::args_os(),
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    );
    std::process::exit(code);
}

/// The audit's width: `COLUMNS` if set, else the terminal's when stdout is one, else 80.
fn audit_width() -> usize {
    use std::io::IsTerminal;
    if let Some(columns) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return columns;
    }
    if std::io::stdout().is_terminal()
        && let Some((terminal_size::Width(w), _)) = terminal_size::terminal_size()
    {
        return usize::from(w);
    }
    airlock_core::report::DEFAULT_WIDTH
}
