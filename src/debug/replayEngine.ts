// The replay engine: runs one process under planegrind with Valgrind's gdbserver, drives gdb over MI
// through vgdb, and offers debugger operations with events. It knows nothing of DAP (the session
// translates). Step back and reverse continue restart the deterministic run and go forward again to
// an earlier stop: by instruction count when planegrind has `icount`/`stop-at`, otherwise by replaying
// the recorded motions (with the breakpoints each one ran under).
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GdbDriver, MiCommandError } from '../core/mi/gdbDriver';
import { OrphanGuard } from '../core/mi/processTree';
import { MiTuple, miGet, miQuote, miString, miTuples } from '../core/mi/parser';
import {
  MonitorCapabilities,
  TaintOfRange,
  RegisterTaint,
  LabelStep,
  parseIcount,
  parseLabelChain,
  parseMonitorHelp,
  parseStopAt,
  parseTaintRange,
  parseTaintRegs,
} from '../core/mi/planegrindMonitor';
import { planegrindArgs } from '../core/analysisCommand';
import { distAsset } from '../core/assets';
import { replayInvocation } from '../core/recording/session';
import { ensureValgrindLib } from '../core/valgrindLib';
import { LaunchError, PlanescopeLaunchArguments, ResolvedTools, checkProgram, resolveTools } from './launchConfig';
import { PlanegrindTarget, TargetInvocation } from './planegrindTarget';
import { RecordedProcess, findRecordedProcess } from './recordedProcess';
import { TaintWatch, parseTaintWatchDataId, taintWatchDataId } from './taintWatch';
import { REPLAY_REPORT_LOCATION, ReplayStop, clearReplayReports, readReplayStop, replayStopAtExit } from './replayStop';

export type StopReason = 'entry' | 'breakpoint' | 'step' | 'pause' | 'exception' | 'data breakpoint' | 'goto';

export interface StopEvent {
  reason: StopReason;
  threadId: number;
  description?: string;
  /** Details of an exception stop (a replay that diverged or reached the recording's end). */
  text?: string;
  /** Engine breakpoint ids that caused the stop. */
  breakpointIds?: number[];
}

export interface BreakpointSpec {
  line: number;
  condition?: string;
  hitCondition?: string;
  logMessage?: string;
}

export interface BreakpointState {
  id: number;
  verified: boolean;
  line?: number;
  message?: string;
}

export interface FrameInfo {
  level: number;
  name: string;
  file?: string;
  line?: number;
  address: string;
  /** true when gdb reports the frame as an inlined call (no real frame of its own). */
  inlined: boolean;
  module?: string;
}

export interface VariableInfo {
  name: string;
  value: string;
  type?: string;
  /** gdb variable object to expand, when the value has children. */
  varobj?: string;
  children: number;
  /** Expression for evaluate/taint queries. */
  expression?: string;
}

export interface TaintedVariable {
  name: string;
  address: bigint;
  size: number;
  taint: TaintOfRange;
}

/** Where the engine is on the replay's time line (for step back). */
interface Motion {
  command: string;
  /** The breakpoint set it ran under (serialized specs). */
  breakpoints: string;
  icount?: bigint;
  stop: StopEvent;
  /** Where it stopped (file:line), for messages. */
  where?: string;
  /** A line a watched continue went through without stopping (not a stop step back returns to). */
  passed?: boolean;
}

interface GdbBreakpoint {
  engineId: number;
  file: string;
  spec: BreakpointSpec;
  hits: number;
  /** Hit conditions gdb cannot express natively are checked here. */
  hitPredicate?: (hits: number) => boolean;
}

type Trace = (line: string) => void;

export class ReplayEngine extends EventEmitter {
  private args!: PlanescopeLaunchArguments;
  private tools!: ResolvedTools;
  private program!: string;
  private programArgs: string[] = [];
  private cwd!: string;
  private target: PlanegrindTarget | undefined;
  private gdb: GdbDriver | undefined;
  capabilities: MonitorCapabilities = { taint: false, taintRegs: false, label: false, icount: false, stopAt: false };

  /** DAP-facing breakpoint specs per source file. */
  private readonly specs = new Map<string, BreakpointSpec[]>();
  private readonly byGdbNumber = new Map<string, GdbBreakpoint>();
  private nextBreakpointId = 1;
  private installed = '';

  private history: Motion[] = [];
  private silent = false;
  private pauseRequested = false;
  private stopWaiter: ((record: MiTuple) => void) | undefined;
  private running = false;
  private disposed = false;
  private readonly trace: Trace;
  private registerNames: string[] = [];
  /** planegrind's stop-at failed once in this session: go back by re-running motions only. */
  private stopAtBroken = false;
  private guard: OrphanGuard | undefined;
  /** The recorded process a `recording` launch replays. */
  private recorded: RecordedProcess | undefined;
  /** gdb's number of the breakpoint in librecord's divergence/end report. */
  private replayReportBreakpoint: string | undefined;
  /** The last divergence or end of the recording this session met. */
  replayStop: ReplayStop | undefined;

  constructor(trace: Trace = () => undefined) {
    super();
    this.trace = trace;
  }

  // ---- life cycle ------------------------------------------------------------------------------

  /** Checks the configuration, starts planegrind and gdb, and stops before the program's first instruction. */
  async launch(args: PlanescopeLaunchArguments): Promise<void> {
    this.args = args;
    this.cwd = args.cwd ?? (args.program ? dirname(args.program) : process.cwd());
    if (args.recording) {
      this.recorded = findRecordedProcess(args.recording, args.process, this.cwd);
      const h = this.recorded.summary.header;
      this.program = h.exe;
      this.programArgs = h.argv.slice(1);
      this.cwd = h.cwd;
    } else {
      if (!args.program) throw new LaunchError('launch.json needs "program" (the executable to run under planegrind) or "recording" with "process"');
      this.program = checkProgram(args.program, this.cwd);
      this.programArgs = args.args ?? [];
    }
    this.tools = resolveTools(args);
    await this.startProcesses();
  }

