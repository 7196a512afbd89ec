// Finds and ends a process with every descendant (gdb's `target remote | vgdb` pipe, valgrind's
// children), reading /proc so nothing is left behind even when a child started its own process group.
import { ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat { pid: number; state: string; ppid: number; pgrp: number }

/** pid, state, parent and process group of every process, from /proc/PID/stat. */
export function procStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid pgrp ...: comm may hold spaces, so the fields are those after the last ')'.
      const [state, ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push({ pid: Number(name), state, ppid: Number(ppid), pgrp: Number(pgrp) });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** Parent pid of every process. */
function parentMap(): Map<number, number> {
  return new Map(procStats().map((p) => [p.pid, p.ppid]));
}

/** pid and all its descendants, parents before children. */
export function processTree(pid: number): number[] {
  const parents = parentMap();
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    for (const [child, parent] of parents) if (parent === out[i] && !out.includes(child)) out.push(child);
  }
  return out;
}

/** True when the process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** SIGKILLs pid's process group (when it leads one) and every descendant. */
export function killTree(pid: number | undefined): void {
  if (!pid) return;
  const tree = processTree(pid);
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // not a group leader, or already gone
  }
  for (const p of tree) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * Kills registered process groups if this process dies without cleaning up (an extension host or an
 * adapter killed by SIGKILL): a detached `sh` reads pids from a pipe and, at end of file, kills them.
 * The script is constant; only numbers we checked are written to it.
 */
export class OrphanGuard {
  private readonly child: ChildProcess;

  constructor() {
    const script = 'pids=; while read -r p; do pids="$pids $p"; done; for p in $pids; do kill -KILL -- "-$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done';
    this.child = spawn('/bin/sh', ['-c', script], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    this.child.on('error', () => undefined);
    this.child.stdin!.on('error', () => undefined);
    this.child.unref();
    (this.child.stdin as unknown as { unref?: () => void }).unref?.();
  }

  /** Kill pid's group and pid itself if this process dies first. */
  add(pid: number | undefined): void {
    if (pid && Number.isInteger(pid) && pid > 1) this.child.stdin!.write(`${pid}\n`);
  }

  /** Normal shutdown: the caller has ended the processes itself; stop watching without killing. */
  release(): void {
    try {
      this.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}
