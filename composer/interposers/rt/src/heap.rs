//! The interposers' allocator: power-of-two size classes, each with a free
//! list, carved from one growing region. Plain code over a [`Grow`] source,
//! so it is tested natively over a buffer and runs on wasm over
//! `memory.grow`.
//!
//! Why not dlmalloc (what the library components use): it is about 6 KB of
//! code after optimization, a third of a small interposer, for coalescing
//! and trimming an interposer does not need. What an interposer allocates is
//! its settings (once), and per call small lists and strings, and the
//! buffers of the data it passes through (a read's bytes, a directory
//! entry). A block freed goes back to the list of its class and is the next
//! one given out in that class, so a stream copied in a loop reuses the same
//! blocks: memory grows to the peak of what is live at once, per class, and
//! no further (at most twice the live bytes by rounding, plus what other
//! classes hold free). Nothing is ever returned to the host (wasm memory
//! cannot shrink), and blocks of one class are never split or merged into
//! another.

use core::ptr;

/// The smallest block: 16 bytes (`1 << MIN_SHIFT`), also the alignment every
/// block has.
const MIN_SHIFT: u32 = 4;

/// Classes from 16 bytes to 2 GiB (`1 << 31`).
const CLASSES: usize = 28;

/// Where fresh memory comes from: a region that only ever grows at its end.
pub trait Grow {
    /// Grows the region so that it ends at or after `want` (an address);
    /// returns its new end, or `None` when there is no more memory.
    fn grow(&mut self, want: usize) -> Option<usize>;
}

/// The allocator's state: the head of each class's free list, and the part
/// of the region not yet given out (`next..end`).
pub struct Heap<G> {
    free: [*mut u8; CLASSES],
    next: usize,
    end: usize,
    grow: G,
}

/// The class of a block for `size` bytes aligned to `align`: the smallest
/// power of two that holds both (16 at least), as an index; `None` above 2 GiB.
fn class(size: usize, align: usize) -> Option<usize> {
    let need = size.max(align).max(1 << MIN_SHIFT);
    let shift = usize::BITS - (need - 1).leading_zeros();
    let c = (shift - MIN_SHIFT) as usize;
    (c < CLASSES).then_some(c)
}

impl<G: Grow> Heap<G> {
    /// A heap over the region `start..end` (`start` aligned to 16), which
    /// `grow` extends.
    pub const fn new(start: usize, end: usize, grow: G) -> Self {
        Heap {
            free: [ptr::null_mut(); CLASSES],
            next: start,
            end,
            grow,
        }
    }

    /// A block of at least `size` bytes aligned to `align` (a power of two),
    /// or null when memory is exhausted.
    ///
    /// # Safety
    /// Every block on a free list must be one this heap gave out and that
    /// was freed with [`Heap::free`] (so it is unused and writable).
    pub unsafe fn alloc(&mut self, size: usize, align: usize) -> *mut u8 {
        let Some(c) = class(size, align) else {
            return ptr::null_mut();
        };
        let head = self.free[c];
        // Blocks are 16-aligned; a larger alignment may need a fresh block.
        if !head.is_null() && head as usize & (align - 1) == 0 {
            // SAFETY: `head` is a freed block of this class (the contract
            // above): its first word holds the next free block.
            self.free[c] = unsafe { head.cast::<*mut u8>().read() };
            return head;
        }
        let block = 1usize << (c as u32 + MIN_SHIFT);
        let start = (self.next + (align.max(16) - 1)) & !(align.max(16) - 1);
        let Some(stop) = start.checked_add(block) else {
            return ptr::null_mut();
        };
        if stop > self.end {
            match self.grow.grow(stop) {
                Some(end) if end >= stop => self.end = end,
                _ => return ptr::null_mut(),
            }
        }
        self.next = stop;
        start as *mut u8
    }

    /// Gives back the block at `block`, allocated for `size` bytes aligned to
    /// `align`.
    ///
    /// # Safety
    /// `block` was returned by [`Heap::alloc`] (or [`Heap::realloc`]) with
    /// this `size` and `align`, and is not used afterwards.
    pub unsafe fn free(&mut self, block: *mut u8, size: usize, align: usize) {
        let Some(c) = class(size, align) else {
            return;
        };
        // SAFETY: the block is ours, unused from now on, at least 16 bytes
        // and 16-aligned: its first word can hold the list's link.
        unsafe { block.cast::<*mut u8>().write(self.free[c]) };
        self.free[c] = block;
    }

