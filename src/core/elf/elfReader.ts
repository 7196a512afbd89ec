// Opens an ELF file for indexing without reading all of it: headers, notes and symbols are read on
// demand into a buffer of the file's size, and large debug sections are read straight into their
// destination (the .wasm's memory). Fresh memory is expensive to touch, so a 100 MB library must not
// be copied twice to index its 20 MB of DWARF.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { ElfError, ElfFile, ElfSection } from './elfFile';

/** Below this size (default) the whole file is read at once. */
export const SPARSE_FROM = 1 << 20;

export class ElfReader {
  readonly elf: ElfFile;
  private fd: number | undefined;
  private readonly loaded = new Set<string>();
  private readonly data: Uint8Array;
  private readonly sparse: boolean;
  /** The file as first opened: a later read (after close) must find the same file. */
  private readonly identity: string;

  /** Throws the fs error (ENOENT, EACCES, EISDIR) or an ElfError. */
  constructor(readonly path: string, sparseFrom = SPARSE_FROM) {
    this.fd = openSync(path, 'r');
    try {
      const st = fstatSync(this.fd);
      const size = st.size;
      this.identity = identityOf(st);
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
    this.read(this.data.subarray(offset, offset + length), offset);
    this.loaded.add(key);
  }

  /** Reads `target.length` bytes at `position`, reopening the file (it must be unchanged) once closed. */
  private read(target: Uint8Array, position: number): void {
    const fd = this.fd ?? this.reopen();
    try {
      readFully(fd, target, position);
    } finally {
      if (fd !== this.fd) closeSync(fd);
    }
  }

  private reopen(): number {
    const fd = openSync(this.path, 'r');
    if (identityOf(fstatSync(fd)) !== this.identity) {
      closeSync(fd);
      throw new ElfError(this.path, 'the file changed since it was indexed: open it again');
    }
    return fd;
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
      readInto: (target, offset = 0) => {
        if (offset < 0 || offset + target.length > plain.size) throw new RangeError(`read of ${target.length} bytes at ${offset} outside ${s.name}`);
        this.read(target, plain.offset + offset);
      },
    };
  }

  /** Closes the file; later on-demand reads (symbols) reopen it briefly. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * Bytes that are copied into their destination by the consumer: `readInto` fills `target` from
 * `offset` (default 0) of the section. After the reader was closed it reopens the file, and throws an
 * ElfError if the file is no longer the one that was opened (size, mtime, inode).
 */
export interface SectionSource {
  length: number;
  readInto(target: Uint8Array, offset?: number): void;
}

function identityOf(st: { dev: number; ino: number; size: number; mtimeMs: number }): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
}

function readFully(fd: number, target: Uint8Array, position: number): void {
  let done = 0;
  while (done < target.length) {
    const n = readSync(fd, target, done, target.length - done, position + done);
    if (n <= 0) throw new Error(`unexpected end of file at ${position + done}`);
    done += n;
  }
}
