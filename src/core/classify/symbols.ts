// Function names from an ELF symbol table (.symtab, or .dynsym when stripped) for modules without debug
// info: their lines stay unavailable, but Figure 2 and the site list can still name functions.
import { readFileSync } from 'node:fs';
import { ElfFile } from '../elf/elfFile';

export interface SymbolTable {
  buildId: string;
  functionAt(offset: number): string | undefined;
}

export function openSymbolTable(path: string): SymbolTable | undefined {
  let elf: ElfFile;
  try {
    elf = new ElfFile(path, readFileSync(path));
  } catch {
    return undefined;
  }
  const symbols = elf.codeSymbols().filter((s) => s.size > 0).sort((a, b) => a.value - b.value);
  if (symbols.length === 0) return undefined;
  const starts = Float64Array.from(symbols, (s) => s.value);
  let buildId = '';
  try {
    buildId = elf.buildId() ?? '';
  } catch {
    // no readable note: the caller compares build-ids only when both are known
  }
  return {
    buildId,
    functionAt(offset: number): string | undefined {
      let lo = 0;
      let hi = starts.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (starts[mid] <= offset) lo = mid + 1;
        else hi = mid;
      }
      const s = symbols[lo - 1];
      return s && offset < s.value + s.size ? s.name : undefined;
    },
  };
}