    /// The block at `block` (allocated for `size` bytes aligned to `align`)
    /// resized to `new_size` bytes: the same block when the class is the
    /// same, else a new one with the contents copied. Null when memory is
    /// exhausted (the old block is then left as it was).
    ///
    /// # Safety
    /// As for [`Heap::free`]; on success the old block is not used again.
    pub unsafe fn realloc(
        &mut self,
        block: *mut u8,
        size: usize,
        align: usize,
        new_size: usize,
    ) -> *mut u8 {
        if class(size, align) == class(new_size, align) {
            return block;
        }
        // SAFETY: the free lists hold freed blocks only (the contract).
        let new = unsafe { self.alloc(new_size, align) };
        if !new.is_null() {
            // SAFETY: both blocks are ours, distinct, and hold at least the
            // bytes copied; the old one is then freed as it was allocated.
            unsafe {
                ptr::copy_nonoverlapping(block, new, size.min(new_size));
                self.free(block, size, align);
            }
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    /// A region over a buffer, growable up to its length in 64 KiB steps.
    struct Buffer {
        base: usize,
        len: usize,
        grown: usize,
    }

    impl Grow for Buffer {
        fn grow(&mut self, want: usize) -> Option<usize> {
            let end = (want - self.base).div_ceil(65536) * 65536;
            (end <= self.len).then(|| {
                self.grown += 1;
                self.base + end
            })
        }
    }

    fn heap(bytes: &mut Vec<u128>) -> Heap<Buffer> {
        let base = bytes.as_mut_ptr() as usize;
        let len = bytes.len() * 16;
        Heap::new(
            base,
            base,
            Buffer {
                base,
                len,
                grown: 0,
            },
        )
    }

    #[test]
    fn classes_are_powers_of_two_from_16() {
        assert_eq!(class(1, 1), Some(0));
        assert_eq!(class(16, 8), Some(0));
        assert_eq!(class(17, 1), Some(1));
        assert_eq!(class(4096, 1), Some(8));
        assert_eq!(class(4097, 1), Some(9));
        assert_eq!(class(8, 64), Some(2));
        assert_eq!(class(1 << 31, 1), Some(27));
        assert_eq!(class((1 << 31) + 1, 1), None);
        assert_eq!(class(usize::MAX, 1), None);
    }

    #[test]
    fn blocks_are_aligned_distinct_and_writable() {
        let mut buf = alloc::vec![0u128; 1 << 16];
        let mut h = heap(&mut buf);
        let mut seen = Vec::new();
        for (size, align) in [(1, 1), (24, 8), (100, 4), (8, 64), (3000, 16), (5, 256)] {
            // SAFETY: nothing is freed in this test.
            let p = unsafe { h.alloc(size, align) };
            assert!(!p.is_null());
            assert_eq!(p as usize % align.max(16), 0, "{size} {align}");
            // SAFETY: a fresh block of at least `size` bytes.
            unsafe { ptr::write_bytes(p, 0xab, size) };
            seen.push((p as usize, size));
        }
        seen.sort();
        for w in seen.windows(2) {
            assert!(w[0].0 + w[0].1 <= w[1].0, "overlap: {w:?}");
        }
    }

    /// A stream copied through in a loop (allocate a buffer, free it, again)
    /// reuses one block per size class: memory stops growing.
    #[test]
    fn a_loop_of_allocations_does_not_grow_memory() {
        let mut buf = alloc::vec![0u128; 1 << 18];
        let mut h = heap(&mut buf);
        let sizes = [11, 4096, 65536, 300, 12, 4000];
        for round in 0..10_000 {
            let size = sizes[round % sizes.len()];
            // SAFETY: every block is freed with the size it was allocated with.
            unsafe {
                let a = h.alloc(size, 1);
                let b = h.alloc(16, 8);
                assert!(!a.is_null() && !b.is_null());
                let a = h.realloc(a, size, 1, size * 2);
                assert!(!a.is_null());
                h.free(b, 16, 8);
                h.free(a, size * 2, 1);
            }
        }
        let used = h.next - buf.as_ptr() as usize;
        assert!(used < 400 * 1024, "{used} bytes for a few live blocks");
        assert!(h.grow.grown <= 8, "grew {} times", h.grow.grown);
    }

    #[test]
    fn realloc_keeps_the_contents_and_the_block_within_a_class() {
        let mut buf = alloc::vec![0u128; 1 << 12];
        let mut h = heap(&mut buf);
        // SAFETY: blocks are used within their sizes and freed once.
        unsafe {
            let p = h.alloc(20, 1);
            for i in 0..20 {
                p.add(i).write(i as u8);
            }
            assert_eq!(h.realloc(p, 20, 1, 32), p);
            let q = h.realloc(p, 20, 1, 33);
            assert_ne!(q, p);
            for i in 0..20 {
                assert_eq!(q.add(i).read(), i as u8);
            }
            // The old block is free again, and the next of its class.
            assert_eq!(h.alloc(32, 1), p);
        }
    }

    #[test]
    fn exhaustion_is_null_not_a_wild_pointer() {
        // 128 KiB: room for one block of 2^17 bytes.
        let mut buf = alloc::vec![0u128; 8192];
        let mut h = heap(&mut buf);
        // SAFETY: the one block is freed with its size and not used after.
        unsafe {
            let big = h.alloc(100_000, 1);
            assert!(!big.is_null());
            assert!(h.alloc(16, 1).is_null());
            assert!(h.alloc(usize::MAX / 2, 1).is_null());
            h.free(big, 100_000, 1);
            assert_eq!(h.alloc(70_000, 8), big);
        }
    }
}
