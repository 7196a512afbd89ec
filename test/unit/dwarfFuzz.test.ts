// Deterministic mutation fuzzing of the ELF/DWARF layer: thousands of damaged copies of real binaries
// (bytes flipped in headers and debug sections, truncations, compressed streams broken) must each give
// an index or a DwarfError naming the file, never another exception, a crash or a hang.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addr2lineLines } from '../../src/core/dwarf/addr2line';
import { writeDecodedLines } from '../../src/core/dwarf/decodedLine';
import { DwarfError, indexModuleBytes } from '../../src/core/dwarf/moduleIndex';
import { ElfFile } from '../../src/core/elf/elfFile';

const FIXTURES = join(__dirname, '..', 'fixtures', 'dwarf');

/** mulberry32: a small seeded PRNG, so every run mutates the same way. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Target {
  name: string;
  bytes: Buffer;
  /** [start, end) byte ranges worth hitting: ELF header, section headers, each debug section. */
  hot: Array<[number, number]>;
}

function target(name: string, path: string): Target {
  const bytes = readFileSync(path);
  const elf = new ElfFile(path, bytes);
  const hot: Array<[number, number]> = [[0, 64]];
  const shoff = Number(bytes.readBigUInt64LE(40));
  hot.push([shoff, bytes.length]);
  for (const s of elf.sections) if (/debug|note/.test(s.name) && s.size > 0) hot.push([s.offset, s.offset + s.size]);
  return { name, bytes, hot };
}

function mutate(t: Target, rand: () => number): Buffer {
  const b = Buffer.from(t.bytes);
  const kind = rand();
  if (kind < 0.1) return b.subarray(0, Math.floor(rand() * b.length)); // truncation
  const [start, end] = t.hot[Math.floor(rand() * t.hot.length)];
  const flips = 1 + Math.floor(rand() * (kind < 0.5 ? 4 : 64));
  for (let i = 0; i < flips; i++) {
    const at = start + Math.floor(rand() * (end - start));
    const r = rand();
    // Bit flips, boundary values and random bytes: the values that break length and offset fields.
    b[at] = r < 0.4 ? b[at] ^ (1 << Math.floor(rand() * 8)) : r < 0.6 ? 0xff : r < 0.7 ? 0 : Math.floor(rand() * 256);
  }
  return b;
}

/** Uses the result the way callers do, so that a bad index cannot hide behind lazy decoding. */
function exercise(index: ReturnType<typeof indexModuleBytes>, full: boolean): void {
  const n = Math.min(index.rowCount, 200);
  for (let i = 0; i < n; i++) {
    const a = index.rowAddress(i);
    index.lookup(a);
    addr2lineLines(index, a);
  }
  index.files();
  if (n) index.rangesForLine(index.row(0).file, index.row(0).line);
  let chars = 0;
  if (full) writeDecodedLines(index, (c) => (chars += c.length));
}

describe('DWARF layer mutation fuzzing', function () {
  let dir: string;
  const targets: Target[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'planescope-dwarf-fuzz-'));
    const builds: Array<[string, string, string[]]> = [
      ['C DWARF 5 -O2', 'lines.c', ['-O2', '-gdwarf-5']],
      ['C DWARF 4 -O0', 'lines.c', ['-O0', '-gdwarf-4']],
      ['C -gz', 'lines.c', ['-O2', '-g', '-gz=zlib']],
      ['C++ DWARF 5 -O2', 'templates.cpp', ['-O2', '-gdwarf-5']],
    ];
    for (const [name, src, flags] of builds) {
      const out = join(dir, name.replace(/\W+/g, '_'));
      execFileSync(src.endsWith('.cpp') ? 'g++' : 'gcc', [...flags, '-o', out, join(FIXTURES, src)]);
      targets.push(target(name, out));
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('indexes every unmutated target', () => {
    for (const t of targets) assert.ok(indexModuleBytes(t.name, t.bytes).rowCount > 10, t.name);
  });

  it('never crashes or hangs on 3000 mutated binaries (fixed seeds)', function () {
    this.timeout(180_000);
    const started = Date.now();
    const cpu = process.cpuUsage();
    let slowest = 0;
    const outcomes = { indexed: 0, rejected: 0 };
    const messages = new Set<string>();
    for (let seed = 1; seed <= 3000; seed++) {
      const t = targets[seed % targets.length];
      const rand = prng(seed * 2654435761);
      const bytes = mutate(t, rand);
      const label = `${t.name}#${seed}`;
      const t0 = process.cpuUsage();
      try {
        exercise(indexModuleBytes(label, bytes, { debugRoot: join(dir, 'no-debug-root') }), seed % 8 === 0);
        outcomes.indexed++;
      } catch (e) {
        if (!(e instanceof DwarfError)) assert.fail(`seed ${seed} (${t.name}): ${(e as Error)?.stack ?? e}`);
        assert.ok(e.message.includes(label), `seed ${seed}: the message does not name the file: ${e.message}`);
        outcomes.rejected++;
        messages.add(e.message.replace(label, 'BIN').replace(/\d+/g, 'N'));
      } finally {
        const used = process.cpuUsage(t0);
        slowest = Math.max(slowest, (used.user + used.system) / 1e6);
      }
    }
    // CPU time, not wall time: the bound must hold on a loaded machine too.
    const used = process.cpuUsage(cpu);
    const seconds = (used.user + used.system) / 1e6;
    assert.ok(seconds < 20, `fuzzing used ${seconds.toFixed(1)} s of CPU (wall ${(Date.now() - started) / 1000} s)`);
    assert.ok(slowest < 2, `one input took ${slowest.toFixed(2)} s of CPU`);
    // Both outcomes must occur, or the mutations are not reaching the decoder.
    assert.ok(outcomes.indexed > 100 && outcomes.rejected > 100, JSON.stringify(outcomes));
    assert.ok(messages.size > 5, [...messages].join('\n'));
  });
});
