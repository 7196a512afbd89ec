// The standalone `planescope` debug adapter (node dist/debugAdapter.js) driven by DebugClient, against
// the C fixture compiled here and run under real valgrind --tool=planegrind + vgdb + gdb.
import { strict as assert } from 'node:assert';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DebugProtocol } from '@vscode/debugprotocol';
import { Fixture, Session, buildFixture, endSession, ensureAdapterBuilt, fixtureSource, markerLine, processesMentioning, scopeVariables, sessionProcesses, startSession, step, topFrame, waitFor } from './helpers';

describe('debug adapter (DebugClient, real gdb + valgrind)', function () {
  this.timeout(120_000);
  let fx: Fixture;
  let session: Session | undefined;

  before(() => {
    ensureAdapterBuilt();
    fx = buildFixture();
  });
  after(() => rmSync(fx.dir, { recursive: true, force: true }));

  afterEach(async function () {
    await endSession(session, this.currentTest);
    session = undefined;
  });

  const launchArgs = (extra: Record<string, unknown> = {}) => ({ program: fx.program, args: [fx.dataFile], cwd: fx.dir, userData: [fx.dataFile], ...extra });

  async function stopAt(marker: string, extra: Record<string, unknown> = {}): Promise<Session> {
    session = await startSession();
    await session.dc.hitBreakpoint(launchArgs(extra), { path: fixtureSource, line: markerLine(marker) });
    return session;
  }

  it('stops at a breakpoint at the right line', async () => {
    const s = await stopAt('BREAK_HERE');
    const frame = await topFrame(s);
    assert.equal(frame.line, markerLine('BREAK_HERE'));
    assert.equal(frame.name, 'main');
    assert.equal(frame.source?.path, fixtureSource);
    assert.deepEqual(s.events, ['initialized', 'continued', 'stopped'], 'no terminated or exited event while the session runs');
  });

  it('shows correct local values', async () => {
    const s = await stopAt('BREAK_HERE');
    const locals = new Map((await scopeVariables(s, 'Locals')).map((v) => [v.name, v.value]));
    assert.equal(locals.get('fixed')?.split(' ')[0], '42');
    assert.equal(locals.get('count')?.split(' ')[0], String(fx.data.length));
    assert.match(locals.get('path') ?? '', /data\.bin/);
    const buf = (await scopeVariables(s, 'Locals')).find((v) => v.name === 'buf')!;
    assert.ok(buf.variablesReference > 0, 'buf is expandable');
    const elements = (await s.dc.variablesRequest({ variablesReference: buf.variablesReference })).body.variables;
    assert.equal(elements.length, 32);
    assert.ok(elements[0].value.startsWith(`${fx.data[0]} '${String.fromCharCode(fx.data[0])}'`), elements[0].value);
  });

  it('shows registers and evaluates expressions for watches and hovers', async () => {
    const s = await stopAt('BREAK_HERE');
    const regs = await scopeVariables(s, 'Registers');
    assert.ok(regs.some((r) => r.name === 'rip' && /^0x[0-9a-f]+$/.test(r.value)), JSON.stringify(regs));
    const frame = await topFrame(s);
    const watch = await s.dc.evaluateRequest({ expression: 'fixed * 2 + count', frameId: frame.id, context: 'watch' });
    assert.equal(watch.body.result.split(' ')[0], String(84 + fx.data.length));
    await assert.rejects(s.dc.evaluateRequest({ expression: 'no_such_variable', frameId: frame.id, context: 'hover' }), /no_such_variable/);
  });

  it('reads memory: the bytes of the buffer read from the user-data file', async () => {
    const s = await stopAt('BREAK_HERE');
    const frame = await topFrame(s);
    const address = /0x[0-9a-f]+/.exec((await s.dc.evaluateRequest({ expression: '&buf[0]', frameId: frame.id, context: 'watch' })).body.result)![0];
    const mem = await s.dc.customRequest('readMemory', { memoryReference: address, count: fx.data.length });
    assert.deepEqual(Buffer.from(mem.body.data, 'base64'), fx.data);
  });

  it('shows the Taint scope: the buffer from the user-data file with its file label, a constant-derived local clean', async function () {
    const s = await stopAt('BREAK_HERE');
    const taint = await scopeVariables(s, 'Taint');
    if (taint.length === 1 && taint[0].value.startsWith('unavailable')) {
      // planegrind without its `taint` monitor command: the adapter says so instead of showing nothing.
      assert.match(taint[0].value, /monitor command/);
      this.skip();
    }
    const buf = taint.find((v) => v.name === 'buf');
    assert.ok(buf, JSON.stringify(taint));
    assert.match(buf.value, new RegExp(`tainted ${fx.data.length}/32 B`));
    const fixed = taint.find((v) => v.name === 'fixed');
    assert.ok(fixed && /^clean/.test(fixed.value), JSON.stringify(fixed));
    // Expand buf down to the label's provenance: it names the user-data file.
    const runs = (await s.dc.variablesRequest({ variablesReference: buf.variablesReference })).body.variables;
    const labels = (await s.dc.variablesRequest({ variablesReference: runs[0].variablesReference })).body.variables;
    assert.ok(labels.some((l) => l.value.includes('data.bin')), JSON.stringify(labels));
  });

  it('taint watch: runs until tainted data first reaches an expression', async function () {
    const s = await stopAt('OPEN_HERE');
    const frame = await topFrame(s);
    const stopped = s.dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    const answer = s.dc.customRequest('planescope.taintWatch', { expression: 'buf[4]', frameId: frame.id }).catch((e: Error) => e);
    const result = await answer;
    if (result instanceof Error) {
      assert.match(result.message, /monitor command/);
      this.skip();
    }
    const stop = await stopped;
    assert.equal(stop.body.reason, 'data breakpoint');
    assert.equal((await topFrame(s)).line, markerLine('AFTER_READ'), 'stops right after the line that read the user data');
    // An expression that is already tainted, and one without an address, are refused up front.
    const again = await s.dc.customRequest('planescope.taintWatch', { expression: 'buf[4]' }).catch((e: Error) => e);
    assert.match(String(again), /already holds 1 tainted byte/);
    const constant = await s.dc.customRequest('planescope.taintWatch', { expression: '42' }).catch((e: Error) => e);
    assert.match(String(constant), /has no address in memory/);
  });

  it('steps (next, step in to an inlined frame, step out) and steps back to the previous line', async () => {
    const s = await stopAt('BREAK_HERE');
    await step(s, 'stepIn');
    assert.equal((await topFrame(s)).name, 'checksum');
    await step(s, 'stepOut');
    const back = await topFrame(s);
    assert.equal(back.name, 'main');
    assert.equal(back.line, markerLine('BREAK_HERE'), 'step out returns to the call line');
    await step(s, 'next');
    assert.equal((await topFrame(s)).line, markerLine('STEP_1'));
    await step(s, 'next');
    assert.equal((await topFrame(s)).line, markerLine('STEP_2'));
    await step(s, 'stepIn');
    const frames = (await s.dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
    assert.equal(frames[0].line, markerLine('INLINED_HERE'));
    assert.match(frames[0].name, /^scale \[inlined\]/);
    assert.equal(frames[1].name, 'main');
    await step(s, 'stepBack');
    assert.equal((await topFrame(s)).line, markerLine('STEP_2'));
    await step(s, 'stepBack');
    assert.equal((await topFrame(s)).line, markerLine('STEP_1'));
    const locals = new Map((await scopeVariables(s, 'Locals')).map((v) => [v.name, v.value]));
    assert.equal(locals.get('count')?.split(' ')[0], String(fx.data.length), 'state after step back is the replayed state');
  });

  it('honours conditions, hit counts and logpoints', async () => {
    session = await startSession();
    const s = session;
    const loop = markerLine('CHECKSUM_LOOP');
    const initialized = s.dc.waitForEvent('initialized');
    const launched = s.dc.launch(launchArgs());
    await initialized;
    const set = await s.dc.setBreakpointsRequest({
      source: { path: fixtureSource },
      breakpoints: [{ line: loop, condition: 'i == 3' }, { line: markerLine('BREAK_HERE'), logMessage: 'count is {count}' }],
    });
    assert.deepEqual(set.body.breakpoints.map((b) => [b.verified, b.line]), [[true, loop], [true, markerLine('BREAK_HERE')]]);
    const stopped = s.dc.waitForEvent('stopped');
    await s.dc.configurationDoneRequest();
    await launched;
    await stopped;
    let i = (await scopeVariables(s, 'Locals')).find((v) => v.name === 'i');
    assert.equal(i?.value.split(' ')[0], '3');
    assert.ok(s.output.some((o) => o.includes(`count is ${fx.data.length}`)), `logpoint output in ${JSON.stringify(s.output)}`);
    // A hit count: the 5th hit from now on, with no condition.
    await s.dc.setBreakpointsRequest({ source: { path: fixtureSource }, breakpoints: [{ line: loop, hitCondition: '5' }] });
    await step(s, 'continue');
    i = (await scopeVariables(s, 'Locals')).find((v) => v.name === 'i');
    assert.equal(i?.value.split(' ')[0], '8');
  });

  it('a Next over a call with a logpoint inside prints it and still stops at the next line', async () => {
    const s = await stopAt('BREAK_HERE');
    await s.dc.setBreakpointsRequest({ source: { path: fixtureSource }, breakpoints: [{ line: markerLine('BREAK_HERE') }, { line: markerLine('CHECKSUM_LOOP'), logMessage: 'i={i}' }] });
    const stop = await step(s, 'next');
    assert.equal(stop.body.reason, 'step');
    assert.equal((await topFrame(s)).line, markerLine('STEP_1'));
    const logged = s.output.filter((o) => /^i=\d+/.test(o));
    assert.equal(logged.length, fx.data.length, JSON.stringify(s.output));
  });

  it('restarts and reaches the breakpoint again; reverse continue goes back to the previous breakpoint stop', async () => {
    const s = await stopAt('BREAK_HERE');
    await s.dc.setBreakpointsRequest({ source: { path: fixtureSource }, breakpoints: [{ line: markerLine('BREAK_HERE') }, { line: markerLine('PRINT_HERE') }] });
    await step(s, 'continue');
    assert.equal((await topFrame(s)).line, markerLine('PRINT_HERE'));
    await step(s, 'reverseContinue');
    assert.equal((await topFrame(s)).line, markerLine('BREAK_HERE'));
    const stopped = s.dc.waitForEvent('stopped');
    await s.dc.customRequest('restart', {});
    await stopped;
    assert.equal((await topFrame(s)).line, markerLine('BREAK_HERE'));
  });

  it('stops on entry at main, then runs to the end: exited with code 0, terminated', async () => {
    session = await startSession();
    const s = session;
    const entry = s.dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    const unmatched = join(fx.dir, 'no-such-input-*');
    await Promise.all([s.dc.configurationSequence(), s.dc.launch(launchArgs({ stopOnEntry: true, userData: [fx.dataFile, unmatched] }))]);
    assert.equal((await entry).body.reason, 'entry');
    assert.equal((await topFrame(s)).name, 'main');
    const exited = s.dc.waitForEvent('exited') as Promise<DebugProtocol.ExitedEvent>;
    const terminated = s.dc.waitForEvent('terminated');
    await s.dc.continueRequest({ threadId: 1 });
    assert.equal((await exited).body.exitCode, 0);
    await terminated;
    assert.ok(s.output.join('').includes('sum='), 'the program output reaches the Debug Console');
    // planegrind's own warnings reach it too (valgrind's messages come on its stderr), its gdbserver banner does not.
    await waitFor(() => s.output.join('').includes('matched no file'), 'planegrind\'s warning about the unmatched glob');
    assert.ok(s.output.some((o) => o.includes(unmatched) && /planegrind: warning/.test(o)), JSON.stringify(s.output));
    assert.ok(!s.output.some((o) => /TO DEBUG THIS PROCESS|vgdb --vgdb-prefix/.test(o)), JSON.stringify(s.output));
  });

  it('pauses a running program', async () => {
    // Reach the long loop first (a pause during start-up would stop in the dynamic loader).
    const s = await stopAt('SPIN_LOOP', { args: [fx.dataFile, '100000000000'] });
    await s.dc.setBreakpointsRequest({ source: { path: fixtureSource }, breakpoints: [] });
    const continued = s.dc.waitForEvent('continued');
    await s.dc.continueRequest({ threadId: 1 });
    await continued;
    const stopped = s.dc.waitForEvent('stopped') as Promise<DebugProtocol.StoppedEvent>;
    await s.dc.pauseRequest({ threadId: 1 });
    assert.equal((await stopped).body.reason, 'pause');
    const frames = (await s.dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
    assert.equal(frames[0].name, 'spin');
    const k = (await scopeVariables(s, 'Locals')).find((v) => v.name === 'k');
    assert.ok(Number(k?.value) > 0, `the loop ran on before the pause: k = ${k?.value}`);
  });

  for (const exactStepBack of [true, false]) {
    it(`steps back to where a Pause stopped ${exactStepBack ? 'by instruction count' : 'only with exact counting (refused without)'}`, async () => {
      const s = await stopAt('SPIN_LOOP', { args: [fx.dataFile, '100000000000'], exactStepBack });
      await s.dc.setBreakpointsRequest({ source: { path: fixtureSource }, breakpoints: [] });
      const continueThenPause = async () => {
        const continued = s.dc.waitForEvent('continued');
        await s.dc.continueRequest({ threadId: 1 });
        await continued;
        const paused = s.dc.waitForEvent('stopped');
        await s.dc.pauseRequest({ threadId: 1 });
        await paused;
      };
      await continueThenPause();
      const k = (await scopeVariables(s, 'Locals')).find((v) => v.name === 'k')?.value;
      // A later stop: run on and pause again.
      await continueThenPause();
      assert.ok(Number((await scopeVariables(s, 'Locals')).find((v) => v.name === 'k')?.value) > Number(k));
      if (!exactStepBack) {
        await assert.rejects(s.dc.stepBackRequest({ threadId: 1 }), /includes a Pause.*exact instruction count/);
        return;
      }
      await step(s, 'stepBack');
      assert.equal((await scopeVariables(s, 'Locals')).find((v) => v.name === 'k')?.value, k, 'the loop counter where the Pause stopped');
    });
  }

  it('terminate leaves no valgrind, vgdb or gdb process behind', async () => {
    const s = await stopAt('BREAK_HERE');
    const leftovers = sessionProcesses(fx.program);
    await s.dc.terminateRequest();
    await waitFor(() => leftovers().length === 0, `every debug process to exit (left: ${JSON.stringify(leftovers())})`);
  });

  it('a killed adapter leaves no valgrind, vgdb or gdb process behind', async () => {
    const s = await stopAt('BREAK_HERE');
    const leftovers = sessionProcesses(fx.program);
    assert.ok(leftovers().length >= 3, JSON.stringify(leftovers()));
    // SIGKILL the adapter: nothing of it runs to clean up, as when VS Code's extension host is killed.
    const adapter = processesMentioning('dist/debugAdapter.js').filter((p) => p.cmdline.includes(process.execPath));
    const ours = adapter.find((p) => {
      try {
        return readFileSync(`/proc/${p.pid}/environ`, 'utf8').includes(s.log);
      } catch {
        return false;
      }
    });
    assert.ok(ours, 'found the adapter process of this session');
    session = undefined; // nothing to terminate or stop in afterEach: the adapter is gone
    process.kill(ours.pid, 'SIGKILL');
    await waitFor(() => leftovers().length === 0, `every debug process to exit after the adapter died (left: ${JSON.stringify(leftovers())})`);
  });

  describe('clear launch errors', () => {
    async function launchError(args: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<string> {
      session = await startSession(env);
      const err = await session.dc.launch(args).then(
        () => undefined,
        (e: Error) => e,
      );
      await session.dc.stop();
      assert.ok(err, 'launch must fail');
      return err.message;
    }

    it('missing program', async () => {
      assert.match(await launchError({ program: join(fx.dir, 'nope') }), /program .*nope does not exist/);
    });

    // Recording errors (missing, corrupt, unknown process, build-id mismatch, divergence): recording.test.ts.

    it('gdb or valgrind not installed', async () => {
      assert.match(await launchError(launchArgs(), { PATH: '/nonexistent' }), /gdb is not installed .*apt-get install gdb/);
      assert.match(await launchError(launchArgs({ valgrindPath: '/nonexistent/valgrind' })), /valgrind was configured as "\/nonexistent\/valgrind"/);
    });
  });
});