  private async startProcesses(): Promise<void> {
    let valgrindLib: string;
    try {
      valgrindLib = ensureValgrindLib();
    } catch (e) {
      throw new LaunchError(`planegrind is not available: ${(e as Error).message}`);
    }
    const target = new PlanegrindTarget({
      vgdb: this.tools.vgdb,
      onOutput: (category, text) => {
        if (!this.silent) this.emit('output', category, text);
      },
    });
    this.target = target;
    const invocation = this.invocation(target, valgrindLib);
    // gdb starts and loads the program's symbols while valgrind starts: the two take about as long.
    const gdb = new GdbDriver({ gdbPath: this.tools.gdb, program: this.program, cwd: this.cwd, initCommands: gdbInitCommands(this.args), trace: (d, l) => this.trace(`${d} ${l}`) });
    this.gdb = gdb;
    gdb.on('exec', (record: { cls: string; results: MiTuple }) => {
      if (record.cls === 'stopped') this.onStopped(record.results);
      else if (record.cls === 'running') this.running = true;
    });
    // gdb's unsolicited console text repeats what the stop events say ("Breakpoint 1, main () at ...");
    // only the target's own text (@) is worth showing.
    gdb.on('stream', (kind: string, text: string) => {
      if (!this.silent && kind === 'target') this.emit('output', 'console', text);
    });
    gdb.on('exit', () => {
      if (this.gdb === gdb && !this.disposed) this.emit('terminated');
    });
    const setup = (async () => {
      // A loaded machine (valgrind is slow to answer under load) must not make gdb time out mid-handshake.
      for (const cmd of ['-gdb-set remotetimeout 120', '-gdb-set mi-async on', '-gdb-set pagination off', '-gdb-set breakpoint pending on', '-gdb-set print object on', '-gdb-set width 0', '-enable-pretty-printing']) {
        await gdb.send(cmd);
      }
      for (const [from, to] of Object.entries(this.args.sourceMap ?? {}).sort((a, b) => b[0].length - a[0].length)) {
        await gdb.console(`set substitute-path ${from} ${to}`);
      }
    })();
    const started = target.start(invocation);
    // Watch for valgrind's exit only once it has been spawned (start() spawns synchronously).
    void target.waitForExit().then(() => this.onTargetExit(target));
    // If the adapter (or the extension host running it) is killed, valgrind and gdb must not outlive it.
    this.guard ??= new OrphanGuard();
    this.guard.add(target.pid);
    this.guard.add(gdb.pid);
    await Promise.all([started, setup]);
    const stopped = this.nextStop();
    await gdb.send(`-target-select remote ${target.remoteTarget}`);
    await stopped;
    this.running = false;
    const help = await gdb.console('monitor help').catch(() => '');
    this.capabilities = parseMonitorHelp(help);
    this.registerNames = (miGet((await gdb.send('-data-list-register-names')).results, 'register-names') as string[]) ?? [];
    this.installed = '';
    this.byGdbNumber.clear();
    this.replayReportBreakpoint = undefined;
    this.replayStop = undefined;
    if (this.recorded) {
      // Stop where librecord reports a divergence or the log's end, before it exits (see replayStop.ts).
      const r = await gdb.send(`-break-insert -f ${miQuote(REPLAY_REPORT_LOCATION)}`).catch(() => undefined);
      this.replayReportBreakpoint = r ? miString(r.results, 'bkpt.number') : undefined;
    }
    await this.installBreakpoints(this.serializeSpecs());
  }

  /** valgrind's command line: the program under planegrind, or the replay of the recorded process. */
  private invocation(target: PlanegrindTarget, valgrindLib: string): TargetInvocation {
    const userData = this.args.userData ?? this.recorded?.userData ?? [];
    // planegrindArgs ends with the program and its arguments; the options are what comes before.
    const tool = planegrindArgs({ logPattern: target.taintLog, userData, pointerPolicy: this.args.pointerPolicy }, this.program, []).slice(0, -1);
    // planegrind counts instructions exactly when a debugger attaches (--vgdb-error): stop-at needs it.
    const counting = this.args.exactStepBack === false ? ['--stop-at-support=no'] : [];
    const options = [...target.gdbserverArgs, ...tool, ...counting, ...(this.args.valgrindArgs ?? [])];
    if (!this.recorded) {
      return { command: this.tools.valgrind, args: [...options, this.program, ...this.programArgs], env: { ...process.env, ...(this.args.env ?? {}), VALGRIND_LIB: valgrindLib }, cwd: this.cwd };
    }
    const r = this.recorded;
    clearReplayReports(r.log);
    let librecord: string;
    try {
      librecord = distAsset('native/librecord.so');
    } catch (e) {
      throw new LaunchError(`librecord is not available to replay the recording: ${(e as Error).message}`);
    }
    // Taint (and payloads recorded by reference) that senders' `replay --analyze` runs left for their
    // receivers (docs/recording.md, "Message taint on replay"): without it, received messages are clean.
    const analysis = join(r.dir, 'analysis');
    const fromSenders = existsSync(analysis) ? { PLANESCOPE_RR_TAINT_DIR: analysis, PLANESCOPE_RR_PAYLOAD_DIR: analysis } : {};
    const inv = replayInvocation(r.log, r.summary, librecord, { command: this.tools.valgrind, args: options, env: { VALGRIND_LIB: valgrindLib } }, fromSenders);
    return { ...inv, env: { ...inv.env, ...(this.args.env ?? {}) } };
  }

