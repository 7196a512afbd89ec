// Opens an ELF file for indexing without reading all of it: headers, notes and symbols are read on
// demand into a buffer of the file's size, and large debug sections are read straight into their
// destination (the .wasm's memory). Fresh memory is expensive to touch, so a 100 MB library must not
// be copied twice to index its 20 MB of DWARF.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { ElfFile, ElfSection } from './elfFile';

/** Below this size (default) the whole file is read at once. */
export const SPARSE_FROM = 1 << 20;

export class ElfReader {
  readonly elf: ElfFile;
  private fd: number | undefined;
  private readonly loaded = new Set<string>();
  private readonly data: Uint8Array;
  private readonly sparse: boolean;

  /** Throws the fs error (ENOENT, EACCES, EISDIR) or an ElfError. */
  constructor(readonly path: string, sparseFrom = SPARSE_FROM) {
    this.fd = openSync(path, 'r');
    try {
      const size = fstatSync(this.fd).size;
      this.sparse = size >= sparseFrom;
      if (!this.sparse) {
        this.data = readFileSync(this.fd);
        this.elf = new ElfFile(path, this.data);
      } else {
        // allocUnsafeSlow: untouched pages of a large allocation cost nothing until written.
        this.data = Buffer.allocUnsafeSlow(size);
        this.elf = new ElfFile(path, this.data, (offset, length) => this.load(offset, length));
      }
    } catch (e) {
      this.close();
      throw e;
    }
  }

  private load(offset: number, length: number): void {
    const key = `${offset}:${length}`;
    if (this.loaded.has(key)) return;
    const reopened = this.fd === undefined;
    const fd = this.fd ?? openSync(this.path, 'r');
    try {
      readFully(fd, this.data.subarray(offset, offset + length), offset);
    } finally {
      if (reopened) closeSync(fd);
    }
    this.loaded.add(key);
  }

  /**
   * A section's bytes as a source for the .wasm: read from the file straight into the target when
   * stored plainly, else decompressed (or taken from the buffer of a small file).
   */
  source(s: ElfSection): Uint8Array | SectionSource {
    const plain = this.sparse ? this.elf.plainRange(s) : undefined;
    if (!plain) return this.elf.contents(s);
    return {
      length: plain.size,
      readInto: (target) => {
        const fd = this.fd ?? openSync(this.path, 'r');
        try {
          readFully(fd, target, plain.offset);
        } finally {
          if (fd !== this.fd) closeSync(fd);
        }
      },
    };
  }

  /** Closes the file; later on-demand reads (symbols) reopen it briefly. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Bytes that are copied into their destination by the consumer. */
export interface SectionSource {
  length: number;
  readInto(target: Uint8Array): void;
}

function readFully(fd: number, target: Uint8Array, position: number): void {
  let done = 0;
  while (done < target.length) {
    const n = readSync(fd, target, done, target.length - done, position + done);
    if (n <= 0) throw new Error(`unexpected end of file at ${position + done}`);
    done += n;
  }
}
