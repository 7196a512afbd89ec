// The DAP session of the `planescope` debug type. It only translates between DAP and the replay engine
// (src/debug/replayEngine.ts); the inline adapter (extension) and the standalone one (debugAdapter.ts)
// both run this class.
import {
  ContinuedEvent,
  DebugSession,
  ExitedEvent,
  Handles,
  InitializedEvent,
  OutputEvent,
  Scope,
  Source,
  StackFrame,
  StoppedEvent,
  TerminatedEvent,
  Thread,
} from '@vscode/debugadapter';
import { DebugProtocol } from '@vscode/debugprotocol';
import { appendFileSync } from 'node:fs';
import { basename } from 'node:path';
import { LaunchError, PlanescopeLaunchArguments } from './launchConfig';
import { ReplayEngine, StopEvent, VariableInfo } from './replayEngine';
import { formatTaintSummary, taintMarker } from './taintFormat';

type Ref =
  | { kind: 'locals' | 'registers' | 'taint'; threadId: number; frame: number }
  | { kind: 'varobj'; varobj: string; threadId: number; frame: number }
  | { kind: 'labels'; labels: number[] }
  | { kind: 'runs'; runs: Array<{ start: bigint; end: bigint; label: number }>; base: bigint }
  | { kind: 'registerTaint' };

type LaunchRequestArguments = DebugProtocol.LaunchRequestArguments & PlanescopeLaunchArguments;

export class ReplayDebugSession extends DebugSession {
  private engine: ReplayEngine | undefined;
  private readonly frames = new Handles<{ threadId: number; level: number }>();
  private readonly refs = new Handles<Ref>();
  private traceFile: string | undefined = process.env.PLANESCOPE_DAP_LOG;
  private lastStop: StopEvent | undefined;

  constructor() {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
  }

  private trace(line: string): void {
    if (this.traceFile) appendFileSync(this.traceFile, `${new Date().toISOString()} ${line}\n`);
  }

  override sendResponse(response: DebugProtocol.Response): void {
    this.trace(`dap> ${JSON.stringify(response)}`);
    super.sendResponse(response);
  }

  override sendEvent(event: DebugProtocol.Event): void {
    this.trace(`dap> ${JSON.stringify(event)}`);
    super.sendEvent(event);
  }

  protected override dispatchRequest(request: DebugProtocol.Request): void {
    this.trace(`dap< ${JSON.stringify(request)}`);
    super.dispatchRequest(request);
  }

