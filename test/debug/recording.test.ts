// `recording` launches: the standalone adapter replays a process of a real recording (made here with
// `planescope run --trace`) under planegrind + gdb, driven by DebugClient; and every way such a launch
// can fail comes back as the launch's error response or as a stop that says what happened.
import { strict as assert } from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DebugProtocol } from '@vscode/debugprotocol';
import { Fixture, Session, buildFixture, cli, endSession, ensureAdapterBuilt, fixtureSource, markerLine, recordFixture, root, scopeVariables, sessionProcesses, startSession, step, topFrame, waitFor } from './helpers';

describe('debug adapter: replaying a recording (DebugClient, real librecord + valgrind + gdb)', function () {
  this.timeout(180_000);
  let fx: Fixture;
  let recording: string;
  let session: Session | undefined;

  before(() => {
    ensureAdapterBuilt();
    fx = buildFixture();
    recording = recordFixture(fx, 'rec');
  });
  after(() => rmSync(fx.dir, { recursive: true, force: true }));

  afterEach(async function () {
    await endSession(session, this.currentTest);
    session = undefined;
  });

  const launchArgs = (extra: Record<string, unknown> = {}) => ({ recording, process: 'taintdemo', ...extra });

  async function stopAt(marker: string, extra: Record<string, unknown> = {}): Promise<Session> {
    session = await startSession();
    await session.dc.hitBreakpoint(launchArgs(extra), { path: fixtureSource, line: markerLine(marker) });
    return session;
  }

  async function locals(s: Session): Promise<Map<string, string>> {
    return new Map((await scopeVariables(s, 'Locals')).map((v) => [v.name, v.value]));
  }

  it('stops at a breakpoint at the right line after replaying the recorded reads', async () => {
    const s = await stopAt('BREAK_HERE');
    const frame = await topFrame(s);
    assert.equal(frame.line, markerLine('BREAK_HERE'));
    assert.equal(frame.name, 'main');
    assert.deepEqual(s.events, ['initialized', 'continued', 'stopped']);
  });

  it('shows the recorded run\'s local values', async () => {
    const s = await stopAt('BREAK_HERE');
    const l = await locals(s);
    assert.equal(l.get('fixed')?.split(' ')[0], '42');
    assert.equal(l.get('count')?.split(' ')[0], String(fx.data.length));
    assert.equal(l.get('fd')?.split(' ')[0], '3', 'the replay opens the data file at the recorded fd number');
    assert.match(l.get('path') ?? '', /"data\.bin"/);
  });

  it('shows the Taint scope: the buffer read from the user-data file with its file label, a constant-derived local clean', async () => {
    const s = await stopAt('BREAK_HERE');
    const taint = await scopeVariables(s, 'Taint');
    const buf = taint.find((v) => v.name === 'buf');
    assert.ok(buf, JSON.stringify(taint));
    assert.match(buf.value, new RegExp(`^tainted ${fx.data.length}/32 B`));
    const fixed = taint.find((v) => v.name === 'fixed');
    assert.ok(fixed && /^clean/.test(fixed.value), JSON.stringify(fixed));
    const runs = (await s.dc.variablesRequest({ variablesReference: buf.variablesReference })).body.variables;
    const labels = (await s.dc.variablesRequest({ variablesReference: runs[0].variablesReference })).body.variables;
    assert.ok(labels.some((l) => l.value.includes(fx.dataFile)), `the label names ${fx.dataFile}: ${JSON.stringify(labels)}`);
  });

  it('steps back to the previous line with the previous locals', async () => {
    const s = await stopAt('BREAK_HERE');
    await step(s, 'next');
    assert.equal((await topFrame(s)).line, markerLine('STEP_1'));
    const atStep1 = await locals(s);
    await step(s, 'next');
    assert.equal((await topFrame(s)).line, markerLine('STEP_2'));
    assert.equal((await locals(s)).get('doubled')?.split(' ')[0], '84');
    await step(s, 'stepBack');
    assert.equal((await topFrame(s)).line, markerLine('STEP_1'));
    assert.deepEqual(await locals(s), atStep1);
    // Exact: planegrind's stop-at took the replay to the earlier stop's instruction count.
    assert.ok(!s.output.some((o) => /stop-at failed/.test(o)), `step back by instruction count, not by re-running the steps: ${JSON.stringify(s.output)}`);
  });

  it('with "exactStepBack": false (no exact instruction counting), step back re-runs the recorded steps', async () => {
    const s = await stopAt('BREAK_HERE', { exactStepBack: false });
    await step(s, 'next');
    const atStep1 = await locals(s);
    await step(s, 'next');
    await step(s, 'stepBack');
    assert.equal((await topFrame(s)).line, markerLine('STEP_1'));
    assert.deepEqual(await locals(s), atStep1);
    assert.ok(!s.output.some((o) => /stop-at|deterministic/.test(o)), JSON.stringify(s.output));
  });

  it('a data breakpoint on a variable is a taint watch: continue stops right after the line that brings tainted data into it', async () => {
    const s = await stopAt('OPEN_HERE');
    const frame = await topFrame(s);
    const scopes = (await s.dc.scopesRequest({ frameId: frame.id })).body.scopes;
    const localsRef = scopes.find((x) => x.name === 'Locals')!.variablesReference;
    const info = (await s.dc.customRequest('dataBreakpointInfo', { variablesReference: localsRef, name: 'buf' })).body as DebugProtocol.DataBreakpointInfoResponse['body'];
    assert.ok(info.dataId, JSON.stringify(info));
    assert.deepEqual(info.accessTypes, ['write']);
    assert.match(info.description, /tainted data reaches buf \(32 B at 0x[0-9a-f]+\)/);
    const registersRef = scopes.find((x) => x.name === 'Registers')!.variablesReference;
    const reg = (await s.dc.customRequest('dataBreakpointInfo', { variablesReference: registersRef, name: 'rax' })).body;
    assert.equal(reg.dataId, null, 'a register has no address to watch');
    const set = (await s.dc.customRequest('setDataBreakpoints', { breakpoints: [{ dataId: info.dataId, accessType: 'write' }] })).body.breakpoints as DebugProtocol.Breakpoint[];
    assert.equal(set[0].verified, true, JSON.stringify(set));
    // No line breakpoint left: only the watch can stop the run before the end.
    await s.dc.setBreakpointsRequest({ source: { path: fixtureSource }, breakpoints: [] });
    const stop = await step(s, 'continue');
    assert.equal(stop.body.reason, 'data breakpoint');
    assert.deepEqual(stop.body.hitBreakpointIds, [set[0].id]);
    assert.match(stop.body.description ?? '', /tainted data reached buf \(16 of 32 bytes\)/);
    assert.equal((await topFrame(s)).line, markerLine('AFTER_READ'));
    // Step back returns to the stop before the watched run (not to a line it passed through), where
    // buf was clean: the watch is armed again and stops at the same place.
    await step(s, 'stepBack');
    assert.equal((await topFrame(s)).line, markerLine('OPEN_HERE'));
    const again = await step(s, 'continue');
    assert.equal(again.body.reason, 'data breakpoint');
    assert.equal((await topFrame(s)).line, markerLine('AFTER_READ'));
    // Reverse continue goes back to the latest stop made by a breakpoint of either kind: this one.
    await step(s, 'next');
    assert.equal((await topFrame(s)).line, markerLine('BREAK_HERE'));
    const reversed = await step(s, 'reverseContinue');
    assert.equal(reversed.body.reason, 'data breakpoint');
    assert.equal((await topFrame(s)).line, markerLine('AFTER_READ'));
    // Its data has arrived: the watch does not stop again, the run goes to the end.
    const read = (await s.dc.customRequest('setDataBreakpoints', { breakpoints: [{ dataId: info.dataId, accessType: 'read' }] })).body.breakpoints as DebugProtocol.Breakpoint[];
    assert.equal(read[0].verified, false);
    assert.match(read[0].message ?? '', /already holds 16 tainted byte|"read" access is not watched/);
    const exited = s.dc.waitForEvent('exited') as Promise<DebugProtocol.ExitedEvent>;
    await s.dc.continueRequest({ threadId: 1 });
    assert.equal((await exited).body.exitCode, 0);
  });

  it('terminate leaves no valgrind, vgdb or gdb process behind', async () => {
    const s = await stopAt('BREAK_HERE');
    const leftovers = sessionProcesses(fx.program);
    await s.dc.terminateRequest();
    await waitFor(() => leftovers().length === 0, `every debug process to exit (left: ${JSON.stringify(leftovers())})`);
  });

  describe('errors', () => {
    async function launchError(args: Record<string, unknown>): Promise<string> {
      session = await startSession();
      const err = await session.dc.launch(args).then(
        () => undefined,
        (e: Error) => e,
      );
      await session.dc.stop();
      session = undefined;
      assert.ok(err, 'launch must fail');
      return err.message;
    }

    /** A copy of the recording, to damage. */
    function copyRecording(name: string): string {
      const dir = join(fx.dir, name);
      cpSync(recording, dir, { recursive: true });
      return dir;
    }

    const logOf = (dir: string) => join(dir, readdirSync(dir).find((f) => f.endsWith('.rec'))!);

    it('a missing recording, a corrupt manifest, a corrupt log', async () => {
      assert.match(await launchError({ recording: join(fx.dir, 'no-such-recording'), process: 'taintdemo' }), /recording .*no-such-recording does not exist: record a run with `planescope run --trace/);
      const corrupt = copyRecording('corrupt-manifest');
      writeFileSync(join(corrupt, 'manifest.json'), '{ not json');
      assert.match(await launchError({ recording: corrupt, process: 'taintdemo' }), /corrupt: manifest\.json cannot be read/);
      const badLog = copyRecording('corrupt-log');
      writeFileSync(logOf(badLog), 'garbage');
      assert.match(await launchError({ recording: badLog, process: 'taintdemo' }), /corrupt: .*\.rec is not a Planescope recording/);
      assert.match(await launchError({ recording: fx.dir, process: 'taintdemo' }), /is not a recording, or an incomplete one: it has no manifest\.json/);
    });

    it('an unknown process, listing the recorded ones', async () => {
      const message = await launchError({ recording, process: 'master' });
      assert.match(message, /has no process "master": it holds taintdemo\.\d+ \(taintdemo, pid \d+\)/);
    });

    it('a binary rebuilt since the recording (build-id mismatch)', async () => {
      const other = buildFixture();
      try {
        const rec = recordFixture(other, 'rec');
        execFileSync('gcc', ['-g', '-O1', '-o', other.program, fixtureSource]);
        assert.match(await launchError({ recording: rec, process: 'taintdemo' }), /refusing to replay .*has build-id [0-9a-f]+ but the recording was made from build-id [0-9a-f]+; the program was rebuilt/);
      } finally {
        rmSync(other.dir, { recursive: true, force: true });
      }
    });

    it('gdb not installed', async () => {
      assert.match(await launchError(launchArgs({ gdbPath: '/nonexistent/gdb' })), /gdb was configured as "\/nonexistent\/gdb"/);
    });

    it('a replay that diverges: stops at the divergent call with the report (call, log position, source line)', async () => {
      const other = buildFixture();
      try {
        const rec = recordFixture(other, 'rec', ['--record-data', 'by-reference']);
        writeFileSync(other.dataFile, 'other bytes now!');
        session = await startSession();
        const s = session;
        const stopped = s.dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
        await Promise.all([s.dc.configurationSequence(), s.dc.launch({ recording: rec, process: 'taintdemo' })]);
        const stop = (await stopped).body;
        assert.equal(stop.reason, 'exception');
        assert.match(stop.text ?? '', /diverged from the recording at read\(user data, by reference\), log record \d+ \(byte \d+\), main at .*taintdemo\.c:\d+: user-data file .*data\.bin changed since the recording/);
        assert.equal(Number(/taintdemo\.c:(\d+)/.exec(stop.text!)![1]), markerLine('READ_HERE'), 'the source line of the divergent call');
        const info = await s.dc.customRequest('exceptionInfo', { threadId: 1 });
        assert.equal(info.body.exceptionId, 'replay divergence');
        assert.ok(s.output.some((o) => o.includes('diverged from the recording')), JSON.stringify(s.output));
      } finally {
        rmSync(other.dir, { recursive: true, force: true });
      }
    });

    it('the end of a truncated recording: stops where the log ends and says it is truncated', async () => {
      const cut = copyRecording('truncated');
      const log = logOf(cut);
      // Cut inside the last record (the user-data read; the end record is gone too).
      const size = readFileSync(log).length;
      truncateSync(log, size - 60);
      session = await startSession();
      const s = session;
      const stopped = s.dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
      await Promise.all([s.dc.configurationSequence(), s.dc.launch({ recording: cut, process: 'taintdemo' })]);
      const stop = (await stopped).body;
      assert.equal(stop.reason, 'exception');
      assert.match(stop.text ?? '', /reached the end of the recording at .*: the log is truncated/);
      const info = await s.dc.customRequest('exceptionInfo', { threadId: 1 });
      assert.equal(info.body.exceptionId, 'end of recording');
    });

    it('a recorded exec: the replay stops at the exec as recorded, not as a divergence', async () => {
      execFileSync('gcc', ['-g', '-O0', '-o', join(fx.dir, 'execer'), join(root, 'test', 'native', 'fixtures', 'replay', 'execer.c')]);
      const rec = join(fx.dir, 'exec-rec');
      execFileSync(process.execPath, [cli, 'run', '--trace', rec, '--', './execer', '/bin/true'], { cwd: fx.dir, stdio: ['ignore', 'ignore', 'inherit'] });
      session = await startSession();
      const s = session;
      const stopped = s.dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
      await Promise.all([s.dc.configurationSequence(), s.dc.launch({ recording: rec, process: 'execer' })]);
      const stop = (await stopped).body;
      assert.equal(stop.reason, 'exception');
      assert.doesNotMatch(stop.text ?? '', /diverged/);
      assert.match(stop.text ?? '', /reached the end of the recording at exec, .*: the recorded process exec'd \/bin\/true here/);
      const info = await s.dc.customRequest('exceptionInfo', { threadId: 1 });
      assert.equal(info.body.exceptionId, 'end of recording');
    });
  });
});

// A message from another process: the client reads the user-data file and sends it; the server's
// replay in the debugger gets the client's message taint from `planescope replay --analyze`'s files.
describe('debug adapter: replaying a receiver with its senders\' message taint', function () {
  this.timeout(240_000);
  const source = join(root, 'test', 'fixtures', 'debug', 'msgpair.c');
  let dir: string;
  let trace: string;
  let serverPid: number;
  let session: Session | undefined;

  before(async () => {
    ensureAdapterBuilt();
    dir = mkdtempSync(join(tmpdir(), 'planescope-debug-msg-'));
    execFileSync('gcc', ['-g', '-O0', '-o', join(dir, 'msgpair'), source]);
    writeFileSync(join(dir, 'data.bin'), 'user data bytes!');
    trace = join(dir, 'trace');
    // Each process recorded by its own `planescope run` into one directory, as a system is.
    const server = spawn(process.execPath, [cli, 'run', '--trace', trace, '--', './msgpair', 'server', 'port.txt'], { cwd: dir, stdio: 'ignore' });
    const serverDone = new Promise((res) => server.on('close', res));
    await waitFor(() => existsSync(join(dir, 'port.txt')) && readFileSync(join(dir, 'port.txt'), 'utf8').endsWith('\n'), 'the recorded server to listen', 30_000);
    const port = readFileSync(join(dir, 'port.txt'), 'utf8').trim();
    execFileSync(process.execPath, [cli, 'run', '--trace', trace, '--user-data', 'data.bin', '--', './msgpair', 'client', port, 'data.bin'], { cwd: dir, stdio: 'ignore' });
    await serverDone;
    execFileSync(process.execPath, [cli, 'replay', trace, '--analyze'], { cwd: dir, stdio: 'ignore' });
    const manifest = JSON.parse(readFileSync(join(trace, 'manifest.json'), 'utf8'));
    serverPid = manifest.processes.find((p: { argv: string[] }) => p.argv[1] === 'server').pid;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  afterEach(async function () {
    await endSession(session, this.currentTest);
    session = undefined;
  });

  async function taintAtPrint(): Promise<{ s: Session; taint: DebugProtocol.Variable[] }> {
    session = await startSession();
    const s = session;
    await s.dc.hitBreakpoint({ recording: trace, process: String(serverPid) }, { path: source, line: markerLine('SERVER_PRINT', source) });
    return { s, taint: await scopeVariables(s, 'Taint') };
  }

  it('the received buffer is tainted with a message label that names the sender and the user-data file', async () => {
    const { s, taint } = await taintAtPrint();
    const buf = taint.find((v) => v.name === 'buf');
    assert.ok(buf, JSON.stringify(taint));
    assert.match(buf.value, /^tainted 16\/64 B/);
    assert.match(taint.find((v) => v.name === 'local')?.value ?? '', /^clean/);
    const runs = (await s.dc.variablesRequest({ variablesReference: buf.variablesReference })).body.variables;
    const chain = (await s.dc.variablesRequest({ variablesReference: runs[0].variablesReference })).body.variables.map((l) => l.value).join(' | ');
    assert.match(chain, /msg:/, chain);
    assert.match(chain, /data\.bin/, chain);
  });

  it('a process name that fits several recorded processes, or none given, is refused with the list', async () => {
    for (const [args, expected] of [
      [{ recording: trace, process: 'msgpair' }, /"msgpair" names several processes of the recording .*: msgpair\.\d+, msgpair\.\d+\. Set "process" to one of those/],
      [{ recording: trace }, /holds several processes: msgpair\.\d+ \(msgpair, pid \d+\), msgpair\.\d+ \(msgpair, pid \d+\)\. Set "process"/],
    ] as const) {
      session = await startSession();
      const err = await session.dc.launch(args).then(() => undefined, (e: Error) => e);
      await session.dc.stop();
      session = undefined;
      assert.match(String(err?.message), expected);
    }
  });

  it('without the senders\' analysis files the message replays clean', async () => {
    renameSync(join(trace, 'analysis'), join(trace, 'analysis.off'));
    try {
      const { taint } = await taintAtPrint();
      assert.match(taint.find((v) => v.name === 'buf')?.value ?? '', /^clean/);
    } finally {
      renameSync(join(trace, 'analysis.off'), join(trace, 'analysis'));
    }
  });
});
