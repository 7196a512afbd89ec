// Formats address lookups exactly as binutils `addr2line -f -i -e BIN` prints them.
import { DwarfModuleIndex } from './moduleIndex';
import { NONE, ROW_UNSET_FILE5 } from './wasmResult';

/** Parses an address as addr2line does: hexadecimal, with or without 0x. */
export function parseAddress(text: string): number | undefined {
  const t = text.trim().replace(/^0[xX]/, '');
  if (!/^[0-9a-fA-F]+$/.test(t)) return undefined;
  // Up to 13 hex digits (52 bits) parseInt is exact; BigInt only for longer ones.
  if (t.length <= 13) return parseInt(t, 16);
  const v = BigInt(`0x${t}`);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(v);
}

/** The lines addr2line -f -i prints for one address: function, file:line, then each inliner. */
export function addr2lineLines(index: DwarfModuleIndex, offset: number): string[] {
  const info = index.lookup(offset);
  if (!info) {
    // Outside every line sequence binutils falls back to the symbol table: name, STT_FILE, no line.
    const sym = index.symbolAt(offset);
    return sym ? [sym.name, `${sym.file ?? '??'}:?`] : ['??', '??:0'];
  }
  const out: string[] = [];
  const row = index.rowAt(offset);
  // binutils quirks kept for identical output: the row's discriminator is repeated on every inline
  // frame, and in DWARF 5 a sequence that never set its file register is reported as file 0.
  const disc = index.rowDiscriminator(row);
  let file0 = info.file;
  if (index.rowFlags(row) & ROW_UNSET_FILE5) {
    const cu = index.cuOfRow(row);
    const id = cu >= 0 ? index.cuFile0(cu) : NONE;
    if (id !== NONE) file0 = index.filePath(id);
  }
  info.frames.forEach((frame, i) => {
    out.push(frame.function);
    const line = frame.line ? String(frame.line) : '?';
    out.push(`${i === 0 ? file0 : frame.file}:${line}${disc ? ` (discriminator ${disc})` : ''}`);
  });
  return out;
}
