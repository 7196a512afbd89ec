//! A fast interpreter for the common line-program opcodes (DWARF 2-5, section 6.2.5), with the
//! register semantics of gimli's LineRow (wrapping address, line saturating at 0) plus objdump's
//! view numbers. gimli decodes each instruction into an enum that is then matched again; this loop
//! does both at once, which matters because it runs for every row of every unit. It declines
//! (`Err(Unsupported)`) whatever it does not handle exactly like gimli — DW_LNE_define_file, unknown
//! standard opcodes, malformed or truncated input — and the caller then decodes the whole unit with
//! gimli, which also produces the error messages.

pub struct Unsupported;

/// The header fields the program needs (gimli has validated line_range and maximum_operations).
pub struct Params {
    pub min_inst_length: u64,
    pub max_ops: u64,
    pub default_is_stmt: bool,
    pub line_base: i64,
    pub line_range: u8,
    pub opcode_base: u8,
    pub address_size: u8,
}

/// The registers when a row is emitted.
pub struct Row {
    pub address: u64,
    pub file: u64,
    pub line: u64,
    pub column: u64,
    pub is_stmt: bool,
    pub end_sequence: bool,
    pub discriminator: u64,
    /// objdump's view: the number of rows before this one at the same address since the address
    /// last advanced or was set.
    pub view: u32,
    /// Whether the sequence has run DW_LNS_set_file (binutils reads an unset register as file 0 in DWARF 5).
    pub file_set: bool,
}

impl Row {
    fn new(p: &Params) -> Row {
        Row {
            address: 0,
            file: 1,
            line: 1,
            column: 0,
            is_stmt: p.default_is_stmt,
            end_sequence: false,
            discriminator: 0,
            view: 0,
            file_set: false,
        }
    }
}

struct Input<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    #[inline(always)]
    fn u8(&mut self) -> Result<u8, Unsupported> {
        let b = *self.data.get(self.pos).ok_or(Unsupported)?;
        self.pos += 1;
        Ok(b)
    }

    /// ULEB128 of at most 9 bytes (63 bits); longer ones go to gimli, which knows their edge cases.
    #[inline(always)]
    fn uleb(&mut self) -> Result<u64, Unsupported> {
        let mut value = 0u64;
        let mut shift = 0;
        loop {
            let b = self.u8()?;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
            shift += 7;
            if shift > 56 {
                return Err(Unsupported);
            }
        }
    }

    #[inline(always)]
    fn sleb(&mut self) -> Result<i64, Unsupported> {
        let mut value = 0i64;
        let mut shift = 0;
        loop {
            let b = self.u8()?;
            value |= i64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                if shift < 64 && b & 0x40 != 0 {
                    value |= -1i64 << shift;
                }
                return Ok(value);
            }
            if shift > 56 {
                return Err(Unsupported);
            }
        }
    }
}

/// Runs `program`, calling `emit` for every row in order.
pub fn run(program: &[u8], p: &Params, mut emit: impl FnMut(&Row)) -> Result<(), Unsupported> {
    let mut input = Input { data: program, pos: 0 };
    let mut row = Row::new(p);
    let mut op_index = 0u64;
    // Advances the address by `advance` operations; true when the address moved (view restarts).
    let advance = |row: &mut Row, op_index: &mut u64, advance: u64| -> bool {
        let before = row.address;
        if p.max_ops == 1 {
            row.address = row.address.wrapping_add(p.min_inst_length.wrapping_mul(advance));
            *op_index = 0;
        } else {
            let with = op_index.wrapping_add(advance);
            row.address = row.address.wrapping_add(p.min_inst_length.wrapping_mul(with / p.max_ops));
            *op_index = with % p.max_ops;
        }
        row.address != before
    };
    let line_advance = |row: &mut Row, increment: i64| {
        if increment < 0 {
            row.line = row.line.saturating_sub(increment.unsigned_abs());
        } else {
            row.line = row.line.wrapping_add(increment as u64);
        }
    };
    // Special opcodes are most of a program: their line and operation advances from a table, not
    // two divisions each.
    let mut special = [(0i32, 0u32); 256];
    for opcode in (p.opcode_base.max(1) as usize)..256 {
        let adjusted = opcode as u8 - p.opcode_base;
        special[opcode] = (p.line_base as i32 + i32::from(adjusted % p.line_range), u32::from(adjusted / p.line_range));
    }
    while input.pos < program.len() {
        let opcode = input.u8()?;
        let emits = if opcode >= p.opcode_base && opcode != 0 {
            let (line_step, op_step) = special[opcode as usize];
            line_advance(&mut row, i64::from(line_step));
            if advance(&mut row, &mut op_index, u64::from(op_step)) {
                row.view = 0;
            }
            true
        } else {
            match opcode {
                0 => {
                    let length = input.uleb()?;
                    let start = input.pos;
                    if length > (program.len() - start) as u64 {
                        return Err(Unsupported);
                    }
                    let (length, end) = (length as usize, start + length as usize);
                    let sub = *program.get(start).filter(|_| length > 0).ok_or(Unsupported)?;
                    input.pos = start + 1;
                    let emits = match sub {
                        1 => {
                            row.end_sequence = true;
                            true
                        }
                        2 => {
                            let n = p.address_size as usize;
                            if !(n == 8 || n == 4) || length - 1 < n {
                                return Err(Unsupported);
                            }
                            let mut bytes = [0u8; 8];
                            bytes[..n].copy_from_slice(&program[input.pos..input.pos + n]);
                            row.address = u64::from_le_bytes(bytes);
                            op_index = 0;
                            row.view = 0;
                            false
                        }
                        4 => {
                            let mut operand = Input { data: &program[..end], pos: input.pos };
                            row.discriminator = operand.uleb()?;
                            false
                        }
                        3 => return Err(Unsupported),
                        _ => false,
                    };
                    input.pos = end;
                    emits
                }
                1 => true,
                2 => {
                    let n = input.uleb()?;
                    if advance(&mut row, &mut op_index, n) {
                        row.view = 0;
                    }
                    false
                }
                3 => {
                    let n = input.sleb()?;
                    line_advance(&mut row, n);
                    false
                }
                4 => {
                    row.file = input.uleb()?;
                    row.file_set = true;
                    false
                }
                5 => {
                    row.column = input.uleb()?;
                    false
                }
                6 => {
                    row.is_stmt = !row.is_stmt;
                    false
                }
                7 | 10 | 11 => false,
                8 => {
                    let n = u64::from((255 - p.opcode_base) / p.line_range);
                    if advance(&mut row, &mut op_index, n) {
                        row.view = 0;
                    }
                    false
                }
                9 => {
                    let lo = input.u8()?;
                    let hi = input.u8()?;
                    row.address = row.address.wrapping_add(u64::from(u16::from_le_bytes([lo, hi])));
                    op_index = 0;
                    false
                }
                12 => {
                    input.uleb()?;
                    false
                }
                _ => return Err(Unsupported),
            }
        };
        if emits {
            emit(&row);
            row.view = row.view.saturating_add(1);
            row.discriminator = 0;
            if row.end_sequence {
                row = Row::new(p);
                op_index = 0;
            }
        }
    }
    Ok(())
}
