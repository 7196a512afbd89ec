// The processes of a recording directory that several runs recorded into (manifest.json, manifest-2.json, ...).
import { strict as assert } from 'node:assert';
import { MANIFEST_FILE, mergeManifestProcesses } from '../../src/core/recording/manifest';

describe('recording manifests', () => {
  it('names manifest.json and manifest-N.json, nothing else', () => {
    assert.deepEqual(['manifest.json', 'manifest-2.json', 'manifest-12.json', 'manifest-x.json', 'manifest.json.bak', 'a-manifest.json'].filter((n) => MANIFEST_FILE.test(n)),
      ['manifest.json', 'manifest-2.json', 'manifest-12.json']);
  });

  it('lists every recorded process (log) of the directory once, the later listing winning', () => {
    // the master's run wrote manifest.json, the chunk server's (started while the master ran) manifest-2.json, ...
    const m1 = [{ log: 'master.10.rec', process: 'master.10', bytes: 1 }];
    const m2 = [{ log: 'master.10.rec', process: 'master.10', bytes: 5 }, { log: 'chunkserver.11.rec', process: 'chunkserver.11', bytes: 2 }];
    const m3 = [{ log: 'client.12.rec', process: 'client.12', bytes: 3 }];
    assert.deepEqual(mergeManifestProcesses([m1, m2, m3]).map((p) => [p.log, p.bytes]), [['master.10.rec', 5], ['chunkserver.11.rec', 2], ['client.12.rec', 3]]);
    assert.deepEqual(mergeManifestProcesses([]), []);
  });
});