  private onTargetExit(target: PlanegrindTarget): void {
    if (target !== this.target || this.disposed || this.silent) return;
    // gdb reports a normal exit itself; this covers valgrind dying under us.
    setTimeout(() => {
      if (target === this.target && !this.disposed && !this.silent) this.emit('terminated');
    }, 200);
  }

  /** Called once the client has sent its breakpoints: runs to the first stop. */
  async configurationDone(): Promise<void> {
    if (this.args.stopOnEntry) await this.motion('entry');
    else void this.motion('-exec-continue');
  }

  /** Ends valgrind, vgdb and gdb. */
  async dispose(): Promise<void> {
    this.disposed = true;
    await this.stopProcesses();
    this.guard?.release();
    this.guard = undefined;
  }

  private async stopProcesses(): Promise<void> {
    const gdb = this.gdb;
    const target = this.target;
    this.gdb = undefined;
    this.target = undefined;
    this.stopWaiter = undefined;
    gdb?.dispose();
    await target?.dispose();
  }

  /** Starts the run again from the beginning with the current breakpoints. */
  async restart(): Promise<void> {
    await this.restartSilently();
    this.history = [];
    for (const w of this.taintWatches) w.armed = true;
    await this.configurationDone();
  }

  private async restartSilently(): Promise<void> {
    const wasSilent = this.silent;
    this.silent = true;
    try {
      await this.stopProcesses();
      await this.startProcesses();
      for (const bp of this.byGdbNumber.values()) bp.hits = 0;
    } finally {
      this.silent = wasSilent;
    }
  }

  // ---- breakpoints -----------------------------------------------------------------------------

  async setBreakpoints(file: string, specs: BreakpointSpec[]): Promise<BreakpointState[]> {
    this.specs.set(file, specs);
    if (!this.gdb) return specs.map(() => ({ id: this.nextBreakpointId++, verified: false, message: 'not launched yet' }));
    await this.installBreakpoints(this.serializeSpecs(), file);
    return this.states.get(file) ?? [];
  }

  /** What the client was told about each file's breakpoints, in request order. */
  private readonly states = new Map<string, BreakpointState[]>();

  private serializeSpecs(): string {
    return JSON.stringify([...this.specs.entries()].sort());
  }

  /** Makes gdb's breakpoints equal to the serialized spec set (deleting and inserting per file). */
  private async installBreakpoints(serialized: string, onlyFile?: string): Promise<void> {
    const gdb = this.gdb!;
    if (serialized === this.installed) return;
    const wanted = new Map<string, BreakpointSpec[]>(JSON.parse(serialized));
    const files = onlyFile ? [onlyFile] : [...new Set([...wanted.keys(), ...[...this.byGdbNumber.values()].map((b) => b.file)])];
    for (const file of files) {
      const old = [...this.byGdbNumber.entries()].filter(([, bp]) => bp.file === file);
      if (old.length) await gdb.send(`-break-delete ${old.map(([n]) => n).join(' ')}`);
      for (const [n] of old) this.byGdbNumber.delete(n);
      const states: BreakpointState[] = [];
      this.states.set(file, states);
      for (const spec of wanted.get(file) ?? []) {
        try {
          const hit = parseHitCondition(spec.hitCondition);
          const flags: string[] = [];
          if (spec.condition) flags.push('-c', miQuote(spec.condition));
          if (hit.ignore) flags.push('-i', String(hit.ignore));
          const r = await gdb.send(`-break-insert -f ${flags.join(' ')} ${miQuote(`${file}:${spec.line}`)}`);
          const number = miString(r.results, 'bkpt.number')!;
          const line = Number(miString(r.results, 'bkpt.line') ?? miString(r.results, 'bkpt.locations.0.line') ?? spec.line);
          const engineId = this.nextBreakpointId++;
          this.byGdbNumber.set(number, { engineId, file, spec: { ...spec, line }, hits: 0, hitPredicate: hit.predicate });
          states.push({ id: engineId, verified: true, line });
        } catch (e) {
          states.push({ id: this.nextBreakpointId++, verified: false, message: (e as Error).message });
        }
      }
    }
    this.installed = onlyFile ? this.serializeSpecs() : serialized;
  }

  // ---- execution -------------------------------------------------------------------------------

  continue(): void {
    void this.motion('-exec-continue');
  }
  next(threadId: number): void {
    void this.motion(`-exec-next --thread ${threadId}`);
  }
  stepIn(threadId: number): void {
    void this.motion(`-exec-step --thread ${threadId}`);
  }
  stepOut(threadId: number): void {
    void this.motion(`-exec-finish --thread ${threadId} --frame 0`);
  }

  async pause(): Promise<void> {
    // A watched continue stops between two lines; the line running now completes first.
    if (this.watching) this.pauseRequested = true;
    if (!this.running || !this.gdb || this.watching) return;
    this.pauseRequested = true;
    const gdb = this.gdb;
    await gdb.send('-exec-interrupt');
    // gdb drops an interrupt that arrives while it handles a stop of its own (e.g. a shared library
    // load, which it resumes silently): ask again until the program stops.
    const retry = setInterval(() => {
      if (!this.running || !this.pauseRequested || this.gdb !== gdb || !gdb.alive) clearInterval(retry);
      else void gdb.send('-exec-interrupt').catch(() => clearInterval(retry));
    }, 500);
  }

  /** Goes back to the previous stop: restart and run forward to it. */
  async stepBack(): Promise<void> {
    let keep = this.history.length - 1;
    while (keep > 1 && this.history[keep - 1].passed) keep--;
    if (keep < 1) throw new LaunchError('this is the first stop of the run: there is nothing before it to go back to');
    await this.goBackTo(keep, 'step');
  }

