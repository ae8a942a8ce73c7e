//! Function bodies validated beside the parse: while the validator reads a
//! component's structure on one thread, the bodies of the modules it has
//! finished are checked on the others. Bodies are most of the work and
//! independent of each other; the structure is sequential.
//!
//! The queue is bounded: a queued body holds the validator's view of every
//! type defined before its module (an `Arc` of wasmparser's type list), and
//! an output with thousands of nested modules must not keep thousands of
//! those alive at once (see `composer/benches/patches/FINDINGS.md`). When it
//! is full, the parsing thread validates the batch itself.
//!
//! Batches are large (a batch of 16 took ~30 µs, about what waking a thread
//! takes, and the parsing thread ended up validating 80% of them itself);
//! measured on the example app's output, 128 bodies a batch and a queue of
//! 4 per helper: the other core takes 85% of the bodies.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Mutex, PoisonError};
use std::thread::Scope;
use wasmparser::{FuncToValidate, FuncValidatorAllocations, FunctionBody, ValidatorResources};

/// One function to validate, as the validator hands it over.
pub type Body<'a> = (FuncToValidate<ValidatorResources>, FunctionBody<'a>);

/// Bodies per batch: enough to amortize waking a thread, few enough to
/// spread a large module's bodies over the cores.
const BATCH: usize = 128;

/// Batches queued per helper thread before the parsing thread helps.
const QUEUED: usize = 4;

/// A batch and its place in function order.
type Batch<'a> = (usize, Vec<Body<'a>>);

/// Validates the bodies given to [`submit`](Self::submit) on the other
/// cores; [`finish`](Self::finish) helps with the rest and says whether all
/// were valid.
pub struct BodyPool<'q, 'a> {
    sender: Option<SyncSender<Batch<'a>>>,
    queue: &'q Queue<'a>,
    next: usize,
}

/// What the pool's threads share: the batches to take and the first error.
pub struct Queue<'a> {
    batches: Mutex<Option<Receiver<Batch<'a>>>>,
    /// The error of the earliest failing batch: (its place, the message).
    first_error: Mutex<Option<(usize, String)>>,
}

impl Default for Queue<'_> {
    fn default() -> Self {
        Queue {
            batches: Mutex::new(None),
            first_error: Mutex::new(None),
        }
    }
}

impl<'a> Queue<'a> {
    /// Takes batches until the queue is empty and closed.
    fn work(&self) {
        loop {
            let batch = {
                let guard = self.batches.lock().unwrap_or_else(PoisonError::into_inner);
                match guard.as_ref().map(Receiver::recv) {
                    Some(Ok(batch)) => batch,
                    _ => return,
                }
            };
            self.validate(batch);
        }
    }

    fn validate(&self, (place, bodies): Batch<'a>) {
        if let Err(message) = validate_batch(bodies) {
            let mut first = self
                .first_error
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if first.as_ref().is_none_or(|(p, _)| place < *p) {
                *first = Some((place, message));
            }
        }
    }
}

impl<'q, 'a> BodyPool<'q, 'a> {
    /// Starts a thread per core but one (this thread parses) in `scope`.
    pub fn start<'scope>(scope: &'scope Scope<'scope, '_>, queue: &'q Queue<'a>) -> Self
    where
        'q: 'scope,
        'a: 'scope,
    {
        let helpers = crate::parallel::cores().saturating_sub(1);
        let (sender, receiver) = sync_channel(QUEUED * helpers.max(1));
        *queue.batches.lock().unwrap_or_else(PoisonError::into_inner) = Some(receiver);
        for _ in 0..helpers {
            scope.spawn(move || queue.work());
        }
        BodyPool {
            sender: (helpers > 0).then_some(sender),
            queue,
            next: 0,
        }
    }

    /// Queues one module's bodies, in batches; validates a batch here when
    /// the queue is full (or there is no other core).
    pub fn submit(&mut self, mut bodies: Vec<Body<'a>>) {
        while !bodies.is_empty() {
            let rest = bodies.split_off(BATCH.min(bodies.len()));
            let batch = (self.next, std::mem::replace(&mut bodies, rest));
            self.next += 1;
            let unsent = match &self.sender {
                Some(sender) => match sender.try_send(batch) {
                    Ok(()) => None,
                    Err(TrySendError::Full(batch) | TrySendError::Disconnected(batch)) => {
                        Some(batch)
                    }
                },
                None => Some(batch),
            };
            if let Some(batch) = unsent {
                self.queue.validate(batch);
            }
        }
    }

    /// Closes the queue and validates what is left alongside the other
    /// threads. They may still be on their last batch: the verdict is read
    /// ([`Queue::verdict`]) once the scope has joined them.
    pub fn finish(mut self) {
        self.close();
        self.queue.work();
    }

    fn close(&mut self) {
        self.sender = None;
    }
}

impl Drop for BodyPool<'_, '_> {
    /// An early return (a structural error) closes the queue too, so that
    /// the other threads end.
    fn drop(&mut self) {
        self.close();
    }
}

impl Queue<'_> {
    /// The error of the earliest bad body, once every thread is done.
    pub fn verdict(&self) -> Result<(), String> {
        match self
            .first_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            Some((_, message)) => Err(message),
            None => Ok(()),
        }
    }
}

/// Validates bodies in order; the first error. A panic in the validator is
/// an error of this input, not of the composer.
fn validate_batch(bodies: Vec<Body<'_>>) -> Result<(), String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut allocs = FuncValidatorAllocations::default();
        for (func, body) in bodies {
            let mut validator = func.into_validator(allocs);
            validator.validate(&body).map_err(|e| e.to_string())?;
            allocs = validator.into_allocations();
        }
        Ok(())
    }))
    .unwrap_or_else(|_| Err("the validator panicked on this input".into()))
}
