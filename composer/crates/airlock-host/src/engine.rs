//! The one [`Engine`] per process: compiling components is the slow part, and
//! an engine is cheap to clone and share.

use std::num::NonZeroUsize;
use std::sync::OnceLock;
use wasmtime::{Config, Engine, Strategy};

/// Frames kept in a trap's wasm backtrace: enough to see from a denial stub up to `run`.
const BACKTRACE_FRAMES: NonZeroUsize = NonZeroUsize::new(64).unwrap();

/// The shared engine: cranelift, the component model with component-model
/// async (async functions, streams, futures; WASI 0.3), wasm backtraces on (so
/// a trap names the functions it went through, e.g. a named denial stub).
pub fn engine() -> Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let mut config = Config::new();
            config
                .strategy(Strategy::Cranelift)
                .wasm_component_model(true)
                .wasm_component_model_async(true)
                .wasm_backtrace_max_frames(Some(BACKTRACE_FRAMES));
            Engine::new(&config).expect("the host's static wasmtime configuration is valid")
        })
        .clone()
}
