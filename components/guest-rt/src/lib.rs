//! The runtime of the `no_std` library components on wasm.
//!
//! std on `wasm32-wasip2` brings its panic, allocation-failure and stdio paths,
//! and with them 13 `wasi:cli`/`wasi:io` imports, even into a library that never
//! prints. The library components are `no_std` on wasm instead and link this
//! crate (`use guest_rt as _;`), so their imports are exactly what their WIT
//! world says. It provides:
//!
//! - a global allocator (dlmalloc, as std uses on `wasm32-unknown-unknown`);
//! - a panic handler that traps (`unreachable`), without printing;
//! - `cabi_realloc`, the canonical ABI's allocation export, which std provides
//!   on `wasm32-wasip2` and wit-bindgen therefore does not;
//! - the C memory functions core calls (`memcmp`, `memcpy`, ...), linked from
//!   the target's own wasi-libc archive; they import nothing.
//!
//! On other targets (native unit tests) it is empty and std is used.

#![no_std]

extern crate alloc;

/// `CamelCase` variant names from `Debug` as WIT-style kebab case, for the
/// libraries' human-readable details: `ErrorCode::AccessDenied` ->
/// `access-denied`, `DnsError(..)` -> `dns-error`.
pub fn kebab(debug: &str) -> alloc::string::String {
    let name = debug.split(['(', ' ', '{']).next().unwrap_or(debug);
    let name = name.rsplit("::").next().unwrap_or(name);
    let mut out = alloc::string::String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('-');
        }
        out.extend(c.to_lowercase());
    }
    out
}

#[cfg(target_family = "wasm")]
mod wasm {
    extern crate alloc;

    use alloc::alloc::{Layout, alloc, realloc};

    // Only the archive members that are referenced get linked (`memcmp` and the
    // like), none of which call WASI.
    #[link(name = "c")]
    unsafe extern "C" {}

    #[global_allocator]
    static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo) -> ! {
        core::arch::wasm32::unreachable()
    }

    /// The canonical ABI's allocator: called by the host to place arguments
    /// (strings, lists) in this component's memory.
    ///
    /// # Safety
    /// Called only by the component model runtime, with `old_ptr`, `old_len` and
    /// `align` describing an earlier allocation (or `old_len == 0`).
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
        // SAFETY: the runtime passes a power-of-two `align` and, when
        // `old_len != 0`, a block this allocator gave out with that size and
        // alignment (the contract above); `new_len` is not zero here.
        let ptr = unsafe {
            if old_len == 0 {
                alloc(Layout::from_size_align_unchecked(new_len, align))
            } else {
                realloc(
                    old_ptr,
                    Layout::from_size_align_unchecked(old_len, align),
                    new_len,
                )
            }
        };
        if ptr.is_null() {
            core::arch::wasm32::unreachable();
        }
        ptr
    }
}

#[cfg(test)]
mod tests {
    use super::kebab;

    #[test]
    fn kebab_case_of_debug_names() {
        assert_eq!(kebab("ErrorCode::AccessDenied"), "access-denied");
        assert_eq!(kebab("ErrorCode::HttpRequestDenied"), "http-request-denied");
        assert_eq!(kebab("StreamError::Closed"), "closed");
        assert_eq!(
            kebab("LastOperationFailed(Error { handle: 1 })"),
            "last-operation-failed"
        );
        assert_eq!(
            kebab("ErrorCode::DnsError(DnsErrorPayload { rcode: None })"),
            "dns-error"
        );
        assert_eq!(
            kebab("ErrorCode::InternalError(Some(\"a::b\"))"),
            "internal-error"
        );
        assert_eq!(kebab("ConnectionRefused"), "connection-refused");
    }
}
