// Every process the e2e harness starts runs in its own process group and is registered here, so that a
// failing or timed-out test, Ctrl-C or an early exit of mocha still ends the whole tree (code-server, its
// extension host, the debug adapters and debuggers it spawned).
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';

const live = new Set<ChildProcess>();
let exitHandlersInstalled = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

function installExitHandlers(): void {
  if (exitHandlersInstalled) return;
  exitHandlersInstalled = true;
  // 'exit' handlers must be synchronous: SIGKILL the groups, nothing to wait for.
  process.on('exit', () => {
    for (const child of live) killGroup(child, 'SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      for (const child of live) killGroup(child, 'SIGKILL');
      process.exit(128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const)[signal]);
    });
  }
}

/** Spawns `command args` as the leader of a new process group, tracked until it exits. */
export function spawnGroup(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  installExitHandlers();
  const child = spawn(command, args, { ...options, detached: true });
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
  return child;
}

/**
 * Whether a process group still has a live (not zombie) member. Reads /proc: a zombie answers kill(0) until
 * its new parent reaps it, so kill(-pgid, 0) alone would report a stopped group as alive.
 */
export function groupAlive(pgid: number): boolean {
  if (process.platform !== 'linux') {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  }
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // Fields after the parenthesised command name: state ppid pgrp ...
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') return true;
  }
  return false;
}

/** Resolves once no live member of the group is left (checked every 20 ms), or after `timeoutMs`. */
async function waitGroupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (groupAlive(pgid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/**
 * Ends a process group: SIGTERM, then SIGKILL when it has not exited within `graceMs`; resolves when no
 * member of the group is left (the extension host and what it spawned included).
 */
export async function stopGroup(child: ChildProcess, graceMs = 5000): Promise<void> {
  const pgid = child.pid;
  if (child.exitCode !== null || child.signalCode !== null) {
    killGroup(child, 'SIGKILL'); // the leader is gone; its children may not be
    live.delete(child);
    if (pgid !== undefined) await waitGroupGone(pgid, graceMs);
    return;
  }
  const exited = once(child, 'exit');
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
    killGroup(child, 'SIGKILL'); // grandchildren that ignored SIGTERM
    live.delete(child);
  }
  if (pgid !== undefined && !(await waitGroupGone(pgid, graceMs))) {
    throw new Error(`e2e: process group ${pgid} still has live members after SIGKILL`);
  }
}

/** The groups still running (for tests of the harness itself). */
export function liveGroups(): number[] {
  return [...live].map((c) => c.pid ?? -1);
}
