// Renders the line rows the way `objdump --dwarf=decodedline` lists them (same columns, views, file
// headers), so that the two can be compared line by line. The rows themselves are rendered in wasm.
import { DwarfModuleIndex } from './moduleIndex';

/** BFD target names objdump prints, by ELF machine: [ELFCLASS32, ELFCLASS64]. */
const FORMATS: Record<number, [string, string]> = {
  3: ['elf32-i386', 'elf32-i386'],
  40: ['elf32-littlearm', 'elf32-littlearm'],
  62: ['elf32-x86-64', 'elf64-x86-64'],
  183: ['elf32-littleaarch64', 'elf64-littleaarch64'],
  243: ['elf32-littleriscv', 'elf64-littleriscv'],
  258: ['elf32-loongarch', 'elf64-loongarch'],
};

/**
 * The whole `objdump --dwarf=decodedline BIN` output, `bin` spelled as the user gave it. Chunks are
 * UTF-8 bytes valid only during the call to `write` (copy them to keep them).
 */
export function writeObjdumpDecodedLine(index: DwarfModuleIndex, bin: string, write: (chunk: Uint8Array) => void, chunkBytes?: number): void {
  const format = FORMATS[index.machine]?.[index.is64 ? 1 : 0] ?? `elf-${index.machine}`;
  write(Buffer.from(`\n${bin}:     file format ${format}\n\nContents of the ${index.lineSection} section:\n\n`));
  writeDecodedLines(index, write, chunkBytes);
}

/** The text for every compilation unit, rendered by the .wasm (wasm/src/text.rs) in chunks of about `chunkBytes` (default 1 MiB). */
export function writeDecodedLines(index: DwarfModuleIndex, write: (chunk: Uint8Array) => void, chunkBytes?: number): void {
  index.writeDecodedLineText(write, chunkBytes);
}