  /** Goes back to the latest earlier stop at a breakpoint (or the first stop). */
  async reverseContinue(): Promise<void> {
    if (this.history.length < 2) throw new LaunchError('this is the first stop of the run: there is nothing before it to go back to');
    let keep = this.history.length - 1;
    // A stop made by a breakpoint of either kind: a line breakpoint or a taint watch (data breakpoint).
    const byBreakpoint = (m: Motion) => !m.passed && (m.stop.reason === 'breakpoint' || m.stop.reason === 'data breakpoint');
    while (keep > 1 && !byBreakpoint(this.history[keep - 1])) keep--;
    await this.goBackTo(keep, byBreakpoint(this.history[keep - 1]) ? this.history[keep - 1].stop.reason : 'step');
  }

  /** Restarts silently and re-runs the first `keep` motions; then reports the stop. */
  private async goBackTo(keep: number, reason: StopReason): Promise<void> {
    const motions = this.history.slice(0, keep);
    const current = this.serializeSpecs();
    const target = motions[motions.length - 1];
    const later = this.history[keep];
    // An instruction count names a position only when the later stop is at another count (stepping
    // into an inlined call stops at the same pc and count).
    const exact = this.args.exactStepBack !== false;
    const byCount = exact && !this.stopAtBroken && this.capabilities.stopAt && this.capabilities.icount && target.icount !== undefined && target.icount > 0n && later?.icount !== target.icount;
    // Re-running the steps cannot reproduce where a Pause happened to stop.
    const paused = motions.find((m) => m.stop.reason === 'pause');
    if (!byCount && paused) {
      throw new LaunchError(`cannot go back: the way there includes a Pause${paused.where ? ` (at ${paused.where})` : ''}, and only planegrind's exact instruction count can return to where a Pause stopped${exact ? '' : ' (launch without "exactStepBack": false)'}`);
    }
    await this.restartSilently();
    this.silent = true;
    let last: StopEvent | undefined;
    try {
      let reached = false;
      if (byCount) {
        try {
          await this.installBreakpoints('[]');
          parseStopAt(await this.gdb!.console(`monitor stop-at ${target.icount}`));
          last = await this.resumeAndWait('-exec-continue', true);
          if (!last) throw new Error('the program ended before reaching it');
          const at = await this.icount();
          if (at !== target.icount) throw new Error(`it stopped at instruction ${at}`);
          last = { ...target.stop };
          reached = true;
        } catch (e) {
          this.emit('output', 'console', `Planescope: going back to instruction ${target.icount} with planegrind's stop-at failed (${(e as Error).message}); replaying the recorded steps instead, for the rest of this session.\n`);
          this.stopAtBroken = true;
          await this.restartSilently();
          this.silent = true;
        }
      }
      if (!reached) {
        for (const m of motions) {
          await this.installBreakpoints(m.breakpoints);
          last = await this.resumeAndWait(m.command, false);
          if (!last) throw new Error('the program exited before the replay reached the earlier stop: the program is not deterministic');
        }
        if (exact && this.capabilities.icount && target.icount !== undefined) {
          const at = await this.icount();
          if (at !== target.icount) this.emit('output', 'console', `Planescope: the replay reached instruction ${at}, the original run was at ${target.icount} here: the program does not replay deterministically.\n`);
        }
      }
      await this.installBreakpoints(current);
    } finally {
      this.silent = false;
    }
    this.history = motions;
    // Back before a watch's data arrived, the watch stops again.
    for (const w of this.taintWatches) w.armed = this.capabilities.taint ? (await this.taintOf(w.address, w.size).catch(() => undefined))?.taintedBytes === 0 : true;
    this.emit('stopped', { ...(last ?? motions[motions.length - 1].stop), reason } satisfies StopEvent);
  }

  /** Runs one motion, waits for its final stop, records it and reports it. */
  private async motion(command: string): Promise<void> {
    if (this.taintWatches.some((w) => w.armed) && command !== 'entry') return this.watchedMotion(command, this.lastThread, this.taintWatches);
    const breakpoints = this.serializeSpecs();
    let stop: StopEvent | undefined;
    try {
      stop = await this.resumeAndWait(command, false);
    } catch (e) {
      if (!this.disposed) this.emit('output', 'stderr', `${(e as Error).message}\n`);
      return;
    }
    if (!stop) return; // exited: events already sent
    const icount = this.capabilities.icount ? await this.icount().catch(() => undefined) : undefined;
    this.history.push({ command, breakpoints, icount, stop });
    this.emit('stopped', stop);
  }

  async icount(): Promise<bigint | undefined> {
    return parseIcount(await this.gdb!.console('monitor icount'));
  }

  private nextStop(): Promise<MiTuple> {
    return new Promise((resolve) => (this.stopWaiter = resolve));
  }

  private onStopped(results: MiTuple): void {
    this.running = false;
    const thread = Number(miString(results, 'thread-id'));
    if (Number.isInteger(thread) && thread > 0) this.lastThread = thread;
    const waiter = this.stopWaiter;
    this.stopWaiter = undefined;
    if (waiter) waiter(results);
  }

