//! `objdump --dwarf=decodedline` text of the line rows, rendered in wasm into one reused buffer that
//! the host writes out chunk by chunk: no per-row strings, no JS formatting. Byte for byte what
//! binutils prints (the same columns, views, file-switch headers and blank lines).

use crate::out::{Out, VIEW_SHIFT};

const HEADER: &[u8] = b"File name                            Line number    Starting address    View    Stmt\n";
/// A chunk is handed to the host once it passes this size (one row may overshoot it).
pub const CHUNK: usize = 1 << 20;

/// Where the rendering stopped: the next row to print and the state objdump carries between rows.
pub struct Cursor {
    cu: usize,
    row: usize,
    in_cu: bool,
    current: u32,
}

impl Cursor {
    pub fn new() -> Cursor {
        Cursor { cu: 0, row: 0, in_cu: false, current: 0 }
    }
}

fn string<'a>(out: &'a Out, off: u32, len: u32) -> &'a [u8] {
    let (a, b) = (off as usize, off as usize + len as usize);
    out.strings.get(a..b).unwrap_or(b"")
}

fn spaces(buf: &mut Vec<u8>, n: usize) {
    buf.resize(buf.len() + n, b' ');
}

/// `value` in decimal, right-aligned in `width` columns.
fn decimal(buf: &mut Vec<u8>, value: u32, width: usize) {
    let mut digits = [0u8; 10];
    let mut n = 0;
    let mut v = value;
    loop {
        digits[9 - n] = b'0' + (v % 10) as u8;
        n += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if n < width {
        spaces(buf, width - n);
    }
    buf.extend_from_slice(&digits[10 - n..]);
}

/// printf's `%#<width>x`: `0x` + lowercase hex, right-aligned; zero is a bare `0`, as in C.
fn hex(buf: &mut Vec<u8>, value: u64, width: usize) {
    if value == 0 {
        spaces(buf, width.saturating_sub(1));
        buf.push(b'0');
        return;
    }
    let mut digits = [0u8; 18];
    let mut n = 0;
    let mut v = value;
    loop {
        digits[17 - n] = b"0123456789abcdef"[(v & 15) as usize];
        n += 1;
        v >>= 4;
        if v == 0 {
            break;
        }
    }
    digits[17 - n] = b'x';
    digits[16 - n] = b'0';
    n += 2;
    if n < width {
        spaces(buf, width - n);
    }
    buf.extend_from_slice(&digits[18 - n..]);
}

/// Renders from `cursor` into `buf` (cleared first) until the chunk is full or the rows end.
/// An empty buffer means everything was written.
pub fn next_chunk(out: &Out, cursor: &mut Cursor, buf: &mut Vec<u8>) {
    buf.clear();
    let cus = out.cus.len();
    let rows = out.row_addr.len();
    while cursor.cu < cus && buf.len() < CHUNK {
        let cu = &out.cus[cursor.cu];
        let end = if cursor.cu + 1 < cus { out.cus[cursor.cu + 1][0] as usize } else { rows };
        let end = end.min(rows);
        if !cursor.in_cu {
            buf.extend_from_slice(string(out, cu[1], cu[2]));
            buf.extend_from_slice(b":\n");
            buf.extend_from_slice(HEADER);
            cursor.in_cu = true;
            cursor.row = cu[0] as usize;
            cursor.current = cu[4];
        }
        while cursor.row < end && buf.len() < CHUNK {
            let i = cursor.row;
            let data = &out.row_data[i];
            let (file, flags) = (data[0], data[3]);
            let addr = out.row_addr[i] as u64;
            let names = out.files.get(file as usize);
            if file != cursor.current {
                buf.push(b'\n');
                if let Some(f) = names {
                    buf.extend_from_slice(string(out, f[4], f[5]));
                }
                buf.push(b'\n');
                cursor.current = file;
            }
            let name = names.map(|f| string(out, f[2], f[3])).unwrap_or(b"");
            // objdump keeps the last 35 bytes of a longer name (without --wide).
            if name.len() > 35 {
                buf.extend_from_slice(&name[name.len() - 35..]);
            } else {
                buf.extend_from_slice(name);
                spaces(buf, 35 - name.len());
            }
            buf.extend_from_slice(b"  ");
            if flags & 2 != 0 {
                spaces(buf, 10);
                buf.extend_from_slice(b"-  ");
                hex(buf, addr, 18);
                buf.extend_from_slice(b"\n\n");
                cursor.current = cu[4];
            } else {
                decimal(buf, data[1], 11);
                buf.extend_from_slice(b"  ");
                hex(buf, addr, 18);
                let view = flags >> VIEW_SHIFT;
                if view != 0 {
                    buf.extend_from_slice(b"  ");
                    decimal(buf, view, 6);
                } else {
                    spaces(buf, 8);
                }
                if flags & 1 != 0 {
                    buf.extend_from_slice(b"       x");
                }
                buf.push(b'\n');
            }
            cursor.row += 1;
        }
        if cursor.row >= end {
            buf.push(b'\n');
            cursor.cu += 1;
            cursor.in_cu = false;
        }
    }
}
