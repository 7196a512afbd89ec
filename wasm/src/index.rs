//! Walks every compilation unit once and produces the flat module index (see out.rs): all line rows,
//! the file table resolved to absolute paths the way binutils does, functions and inlined subroutines
//! with their call sites, and two sorted address maps (address -> innermost function, address -> row).
//! Corrupt units are skipped with a warning so that one bad CU does not hide the others.

use crate::lineprog;
use crate::out::{Out, END_SEQUENCE, NONE};
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
    address_map_done: bool,
    /// Units whose line pass succeeded: the only ones the function pass reads (as before the split).
    lines_ok: Vec<bool>,
    /// Decode line programs with gimli alone (tests compare it with the fast interpreter).
    gimli_only: bool,
    functions_done: bool,
    first_warning: Option<String>,
    warnings: u32,
}

pub enum BuildError {
    Message(String),
    /// Only a prefix of each unit was copied and it did not suffice: retry with all of .debug_info.
    NeedInfo,
}

/// Where the root DIE of `unit` ends (a unit offset: bytes from the unit's first byte).
fn root_die_end(unit: &Unit<R>) -> gimli::Result<usize> {
    let mut raw = unit.entries_raw(None)?;
    if let Some(abbrev) = raw.read_abbreviation()? {
        raw.skip_attributes(abbrev.attributes())?;
    }
    Ok(raw.next_offset().0)
}

