// The per-sender message files a replay writes (native/librecord/lr_rr_taint.c): <identity>.msgtaint
// (the taint of every message a sender's replay under planegrind sends) and <identity>.payload (the
// bytes of its messages of at least 4 KiB, for receivers recorded with payloads by reference). Keyed
// by the identity the sender had on the recorded wire, "exe:pid@host".
import { appendFileSync, closeSync, existsSync, openSync, readSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { LogSummary } from './log';

export const MESSAGE_FILE_MAGIC = 'PSMT0001';
const ENTRY_BYTES = 24;
const KIND_END = 2;

/** The identity a process had on the wire when it was recorded: "exe:pid@host" (lr_main.c). */
export function recordedIdentity(summary: LogSummary): string {
  const h = summary.header;
  return `${basename(h.exe.slice(0, 127))}:${h.pid}@${(h.host || hostname()).slice(0, 63)}`;
}

function fileName(identity: string, suffix: string): string {
  return `${identity.replace(/\//g, '_')}${suffix}`;
}

export function messageTaintFile(dir: string, identity: string): string {
  return join(dir, fileName(identity, '.msgtaint'));
}

export function payloadFile(dir: string, identity: string): string {
  return join(dir, fileName(identity, '.payload'));
}

/** Marks a sender's file complete (creating it when the sender sent nothing), so no receiver waits
 *  for messages that will never come. */
export function closeMessageFile(path: string): void {
  const end = Buffer.alloc(ENTRY_BYTES);
  end.writeUInt32LE(KIND_END, 4);
  let head = '';
  if (existsSync(path)) {
    const fd = openSync(path, 'r');
    const b = Buffer.alloc(8);
    head = b.subarray(0, readSync(fd, b, 0, 8, 0)).toString('latin1');
    closeSync(fd);
  }
  if (head !== MESSAGE_FILE_MAGIC) writeFileSync(path, Buffer.concat([Buffer.from(MESSAGE_FILE_MAGIC, 'latin1'), end]));
  else appendFileSync(path, end);
}
