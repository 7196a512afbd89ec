// librecord's message tagging, natively (no valgrind): application bytes arrive byte-exact through
// every message pattern, with both peers tagged and with either peer not running librecord (which
// then gets exactly the application's bytes, and the librecord side warns once); files, pipes and
// unix sockets are untouched; and the wire really carries hellos and frame headers.
import { strict as assert } from 'node:assert';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distAsset, packageRoot } from '../../src/core/assets';

const fixture = join(packageRoot(), 'test', 'native', 'fixtures', 'tagging', 'tagpeer.c');

interface Outcome { server: number | null; client: number | null; serverErr: string; clientErr: string }

function waitExit(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    // 'close' comes after the child's output is drained; 'exit' can come before its last stderr bytes
    const drained = [child.stdout, child.stderr].every((s) => !s || s.readableEnded || s.destroyed);
    if ((child.exitCode !== null || child.signalCode !== null) && drained) return resolve(child.exitCode);
    child.on('close', (code) => resolve(code));
  });
}

/** The first line a child prints on stdout (its port), or a rejection with its stderr. */
function firstLine(child: ChildProcess, stderr: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.on('exit', () => reject(new Error(`exited before printing a line: ${stderr()}`)));
  });
}

describe('librecord message tagging (native)', function () {
  this.timeout(120000);
  let dir: string;
  let peer: string;
  let lib: string;
  const children: ChildProcess[] = [];

  before(() => {
    lib = distAsset('native/librecord.so');
    dir = mkdtempSync(join(tmpdir(), 'planescope-tagging-'));
    peer = join(dir, 'tagpeer');
    const cc = spawnSync('gcc', ['-O1', '-g', '-Wall', '-o', peer, fixture, '-lpthread'], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
  });
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  // a private announcement directory: what one test's listeners announce no other test sees
  const rundir = () => join(dir, 'run');

  function env(tagged: boolean): NodeJS.ProcessEnv {
    const e: NodeJS.ProcessEnv = { ...process.env, PLANESCOPE_LR_RUNDIR: rundir() };
    delete e.LD_PRELOAD;
    delete e.PLANESCOPE_TAG_PEERS;
    if (tagged) e.LD_PRELOAD = lib;
    return e;
  }

  const warnings = (stderr: string) => (stderr.match(/is not running librecord|sent no librecord hello/g) ?? []).length;

  async function runPattern(pattern: string, serverTagged: boolean, clientTagged: boolean, serverEnv: NodeJS.ProcessEnv = {}): Promise<Outcome> {
    let serverErr = '';
    let clientErr = '';
    const server = spawn(peer, ['server', pattern], { env: { ...env(serverTagged), ...serverEnv }, stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(server);
    server.stderr!.on('data', (d: Buffer) => (serverErr += d.toString()));
    const port = await firstLine(server, () => serverErr);
    const client = spawn(peer, ['client', pattern, port], { env: env(clientTagged), stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(client);
    client.stderr!.on('data', (d: Buffer) => (clientErr += d.toString()));
    let clientOut = '';
    client.stdout!.on('data', (d: Buffer) => (clientOut += d.toString()));
    const clientCode = await waitExit(client);
    if (pattern === 'cut') server.stdin!.end(clientOut); // the bytes the client's send() accepted
    else server.stdin!.end();
    const serverCode = await waitExit(server);
    return { server: serverCode, client: clientCode, serverErr, clientErr };
  }

  const patterns = ['sizes', 'vectors', 'nonblock', 'peek', 'coalesce', 'truthful', 'greeting', 'dupfork', 'duplex', 'cut', 'prefix', 'udp'];
  for (const pattern of patterns) {
    it(`${pattern}: byte-exact with both peers tagged`, async () => {
      const r = await runPattern(pattern, true, true);
      assert.equal(r.server, 0, `server: ${r.serverErr}`);
      assert.equal(r.client, 0, `client: ${r.clientErr}`);
      assert.doesNotMatch(r.serverErr + r.clientErr, /warning/, 'no peer was taken for an untagged one');
    });
    it(`${pattern}: byte-exact when the connecting peer does not run librecord (and one warning)`, async () => {
      const r = await runPattern(pattern, true, false);
      assert.equal(r.server, 0, `server: ${r.serverErr}`);
      assert.equal(r.client, 0, `client: ${r.clientErr}`);
      assert.equal(warnings(r.serverErr), 1, `one warning from the librecord side: ${r.serverErr}`);
    });
    it(`${pattern}: byte-exact when the accepting peer does not run librecord (and one warning)`, async () => {
      const r = await runPattern(pattern, false, true);
      assert.equal(r.server, 0, `server: ${r.serverErr}`);
      assert.equal(r.client, 0, `client: ${r.clientErr}`);
      assert.equal(warnings(r.clientErr), 1, `one warning from the librecord side: ${r.clientErr}`);
    });
  }

  it('a server that gave up waiting for the hello and greeted untagged still reads the late hello and frames', async () => {
    const r = await runPattern('latehello', true, true, { PLANESCOPE_TAG_HELLO_WAIT_MS: '50' });
    assert.equal(r.server, 0, `server: ${r.serverErr}`);
    assert.equal(r.client, 0, `client: ${r.clientErr}`);
    assert.match(r.serverErr, /sent no librecord hello within 50 ms before we spoke/);
    assert.match(r.clientErr, /replies to us untagged/);
  });

  it('leaves files, pipes and unix sockets untouched', () => {
    const r = spawnSync(peer, ['files'], { env: env(true), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'ok\n');
  });

  const sizes = [1, 2, 7, 100, 1000, 4095, 65536, 1048579, 5, 300000, 3];

  /** What a tagged `tagpeer client sizes` puts on the wire to a plain Node server, and its stderr. */
  async function rawWire(extraEnv: NodeJS.ProcessEnv, peers?: (port: number) => string, listenPort = 0): Promise<{ wire: Buffer; stderr: string }> {
    const chunks: Buffer[] = [];
    const server = createServer((socket) => {
      socket.on('data', (d) => chunks.push(d));
      socket.on('end', () => socket.end());
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(listenPort, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const e = { ...env(true), ...extraEnv, ...(peers ? { PLANESCOPE_TAG_PEERS: peers(port) } : {}) };
    const client = spawn(peer, ['client', 'sizes', String(port)], { env: e, stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(client);
    let stderr = '';
    client.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitExit(client); // it fails once the server hangs up early: only what it sent matters
    server.close();
    return { wire: Buffer.concat(chunks), stderr };
  }

  /** tagpeer's generator: the bytes of stream 0 that `client sizes` sends. */
  function generated(total: number): Buffer {
    const b = Buffer.alloc(total);
    for (let i = 0; i < total; i++) b[i] = (i * 131 + Math.floor(i / 512) * 7) & 0xff;
    return b;
  }

  it('a plain server gets exactly the application bytes from a librecord client, which warns once', async () => {
    const { wire, stderr } = await rawWire({});
    const total = sizes.reduce((a, b) => a + b);
    assert.equal(wire.length, total, 'no hello, no frame headers');
    assert.ok(wire.equals(generated(total)), 'the bytes are the application\'s');
    assert.equal(warnings(stderr), 1, stderr);
    assert.match(stderr, /no librecord listener announced in .* and not listed in PLANESCOPE_TAG_PEERS/);
  });

  it('PLANESCOPE_TAG_PEERS: a peer listed with ! is talked to untagged without a warning; a bad entry is named', async () => {
    const quiet = await rawWire({}, (port) => `10.1.2.3:9\t[::1]:9\t!127.0.0.1:${port}`);
    assert.equal(quiet.wire.length, sizes.reduce((a, b) => a + b));
    assert.doesNotMatch(quiet.stderr, /warning/);
    const bad = await rawWire({}, () => 'not-an-address');
    assert.match(bad.stderr, /PLANESCOPE_TAG_PEERS: 'not-an-address' is not ADDR, ADDR:PORT, \[ADDR6\]:PORT or \*/);
  });

  it('names at most 32 peers without librecord, then says once that it stops naming them', () => {
    const r = spawnSync(peer, ['client', 'udpmany', '47000'], { env: env(true), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(warnings(r.stderr), 32, r.stderr);
    assert.equal((r.stderr.match(/more than 32 peers are not running librecord/g) ?? []).length, 1, r.stderr);
  });

  it('a librecord listener announces itself while it listens; once it is killed, a plain server on its port gets plain bytes', async () => {
    let serverErr = '';
    const server = spawn(peer, ['server', 'sizes'], { env: env(true), stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(server);
    server.stderr!.on('data', (d: Buffer) => (serverErr += d.toString()));
    const port = await firstLine(server, () => serverErr);
    const names = readdirSync(rundir()).filter((n) => n.startsWith(`t${port}@`));
    assert.deepEqual(names.map((n) => n.replace(/%[0-9a-f]{16}$/, '%NS')), [`t${port}@127.0.0.1%NS`]);
    server.kill('SIGKILL');
    await waitExit(server);
    // its name stays behind (SIGKILL), but no process answers it any more
    assert.ok(readdirSync(rundir()).includes(names[0]), 'the stale name is still there');
    const { wire, stderr } = await rawWire({}, undefined, Number(port));
    const total = sizes.reduce((a, b) => a + b);
    assert.ok(wire.equals(generated(total)), `exactly the application's bytes (${wire.length} of ${total})`);
    assert.equal(warnings(stderr), 1, stderr);
  });

  it('puts a hello and one frame header per send() on the wire to a peer listed as running librecord', async () => {
    // A plain Node server, listed in PLANESCOPE_TAG_PEERS, records the raw stream a tagged client sends.
    const { wire, stderr } = await rawWire({ PLANESCOPE_TAG_STATS: '1' }, (port) => `127.0.0.1:${port}`);
    assert.equal(wire.subarray(0, 8).toString('latin1'), '\x89PSLR\r\n\x1a');
    const idLen = wire.readUInt16LE(10);
    assert.match(wire.subarray(12, 12 + idLen).toString(), /^tagpeer:\d+@/);
    let pos = 12 + idLen;
    const ids: number[] = [];
    for (const size of sizes) {
      assert.equal(wire[pos], 0xc1, `clean frame kind at ${pos}`);
      assert.equal(wire.readUInt16LE(pos + 2), 0x5350);
      assert.equal(wire.readUInt32LE(pos + 4), size, 'the frame length is the send() length');
      ids.push(wire.readUInt32LE(pos + 8));
      pos += 12 + size;
    }
    assert.equal(pos, wire.length, 'nothing but frames after the hello');
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i] > ids[i - 1], 'message ids increase');
    // PLANESCOPE_TAG_STATS (what bench/tagging.mjs reports) counts exactly these bytes
    const total = sizes.reduce((a, b) => a + b);
    const m = stderr.match(/tag stats: (\d+) payload bytes sent on tagged sockets, (\d+) tag bytes/);
    assert.ok(m, stderr);
    assert.deepEqual([Number(m[1]), Number(m[2])], [total, wire.length - total]);
  });

  it('sends everything untagged when PLANESCOPE_TAG=0, even to a peer listed as running librecord', async () => {
    const { wire, stderr } = await rawWire({ PLANESCOPE_TAG: '0' }, (port) => `127.0.0.1:${port}`);
    assert.equal(wire.length, sizes.reduce((a, b) => a + b));
    assert.doesNotMatch(stderr, /warning/);
  });
});
