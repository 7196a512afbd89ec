// minidfs end to end: byte-identical payloads with and without librecord natively, then the whole-system
// taint claims under planegrind (taint crosses the network through librecord's tags), and one run with
// the chunk server in its own network namespace where the machine allows it.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distAsset } from '../../src/core/assets';
import { buildMinidfs, writeUserData } from '../../src/core/demo/demo';
import { Analyzed, analyzedEnv, startAnalyzed, startNative, stopProcess } from '../../src/core/demo/analyzed';
import { readTaintLog } from '../../src/core/taintLog/reader';
import type { TaintLog } from '../../src/core/taintLog/types';

const SIZE = 3 * 1024 * 1024 + 123;
const CHUNK = String(1 << 20);

/** Function name of each link-time offset of bin (addr2line -f). */
function functionsOf(bin: string, offsets: number[]): string[] {
  if (!offsets.length) return [];
  const r = spawnSync('addr2line', ['-f', '-e', bin, ...offsets.map((o) => '0x' + o.toString(16))], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  return offsets.map((_, i) => lines[2 * i]);
}

/** Per function of the program's own executable: [executed instructions, tainted instructions]. */
function planesByFunction(log: TaintLog, bin: string): Map<string, [number, number]> {
  const exe = log.modules.find((m) => m.path.endsWith('/' + bin.split('/').pop()));
  assert.ok(exe, `the log names the executable ${bin}`);
  const insns = log.instructions.filter((i) => i.module === exe.id && i.executions > 0);
  const names = functionsOf(bin, insns.map((i) => i.offset));
  const out = new Map<string, [number, number]>();
  insns.forEach((insn, k) => {
    const e = out.get(names[k]) ?? [0, 0];
    e[0]++;
    if (insn.taintedExecutions > 0) e[1]++;
    out.set(names[k], e);
  });
  return out;
}

function io(log: TaintLog, kind: string, dir: 'in' | 'out'): { tainted: number; clean: number } {
  const r = { tainted: 0, clean: 0 };
  for (const x of log.io) if (x.kind === kind && x.direction === dir) (r.tainted += x.taintedBytes), (r.clean += x.cleanBytes);
  return r;
}

async function logOf(trace: string, name: string): Promise<TaintLog> {
  const f = readdirSync(trace).filter((x) => x.startsWith(name + '.') && x.endsWith('.taintlog'));
  assert.equal(f.length, 1, `one taint log for ${name} in ${trace}: ${readdirSync(trace).join(', ')}`);
  return readTaintLog(join(trace, f[0]));
}

async function runNative(bin: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  const p = startNative({ name: bin.split('/').pop()!, command: bin, args }, env);
  const code = await p.exited;
  return { code, out: p.output() };
}

describe('minidfs', function () {
  this.timeout(600000);
  let work: string;
  let bin: string;
  const live: Analyzed[] = [];

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'planescope-minidfs-'));
    bin = await buildMinidfs(join(work, 'bin'));
  });
  afterEach(async () => {
    await Promise.all(live.splice(0).map((p) => stopProcess(p, 3000)));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  /** Starts master + chunk server with (analyzed) or without valgrind; returns the master address. */
  async function cluster(dir: string, opts: { analyzed: boolean; tagged: boolean; userData?: { master: string[]; chunkserver: string[] }; netnsPrefix?: string[]; csListen?: string; masterListen?: string }) {
    mkdirSync(join(dir, 'trace'), { recursive: true });
    const env = opts.analyzed ? analyzedEnv() : { ...process.env, ...(opts.tagged ? { LD_PRELOAD: distAsset('native/librecord.so') } : {}) };
    if (!opts.tagged) delete env.LD_PRELOAD;
    const start = (name: string, prog: string, args: string[], userData: string[], prefix?: string[]) => {
      const command = join(bin, prog);
      const p = opts.analyzed ? startAnalyzed({ name, trace: join(dir, 'trace'), userData, command, args, prefix }, env) : startNative({ name, command, args, prefix }, env);
      live.push(p);
      return p;
    };
    const master = start('master', 'minidfs-master', ['-l', opts.masterListen ?? '127.0.0.1', '-p', '0', '-c', CHUNK], opts.userData?.master ?? []);
    const addr = (await master.waitForLine(/listening on (\S+)/, 120000))[1];
    const csArgs = ['-m', addr, '-d', join(dir, 'store'), '-i', '200', ...(opts.csListen ? ['-l', opts.csListen, '-a', opts.csListen] : [])];
    const cs = start('chunkserver', 'minidfs-chunkserver', csArgs, opts.userData?.chunkserver ?? [], opts.netnsPrefix);
    await cs.waitForLine(/listening on/, 120000);
    await master.waitForLine(/registered/, 120000);
    return { addr, master, cs };
  }

  it('stores and reads back byte-identical files with and without librecord (natively)', async () => {
    for (const tagged of [false, true]) {
      const dir = join(work, tagged ? 'native-tagged' : 'native-plain');
      mkdirSync(join(dir, 'data'), { recursive: true });
      const input = join(dir, 'data', 'in.bin');
      writeUserData(input, SIZE);
      const { addr, master, cs } = await cluster(dir, { analyzed: false, tagged });
      const env = { ...process.env, ...(tagged ? { LD_PRELOAD: distAsset('native/librecord.so') } : {}) };
      const put = await runNative(join(bin, 'minidfs-client'), ['-m', addr, 'put', input, 'f'], env);
      assert.equal(put.code, 0, put.out);
      assert.doesNotMatch(put.out + master.output() + cs.output(), /warning/, 'every peer was found running librecord (or none was)');
      const get = await runNative(join(bin, 'minidfs-client'), ['-m', addr, 'get', 'f', join(dir, 'out.bin')], env);
      assert.equal(get.code, 0, get.out);
      assert.ok(readFileSync(input).equals(readFileSync(join(dir, 'out.bin'))), 'the file read back is the file stored');
      const down = await runNative(join(bin, 'minidfs-client'), ['-m', addr, 'shutdown'], env);
      assert.equal(down.code, 0, down.out);
      assert.equal(await master.exited, 0);
      assert.equal(await cs.exited, 0);
    }
  });

  it('natively, as if on two hosts (separate announcement directories): the chunk server is talked to untagged unless PLANESCOPE_TAG_PEERS lists it', async () => {
    for (const listed of [false, true]) {
      const dir = join(work, listed ? 'hosts-listed' : 'hosts-unlisted');
      mkdirSync(join(dir, 'data'), { recursive: true });
      const input = join(dir, 'data', 'in.bin');
      writeUserData(input, SIZE);
      const host = (rundir: string, peers?: string): NodeJS.ProcessEnv => {
        const e: NodeJS.ProcessEnv = { ...process.env, LD_PRELOAD: distAsset('native/librecord.so'), PLANESCOPE_LR_RUNDIR: join(dir, rundir), PLANESCOPE_TAG_STATS: '1' };
        if (peers) e.PLANESCOPE_TAG_PEERS = peers;
        else delete e.PLANESCOPE_TAG_PEERS;
        return e;
      };
      const start = (name: string, prog: string, args: string[], env: NodeJS.ProcessEnv) => {
        const p = startNative({ name, command: join(bin, prog), args }, env);
        live.push(p);
        return p;
      };
      // host A: master and client; host B: the chunk server. Listed: each names the other host (both are
      // 127.0.0.1 here), as one lists the other machines of a real cluster
      const peers = listed ? '127.0.0.1' : undefined;
      const master = start('master', 'minidfs-master', ['-l', '127.0.0.1', '-p', '0', '-c', CHUNK], host('runA', peers));
      const addr = (await master.waitForLine(/listening on (\S+)/, 60000))[1];
      const cs = start('chunkserver', 'minidfs-chunkserver', ['-m', addr, '-d', join(dir, 'store'), '-i', '200'], host('runB', peers));
      const csAddr = (await cs.waitForLine(/listening on (\S+)/, 60000))[1];
      await master.waitForLine(/registered/, 60000);
      const clientEnv = host('runA', peers);
      const put = await runNative(join(bin, 'minidfs-client'), ['-m', addr, 'put', input, 'f'], clientEnv);
      assert.equal(put.code, 0, put.out);
      const get = await runNative(join(bin, 'minidfs-client'), ['-m', addr, 'get', 'f', join(dir, 'out.bin')], clientEnv);
      assert.equal(get.code, 0, get.out);
      assert.ok(readFileSync(input).equals(readFileSync(join(dir, 'out.bin'))), 'the file read back is the file stored');
      assert.equal((await runNative(join(bin, 'minidfs-client'), ['-m', addr, 'shutdown'], clientEnv)).code, 0);
      assert.equal(await master.exited, 0);
      assert.equal(await cs.exited, 0);
      const tagged = Number(put.out.match(/tag stats: (\d+) payload bytes sent on tagged sockets/)?.[1] ?? NaN);
      if (listed) {
        assert.ok(tagged >= SIZE, `the chunk bytes went tagged (${tagged} payload bytes on tagged sockets)`);
        assert.doesNotMatch([put.out, cs.output(), master.output()].join('\n'), /warning/);
      } else {
        assert.ok(tagged < SIZE, `only the master's connection was tagged (${tagged} payload bytes on tagged sockets)`);
        assert.match(put.out, new RegExp(`peer ${csAddr.replace(/\./g, '\\.')} \\(tcp\\) is not running librecord`));
        assert.match(cs.output(), /peer 127\.0\.0\.1:\d+ \(udp\) is not running librecord/, 'the heartbeats went plain');
        assert.match(master.output(), new RegExp(`peer ${csAddr.replace(/\./g, '\\.')} \\(tcp\\) is not running librecord`), "so did the master's requests");
      }
    }
  });

  it('under planegrind: taint crosses the network to the chunk server; master and heartbeats stay control plane; the client adler32 is data plane', async () => {
    const dir = join(work, 'put');
    mkdirSync(join(dir, 'data'), { recursive: true });
    const input = join(dir, 'data', 'in.bin');
    writeUserData(input, SIZE);
    const userData = [join(dir, 'data', '*')];
    const { addr, master, cs } = await cluster(dir, { analyzed: true, tagged: true, userData: { master: userData, chunkserver: userData } });
    const put = startAnalyzed({ name: 'client-put', trace: join(dir, 'trace'), userData, command: join(bin, 'minidfs-client'), args: ['-m', addr, 'put', input, 'f'] });
    live.push(put);
    assert.equal(await put.exited, 0);
    const down = await runNative(join(bin, 'minidfs-client'), ['-m', addr, 'shutdown'], { ...process.env, LD_PRELOAD: distAsset('native/librecord.so') });
    assert.equal(down.code, 0, down.out);
    assert.equal(await master.exited, 0);
    assert.equal(await cs.exited, 0);

    const trace = join(dir, 'trace');
    const csLog = await logOf(trace, 'chunkserver');
    const masterLog = await logOf(trace, 'master');
    const clientLog = await logOf(trace, 'client-put');
    // the chunk server never opened user data, yet wrote the chunk bytes to disk tainted
    assert.ok(csLog.warnings.some((w) => /matched no file/.test(w)), 'the chunk server opened no user-data file');
    assert.equal(io(csLog, 'file', 'out').tainted, SIZE, 'every chunk byte written to disk is tainted');
    assert.ok([...csLog.labels.values()].some((l) => l.provenance.kind === 'msg'), 'message labels name the network origin');
    const csFns = planesByFunction(csLog, join(bin, 'minidfs-chunkserver'));
    assert.ok((csFns.get('do_write')?.[1] ?? 0) > 0, 'do_write (which writes chunk bytes to disk) is data plane');
    assert.ok((csFns.get('adler32_update')?.[1] ?? 0) > 0, "the chunk server's adler32 is data plane");
    // heartbeats: executed, never tainted; no tainted byte leaves on a socket
    for (const fn of ['heartbeat', 'usage_counts', 'udp_send_to']) {
      const e = csFns.get(fn);
      assert.ok(e && e[0] > 0, `${fn} ran`);
      assert.equal(e[1], 0, `${fn} is control plane`);
    }
    assert.equal(io(csLog, 'socket', 'out').tainted, 0);
    // the master: zero data-plane instructions in every module, no tainted I/O
    assert.ok(masterLog.instructions.length > 1000);
    assert.equal(masterLog.instructions.filter((i) => i.taintedExecutions > 0).length, 0, 'the master has no data-plane instruction');
    assert.equal(masterLog.io.reduce((a, x) => a + x.taintedBytes, 0), 0);
    const masterFns = planesByFunction(masterLog, join(bin, 'minidfs-master'));
    assert.ok((masterFns.get('on_heartbeat')?.[0] ?? 0) > 0, 'the master handled heartbeats');
    // the client: its adler32 is data plane, and it sent the tainted bytes
    const clientFns = planesByFunction(clientLog, join(bin, 'minidfs-client'));
    assert.ok((clientFns.get('adler32_update')?.[1] ?? 0) > 0, "the client's adler32 is data plane");
    assert.ok(io(clientLog, 'socket', 'out').tainted >= SIZE);
  });

  it('under planegrind: a get with the chunk store designated as user data taints the bytes the client receives', async () => {
    const dir = join(work, 'get');
    mkdirSync(join(dir, 'data'), { recursive: true });
    const input = join(dir, 'data', 'in.bin');
    writeUserData(input, SIZE);
    const { addr, master, cs } = await cluster(dir, { analyzed: true, tagged: true, userData: { master: [join(dir, 'nothing', '*')], chunkserver: [join(dir, 'store', 'chunk-*')] } });
    const env = { ...process.env, LD_PRELOAD: distAsset('native/librecord.so') };
    const put = await runNative(join(bin, 'minidfs-client'), ['-m', addr, 'put', input, 'f'], env); // natively: its bytes are clean
    assert.equal(put.code, 0, put.out);
    const get = startAnalyzed({ name: 'client-get', trace: join(dir, 'trace'), userData: [join(dir, 'nothing', '*')], command: join(bin, 'minidfs-client'), args: ['-m', addr, 'get', 'f', join(dir, 'out.bin')] });
    live.push(get);
    assert.equal(await get.exited, 0);
    await runNative(join(bin, 'minidfs-client'), ['-m', addr, 'shutdown'], env);
    await master.exited;
    await cs.exited;
    assert.ok(readFileSync(input).equals(readFileSync(join(dir, 'out.bin'))));
    const clientLog = await logOf(join(dir, 'trace'), 'client-get');
    assert.equal(io(clientLog, 'file', 'out').tainted, SIZE, 'the received chunk bytes the client writes out are tainted');
    const clientFns = planesByFunction(clientLog, join(bin, 'minidfs-client'));
    assert.ok((clientFns.get('adler32_update')?.[1] ?? 0) > 0, "the client's adler32 over received bytes is data plane");
    const msgLabels = [...clientLog.labels.values()].filter((l) => l.provenance.kind === 'msg');
    assert.ok(msgLabels.length > 0, 'the taint arrived in messages');
    assert.ok(msgLabels.some((l) => l.provenance.kind === 'msg' && /minidfs-chunkserver/.test(l.provenance.peer)), 'from the chunk server');
  });

  it('under planegrind: the chunk server in its own network namespace (veth pair)', async function () {
    const ns = `psdfs${process.pid % 100000}`;
    const host = `psh${process.pid % 100000}`;
    const peer = `psp${process.pid % 100000}`;
    const net = `10.231.${process.pid % 250}`;
    const ip = (...a: string[]) => spawnSync('ip', a, { encoding: 'utf8' });
    const add = ip('netns', 'add', ns);
    if (add.status !== 0) this.skip(); // e.g. not root, or no CAP_SYS_ADMIN: `ip netns add` failed
    try {
      for (const cmd of [
        ['link', 'add', host, 'type', 'veth', 'peer', 'name', peer],
        ['link', 'set', peer, 'netns', ns],
        ['addr', 'add', `${net}.1/30`, 'dev', host],
        ['link', 'set', host, 'up'],
        ['netns', 'exec', ns, 'ip', 'addr', 'add', `${net}.2/30`, 'dev', peer],
        ['netns', 'exec', ns, 'ip', 'link', 'set', peer, 'up'],
        ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up'],
      ]) {
        const r = ip(...cmd);
        if (r.status !== 0) {
          console.log(`      skipped: ip ${cmd.join(' ')}: ${r.stderr.trim()}`);
          this.skip();
        }
      }
      const dir = join(work, 'netns');
      mkdirSync(join(dir, 'data'), { recursive: true });
      const input = join(dir, 'data', 'in.bin');
      writeUserData(input, SIZE);
      const userData = [join(dir, 'data', '*')];
      const { addr, master, cs } = await cluster(dir, { analyzed: true, tagged: true, userData: { master: userData, chunkserver: userData }, netnsPrefix: ['ip', 'netns', 'exec', ns], csListen: `${net}.2`, masterListen: `${net}.1` });
      const put = startAnalyzed({ name: 'client-put', trace: join(dir, 'trace'), userData, command: join(bin, 'minidfs-client'), args: ['-m', addr, 'put', input, 'f'] });
      live.push(put);
      assert.equal(await put.exited, 0);
      await runNative(join(bin, 'minidfs-client'), ['-m', addr, 'shutdown'], { ...process.env, LD_PRELOAD: distAsset('native/librecord.so') });
      await master.exited;
      await cs.exited;
      const csLog = await logOf(join(dir, 'trace'), 'chunkserver');
      assert.equal(io(csLog, 'file', 'out').tainted, SIZE, 'taint crossed the veth pair into the namespace');
    } finally {
      ip('link', 'del', host);
      ip('netns', 'del', ns);
    }
  });
});
