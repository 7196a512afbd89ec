//! The index handed to the host. Each array stays where Rust built it; the host reads a table of
//! (pointer, byte length, count) and views the arrays in wasm memory in place (Float64Array/
//! Uint32Array): no serialisation, no per-row objects across the boundary. lkAddr and lkRow are empty
//! until ps_build_address_map, funcs, segAddr and segFunc until the function pass
//! (ps_build_functions); either may move every array: the host re-reads the table after them.
//! Table (u32s): magic, format, then for each array below ptr, bytes, count; then warning ptr, len.
//!   strings  UTF-8 bytes
//!   files    nFiles x u32[6]: absolute path off/len, table name off/len, objdump switch header off/len
//!   cus      nCus   x u32[6]: first row, objdump's heading of the unit (its name line and the
//!            column names) off/len, DWARF version, file 1's id,
//!            file 0's id (DWARF 5) or NONE
//!   rowAddr  nRows  x f64 (link-time address, exact below 2^53), or empty while every address has
//!            the high 32 bits addrHigh: then rowLo holds the low 32 bits (4 bytes of fresh memory
//!            per row instead of 8)
//!   rowData  nRows  x u32[3]: file, line, packed: column in bits 0-15, flags in bits 16-19
//!            (1 is_stmt, 2 end_sequence, 4 DWARF 5 file register never set in the sequence,
//!            8 the row is in rowExtra), objdump's view number in bits 20-31. A row whose
//!            discriminator is not 0, or whose column or view does not fit, is in rowExtra (and its
//!            packed column and view are 0): most rows are not, and 4 more bytes of fresh memory per
//!            row cost more than the rare lookup
//!   funcs    nFuncs x u32[6]: name off/len, parent (inline caller) or NONE, call file, call line, call column
//!   segAddr  nSegs  x f64; segFunc nSegs x u32: innermost function from this address on (NONE: none)
//!   lkAddr   nLk    x f64; lkRow   nLk   x u32: line row from this address on (NONE: outside sequences)
//!   rowExtra nExtra x u32[4]: (row, discriminator, column, view saturated at 2^24 - 1), by row
//!   rowLo    nRows  x u32 (or empty: see rowAddr); then addrHigh as one u32
//! (see src/core/dwarf/wasmResult.ts for the reader)

pub const NONE: u32 = 0xffff_ffff;
pub const MAGIC: u32 = 0x5744_5350; // "PSDW"
pub const FORMAT: u32 = 6;
/// Where the flags and the view sit in a row's packed word (the column is in the low 16 bits).
pub const FLAG_SHIFT: u32 = 16;
pub const VIEW_SHIFT: u32 = 20;
pub const END_SEQUENCE: u32 = 2 << FLAG_SHIFT;
pub const EXTRA: u32 = 8 << FLAG_SHIFT;
const PACKED_COLUMN_MAX: u64 = 0xffff;
const PACKED_VIEW_MAX: u32 = 0xfff;
/// Views beyond this are saturated.
pub const VIEW_MAX: u32 = 0x00ff_ffff;

