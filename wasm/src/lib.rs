//! DWARF decoding for Planescope, compiled to wasm32 with a plain C ABI (no wasm-bindgen).
//! The host copies section bytes into memory obtained from `ps_alloc` and reads results back
//! with DataView. This file holds the ABI basics; the DWARF readers live in their own modules.

use std::alloc::{alloc, dealloc, Layout};

/// ABI version, checked by the TypeScript loader so a stale .wasm is never used silently.
#[no_mangle]
pub extern "C" fn ps_abi_version() -> u32 {
    1
}

/// Allocates `size` bytes (8-aligned) in wasm memory for the host to fill.
#[no_mangle]
pub extern "C" fn ps_alloc(size: usize) -> *mut u8 {
    if size == 0 {
        return std::ptr::null_mut();
    }
    unsafe { alloc(Layout::from_size_align_unchecked(size, 8)) }
}

/// Frees memory returned by `ps_alloc` (the host passes back the same size).
#[no_mangle]
pub extern "C" fn ps_free(ptr: *mut u8, size: usize) {
    if !ptr.is_null() && size != 0 {
        unsafe { dealloc(ptr, Layout::from_size_align_unchecked(size, 8)) }
    }
}
