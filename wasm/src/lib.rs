//! DWARF decoding for Planescope, compiled to wasm32 with a plain C ABI (no wasm-bindgen).
//! The host copies section bytes into memory obtained from `ps_alloc`, calls `ps_build_index` with a
//! table of (section id, pointer, length) triples, and reads the result buffer back with DataView.
//! A panic aborts (traps); the host uses a fresh instance per module, so a trap never poisons another.

mod index;
mod out;

use std::alloc::{alloc, dealloc, Layout};

/// ABI version, checked by the TypeScript loader so a stale .wasm is never used silently.
#[no_mangle]
pub extern "C" fn ps_abi_version() -> u32 {
    2
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

static mut RESULT: Vec<u8> = Vec::new();

/// Builds the module index from `count` (id, ptr, len) u32 triples at `table` (ids: index.rs
/// section_slot). Returns 0 with the index in the result buffer, or 1 with a UTF-8 error message there.
#[no_mangle]
pub extern "C" fn ps_build_index(table: *const u32, count: u32) -> u32 {
    let mut sections: [&'static [u8]; index::SECTION_COUNT] = [&[]; index::SECTION_COUNT];
    if !table.is_null() {
        let triples = unsafe { std::slice::from_raw_parts(table, count as usize * 3) };
        for t in triples.chunks_exact(3) {
            let (id, ptr, len) = (t[0] as usize, t[1] as *const u8, t[2] as usize);
            if id < index::SECTION_COUNT && !ptr.is_null() && len > 0 {
                sections[id] = unsafe { std::slice::from_raw_parts(ptr, len) };
            }
        }
    }
    let (status, bytes) = match index::build(sections) {
        Ok(out) => (0, out.serialize()),
        Err(message) => (1, message.into_bytes()),
    };
    unsafe {
        RESULT = bytes;
    }
    status
}

/// Pointer to the result buffer of the last `ps_build_index` call.
#[no_mangle]
pub extern "C" fn ps_result_ptr() -> *const u8 {
    unsafe { RESULT.as_ptr() }
}

/// Length of the result buffer of the last `ps_build_index` call.
#[no_mangle]
pub extern "C" fn ps_result_len() -> usize {
    unsafe { RESULT.len() }
}
