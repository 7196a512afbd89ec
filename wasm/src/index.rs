//! Walks every compilation unit once and produces the flat module index (see out.rs): all line rows,
//! the file table resolved to absolute paths the way binutils does, functions and inlined subroutines
//! with their call sites, and two sorted address maps (address -> innermost function, address -> row).
//! Corrupt units are skipped with a warning so that one bad CU does not hide the others.

use crate::lineprog;
use crate::out::{Out, NONE, VIEW_MAX, VIEW_SHIFT};
use gimli::{
    AttributeValue, ColumnType, DebugInfoOffset, EndianSlice, LineInstruction,
    LineProgramHeader, LineRow, LittleEndian, SectionId, Unit, UnitOffset,
};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;

type R = EndianSlice<'static, LittleEndian>;
type Str = Option<&'static [u8]>;

/// A small multiplicative hasher: the default SipHash costs more than the parsing it serves.
#[derive(Default)]
pub struct Fx(u64);
impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let v = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
        for b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ *b as u64).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }
    fn write_usize(&mut self, v: usize) {
        self.0 = (self.0.rotate_left(5) ^ v as u64).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}
type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;

/// Section ids shared with the host (src/core/dwarf/wasmResult.ts SECTION_IDS).
pub const SECTION_COUNT: usize = 9;
fn section_slot(id: SectionId) -> Option<usize> {
    Some(match id {
        SectionId::DebugInfo => 0,
        SectionId::DebugAbbrev => 1,
        SectionId::DebugLine => 2,
        SectionId::DebugStr => 3,
        SectionId::DebugLineStr => 4,
        SectionId::DebugRanges => 5,
        SectionId::DebugRngLists => 6,
        SectionId::DebugAddr => 7,
        SectionId::DebugStrOffsets => 8,
        _ => return None,
    })
}

const UNSET: u32 = NONE - 1;
const MAX_NAME_DEPTH: u32 = 16;
const MAX_NAME_STEPS: u32 = 64;

pub struct Builder<'d> {
    dwarf: &'d gimli::Dwarf<R>,
    out: Out,
    file_ids: FxMap<Vec<u8>, u32>,
    strings: FxMap<&'static [u8], (u32, u32)>,
    names: FxMap<usize, (Str, Str)>,
    unit_starts: Vec<(usize, gimli::UnitHeader<R>)>,
    unit_cache: FxMap<usize, Rc<Unit<R>>>,
    ranges: Vec<(u64, u64, u32)>,
    /// [start, end) of each sequence's entries in out.lk_addr/lk_row, in program order.
    seqs: Vec<(usize, usize)>,
    address_map_done: bool,
    /// Units whose line pass succeeded: the only ones the function pass reads (as before the split).
    lines_ok: Vec<bool>,
    /// Decode line programs with gimli alone (tests compare it with the fast interpreter).
    gimli_only: bool,
    functions_done: bool,
    first_warning: Option<String>,
    warnings: u32,
}

