// librecord under planegrind: the per-byte taint of one message crosses TCP and UDP exactly (clean
// bytes stay clean, tainted bytes arrive tainted with a message label naming the sender), including
// through MSG_PEEK and reads that split the message.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/core/assets';
import { analyzedEnv } from '../../src/core/demo/analyzed';
import { readTaintLog } from '../../src/core/taintLog/reader';

const fixture = join(packageRoot(), 'test', 'native', 'fixtures', 'tagging', 'taintpeer.c');

/** Starts the server (which prints its port), runs the client against it, and waits for both to exit 0. */
async function serverAndClient(command: string, serverArgs: string[], clientArgs: (port: string) => string[], env?: NodeJS.ProcessEnv): Promise<void> {
  const server = spawn(command, serverArgs, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  server.stderr!.on('data', (d) => (err += d));
  const port = await new Promise<string>((resolve, reject) => {
    let o = '';
    server.stdout!.on('data', (d) => {
      o += d;
      if (o.includes('\n')) resolve(o.trim());
    });
    server.on('exit', () => reject(new Error(`server exited: ${err}`)));
  });
  const client = spawnSync(command, clientArgs(port), { env, encoding: 'utf8' });
  assert.equal(client.status, 0, client.stderr);
  const code = await new Promise<number | null>((resolve) => (server.exitCode !== null ? resolve(server.exitCode) : server.on('exit', resolve)));
  assert.equal(code, 0, err);
}

describe('librecord under planegrind: per-byte taint across messages', function () {
  this.timeout(300000);
  let dir: string;
  let peer: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'planescope-taintpeer-'));
    peer = join(dir, 'taintpeer');
    const cc = spawnSync('gcc', ['-O1', '-g', '-o', peer, fixture], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'in.bin'), Buffer.alloc(4096, 0x5a));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('`planescope run --mode online`, once per process, carries the taint across TCP into one trace directory', async () => {
    const out = join(dir, 'cli');
    const trace = join(out, 'trace');
    mkdirSync(out, { recursive: true });
    const cli = join(packageRoot(), 'dist', 'cli.js');
    const run = (name: string, glob: string, ...cmd: string[]) => [cli, 'run', '--mode', 'online', '--trace', trace, '--name', name, '--user-data', glob, '--', ...cmd];
    await serverAndClient(process.execPath, run('server', join(dir, 'nothing', '*'), peer, 'server', 'tcp', out), (port) =>
      run('client', join(dir, 'data', '*'), peer, 'client', 'tcp', port, join(dir, 'data', 'in.bin')),
    );
    const logs = readdirSync(trace).filter((f) => f.endsWith('.taintlog')).sort();
    assert.deepEqual(logs.map((f) => f.split('.')[0]), ['client', 'server'], 'both processes log into the one directory');
    const log = await readTaintLog(join(trace, logs[1]));
    const fileOut = log.io.filter((x) => x.kind === 'file' && x.direction === 'out');
    assert.equal(fileOut.reduce((a, x) => a + x.taintedBytes, 0), 800, 'the server writes the 800 bytes it received tainted');
    assert.ok([...log.labels.values()].some((l) => l.provenance.kind === 'msg'), 'a message label names the sender');
  });

  for (const proto of ['tcp', 'udp']) {
    it(`${proto}: 200 clean + 800 tainted bytes arrive as 200 clean + 800 tainted`, async () => {
      const out = join(dir, proto);
      const trace = join(out, 'trace');
      mkdirSync(trace, { recursive: true });
      const env = analyzedEnv();
      const vg = (name: string, glob: string) => ['-q', '--tool=planegrind', `--taint-log=${trace}/${name}.%p.taintlog`, `--user-data=${glob}`];
      await serverAndClient('valgrind', [...vg('server', join(dir, 'nothing', '*')), peer, 'server', proto, out], (port) =>
        [...vg('client', join(dir, 'data', '*')), peer, 'client', proto, port, join(dir, 'data', 'in.bin')], env);
      const log = await readTaintLog(join(trace, readdirSync(trace).find((f) => f.startsWith('server.'))!));
      const fileOut = log.io.filter((x) => x.kind === 'file' && x.direction === 'out');
      assert.equal(fileOut.reduce((a, x) => a + x.taintedBytes, 0), 800, 'exactly the 800 file bytes arrive tainted');
      assert.equal(fileOut.reduce((a, x) => a + x.cleanBytes, 0), 200, 'the 200 clean bytes stay clean');
      // Figure 5 on the receiver: the message's 800 tainted bytes count as data-plane socket input,
      // although the kernel delivered them clean and librecord applied their taint afterwards.
      const socketIn = log.io.filter((x) => x.kind === 'socket' && x.direction === 'in');
      assert.equal(socketIn.reduce((a, x) => a + x.taintedBytes, 0), 800, 'tainted socket input');
      const msg = [...log.labels.values()].filter((l) => l.provenance.kind === 'msg');
      assert.ok(msg.length >= 1, 'a message label');
      for (const l of msg) {
        assert.ok(l.provenance.kind === 'msg' && /^taintpeer:\d+@/.test(l.provenance.peer), `peer names the sender: ${JSON.stringify(l.provenance)}`);
        assert.ok(l.provenance.kind === 'msg' && l.provenance.origin.length > 0, 'the sender-side provenance travels along');
      }
    });
  }
});