/// The line pass: every unit's line program and the file table. The address -> row map and the
/// functions (the .debug_info walk), which `dwarf lines` never needs, come later from
/// `address_map()` and `functions()`. With `info_prefix` != 0 only that many bytes of each unit are
/// present: anything short of a clean pass within them asks for all of .debug_info (NeedInfo).
pub fn build(sections: [&'static [u8]; SECTION_COUNT], gimli_only: bool, info_prefix: usize) -> Result<Builder<'static>, BuildError> {
    let dwarf = gimli::Dwarf::load(|id| -> Result<R, ()> {
        let data = section_slot(id).map(|i| sections[i]).unwrap_or(&[]);
        Ok(EndianSlice::new(data, LittleEndian))
    })
    .map_err(|_| BuildError::Message("cannot load sections".to_string()))?;
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
    let partial = info_prefix != 0;
    if partial && b.warnings > 0 {
        return Err(BuildError::NeedInfo);
    }
    if b.unit_starts.is_empty() {
        return Err(BuildError::Message(b.first_warning.take().unwrap_or_else(|| "no compilation units in .debug_info".to_string())));
    }
    // Rows average 3-4 bytes of .debug_line: reserving up front avoids copying on growth.
    let estimate = sections[2].len() / 3;
    b.out.row_lo.reserve(estimate);
    b.out.row_data.reserve(estimate);
    let headers: Vec<gimli::UnitHeader<R>> = b.unit_starts.iter().map(|(_, h)| *h).collect();
    let mut ok_units = 0;
    for (i, h) in headers.into_iter().enumerate() {
        let result = match dwarf.unit(h) {
            Ok(unit) => {
                if partial && !matches!(root_die_end(&unit), Ok(end) if end <= info_prefix) {
                    return Err(BuildError::NeedInfo);
                }
                b.lines(&unit)
            }
            Err(e) => Err(e),
        };
        if partial && result.is_err() {
            return Err(BuildError::NeedInfo);
        }
        match result {
            Ok(()) => ok_units += 1,
            Err(e) => b.warn(format!("compilation unit #{} (offset {:#x}): {}", i, b.unit_starts[i].0, e)),
        }
        b.lines_ok.push(result.is_ok());
    }
    if ok_units == 0 {
        return Err(BuildError::Message(b.first_warning.take().unwrap_or_else(|| "no readable compilation unit".to_string())));
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
        // Room for what the walk finds (SQLite: a range per 50 bytes of .debug_info, a function per
        // 130): a growing vector is copied to fresh memory at each doubling, and fresh memory costs
        // more than the copying. Reserved but untouched memory costs nothing.
        let info = gimli::Section::reader(&self.dwarf.debug_info).len();
        self.ranges.reserve(info / 32);
        self.out.funcs.reserve(info / 64);
        self.names.reserve(info / 128);
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
            // objdump heads each unit with the bare name of its first file entry ("CU: " before it
            // when the directory table is empty), then the column names.
            let cu_name: Vec<u8> = match header.file(first) {
                Some(f) => self.attr_bytes(unit, f.path_name()).unwrap_or(b"").to_vec(),
                None => Vec::new(),
            };
            let heading = if header.file_names().is_empty() {
                b"CU: No directory table\nCU: Empty file name table\n".to_vec()
            } else {
                let cu = if header.include_directories().is_empty() { &b"CU: "[..] } else { b"" };
                [cu, &lossy(&cu_name), b":\n", crate::text::HEADER].concat()
            };
            let (no, nl) = self.out.string(&heading);
            let default_file = self.file_id(unit, header, 1, &mut file_map);
            self.out.cus.push([self.out.row_count() as u32, no, nl, version, default_file, 0]);
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
            let first_row = self.out.row_count();
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
                let flags = r.is_stmt as u32 | (r.end_sequence as u32) << 1 | ((version >= 5 && !r.file_set) as u32) << 2;
                self.out.push_row(r.address, file, r.line, r.column, flags, r.view, r.discriminator);
            }) };
            if fast.is_ok() {
                return Ok(());
            }
            self.out.truncate_rows(first_row);
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
                let line = row.line().map(|l| l.get()).unwrap_or(0);
                let column = match row.column() {
                    ColumnType::LeftEdge => 0,
                    ColumnType::Column(c) => c.get(),
                };
                let flags = row.is_stmt() as u32 | (row.end_sequence() as u32) << 1 | ((version >= 5 && !file_set) as u32) << 2;
                self.out.push_row(row.address(), file, line, column, flags, view, row.discriminator());
                view = view.saturating_add(1);
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
        let rows = self.out.row_count();
        // The sequences (first row, end row, whether it ended with end_sequence), in program order.
        let mut seqs: Vec<(usize, usize, bool)> = Vec::new();
        let firsts: Vec<usize> = self.out.cus.iter().map(|c| c[0] as usize).collect();
        for (k, &first) in firsts.iter().enumerate() {
            let end = firsts.get(k + 1).copied().unwrap_or(rows).min(rows);
            let mut start = first.min(end);
            for i in start..end {
                if self.out.row_data[i][2] & END_SEQUENCE != 0 {
                    seqs.push((start, i + 1, true));
                    start = i + 1;
                }
            }
            if end > start {
                // A sequence without end_sequence (truncated program): closed after its last row.
                seqs.push((start, end, false));
            }
        }
        // Sequences in address order (stable: at a shared start, program order), so that the entries
        // come out sorted unless sequences overlap; the later sequence wins at a shared address.
        let out = &self.out;
        seqs.sort_by(|a, b| out.row_address_f64(a.0).partial_cmp(&out.row_address_f64(b.0)).unwrap_or(std::cmp::Ordering::Equal));
        let mut addr: Vec<f64> = Vec::with_capacity(rows + seqs.len());
        let mut lk_row: Vec<u32> = Vec::with_capacity(rows + seqs.len());
        let mut sorted = true;
        for &(first, end, ended) in &seqs {
            let seq_start = addr.len();
            for i in first..end {
                let address = out.row_address_f64(i);
                // binutils keeps only the last row at an address within a sequence.
                let target = if out.row_data[i][2] & END_SEQUENCE != 0 { NONE } else { i as u32 };
                let n = addr.len();
                if n > seq_start && addr[n - 1] == address {
                    lk_row[n - 1] = target;
                    continue;
                }
                if n > 0 && addr[n - 1] > address {
                    sorted = false;
                }
                addr.push(address);
                lk_row.push(target);
            }
            if !ended {
                let last = addr[addr.len() - 1];
                addr.push(last + 1.0);
                lk_row.push(NONE);
            }
        }
        if !sorted {
            // Overlapping sequences (or addresses going backwards): a stable sort keeps, at each
            // address, the entries in sequence order, and the compaction below keeps the last.
            let mut all: Vec<(f64, u32)> = addr.iter().copied().zip(lk_row.iter().copied()).collect();
            all.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
            for (i, (a, r)) in all.into_iter().enumerate() {
                addr[i] = a;
                lk_row[i] = r;
            }
        }
        // Compact equal addresses, keeping the last entry.
        let mut w = 0;
        for r in 0..addr.len() {
            if w > 0 && addr[w - 1] == addr[r] {
                lk_row[w - 1] = lk_row[r];
            } else {
                addr[w] = addr[r];
                lk_row[w] = lk_row[r];
                w += 1;
            }
        }
        addr.truncate(w);
        lk_row.truncate(w);
        self.out.lk_addr = addr;
        self.out.lk_row = lk_row;
    }

    /// One unit's subprograms and inlined subroutines. The DIEs are read raw: only these two tags
    /// have their attributes decoded (each once); every other DIE's attributes are skipped by size.
    #[inline(never)]
    fn unit_functions(&mut self, unit: &Unit<R>) -> gimli::Result<()> {
        // File ids are global (by path), so a fresh per-unit cache gives the ids of the line pass.
        let mut file_map: Vec<u32> = Vec::new();
        let file_map = &mut file_map;
        let header = unit.line_program.as_ref().map(|p| p.header().clone());
        let mut raw = unit.entries_raw(None)?;
        let mut depth: isize = 0;
        // (depth, function id or NONE, DIE offset) of the enclosing subprogram/inlined DIEs.
        let mut stack: Vec<(isize, u32, UnitOffset)> = Vec::new();
        let mut own: Vec<(u64, u64)> = Vec::new();
        while !raw.is_empty() {
            let offset = raw.next_offset();
            let abbrev = match raw.read_abbreviation()? {
                Some(a) => a,
                None => {
                    depth -= 1; // a null entry ends a list of siblings
                    continue;
                }
            };
            let die_depth = depth;
            if abbrev.has_children() {
                depth += 1;
            }
            while let Some(&(d, _, _)) = stack.last() {
                if d >= die_depth {
                    stack.pop();
                } else {
                    break;
                }
            }
            let tag = abbrev.tag();
            let inlined = tag == gimli::DW_TAG_inlined_subroutine;
            if !inlined && tag != gimli::DW_TAG_subprogram {
                raw.skip_attributes(abbrev.attributes())?;
                continue;
            }
            // What gimli's die_ranges would give (the first usable DW_AT_ranges wins; an unusable
            // low_pc/high_pc/ranges ends the search with no ranges), and the attributes for the name
            // and the call site (the first of each, as attr_value finds them).
            let (mut low, mut high, mut size) = (None, None, None);
            let mut list = None;
            let mut failed = false;
            let (mut linkage, mut name): (Str, Str) = (None, None);
            let mut refs: [Option<AttributeValue<R>>; 2] = [None, None];
            let (mut call_file, mut call_line, mut call_column) = (None, None, None);
            for spec in abbrev.attributes() {
                let attr = raw.read_attribute(*spec)?;
                let ranges_open = !failed && list.is_none();
                match attr.name() {
                    gimli::DW_AT_low_pc if ranges_open => match self.dwarf.attr_address(unit, attr.value()) {
                        Ok(Some(a)) => low = Some(a),
                        _ => failed = true,
                    },
                    gimli::DW_AT_high_pc if ranges_open => match attr.value() {
                        AttributeValue::Udata(v) => size = Some(v),
                        v => match self.dwarf.attr_address(unit, v) {
                            Ok(Some(a)) => high = Some(a),
                            _ => failed = true,
                        },
                    },
                    gimli::DW_AT_ranges if ranges_open => match self.dwarf.attr_ranges(unit, attr.value()) {
                        Ok(Some(l)) => list = Some(l),
                        Ok(None) => {}
                        Err(_) => failed = true,
                    },
                    gimli::DW_AT_linkage_name | gimli::DW_AT_MIPS_linkage_name => linkage = self.attr_bytes(unit, attr.value()),
                    gimli::DW_AT_name => name = self.attr_bytes(unit, attr.value()),
                    gimli::DW_AT_abstract_origin | gimli::DW_AT_specification => {
                        if let Some(slot) = refs.iter_mut().find(|r| r.is_none()) {
                            *slot = Some(attr.value());
                        }
                    }
                    gimli::DW_AT_call_file if call_file.is_none() => call_file = Some(attr.value()),
                    gimli::DW_AT_call_line if call_line.is_none() => call_line = Some(attr.value()),
                    gimli::DW_AT_call_column if call_column.is_none() => call_column = Some(attr.value()),
                    _ => {}
                }
            }
            own.clear();
            if !failed {
                if let Some(mut l) = list {
                    while let Ok(Some(r)) = l.next() {
                        if r.begin < r.end {
                            own.push((r.begin, r.end));
                        }
                    }
                } else if let Some(begin) = low {
                    if let Some(end) = size.map(|s| begin.wrapping_add(s)).or(high) {
                        if begin < end {
                            own.push((begin, end));
                        }
                    }
                }
            }
            if own.is_empty() {
                stack.push((die_depth, NONE, offset));
                continue;
            }
            let (name_off, name_len) = self.die_name(unit, offset, linkage, name, refs);
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
                if let (Some(h), Some(v)) = (header.as_ref(), call_file) {
                    let index = match v {
                        AttributeValue::FileIndex(i) => Some(i),
                        other => other.udata_value(),
                    };
                    if let Some(i) = index {
                        record[3] = self.file_id(unit, h, i, file_map);
                    }
                }
                if let Some(v) = call_line {
                    record[4] = v.udata_value().unwrap_or(0).min(u32::MAX as u64) as u32;
                }
                if let Some(v) = call_column {
                    record[5] = v.udata_value().unwrap_or(0).min(u32::MAX as u64) as u32;
                }
            }
            let func = self.out.funcs.len() as u32;
            self.out.funcs.push(record);
            for &(b, e) in &own {
                self.ranges.push((b, e, func));
            }
            stack.push((die_depth, func, offset));
        }
        Ok(())
    }

    /// func_name of a DIE whose name attributes the walk has already read (no second parse).
    fn die_name(&mut self, unit: &Unit<R>, offset: UnitOffset, linkage: Str, name: Str, refs: [Option<AttributeValue<R>>; 2]) -> (u32, u32) {
        let mut budget = MAX_NAME_STEPS - 1;
        let global = offset.to_debug_info_offset(&unit.header).map(|o| o.0);
        let cached = global.and_then(|g| self.names.get(&g).copied());
        let (linkage, name) = match cached {
            Some(v) => v,
            None => {
                let v = self.follow_names(unit, linkage, name, refs, 0, &mut budget);
                if let Some(g) = global {
                    self.names.insert(g, v);
                }
                v
            }
        };
        match linkage.or(name) {
            Some(s) => self.intern(s),
            None => (0, 0),
        }
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
        let mut refs: [Option<AttributeValue<R>>; 2] = [None, None];
        if let Ok(entry) = unit.entry(offset) {
            let mut attrs = entry.attrs();
            while let Ok(Some(attr)) = attrs.next() {
                match attr.name() {
                    gimli::DW_AT_linkage_name | gimli::DW_AT_MIPS_linkage_name => {
                        linkage = self.attr_bytes(unit, attr.value())
                    }
                    gimli::DW_AT_name => name = self.attr_bytes(unit, attr.value()),
                    gimli::DW_AT_abstract_origin | gimli::DW_AT_specification => {
                        if let Some(slot) = refs.iter_mut().find(|r| r.is_none()) {
                            *slot = Some(attr.value());
                        }
                    }
                    _ => {}
                }
            }
        }
        let v = self.follow_names(unit, linkage, name, refs, depth, budget);
        if let Some(g) = global {
            self.names.insert(g, v);
        }
        v
    }

    /// A DIE's own (linkage name, name), completed from the DIEs it refers to while no linkage name
    /// is known.
    fn follow_names(&mut self, unit: &Unit<R>, mut linkage: Str, mut name: Str, refs: [Option<AttributeValue<R>>; 2], depth: u32, budget: &mut u32) -> (Str, Str) {
        if linkage.is_none() {
            for r in refs.into_iter().flatten() {
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

    fn function_map(&mut self) {
        // address -> innermost function: nested ranges flattened with a stack (smallest range wins,
        // later DIE on ties, as binutils' best fit).
        let mut ranges = std::mem::take(&mut self.ranges);
        // Every field is in the key, so equal entries are identical: an unstable sort (in place, no
        // buffer of fresh memory) orders them as a stable one would.
        ranges.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        // Written straight into the two result arrays (no intermediate list in fresh memory).
        struct Segs {
            addr: Vec<f64>,
            func: Vec<u32>,
            last_at: u64,
        }
        impl Segs {
            fn emit(&mut self, at: u64, func: u32) {
                if let Some(last) = self.func.last_mut() {
                    if self.last_at == at {
                        *last = func;
                        return;
                    }
                    if *last == func {
                        return;
                    }
                }
                self.addr.push(at as f64);
                self.func.push(func);
                self.last_at = at;
            }
        }
        let mut segs = Segs { addr: Vec::with_capacity(ranges.len() * 2), func: Vec::with_capacity(ranges.len() * 2), last_at: 0 };
        let mut stack: Vec<(u64, u32)> = Vec::new();
        fn close(segs: &mut Segs, stack: &mut Vec<(u64, u32)>, upto: Option<u64>) {
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
                segs.emit(end, next);
            }
        }
        for (begin, end, func) in ranges {
            close(&mut segs, &mut stack, Some(begin));
            segs.emit(begin, func);
            stack.push((end, func));
        }
        close(&mut segs, &mut stack, None);
        self.out.seg_addr = segs.addr;
        self.out.seg_func = segs.func;
    }
}
