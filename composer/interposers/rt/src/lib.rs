//! The runtime of the interposers on wasm (`composer/interposers/KIND`).
//!
//! Like `guest-rt` for the library components, it gives a `no_std` crate
//! what std would, without std's imports: a global allocator, a panic
//! handler that traps, `cabi_realloc` and the C memory functions (linked
//! from the target's wasi-libc archive; they import nothing). It differs in
//! the allocator: an interposer is embedded in every output that uses its
//! slice, so its size counts, and dlmalloc was about 6 KB of each. The
//! interposers use [`heap`], a size-class allocator of a few hundred bytes
//! whose memory stays bounded by what is live at once (see its
//! documentation). It lives in its own crate, not behind a feature of
//! `guest-rt`: one `cargo build` builds the libraries and the interposers
//! together, and features would be unified.
//!
//! On other targets (native unit tests) only [`once`] and the allocator's
//! plain code are compiled, and std is used.

#![no_std]

extern crate alloc;

pub mod heap;

/// The value in `slot`, made by `make` on first use and kept for the rest of
/// the instance (leaked, never freed): the interposers' settings, which are
/// fixed in the output, are parsed once this way.
pub fn once<T>(slot: &core::sync::atomic::AtomicPtr<T>, make: impl FnOnce() -> T) -> &'static T {
    use core::sync::atomic::Ordering;
    let cached = slot.load(Ordering::Acquire);
    if !cached.is_null() {
        // SAFETY: the slot only ever holds a leaked, never freed `Box<T>`.
        return unsafe { &*cached };
    }
    let leaked = alloc::boxed::Box::into_raw(alloc::boxed::Box::new(make()));
    slot.store(leaked, Ordering::Release);
    // SAFETY: just leaked; it lives for the rest of the instance.
    unsafe { &*leaked }
}

#[cfg(target_family = "wasm")]
mod wasm {
    use crate::heap::{Grow, Heap};
    use core::alloc::{GlobalAlloc, Layout};
    use core::arch::wasm32;
    use core::cell::UnsafeCell;

    // Only the archive members that are referenced get linked (`memcmp` and the
    // like), none of which call WASI.
    #[link(name = "c")]
    unsafe extern "C" {}

    unsafe extern "C" {
        /// Where the linker ends static data: the heap starts here.
        static __heap_base: u8;
    }

    const PAGE: usize = 65536;

    /// Linear memory 0, grown by whole pages.
    struct Memory;

    impl Grow for Memory {
        fn grow(&mut self, want: usize) -> Option<usize> {
            let have = wasm32::memory_size(0) * PAGE;
            let pages = want.saturating_sub(have).div_ceil(PAGE);
            (wasm32::memory_grow(0, pages) != usize::MAX).then(|| (have / PAGE + pages) * PAGE)
        }
    }

    /// The heap, set up on first use (from `__heap_base` to the end of the
    /// initial memory).
    struct Global(UnsafeCell<Option<Heap<Memory>>>);

    // SAFETY: a wasm32-wasip2 component instance runs one thread, and the
    // allocator calls nothing that could re-enter it.
    unsafe impl Sync for Global {}

    impl Global {
        #[allow(clippy::mut_from_ref)]
        fn heap(&self) -> &mut Heap<Memory> {
            // SAFETY: single-threaded and not re-entered (above): no other
            // reference to the heap exists while this one is used.
            let heap = unsafe { &mut *self.0.get() };
            heap.get_or_insert_with(|| {
                let start = (&raw const __heap_base as usize + 15) & !15;
                Heap::new(start, wasm32::memory_size(0) * PAGE, Memory)
            })
        }
    }

    #[global_allocator]
    static HEAP: Global = Global(UnsafeCell::new(None));

    // SAFETY: `Heap` hands out distinct blocks of at least the layout's size
    // and alignment, and takes back only what it handed out (Rust's
    // allocator contract: dealloc and realloc get the layout used to
    // allocate).
    unsafe impl GlobalAlloc for Global {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: the free lists hold only blocks freed through `dealloc`.
            unsafe { self.heap().alloc(layout.size(), layout.align()) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: `ptr` was allocated with `layout` (the caller's contract).
            unsafe { self.heap().free(ptr, layout.size(), layout.align()) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: as for `dealloc`.
            unsafe {
                self.heap()
                    .realloc(ptr, layout.size(), layout.align(), new_size)
            }
        }
    }

    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo) -> ! {
        wasm32::unreachable()
    }

    /// The canonical ABI's allocator, straight on the heap (as `guest-rt`'s
    /// is on the global allocator): the host places arguments with it.
    ///
    /// # Safety
    /// Only the component model runtime calls it: `old_ptr`, `old_len`,
    /// `align` describe an earlier allocation, or `old_len` is 0.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn cabi_realloc(
        old_ptr: *mut u8,
        old_len: usize,
        align: usize,
        new_len: usize,
    ) -> *mut u8 {
        if new_len == 0 {
            return align as *mut u8;
        }
        let heap = HEAP.heap();
        // SAFETY: the runtime passes a power-of-two `align` and, when
        // `old_len != 0`, a block this allocator gave out with that size and
        // alignment (the contract above).
        let ptr = unsafe {
            if old_len == 0 {
                heap.alloc(new_len, align)
            } else {
                heap.realloc(old_ptr, old_len, align, new_len)
            }
        };
        if ptr.is_null() {
            wasm32::unreachable();
        }
        ptr
    }
}

#[cfg(test)]
mod tests {
    use super::once;

    #[test]
    fn once_makes_the_value_on_first_use_only() {
        use core::sync::atomic::AtomicPtr;
        static SLOT: AtomicPtr<u32> = AtomicPtr::new(core::ptr::null_mut());
        let mut made = 0;
        assert_eq!(
            *once(&SLOT, || {
                made += 1;
                7
            }),
            7
        );
        assert_eq!(
            *once(&SLOT, || {
                made += 1;
                8
            }),
            7
        );
        assert_eq!(made, 1);
    }
}
