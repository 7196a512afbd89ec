// Provenance labels carried through registers and IR temps (docs/planegrind.md, Labels): real valgrind
// on fixtures/pg_labels.c, queried with the `taint` and `label` monitor commands, then the log's insn labels.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTaintLog } from '../../src/core/taintLog/reader';
import { FIXTURES, VGLIB, addr2line, buildTool, compile, markerLines, moduleOf, tempDir } from './planegrindHarness';

function vgdb(prefix: string, pid: number, cmd: string): string {
  const r = spawnSync('vgdb', [`--vgdb-prefix=${prefix}`, `--pid=${pid}`, ...cmd.split(' ')], { encoding: 'utf8', timeout: 60000 });
  return r.stdout.split('\n').filter((l) => l && !l.startsWith('sending command')).join('\n');
}

async function waitFor(cond: () => boolean, what: string, ms = 60000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The `range` lines of `taint ADDR LEN`: [start offset, end offset, label] relative to ADDR. */
function ranges(out: string, base: number): [number, number, number][] {
  return [...out.matchAll(/^range start=(0x[0-9a-f]+) end=(0x[0-9a-f]+) label=(\d+)$/gm)].map((m) => [parseInt(m[1], 16) - base, parseInt(m[2], 16) - base, Number(m[3])]);
}

describe('planegrind provenance labels through registers and temps', function () {
  this.timeout(180000);
  let dir: string;
  let bin: string;
  before(() => {
    buildTool();
    dir = tempDir('labels');
    bin = compile(dir, 'pg_labels');
    writeFileSync(join(dir, 'a.bin'), Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 7 + 3) & 0xff)));
    writeFileSync(join(dir, 'b.bin'), Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 13 + 100) & 0xff)));
  });

  it('each copied buffer names its file and range, a held value keeps its file, combinations are mixed of both', async () => {
    const prefix = join(dir, 'vg');
    const child = spawn('valgrind', ['-q', '--tool=planegrind', '--vgdb=yes', `--vgdb-prefix=${prefix}`, '--user-data=*.bin', `--taint-log=${join(dir, 'labels.%p.taintlog')}`, bin, 'a.bin', 'b.bin'], {
      cwd: dir, env: { ...process.env, VALGRIND_LIB: VGLIB }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    const closed = new Promise<number | null>((r) => child.on('close', r));
    try {
      await waitFor(() => /acc=0x[0-9a-f]+\n/.test(out) || child.exitCode !== null, 'the fixture to print its buffers');
      assert.match(out, /acc=0x/, `${out}\n${err}`);
      const addr = (name: string) => parseInt(new RegExp(`${name}=(0x[0-9a-f]+)`).exec(out)![1], 16);
      const pid = child.pid!;
      const taint = (name: string, len: number) => ranges(vgdb(prefix, pid, `taint 0x${addr(name).toString(16)} ${len}`), addr(name));
      const label = (n: number) => vgdb(prefix, pid, `label ${n}`);

      const [a] = taint('dst_a', 32);
      assert.deepEqual(taint('dst_a', 32), [[0, 32, a[2]]]);
      assert.equal(label(a[2]), `label ${a[2]} file:${join(dir, 'a.bin')}[0,32)`);
      const [b] = taint('dst_b', 32);
      assert.deepEqual(taint('dst_b', 32), [[0, 32, b[2]]]);
      assert.equal(label(b[2]), `label ${b[2]} file:${join(dir, 'b.bin')}[8,40)`);
      assert.notEqual(a[2], b[2]);

      // held in a register (or its spill slot) while the other file was read and loaded
      assert.deepEqual(taint('keep', 8), [[0, 8, a[2]]]);

      const [m] = taint('mix', 32);
      assert.deepEqual(taint('mix', 32), [[0, 32, m[2]]]);
      const [lo, hi] = a[2] < b[2] ? [a[2], b[2]] : [b[2], a[2]];
      assert.equal(label(m[2]).split('\n')[0], `label ${m[2]} mixed:${lo},${hi}`);
      assert.match(label(m[2]), new RegExp(`^  label ${a[2]} file:.*/a\\.bin\\[0,32\\)$`, 'm'));
      assert.match(label(m[2]), new RegExp(`^  label ${b[2]} file:.*/b\\.bin\\[8,40\\)$`, 'm'));
      // an accumulator over both files, kept in a register across loop iterations: the same set, the same label
      const acc = taint('acc', 8);
      assert.ok(acc.length >= 1 && acc.every(([, , l]) => l === m[2]), JSON.stringify(acc));
      // a register's own label, not the last tainted load's (file A's)
      assert.match(vgdb(prefix, pid, 'taint-regs'), new RegExp(`^reg name=r12 bytes=0xff label=${b[2]}$`, 'm'));
    } finally {
      child.stdin!.end();
    }
    assert.equal(await closed, 0, err);

    // the log: insn label= on the stores, and the mixed label's record
    const logs = readdirSync(dir).filter((f) => f.startsWith('labels.') && f.endsWith('.taintlog'));
    assert.equal(logs.length, 1);
    const log = await readTaintLog(join(dir, logs[0]));
    const mod = moduleOf(log, 'pg_labels');
    const insns = log.instructions.filter((i) => i.module === mod.id && i.taintedExecutions > 0);
    const lines = addr2line(bin, insns.map((i) => i.offset)).map((l) => Number(/:(\d+)$/.exec(l)?.[1] ?? 0));
    const labelsAt = (marker: string) => {
      const line = markerLines(join(FIXTURES, 'pg_labels.c'), marker)[0];
      return [...new Set(insns.filter((_, k) => lines[k] === line).map((i) => i.label))];
    };
    const fileOf = (id: number | undefined) => {
      const l = id === undefined ? undefined : log.labels.get(id);
      return l?.provenance.kind === 'file' ? `${l.provenance.path}[${l.provenance.start},${l.provenance.end})` : JSON.stringify(l);
    };
    for (const [marker, want] of [['store-a', `${join(dir, 'a.bin')}[0,32)`], ['store-b', `${join(dir, 'b.bin')}[8,40)`], ['store-keep', `${join(dir, 'a.bin')}[0,32)`]]) {
      const ids = labelsAt(marker);
      assert.ok(ids.length >= 1, `tainted instructions at @${marker}`);
      for (const id of ids) assert.equal(fileOf(id), want, `@${marker}`);
    }
    const mixIds = labelsAt('store-mix');
    assert.ok(mixIds.length >= 1, 'tainted instructions at @store-mix');
    const mixed = mixIds.map((id) => log.labels.get(id!)?.provenance).filter((p) => p?.kind === 'mixed');
    assert.ok(mixed.length >= 1, `a mixed label at @store-mix: ${JSON.stringify(mixIds)}`);
    for (const p of mixed) {
      assert.ok(p?.kind === 'mixed');
      assert.deepEqual(p.of.map((id) => fileOf(id)).sort(), [`${join(dir, 'a.bin')}[0,32)`, `${join(dir, 'b.bin')}[8,40)`]);
    }
  });
});
