// Log sizes of a recording directory, by data mode: what `planescope report` can show next to the
// classification (the paper's data-rate claim measured on the user's own program). Reads only the
// record headers of each log (and the aux of by-reference message records).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readRecordingLog, RecordingError } from './log';

export interface ProcessLogSize {
  process: string;
  exe: string;
  dataMode: 'value' | 'reference';
  logBytes: number;
  records: number;
  /** User-data file bytes stored in the log (by value) or stood for by (path, offset, length, hash) records. */
  userDataBytesByValue: number;
  userDataBytesByReference: number;
  /** Received message payload bytes stood for by (sender, message id, offset, length, hash) records. */
  messageBytesByReference: number;
}

export interface ModeLogSize {
  dataMode: 'value' | 'reference';
  processes: number;
  logBytes: number;
  userDataBytesByValue: number;
  userDataBytesByReference: number;
  messageBytesByReference: number;
}

export interface RecordingSizes {
  dir: string;
  processes: ProcessLogSize[];
  /** One entry per data mode present in the directory. */
  byMode: ModeLogSize[];
  /** Logs that could not be read (not a recording, no header), with the reason. */
  unreadable: { log: string; reason: string }[];
}

/** Summarises every *.rec in dir. */
export function recordingSizes(dir: string): RecordingSizes {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new RecordingError(`${dir} is not a recording directory`);
  const processes: ProcessLogSize[] = [];
  const unreadable: RecordingSizes['unreadable'] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.rec')).sort()) {
    try {
      const s = readRecordingLog(join(dir, f));
      processes.push({
        process: s.header.process, exe: s.header.exe, dataMode: s.header.data, logBytes: s.logBytes, records: s.records,
        userDataBytesByValue: s.userDataBytesByValue, userDataBytesByReference: s.userDataBytesByReference, messageBytesByReference: s.messageBytesByReference,
      });
    } catch (e) {
      if (!(e instanceof RecordingError)) throw e;
      unreadable.push({ log: f, reason: e.message });
    }
  }
  const byMode: ModeLogSize[] = [];
  for (const mode of ['value', 'reference'] as const) {
    const ps = processes.filter((p) => p.dataMode === mode);
    if (!ps.length) continue;
    const sum = (k: keyof ProcessLogSize) => ps.reduce((n, p) => n + (p[k] as number), 0);
    byMode.push({
      dataMode: mode, processes: ps.length, logBytes: sum('logBytes'), userDataBytesByValue: sum('userDataBytesByValue'),
      userDataBytesByReference: sum('userDataBytesByReference'), messageBytesByReference: sum('messageBytesByReference'),
    });
  }
  return { dir, processes, byMode, unreadable };
}
