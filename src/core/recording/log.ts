// Reads a librecord log (DIR/<name>.<pid>.rec): the header (exe, build-id, argv, cwd, environment,
// data mode) and a summary of its records (counts and bytes per call, threads, whether the process
// ended normally, a partial last record). Format: docs/recording.md; writer: native/librecord/lr_rr_log.c.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';

export const LOG_MAGIC = 'PSRR0001';
export const RECORD_HEADER_BYTES = 40;

/** Record kinds, in the order of enum lr_rr_kind (lr_rr.h); index = kind number. */
export const RECORD_KINDS = [
  '?', 'header', 'end',
  'read', 'readv', 'recv', 'recvfrom', 'recvmsg',
  'send', 'sendto', 'sendmsg', 'write', 'writev', 'sendfile',
  'socket', 'connect', 'accept', 'accept4', 'shutdown', 'bind', 'listen',
  'getsockname', 'getpeername', 'ioctl(FIONREAD)',
  'poll', 'ppoll', 'select', 'pselect', 'epoll_wait', 'epoll_pwait', 'epoll_pwait2',
  'clock_gettime', 'gettimeofday', 'time', 'getrandom', 'getpid', 'getppid',
  'pthread_mutex_lock', 'pthread_mutex_trylock', 'pthread_mutex_unlock', 'pthread_cond_wait',
  'pthread_cond_wait(return)', 'pthread_cond_signal', 'pthread_cond_broadcast', 'pthread_create',
  'read(user data)', 'read(user data, by reference)',
  'recvmsg(message by reference)', 'exec',
] as const;

const KIND_RECVMSG_REF = 47;

const KIND_END = 2;
const KIND_HEADER = 1;

export interface RecordingHeader {
  /** The log's process name: `<exe basename>.<pid>` (the file name without `.rec`). */
  process: string;
  name: string;
  pid: number;
  ppid: number;
  exe: string;
  buildId: string;
  cwd: string;
  data: 'value' | 'reference';
  /** The recording host's name (librecord's identity has it); '' in logs made before it was written. */
  host: string;
  /** The GNU build-id of the librecord.so that recorded; '' when unknown. */
  librecordBuildId: string;
  argv: string[];
  env: Record<string, string>;
}

export interface KindStats { count: number; bytes: number }

export interface LogSummary {
  path: string;
  header: RecordingHeader;
  /** Records after the header, complete ones only. */
  records: number;
  fileBytes: number;
  /** Bytes of records (the file without its unused tail). */
  logBytes: number;
  byKind: Map<string, KindStats>;
  threads: number[];
  /** An end record is present: the process exited normally while recording. */
  ended: boolean;
  /** Bytes of a partial last record (a log cut short); 0 when whole. */
  partialBytes: number;
  /** Zero bytes after the last record: the unused recording window of a process that did not exit normally. */
  unusedBytes: number;
  /** Bytes of user data stored by value, and the bytes the by-reference records stand for. */
  userDataBytesByValue: number;
  userDataBytesByReference: number;
  /** Received message payload bytes stood for by reference to their sender's recording. */
  messageBytesByReference: number;
  /** The identities ("exe:pid@host") of the senders whose recordings those references need. */
  referencedSenders: string[];
}

export class RecordingError extends Error {}

/** The user-data globs the process was recorded with (librecord's PLANESCOPE_RR_USER_DATA, one a line). */
export function recordedUserData(summary: LogSummary): string[] {
  return (summary.header.env.PLANESCOPE_RR_USER_DATA ?? '').split('\n').filter((p) => p.length > 0);
}

