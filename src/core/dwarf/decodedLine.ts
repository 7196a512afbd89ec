// Renders the line rows the way `objdump --dwarf=decodedline` lists them (same columns, views, file
// headers), so that the two can be compared line by line.
import { DwarfModuleIndex } from './moduleIndex';
import { ROW_END_SEQUENCE, ROW_STMT } from './wasmResult';

/** BFD target names objdump prints, by ELF machine: [ELFCLASS32, ELFCLASS64]. */
const FORMATS: Record<number, [string, string]> = {
  3: ['elf32-i386', 'elf32-i386'],
  40: ['elf32-littlearm', 'elf32-littlearm'],
  62: ['elf32-x86-64', 'elf64-x86-64'],
  183: ['elf32-littleaarch64', 'elf64-littleaarch64'],
  243: ['elf32-littleriscv', 'elf64-littleriscv'],
  258: ['elf32-loongarch', 'elf64-loongarch'],
};

/** The whole `objdump --dwarf=decodedline BIN` output, `bin` spelled as the user gave it. */
export function writeObjdumpDecodedLine(index: DwarfModuleIndex, bin: string, write: (chunk: string) => void): void {
  const format = FORMATS[index.machine]?.[index.is64 ? 1 : 0] ?? `elf-${index.machine}`;
  write(`\n${bin}:     file format ${format}\n\nContents of the ${index.lineSection} section:\n\n`);
  writeDecodedLines(index, write);
}

const HEADER = 'File name                            Line number    Starting address    View    Stmt';

/** The text for every compilation unit, written through `write` in chunks. */
export function writeDecodedLines(index: DwarfModuleIndex, write: (chunk: string) => void): void {
  const { rowAddr, rowData } = index.data;
  const n = index.cuCount;
  let buf = '';
  for (let c = 0; c < n; c++) {
    const cu = index.cu(c);
    const end = c + 1 < n ? index.cu(c + 1).firstRow : index.rowCount;
    buf += `${cu.header}:\n${HEADER}\n`;
    let current = cu.defaultFile;
    let view = 0;
    let prev = -1;
    for (let i = cu.firstRow; i < end; i++) {
      const file = rowData[i * 5];
      const flags = rowData[i * 5 + 3];
      const addr = rowAddr[i];
      if (file !== current) {
        buf += `\n${index.fileSwitchHeader(file)}\n`;
        current = file;
      }
      view = addr === prev ? view + 1 : 0;
      prev = addr;
      const name = index.fileTableName(file).padEnd(35);
      const hex = `0x${addr.toString(16)}`.padStart(18);
      if (flags & ROW_END_SEQUENCE) {
        buf += `${name}  ${'-'.padStart(11)}  ${hex}\n\n`;
        current = cu.defaultFile;
        prev = -1;
      } else {
        buf += `${name}  ${String(rowData[i * 5 + 1]).padStart(11)}  ${hex}${view ? String(view).padStart(8) : '        '}${flags & ROW_STMT ? '       x' : ''}\n`;
      }
      if (buf.length > 1 << 16) {
        write(buf);
        buf = '';
      }
    }
    buf += '\n';
  }
  write(buf);
}