  /**
   * Sends a resuming command and waits for the stop the user should see: logpoints print and go on,
   * hit conditions not yet met go on. Returns undefined when the program exited.
   */
  private async resumeAndWait(command: string, ignoreBreakpoints: boolean, quiet = false): Promise<StopEvent | undefined> {
    const gdb = this.gdb;
    if (!gdb) throw new Error('the program is not running');
    let cmd = command;
    // A breakpoint that does not stop (a logpoint, an unmet hit count) ends gdb's step where it is:
    // the step goes on by finishing out to the frame it started in and stepping again from there.
    const stepping = /^-exec-(next|step|finish)\b/.test(command);
    const stepThread = Number(/--thread (\d+)/.exec(command)?.[1] ?? this.lastThread);
    const depthNow = async () => Number(miString((await gdb.send(`-stack-info-depth --thread ${stepThread}`)).results, 'depth') ?? 0);
    // The depth a step ends at: a finish ends in the caller.
    const stepDepth = stepping ? (await depthNow()) - (command.startsWith('-exec-finish') ? 1 : 0) : 0;
    let finishingOut = false;
    const goOnStepping = async (): Promise<string | undefined> => {
      if ((await depthNow()) > stepDepth) {
        finishingOut = true;
        return `-exec-finish --thread ${stepThread} --frame 0`;
      }
      finishingOut = false;
      // Back in the step's frame: a finish is done; a next or step ends at this line boundary.
      return undefined;
    };
    for (;;) {
      let stopped: Promise<MiTuple>;
      if (cmd === 'entry') {
        await gdb.send('-break-insert -t main');
        cmd = '-exec-continue';
        stopped = this.nextStop();
        await gdb.send(cmd);
        const r = await stopped;
        if (isExit(r)) return this.exited(r);
        return { reason: 'entry', threadId: Number(miString(r, 'thread-id') ?? 1) };
      }
      stopped = this.nextStop();
      this.running = true;
      if (!this.silent && !quiet) this.emit('continued');
      await gdb.send(cmd);
      const r = await stopped;
      if (isExit(r)) return this.exited(r);
      const threadId = Number(miString(r, 'thread-id') ?? 1);
      const reason = miString(r, 'reason');
      if (reason === 'breakpoint-hit' && this.replayReportBreakpoint && miString(r, 'bkptno') === this.replayReportBreakpoint) {
        const stop = await readReplayStop(gdb, threadId, this.recorded!.summary.header.process);
        this.replayStop = stop;
        if (!this.silent) this.emit('output', 'stderr', `Planescope: ${stop.message}\n`);
        return { reason: 'exception', threadId, description: stop.status === 'divergence' ? 'the replay diverged from the recording' : 'end of the recording', text: stop.message };
      }
      if (reason === 'breakpoint-hit') {
        const bp = this.byGdbNumber.get(miString(r, 'bkptno') ?? '');
        if (bp && !ignoreBreakpoints) {
          bp.hits++;
          const skip = bp.hitPredicate && !bp.hitPredicate(bp.hits);
          if (!skip && bp.spec.logMessage !== undefined && !this.silent) this.emit('output', 'console', (await this.interpolate(bp.spec.logMessage, threadId)) + '\n');
          if (skip || bp.spec.logMessage !== undefined) {
            if (!stepping) {
              cmd = '-exec-continue';
              continue;
            }
            const next = await goOnStepping();
            if (next === undefined) return { reason: 'step', threadId };
            cmd = next;
            continue;
          }
          return { reason: 'breakpoint', threadId, breakpointIds: [bp.engineId] };
        }
        return { reason: 'breakpoint', threadId };
      }
      if (reason === 'function-finished' && finishingOut) {
        const next = await goOnStepping();
        if (next !== undefined) cmd = next;
        else if (command.startsWith('-exec-finish')) return { reason: 'step', threadId };
        else cmd = command; // the rest of the line the next or step started on
        continue;
      }
      if (reason === 'end-stepping-range' || reason === 'function-finished' || reason === 'location-reached') return { reason: 'step', threadId };
      if (reason === 'signal-received') {
        const signal = miString(r, 'signal-name') ?? 'signal';
        if (this.pauseRequested || signal === 'SIGTRAP' || signal === 'SIGINT' || signal === '0') {
          this.pauseRequested = false;
          // A stop-at stop arrives as SIGTRAP too.
          return { reason: this.silent ? 'goto' : 'pause', threadId };
        }
        return { reason: 'exception', threadId, description: `${signal}: ${miString(r, 'signal-meaning') ?? ''}` };
      }
      if (reason === 'watchpoint-trigger' || reason === 'access-watchpoint-trigger') return { reason: 'data breakpoint', threadId };
      if (this.pauseRequested) {
        this.pauseRequested = false;
        return { reason: 'pause', threadId };
      }
      return { reason: 'step', threadId, description: reason };
    }
  }

  private exited(r: MiTuple): undefined {
    // gdb prints the exit code in octal.
    const code = miString(r, 'reason') === 'exited-signalled' ? 128 : parseInt(miString(r, 'exit-code') ?? '0', 8);
    this.running = false;
    if (this.recorded && !this.replayStop) {
      // The report breakpoint was not set (or not reached): librecord's report file says what happened.
      this.replayStop = replayStopAtExit(this.recorded.log, code, this.recorded.summary.header.process);
      if (this.replayStop && !this.silent) this.emit('output', 'stderr', `Planescope: ${this.replayStop.message}\n`);
    }
    if (!this.silent) {
      this.emit('exited', code);
      this.emit('terminated');
    }
    return undefined;
  }

  /** Replaces `{expr}` in a logpoint message with the expression's value. */
  private async interpolate(message: string, threadId: number): Promise<string> {
    const parts = message.split(/(\{[^{}]+\})/);
    const out: string[] = [];
    for (const p of parts) {
      if (/^\{[^{}]+\}$/.test(p)) out.push(await this.evaluate(p.slice(1, -1), threadId, 0).then((v) => v.value, (e) => `<${(e as Error).message}>`));
      else out.push(p);
    }
    return out.join('');
  }

  // ---- inspection ------------------------------------------------------------------------------