function parseHeader(path: string, aux: Buffer, data: Buffer): RecordingHeader {
  const kv = new Map<string, string>();
  for (const line of aux.toString('utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) kv.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const cmdLen = data.length >= 4 ? data.readUInt32LE(0) : 0;
  const argv = data.toString('utf8', 4, 4 + cmdLen).split('\0');
  if (argv.length && argv[argv.length - 1] === '') argv.pop();
  const env: Record<string, string> = {};
  for (const entry of data.toString('utf8', 4 + cmdLen).split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return {
    process: basename(path).replace(/\.rec$/, ''),
    name: kv.get('name') ?? '?',
    pid: Number(kv.get('pid') ?? 0),
    ppid: Number(kv.get('ppid') ?? 0),
    exe: kv.get('exe') ?? '',
    buildId: kv.get('build_id') ?? '',
    cwd: kv.get('cwd') ?? '',
    data: kv.get('data') === 'reference' ? 'reference' : 'value',
    host: kv.get('host') ?? '',
    librecordBuildId: kv.get('librecord') ?? '',
    argv,
    env,
  };
}

/** Reads the header and walks the record headers (not the data), in 1 MiB reads. */
export function readRecordingLog(path: string): LogSummary {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const chunk = Buffer.alloc(1 << 20);
    let chunkStart = 0, chunkLen = 0;
    const bytesAt = (offset: number, length: number): Buffer => {
      if (offset < chunkStart || offset + length > chunkStart + chunkLen) {
        const want = Math.max(length, chunk.length);
        const buf = want > chunk.length ? Buffer.alloc(want) : chunk;
        const n = readSync(fd, buf, 0, want, offset);
        if (buf !== chunk) return buf.subarray(0, Math.min(n, length));
        chunkStart = offset;
        chunkLen = n;
      }
      return chunk.subarray(offset - chunkStart, Math.min(offset - chunkStart + length, chunkLen));
    };
    const magic = bytesAt(0, 8).toString('latin1');
    if (magic !== LOG_MAGIC) throw new RecordingError(`${path} is not a Planescope recording (its first bytes are not ${LOG_MAGIC})`);
    let pos = 8;
    let header: RecordingHeader | undefined;
    const byKind = new Map<string, KindStats>();
    const threads = new Set<number>();
    let records = 0, ended = false, udValue = 0, udRef = 0, msgRef = 0;
    const senders = new Set<string>();
    while (pos + RECORD_HEADER_BYTES <= size) {
      const h = Buffer.from(bytesAt(pos, RECORD_HEADER_BYTES));
      if (h.length < RECORD_HEADER_BYTES) break; // the file shrank while we read it (a process trimming its log at exit)
      const len = h.readUInt32LE(0), kind = h.readUInt16LE(4), tid = h.readUInt16LE(6);
      const ret = Number(h.readBigInt64LE(16));
      const auxLen = h.readUInt32LE(32);
      if (len < RECORD_HEADER_BYTES || pos + len > size || auxLen > len - RECORD_HEADER_BYTES) break;
      if (!header) {
        if (kind !== KIND_HEADER) throw new RecordingError(`${path} does not start with a header record`);
        const body = Buffer.from(bytesAt(pos + RECORD_HEADER_BYTES, len - RECORD_HEADER_BYTES));
        if (body.length < len - RECORD_HEADER_BYTES) break;
        header = parseHeader(path, body.subarray(0, auxLen), body.subarray(auxLen));
      } else {
        const name = RECORD_KINDS[kind] ?? `kind ${kind}`;
        const stats = byKind.get(name) ?? { count: 0, bytes: 0 };
        stats.count++;
        stats.bytes += len;
        byKind.set(name, stats);
        threads.add(tid);
        records++;
        if (kind === KIND_END) ended = true;
        if (name === 'read(user data)') udValue += Math.max(0, ret);
        if (name === 'read(user data, by reference)') udRef += Math.max(0, ret);
        if (kind === KIND_RECVMSG_REF) {
          // aux: u32 namelen, flags, controllen; name; control; u32 msg id, u32 identity length, u64 offset, u64 length, u64 hash; identity
          const aux = Buffer.from(bytesAt(pos + RECORD_HEADER_BYTES, auxLen));
          if (aux.length >= 12) {
            const at = 12 + aux.readUInt32LE(0) + aux.readUInt32LE(8);
            if (aux.length >= at + 32) {
              msgRef += Number(aux.readBigUInt64LE(at + 16));
              senders.add(aux.toString('utf8', at + 32, at + 32 + aux.readUInt32LE(at + 4)));
            }
          }
        }
      }
      pos += len;
    }
    if (!header) throw new RecordingError(`${path} has no complete header record (${size} bytes)`);
    let zeroTail = true;
    for (let at = pos; at < size && zeroTail; at += chunk.length) {
      const part = bytesAt(at, Math.min(chunk.length, size - at));
      for (let i = 0; i < part.length; i++) if (part[i] !== 0) { zeroTail = false; break; }
    }
    return {
      path, header, records, fileBytes: size, logBytes: zeroTail ? pos : size, byKind, threads: [...threads].sort((a, b) => a - b), ended,
      partialBytes: zeroTail ? 0 : size - pos, unusedBytes: zeroTail ? size - pos : 0, userDataBytesByValue: udValue, userDataBytesByReference: udRef,
      messageBytesByReference: msgRef, referencedSenders: [...senders].sort(),
    };
  } finally {
    closeSync(fd);
  }
}

/** What a replay report file (`<log>.divergence` or `<log>.end`, written by the replaying process) says. */
export interface ReplayReport {
  status: 'divergence' | 'end';
  /** The recorded process exec'd here and its replay ended there, as recorded (a `<log>.exec` report, status 'end'). */
  exec?: boolean;
  process: string;
  thread: number;
  call: string;
  record: number;
  offset: number;
  reason: string;
  /** Call stack outside librecord: module, absolute pc, module load base. */
  frames: { module: string; pc: bigint; base: bigint }[];
}

export function parseReplayReport(text: string): ReplayReport {
  const kv = new Map<string, string>();
  const frames: ReplayReport['frames'] = [];
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq), value = line.slice(eq + 1);
    if (key === 'frame') {
      const [module, pc, base] = value.split('\t');
      if (module && pc && base) frames.push({ module, pc: BigInt('0x' + pc), base: BigInt('0x' + base) });
    } else kv.set(key, value);
  }
  return {
    status: kv.get('status') === 'end' || kv.get('status') === 'exec' ? 'end' : 'divergence',
    ...(kv.get('status') === 'exec' ? { exec: true } : {}),
    process: kv.get('process') ?? '?',
    thread: Number(kv.get('thread') ?? 0),
    call: kv.get('call') ?? '?',
    record: Number(kv.get('record') ?? 0),
    offset: Number(kv.get('offset') ?? 0),
    reason: kv.get('reason') ?? '',
    frames,
  };
}
