// `replay --analyze` carries one message's per-byte taint exactly, over TCP (a MSG_PEEK, then reads of
// 77 bytes) and UDP (one datagram): the client sends 200 clean bytes and 800 from a user-data file,
// the server writes them to two files, and the server's taint log (written by its replay under
// planegrind, with the client's replay as the sender) must show 800 tainted bytes of file output.
import { strict as assert } from 'node:assert';
import { ChildProcess, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distAsset, packageRoot } from '../../src/core/assets';
import { recordRun } from '../../src/core/recording/session';
import { readTaintLog } from '../../src/core/taintLog/reader';

const fixture = join(packageRoot(), 'test', 'native', 'fixtures', 'tagging', 'taintpeer.c');

describe('replay --analyze: per-byte message taint (taintpeer)', function () {
  this.timeout(300000);
  let dir: string;
  let peer: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'planescope-replay-taintpeer-'));
    peer = join(dir, 'taintpeer');
    const cc = spawnSync('gcc', ['-O1', '-g', '-Wl,--build-id', '-o', peer, fixture], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'in.bin'), Buffer.alloc(4096, 0x5a));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const proto of ['tcp', 'udp']) {
    it(`${proto}: 200 clean + 800 tainted bytes arrive as 200 clean + 800 tainted`, async () => {
      const trace = join(dir, `rec-${proto}`), out = join(dir, `out-${proto}`);
      mkdirSync(out, { recursive: true });
      const opts = { dir: trace, librecord: distAsset('native/librecord.so'), recordData: 'value' as const, userData: [join(dir, 'data', '*')], cwd: dir };
      let port = '';
      const gotPort = new Promise<void>((res) => {
        (opts as { onSpawn?: (c: ChildProcess) => void }).onSpawn = (c) => c.stdout!.on('data', (d) => { port += d; if (port.includes('\n')) res(); });
      });
      const server = recordRun({ ...opts, command: [peer, 'server', proto, out], stdio: ['ignore', 'pipe', 'inherit'] });
      await gotPort;
      delete (opts as { onSpawn?: unknown }).onSpawn;
      const client = await recordRun({ ...opts, command: [peer, 'client', proto, port.trim(), join(dir, 'data', 'in.bin')], stdio: ['ignore', 'ignore', 'inherit'] });
      assert.equal(client.exit.code, 0);
      assert.equal((await server).exit.code, 0);

      const r = spawnSync(process.execPath, ['--import', 'tsx', join(packageRoot(), 'src', 'cli', 'main.ts'), 'replay', trace, '--analyze'], { cwd: packageRoot(), encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const analysis = join(trace, 'analysis');
      const logs = await Promise.all(readdirSync(analysis).filter((f) => f.endsWith('.taintlog')).map((f) => readTaintLog(join(analysis, f))));
      const srv = logs.find((l) => l.process.args.includes('server'));
      assert.ok(srv, `a taint log of the server's replay in ${analysis}`);
      const fileOut = srv.io.filter((x) => x.kind === 'file' && x.direction === 'out');
      assert.equal(fileOut.reduce((a, x) => a + x.taintedBytes, 0), 800, 'the server writes the 800 bytes it received tainted');
      assert.ok([...srv.labels.values()].some((l) => l.provenance.kind === 'msg' && /^taintpeer:\d+@/.test(l.provenance.peer)), 'a message label names the sender');
    });
  }
});
