// `planescope dwarf`: the DWARF/ELF layer from the command line, in the formats of the binutils tools
// it replaces (objdump --dwarf=decodedline, addr2line -f -i), so that the two can be diffed.
import { writeSync } from 'node:fs';
import { addr2lineLines, parseAddress } from '../../core/dwarf/addr2line';
import { writeObjdumpDecodedLine } from '../../core/dwarf/decodedLine';
import { DwarfError, DwarfModuleIndex, openModuleIndex } from '../../core/dwarf/moduleIndex';
import { preferBaselineWasm } from '../../core/dwarfWasm';
import { ROW_END_SEQUENCE, ROW_STMT } from '../../core/dwarf/wasmResult';
import { Command, UserError } from '../command';
import { optionValue, parseArgs } from '../args';

const HELP = `Usage: planescope dwarf lines BIN [--json] [--debug-file FILE]
       planescope dwarf addr2line BIN [ADDR...] [--debug-file FILE]
       planescope dwarf info BIN [--json] [--debug-file FILE]

lines      every line-table row of BIN, as \`objdump --dwarf=decodedline BIN\` lists them
           (--json: one object per row with the absolute file path, line, column, is_stmt)
addr2line  function, file:line and the inline chain of each link-time address (hex, 0x optional),
           as \`addr2line -f -i -e BIN\` prints them; addresses are read from stdin when none are given
info       build-id, where the DWARF came from, and the counts of units, rows and files

BIN may be a stripped executable or shared library whose debug file is found by build-id under
/usr/lib/debug/.build-id/ or through .gnu_debuglink; --debug-file names it explicitly.`;

function open(bin: string, debugFile: string | undefined): DwarfModuleIndex {
  try {
    return openModuleIndex(bin, { debugFile });
  } catch (e) {
    if (e instanceof DwarfError) throw new UserError(e.message);
    throw e;
  }
}

function writeOut(chunk: string): void {
  if (chunk) process.stdout.write(chunk);
}

function lines(index: DwarfModuleIndex, bin: string, json: boolean): void {
  if (json) {
    writeOut(`{"path":${JSON.stringify(index.path)},"buildId":${JSON.stringify(index.buildId)},"rows":[`);
    const { rowData } = index.data;
    // Each file's JSON string once, not once per row.
    const fileJson: string[] = [];
    let buf = '';
    for (let i = 0; i < index.rowCount; i++) {
      const f = index.rowFlags(i);
      const id = rowData[i * 3];
      const file = (fileJson[id] ??= JSON.stringify(index.filePath(id)));
      buf += `${i ? ',' : ''}\n{"address":${index.rowAddress(i)},"file":${file},"line":${rowData[i * 3 + 1]},"column":${index.rowColumn(i)},"isStmt":${(f & ROW_STMT) !== 0},"endSequence":${(f & ROW_END_SEQUENCE) !== 0}}`;
      if (buf.length > 1 << 16) {
        writeOut(buf);
        buf = '';
      }
    }
    writeOut(`${buf}\n]}\n`);
    return;
  }
  writeObjdumpDecodedLine(index, bin, stdoutChunkWriter());
}

/**
 * Writes chunks that live in wasm memory (the next chunk overwrites them): straight to fd 1 while
 * it accepts them whole, which is the case for files, /dev/null and blocking pipes; once it would
 * block (EAGAIN) the rest goes through process.stdout as copies, in order. A closed pipe (EPIPE,
 * e.g. `| head`) ends the output quietly.
 */
function stdoutChunkWriter(): (chunk: Uint8Array) => void {
  let streaming = false;
  let closed = false;
  return (chunk) => {
    if (closed) return;
    if (!streaming) {
      let done = 0;
      try {
        while (done < chunk.length) done += writeSync(1, chunk, done, chunk.length - done);
        return;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EPIPE') {
          closed = true;
          return;
        }
        if (code !== 'EAGAIN') throw e;
        streaming = true;
        chunk = chunk.subarray(done);
      }
    }
    process.stdout.write(Buffer.from(chunk));
  };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export const dwarfCommand: Command = {
  name: 'dwarf',
  summary: 'line tables and address lookups of a binary (objdump/addr2line compatible)',
  help: HELP,
  async run(args) {
    const parsed = parseArgs(args, { flags: ['json'], values: ['debug-file'] }, 'dwarf');
    if (parsed.flags.has('help')) {
      console.log(HELP);
      return 0;
    }
    const [verb, bin, ...rest] = parsed.positional;
    if (!verb || !['lines', 'addr2line', 'info'].includes(verb)) throw new UserError(`dwarf: expected lines, addr2line or info (see \`planescope help dwarf\`)`, 2);
    if (!bin) throw new UserError(`dwarf ${verb}: missing BIN, the executable or shared library to read`, 2);
    const debugFile = optionValue(parsed, 'debug-file');
    if (verb !== 'addr2line' && rest.length) throw new UserError(`dwarf ${verb}: unexpected argument ${rest[0]}`, 2);
    // One index per process: baseline-compiled wasm finishes sooner than waiting for the optimiser.
    if (process.env.PLANESCOPE_WASM_TIERING !== 'optimize') preferBaselineWasm();
    const index = open(bin, debugFile);
    const warned = index.warning;
    if (warned) process.stderr.write(`planescope: warning: ${index.debugPath}: some compilation units were skipped: ${warned}\n`);
    if (verb === 'lines') {
      lines(index, bin, parsed.flags.has('json'));
    } else if (verb === 'info') {
      const info = { path: index.path, buildId: index.buildId, debugFile: index.debugPath, units: index.cuCount, rows: index.rowCount, files: index.files().length };
      if (parsed.flags.has('json')) console.log(JSON.stringify(info, null, 2));
      else for (const [k, v] of Object.entries(info)) console.log(`${k.padEnd(10)} ${v}`);
    } else {
      const inputs = rest.length ? rest : (await readStdin()).split(/\s+/).filter(Boolean);
      let buf = '';
      for (const text of inputs) {
        const addr = parseAddress(text);
        buf += `${(addr === undefined ? ['??', '??:0'] : addr2lineLines(index, addr)).join('\n')}\n`;
        if (buf.length > 1 << 16) {
          writeOut(buf);
          buf = '';
        }
      }
      writeOut(buf);
      // The passes lookups ran (address map, functions) can add problems of their own.
      if (index.warning && index.warning !== warned) process.stderr.write(`planescope: warning: ${index.debugPath}: ${index.warning}\n`);
    }
    return 0;
  },
};
