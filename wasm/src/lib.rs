//! DWARF decoding for Planescope, compiled to wasm32 with a plain C ABI (no wasm-bindgen).
//! The host copies section bytes into memory obtained from `ps_alloc`, calls `ps_build_index` with a
//! table of (section id, pointer, length) triples, and views the resulting arrays in wasm memory.
//! The address map (`ps_build_address_map`), the function pass (`ps_build_functions`) and the objdump
//! text (`ps_text_next`) run later, on demand.
//! A panic aborts (traps); the host uses a fresh instance per module, so a trap never poisons another.

mod index;
mod lineprog;
mod out;
mod text;

use std::alloc::{alloc, dealloc, Layout};

/// ABI version, checked by the TypeScript loader so a stale .wasm is never used silently.
#[no_mangle]
pub extern "C" fn ps_abi_version() -> u32 {
    6
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

static mut INDEX: Option<index::Builder<'static>> = None;
static mut GIMLI_ONLY: bool = false;
/// False while the host has filled only part of .debug_info and none of the range lists (the line
/// pass needs neither); the function pass waits for `ps_sections_complete`.
static mut COMPLETE: bool = true;
static mut RESULT: Vec<u32> = Vec::new();
static mut MESSAGE: Vec<u8> = Vec::new();
static mut TEXT: Vec<u8> = Vec::new();
static mut CURSOR: Option<text::Cursor> = None;

/// 1: decode every line program with gimli alone, not the fast interpreter (tests compare the two).
#[no_mangle]
pub extern "C" fn ps_set_line_decoder(gimli_only: u32) {
    unsafe { GIMLI_ONLY = gimli_only != 0 }
}

/// Builds the line index from `count` (id, ptr, len) u32 triples at `table` (ids: index.rs
/// section_slot). `info_prefix` != 0 says the host has copied only the first `info_prefix` bytes of
/// each unit of .debug_info (the line pass reads the unit headers and root DIEs alone) and not yet the
/// range lists; the rest must be copied, at the same addresses, before `ps_sections_complete`.
/// Returns 0 when it is built (its table at ps_result_ptr, see out.rs), 1 with a UTF-8 error message
/// at ps_result_ptr, or 2 when the prefix did not suffice (a root DIE runs past it, or any unit had a
/// problem): the host then copies all of .debug_info and calls again with 0. The sections must stay
/// in memory until the instance is dropped: the function pass reads them.
#[no_mangle]
pub extern "C" fn ps_build_index(table: *const u32, count: u32, info_prefix: u32) -> u32 {
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
    unsafe { COMPLETE = info_prefix == 0 };
    match index::build(sections, unsafe { GIMLI_ONLY }, info_prefix as usize) {
        Ok(builder) => unsafe {
            RESULT = builder.out().table();
            INDEX = Some(builder);
            0
        },
        Err(index::BuildError::NeedInfo) => 2,
        Err(index::BuildError::Message(message)) => unsafe {
            MESSAGE = message.into_bytes();
            1
        },
    }
}

/// The host has copied every section completely (after `ps_build_index` with a prefix).
#[no_mangle]
pub extern "C" fn ps_sections_complete() {
    unsafe { COMPLETE = true }
}

/// Adds the functions (subprograms, inlined subroutines, the address -> function map) to the index
/// built by ps_build_index. Returns 0 (the table at ps_result_ptr is updated: arrays may have moved),
/// 1 when there is no index, 2 when the sections are not complete yet.
#[no_mangle]
pub extern "C" fn ps_build_functions() -> u32 {
    unsafe {
        if !COMPLETE {
            return 2;
        }
        match INDEX.as_mut() {
            Some(builder) => {
                builder.functions();
                RESULT = builder.out().table();
                0
            }
            None => 1,
        }
    }
}

/// Adds the address -> row map to the index built by ps_build_index. Returns 0 (the table at
/// ps_result_ptr is updated: arrays may have moved), or 1 when there is no index.
#[no_mangle]
pub extern "C" fn ps_build_address_map() -> u32 {
    unsafe {
        match INDEX.as_mut() {
            Some(builder) => {
                builder.address_map();
                RESULT = builder.out().table();
                0
            }
            None => 1,
        }
    }
}

/// Renders the next chunk of `objdump --dwarf=decodedline` text for the rows (`restart` != 0 starts
/// from the first unit), about `limit` bytes (0: the default 1 MiB; one row may overshoot it).
/// Returns its length (0: done); the bytes are at ps_text_ptr until the next call.
#[no_mangle]
pub extern "C" fn ps_text_next(restart: u32, limit: u32) -> usize {
    unsafe {
        let builder = match INDEX.as_ref() {
            Some(b) => b,
            None => return 0,
        };
        if restart != 0 || CURSOR.is_none() {
            CURSOR = Some(text::Cursor::new());
            if TEXT.capacity() == 0 {
                TEXT.reserve(text::CHUNK + 4096);
            }
        }
        let limit = if limit == 0 { text::CHUNK } else { (limit as usize).min(text::CHUNK) };
        text::next_chunk(builder.out(), CURSOR.as_mut().unwrap(), &mut TEXT, limit);
        TEXT.len()
    }
}

/// Where the chunk of the last ps_text_next starts.
#[no_mangle]
pub extern "C" fn ps_text_ptr() -> *const u8 {
    unsafe { TEXT.as_ptr() }
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