/// The line pass: every unit's line program and the file table. The address -> row map and the
/// functions (the .debug_info walk), which `dwarf lines` never needs, come later from
/// `address_map()` and `functions()`.
pub fn build(sections: [&'static [u8]; SECTION_COUNT], gimli_only: bool) -> Result<Builder<'static>, String> {
    let dwarf = gimli::Dwarf::load(|id| -> Result<R, ()> {
        let data = section_slot(id).map(|i| sections[i]).unwrap_or(&[]);
        Ok(EndianSlice::new(data, LittleEndian))
    })
    .map_err(|_| "cannot load sections".to_string())?;
    // The function pass reads the same sections later; they live as long as the instance.
    let dwarf: &'static gimli::Dwarf<R> = Box::leak(Box::new(dwarf));
    let mut b = Builder {
        dwarf,
        out: Out::new(),
        file_ids: FxMap::default(),
        strings: FxMap::default(),
        names: FxMap::default(),
        unit_starts: Vec::new(),
        unit_cache: FxMap::default(),
        ranges: Vec::new(),
        seqs: Vec::new(),
        address_map_done: false,
        lines_ok: Vec::new(),
        gimli_only,
        functions_done: false,
        first_warning: None,
        warnings: 0,
    };
    let mut iter = dwarf.units();
    loop {
        match iter.next() {
            Ok(Some(h)) => {
                let start = h.offset().as_debug_info_offset().map(|o| o.0).unwrap_or(0);
                b.unit_starts.push((start, h));
            }
            Ok(None) => break,
            Err(e) => {
                b.warn(format!("bad unit header in .debug_info: {}", e));
                break;
            }
        }
    }
    if b.unit_starts.is_empty() {
        return Err(b.first_warning.take().unwrap_or_else(|| "no compilation units in .debug_info".to_string()));
    }
    // Rows average 3-4 bytes of .debug_line: reserving up front avoids copying on growth.
    let estimate = sections[2].len() / 3;
    b.out.row_addr.reserve(estimate);
    b.out.row_data.reserve(estimate);
    let headers: Vec<gimli::UnitHeader<R>> = b.unit_starts.iter().map(|(_, h)| *h).collect();
    let mut ok_units = 0;
    for (i, h) in headers.into_iter().enumerate() {
        let result = match dwarf.unit(h) {
            Ok(unit) => b.lines(&unit),
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => ok_units += 1,
            Err(e) => b.warn(format!("compilation unit #{} (offset {:#x}): {}", i, b.unit_starts[i].0, e)),
        }
        b.lines_ok.push(result.is_ok());
    }
    if ok_units == 0 {
        return Err(b.first_warning.take().unwrap_or_else(|| "no readable compilation unit".to_string()));
    }
    b.update_warning();
    Ok(b)
}

fn lossy(bytes: &[u8]) -> Vec<u8> {
    match std::str::from_utf8(bytes) {
        Ok(_) => bytes.to_vec(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned().into_bytes(),
    }
}

impl<'d> Builder<'d> {
    fn warn(&mut self, message: String) {
        self.warnings += 1;
        if self.first_warning.is_none() {
            self.first_warning = Some(message);
        }
    }

    fn update_warning(&mut self) {
        self.out.warning = self.first_warning.as_ref().map(|w| match self.warnings {
            0 | 1 => w.clone(),
            n => format!("{} (and {} more problems)", w, n - 1),
        });
    }

    /// The index built so far.
    pub fn out(&self) -> &Out {
        &self.out
    }

    /// The function pass: subprogram and inlined-subroutine ranges of every unit whose line pass
    /// succeeded, then the address -> innermost function map. Runs once; later calls do nothing.
    pub fn functions(&mut self) {
        if self.functions_done {
            return;
        }
        self.functions_done = true;
        let headers: Vec<gimli::UnitHeader<R>> = self.unit_starts.iter().map(|(_, h)| *h).collect();
        for (i, h) in headers.into_iter().enumerate() {
            if !self.lines_ok.get(i).copied().unwrap_or(false) {
                continue;
            }
            let result = match self.dwarf.unit(h) {
                Ok(unit) => self.unit_functions(&unit),
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                self.warn(format!("compilation unit #{} (offset {:#x}): {}", i, self.unit_starts[i].0, e));
            }
        }
        self.function_map();
        self.update_warning();
    }

    fn intern(&mut self, s: &'static [u8]) -> (u32, u32) {
        if let Some(v) = self.strings.get(s) {
            return *v;
        }
        let v = self.out.string(&lossy(s));
        self.strings.insert(s, v);
        v
    }

    fn attr_bytes(&self, unit: &Unit<R>, value: AttributeValue<R>) -> Str {
        self.dwarf.attr_string(unit, value).ok().map(|s| s.slice())
    }

    /// Resolves a file index of a line program to a global file id, caching per unit in `map`.
    fn file_id(&mut self, unit: &Unit<R>, header: &LineProgramHeader<R>, index: u64, map: &mut Vec<u32>) -> u32 {
        let i = index as usize;
        if i < map.len() && map[i] != UNSET {
            return map[i];
        }
        let id = self.resolve_file(unit, header, index);
        if i < (1 << 20) {
            if map.len() <= i {
                map.resize(i + 1, UNSET);
            }
            map[i] = id;
        }
        id
    }

    /// binutils' concat_filename: a relative name goes under its include directory, and a relative
    /// (or absent, index 0) directory under the unit's comp_dir; no normalisation.
    fn resolve_file(&mut self, unit: &Unit<R>, header: &LineProgramHeader<R>, index: u64) -> u32 {
        let version = header.version();
        let (path, name, switch) = match header.file(index) {
            None => (b"??".to_vec(), b"??".to_vec(), b"??".to_vec()),
            Some(f) => {
                let name = self.attr_bytes(unit, f.path_name()).unwrap_or(b"??");
                let dir_index = f.directory_index();
                let dir = f.directory(header).and_then(|d| self.attr_bytes(unit, d));
                let subdir = if dir_index != 0 { dir } else { None };
                // How objdump --dwarf=decodedline names a file when the program switches to it.
                let switch = if version < 5 && dir_index == 0 {
                    [b"./", name, b":[++]"].concat()
                } else {
                    match dir {
                        Some(d) if !d.is_empty() => [d, b"/", name, b":"].concat(),
                        _ => [name, b":"].concat(),
                    }
                };
                let path = if name.first() == Some(&b'/') {
                    name.to_vec()
                } else {
                    let comp_dir = unit.comp_dir.map(|c| c.slice());
                    let subdir_abs = subdir.map(|d| d.first() == Some(&b'/')).unwrap_or(false);
                    let dir_name = if subdir_abs { None } else { comp_dir };
                    match (dir_name, subdir) {
                        (Some(c), Some(d)) => [c, b"/", d, b"/", name].concat(),
                        (Some(c), None) => [c, b"/", name].concat(),
                        (None, Some(d)) => [d, b"/", name].concat(),
                        (None, None) => name.to_vec(),
                    }
                };
                (lossy(&path), lossy(name), lossy(&switch))
            }
        };
        if let Some(id) = self.file_ids.get(&path) {
            return *id;
        }
        let id = self.out.files.len() as u32;
        let (po, pl) = self.out.string(&path);
        let (no, nl) = self.out.string(&name);
        let (so, sl) = self.out.string(&switch);
        self.out.files.push([po, pl, no, nl, so, sl]);
        self.file_ids.insert(path, id);
        id
    }

    fn lines(&mut self, unit: &Unit<R>) -> gimli::Result<()> {
        let mut file_map: Vec<u32> = Vec::new();
        if let Some(program) = unit.line_program.clone() {
            let header = program.header();
            let version = header.version() as u32;
            let first = if version >= 5 { 0 } else { 1 };
            // objdump heads each unit with the bare name of its first file entry.
            let cu_name: Vec<u8> = match header.file(first) {
                Some(f) => self.attr_bytes(unit, f.path_name()).unwrap_or(b"").to_vec(),
                None => Vec::new(),
            };
            let (no, nl) = self.out.string(&lossy(&cu_name));
            let default_file = self.file_id(unit, header, 1, &mut file_map);
            self.out.cus.push([self.out.row_addr.len() as u32, no, nl, version, default_file, 0]);
            let file0 = if version >= 5 { self.file_id(unit, header, 0, &mut file_map) } else { NONE };
            self.out.cus.last_mut().unwrap()[5] = file0;
            // The fast interpreter first; whatever it declines, gimli decodes (the whole unit again).
            let params = lineprog::Params {
                min_inst_length: u64::from(header.minimum_instruction_length()),
                max_ops: u64::from(header.maximum_operations_per_instruction()),
                default_is_stmt: header.default_is_stmt(),
                line_base: i64::from(header.line_base()),
                line_range: header.line_range(),
                opcode_base: header.opcode_base(),
                address_size: header.address_size(),
            };
            let first_row = self.out.row_addr.len();
            let gimli_only = self.gimli_only;
            // Consecutive rows mostly name the same file: remember the last one (not a call per row).
            let mut last_file: (u64, u32) = (u64::MAX, NONE);
            let fast = if gimli_only { Err(lineprog::Unsupported) } else { lineprog::run(header.raw_program_buf().slice(), &params, |r| {
                let file = if r.file == last_file.0 {
                    last_file.1
                } else {
                    let id = self.file_id(unit, header, r.file, &mut file_map);
                    last_file = (r.file, id);
                    id
                };
                let flags = r.is_stmt as u32
                    | (r.end_sequence as u32) << 1
                    | ((version >= 5 && !r.file_set) as u32) << 2
                    | r.view.min(VIEW_MAX) << VIEW_SHIFT;
                self.out.row_addr.push(r.address as f64);
                if r.discriminator != 0 {
                    let row = self.out.row_data.len() as u32;
                    self.out.row_disc.push([row, r.discriminator.min(u32::MAX as u64) as u32]);
                }
                self.out.row_data.push([file, r.line.min(u32::MAX as u64) as u32, r.column.min(u32::MAX as u64) as u32, flags]);
            }) };
            if fast.is_ok() {
                return Ok(());
            }
            self.out.row_addr.truncate(first_row);
            self.out.row_data.truncate(first_row);
            let keep = self.out.row_disc.iter().take_while(|d| (d[0] as usize) < first_row).count();
            self.out.row_disc.truncate(keep);
            // Rows are computed instruction by instruction (not with LineRows) to know whether the
            // sequence set its file register: binutils reads an unset register as file 0 in DWARF 5.
            let mut program = program;
            let mut instructions = program.header().instructions();
            let mut row = LineRow::new(program.header());
            let mut file_set = false;
            // objdump's view: rows at one address are numbered 0, 1, ...; the count restarts when an
            // advance moves the address or DW_LNE_set_address runs (not for DW_LNS_fixed_advance_pc).
            let mut view: u32 = 0;
            while let Some(instruction) = instructions.next_instruction(program.header())? {
                let advances = matches!(
                    instruction,
                    LineInstruction::Special(_) | LineInstruction::AdvancePc(_) | LineInstruction::ConstAddPc
                );
                match instruction {
                    LineInstruction::SetFile(_) => file_set = true,
                    LineInstruction::SetAddress(_) => view = 0,
                    _ => {}
                }
                let before = row.address();
                let emits = row.execute(instruction, &mut program);
                if advances && row.address() != before {
                    view = 0;
                }
                if !emits {
                    continue;
                }
                let header = program.header();
                let file = self.file_id(unit, header, row.file_index(), &mut file_map);
                let line = row.line().map(|l| l.get().min(u32::MAX as u64) as u32).unwrap_or(0);
                let column = match row.column() {
                    ColumnType::LeftEdge => 0,
                    ColumnType::Column(c) => c.get().min(u32::MAX as u64) as u32,
                };
                let address = row.address();
                let flags = row.is_stmt() as u32
                    | (row.end_sequence() as u32) << 1
                    | ((version >= 5 && !file_set) as u32) << 2
                    | view.min(VIEW_MAX) << VIEW_SHIFT;
                view = view.saturating_add(1);
                self.out.row_addr.push(address as f64);
                if row.discriminator() != 0 {
                    let index = self.out.row_data.len() as u32;
                    self.out.row_disc.push([index, row.discriminator().min(u32::MAX as u64) as u32]);
                }
                self.out.row_data.push([file, line, column, flags]);
                if row.end_sequence() {
                    file_set = false;
                    view = 0;
                }
                row.reset(program.header());
            }
        }
        Ok(())
    }

    /// The address -> row map (out.lk_addr/lk_row), built from the rows on first use: listing rows
    /// never needs it. Runs once; later calls do nothing.
    pub fn address_map(&mut self) {
        if self.address_map_done {
            return;
        }
        self.address_map_done = true;
        let rows = self.out.row_addr.len();
        self.out.lk_addr.reserve(rows / 2 + 1);
        self.out.lk_row.reserve(rows / 2 + 1);
        let firsts: Vec<usize> = self.out.cus.iter().map(|c| c[0] as usize).collect();
        for (k, &first) in firsts.iter().enumerate() {
            let end = firsts.get(k + 1).copied().unwrap_or(rows).min(rows);
            let (addr, lk_row) = (&mut self.out.lk_addr, &mut self.out.lk_row);
            let mut seq_start = addr.len();
            for i in first.min(end)..end {
                let address = self.out.row_addr[i];
                let end_sequence = self.out.row_data[i][3] & 2 != 0;
                // binutils keeps only the last row at an address within a sequence.
                let target = if end_sequence { NONE } else { i as u32 };
                let n = addr.len();
                if n > seq_start && addr[n - 1] == address {
                    lk_row[n - 1] = target;
                } else {
                    addr.push(address);
                    lk_row.push(target);
                }
                if end_sequence {
                    self.seqs.push((seq_start, addr.len()));
                    seq_start = addr.len();
                }
            }
            let n = addr.len();
            if n > seq_start {
                // A sequence without end_sequence (truncated program): close it after its last row.
                addr.push(addr[n - 1] + 1.0);
                lk_row.push(NONE);
                self.seqs.push((seq_start, n + 1));
            }
        }
        // Sequences in address order, the later one winning at a shared address.
        self.order_lookup();
    }

    #[inline(never)]
    fn unit_functions(&mut self, unit: &Unit<R>) -> gimli::Result<()> {
        // File ids are global (by path), so a fresh per-unit cache gives the ids of the line pass.
        let mut file_map: Vec<u32> = Vec::new();
        let file_map = &mut file_map;
        let header = unit.line_program.as_ref().map(|p| p.header().clone());
        let mut cursor = unit.entries();
        let mut depth: isize = 0;
        // (depth, function id or NONE, DIE offset) of the enclosing subprogram/inlined DIEs.
        let mut stack: Vec<(isize, u32, UnitOffset)> = Vec::new();
        while let Some((delta, entry)) = cursor.next_dfs()? {
            depth += delta;
            while let Some(&(d, _, _)) = stack.last() {
                if d >= depth {
                    stack.pop();
                } else {
                    break;
                }
            }
            let tag = entry.tag();
            let inlined = tag == gimli::DW_TAG_inlined_subroutine;
            if !inlined && tag != gimli::DW_TAG_subprogram {
                continue;
            }
            let mut own: Vec<(u64, u64)> = Vec::new();
            if let Ok(mut ranges) = self.dwarf.die_ranges(unit, entry) {
                while let Ok(Some(r)) = ranges.next() {
                    if r.begin < r.end {
                        own.push((r.begin, r.end));
                    }
                }
            }
            if own.is_empty() {
                stack.push((depth, NONE, entry.offset()));
                continue;
            }
            let (name_off, name_len) = self.func_name(unit, entry.offset());
            let mut record = [name_off, name_len, NONE, NONE, 0, 0];
            if inlined {
                if let Some(top) = stack.last_mut() {
                    if top.1 == NONE {
                        // The caller DIE has no code of its own: give it a record for its name.
                        let (o, l) = self.func_name(unit, top.2);
                        top.1 = self.out.funcs.len() as u32;
                        self.out.funcs.push([o, l, NONE, NONE, 0, 0]);
                    }
                    record[2] = top.1;
                }
                if let (Some(h), Ok(Some(v))) = (header.as_ref(), entry.attr_value(gimli::DW_AT_call_file)) {
                    let index = match v {
                        AttributeValue::FileIndex(i) => Some(i),
                        other => other.udata_value(),
                    };
                    if let Some(i) = index {
                        record[3] = self.file_id(unit, h, i, file_map);
                    }
                }
                if let Ok(Some(v)) = entry.attr_value(gimli::DW_AT_call_line) {
                    record[4] = v.udata_value().unwrap_or(0).min(u32::MAX as u64) as u32;
                }
                if let Ok(Some(v)) = entry.attr_value(gimli::DW_AT_call_column) {
                    record[5] = v.udata_value().unwrap_or(0).min(u32::MAX as u64) as u32;
                }
            }
            let func = self.out.funcs.len() as u32;
            self.out.funcs.push(record);
            for (b, e) in own {
                self.ranges.push((b, e, func));
            }
            stack.push((depth, func, entry.offset()));
        }
        Ok(())
    }

    fn func_name(&mut self, unit: &Unit<R>, offset: UnitOffset) -> (u32, u32) {
        // A step budget as well as a depth limit: corrupt DWARF can make origins refer in cycles.
        let mut budget = MAX_NAME_STEPS;
        let (linkage, name) = self.names(unit, offset, 0, &mut budget);
        match linkage.or(name) {
            Some(s) => self.intern(s),
            None => (0, 0),
        }
    }

    /// (linkage name, name) of a DIE, following DW_AT_abstract_origin and DW_AT_specification as
    /// binutils does: a linkage name anywhere in the chain wins over DW_AT_name.
    fn names(&mut self, unit: &Unit<R>, offset: UnitOffset, depth: u32, budget: &mut u32) -> (Str, Str) {
        if depth > MAX_NAME_DEPTH || *budget == 0 {
            return (None, None);
        }
        *budget -= 1;
        let global = offset.to_debug_info_offset(&unit.header).map(|o| o.0);
        if let Some(g) = global {
            if let Some(v) = self.names.get(&g) {
                return *v;
            }
        }
        let mut linkage: Str = None;
        let mut name: Str = None;
        let mut refs: Vec<AttributeValue<R>> = Vec::new();
        if let Ok(entry) = unit.entry(offset) {
            let mut attrs = entry.attrs();
            while let Ok(Some(attr)) = attrs.next() {
                match attr.name() {
                    gimli::DW_AT_linkage_name | gimli::DW_AT_MIPS_linkage_name => {
                        linkage = self.attr_bytes(unit, attr.value())
                    }
                    gimli::DW_AT_name => name = self.attr_bytes(unit, attr.value()),
                    gimli::DW_AT_abstract_origin | gimli::DW_AT_specification => {
                        if refs.len() < 2 {
                            refs.push(attr.value())
                        }
                    }
                    _ => {}
                }
            }
        }
        if linkage.is_none() {
            for r in refs {
                let (l, n) = match r {
                    AttributeValue::UnitRef(o) => self.names(unit, o, depth + 1, budget),
                    AttributeValue::DebugInfoRef(o) => self.names_global(o, depth + 1, budget),
                    _ => (None, None),
                };
                if name.is_none() {
                    name = n;
                }
                if l.is_some() {
                    linkage = l;
                    break;
                }
            }
        }
        if let Some(g) = global {
            self.names.insert(g, (linkage, name));
        }
        (linkage, name)
    }

    fn names_global(&mut self, offset: DebugInfoOffset, depth: u32, budget: &mut u32) -> (Str, Str) {
        let pos = match self.unit_starts.binary_search_by(|(s, _)| s.cmp(&offset.0)) {
            Ok(i) => i,
            Err(0) => return (None, None),
            Err(i) => i - 1,
        };
        let start = self.unit_starts[pos].0;
        let unit = match self.unit_cache.get(&start) {
            Some(u) => u.clone(),
            None => match self.dwarf.unit(self.unit_starts[pos].1) {
                Ok(u) => {
                    let u = Rc::new(u);
                    self.unit_cache.insert(start, u.clone());
                    u
                }
                Err(_) => return (None, None),
            },
        };
        match offset.to_unit_offset(&unit.header) {
            Some(o) => self.names(&unit, o, depth, budget),
            None => (None, None),
        }
    }

    /// Puts the lookup entries in address order, the later sequence winning at a shared address
    /// (an end marker followed by the next sequence's first row). In place when already ordered.
    #[inline(never)]
    fn order_lookup(&mut self) {
        let seqs = std::mem::take(&mut self.seqs);
        let (addr, rows) = (&mut self.out.lk_addr, &mut self.out.lk_row);
        let ordered = addr.windows(2).all(|w| w[0] <= w[1]);
        if !ordered {
            let mut order: Vec<(usize, usize)> = seqs.into_iter().filter(|s| s.1 > s.0).collect();
            order.sort_by(|a, b| addr[a.0].partial_cmp(&addr[b.0]).unwrap_or(std::cmp::Ordering::Equal));
            let mut all: Vec<(f64, u32)> = Vec::with_capacity(addr.len());
            for (s, e) in order {
                for i in s..e {
                    all.push((addr[i], rows[i]));
                }
            }
            all.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
            for (i, (a, r)) in all.into_iter().enumerate() {
                addr[i] = a;
                rows[i] = r;
            }
        }
        // Compact equal addresses, keeping the last entry.
        let mut w = 0;
        for r in 0..addr.len() {
            if w > 0 && addr[w - 1] == addr[r] {
                rows[w - 1] = rows[r];
            } else {
                addr[w] = addr[r];
                rows[w] = rows[r];
                w += 1;
            }
        }
        addr.truncate(w);
        rows.truncate(w);
    }

    fn function_map(&mut self) {
        // address -> innermost function: nested ranges flattened with a stack (smallest range wins,
        // later DIE on ties, as binutils' best fit).
        let mut ranges = std::mem::take(&mut self.ranges);
        ranges.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        let mut segs: Vec<(u64, u32)> = Vec::with_capacity(ranges.len() * 2);
        let mut stack: Vec<(u64, u32)> = Vec::new();
        fn emit(segs: &mut Vec<(u64, u32)>, at: u64, func: u32) {
            if let Some(last) = segs.last_mut() {
                if last.0 == at {
                    last.1 = func;
                    return;
                }
                if last.1 == func {
                    return;
                }
            }
            segs.push((at, func));
        }
        fn close(segs: &mut Vec<(u64, u32)>, stack: &mut Vec<(u64, u32)>, upto: Option<u64>) {
            while let Some(&(end, _)) = stack.last() {
                if let Some(u) = upto {
                    if end > u {
                        break;
                    }
                }
                stack.pop();
                while let Some(&(e2, _)) = stack.last() {
                    if e2 <= end {
                        stack.pop();
                    } else {
                        break;
                    }
                }
                let next = stack.last().map(|s| s.1).unwrap_or(NONE);
                emit(segs, end, next);
            }
        }
        for (begin, end, func) in ranges {
            close(&mut segs, &mut stack, Some(begin));
            emit(&mut segs, begin, func);
            stack.push((end, func));
        }
        close(&mut segs, &mut stack, None);
        self.out.seg_addr = segs.iter().map(|s| s.0 as f64).collect();
        self.out.seg_func = segs.iter().map(|s| s.1).collect();
    }
}
