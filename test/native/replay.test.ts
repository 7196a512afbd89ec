// Record and replay with real processes: C fixtures compiled here, recorded with librecord in record
// mode (recordRun, what `planescope run --mode record` does), replayed from their logs alone
// (replayProcess, what `planescope replay` does), outputs compared byte for byte.
import { strict as assert } from 'node:assert';
import { ChildProcess, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distAsset, packageRoot } from '../../src/core/assets';
import { readRecordingLog } from '../../src/core/recording/log';
import { readManifest } from '../../src/core/recording/manifest';
import { Exit, librecordMismatch, recordRun, replayProcess, ReplayOutcome } from '../../src/core/recording/session';
import { planReplaySet, runReplaySet } from '../../src/core/recording/replaySet';
import { recordingSizes } from '../../src/core/recording/sizes';

const fixtures = join(packageRoot(), 'test', 'native', 'fixtures', 'replay');

interface Io { out: () => string; attach: (c: ChildProcess) => void }

/** Captures a child's stdout and feeds it stdin; firstLine resolves with its first stdout line. */
function io(stdin = ''): Io & { firstLine: Promise<string> } {
  let out = '';
  let resolveLine: (l: string) => void = () => {};
  const firstLine = new Promise<string>((r) => (resolveLine = r));
  return {
    out: () => out,
    firstLine,
    attach(c) {
      c.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const nl = out.indexOf('\n');
        if (nl >= 0) resolveLine(out.slice(0, nl));
      });
      // a fixture that crashes (or exits) before reading its stdin closes the pipe: EPIPE is expected
      c.stdin?.on('error', (e: NodeJS.ErrnoException) => { if (e.code !== 'EPIPE') throw e; });
      c.stdin?.end(stdin);
    },
  };
}

