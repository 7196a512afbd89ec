// The DWARF/ELF layer against binutils and LLVM on fixtures compiled here: line rows identical to
// `objdump --dwarf=decodedline` and `llvm-dwarfdump --debug-line`, lookups identical to
// `addr2line -f -i`, for DWARF 2-5, -O0/-O2, compressed sections, PIE, a shared library, a separate
// debug file and inlined C++ templates; plus the errors for bad input.
import { strict as assert } from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/core/assets';
import { addr2lineLines } from '../../src/core/dwarf/addr2line';
import { writeObjdumpDecodedLine } from '../../src/core/dwarf/decodedLine';
import { clearModuleIndexCache, DwarfError, DwarfModuleIndex, indexModuleBytes, openModuleIndex } from '../../src/core/dwarf/moduleIndex';
import { copySections, ModuleData, NONE, ROW_END_SEQUENCE, ROW_STMT, SECTION_IDS } from '../../src/core/dwarf/wasmResult';
import { instantiateDwarfWasm, type DwarfWasmExports } from '../../src/core/dwarfWasm';
import { ElfFile } from '../../src/core/elf/elfFile';

const FIXTURES = join(__dirname, '..', 'fixtures', 'dwarf');

function run(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] });
}

function has(cmd: string): boolean {
  try {
    execFileSync(cmd, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const LLVM_DWARFDUMP = ['llvm-dwarfdump', 'llvm-dwarfdump-14'].find(has);

interface Variant {
  name: string;
  source: string;
  flags: string[];
  /**
   * Post-processing after linking, e.g. objcopy; may name the separate debug file (what objdump and
   * llvm-dwarfdump read) and the binary addr2line reads (binutils 2.40's addr2line ignores .zdebug_*).
   */
  post?: (bin: string) => { debug?: string; addr2line?: string } | void;
  /** How many bits of a column llvm-dwarfdump keeps, if fewer than ours. */
  llvmColumnBits?: number;
}

const variants: Variant[] = [
  { name: 'C -O0 DWARF 4', source: 'lines.c', flags: ['-O0', '-gdwarf-4'] },
  { name: 'C -O2 DWARF 4', source: 'lines.c', flags: ['-O2', '-gdwarf-4'] },
  { name: 'C -O0 DWARF 5', source: 'lines.c', flags: ['-O0', '-gdwarf-5'] },
  { name: 'C -O2 DWARF 5', source: 'lines.c', flags: ['-O2', '-gdwarf-5'] },
  { name: 'C -O1 DWARF 3', source: 'lines.c', flags: ['-O1', '-gdwarf-3'] },
  { name: 'C -O2 DWARF 2', source: 'lines.c', flags: ['-O2', '-gdwarf-2'] },
  { name: 'C -O2 -gz (SHF_COMPRESSED)', source: 'lines.c', flags: ['-O2', '-g', '-gz=zlib'] },
  {
    name: 'C -O2 .zdebug_* (zlib-gnu)',
    source: 'lines.c',
    flags: ['-O2', '-g'],
    post: (bin) => {
      copyFileSync(bin, `${bin}.plain`);
      run('objcopy', ['--compress-debug-sections=zlib-gnu', bin]);
      assert.ok(new ElfFile(bin, readFileSync(bin)).section('.zdebug_info'), 'objcopy made no .zdebug_info');
      return { addr2line: `${bin}.plain` };
    },
  },
  { name: 'C -O2 non-PIE', source: 'lines.c', flags: ['-O2', '-g', '-no-pie', '-fno-pie'] },
  { name: 'C -O2 PIE', source: 'lines.c', flags: ['-O2', '-g', '-fPIE', '-pie'] },
  { name: 'shared library -O2', source: 'shared.c', flags: ['-O2', '-g', '-shared', '-fPIC'] },
  { name: 'C++ templates -O2 DWARF 5', source: 'templates.cpp', flags: ['-O2', '-gdwarf-5'] },
  { name: 'C++ templates -O2 DWARF 4', source: 'templates.cpp', flags: ['-O2', '-gdwarf-4'] },
  { name: 'C++ templates -O0', source: 'templates.cpp', flags: ['-O0', '-g'] },
  {
    name: 'C -O2 code below and above 4 GiB',
    source: 'far.c',
    flags: ['-O2', '-g', '-no-pie', '-fno-pie', '-mcmodel=large', '-fno-asynchronous-unwind-tables', '-Wl,--section-start=far_text=0x300000000'],
  },
  // llvm-dwarfdump keeps a column in 16 bits: it prints 70000 as 4464.
  { name: 'assembler: 5000 rows at one address (views), column 70000', source: 'views.s', flags: [], llvmColumnBits: 16 },
  {
    name: 'separate .debug file (--only-keep-debug + --add-gnu-debuglink)',
    source: 'lines.c',
    flags: ['-O2', '-g'],
    post: (bin) => {
      const debug = `${bin}.debug`;
      run('objcopy', ['--only-keep-debug', bin, debug]);
      run('objcopy', ['--strip-debug', `--add-gnu-debuglink=${debug}`, bin], join(bin, '..'));
      return { debug };
    },
  },
];

/** Rows parsed from `llvm-dwarfdump --debug-line`, files as the table's name strings. */
function llvmRows(bin: string): string[] {
  const out: string[] = [];
  let names: Map<number, string> = new Map();
  let pendingIndex = -1;
  for (const line of run(LLVM_DWARFDUMP!, ['--debug-line', bin]).split('\n')) {
    if (line.startsWith('debug_line[')) names = new Map();
    let m = /^file_names\[\s*(\d+)\]:/.exec(line);
    if (m) pendingIndex = Number(m[1]);
    m = /^\s+name: "(.*)"$/.exec(line);
    if (m && pendingIndex >= 0) {
      names.set(pendingIndex, m[1]);
      pendingIndex = -1;
    }
    m = /^0x([0-9a-f]+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*(.*)$/.exec(line);
    if (m) {
      const flags = m[7].split(/\s+/);
      out.push([BigInt(`0x${m[1]}`).toString(16), m[2], m[3], names.get(Number(m[4])) ?? `#${m[4]}`, m[6], flags.includes('is_stmt'), flags.includes('end_sequence')].join(' '));
    }
  }
  return out;
}

function ourRows(index: DwarfModuleIndex): string[] {
  const out: string[] = [];
  for (let i = 0; i < index.rowCount; i++) {
    const f = index.rowFlags(i);
    out.push([index.rowAddress(i).toString(16), index.rowLine(i), index.rowColumn(i), index.fileTableName(index.rowFile(i)), index.rowDiscriminator(i), (f & ROW_STMT) !== 0, (f & ROW_END_SEQUENCE) !== 0].join(' '));
  }
  return out;
}

function objdumpText(index: DwarfModuleIndex, label: string): string {
  const chunks: Buffer[] = [];
  writeObjdumpDecodedLine(index, label, (c) => chunks.push(Buffer.from(c)));
  return Buffer.concat(chunks).toString('utf8');
}

describe('DWARF layer vs binutils and LLVM', function () {
  let dir: string;
  const built = new Map<string, { bin: string; debug?: string; addr2line?: string }>();

  before(function () {
    for (const tool of ['gcc', 'g++', 'objdump', 'addr2line', 'objcopy']) if (!has(tool)) throw new Error(`${tool} is required (apt-get install build-essential binutils)`);
    dir = mkdtempSync(join(tmpdir(), 'planescope-dwarf-'));
    variants.forEach((v, i) => {
      const bin = join(dir, `fixture${i}${v.flags.includes('-shared') ? '.so' : ''}`);
      const cc = v.source.endsWith('.cpp') ? 'g++' : 'gcc';
      run(cc, [...v.flags, '-o', bin, join(FIXTURES, v.source)], dir);
      built.set(v.name, { bin, ...(v.post?.(bin) ?? {}) });
    });
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const v of variants) {
    describe(v.name, () => {
      it('lists the rows exactly as objdump --dwarf=decodedline', () => {
        const { bin, debug } = built.get(v.name)!;
        clearModuleIndexCache(); // same build-id as another variant, but the section names differ
        const index = openModuleIndex(bin);
        const dumped = debug ?? bin;
        const expected = run('objdump', ['--dwarf=decodedline', dumped], dir);
        assert.ok(index.rowCount > 10, `only ${index.rowCount} rows`);
        assert.equal(objdumpText(index, dumped), expected);
      });

      it('has the rows of llvm-dwarfdump --debug-line (address, line, column, file, discriminator, flags)', function () {
        if (!LLVM_DWARFDUMP) this.skip();
        const { bin, debug } = built.get(v.name)!;
        const expected = llvmRows(debug ?? bin);
        assert.ok(expected.length > 10);
        const truncate = (row: string) => row.replace(/^(\S+ \S+ )(\d+)/, (_, head: string, column: string) => `${head}${Number(column) % 2 ** v.llvmColumnBits!}`);
        assert.deepEqual(ourRows(openModuleIndex(bin)).map(v.llvmColumnBits ? truncate : (row) => row), expected);
      });

      it('gives the same rows and text with the fast line-program interpreter as with gimli alone', () => {
        const { bin } = built.get(v.name)!;
        const fast = openModuleIndex(bin);
        const gimli = openModuleIndex(bin, { lineDecoder: 'gimli' });
        assert.notStrictEqual(gimli, fast);
        assert.deepEqual(ourRows(fast), ourRows(gimli));
        assert.equal(objdumpText(fast, bin), objdumpText(gimli, bin));
      });

      it('resolves every address of the line table like addr2line -f -i', () => {
        const { bin, addr2line } = built.get(v.name)!;
        const index = openModuleIndex(bin);
        const addrs = [...new Set(Array.from({ length: index.rowCount }, (_, i) => index.rowAddress(i)))].map((a) => `0x${a.toString(16)}`);
        const expected = run('addr2line', ['-f', '-i', '-e', addr2line ?? bin, ...addrs]);
        const ours = addrs.map((a) => addr2lineLines(index, Number(a)).join('\n')).join('\n') + '\n';
        assert.equal(ours, expected);
      });
    });
  }

  it('gives the same index when the file is read sparsely (as large files are)', () => {
    for (const name of ['C -O2 DWARF 5', 'C -O2 -gz (SHF_COMPRESSED)', 'shared library -O2']) {
      const { bin } = built.get(name)!;
      clearModuleIndexCache();
      const whole = openModuleIndex(bin, { sparseFrom: Infinity });
      clearModuleIndexCache();
      const sparse = openModuleIndex(bin, { sparseFrom: 0 });
      assert.notStrictEqual(sparse, whole);
      assert.equal(sparse.buildId, whole.buildId);
      assert.deepEqual(ourRows(sparse), ourRows(whole), name);
      for (let i = 0; i < whole.rowCount; i += 7) {
        const a = whole.rowAddress(i);
        assert.deepEqual(addr2lineLines(sparse, a), addr2lineLines(whole, a), `${name} 0x${a.toString(16)}`);
      }
    }
  });

  it('keeps columns and views too large for a row\'s packed word', () => {
    const index = openModuleIndex(built.get('assembler: 5000 rows at one address (views), column 70000')!.bin);
    assert.equal(index.rowColumn(0), 70000);
    assert.deepEqual([1, 2, 4096, 5000].map((i) => [index.rowLine(i), index.rowView(i), index.rowColumn(i)]), [[4, 0, 5], [4, 1, 5], [4, 4095, 5], [4, 4999, 5]]);
    assert.equal(index.rowAddress(5000), index.rowAddress(1));
    assert.equal(index.lookup(index.rowAddress(1))?.column, 5, 'the last row at an address');
  });

  it('keeps row addresses in 32 bits unless their high bits differ', () => {
    const near = openModuleIndex(built.get('C -O2 DWARF 5')!.bin);
    assert.ok(near.data.rowLo.length === near.rowCount && near.data.rowAddr.length === 0);
    const far = openModuleIndex(built.get('C -O2 code below and above 4 GiB')!.bin);
    assert.ok(far.data.rowLo.length === 0 && far.data.rowAddr.length === far.rowCount);
    assert.equal(far.rowAddress(0), 0x300000000);
    assert.equal(far.lookup(0x300000000)?.function, 'far_away');
  });

  it('resolves file names to absolute paths through comp_dir and include directories', () => {
    const index = openModuleIndex(built.get('C -O2 DWARF 5')!.bin);
    const files = index.files();
    assert.ok(files.includes(join(FIXTURES, 'lines.c')), files.join(', '));
    assert.ok(files.includes(join(FIXTURES, 'util.h')), files.join(', '));
    assert.ok(files.every((f) => f.startsWith('/')), files.join(', '));
  });

  it('gives the inline chain innermost first and the outer function', () => {
    const index = openModuleIndex(built.get('C -O2 DWARF 5')!.bin);
    let found = false;
    for (let i = 0; i < index.rowCount && !found; i++) {
      const info = index.lookup(index.rowAddress(i));
      if (info && info.frames[0].function === 'mix' && info.frames.length === 3) {
        assert.deepEqual(info.frames.map((f) => f.function), ['mix', 'mix_all', 'main']);
        assert.equal(info.function, 'main');
        assert.equal(info.frames[0].file, join(FIXTURES, 'util.h'));
        assert.equal(info.frames[2].file, join(FIXTURES, 'lines.c'));
        assert.equal(info.frames[2].line, 38);
        assert.equal(info.file, info.frames[0].file);
        found = true;
      }
    }
    assert.ok(found, 'no address inside mix() inlined into mix_all() inlined into main()');
  });

  it('maps (file, line) to address ranges that lookup maps back to that line', () => {
    const index = openModuleIndex(built.get('C -O0 DWARF 4')!.bin);
    const file = join(FIXTURES, 'lines.c');
    const ranges = index.rangesForLine(file, 11); // return (x->key > y->key) - ...
    assert.ok(ranges.length > 0);
    for (const [start, end] of ranges) assert.ok(end > start);
    assert.ok(ranges.some(([start]) => index.lookup(start)?.line === 11));
    assert.deepEqual(index.rangesForLine('lines.c', 11), ranges, 'a relative name matches by suffix');
    assert.deepEqual(index.rangesForLine(file, 1), [], 'a comment line has no code');
    assert.equal(index.lookup(0), undefined);
  });

  it('builds an index once per build-id', () => {
    clearModuleIndexCache();
    const bin = built.get('C -O2 DWARF 4')!.bin;
    const a = openModuleIndex(bin);
    assert.match(a.buildId, /^[0-9a-f]{40}$/);
    assert.strictEqual(openModuleIndex(bin), a);
    const copy = join(dir, 'copy-same-build-id');
    copyFileSync(bin, copy);
    assert.strictEqual(openModuleIndex(copy), a, 'a copy has the same build-id');
  });

  it('finds the debug file under <debug root>/.build-id/xx/yyyy.debug', () => {
    clearModuleIndexCache();
    const bin = join(dir, 'by-build-id');
    run('gcc', ['-O2', '-g', '-o', bin, join(FIXTURES, 'lines.c')]);
    const id = new ElfFile(bin, readFileSync(bin)).buildId()!;
    const root = join(dir, 'debugroot');
    mkdirSync(join(root, '.build-id', id.slice(0, 2)), { recursive: true });
    run('objcopy', ['--only-keep-debug', bin, join(root, '.build-id', id.slice(0, 2), `${id.slice(2)}.debug`)]);
    run('objcopy', ['--strip-debug', bin]);
    assert.throws(() => openModuleIndex(bin), (e: Error) => e instanceof DwarfError && e.message === `no debug info in ${bin} (build-id ${id}): install its debug symbols or point to the .debug file`);
    clearModuleIndexCache();
    const index = openModuleIndex(bin, { debugRoot: root });
    assert.equal(index.debugPath, join(root, '.build-id', id.slice(0, 2), `${id.slice(2)}.debug`));
    assert.ok(index.rowCount > 10);
  });

  it('converts run-time addresses of a PIE to link-time addresses through its load segments', () => {
    const index = openModuleIndex(built.get('C -O2 PIE')!.bin);
    const exec = index.loadSegments().find((s) => s.flags & 1)!;
    const base = 0x555555554000;
    const mapStart = base + (exec.vaddr - (exec.vaddr % 4096));
    const mapOffset = exec.offset - (exec.offset % 4096);
    const addr = index.rowAddress(0);
    assert.equal(index.linkAddress(base + addr, mapStart, mapOffset), addr);
    assert.ok(index.lookup(addr));
  });

  it('renders the same objdump text however small the chunks (the wasm resumes at any row)', () => {
    for (const name of ['C -O2 DWARF 5', 'C++ templates -O2 DWARF 4']) {
      const { bin } = built.get(name)!;
      const index = openModuleIndex(bin);
      const expected = run('objdump', ['--dwarf=decodedline', bin], dir);
      for (const chunkBytes of [1, 97, 4096]) {
        const chunks: Buffer[] = [];
        writeObjdumpDecodedLine(index, bin, (c) => chunks.push(Buffer.from(c)), chunkBytes);
        assert.ok(chunks.length > (chunkBytes === 1 ? index.rowCount : 2), `${name}: only ${chunks.length} chunks of ${chunkBytes}`);
        assert.equal(Buffer.concat(chunks).toString('utf8'), expected, `${name}, chunks of ${chunkBytes} bytes`);
      }
    }
  });

  it('keeps the rows and the lines when a later pass traps (wasm memory exhausted)', () => {
    const bin = built.get('C -O2 DWARF 5')!.bin;
    const index = indexModuleBytes(bin, readFileSync(bin)); // uncached: this instance is spoilt below
    const rowsBefore = ourRows(index);
    const addrs = Array.from({ length: index.rowCount }, (_, i) => index.rowAddress(i));
    const expected = addrs.map((a) => index.rowAt(a)); // builds the address map
    // The one way to make the real .wasm trap on demand: take all the memory it could grow into,
    // so that the function pass's first allocation aborts.
    const wasm = (index.data as unknown as { wasm: DwarfWasmExports }).wasm;
    for (const size of [256 << 20, 16 << 20, 1 << 20, 64 << 10, 4096, 64, 8]) while (wasm.ps_alloc(size) !== 0) continue;
    const info = index.lookup(addrs[0]);
    assert.match(index.warning ?? '', /the DWARF decoder trapped reading functions/);
    assert.ok(info && info.line > 0 && info.file.endsWith('.c'), 'lines survive the trap');
    assert.equal(index.functionAt(addrs[0]), NONE);
    assert.deepEqual(addrs.map((a) => index.rowAt(a)), expected);
    assert.deepEqual(ourRows(index), rowsBefore);
    assert.throws(() => index.writeDecodedLineText(() => undefined), (e: Error) => e instanceof DwarfError && /trapped earlier/.test(e.message));
  });

  it('copies of .debug_info only the unit headers and root DIEs for the line pass, the rest before the function pass', () => {
    // Two units (and a small prefix and read size) so that some bytes of each are left out at first.
    const bin = join(dir, 'two-units');
    run('gcc', ['-O2', '-g', '-o', bin, join(FIXTURES, 'lines.c'), join(FIXTURES, 'shared.c')]);
    const elf = new ElfFile(bin, readFileSync(bin));
    const sections = new Map<string, Uint8Array>();
    for (const name of Object.keys(SECTION_IDS)) {
      const s = elf.section(name);
      if (s && s.size) sections.set(name, elf.contents(s));
    }
    const info = sections.get('.debug_info')!;
    const build = (infoPrefix: number) => {
      const wasm = instantiateDwarfWasm();
      const copied = copySections(wasm, sections, { infoPrefix, infoRead: 1 });
      return { wasm, copied, status: wasm.ps_build_index(copied.table, copied.count, copied.prefix) };
    };
    const whole = build(0);
    assert.equal(whole.status, 0);
    const reference = new ModuleData(whole.wasm, whole.copied.fill);
    reference.buildAddressMap();
    reference.buildFunctions();
    assert.ok(reference.cus.length / 6 === 2 && reference.funcs.length > 0);
    const arrays = (d: ModuleData) => [d.rowAddr, d.rowLo, [d.addrBase], d.rowData, d.rowExtra, d.files, d.cus, d.funcs, d.segAddr, d.segFunc, d.lkAddr, d.lkRow, d.strings].map((a) => Array.from(a));

    const partial = build(128);
    assert.equal(partial.status, 0, 'the root DIEs fit in 128 bytes');
    const triples = new Uint32Array(partial.wasm.memory.buffer, partial.copied.table, partial.copied.count * 3);
    const at = [...Array(partial.copied.count).keys()].map((k) => triples[k * 3]).indexOf(SECTION_IDS['.debug_info']);
    const inWasm = new Uint8Array(partial.wasm.memory.buffer, triples[at * 3 + 1], info.length);
    assert.ok(Buffer.from(inWasm.subarray(0, 128)).equals(info.subarray(0, 128)), 'the first unit\'s header and root DIE are in place');
    assert.ok(inWasm.subarray(128).some((b, i) => b !== info[128 + i]), 'the rest of the first unit is not copied yet');
    assert.equal(partial.wasm.ps_build_functions(), 2, 'no function pass over incomplete sections');
    const data = new ModuleData(partial.wasm, partial.copied.fill);
    data.buildAddressMap();
    data.buildFunctions();
    assert.ok(Buffer.from(partial.wasm.memory.buffer, triples[at * 3 + 1], info.length).equals(info), 'filled before the function pass');
    assert.deepEqual(arrays(data), arrays(reference));

    // A prefix too short for the root DIE: the .wasm asks for everything and the host retries.
    const short = build(16);
    assert.equal(short.status, 2);
    short.copied.fill();
    assert.equal(short.wasm.ps_build_index(short.copied.table, short.copied.count, 0), 0);
    const retried = new ModuleData(short.wasm);
    retried.buildAddressMap();
    retried.buildFunctions();
    assert.deepEqual(arrays(retried), arrays(reference));
  });

  it('reports, and reads no functions from, a file that changed between the line pass and the function pass', () => {
    clearModuleIndexCache();
    const bin = join(dir, 'changes');
    copyFileSync(built.get('C -O2 DWARF 5')!.bin, bin);
    const index = openModuleIndex(bin, { sparseFrom: 0 }); // read from the file, as large files are
    const rows = ourRows(index);
    copyFileSync(built.get('C -O2 DWARF 4')!.bin, bin); // rebuilt meanwhile
    const info = index.lookup(index.rowAddress(0));
    assert.ok(info && info.line > 0, 'the rows stay usable');
    assert.equal(index.functionAt(index.rowAddress(0)), NONE);
    assert.match(index.warning ?? '', /cannot read the functions: .*changes: the file changed since it was indexed: open it again/);
    assert.deepEqual(ourRows(index), rows);
  });

  it('reads functions and builds the address map only when a lookup needs them, leaving the rows intact', () => {
    clearModuleIndexCache();
    const index = openModuleIndex(built.get('C -O2 DWARF 5')!.bin);
    const rowsBefore = ourRows(index);
    let bytes = 0;
    writeObjdumpDecodedLine(index, 'bin', (c) => (bytes += c.length));
    assert.ok(bytes > 1000);
    assert.equal(index.data.functionsBuilt, false, 'listing rows must not walk .debug_info');
    assert.equal(index.data.addressMapBuilt, false, 'listing rows needs no address map');
    assert.equal(index.data.funcs.length + index.data.lkAddr.length, 0);
    const first = index.rowAt(index.rowAddress(0)); // the last row at that address (as binutils)
    assert.equal(index.rowAddress(first), index.rowAddress(0), 'the first row lookup builds the address map');
    assert.equal(index.data.functionsBuilt, false);
    assert.ok(index.data.lkAddr.length > 0);
    const info = index.lookup(index.rowAddress(0));
    assert.ok(info && info.function !== '??', 'the first function lookup reads the functions');
    assert.equal(index.data.functionsBuilt, true);
    assert.ok(index.data.funcs.length > 0);
    // The function pass may grow wasm memory and move arrays: the index must read the fresh views.
    assert.deepEqual(ourRows(index), rowsBefore);
  });
});

describe('DWARF layer errors', function () {
  let dir: string;
  let bin: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'planescope-dwarf-err-'));
    bin = join(dir, 'good');
    run('gcc', ['-O1', '-g', '-o', bin, join(FIXTURES, 'lines.c')]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function variant(name: string, edit: (b: Buffer) => Buffer): string {
    const path = join(dir, name);
    writeFileSync(path, edit(Buffer.from(readFileSync(bin))));
    return path;
  }

  function expectError(path: string, pattern: RegExp): void {
    clearModuleIndexCache();
    assert.throws(
      () => openModuleIndex(path),
      (e: Error) => {
        assert.ok(e instanceof DwarfError, `not a DwarfError: ${e}`);
        assert.ok(e.message.includes(path), `message does not name the file: ${e.message}`);
        assert.match(e.message, pattern);
        return true;
      },
    );
  }

  it('reports a missing file', () => expectError(join(dir, 'absent'), /cannot read .*ENOENT/));
  it('reports a file that is not ELF', () => expectError(variant('text', () => Buffer.from('#!/bin/sh\necho hi\n'.repeat(10))), /not an ELF file/));
  it('reports a truncated ELF header', () => expectError(variant('trunc-header', (b) => b.subarray(0, 40)), /truncated ELF header/));
  it('reports a file truncated before its section headers', () => expectError(variant('trunc-half', (b) => b.subarray(0, b.length >> 1)), /truncated/));
  it('reports big-endian files', () => expectError(variant('big-endian', (b) => ((b[5] = 2), b)), /big-endian ELF files are not supported/));
  it('reports an unsupported architecture', () => expectError(variant('mips', (b) => (b.writeUInt16LE(8, 18), b)), /unsupported architecture \(ELF machine 8\)/));
  it('reports a stripped binary with its build-id', () => {
    const path = join(dir, 'stripped');
    run('objcopy', ['--strip-debug', bin, path]);
    const id = new ElfFile(path, readFileSync(path)).buildId()!;
    expectError(path, new RegExp(`^no debug info in ${path} \\(build-id ${id}\\): install its debug symbols or point to the \\.debug file$`));
  });
  it('reports corrupt DWARF, or indexes what is readable with a warning', () => {
    const elf = new ElfFile(bin, readFileSync(bin));
    const info = elf.section('.debug_info')!;
    const abbrev = elf.section('.debug_abbrev')!;
    const path = variant('corrupt-dwarf', (b) => {
      b.fill(0xff, info.offset + 4, info.offset + 12); // version and abbrev offset of the first unit
      b.fill(0x7f, abbrev.offset, abbrev.offset + abbrev.size);
      return b;
    });
    clearModuleIndexCache();
    try {
      const index = openModuleIndex(path);
      assert.ok(index.warning, 'a damaged unit must be reported');
    } catch (e) {
      assert.ok(e instanceof DwarfError);
      assert.match((e as Error).message, new RegExp(`${path}: corrupt DWARF: `));
    }
  });
});

describe('planescope dwarf lines (the command)', function () {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'planescope-dwarf-cli-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Bytes written so far by process `pid` (Linux /proc/PID/io), or -1 once it is gone. */
  function written(pid: number): number {
    try {
      return Number(/wchar: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);
    } catch {
      return -1;
    }
  }

  /** The built `planescope` CLI (dist/cli.js, which loads the dwarf commands' own bundle). */
  function cli(args: string[], input?: string): string {
    return execFileSync(process.execPath, [join(packageRoot(), 'dist', 'cli.js'), ...args], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  }

  it('prints addr2line -f -i\'s lines for addresses as arguments and on stdin, and the rows as JSON', () => {
    const bin = join(dir, 'cli-fixture');
    run('gcc', ['-O2', '-g', '-o', bin, join(FIXTURES, 'lines.c')]);
    clearModuleIndexCache();
    const index = openModuleIndex(bin);
    const addrs = [...new Set(Array.from({ length: index.rowCount }, (_, i) => `0x${index.rowAddress(i).toString(16)}`))];
    const expected = run('addr2line', ['-f', '-i', '-e', bin, ...addrs]);
    assert.equal(cli(['dwarf', 'addr2line', bin, ...addrs]), expected);
    assert.equal(cli(['dwarf', 'addr2line', bin], addrs.join('\n') + '\n'), expected);
    const json = JSON.parse(cli(['dwarf', 'lines', bin, '--json'])) as { buildId: string; rows: Array<{ address: number; file: string; line: number; column: number; isStmt: boolean; endSequence: boolean }> };
    assert.equal(json.buildId, index.buildId);
    assert.deepEqual(json.rows, Array.from({ length: index.rowCount }, (_, i) => {
      const r = index.row(i);
      return { address: r.address, file: r.file, line: r.line, column: r.column, isStmt: r.isStmt, endSequence: r.endSequence };
    }));
    const info = JSON.parse(cli(['dwarf', 'info', bin, '--json'])) as { rows: number; units: number };
    assert.deepEqual([info.rows, info.units], [index.rowCount, index.cuCount]);
    assert.match(cli(['dwarf', '--help']), /^Usage: planescope dwarf lines BIN/);
  });

  it('writes objdump\'s bytes to a non-blocking pipe that fills up (the EAGAIN path)', async function () {
    // Node makes a child's stdio blocking when it spawns it: python3 sets O_NONBLOCK on fd 1 and
    // then becomes the CLI (exec, same pid).
    const python = ['/usr/bin/python3', '/usr/local/bin/python3'].find((p) => has(p));
    if (!python) this.skip();
    // Enough rows for several pipe buffers of text.
    const source = join(dir, 'many.c');
    writeFileSync(source, Array.from({ length: 1500 }, (_, i) => `int f${i}(int x) {\n  int y = x * ${i + 3};\n  return y ^ (x >> 2);\n}\n`).join(''));
    const bin = join(dir, 'many.so');
    run('gcc', ['-O0', '-g', '-shared', '-fPIC', '-o', bin, source]);
    const expected = execFileSync('objdump', ['--dwarf=decodedline', bin], { maxBuffer: 1 << 26 });
    assert.ok(expected.length > 4 * 65536, `only ${expected.length} bytes of text`);
    const fifo = join(dir, 'out.fifo');
    run('mkfifo', [fifo]);
    const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writeFd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    const nonBlocking = 'import os, sys; os.set_blocking(1, False); os.execv(sys.argv[1], sys.argv[1:])';
    const child = spawn(python!, ['-c', nonBlocking, process.execPath, join(packageRoot(), 'dist', 'cli.js'), 'dwarf', 'lines', bin], { stdio: ['ignore', writeFd, 'pipe'] });
    closeSync(writeFd);
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // Read nothing until the child has filled the pipe and stopped writing (its direct write met
    // EAGAIN and the rest waits in process.stdout); a slow start only makes this wait longer.
    let last = -2;
    for (let polls = 0; polls < 600; polls++) {
      const now = written(child.pid!);
      if (now < 0 || (now >= 4096 && now === last)) break;
      last = now;
      await new Promise((r) => setTimeout(r, 100));
    }
    const chunks: Buffer[] = [];
    const reader = new Socket({ fd: readFd, readable: true, writable: false });
    reader.on('data', (c: Buffer) => chunks.push(c));
    await new Promise((resolve) => reader.on('end', resolve));
    assert.equal(await exited, 0, stderr);
    assert.ok(Buffer.concat(chunks).equals(expected), 'the text differs from objdump --dwarf=decodedline');
  });
});
