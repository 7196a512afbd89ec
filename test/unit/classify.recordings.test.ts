// Log size per recording mode: classify given recording directories (manifest*.json + librecord *.rec logs
// written here in the documented format, docs/recording.md) stores each recorded process's log size, mode
// and user-data bytes; the report shows them per component in text, JSON and HTML.
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classifyCommand } from '../../src/cli/commands/classify';
import { classifyLogs } from '../../src/core/classify/classify';
import { findRecordings } from '../../src/core/classify/recordings';
import { openPlanesDatabaseBytes } from '../../src/core/db/reader';
import { RECORD_KINDS } from '../../src/core/recording/log';
import { buildReportHtml, computeReport, formatReportText } from '../../src/core/report/index';
import { fakeIndex, makeLog } from './classify.helpers';

const dir = mkdtempSync(join(tmpdir(), 'ps-recordings-'));
const server = '/srv/bin/chunkserver';
const client = '/srv/bin/client';

/** One librecord record: the 40-byte header, aux, data. */
function record(kind: string, ret: number, aux: Buffer, data: Buffer): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32LE(40 + aux.length + data.length, 0);
  h.writeUInt16LE(RECORD_KINDS.indexOf(kind as (typeof RECORD_KINDS)[number]), 4);
  h.writeBigInt64LE(BigInt(ret), 16);
  h.writeUInt32LE(aux.length, 32);
  return Buffer.concat([h, aux, data]);
}

/** A recording log of `exe` (pid) in mode `data`: a header, `reads` user-data reads of `size` bytes, an end record. */
function recLog(exe: string, pid: number, data: 'value' | 'reference', reads: number, size: number, ended = true): Buffer {
  const aux = Buffer.from(`name=${exe.split('/').pop()}\npid=${pid}\nppid=1\nexe=${exe}\nbuild_id=ab12\ncwd=/\ndata=${data}\n`);
  const cmd = Buffer.from(`${exe}\0`);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(cmd.length);
  const parts = [Buffer.from('PSRR0001', 'latin1'), record('header', 0, aux, Buffer.concat([len, cmd, Buffer.from('HOME=/\0')]))];
  for (let i = 0; i < reads; i++) {
    parts.push(data === 'value'
      ? record('read(user data)', size, Buffer.alloc(0), Buffer.alloc(size, 7))
      : record('read(user data, by reference)', size, Buffer.alloc(16), Buffer.alloc(0)));
    parts.push(record('clock_gettime', 0, Buffer.alloc(0), Buffer.alloc(16)));
  }
  if (ended) parts.push(record('end', 0, Buffer.alloc(0), Buffer.alloc(0)));
  return Buffer.concat(parts);
}

function recordingDir(name: string, mode: 'value' | 'reference'): string {
  const d = join(dir, name);
  mkdirSync(join(d, 'analysis'), { recursive: true });
  writeFileSync(join(d, 'manifest.json'), JSON.stringify({ version: 1, recordData: mode, processes: [] }));
  writeFileSync(join(d, 'client.200.rec'), recLog(client, 200, mode, 4, 4096));
  writeFileSync(join(d, 'chunkserver.300.rec'), recLog(server, 300, mode, 0, 0, false));
  writeFileSync(join(d, 'junk.rec'), 'not a recording');
  return d;
}

