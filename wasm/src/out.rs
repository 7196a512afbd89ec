//! The index handed to the host. Each array stays where Rust built it; the host reads a table of
//! (pointer, byte length, count) and views the arrays in wasm memory in place (Float64Array/
//! Uint32Array): no serialisation, no per-row objects across the boundary. lkAddr and lkRow are empty
//! until ps_build_address_map, funcs, segAddr and segFunc until the function pass
//! (ps_build_functions); either may move every array: the host re-reads the table after them.
//! Table (u32s): magic, format, then for each array below ptr, bytes, count; then warning ptr, len.
//!   strings  UTF-8 bytes
//!   files    nFiles x u32[6]: absolute path off/len, table name off/len, objdump switch header off/len
//!   cus      nCus   x u32[6]: first row, objdump CU header off/len, DWARF version, file 1's id,
//!            file 0's id (DWARF 5) or NONE
//!   rowAddr  nRows  x f64 (link-time address, exact below 2^53)
//!   rowData  nRows  x u32[4]: file, line, column, flags (1 is_stmt, 2 end_sequence,
//!            4 DWARF 5 file register never set in the sequence, bits 8.. objdump's view number,
//!            saturated)
//!   funcs    nFuncs x u32[6]: name off/len, parent (inline caller) or NONE, call file, call line, call column
//!   segAddr  nSegs  x f64; segFunc nSegs x u32: innermost function from this address on (NONE: none)
//!   lkAddr   nLk    x f64; lkRow   nLk   x u32: line row from this address on (NONE: outside sequences)
//!   rowDisc  nDisc  x u32[2]: (row, discriminator) of the rows whose discriminator is not 0, by row
//!            (most are 0: a column of its own would be 4 more bytes of fresh memory per row)
//! (see src/core/dwarf/wasmResult.ts for the reader)

pub const NONE: u32 = 0xffff_ffff;
pub const MAGIC: u32 = 0x5744_5350; // "PSDW"
pub const FORMAT: u32 = 4;
/// The view number of a row sits in the high bits of its flags.
pub const VIEW_SHIFT: u32 = 8;
pub const VIEW_MAX: u32 = 0x00ff_ffff;

pub struct Out {
    pub strings: Vec<u8>,
    pub files: Vec<[u32; 6]>,
    pub cus: Vec<[u32; 6]>,
    pub row_addr: Vec<f64>,
    pub row_data: Vec<[u32; 4]>,
    pub row_disc: Vec<[u32; 2]>,
    pub funcs: Vec<[u32; 6]>,
    pub seg_addr: Vec<f64>,
    pub seg_func: Vec<u32>,
    pub lk_addr: Vec<f64>,
    pub lk_row: Vec<u32>,
    pub warning: Option<String>,
}

fn entry<T>(v: &[T], per: usize) -> [u32; 3] {
    [v.as_ptr() as u32, (v.len() * std::mem::size_of::<T>()) as u32, (v.len() * per) as u32]
}

impl Out {
    pub fn new() -> Out {
        Out {
            strings: Vec::new(),
            files: Vec::new(),
            cus: Vec::new(),
            row_addr: Vec::new(),
            row_data: Vec::new(),
            row_disc: Vec::new(),
            funcs: Vec::new(),
            seg_addr: Vec::new(),
            seg_func: Vec::new(),
            lk_addr: Vec::new(),
            lk_row: Vec::new(),
            warning: None,
        }
    }

    /// Appends a string to the blob; returns (offset, length).
    pub fn string(&mut self, bytes: &[u8]) -> (u32, u32) {
        let off = self.strings.len() as u32;
        self.strings.extend_from_slice(bytes);
        (off, bytes.len() as u32)
    }

    /// The table the host reads (pointers are wasm32 addresses).
    pub fn table(&self) -> Vec<u32> {
        let mut t = vec![MAGIC, FORMAT];
        t.extend_from_slice(&entry(&self.strings, 1));
        t.extend_from_slice(&entry(&self.files, 6));
        t.extend_from_slice(&entry(&self.cus, 6));
        t.extend_from_slice(&entry(&self.row_addr, 1));
        t.extend_from_slice(&entry(&self.row_data, 4));
        t.extend_from_slice(&entry(&self.funcs, 6));
        t.extend_from_slice(&entry(&self.seg_addr, 1));
        t.extend_from_slice(&entry(&self.seg_func, 1));
        t.extend_from_slice(&entry(&self.lk_addr, 1));
        t.extend_from_slice(&entry(&self.lk_row, 1));
        t.extend_from_slice(&entry(&self.row_disc, 2));
        let w = self.warning.as_deref().unwrap_or("").as_bytes();
        t.push(w.as_ptr() as u32);
        t.push(w.len() as u32);
        t
    }
}