  async threads(): Promise<Array<{ id: number; name: string }>> {
    if (!this.gdb || this.running) return [{ id: 1, name: 'main' }];
    const r = await this.gdb.send('-thread-info');
    const threads = miTuples(r.results, 'threads').map((t) => ({
      id: Number(miString(t, 'id')),
      name: `${miString(t, 'name') ?? miString(t, 'target-id') ?? 'thread'} (${miString(t, 'id')})`,
    }));
    return threads.length ? threads : [{ id: 1, name: 'main' }];
  }

  async stackTrace(threadId: number, start: number, levels: number): Promise<{ frames: FrameInfo[]; total: number }> {
    const gdb = this.requireStopped();
    const depth = Number(miString((await gdb.send(`-stack-info-depth --thread ${threadId} 200`)).results, 'depth') ?? 0);
    const end = levels > 0 ? Math.min(start + levels, depth) - 1 : depth - 1;
    if (end < start) return { frames: [], total: depth };
    const r = await gdb.send(`-stack-list-frames --thread ${threadId} ${start} ${end}`);
    // gdb lists inlined calls as frames of their own; MI does not flag them, the CLI's `info frame` does.
    const frames = miTuples(r.results, 'stack').map((f) => ({
      level: Number(miString(f, 'level')),
      name: miString(f, 'func') ?? '??',
      file: miString(f, 'fullname') ?? miString(f, 'file'),
      line: miString(f, 'line') ? Number(miString(f, 'line')) : undefined,
      address: miString(f, 'addr') ?? '',
      inlined: false,
      module: miString(f, 'from'),
    }));
    await this.markInlined(threadId, frames);
    return { frames, total: depth };
  }

  private async markInlined(threadId: number, frames: FrameInfo[]): Promise<void> {
    const gdb = this.gdb!;
    // Consecutive frames with the same pc are an inline chain: all but the outermost are inlined.
    for (let i = 0; i + 1 < frames.length; i++) {
      if (frames[i].address && frames[i].address === frames[i + 1].address) frames[i].inlined = true;
    }
    // The outermost frame of the list may still be inlined into one not listed: ask gdb for it.
    const last = frames[frames.length - 1];
    if (last && !last.inlined && frames.length === 1) {
      const text = await gdb.console(`frame apply level ${last.level} info frame`).catch(() => '');
      if (/inlined into frame/.test(text)) last.inlined = true;
    }
    void threadId;
  }

  async locals(threadId: number, frame: number): Promise<VariableInfo[]> {
    const gdb = this.requireStopped();
    const r = await gdb.send(`-stack-list-variables --thread ${threadId} --frame ${frame} --no-values`);
    const names = miTuples(r.results, 'variables').map((v) => miString(v, 'name')!).filter(Boolean);
    const out: VariableInfo[] = [];
    for (const name of [...new Set(names)]) out.push(await this.varobj(name, threadId, frame, name));
    return out;
  }

  private varobjs: string[] = [];

  private async varobj(expression: string, threadId: number, frame: number, display = expression): Promise<VariableInfo> {
    const gdb = this.requireStopped();
    try {
      const r = await gdb.send(`-var-create --thread ${threadId} --frame ${frame} - * ${miQuote(expression)}`);
      const name = miString(r.results, 'name')!;
      this.varobjs.push(name);
      const children = Number(miString(r.results, 'numchild') ?? 0);
      return { name: display, value: miString(r.results, 'value') ?? '', type: miString(r.results, 'type'), varobj: children > 0 ? name : undefined, children, expression };
    } catch (e) {
      return { name: display, value: `<${(e as Error).message}>`, children: 0, expression };
    }
  }

  async children(varobj: string): Promise<VariableInfo[]> {
    const gdb = this.requireStopped();
    const r = await gdb.send(`-var-list-children --all-values ${miQuote(varobj)} 0 1000`);
    const out: VariableInfo[] = [];
    for (const c of miTuples(r.results, 'children')) {
      const name = miString(c, 'name')!;
      const exp = miString(c, 'exp') ?? name;
      const n = Number(miString(c, 'numchild') ?? 0);
      // Access-specifier pseudo children (public/private) and anonymous members have no path.
      const path = await gdb.send(`-var-info-path-expression ${miQuote(name)}`).then((p) => miString(p.results, 'path_expr'), () => undefined);
      out.push({ name: exp, value: miString(c, 'value') ?? '', type: miString(c, 'type'), varobj: n > 0 ? name : undefined, children: n, expression: path });
    }
    return out;
  }

  /** Forgets variable objects of the previous stop. */
  async resetVariables(): Promise<void> {
    const gdb = this.gdb;
    const names = this.varobjs.splice(0);
    if (!gdb || this.running) return;
    for (const n of names) await gdb.send(`-var-delete ${miQuote(n)}`).catch(() => undefined);
  }

  /** General-purpose registers (x86-64: rax..r15, rip, eflags), values in hex. */
  async registers(threadId: number, frame: number): Promise<VariableInfo[]> {
    const gdb = this.requireStopped();
    const count = Math.min(18, this.registerNames.length);
    const numbers = Array.from({ length: count }, (_, i) => i);
    const r = await gdb.send(`-data-list-register-values --thread ${threadId} --frame ${frame} --skip-unavailable x ${numbers.join(' ')}`);
    return miTuples(r.results, 'register-values').map((v) => {
      const name = this.registerNames[Number(miString(v, 'number'))];
      return { name, value: miString(v, 'value') ?? '', children: 0, expression: `$${name}` };
    });
  }

  async evaluate(expression: string, threadId: number, frame: number): Promise<{ value: string; type?: string; varobj?: string; children: number }> {
    const gdb = this.requireStopped();
    const v = await this.varobj(expression, threadId, frame);
    if (v.value.startsWith('<') && v.value.endsWith('>') && !v.type) {
      const r = await gdb.send(`-data-evaluate-expression --thread ${threadId} --frame ${frame} ${miQuote(expression)}`);
      return { value: miString(r.results, 'value') ?? '', children: 0 };
    }
    return v;
  }