  /** Runs a handler, turning a thrown error into an error response with its message. */
  private async handle<R extends DebugProtocol.Response>(response: R, body: () => Promise<R['body'] | void>): Promise<void> {
    try {
      const b = await body();
      if (b !== undefined) response.body = b;
      this.sendResponse(response);
    } catch (e) {
      const message = (e as Error).message;
      this.trace(`error ${message}`);
      this.sendErrorResponse(response, { id: e instanceof LaunchError ? 2001 : 2002, format: message.replace(/\{/g, '(').replace(/\}/g, ')'), showUser: e instanceof LaunchError });
    }
  }

  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsLogPoints: true,
      supportsEvaluateForHovers: true,
      supportsStepBack: true,
      supportsRestartRequest: true,
      supportsTerminateRequest: true,
      supportsReadMemoryRequest: true,
      supportsExceptionInfoRequest: true,
      // Data breakpoints are taint watches: stop when tainted data first reaches the variable.
      supportsDataBreakpoints: true,
      supportsSteppingGranularity: false,
      supportsValueFormattingOptions: false,
    };
    this.sendResponse(response);
  }

  protected override async launchRequest(response: DebugProtocol.LaunchResponse, args: LaunchRequestArguments): Promise<void> {
    if (args.trace) this.traceFile = args.trace;
    const engine = new ReplayEngine((line) => this.trace(`mi ${line}`));
    this.engine = engine;
    engine.on('stopped', (stop: StopEvent) => void this.onStopped(stop));
    engine.on('continued', () => this.sendEvent(new ContinuedEvent(1, true)));
    engine.on('output', (category: string, text: string) => this.sendEvent(new OutputEvent(text, category)));
    engine.on('exited', (code: number) => this.sendEvent(new ExitedEvent(code)));
    engine.on('terminated', () => this.sendEvent(new TerminatedEvent()));
    let launched = false;
    await this.handle(response, async () => {
      try {
        await engine.launch(args);
        launched = true;
      } catch (e) {
        await engine.dispose();
        throw e instanceof LaunchError ? e : new LaunchError((e as Error).message);
      }
      const unavailable = engine.taintUnavailable();
      if (unavailable) this.sendEvent(new OutputEvent(`Planescope: ${unavailable}; breakpoints, stepping and variables work.\n`, 'console'));
    });
    // Breakpoints can be set only once gdb runs, so the client is told to send them after launch.
    if (launched) this.sendEvent(new InitializedEvent());
  }

  protected override async configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): Promise<void> {
    await this.handle(response, () => this.requireEngine().configurationDone());
  }

  private async onStopped(stop: StopEvent): Promise<void> {
    this.frames.reset();
    this.refs.reset();
    await this.engine?.resetVariables().catch(() => undefined);
    const event = new StoppedEvent(stop.reason, stop.threadId) as DebugProtocol.StoppedEvent;
    event.body.allThreadsStopped = true;
    if (stop.description) event.body.description = stop.description;
    if (stop.text) event.body.text = stop.text;
    this.lastStop = stop;
    if (stop.breakpointIds) event.body.hitBreakpointIds = stop.breakpointIds;
    this.sendEvent(event);
  }

  private requireEngine(): ReplayEngine {
    if (!this.engine) throw new LaunchError('the session has not been launched');
    return this.engine;
  }

  protected override async setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): Promise<void> {
    await this.handle(response, async () => {
      const path = args.source.path;
      if (!path) return { breakpoints: (args.breakpoints ?? []).map(() => ({ verified: false, message: 'breakpoints need a source file on disk' })) };
      const states = await this.requireEngine().setBreakpoints(
        path,
        (args.breakpoints ?? []).map((b) => ({ line: this.convertClientLineToDebugger(b.line), condition: b.condition, hitCondition: b.hitCondition, logMessage: b.logMessage })),
      );
      return {
        breakpoints: states.map((s) => ({ id: s.id, verified: s.verified, message: s.message, line: s.line !== undefined ? this.convertDebuggerLineToClient(s.line) : undefined, source: args.source })),
      };
    });
  }

  protected override async threadsRequest(response: DebugProtocol.ThreadsResponse): Promise<void> {
    await this.handle(response, async () => ({ threads: (await this.requireEngine().threads()).map((t) => new Thread(t.id, t.name)) }));
  }

  protected override async stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): Promise<void> {
    await this.handle(response, async () => {
      const { frames, total } = await this.requireEngine().stackTrace(args.threadId, args.startFrame ?? 0, args.levels ?? 0);
      return {
        totalFrames: total,
        stackFrames: frames.map((f) => {
          const id = this.frames.create({ threadId: args.threadId, level: f.level });
          const name = f.inlined ? `${f.name} [inlined]` : f.name;
          const source = f.file ? new Source(basename(f.file), this.convertDebuggerPathToClient(f.file)) : undefined;
          const frame: DebugProtocol.StackFrame = new StackFrame(id, name, source, f.line ? this.convertDebuggerLineToClient(f.line) : 0, 1);
          frame.instructionPointerReference = f.address;
          if (!source) frame.presentationHint = 'subtle';
          if (f.module) frame.moduleId = f.module;
          return frame;
        }),
      };
    });
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    const f = this.frames.get(args.frameId) ?? { threadId: 1, level: 0 };
    const scope = (name: string, kind: 'locals' | 'registers' | 'taint', expensive: boolean) => {
      const s: DebugProtocol.Scope = new Scope(name, this.refs.create({ kind, threadId: f.threadId, frame: f.level }), expensive);
      if (kind === 'locals') s.presentationHint = 'locals';
      if (kind === 'registers') s.presentationHint = 'registers';
      return s;
    };
    response.body = { scopes: [scope('Locals', 'locals', false), scope('Registers', 'registers', true), scope('Taint', 'taint', false)] };
    this.sendResponse(response);
  }

  protected override async variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): Promise<void> {
    await this.handle(response, async () => ({ variables: await this.variables(args.variablesReference) }));
  }

  private async variables(reference: number): Promise<DebugProtocol.Variable[]> {
    const engine = this.requireEngine();
    const ref = this.refs.get(reference);
    if (!ref) return [];
    switch (ref.kind) {
      case 'locals':
        return this.withTaint(await engine.locals(ref.threadId, ref.frame), ref.threadId, ref.frame);
      case 'varobj':
        return this.withTaint(await engine.children(ref.varobj), ref.threadId, ref.frame);
      case 'registers': {
        const regs = await engine.registers(ref.threadId, ref.frame);
        const tainted = new Map((await engine.registerTaint().catch(() => [])).map((r) => [r.register, r]));
        return regs.map((r) => {
          const t = tainted.get(r.name);
          return { name: r.name, value: t ? `${r.value} ${taintMarker(t.taintedBytes, 8)}` : r.value, variablesReference: t ? this.refs.create({ kind: 'labels', labels: t.labels }) : 0, evaluateName: r.expression };
        });
      }
      case 'taint':
        return this.taintScope(ref.threadId, ref.frame);
      case 'registerTaint':
        return (await engine.registerTaint()).map((r) => ({
          name: r.register,
          value: `${r.taintedBytes} byte(s) tainted · labels ${r.labels.join(', ') || '?'}`,
          variablesReference: r.labels.length ? this.refs.create({ kind: 'labels', labels: r.labels }) : 0,
        }));
      case 'runs':
        return ref.runs.map((run) => ({
          name: `[${run.start - ref.base}..${run.end - ref.base})`,
          value: `label ${run.label} · 0x${run.start.toString(16)}`,
          variablesReference: this.refs.create({ kind: 'labels', labels: [run.label] }),
        }));
      case 'labels': {
        const out: DebugProtocol.Variable[] = [];
        for (const label of ref.labels) {
          const chain = await engine.labelChain(label);
          chain.forEach((step, i) => out.push({ name: i === 0 ? `label ${label}` : `  from ${step.label}`, value: step.text, variablesReference: 0 }));
        }
        return out;
      }
    }
  }

  /** Variables with their taint marker (when planegrind can tell). */
  private async withTaint(vars: VariableInfo[], threadId: number, frame: number): Promise<DebugProtocol.Variable[]> {
    const engine = this.requireEngine();
    const out: DebugProtocol.Variable[] = [];
    for (const v of vars) {
      let value = v.value;
      if (engine.capabilities.taint && v.expression) {
        const t = await engine.taintOfExpression(v.expression, threadId, frame).catch(() => undefined);
        if (t && t.taintedBytes > 0) value = `${value} ${taintMarker(t.taintedBytes, t.length)}`;
      }
      out.push({
        name: v.name,
        value,
        type: v.type,
        evaluateName: v.expression,
        variablesReference: v.varobj ? this.refs.create({ kind: 'varobj', varobj: v.varobj, threadId, frame }) : 0,
        indexedVariables: undefined,
      });
    }
    return out;
  }

  private async taintScope(threadId: number, frame: number): Promise<DebugProtocol.Variable[]> {
    const engine = this.requireEngine();
    const reason = engine.taintUnavailable();
    if (reason) return [{ name: 'taint', value: `unavailable: ${reason}`, variablesReference: 0 }];
    const out: DebugProtocol.Variable[] = [];
    for (const v of await engine.taintedLocals(threadId, frame)) {
      const labels = [...new Set(v.taint.runs.map((r) => r.label))];
      out.push({
        name: v.name,
        value: formatTaintSummary(v.taint.taintedBytes, v.size, labels),
        evaluateName: v.name,
        variablesReference: v.taint.runs.length ? this.refs.create({ kind: 'runs', runs: v.taint.runs, base: v.address }) : 0,
        memoryReference: `0x${v.address.toString(16)}`,
      });
    }
    const regs = await engine.registerTaint().catch(() => []);
    out.push({
      name: 'registers',
      value: regs.length ? regs.map((r) => r.register).join(', ') : 'clean',
      variablesReference: regs.length ? this.refs.create({ kind: 'registerTaint' }) : 0,
    });
    return out;
  }

  protected override async evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): Promise<void> {
    await this.handle(response, async () => {
      const engine = this.requireEngine();
      const f = (args.frameId !== undefined && this.frames.get(args.frameId)) || { threadId: 1, level: 0 };
      // The debug console runs gdb commands given as `-exec CMD` (e.g. `-exec monitor taint 0x... 8`).
      if (args.context === 'repl' && args.expression.startsWith('-exec ')) {
        return { result: (await engine.cli(args.expression.slice(6))).trimEnd(), variablesReference: 0 };
      }
      const v = await engine.evaluate(args.expression, f.threadId, f.level);
      let result = v.value;
      if (engine.capabilities.taint) {
        const t = await engine.taintOfExpression(args.expression, f.threadId, f.level).catch(() => undefined);
        if (t) result = `${result} ${t.taintedBytes > 0 ? taintMarker(t.taintedBytes, t.length) : '(clean)'}`;
      }
      return { result, type: v.type, variablesReference: v.varobj ? this.refs.create({ kind: 'varobj', varobj: v.varobj, threadId: f.threadId, frame: f.level }) : 0 };
    });
  }

  /** "Break on value change" of a variable: a taint watch on its bytes (write access only). */
  protected override async dataBreakpointInfoRequest(response: DebugProtocol.DataBreakpointInfoResponse, args: DebugProtocol.DataBreakpointInfoArguments): Promise<void> {
    await this.handle(response, async () => {
      const engine = this.requireEngine();
      const ref = args.variablesReference !== undefined ? this.refs.get(args.variablesReference) : undefined;
      const frame = (args.frameId !== undefined && this.frames.get(args.frameId)) || undefined;
      let where = { threadId: frame?.threadId ?? 1, frame: frame?.level ?? 0 };
      let expression: string | undefined = args.name;
      if (ref) {
        if (ref.kind === 'locals' || ref.kind === 'taint') where = { threadId: ref.threadId, frame: ref.frame };
        else if (ref.kind === 'varobj') {
          where = { threadId: ref.threadId, frame: ref.frame };
          expression = (await engine.children(ref.varobj)).find((c) => c.name === args.name)?.expression;
        } else expression = undefined;
      }
      if (!expression || (ref?.kind === 'taint' && args.name === 'registers')) {
        return { dataId: null, description: `${args.name} cannot be watched: a taint watch needs a variable, a field or an array element in memory` };
      }
      const target = await engine.taintWatchTarget(expression, where.threadId, where.frame);
      return { dataId: target.dataId ?? null, description: target.description, accessTypes: target.dataId ? (['write'] as DebugProtocol.DataBreakpointAccessType[]) : undefined, canPersist: false };
    });
  }

  protected override async setDataBreakpointsRequest(response: DebugProtocol.SetDataBreakpointsResponse, args: DebugProtocol.SetDataBreakpointsArguments): Promise<void> {
    await this.handle(response, async () => ({ breakpoints: await this.requireEngine().setTaintWatches(args.breakpoints) }));
  }

  /** The Exception widget of a replay that diverged or reached the recording's end. */
  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse): void {
    const stop = this.lastStop;
    if (!stop || stop.reason !== 'exception') {
      this.sendErrorResponse(response, { id: 2003, format: 'the program is not stopped at an exception', showUser: false });
      return;
    }
    const replay = this.engine?.replayStop;
    response.body = {
      exceptionId: replay ? (replay.status === 'divergence' ? 'replay divergence' : 'end of recording') : 'signal',
      description: stop.text ?? stop.description,
      breakMode: 'always',
    };
    this.sendResponse(response);
  }

  protected override async readMemoryRequest(response: DebugProtocol.ReadMemoryResponse, args: DebugProtocol.ReadMemoryArguments): Promise<void> {
    await this.handle(response, async () => {
      const address = BigInt(args.memoryReference) + BigInt(args.offset ?? 0);
      const r = await this.requireEngine().readMemory(address, args.count);
      return { address: `0x${r.address.toString(16)}`, data: r.data.toString('base64'), unreadableBytes: r.unreadable };
    });
  }

  protected override continueRequest(response: DebugProtocol.ContinueResponse): void {
    response.body = { allThreadsContinued: true };
    this.sendResponse(response);
    this.requireEngine().continue();
  }

  protected override nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): void {
    this.sendResponse(response);
    this.requireEngine().next(args.threadId);
  }

  protected override stepInRequest(response: DebugProtocol.StepInResponse, args: DebugProtocol.StepInArguments): void {
    this.sendResponse(response);
    this.requireEngine().stepIn(args.threadId);
  }

  protected override stepOutRequest(response: DebugProtocol.StepOutResponse, args: DebugProtocol.StepOutArguments): void {
    this.sendResponse(response);
    this.requireEngine().stepOut(args.threadId);
  }

  protected override async pauseRequest(response: DebugProtocol.PauseResponse): Promise<void> {
    await this.handle(response, () => this.requireEngine().pause());
  }

  protected override async stepBackRequest(response: DebugProtocol.StepBackResponse): Promise<void> {
    await this.handle(response, () => this.requireEngine().stepBack());
  }

  protected override async reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse): Promise<void> {
    await this.handle(response, () => this.requireEngine().reverseContinue());
  }

  protected override async restartRequest(response: DebugProtocol.RestartResponse): Promise<void> {
    await this.handle(response, () => this.requireEngine().restart());
  }

  protected override async terminateRequest(response: DebugProtocol.TerminateResponse): Promise<void> {
    await this.handle(response, async () => {
      await this.engine?.dispose();
      this.sendEvent(new TerminatedEvent());
    });
  }

  protected override async disconnectRequest(response: DebugProtocol.DisconnectResponse): Promise<void> {
    await this.engine?.dispose();
    this.sendResponse(response);
  }

  /** `planescope.taintWatch` {expression, threadId?, frameId?}: run until tainted data reaches the expression. */
  protected override async customRequest(command: string, response: DebugProtocol.Response, args: { expression?: string; threadId?: number; frameId?: number }): Promise<void> {
    if (command !== 'planescope.taintWatch') return super.customRequest(command, response, args);
    await this.handle(response, async () => {
      if (!args?.expression) throw new LaunchError('planescope.taintWatch needs an "expression"');
      const f = (args.frameId !== undefined && this.frames.get(args.frameId)) || { threadId: args.threadId ?? 1, level: 0 };
      const run = await this.requireEngine().prepareTaintWatch(args.expression, f.threadId, f.level);
      // Answered once the watch is armed; it then runs like a continue and ends with a stopped event.
      setImmediate(() => void run().catch((e) => this.sendEvent(new OutputEvent(`taint watch: ${(e as Error).message}\n`, 'stderr'))));
    });
  }

  override shutdown(): void {
    void this.engine?.dispose();
    super.shutdown();
  }
}
