// Reads the GNU build-id note of an ELF file (64-bit little-endian, the only kind planegrind runs), so
// a binary can be matched against the recording it is supposed to replay.
import { readFileSync } from 'node:fs';

const NT_GNU_BUILD_ID = 3;

/** The build-id in lowercase hex, '' when the file has none; throws when it is not a 64-bit ELF. */
export function readBuildId(path: string): string {
  const elf = readFileSync(path);
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${path} is not an ELF file`);
  if (elf[4] !== 2 || elf[5] !== 1) throw new Error(`${path} is not a 64-bit little-endian ELF file`);
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (elf.readUInt32LE(ph) !== 4 /* PT_NOTE */) continue;
    const start = Number(elf.readBigUInt64LE(ph + 8));
    const end = start + Number(elf.readBigUInt64LE(ph + 32));
    for (let at = start; at + 12 <= end; ) {
      const namesz = elf.readUInt32LE(at);
      const descsz = elf.readUInt32LE(at + 4);
      const type = elf.readUInt32LE(at + 8);
      const name = elf.toString('latin1', at + 12, at + 12 + namesz).replace(/\0+$/, '');
      const desc = at + 12 + align4(namesz);
      if (type === NT_GNU_BUILD_ID && name === 'GNU') return elf.toString('hex', desc, desc + descsz);
      at = desc + align4(descsz);
    }
  }
  return '';
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
