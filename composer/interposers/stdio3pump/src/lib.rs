//! The async half of the stdio interposer for WASI 0.3.0
//! (`airlock:interpose/stdio3-pump`): the sync half (`stdio3`) exports the
//! library's `read-via-stream` and `write-via-stream`, which are not `async
//! func` and so cannot keep a stream going after they return; it calls this
//! component, whose functions are `async func`: each returns at once (so the
//! sync caller never waits) and keeps serving its stream from a detached
//! future until the stream ends.
//!
//! - `discard(data)`: reads `data` to its end, drops the bytes, then the
//!   future says `ok`.
//! - `fixed(text)`: a stream of exactly `text`, then its end; then the
//!   future says `ok`.
//!
//! `no_std` with `interpose-rt`, so it imports nothing of WASI.

#![cfg_attr(target_family = "wasm", no_std)]

extern crate alloc;

use interpose_rt as _;

/// How many bytes one read of a discarded stream takes at most.
pub const DISCARD_CHUNK: usize = 16 * 1024;

#[cfg(target_family = "wasm")]
mod bindings {
    wit_bindgen::generate!({
        path: [
            "../../../wit/deps-0.3/clocks",
            "../../../wit/deps-0.3/filesystem",
            "../../../wit/deps-0.3/sockets",
            "../../../wit/deps-0.3/random",
            "../../../wit/deps-0.3/cli",
            "../../../wit/deps-0.3/http",
            "../../../wit/interpose-p3",
        ],
        world: "airlock:interpose/stdio3pump",
        generate_all,
    });

    use super::DISCARD_CHUNK;
    use alloc::boxed::Box;
    use alloc::string::String;
    use alloc::sync::Arc;
    use alloc::task::Wake;
    use alloc::vec::Vec;
    use core::cell::RefCell;
    use core::future::Future;
    use core::pin::Pin;
    use core::task::{Context, Poll, Waker};
    use exports::airlock::interpose::stdio3_pump::Guest;
    use wasi::cli::types::ErrorCode;
    use wit_bindgen::{FutureReader, StreamReader, StreamResult};

    struct Component;

    /// A future that runs on past the export's return, woken by the
    /// component-model events it waits for (what wit-bindgen's `spawn`
    /// does, without the `async-spawn` feature, which cargo would unify
    /// into the other async components built beside this one; wit-bindgen
    /// resolves a dropped `FutureWriter` the same way). The export's task
    /// lives while the future waits for a stream or future.
    struct Detached(RefCell<Option<Pin<Box<dyn Future<Output = ()>>>>>);

    // SAFETY: a component instance runs one thread; `Wake` wants these for
    // `Waker::from`.
    unsafe impl Send for Detached {}
    // SAFETY: as for `Send`: one thread, so no shared access across threads.
    unsafe impl Sync for Detached {}

    impl Wake for Detached {
        fn wake(self: Arc<Self>) {
            let waker = Waker::from(self.clone());
            let mut cx = Context::from_waker(&waker);
            // A wake while polling (re-entrant) is dropped: the poll that is
            // running sees the readiness itself.
            let Ok(mut slot) = self.0.try_borrow_mut() else {
                return;
            };
            if let Some(future) = slot.as_mut()
                && let Poll::Ready(()) = future.as_mut().poll(&mut cx)
            {
                *slot = None;
            }
        }
    }

    /// Runs `future` from now on, past the current export's return.
    fn detach(future: impl Future<Output = ()> + 'static) {
        Arc::new(Detached(RefCell::new(Some(Box::pin(future))))).wake();
    }

    impl Guest for Component {
        async fn discard(mut data: StreamReader<u8>) -> FutureReader<Result<(), ErrorCode>> {
            let (done, result) = wit_future::new::<Result<(), ErrorCode>>(|| Ok(()));
            detach(async move {
                let mut buf = Vec::with_capacity(DISCARD_CHUNK);
                loop {
                    let (status, back) = data.read(buf).await;
                    buf = back;
                    buf.clear();
                    if !matches!(status, StreamResult::Complete(_)) {
                        break;
                    }
                }
                let _ = done.write(Ok(())).await;
            });
            result
        }

        async fn fixed(text: String) -> (StreamReader<u8>, FutureReader<Result<(), ErrorCode>>) {
            let (mut tx, data) = wit_stream::new::<u8>();
            let (done, result) = wit_future::new::<Result<(), ErrorCode>>(|| Ok(()));
            detach(async move {
                // A reader that drops its end early: the rest is not needed
                // (and `read-via-stream` says that is success).
                let _ = tx.write_all(text.into_bytes()).await;
                drop(tx);
                let _ = done.write(Ok(())).await;
            });
            (data, result)
        }
    }

    export!(Component);
}