pub struct Out {
    pub strings: Vec<u8>,
    pub files: Vec<[u32; 6]>,
    pub cus: Vec<[u32; 6]>,
    pub row_addr: Vec<f64>,
    pub row_lo: Vec<u32>,
    pub addr_high: u32,
    pub row_data: Vec<[u32; 3]>,
    pub row_extra: Vec<[u32; 4]>,
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
            row_lo: Vec::new(),
            addr_high: 0,
            row_data: Vec::new(),
            row_extra: Vec::new(),
            funcs: Vec::new(),
            seg_addr: Vec::new(),
            seg_func: Vec::new(),
            lk_addr: Vec::new(),
            lk_row: Vec::new(),
            warning: None,
        }
    }

    /// Appends a row; `flags` are the low bits (is_stmt, end_sequence, file register unset).
    #[inline(always)]
    pub fn push_row(&mut self, address: u64, file: u32, line: u64, column: u64, flags: u32, view: u32, discriminator: u64) {
        let line = line.min(u32::MAX as u64) as u32;
        let high = (address >> 32) as u32;
        if self.row_addr.is_empty() && (high == self.addr_high || self.row_lo.is_empty()) {
            self.addr_high = high;
            self.row_lo.push(address as u32);
        } else {
            self.widen();
            self.row_addr.push(address as f64);
        }
        if discriminator == 0 && column <= PACKED_COLUMN_MAX && view <= PACKED_VIEW_MAX {
            self.row_data.push([file, line, column as u32 | flags << FLAG_SHIFT | view << VIEW_SHIFT]);
        } else {
            let row = self.row_data.len() as u32;
            let (discriminator, column) = (discriminator.min(u32::MAX as u64) as u32, column.min(u32::MAX as u64) as u32);
            self.row_extra.push([row, discriminator, column, view.min(VIEW_MAX)]);
            self.row_data.push([file, line, flags << FLAG_SHIFT | EXTRA]);
        }
    }

    /// The number of rows.
    pub fn row_count(&self) -> usize {
        self.row_data.len()
    }

    /// Row `i`'s address.
    #[inline(always)]
    pub fn row_address(&self, i: usize) -> u64 {
        match self.row_lo.get(i) {
            Some(&lo) if self.row_addr.is_empty() => u64::from(self.addr_high) << 32 | u64::from(lo),
            _ => self.row_addr[i] as u64,
        }
    }

    /// Row `i`'s address as the lookup arrays hold it.
    #[inline(always)]
    pub fn row_address_f64(&self, i: usize) -> f64 {
        if self.row_addr.is_empty() {
            (u64::from(self.addr_high) << 32 | u64::from(self.row_lo[i])) as f64
        } else {
            self.row_addr[i]
        }
    }

    /// From the 32-bit addresses to f64 ones: a row's address does not share the others' high bits.
    #[cold]
    fn widen(&mut self) {
        if !self.row_addr.is_empty() || self.row_lo.is_empty() {
            return;
        }
        let high = u64::from(self.addr_high) << 32;
        self.row_addr = Vec::with_capacity(self.row_lo.capacity());
        self.row_addr.extend(self.row_lo.iter().map(|&lo| (high | u64::from(lo)) as f64));
        self.row_lo = Vec::new();
    }

    /// Forgets the rows from `first` on (a unit the fast interpreter declined).
    pub fn truncate_rows(&mut self, first: usize) {
        self.row_addr.truncate(first);
        self.row_lo.truncate(first);
        self.row_data.truncate(first);
        let keep = self.row_extra.iter().take_while(|d| (d[0] as usize) < first).count();
        self.row_extra.truncate(keep);
    }

    /// (column, view, discriminator) of row `i`.
    pub fn row_details(&self, i: usize) -> (u32, u32, u32) {
        let packed = self.row_data[i][2];
        if packed & EXTRA == 0 {
            return (packed & 0xffff, packed >> VIEW_SHIFT, 0);
        }
        match self.row_extra.binary_search_by(|e| (e[0] as usize).cmp(&i)) {
            Ok(k) => (self.row_extra[k][2], self.row_extra[k][3], self.row_extra[k][1]),
            Err(_) => (0, 0, 0),
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
        t.extend_from_slice(&entry(&self.row_data, 3));
        t.extend_from_slice(&entry(&self.funcs, 6));
        t.extend_from_slice(&entry(&self.seg_addr, 1));
        t.extend_from_slice(&entry(&self.seg_func, 1));
        t.extend_from_slice(&entry(&self.lk_addr, 1));
        t.extend_from_slice(&entry(&self.lk_row, 1));
        t.extend_from_slice(&entry(&self.row_extra, 4));
        t.extend_from_slice(&entry(&self.row_lo, 1));
        t.push(self.addr_high);
        let w = self.warning.as_deref().unwrap_or("").as_bytes();
        t.push(w.as_ptr() as u32);
        t.push(w.len() as u32);
        t
    }
}
