//! Independent jobs on every core: reading the inputs, renaming their
//! imports, synthesizing the denial components. A composition is a few
//! milliseconds of such jobs, so threads are scoped (nothing outlives the
//! call) and there is no pool to start.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How many threads to use: the cores this process may run on, asked once
/// (Linux answers by reading the cgroup files on every call).
pub fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// `items.iter().map(job).collect()`, the jobs spread over [`cores`]
/// threads (each takes the next job when it is done with one); the results
/// in the order of `items`. One job, or one core, runs on this thread.
pub fn map<T: Sync, R: Send>(items: &[T], job: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = cores().min(items.len());
    if workers <= 1 {
        return items.iter().map(job).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut mine = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else {
                return mine;
            };
            mine.push((i, job(item)));
        }
    };
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        // This thread works too: one thread fewer to start.
        let others: Vec<_> = (1..workers).map(|_| scope.spawn(work)).collect();
        let mut done = work();
        for other in others {
            // A job that panicked panics here, as it would have inline.
            done.extend(
                other
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p)),
            );
        }
        done
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_order_of_the_items() {
        let items: Vec<u64> = (0..1000).collect();
        // Uneven jobs, so that threads finish out of order.
        let squares = map(&items, |&i| {
            if i % 7 == 0 {
                std::thread::yield_now();
            }
            i * i
        });
        assert_eq!(squares, items.iter().map(|i| i * i).collect::<Vec<_>>());
    }

    #[test]
    fn no_items_no_results() {
        let none: Vec<u8> = map(&[] as &[u8], |&b| b);
        assert!(none.is_empty());
    }

    #[test]
    fn a_panicking_job_panics_the_caller() {
        let items = [1, 2, 3, 4];
        let result = std::panic::catch_unwind(|| {
            map(&items, |&i| {
                assert_ne!(i, 3, "job 3 fails");
                i
            })
        });
        assert!(result.is_err());
    }
}
