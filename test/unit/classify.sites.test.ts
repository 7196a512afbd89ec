// Pointer-site ranking on synthetic runs shaped like the paper's two examples: a CRC32 table lookup
// (hidden data plane) and a lock picked by a hash of the data (control plane), under both policies.
import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classifyLogs } from '../../src/core/classify/classify';
import { rankSite } from '../../src/core/classify/rankSites';
import { openPlanesDatabaseBytes } from '../../src/core/db/reader';
import type { InstructionCounts, PointerPolicy } from '../../src/core/taintLog/types';
import { fakeIndex, labels, makeLog } from './classify.helpers';

const dir = mkdtempSync(join(tmpdir(), 'ps-sites-'));
const exe = join(dir, 'store');
const src = join(dir, 'store.c');
writeFileSync(exe, '');
writeFileSync(src, '');
const libpthread = '/usr/lib/x86_64-linux-gnu/libc.so.6';

// crc32(): line 10 loads buf[i] (0x100, data), indexes the table (0x104 = the site), xors and stores (0x108, 0x10c).
// put(): line 20 calls hash() (0x200, data), then pthread_mutex_lock(&locks[h]) whose lock word load is in libc.
const index = fakeIndex(exe, 's1', {
  0x100: { file: src, line: 10, function: 'crc32' },
  0x104: { file: src, line: 10, function: 'crc32' },
  0x108: { file: src, line: 10, function: 'crc32' },
  0x10c: { file: src, line: 10, function: 'crc32' },
  0x200: { file: src, line: 20, function: 'put' },
  0x204: { file: src, line: 20, function: 'put' },
});

function run(policy: PointerPolicy, pid: number) {
  const sensitive = policy === 'sensitive';
  const insn = (module: number, offset: number, executions: number, tainted: number): InstructionCounts => ({ module, offset, executions, taintedExecutions: tainted });
  return makeLog({
    source: `${policy}.taintlog`,
    tool: { name: 'planegrind', version: '1', policy },
    process: { pid, ppid: 1, exe, args: [], startMs: 0 },
    modules: [{ id: 1, buildId: 's1', path: exe, bias: 0 }, { id: 2, buildId: 'libc1', path: libpthread, bias: 0 }],
    labels: labels({ id: 1, provenance: { kind: 'file', path: '/data/blob', start: 0, end: 4096 } }),
    instructions: [
      insn(1, 0x100, 4096, 4096),
      insn(1, 0x104, 4096, sensitive ? 4096 : 0),
      insn(1, 0x108, 4096, sensitive ? 4096 : 0),
      insn(1, 0x10c, 4096, sensitive ? 4096 : 0),
      insn(1, 0x200, 64, 64),
      insn(1, 0x204, 64, 0),
      insn(2, 0x9000, 64, sensitive ? 64 : 0), // pthread_mutex_lock's load of the lock word
      insn(2, 0x9004, 64, sensitive ? 64 : 0),
      insn(2, 0x9008, 64, 0),
    ],
    sites: [
      { module: 1, offset: 0x104, access: 'load', count: 4096, label: 1 },
      { module: 2, offset: 0x9000, access: 'load', count: 64, label: 1 },
    ],
    io: [{ kind: 'file', direction: 'in', taintedBytes: 4096, cleanBytes: 0 }],
  });
}