  /** Runs a gdb CLI command (the debug console's `-exec ...`), returning its text. */
  async cli(command: string): Promise<string> {
    return this.requireStopped().console(command);
  }

  async readMemory(address: bigint, count: number): Promise<{ address: bigint; data: Buffer; unreadable: number }> {
    const gdb = this.requireStopped();
    try {
      const r = await gdb.send(`-data-read-memory-bytes 0x${address.toString(16)} ${count}`);
      const block = miTuples(r.results, 'memory')[0];
      const begin = BigInt(miString(block, 'begin') ?? '0');
      const data = Buffer.from(miString(block, 'contents') ?? '', 'hex');
      return { address: begin, data, unreadable: count - data.length };
    } catch (e) {
      if (e instanceof MiCommandError) return { address, data: Buffer.alloc(0), unreadable: count };
      throw e;
    }
  }

  // ---- taint -----------------------------------------------------------------------------------

  /** Why taint cannot be shown, or undefined when it can. */
  taintUnavailable(): string | undefined {
    if (this.capabilities.taint) return undefined;
    return 'this build of planegrind has no `taint` monitor command yet (docs/planegrind.md), so the taint state cannot be shown';
  }

  /** Address and size of an lvalue expression, or undefined when it has none (registers, constants). */
  async lvalue(expression: string, threadId: number, frame: number): Promise<{ address: bigint; size: number } | undefined> {
    const gdb = this.requireStopped();
    const ev = (e: string) => gdb.send(`-data-evaluate-expression --thread ${threadId} --frame ${frame} ${miQuote(e)}`).then((r) => miString(r.results, 'value') ?? '');
    try {
      const addr = /0x[0-9a-fA-F]+/.exec(await ev(`(unsigned long)&(${expression})`)) ?? [String(await ev(`(unsigned long)&(${expression})`))];
      const size = Number(await ev(`sizeof(${expression})`));
      if (!Number.isFinite(size) || size <= 0) return undefined;
      return { address: BigInt(addr[0]), size };
    } catch {
      return undefined;
    }
  }

  async taintOf(address: bigint, size: number): Promise<TaintOfRange> {
    const text = await this.requireStopped().console(`monitor taint 0x${address.toString(16)} ${size}`);
    return parseTaintRange(text, address, size);
  }

  async taintOfExpression(expression: string, threadId: number, frame: number): Promise<TaintOfRange | undefined> {
    if (!this.capabilities.taint) return undefined;
    const lv = await this.lvalue(expression, threadId, frame);
    return lv ? this.taintOf(lv.address, lv.size) : undefined;
  }

  async registerTaint(): Promise<RegisterTaint[]> {
    if (!this.capabilities.taintRegs) return [];
    return parseTaintRegs(await this.requireStopped().console('monitor taint-regs'));
  }

  async labelChain(label: number): Promise<LabelStep[]> {
    if (!this.capabilities.label) return [{ label, text: `label ${label}`, depth: 0 }];
    const steps = parseLabelChain(await this.requireStopped().console(`monitor label ${label}`));
    return steps.length ? steps : [{ label, text: `label ${label}`, depth: 0 }];
  }

  /** The taint of every local of a frame (only those with an address). */
  async taintedLocals(threadId: number, frame: number): Promise<TaintedVariable[]> {
    const out: TaintedVariable[] = [];
    for (const v of await this.locals(threadId, frame)) {
      const lv = await this.lvalue(v.name, threadId, frame);
      if (!lv) continue;
      out.push({ name: v.name, address: lv.address, size: lv.size, taint: await this.taintOf(lv.address, lv.size) });
    }
    return out;
  }

  // ---- taint watches (DAP data breakpoints and the planescope.taintWatch request) -------------

  private taintWatches: TaintWatch[] = [];
  private nextWatchId = 1;
  /** A watched run (a source line at a time) is going on: pause stops it between lines. */
  private watching = false;
  /** The thread of the last stop (a continue has none of its own). */
  private lastThread = 1;

  /** What a taint watch on `expression` would watch, or why it cannot. */
  async taintWatchTarget(expression: string, threadId: number, frame: number): Promise<{ dataId?: string; description: string }> {
    const reason = this.taintUnavailable();
    if (reason) return { description: `taint watch is not available: ${reason}` };
    const lv = await this.lvalue(expression, threadId, frame);
    if (!lv) return { description: `"${expression}" has no address in memory (a constant, a register, or not in scope here): a taint watch needs an lvalue such as a variable, a field or an array element` };
    return { dataId: taintWatchDataId(expression, lv.address, lv.size), description: `tainted data reaches ${expression} (${lv.size} B at 0x${lv.address.toString(16)})` };
  }

  /** Replaces the taint watches set as data breakpoints (only write access: data arriving). */
  async setTaintWatches(requests: Array<{ dataId: string; accessType?: string }>): Promise<Array<{ id: number; verified: boolean; message?: string }>> {
    this.taintWatches = [];
    const out: Array<{ id: number; verified: boolean; message?: string }> = [];
    for (const r of requests) {
      const id = this.nextWatchId++;
      const w = parseTaintWatchDataId(r.dataId);
      if (!w) out.push({ id, verified: false, message: `not a Planescope taint watch: ${r.dataId}` });
      else if (r.accessType && r.accessType !== 'write') out.push({ id, verified: false, message: `a taint watch stops when tainted data is written to ${w.expression}; "${r.accessType}" access is not watched` });
      else {
        const now = this.gdb && !this.running && this.capabilities.taint ? (await this.taintOf(w.address, w.size).catch(() => undefined))?.taintedBytes ?? 0 : 0;
        if (now > 0) out.push({ id, verified: false, message: `${w.expression} already holds ${now} tainted byte(s): the watch stops when tainted data first reaches it` });
        else {
          this.taintWatches.push({ id, ...w, armed: true });
          out.push({ id, verified: true });
        }
      }
    }
    return out;
  }

