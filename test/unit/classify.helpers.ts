// Synthetic taint logs and DWARF indexes for the classification tests.
import type { AddressInfo, ModuleIndex } from '../../src/core/dwarf/types';
import type { LogLabel, TaintLog } from '../../src/core/taintLog/types';

export interface FakeLine {
  file: string;
  line: number;
  function: string;
  /** Inlined into: the caller's function, file and line. */
  inlinedInto?: { function: string; file: string; line: number };
}

/** A ModuleIndex over a fixed offset -> source table. */
export function fakeIndex(path: string, buildId: string, table: Record<number, FakeLine>): ModuleIndex {
  return {
    path,
    buildId,
    lookup(offset: number): AddressInfo | undefined {
      const l = table[offset];
      if (!l) return undefined;
      const frames = [{ function: l.function, file: l.file, line: l.line, column: 1 }];
      if (l.inlinedInto) frames.push({ ...l.inlinedInto, column: 1 });
      return { offset, file: l.file, line: l.line, column: 1, function: frames[frames.length - 1].function, frames };
    },
    rangesForLine: () => [],
    files: () => [...new Set(Object.values(table).map((l) => l.file))],
  };
}

export function makeLog(partial: Partial<TaintLog> & { source: string }): TaintLog {
  return {
    version: 1,
    tool: { name: 'planegrind', version: '0.1.0', policy: 'insensitive' },
    process: { pid: 100, ppid: 1, exe: '/bin/app', args: ['/bin/app'], startMs: 0 },
    userData: ['data/*'],
    modules: [],
    labels: new Map<number, LogLabel>(),
    instructions: [],
    sites: [],
    io: [],
    warnings: [],
    icount: 1000,
    end: { reason: 'exit', code: 0 },
    ...partial,
  };
}

export function labels(...list: LogLabel[]): Map<number, LogLabel> {
  return new Map(list.map((l) => [l.id, l]));
}