describe('pointer-site ranking', () => {
  it('keeps a site outside any ELF object (m=0) under the pseudo-module, and counts sites of undeclared modules in one warning', async () => {
    const log = makeLog({
      source: 'jit.taintlog', modules: [{ id: 1, buildId: 'm1', path: exe, bias: 0 }],
      labels: labels({ id: 1, provenance: { kind: 'file', path: '/data/blob', start: 0, end: 16 } }),
      instructions: [{ module: 0, offset: 0x7f0000001000, executions: 4, taintedExecutions: 4 }],
      sites: [
        { module: 0, offset: 0x7f0000001000, access: 'load', count: 4, label: 1 },
        { module: 7, offset: 0x10, access: 'load', count: 1, label: 1 },
        { module: 7, offset: 0x14, access: 'store', count: 1, label: 1 },
      ],
    });
    const warnings: string[] = [];
    const result = await classifyLogs([log.source], { readLog: async () => log, openIndex: () => fakeIndex(exe, 'm1', {}) }, { hashSources: false, warn: (w) => warnings.push(w) });
    const db = await openPlanesDatabaseBytes('jit.planes.db', result.bytes);
    assert.deepEqual(db.sites().map((x) => [x.module, x.offset, x.labelText]), [['[outside any ELF object]', 0x7f0000001000, '/data/blob bytes 0..16']]);
    db.close();
    assert.deepEqual(warnings.filter((w) => /undeclared modules/.test(w)), ['jit.taintlog: 2 site records name undeclared modules; skipped']);
  });

  it('ranks a few hundred thousand sites (no argument spread of them all)', async function () {
    this.timeout(60000);
    const n = 150000; // Math.max(...list) overflows the stack from about 125 000 here
    const log = makeLog({
      source: 'many.taintlog', modules: [{ id: 1, buildId: 'm1', path: exe, bias: 0 }],
      labels: labels({ id: 1, provenance: { kind: 'file', path: '/data/blob', start: 0, end: 4096 } }),
      instructions: Array.from({ length: n }, (_, i) => ({ module: 1, offset: 0x1000 + 4 * i, executions: 2, taintedExecutions: 1 })),
      sites: Array.from({ length: n }, (_, i) => ({ module: 1, offset: 0x1000 + 4 * i, access: 'load' as const, count: 1 + (i % 1000), label: 1 })),
    });
    const result = await classifyLogs([log.source], { readLog: async () => log, openIndex: () => fakeIndex(exe, 'm1', {}) }, { hashSources: false });
    assert.equal(result.sites, n);
    const db = await openPlanesDatabaseBytes('many.planes.db', result.bytes);
    assert.equal(db.sites()[0].count, 1000, 'the most frequent first');
    db.close();
  });

  it('ranks a CRC-like table lookup above a hashed lock, with policy disagreement on both', async () => {
    const logs = [run('insensitive', 1), run('sensitive', 2)];
    const result = await classifyLogs(logs.map((l) => l.source), { readLog: async (p) => logs.find((l) => l.source === p)!, openIndex: (p) => { if (p === exe) return index; throw new Error('stripped'); } });
    const db = await openPlanesDatabaseBytes('s.planes.db', result.bytes);
    const sites = db.sites();
    db.close();
    assert.equal(sites.length, 2);
    assert.deepEqual([sites[0].function, sites[0].line, sites[0].rank], ['crc32', 10, 1]);
    assert.equal(sites[0].policyDisagreement, true);
    assert.equal(sites[1].offset, 0x9000);
    assert.equal(sites[1].file, '', 'libc without debug info: no line');
    assert.ok(sites[0].score > sites[1].score + 1, `${sites[0].score} vs ${sites[1].score}`);
    assert.ok(sites[0].evidence.some((e) => /2 of 2 instructions after the load on its line are data plane \(sensitive policy\)/.test(e)), sites[0].evidence.join('; '));
    assert.ok(sites[0].evidence.some((e) => /per-byte work/.test(e)));
    assert.equal(sites[0].labelText, '/data/blob bytes 0..4096');
    // Planes come from the insensitive (primary) runs: the lookup itself stays control plane.
    const again = await openPlanesDatabaseBytes('s.planes.db', result.bytes);
    const lines = again.fileLines(src);
    again.close();
    assert.deepEqual(lines.find((l) => l.line === 10)!.siteIds, [1]);
    assert.equal(lines.find((l) => l.line === 10)!.plane, 'mixed');
  });

  it('scores each kind of evidence and can tell the difference', () => {
    const base = { count: 100, maxCount: 100, access: 'load' as const, functionExecutions: 0, functionDataExecutions: 0, functionName: 'f', afterOnLine: 0, afterOnLineData: 0, afterPolicy: 'insensitive' as const, hasLine: true, taintedBytesIn: 0 };
    const plain = rankSite(base).score;
    assert.ok(rankSite({ ...base, functionExecutions: 10, functionDataExecutions: 5 }).score > plain);
    assert.ok(rankSite({ ...base, afterOnLine: 2, afterOnLineData: 2 }).score > plain);
    assert.ok(rankSite({ ...base, taintedBytesIn: 100 }).score > plain);
    const agree = rankSite({ ...base, bothPolicies: { executed: 10, gained: 0 } });
    const disagree = rankSite({ ...base, bothPolicies: { executed: 10, gained: 5 } });
    assert.equal(agree.disagreement, false);
    assert.equal(disagree.disagreement, true);
    assert.ok(disagree.score > agree.score);
    assert.ok(rankSite({ ...base, count: 10 }).score < plain);
  });
});
