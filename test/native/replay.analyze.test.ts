// `planescope replay --analyze` against online analysis (issue #6): minidfs master, chunk server and a
// client put recorded separately (each its own `planescope run --mode record` into one directory),
// replayed together under planegrind, classified; the same workload run with `planescope run --mode
// online` and classified. Both databases must hold the same data-plane and the same control-plane
// instructions in every program module (by build-id and offset). Then one process replayed alone
// (what the debugger does) still gets its senders' taint from the persisted message-taint files.
import { strict as assert } from 'node:assert';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distAsset, packageRoot } from '../../src/core/assets';
import { buildMinidfs, writeUserData } from '../../src/core/demo/demo';
import { openPlanesDatabase } from '../../src/core/db/reader';
import { RECORD_HEADER_BYTES, readRecordingLog } from '../../src/core/recording/log';
import { messageTaintFile, payloadFile, recordedIdentity } from '../../src/core/recording/messageFiles';
import { recordRun } from '../../src/core/recording/session';
import { readTaintLog } from '../../src/core/taintLog/reader';

const CLI = join(packageRoot(), 'src', 'cli', 'main.ts');
const SIZE = 2 * 1024 * 1024 + 321;
const CHUNK = String(1 << 20);

function cli(args: string[], opts: { cwd?: string } = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: opts.cwd ?? packageRoot(), encoding: 'utf8', maxBuffer: 1 << 26 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A started program: its output so far, a wait for a line, its exit. */
function started(child: ChildProcess) {
  let out = '';
  const waiters: { re: RegExp; res: (m: RegExpMatchArray) => void }[] = [];
  const feed = (d: Buffer) => {
    out += d.toString('utf8');
    for (let i = waiters.length - 1; i >= 0; i--) {
      const m = out.match(waiters[i].re);
      if (m) waiters.splice(i, 1)[0].res(m);
    }
  };
  child.stdout?.on('data', feed);
  child.stderr?.on('data', feed);
  const exited = new Promise<number>((res) => child.on('close', (c) => res(c ?? 1)));
  return {
    child, exited, out: () => out,
    line: (re: RegExp) => new Promise<RegExpMatchArray>((res, rej) => {
      const m = out.match(re);
      if (m) return res(m);
      waiters.push({ re, res });
      void exited.then(() => rej(new Error(`exited before printing ${re}: ${out}`)));
    }),
  };
}

type Planes = Map<string, { data: Set<number>; control: Set<number>; path: string }>;

/** Per module build-id of the program's executables: the data-plane and control-plane offsets. */
async function planesOf(db: string, programDir: string): Promise<Planes> {
  const d = await openPlanesDatabase(db);
  try {
    const out: Planes = new Map();
    const res = d.sql.exec('SELECT m.build_id, m.path, i.offset, i.plane FROM insns i JOIN modules m ON m.id = i.module_id WHERE i.executions > 0');
    for (const [bid, path, offset, plane] of res[0]?.values ?? []) {
      if (!String(path).startsWith(programDir)) continue;
      const e = out.get(String(bid)) ?? { data: new Set<number>(), control: new Set<number>(), path: String(path) };
      (Number(plane) === 1 ? e.data : e.control).add(Number(offset));
      out.set(String(bid), e);
    }
    return out;
  } finally {
    d.close();
  }
}

/** A run's name in both analyses: its program, and for the client its command (put, shutdown). */
const runKey = (exe: string, args: string): string => {
  const base = exe.split('/').pop()!;
  const cmd = (JSON.parse(args) as string[]).find((x) => x === 'put' || x === 'shutdown');
  return cmd ? `${base} ${cmd}` : base;
};

/** Figure 5's data: per run, kind and direction, the tainted and clean bytes. */
async function ioOf(db: string): Promise<Map<string, { tainted: number; clean: number }>> {
  const d = await openPlanesDatabase(db);
  try {
    const out = new Map<string, { tainted: number; clean: number }>();
    const res = d.sql.exec('SELECT r.exe, r.args, io.kind, io.direction, io.tainted, io.clean FROM io JOIN runs r ON r.id = io.run_id');
    for (const [exe, args, kind, dir, tainted, clean] of res[0]?.values ?? []) {
      const key = `${runKey(String(exe), String(args))} ${kind} ${dir}`;
      const e = out.get(key) ?? { tainted: 0, clean: 0 };
      e.tainted += Number(tainted);
      e.clean += Number(clean);
      out.set(key, e);
    }
    return out;
  } finally {
    d.close();
  }
}

/** The message graph: receiver run <- sender run, message id; and the messages whose sender is unresolved. */
async function messageGraphOf(db: string): Promise<{ edges: string[]; unresolved: string[] }> {
  const d = await openPlanesDatabase(db);
  try {
    const res = d.sql.exec(`SELECT r.exe, r.args, s.exe, s.args, m.msg, m.peer FROM messages m JOIN runs r ON r.id = m.run_id
      LEFT JOIN runs s ON s.id = m.peer_run_id`);
    const edges = new Set<string>(), unresolved: string[] = [];
    for (const [exe, args, sExe, sArgs, msg, peer] of res[0]?.values ?? []) {
      if (sExe === null) unresolved.push(`${runKey(String(exe), String(args))} <- ${peer} msg ${msg}`);
      else edges.add(`${runKey(String(exe), String(args))} <- ${runKey(String(sExe), String(sArgs))} msg ${msg}`);
    }
    return { edges: [...edges].sort(), unresolved };
  } finally {
    d.close();
  }
}

/** Bytes the recorded process read (socket reads, peeks left out) and sent on sockets: record kinds
 *  read, readv, recv, recvfrom, recvmsg, recvmsg by reference; send, sendto, sendmsg, write, writev
 *  (native/librecord/lr_rr.h), their logged return values. */
function recordedSocketBytes(log: string): { in: number; out: number } {
  const b = readFileSync(log);
  const IN = new Set([3, 4, 5, 6, 7, 47]), OUT = new Set([8, 9, 10, 11, 12]);
  const out = { in: 0, out: 0 };
  for (let pos = 8; pos + RECORD_HEADER_BYTES <= b.length;) {
    const len = b.readUInt32LE(pos), kind = b.readUInt16LE(pos + 4), ret = Number(b.readBigInt64LE(pos + 16)), flags = b.readUInt32LE(pos + 36);
    if (len < RECORD_HEADER_BYTES) break;
    if (ret > 0 && IN.has(kind) && !(flags & 2 /* MSG_PEEK */)) out.in += ret;
    if (ret > 0 && OUT.has(kind)) out.out += ret;
    pos += len;
  }
  return out;
}

/** Both runs must execute the same code: the chunk server's heartbeat after the put walks the stored
 *  chunks (usage_counts), so let a few heartbeats (-i 100 ms) pass before the shutdown. */
const afterPut = () => new Promise((r) => setTimeout(r, 3000));

function diff(a: Set<number>, b: Set<number>): number[] {
  return [...a].filter((x) => !b.has(x)).sort((x, y) => x - y);
}

function symbolize(bin: string, offsets: number[]): string[] {
  if (!offsets.length) return [];
  const r = spawnSync('addr2line', ['-f', '-e', bin, ...offsets.slice(0, 20).map((o) => '0x' + o.toString(16))], { encoding: 'utf8' });
  const lines = r.stdout.split('\n');
  return offsets.slice(0, 20).map((o, i) => `0x${o.toString(16)} ${lines[2 * i]} ${lines[2 * i + 1]}`);
}

describe('replay --analyze (minidfs, online vs record + replay)', function () {
  this.timeout(900000);
  let work: string;
  let bin: string;
  let lib: string;
  let input: string;
  let userData: string[];

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'planescope-analyze-'));
    bin = await buildMinidfs(join(work, 'bin'));
    lib = distAsset('native/librecord.so');
    mkdirSync(join(work, 'data'));
    input = join(work, 'data', 'in.bin');
    writeUserData(input, SIZE);
    userData = [join(work, 'data', '*')];
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  /** Records the workload; returns what each run printed (stdout and stderr), by runKey. */
  async function recordCluster(trace: string, store: string, data: 'value' | 'reference'): Promise<Map<string, string>> {
    rmSync(store, { recursive: true, force: true }); // an earlier replay's chunks would change the heartbeats
    const opts = { dir: trace, librecord: lib, recordData: data, userData, cwd: work, stdio: ['ignore', 'pipe', 'pipe'] as ('ignore' | 'pipe')[] };
    let m!: ReturnType<typeof started>, c!: ReturnType<typeof started>;
    const master = recordRun({ ...opts, command: [join(bin, 'minidfs-master'), '-p', '0', '-c', CHUNK], onSpawn: (ch) => (m = started(ch)) });
    const addr = (await m.line(/listening on (\S+)/))[1];
    const cs = recordRun({ ...opts, command: [join(bin, 'minidfs-chunkserver'), '-m', addr, '-d', store, '-i', '100'], onSpawn: (ch) => (c = started(ch)) });
    await c.line(/listening on/);
    await m.line(/registered/);
    let p!: ReturnType<typeof started>;
    const put = await recordRun({ ...opts, command: [join(bin, 'minidfs-client'), '-m', addr, 'put', input, 'f'], onSpawn: (ch) => (p = started(ch)) });
    assert.equal(put.exit.code, 0, p.out());
    await afterPut();
    let d!: ReturnType<typeof started>;
    const down = await recordRun({ ...opts, userData: [], command: [join(bin, 'minidfs-client'), '-m', addr, 'shutdown'], onSpawn: (ch) => (d = started(ch)) });
    assert.equal(down.exit.code, 0);
    const [mr, cr] = await Promise.all([master, cs]);
    assert.equal(mr.exit.code, 0, m.out());
    assert.equal(cr.exit.code, 0, c.out());
    await Promise.all([m.exited, c.exited, p.exited, d.exited]); // all output read
    rmSync(store, { recursive: true, force: true }); // the replay starts from the file system as recorded
    return new Map([['minidfs-master', m.out()], ['minidfs-chunkserver', c.out()], ['minidfs-client put', p.out()], ['minidfs-client shutdown', d.out()]]);
  }

  it('classifies the same data-plane and control-plane instructions per program module as online analysis', async () => {
    // online: each program under `planescope run --mode online`
    const online = join(work, 'online');
    const run = (args: string[]) => started(spawn(process.execPath, ['--import', 'tsx', CLI, 'run', '--mode', 'online', '--trace', online, ...userData.flatMap((g) => ['--user-data', g]), '--', ...args], { cwd: packageRoot(), stdio: ['ignore', 'pipe', 'pipe'] }));
    const m = run([join(bin, 'minidfs-master'), '-p', '0', '-c', CHUNK]);
    const addr = (await m.line(/listening on (\S+)/))[1];
    const c = run([join(bin, 'minidfs-chunkserver'), '-m', addr, '-d', join(work, 'store-online'), '-i', '100']);
    await c.line(/listening on/);
    await m.line(/registered/);
    const put = run([join(bin, 'minidfs-client'), '-m', addr, 'put', input, 'f']);
    assert.equal(await put.exited, 0, put.out());
    await afterPut();
    const down = run([join(bin, 'minidfs-client'), '-m', addr, 'shutdown']);
    assert.equal(await down.exited, 0, down.out());
    assert.equal(await m.exited, 0, m.out());
    assert.equal(await c.exited, 0, c.out());

    const r = cli(['classify', online, '--out', join(work, 'online.planes.db')]);
    assert.equal(r.status, 0, r.stderr);
    const a = await planesOf(join(work, 'online.planes.db'), bin);
    assert.equal(a.size, 3);

    // recorded natively (user data and message payloads by value, then by reference), replayed under planegrind
    for (const data of ['value', 'reference'] as const) {
      const trace = join(work, `rec-${data}`);
      const printed = await recordCluster(trace, join(work, 'store-rec'), data);
      const an = cli(['replay', trace, '--analyze']);
      assert.equal(an.status, 0, an.stderr);
      assert.match(an.stderr, new RegExp(`taint logs in .*rec-${data}/analysis`));
      const analysis = join(trace, 'analysis');
      const taintLogs = readdirSync(analysis).filter((f) => f.endsWith('.taintlog'));
      assert.equal(taintLogs.length, 4, readdirSync(analysis).join(' '));
      assert.equal(readdirSync(analysis).filter((f) => f.endsWith('.msgtaint')).length, 4);
      // the chunk server's received chunk bytes carry the client's message labels
      const csLog = await readTaintLog(join(analysis, taintLogs.find((f) => f.startsWith('minidfs-chunkserver'))!));
      const msgLabels = [...csLog.labels.values()].filter((l) => l.provenance.kind === 'msg');
      assert.ok(msgLabels.length > 0, 'the chunk server received tainted messages');
      assert.ok(msgLabels.every((l) => l.provenance.kind === 'msg' && /^minidfs-client:\d+@/.test(l.provenance.peer)));

      const db = join(work, `replay-${data}.planes.db`);
      const c = cli(['classify', analysis, '--out', db]);
      assert.equal(c.status, 0, c.stderr);
      const b = await planesOf(db, bin);
      assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort(), 'the same program modules');
      for (const [bid, x] of a) {
        const y = b.get(bid)!;
        const report = (what: string, p: Set<number>, q: Set<number>) => {
          const onlyOnline = diff(p, q), onlyReplay = diff(q, p);
          return `${data}: ${x.path} ${what}: only online ${onlyOnline.length} [${symbolize(x.path, onlyOnline).join('; ')}], only replay ${onlyReplay.length} [${symbolize(x.path, onlyReplay).join('; ')}]`;
        };
        assert.ok(diff(x.data, y.data).length === 0 && diff(y.data, x.data).length === 0, report('data plane', x.data, y.data));
        assert.ok(diff(x.control, y.control).length === 0 && diff(y.control, x.control).length === 0, report('control plane', x.control, y.control));
        // user data flows through the client and, over the network, into the chunk server; the master never sees it
        if (/minidfs-(client|chunkserver)$/.test(x.path)) assert.ok(x.data.size > 0, `${x.path} has data-plane instructions`);
        else assert.equal(x.data.size, 0, `${x.path} stays control plane`);
      }
      // the message graph: every message label's sender resolves to its run, the same edges as online
      const ga = await messageGraphOf(join(work, 'online.planes.db')), gb = await messageGraphOf(db);
      assert.deepEqual(ga.unresolved, [], 'online: every message sender resolved');
      assert.deepEqual(gb.unresolved, [], `${data}: every message sender resolved on replay`);
      assert.ok(ga.edges.length > 0 && ga.edges.every((e) => /^minidfs-chunkserver <- minidfs-client put msg \d+$/.test(e)), ga.edges.join('; '));
      assert.deepEqual(gb.edges, ga.edges, `${data}: the same message graph as online`);
      const ioA = await ioOf(join(work, 'online.planes.db')), ioB = await ioOf(db);
      // Figure 5 (issue #6 gap 1): replayed socket reads and sends are counted through ACCOUNT_IO
      const keys = [...new Set([...ioA.keys(), ...ioB.keys()])].sort();
      const table = `${data}: online vs replay: ${keys.map((k) => `${k} ${JSON.stringify(ioA.get(k))} ${JSON.stringify(ioB.get(k))}`).join('; ')}`;
      const zero = { tainted: 0, clean: 0 };
      const at = (io: typeof ioA, k: string) => io.get(k) ?? zero;
      for (const k of keys) {
        // every tainted byte moved online is moved on replay, in the same run, kind and direction
        assert.equal(at(ioB, k).tainted, at(ioA, k).tainted, `tainted bytes of ${k}; ${table}`);
        if (/ file in$/.test(k)) assert.equal(at(ioB, k).clean, at(ioA, k).clean, `clean bytes of ${k}; ${table}`);
      }
      assert.ok(at(ioB, 'minidfs-chunkserver socket in').tainted > SIZE / 2 && at(ioB, 'minidfs-client put socket out').tainted > SIZE / 2, table);
      const recs = readdirSync(trace).filter((f) => f.endsWith('.rec'));
      assert.equal(recs.length, 4);
      for (const f of recs) {
        const summary = readRecordingLog(join(trace, f));
        const key = runKey(summary.header.exe, JSON.stringify(summary.header.argv));
        // socket I/O: exactly the bytes of the recorded calls, each once (the wire as recorded: its clean
        // frame headers and hellos, where online sent tags and other hellos, and the chunk server's
        // heartbeats, as many as the recorded run had). Output also has the real writes of what the
        // program prints (libc's own write(2), which librecord does not see, on the replay's stdout
        // and stderr: a socket pair when Node spawned the CLI with pipes, else a pipe or a tty).
        const wire = recordedSocketBytes(join(trace, f));
        const sum = (...xs: { tainted: number; clean: number }[]) => xs.reduce((t, x) => t + x.tainted + x.clean, 0);
        assert.equal(sum(at(ioB, `${key} socket in`)), wire.in, `${key} socket in: the recorded reads; ${table}`);
        const out = printed.get(key);
        assert.ok(out !== undefined, key);
        assert.equal(sum(at(ioB, `${key} socket out`), at(ioB, `${key} pipe out`), at(ioB, `${key} tty out`)), wire.out + Buffer.byteLength(out),
          `${key} socket/pipe/tty out: the recorded sends and the ${Buffer.byteLength(out)} bytes it printed; ${table}`);
        // file output: the online run's plus the message-taint file the replay wrote (all but the end
        // entry of 24 bytes that `planescope replay` appends) and, by reference, when it sent a payload
        // of at least 4096 bytes, its payload file's 8-byte magic and 24-byte end entry (the payloads
        // go through a shared mapping: no syscall; a file of only those 32 bytes is `planescope
        // replay`'s, written for a process that sent none)
        const msgFile = statSync(messageTaintFile(analysis, recordedIdentity(summary))).size;
        const payload = payloadFile(analysis, recordedIdentity(summary));
        assert.equal(existsSync(payload), data === 'reference', 'payload files by reference only');
        const payloadSyscalls = existsSync(payload) && statSync(payload).size > 8 + 24 ? 8 + 24 : 0;
        if (data === 'reference' && key === 'minidfs-client put') assert.ok(payloadSyscalls > 0, 'the client put its chunks by reference');
        assert.equal(at(ioB, `${key} file out`).clean - at(ioA, `${key} file out`).clean, msgFile - 24 + payloadSyscalls, `${key} file out; ${table}`);
      }
      if (data === 'reference') await oneAlone(trace, analysis, msgLabels.length);
    }
  });

  /** One process alone, as the debugger replays it: the persisted message taint still applies. */
  async function oneAlone(trace: string, analysis: string, labels: number) {
    const csTaintLog = () => join(analysis, readdirSync(analysis).find((f) => f.startsWith('minidfs-chunkserver') && f.endsWith('.taintlog'))!);
    // into another directory: its senders' message taint is not there, and it says so
    rmSync(join(work, 'store-rec'), { recursive: true, force: true });
    const one = cli(['replay', trace, '--analyze', '--process', 'minidfs-chunkserver', '--trace', join(work, 'alone')]);
    assert.equal(one.status, 0, one.stderr);
    assert.match(one.stderr, /no message taint from minidfs-client:\d+@\S+ in .*alone/);
    // the payloads it received by reference come from the client's recording, replayed alongside (natively)
    assert.match(one.stderr, /replaying its recording minidfs-client\.\d+ alongside/);
    // into the analysis directory: the client's persisted message taint applies, the same labels as before
    rmSync(join(work, 'store-rec'), { recursive: true, force: true });
    const withTaint = cli(['replay', trace, '--analyze', '--process', 'minidfs-chunkserver']);
    assert.equal(withTaint.status, 0, withTaint.stderr);
    assert.doesNotMatch(withTaint.stderr, /no message taint|lacks message/);
    const csAlone = await readTaintLog(csTaintLog());
    assert.equal([...csAlone.labels.values()].filter((l) => l.provenance.kind === 'msg').length, labels);
  }
});