describe('classify: log size per recording mode', () => {
  const byValue = recordingDir('put-value', 'value');
  const byReference = recordingDir('put-reference', 'reference');
  // A directory without a manifest is not a recording directory.
  mkdirSync(join(dir, 'stray'), { recursive: true });
  writeFileSync(join(dir, 'stray', 'client.9.rec'), recLog(client, 9, 'value', 1, 10));

  it('finds the recorded processes of recording directories only, and warns about unreadable logs', () => {
    const warnings: string[] = [];
    const found = findRecordings([dir], (w) => warnings.push(w));
    assert.deepEqual(found.map((r) => [r.process, r.mode, r.records, r.userDataBytes, r.userDataLoggedBytes, r.messageBytesByReference]), [
      ['chunkserver.300', 'by-reference', 0, 0, 0, 0],
      ['client.200', 'by-reference', 9, 4 * 4096, 0, 0],
      ['chunkserver.300', 'by-value', 0, 0, 0, 0],
      ['client.200', 'by-value', 9, 4 * 4096, 4 * 4096, 0],
    ]);
    const valueClient = found.find((r) => r.mode === 'by-value' && r.process === 'client.200')!;
    const referenceClient = found.find((r) => r.mode === 'by-reference' && r.process === 'client.200')!;
    assert.ok(valueClient.logBytes > 4 * 4096 && referenceClient.logBytes < 1024, `${valueClient.logBytes} / ${referenceClient.logBytes}`);
    assert.equal(warnings.length, 2, warnings.join('\n'));
    assert.match(warnings[0], /junk\.rec left out of the log sizes: .*not a Planescope recording/);
  });

  it('stores them per component and the report shows each mode in text, JSON and HTML', async () => {
    const recordings = findRecordings([byValue, byReference]);
    const module = (id: number, path: string) => ({ id, buildId: `b${id}`, path, bias: 0 });
    const logs = [
      // replay --analyze names the taint log after the recording log: client.200.taintlog.
      makeLog({ source: join(byValue, 'analysis', 'client.200.taintlog'), process: { pid: 4001, ppid: 1, exe: client, args: [client], startMs: 0 },
        modules: [module(1, client)], instructions: [{ module: 1, offset: 0x10, executions: 5, taintedExecutions: 5 }],
        io: [{ kind: 'file', direction: 'in', taintedBytes: 16384, cleanBytes: 0 }] }),
      makeLog({ source: join(byValue, 'analysis', 'chunkserver.300.taintlog'), process: { pid: 4002, ppid: 1, exe: server, args: [server], startMs: 0 },
        modules: [module(2, server)], instructions: [{ module: 2, offset: 0x20, executions: 5, taintedExecutions: 0 }] }),
    ];
    const index = fakeIndex(client, 'b1', {});
    const result = await classifyLogs(logs.map((l) => l.source), { readLog: async (p) => logs.find((l) => l.source === p)!, openIndex: () => index }, { recordings, hashSources: false });
    const db = await openPlanesDatabaseBytes('r.planes.db', result.bytes);
    assert.deepEqual(db.recordings().map((r) => [r.component, r.mode, r.process]), [
      ['chunkserver', 'by-reference', 'chunkserver.300'], ['chunkserver', 'by-value', 'chunkserver.300'],
      ['client', 'by-reference', 'client.200'], ['client', 'by-value', 'client.200'],
    ]);
    const report = computeReport(db);
    db.close();
    const clientFigures = report.components.find((c) => c.name === 'client')!;
    assert.deepEqual(clientFigures.recording.map((m) => [m.mode, m.processes, m.userDataBytes, m.userDataLoggedBytes]), [
      ['by-value', 1, 16384, 16384], ['by-reference', 1, 16384, 0],
    ]);
    const [value, reference] = clientFigures.recording;
    assert.equal(value.logPercentOfDataIn, Math.round((1e4 * value.logBytes) / 16384) / 100);
    assert.ok(value.logPercentOfDataIn! > 100 && reference.logPercentOfDataIn! < 5, `${value.logPercentOfDataIn} ${reference.logPercentOfDataIn}`);
    assert.equal(report.components.find((c) => c.name === 'chunkserver')!.recording[0].logPercentOfDataIn, null, 'no data-plane input');
    const total = (mode: string) => report.recordings.byMode.find((m) => m.mode === mode)!.logBytes;
    assert.equal(report.recordings.referencePercentOfValue, Math.round((1e4 * total('by-reference')) / total('by-value')) / 100);
    assert.deepEqual(report.recordings.withoutComponent, []);

    const text = formatReportText(report);
    assert.match(text, /Recording by-value +log [\d.]+ KiB \(1 process, 9 records\) {3}user data read 16\.0 KiB, 16\.0 KiB of it in the log {3}log = [\d.]+% of the data-plane input/);
    assert.match(text, /Recording logs: by-value [\d.]+ KiB \(2 processes\), by-reference [\d.]+ B \(2 processes\); by-reference is [\d.]+% of by-value/);
    const html = buildReportHtml(report, { nonce: 'abc=' });
    assert.match(html, /<table id="recording-table">.*<td>client<\/td><td>by-reference<\/td><td>1<\/td>/s);
    assert.ok(JSON.parse(JSON.stringify(report)).components[0].recording.length === 2);
  });

  it('says how to get taint logs when a recording directory has none', async () => {
    await assert.rejects(classifyCommand.run([byValue, '--out', join(dir, 'none.planes.db')]),
      /no \*\.taintlog files in .*put-value \(2 recorded process\(es\) there: run `planescope replay DIR --analyze` first/);
  });

  it('names the recorded processes no taint log covers, and a database without recordings has none', async () => {
    const recordings = findRecordings([byValue]);
    const log = makeLog({ source: join(dir, 'other.taintlog'), modules: [{ id: 1, buildId: 'b9', path: '/bin/app', bias: 0 }],
      instructions: [{ module: 1, offset: 0x10, executions: 1, taintedExecutions: 0 }] });
    const withRec = await classifyLogs([log.source], { readLog: async () => log, openIndex: () => fakeIndex('/bin/app', 'b9', {}) }, { recordings, hashSources: false });
    const db = await openPlanesDatabaseBytes('o.planes.db', withRec.bytes);
    const report = computeReport(db);
    assert.deepEqual(report.recordings.withoutComponent, ['chunkserver.300', 'client.200']);
    assert.match(formatReportText(report), /recorded but not classified \(no taint log of their executable\): chunkserver\.300, client\.200/);
    // Databases built before the table existed (same schema version) read as having no recordings.
    db.sql.run('DROP TABLE recordings');
    assert.deepEqual(db.recordings(), []);
    assert.doesNotMatch(formatReportText(computeReport(db)), /Recording/);
    db.close();
  });
});
