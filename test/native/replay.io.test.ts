// Figure 5 on replay (issue #6): a replayed read or send is no system call, so librecord reports it to
// planegrind (PLANEGRIND_ACCOUNT_IO, PLANEGRIND_ACCOUNT_COPY for sendfile). A program whose I/O is
// untagged (a unix socket pair and a pipe: librecord puts no tag bytes on them) moves exactly the same
// bytes online and on replay, so its taint log's io records must be equal per kind x direction x
// tainted/clean: the replayed socket reads, sends and sendfile, the replayed pipe read next to the real
// pipe write (counted once, by planegrind), and a MSG_PEEK that is not counted at all.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/core/assets';
import { readTaintLog } from '../../src/core/taintLog/reader';

const CLI = join(packageRoot(), 'src', 'cli', 'main.ts');

const PROGRAM = String.raw`
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>
/* argv[1]: a user-data file of at least 5000 bytes */
int main(int argc, char **argv)
{
   int sv[2], pp[2];
   if (argc < 2 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || pipe(pp)) return 2;
   int f = open(argv[1], O_RDONLY);
   static char buf[8192];
   if (f < 0 || read(f, buf, 1000) != 1000) return 3;
   if (send(sv[0], buf, 1000, 0) != 1000) return 4;           /* 1000 tainted bytes out */
   if (send(sv[0], "header", 6, 0) != 6) return 5;            /* 6 clean bytes out */
   if (sendfile(sv[0], f, NULL, 4000) != 4000) return 6;      /* a kernel copy of 4000 user-data bytes */
   size_t got = 0;
   if (recv(sv[1], buf, 100, MSG_PEEK) <= 0) return 7;        /* a peek: not input */
   while (got < 5006) {
      ssize_t r = recv(sv[1], buf, sizeof buf, 0);
      if (r <= 0) return 8;
      got += (size_t)r;
   }
   if (write(pp[1], "ping", 4) != 4) return 9;                /* a pipe write: real on replay too */
   if (read(pp[0], buf, 4) != 4) return 10;                   /* a pipe read: replayed */
   printf("moved %zu bytes\n", got);
   return 0;
}
`;

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: packageRoot(), encoding: 'utf8', maxBuffer: 1 << 26 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The io records of the one taint log in dir, summed: `kind dir` -> [tainted, clean]. */
async function ioIn(dir: string): Promise<Map<string, [number, number]>> {
  const logs = readdirSync(dir).filter((f) => f.endsWith('.taintlog'));
  assert.equal(logs.length, 1, readdirSync(dir).join(' '));
  const log = await readTaintLog(join(dir, logs[0]));
  const out = new Map<string, [number, number]>();
  for (const io of log.io) {
    const e = out.get(`${io.kind} ${io.direction}`) ?? [0, 0];
    out.set(`${io.kind} ${io.direction}`, [e[0] + io.taintedBytes, e[1] + io.cleanBytes]);
  }
  return out;
}

describe('replay --analyze: I/O accounting of replayed calls', function () {
  this.timeout(600000);
  let work: string;
  after(() => rmSync(work, { recursive: true, force: true }));

  it('counts the same bytes per kind, direction and taint as online analysis', async () => {
    work = mkdtempSync(join(tmpdir(), 'planescope-replay-io-'));
    const src = join(work, 'io.c'), bin = join(work, 'io');
    writeFileSync(src, PROGRAM);
    const cc = spawnSync('cc', ['-g', '-O0', '-Wl,--build-id', '-o', bin, src], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    mkdirSync(join(work, 'data'));
    const input = join(work, 'data', 'in.bin');
    writeFileSync(input, Buffer.alloc(6000, 0x5a));
    const glob = join(work, 'data', '*');

    const online = join(work, 'online');
    const on = cli(['run', '--mode', 'online', '--trace', online, '--user-data', glob, '--', bin, input]);
    assert.equal(on.status, 0, on.stderr);
    const rec = join(work, 'rec');
    const r = cli(['run', '--mode', 'record', '--trace', rec, '--user-data', glob, '--', bin, input]);
    assert.equal(r.status, 0, r.stderr);
    const an = cli(['replay', rec, '--analyze']);
    assert.equal(an.status, 0, an.stderr);

    const a = await ioIn(online), b = await ioIn(join(rec, 'analysis'));
    const table = `online ${JSON.stringify([...a])} replay ${JSON.stringify([...b])}`;
    // what the program does, online: the counts themselves (the user-data file in, the socket pair both ways, the pipe)
    assert.deepEqual(a.get('file in')?.[0], 1000 + 4000, table);
    assert.deepEqual(a.get('socket in'), [0, 5006], table); // the kernel delivers clean bytes; the peek is not counted
    assert.ok((a.get('socket out')?.[0] ?? 0) === 1000 + 4000, table); // the send's tainted bytes and the tainted kernel copy
    assert.deepEqual(a.get('pipe in'), [0, 4], table);
    assert.deepEqual(a.get('pipe out'), [0, 4], table);
    // and the replay the same, key by key
    assert.deepEqual([...b].sort(), [...a].sort(), table);
  });
});
