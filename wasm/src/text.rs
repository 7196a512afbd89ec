//! `objdump --dwarf=decodedline` text of the line rows, rendered in wasm into one reused buffer that
//! the host writes out chunk by chunk: no per-row strings, no JS formatting. Byte for byte what
//! binutils prints (the same columns, views, file-switch headers and blank lines).

use crate::out::{Out, EXTRA, FLAG_SHIFT, VIEW_SHIFT};

pub const HEADER: &[u8] = b"File name                            Line number    Starting address    View    Stmt\n";
/// The default and largest chunk: one is handed to the host once it passes its limit.
pub const CHUNK: usize = 1 << 20;

/// Where the rendering stopped: the next row to print and the state objdump carries between rows.
pub struct Cursor {
    cu: usize,
    row: usize,
    in_cu: bool,
    current: u32,
    /// The name column of `current`.
    names: Option<[u8; 35]>,
}

impl Cursor {
    pub fn new() -> Cursor {
        Cursor { cu: 0, row: 0, in_cu: false, current: 0, names: None }
    }
}

fn string<'a>(out: &'a Out, off: u32, len: u32) -> &'a [u8] {
    let (a, b) = (off as usize, off as usize + len as usize);
    out.strings.get(a..b).unwrap_or(b"")
}

/// Writes `value` in decimal right-aligned ending just before `end`; returns where its digits start.
fn decimal_into(row: &mut [u8], end: usize, value: u32) -> usize {
    let mut at = end;
    let mut v = value;
    loop {
        at -= 1;
        row[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return at;
        }
    }
}

/// printf's `%#x` right-aligned ending just before `end`: `0x` + lowercase hex; zero is a bare `0`.
fn hex_into(row: &mut [u8], end: usize, value: u64) {
    let mut at = end;
    let mut v = value;
    loop {
        at -= 1;
        row[at] = b"0123456789abcdef"[(v & 15) as usize];
        v >>= 4;
        if v == 0 {
            break;
        }
    }
    if value != 0 {
        row[at - 1] = b'x';
        row[at - 2] = b'0';
    }
}

/// A file's name column: exactly 35 bytes, as objdump's `%-35s` of the name or of its last 35 bytes.
fn name_column(name: &[u8]) -> [u8; 35] {
    let mut col = [b' '; 35];
    let tail = if name.len() > 35 { &name[name.len() - 35..] } else { name };
    col[..tail.len()].copy_from_slice(tail);
    col
}

// Column layout of a row: name 0..35, 2 spaces, line 37..48, 2 spaces, address 50..68, view 68..76,
// stmt 76..84, newline. Every field but a view of a million or more fits its width.
const LINE_END: usize = 48;
const ADDR_END: usize = 68;
const VIEW_END: usize = 76;

/// Renders from `cursor` into `buf` (cleared first) until it holds `limit` bytes or the rows end.
/// An empty buffer means everything was written.
pub fn next_chunk(out: &Out, cursor: &mut Cursor, buf: &mut Vec<u8>, limit: usize) {
    buf.clear();
    let cus = out.cus.len();
    let rows = out.row_count();
    while cursor.cu < cus && buf.len() < limit {
        let cu = &out.cus[cursor.cu];
        let end = if cursor.cu + 1 < cus { out.cus[cursor.cu + 1][0] as usize } else { rows };
        let end = end.min(rows);
        if !cursor.in_cu {
            buf.extend_from_slice(string(out, cu[1], cu[2]));
            cursor.in_cu = true;
            cursor.row = cu[0] as usize;
            cursor.current = cu[4];
            cursor.names = None;
        }
        while cursor.row < end && buf.len() < limit {
            let i = cursor.row;
            let data = &out.row_data[i];
            let (file, flags) = (data[0], data[2] >> FLAG_SHIFT);
            let addr = out.row_address(i);
            let names = out.files.get(file as usize);
            if file != cursor.current || cursor.names.is_none() {
                if file != cursor.current {
                    buf.push(b'\n');
                    if let Some(f) = names {
                        buf.extend_from_slice(string(out, f[4], f[5]));
                    }
                    buf.push(b'\n');
                    cursor.current = file;
                }
                cursor.names = Some(name_column(names.map(|f| string(out, f[2], f[3])).unwrap_or(b"")));
            }
            // One row is assembled in a fixed buffer and appended at once (no per-field growth checks).
            let mut row = [b' '; 96];
            row[..35].copy_from_slice(cursor.names.as_ref().unwrap());
            hex_into(&mut row, ADDR_END, addr);
            if flags & 2 != 0 {
                row[LINE_END - 1] = b'-';
                row[ADDR_END] = b'\n';
                row[ADDR_END + 1] = b'\n';
                buf.extend_from_slice(&row[..ADDR_END + 2]);
                if cursor.current != cu[4] {
                    cursor.current = cu[4];
                    cursor.names = None;
                }
            } else {
                decimal_into(&mut row, LINE_END, data[1]);
                let view = if data[2] & EXTRA == 0 { data[2] >> VIEW_SHIFT } else { out.row_details(i).1 };
                let mut len = VIEW_END;
                if view != 0 {
                    let first = decimal_into(&mut row, VIEW_END, view);
                    if first < VIEW_END - 6 {
                        // "  %6u" of a view of a million or more: wider than its column.
                        buf.extend_from_slice(&row[..ADDR_END]);
                        buf.extend_from_slice(b"  ");
                        let mut digits = [0u8; 10];
                        let d = decimal_into(&mut digits, 10, view);
                        buf.extend_from_slice(&digits[d..]);
                        len = 0;
                    }
                }
                if len == 0 {
                    if flags & 1 != 0 {
                        buf.extend_from_slice(b"       x");
                    }
                    buf.push(b'\n');
                } else {
                    if flags & 1 != 0 {
                        row[VIEW_END + 7] = b'x';
                        len = VIEW_END + 8;
                    }
                    row[len] = b'\n';
                    buf.extend_from_slice(&row[..len + 1]);
                }
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
