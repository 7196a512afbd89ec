// The GNU build-id of an ELF file (NT_GNU_BUILD_ID in a PT_NOTE segment): how a recording names the
// exact binary it was made from, so replay can refuse a different one.
import { closeSync, openSync, readSync } from 'node:fs';

function readAt(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const n = readSync(fd, buf, 0, length, offset);
  return buf.subarray(0, n);
}

/** Lower-case hex build-id, or undefined when the file is not a 64-bit little-endian ELF or has none. */
export function readBuildId(path: string): string | undefined {
  const fd = openSync(path, 'r');
  try {
    const eh = readAt(fd, 0, 64);
    if (eh.length < 64 || eh.readUInt32BE(0) !== 0x7f454c46 || eh[4] !== 2 || eh[5] !== 1) return undefined;
    const phoff = Number(eh.readBigUInt64LE(0x20));
    const phentsize = eh.readUInt16LE(0x36);
    const phnum = eh.readUInt16LE(0x38);
    const ph = readAt(fd, phoff, phentsize * phnum);
    for (let i = 0; i < phnum; i++) {
      const p = ph.subarray(i * phentsize, (i + 1) * phentsize);
      if (p.length < 0x28 || p.readUInt32LE(0) !== 4 /* PT_NOTE */) continue;
      const notes = readAt(fd, Number(p.readBigUInt64LE(8)), Number(p.readBigUInt64LE(0x20)));
      let at = 0;
      while (at + 12 <= notes.length) {
        const namesz = notes.readUInt32LE(at), descsz = notes.readUInt32LE(at + 4), type = notes.readUInt32LE(at + 8);
        const name = at + 12, desc = name + ((namesz + 3) & ~3);
        if (desc + descsz > notes.length) break;
        if (type === 3 && namesz === 4 && notes.toString('latin1', name, name + 3) === 'GNU') {
          return notes.subarray(desc, desc + descsz).toString('hex');
        }
        at = desc + ((descsz + 3) & ~3);
      }
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** 1 for ET_EXEC (absolute addresses), 0 for ET_DYN (addresses relative to the load base), undefined otherwise. */
export function isFixedAddressExecutable(path: string): boolean | undefined {
  const fd = openSync(path, 'r');
  try {
    const eh = readAt(fd, 0, 18);
    if (eh.length < 18 || eh.readUInt32BE(0) !== 0x7f454c46) return undefined;
    const type = eh.readUInt16LE(16);
    return type === 2 ? true : type === 3 ? false : undefined;
  } finally {
    closeSync(fd);
  }
}
