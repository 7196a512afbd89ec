//! The result buffer handed to the host: a fixed header, then flat little-endian arrays that the
//! TypeScript side views in place (Float64Array/Uint32Array), so no per-row objects cross the boundary.
//! Layout (each array starts 8-aligned; see src/core/dwarf/wasmResult.ts for the reader):
//!   header   16 x u32: magic, format, counts..., warning string
//!   strings  UTF-8 bytes
//!   files    nFiles x u32[6]: absolute path off/len, table name off/len, objdump switch header off/len
//!   cus      nCus   x u32[6]: first row, objdump CU header off/len, DWARF version, file 1's id,
//!            file 0's id (DWARF 5) or NONE
//!   rowAddr  nRows  x f64 (link-time address, exact below 2^53)
//!   rowData  nRows  x u32[5]: file, line, column, flags (1 is_stmt, 2 end_sequence,
//!            4 DWARF 5 file register never set in the sequence), discriminator
//!   funcs    nFuncs x u32[6]: name off/len, parent (inline caller) or NONE, call file, call line, call column
//!   segAddr  nSegs  x f64; segFunc nSegs x u32: innermost function from this address on (NONE: none)
//!   lkAddr   nLk    x f64; lkRow   nLk   x u32: line row from this address on (NONE: outside sequences)

pub const NONE: u32 = 0xffff_ffff;
pub const MAGIC: u32 = 0x5744_5350; // "PSDW"
pub const FORMAT: u32 = 1;

pub struct Out {
    pub strings: Vec<u8>,
    pub files: Vec<[u32; 6]>,
    pub cus: Vec<[u32; 6]>,
    pub row_addr: Vec<f64>,
    pub row_data: Vec<[u32; 5]>,
    pub funcs: Vec<[u32; 6]>,
    pub segs: Vec<(u64, u32)>,
    pub lookup: Vec<(u64, u32)>,
    pub warning: Option<String>,
}

impl Out {
    pub fn new() -> Out {
        Out {
            strings: Vec::new(),
            files: Vec::new(),
            cus: Vec::new(),
            row_addr: Vec::new(),
            row_data: Vec::new(),
            funcs: Vec::new(),
            segs: Vec::new(),
            lookup: Vec::new(),
            warning: None,
        }
    }

    /// Appends a string to the blob; returns (offset, length).
    pub fn string(&mut self, bytes: &[u8]) -> (u32, u32) {
        let off = self.strings.len() as u32;
        self.strings.extend_from_slice(bytes);
        (off, bytes.len() as u32)
    }

    pub fn serialize(mut self) -> Vec<u8> {
        let warning = self.warning.take().unwrap_or_default();
        let (woff, wlen) = self.string(warning.as_bytes());
        let mut buf: Vec<u8> = Vec::with_capacity(
            64 + self.strings.len() + 8 * 8 + self.files.len() * 24 + self.cus.len() * 24
                + self.row_addr.len() * 28 + self.funcs.len() * 24
                + (self.segs.len() + self.lookup.len()) * 12,
        );
        let header = [
            MAGIC,
            FORMAT,
            self.strings.len() as u32,
            self.files.len() as u32,
            self.cus.len() as u32,
            self.row_addr.len() as u32,
            self.funcs.len() as u32,
            self.segs.len() as u32,
            self.lookup.len() as u32,
            woff,
            wlen,
            0,
            0,
            0,
            0,
            0,
        ];
        for v in header {
            buf.extend_from_slice(&v.to_le_bytes());
        }
        buf.extend_from_slice(&self.strings);
        pad8(&mut buf);
        for f in &self.files {
            for v in f {
                buf.extend_from_slice(&v.to_le_bytes());
            }
        }
        for c in &self.cus {
            for v in c {
                buf.extend_from_slice(&v.to_le_bytes());
            }
        }
        pad8(&mut buf);
        for a in &self.row_addr {
            buf.extend_from_slice(&a.to_le_bytes());
        }
        for r in &self.row_data {
            for v in r {
                buf.extend_from_slice(&v.to_le_bytes());
            }
        }
        pad8(&mut buf);
        for f in &self.funcs {
            for v in f {
                buf.extend_from_slice(&v.to_le_bytes());
            }
        }
        pad8(&mut buf);
        for (a, _) in &self.segs {
            buf.extend_from_slice(&(*a as f64).to_le_bytes());
        }
        for (_, f) in &self.segs {
            buf.extend_from_slice(&f.to_le_bytes());
        }
        pad8(&mut buf);
        for (a, _) in &self.lookup {
            buf.extend_from_slice(&(*a as f64).to_le_bytes());
        }
        for (_, r) in &self.lookup {
            buf.extend_from_slice(&r.to_le_bytes());
        }
        pad8(&mut buf);
        buf
    }
}

fn pad8(buf: &mut Vec<u8>) {
    while buf.len() % 8 != 0 {
        buf.push(0);
    }
}