describe('record and replay (librecord, native)', function () {
  this.timeout(180000);
  let dir: string;
  let lib: string;
  const bin = (name: string) => join(dir, name);
  let traceCount = 0;
  const newTrace = () => join(dir, `trace${++traceCount}`);

  function compile(name: string, out = name, extra: string[] = []): void {
    const cc = spawnSync('gcc', ['-g', '-O1', '-Wall', '-Wl,--build-id', ...extra, '-o', bin(out), join(fixtures, `${name}.c`), '-lpthread'], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
  }

  async function record(trace: string, command: string[], opts: { stdin?: string; userData?: string[]; data?: 'value' | 'reference' } = {}) {
    const cap = io(opts.stdin);
    const r = await recordRun({
      dir: trace, command, librecord: lib, recordData: opts.data ?? 'value', userData: opts.userData ?? [],
      cwd: dir, stdio: ['pipe', 'pipe', 'inherit'], onSpawn: cap.attach,
    });
    return { ...r, out: cap.out() };
  }

  function logsOf(trace: string): string[] {
    return readdirSync(trace).filter((f) => f.endsWith('.rec')).map((f) => join(trace, f));
  }

  async function replay(log: string): Promise<ReplayOutcome & { out: string }> {
    const cap = io();
    const o = await replayProcess({ log, librecord: lib, stdio: ['ignore', 'pipe', 'pipe'], onSpawn: cap.attach });
    return { ...o, out: cap.out() };
  }

  const exitOk = (e: Exit) => e.code === 0 && e.signal === null;

  before(() => {
    lib = distAsset('native/librecord.so');
    dir = mkdtempSync(join(tmpdir(), 'planescope-replay-'));
    for (const f of ['single', 'threads', 'crash', 'userdata', 'sockpeer', 'execer']) compile(f);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('replays a single-threaded program (clocks, randomness, pids, stdin) to identical output', async () => {
    const trace = newTrace();
    const rec = await record(trace, ['./single'], { stdin: 'hello from stdin' });
    assert.ok(exitOk(rec.exit), JSON.stringify(rec.exit));
    assert.match(rec.out, /stdin=16:hello from stdin/);
    const m = readManifest(trace)!;
    assert.equal(m.processes.length, 1);
    assert.match(m.buildId ?? '', /^[0-9a-f]{16,}$/);
    assert.equal(m.processes[0].buildId, m.buildId);
    const summary = readRecordingLog(logsOf(trace)[0]);
    for (const k of ['clock_gettime', 'gettimeofday', 'getrandom', 'read', 'getpid', 'time']) assert.ok(summary.byKind.get(k), `no ${k} record`);
    // the log names the librecord build that recorded it; another build replaying it is flagged
    assert.match(summary.header.librecordBuildId, /^[0-9a-f]{16,}$/);
    assert.equal(librecordMismatch(summary, lib), undefined);
    assert.match(librecordMismatch({ ...summary, header: { ...summary.header, librecordBuildId: '00ff' } }, lib) ?? '', /recorded with another librecord build \(00ff; replaying with [0-9a-f]+\)/);
    const rep = await replay(logsOf(trace)[0]);
    assert.equal(rep.report, undefined, rep.report?.reason);
    assert.ok(exitOk(rep.exit));
    assert.equal(rep.out, rec.out);
    // and a fresh native run is different (the test can fail)
    const native = spawnSync(bin('single'), { input: 'hello from stdin', encoding: 'utf8' });
    assert.notEqual(native.stdout, rec.out);
    // the CLI: the program's output on stdout, the outcome on stderr, exit 0
    const cli = spawnSync(process.execPath, ['--import', 'tsx', join(packageRoot(), 'src', 'cli', 'main.ts'), 'replay', trace], { cwd: packageRoot(), encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    assert.equal(cli.stdout, rec.out);
    assert.match(cli.stderr, /single\.\d+: replayed \d+ records; it exited with code 0 as recorded/);
    assert.match(cli.stderr, /log [\d.]+ KiB, \d+ records, 1 thread\(s\)/);
  });

  it('replays a multithreaded program in the recorded mutex/condvar order', async () => {
    const trace = newTrace();
    const rec = await record(trace, ['./threads']);
    assert.ok(exitOk(rec.exit));
    const summary = readRecordingLog(logsOf(trace)[0]);
    assert.equal(summary.threads.length, 6);
    assert.ok(summary.byKind.get('pthread_mutex_lock')!.count >= 800);
    const rep = await replay(logsOf(trace)[0]);
    assert.equal(rep.report, undefined, rep.report?.reason);
    assert.equal(rep.out, rec.out);
  });

  it('replays each side of a loopback client/server alone, with the other side absent', async () => {
    const serverTrace = newTrace(), clientTrace = newTrace();
    const srvIo = io();
    const server = recordRun({ dir: serverTrace, command: ['./sockpeer', 'server'], librecord: lib, recordData: 'value', userData: [], cwd: dir, stdio: ['ignore', 'pipe', 'inherit'], onSpawn: srvIo.attach });
    const port = await srvIo.firstLine;
    const client = await record(clientTrace, ['./sockpeer', 'client', port, '50']);
    const srv = await server;
    assert.ok(exitOk(client.exit) && exitOk(srv.exit));
    assert.match(srvIo.out(), /served=50 /);
    const repServer = await replay(logsOf(serverTrace)[0]);
    const repClient = await replay(logsOf(clientTrace)[0]);
    assert.equal(repServer.report, undefined, repServer.report?.reason);
    assert.equal(repClient.report, undefined, repClient.report?.reason);
    assert.equal(repServer.out, srvIo.out());
    assert.equal(repClient.out, client.out);
    assert.ok(readRecordingLog(logsOf(serverTrace)[0]).byKind.get('accept'));
  });

  it('reproduces a crash; a SIGKILLed or truncated recording replays up to its end and says so', async () => {
    const trace = newTrace();
    const rec = await record(trace, ['./crash']);
    assert.equal(rec.exit.signal, 'SIGSEGV');
    const log = logsOf(trace)[0];
    assert.equal(readRecordingLog(log).ended, false);
    const rep = await replay(log);
    assert.equal(rep.exit.signal, 'SIGSEGV');
    assert.equal(rep.out, rec.out);

    // SIGKILL: a server killed while it waits in accept leaves a log that replays up to that call
    const tk = newTrace();
    const kIo = io();
    const killed = recordRun({ dir: tk, command: ['./sockpeer', 'server'], librecord: lib, recordData: 'value', userData: [], cwd: dir, stdio: ['ignore', 'pipe', 'inherit'], onSpawn: (c) => { kIo.attach(c); void kIo.firstLine.then(() => c.kill('SIGKILL')); } });
    await kIo.firstLine;
    // setarch is the spawned process; it exec'd the server, so the signal reaches the server itself
    assert.equal((await killed).exit.signal, 'SIGKILL');
    const klog = logsOf(tk)[0];
    assert.equal(readRecordingLog(klog).ended, false);
    assert.equal(readRecordingLog(klog).partialBytes, 0); // the rest of its recording window is zeros, not a cut record
    assert.ok(readRecordingLog(klog).unusedBytes > 0);
    assert.ok(readRecordingLog(klog).byKind.get('listen'));
    const krep = await replay(klog);
    assert.equal(krep.report?.status, 'end');
    assert.equal(krep.report?.call, 'accept');
    assert.match(krep.report!.reason, /no further call here/);
    assert.equal(krep.out, kIo.out());

    // cut the single-threaded recording in the middle of a record
    const t2 = newTrace();
    await record(t2, ['./single'], { stdin: 'x' });
    const log2 = logsOf(t2)[0];
    const full = readRecordingLog(log2);
    truncateSync(log2, full.fileBytes - 30); // inside the end record
    const cut = readRecordingLog(log2);
    assert.ok(cut.partialBytes > 0 && cut.records === full.records - 1);
    const rep2 = await replay(log2);
    assert.equal(rep2.report?.status, 'end');
    assert.match(rep2.report!.reason, /truncated/);
  });

  it('by-reference user-data reads replay like by-value, in a smaller log, and a changed file is a divergence with its source line', async () => {
    const data = join(dir, 'input.dat');
    writeFileSync(data, Buffer.alloc(300000, 'abcdefghij'));
    const tv = newTrace(), tr = newTrace();
    const byValue = await record(tv, ['./userdata', data], { userData: ['*.dat'], data: 'value' });
    const byRef = await record(tr, ['./userdata', data], { userData: [join(dir, '*.dat')], data: 'reference' });
    const sv = readRecordingLog(logsOf(tv)[0]), sr = readRecordingLog(logsOf(tr)[0]);
    assert.equal(sv.userDataBytesByValue, 300000);
    assert.equal(sr.userDataBytesByReference, 300000);
    assert.ok(sr.logBytes * 20 < sv.logBytes, `${sr.logBytes} vs ${sv.logBytes}`);
    const rv = await replay(logsOf(tv)[0]);
    const rr = await replay(logsOf(tr)[0]);
    assert.equal(rv.out, byValue.out);
    assert.equal(rr.out, byRef.out);
    assert.equal(rr.out.replace(/ns=\d+/, ''), rv.out.replace(/ns=\d+/, ''));

    const changed = Buffer.alloc(300000, 'abcdefghij');
    changed[123456] ^= 1;
    writeFileSync(data, changed);
    const diverged = await replay(logsOf(tr)[0]);
    assert.equal(diverged.report?.status, 'divergence');
    assert.match(diverged.report!.reason, /user-data file .*input\.dat changed since the recording/);
    assert.equal(diverged.report!.thread, 0);
    assert.match(diverged.report!.call, /user data/);
    assert.match(diverged.sourceLine ?? '', /main at .*userdata\.c:\d+/);
    // by value, the recorded bytes are used and the change does not matter
    const stillOk = await replay(logsOf(tv)[0]);
    assert.equal(stillOk.out, byValue.out);
  });

  it('records minidfs into one directory (payloads by reference: <2% of the bytes moved) and replays each process, the receiver with its sender alongside', async () => {
    const mbin = join(dir, 'minidfs');
    const mk = spawnSync('make', ['-s', '-C', join(packageRoot(), 'examples', 'minidfs'), `OUT=${mbin}`], { encoding: 'utf8' });
    assert.equal(mk.status, 0, mk.stderr);
    const data = join(dir, 'upload.bin');
    const bytes = Buffer.alloc(3 << 20);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
    writeFileSync(data, bytes);
    const trace = newTrace(), store = join(dir, 'store');
    const opts = { dir: trace, librecord: lib, recordData: 'reference' as const, userData: [data], cwd: dir };
    const mIo = io(), cIo = io();
    const master = recordRun({ ...opts, command: [join(mbin, 'minidfs-master'), '-p', '0'], stdio: ['ignore', 'pipe', 'pipe'], onSpawn: mIo.attach });
    const addr = (await mIo.firstLine).match(/listening on (\S+)/)![1];
    const cs = recordRun({ ...opts, command: [join(mbin, 'minidfs-chunkserver'), '-m', addr, '-d', store, '-i', '100'], stdio: ['ignore', 'pipe', 'pipe'], onSpawn: cIo.attach });
    await cIo.firstLine;
    const put = await record(trace, [join(mbin, 'minidfs-client'), '-m', addr, 'put', data, 'f'], { userData: [data], data: 'reference' });
    assert.ok(exitOk(put.exit), put.out);
    // a client that only tags (not recorded): its payloads cannot be regenerated, so they are logged by value
    const small = join(dir, 'small.bin');
    writeFileSync(small, bytes.subarray(0, 65536));
    const tagOnly: NodeJS.ProcessEnv = { ...process.env, LD_PRELOAD: lib };
    for (const k of Object.keys(tagOnly)) if (k.startsWith('PLANESCOPE_RR_')) delete tagOnly[k];
    const plain = spawnSync(join(mbin, 'minidfs-client'), ['-m', addr, 'put', small, 'g'], { env: tagOnly, encoding: 'utf8' });
    assert.equal(plain.status, 0, plain.stderr);
    await record(trace, [join(mbin, 'minidfs-client'), '-m', addr, 'shutdown']);
    const [m, c] = await Promise.all([master, cs]);
    assert.ok(exitOk(m.exit) && exitOk(c.exit));
    const logs = logsOf(trace);
    assert.equal(logs.length, 4);
    assert.ok(readManifest(trace) && readdirSync(trace).includes('manifest-4.json'));
    rmSync(store, { recursive: true, force: true }); // files are not logged: the store starts empty, as recorded
    const csLog = logs.find((l) => l.includes('chunkserver'))!;
    for (const log of logs.filter((l) => l !== csLog)) {
      const rep = await replay(log);
      assert.equal(rep.report, undefined, `${log}: ${rep.report?.reason}`);
      assert.ok(exitOk(rep.exit), `${log}: ${JSON.stringify(rep.exit)}`);
      if (log.includes('client')) assert.ok(put.out.includes(rep.out.trim()) || rep.out.includes('shutting down'), rep.out);
    }
    // the chunk server holds the uploaded bytes by reference to the client's messages: 2% of by value at most
    const csSummary = readRecordingLog(csLog);
    assert.equal(csSummary.messageBytesByReference, bytes.length);
    assert.equal(csSummary.referencedSenders.length, 1);
    assert.match(csSummary.referencedSenders[0], /^minidfs-client:\d+@/);
    const total = logs.reduce((n, l) => n + readRecordingLog(l).logBytes, 0);
    assert.ok(csSummary.byKind.get('recvmsg')!.bytes > 65536, 'the unrecorded client\'s bytes by value');
    assert.ok(total - 65536 < 0.02 * 2 * bytes.length, `${total} log bytes for a put of ${bytes.length} (+ 64 KiB by value)`);
    const sizes = recordingSizes(trace);
    // the shutdown client was recorded by value, the rest by reference
    assert.deepEqual(sizes.byMode.map((m) => [m.dataMode, m.processes, m.messageBytesByReference, m.userDataBytesByReference]), [['value', 1, 0, 0], ['reference', 3, bytes.length, bytes.length]]);
    assert.equal(sizes.byMode.reduce((n, m) => n + m.logBytes, 0), total);
    // alone it cannot get those bytes, and says so instead of diverging somewhere later
    const alone = await replay(csLog);
    assert.equal(alone.report?.status, 'divergence');
    assert.match(alone.report!.reason, /message \d+ from minidfs-client:\d+@\S+ was recorded by reference .*replay the sender alongside/);
    // with the sender's recording replayed alongside, it rewrites the uploaded chunk
    rmSync(store, { recursive: true, force: true });
    const { plan, notes } = planReplaySet(logs, [csLog]);
    assert.equal(plan.length, 2);
    assert.match(notes.join('\n'), /minidfs-chunkserver\.\d+ received message payloads by reference from minidfs-client:\d+@\S+: replaying its recording minidfs-client\.\d+ alongside/);
    const together = await runReplaySet({ plan, librecord: lib, stdio: ['ignore', 'ignore', 'pipe'] });
    for (const o of together) assert.ok(o.report === undefined && exitOk(o.exit), `${o.summary.header.process}: ${o.report?.reason}`);
    const chunks = readdirSync(store).filter((f) => /^chunk-\d+$/.test(f)).map((f) => readFileSync(join(store, f)));
    assert.equal(chunks.length, 2);
    assert.ok(chunks.some((c) => c.equals(bytes)) && chunks.some((c) => c.equals(bytes.subarray(0, 65536))));
    // the CLI does the same for --process
    rmSync(store, { recursive: true, force: true });
    const cli = spawnSync(process.execPath, ['--import', 'tsx', join(packageRoot(), 'src', 'cli', 'main.ts'), 'replay', trace, '--process', 'minidfs-chunkserver'], { cwd: packageRoot(), encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stderr, /replaying its recording minidfs-client\.\d+ alongside/);
    assert.match(cli.stderr, /message payloads by reference: 3\.0 MiB from minidfs-client:/);
  });

  it('a process that execs: its log is trimmed and its replay ends at the exec, as recorded; a failed exec fails again', async () => {
    const trace = newTrace();
    const rec = await record(trace, ['./execer', './single'], { stdin: 'after exec' });
    assert.ok(exitOk(rec.exit), JSON.stringify(rec.exit));
    assert.match(rec.out, /exec failed: No such file or directory\n/);
    assert.match(rec.out, /stdin=10:after exec/);
    const logs = logsOf(trace).sort();
    assert.equal(logs.length, 2, logs.join(' '));
    const execer = readRecordingLog(logs.find((l) => l.includes('execer'))!);
    assert.equal(execer.byKind.get('exec')?.count, 3); // the failed exec and its failure, the exec that replaced the image
    assert.equal(execer.unusedBytes, 0); // trimmed before the exec, not a 32 MiB window of zeros
    assert.ok(execer.fileBytes < 64 << 10, String(execer.fileBytes));
    const repExecer = await replay(execer.path);
    assert.equal(repExecer.report?.status, 'end');
    assert.ok(repExecer.report?.exec, repExecer.report?.reason);
    assert.match(repExecer.report!.reason, /exec'd \.\/single here/);
    assert.ok(exitOk(repExecer.exit));
    const repSingle = await replay(logs.find((l) => l.includes('single'))!);
    assert.equal(repSingle.report, undefined, repSingle.report?.reason);
    assert.equal(repExecer.out + repSingle.out, rec.out);
    const cli = spawnSync(process.execPath, ['--import', 'tsx', join(packageRoot(), 'src', 'cli', 'main.ts'), 'replay', trace], { cwd: packageRoot(), encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stderr, /execer\.\d+: replayed \d+ records up to its exec, as recorded/);
  });

  it('refuses a recording of a different binary (build-id)', async () => {
    compile('userdata', 'ud2');
    const data = join(dir, 'small.dat');
    writeFileSync(data, 'abc');
    const trace = newTrace();
    await record(trace, ['./ud2', data]);
    const before = statSync(bin('ud2')).mtimeMs;
    compile('userdata', 'ud2', ['-DVARIANT=1']);
    assert.ok(statSync(bin('ud2')).mtimeMs >= before);
    await assert.rejects(replay(logsOf(trace)[0]), /refusing to replay ud2\.\d+: .*ud2 has build-id [0-9a-f]+ but the recording was made from build-id [0-9a-f]+/);
    const cli = spawnSync(process.execPath, ['--import', 'tsx', join(packageRoot(), 'src', 'cli', 'main.ts'), 'replay', trace], { cwd: packageRoot(), encoding: 'utf8' });
    assert.equal(cli.status, 1);
    assert.match(cli.stderr, /^planescope: refusing to replay ud2\.\d+: /m);
  });
});
