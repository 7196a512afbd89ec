// The processes of a recording directory that several runs recorded into (manifest.json, manifest-2.json, ...).
import { strict as assert } from 'node:assert';
import { MANIFEST_FILE, mergeManifestProcesses } from '../../src/core/recording/manifest';

describe('recording manifests', () => {
  it('names manifest.json and manifest-N.json, nothing else', () => {
    assert.deepEqual(['manifest.json', 'manifest-2.json', 'manifest-12.json', 'manifest-x.json', 'manifest.json.bak', 'a-manifest.json'].filter((n) => MANIFEST_FILE.test(n)),
      ['manifest.json', 'manifest-2.json', 'manifest-12.json']);
  });

  it('lists every process of the directory once, the later manifest winning', () => {
    // the master's run wrote manifest.json, the chunk server's (started while the master ran) manifest-2.json, ...
    const m1 = [{ process: 'master.10', exe: '/bin/m', bytes: 1 }];
    const m2 = [{ process: 'master.10', exe: '/bin/m', bytes: 5 }, { process: 'chunkserver.11', exe: '/bin/c', bytes: 2 }];
    const m3 = [{ process: 'client.12', exe: '/bin/cl', bytes: 3 }];
    assert.deepEqual(mergeManifestProcesses([m1, m2, m3]).map((p) => [p.process, p.bytes]), [['master.10', 5], ['chunkserver.11', 2], ['client.12', 3]]);
    assert.deepEqual(mergeManifestProcesses([]), []);
  });
});
