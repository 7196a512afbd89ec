//! DWARF decoding for Planescope, compiled to wasm32 with a plain C ABI (no wasm-bindgen).
//! The host copies section bytes into memory obtained from `ps_alloc`, calls `ps_build_index` with a
//! table of (section id, pointer, length) triples, and views the resulting arrays in wasm memory.
//! A panic aborts (traps); the host uses a fresh instance per module, so a trap never poisons another.

mod index;
mod out;

use std::alloc::{alloc, dealloc, Layout};

/// ABI version, checked by the TypeScript loader so a stale .wasm is never used silently.
#[no_mangle]
pub extern "C" fn ps_abi_version() -> u32 {
    3
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

static mut INDEX: Option<out::Out> = None;
static mut RESULT: Vec<u32> = Vec::new();
static mut MESSAGE: Vec<u8> = Vec::new();

/// Builds the module index from `count` (id, ptr, len) u32 triples at `table` (ids: index.rs
/// section_slot). Returns 0 when the index is built (its table at ps_result_ptr, see out.rs), or 1
/// with a UTF-8 error message at ps_result_ptr. The index lives until the instance is dropped.
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
    match index::build(sections) {
        Ok(out) => unsafe {
            RESULT = out.table();
            INDEX = Some(out);
            0
        },
        Err(message) => unsafe {
            MESSAGE = message.into_bytes();
            1
        },
    }
}

/// The result of the last `ps_build_index`: its table (status 0) or its error message (status 1).
#[no_mangle]
pub extern "C" fn ps_result_ptr() -> *const u8 {
    unsafe {
        if INDEX.is_some() {
            RESULT.as_ptr() as *const u8
        } else {
            MESSAGE.as_ptr()
        }
    }
}

/// Length in bytes of what `ps_result_ptr` points to.
#[no_mangle]
pub extern "C" fn ps_result_len() -> usize {
    unsafe {
        if INDEX.is_some() {
            RESULT.len() * 4
        } else {
            MESSAGE.len()
        }
    }
}