  /**
   * The planescope.taintWatch request: checks that `expression` is an lvalue that holds no tainted
   * byte yet and returns the run that goes on until it does. Throws (before anything runs) when it cannot.
   */
  async prepareTaintWatch(expression: string, threadId: number, frame = 0): Promise<() => Promise<void>> {
    const target = await this.taintWatchTarget(expression, threadId, frame);
    if (!target.dataId) throw new LaunchError(target.description);
    const w = parseTaintWatchDataId(target.dataId)!;
    const before = (await this.taintOf(w.address, w.size)).taintedBytes;
    if (before > 0) throw new LaunchError(`"${expression}" already holds ${before} tainted byte(s): the taint watch stops when tainted data first reaches it`);
    return () => this.watchedMotion('-exec-continue', threadId, [...this.taintWatches, { id: 0, ...w, armed: true }]);
  }

  /** The watches that hold tainted bytes now, with how many. */
  private async reachedWatches(watches: TaintWatch[]): Promise<Array<{ watch: TaintWatch; bytes: number }>> {
    const out: Array<{ watch: TaintWatch; bytes: number }> = [];
    for (const w of watches) {
      if (!w.armed) continue;
      const t = await this.taintOf(w.address, w.size);
      if (t.taintedBytes > 0) out.push({ watch: w, bytes: t.taintedBytes });
    }
    return out;
  }

  // A continue goes forward a source line at a time (over calls: their effect is seen when they
  // return) and checks the watched bytes after each line, so it stops right after the line that
  // tainted them; a step checks them once at its end. The lines in between are kept in the history
  // (step back re-runs them) but marked as passed through.
  private async watchedMotion(command: string, threadId: number, watches: TaintWatch[], maxLines = 1_000_000): Promise<void> {
    const breakpoints = this.serializeSpecs();
    const lineByLine = command === '-exec-continue';
    const step = lineByLine ? `-exec-next --thread ${threadId}` : command;
    let stop: StopEvent | undefined;
    this.watching = true;
    this.emit('continued');
    try {
      for (let lines = 0; ; lines++) {
        stop = await this.resumeAndWait(step, false, true);
        if (!stop) return; // exited: events already sent
        const icount = this.capabilities.icount ? await this.icount().catch(() => undefined) : undefined;
        const entry: Motion = { command: step, breakpoints, stop, icount, passed: true };
        this.history.push(entry);
        if (stop.reason === 'breakpoint' || stop.reason === 'exception') break;
        const reached = await this.reachedWatches(watches);
        if (reached.length) {
          const hit = reached.filter((r) => r.watch.id > 0);
          stop = {
            reason: 'data breakpoint',
            threadId,
            description: reached.map((r) => `tainted data reached ${r.watch.expression} (${r.bytes} of ${r.watch.size} bytes)`).join('; '),
            breakpointIds: hit.length ? hit.map((r) => r.watch.id) : undefined,
          };
          // A watch stops once: its data has arrived.
          for (const r of reached) r.watch.armed = false;
          break;
        }
        if (!lineByLine) break;
        if (this.pauseRequested) {
          this.pauseRequested = false;
          stop = { reason: 'pause', threadId };
          break;
        }
        if (lines + 1 >= maxLines) {
          stop = { reason: 'step', threadId, description: `no tainted data reached the watched expressions within ${maxLines} lines` };
          break;
        }
      }
    } catch (e) {
      if (!this.disposed) this.emit('output', 'stderr', `${(e as Error).message}\n`);
      return;
    } finally {
      this.watching = false;
    }
    this.history[this.history.length - 1] = { ...this.history[this.history.length - 1], stop, passed: false };
    this.emit('stopped', stop);
  }

  private requireStopped(): GdbDriver {
    if (!this.gdb) throw new Error('the program is not running');
    if (this.running) throw new Error('the program is running: pause it first');
    return this.gdb;
  }
}

/**
 * Settings that make gdb load symbols faster (measured: gdb's CPU time from start to the first
 * breakpoint 210 ms -> about 60 ms here): the DWARF index of the program and librecord is cached
 * between sessions, and the separate debug files of system libraries (/usr/lib/debug, libc's is
 * large) are not read unless "systemDebugInfo" asks for them.
 */
function gdbInitCommands(args: PlanescopeLaunchArguments): string[] {
  return ['set index-cache enabled on', ...(args.systemDebugInfo ? [] : ['set debug-file-directory'])];
}

function isExit(r: MiTuple): boolean {
  const reason = miString(r, 'reason') ?? '';
  return reason.startsWith('exited');
}

/**
 * DAP hit conditions: `N` or `>=N` stop from the Nth hit on (gdb ignore count N-1), `>N`, `==N`,
 * `%N` (every Nth hit) are checked by the engine.
 */
export function parseHitCondition(text: string | undefined): { ignore?: number; predicate?: (hits: number) => boolean } {
  if (!text || !text.trim()) return {};
  const m = /^\s*(>=|>|==|=|%)?\s*(\d+)\s*$/.exec(text);
  if (!m) throw new LaunchError(`hit condition "${text}" is not understood: use N, >=N, >N, ==N or %N`);
  const n = Number(m[2]);
  switch (m[1]) {
    case undefined:
    case '>=':
      return n > 1 ? { ignore: n - 1 } : {};
    case '>':
      return { ignore: n };
    case '==':
    case '=':
      return { predicate: (h) => h === n };
    default:
      return { predicate: (h) => n > 0 && h % n === 0 };
  }
}
