//! Driving wasmtime's async entry points from synchronous code.
//!
//! With component-model async, a call may suspend: an async-lifted export, a
//! guest-to-guest async call inside a composition, a WASI 0.3 host function
//! waiting for I/O. wasmtime's synchronous `call` cannot suspend, so the host
//! instantiates with `instantiate_async` and calls with `call_async`, and
//! [`block_on`] drives those futures to completion on the calling thread.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

/// Wakes the thread that is blocked in [`block_on`].
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` to completion on this thread, parking between polls.
///
/// wasmtime-wasi's ambient tokio runtime is entered meanwhile: the WASI 0.3
/// host functions create tokio I/O objects and tasks, and the WASI 0.2
/// synchronous bindings run their own `block_on` on the same runtime (allowed,
/// since this is not a tokio `block_on`). A call that can never finish (a
/// guest waiting on something no one will complete) is not a hang: wasmtime's
/// `call_async` traps when the store has nothing left to run.
pub fn block_on<F: Future>(future: F) -> F::Output {
    wasmtime_wasi::runtime::with_ambient_tokio_runtime(|| {
        let mut future = std::pin::pin!(future);
        let waker = Waker::from(Arc::new(Unpark(thread::current())));
        let mut cx = Context::from_waker(&waker);
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
            thread::park();
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_future_woken_from_another_thread_completes() {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let waited = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            tx.send(()).unwrap();
        });
        let out = block_on(async move {
            // A tokio timer: needs the ambient runtime, wakes from its driver.
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
            rx.recv().unwrap();
            7
        });
        assert_eq!(out, 7);
        waited.join().unwrap();
    }
}
