import { strict as assert } from 'node:assert';
import type { LineRecord, RankedSite } from '../../src/core/db/api';
import { buildHoverMarkdown, commandUri, escapeMarkdown } from '../../src/core/hoverText';

const record: LineRecord = {
  line: 42,
  plane: 'data',
  controlInstructions: 1,
  dataInstructions: 3,
  executions: 4096,
  functions: ['crc32_update'],
  labels: [7],
  siteIds: [1],
};
const site: RankedSite = {
  id: 1, rank: 1, score: 0.93, evidence: ['loaded value flows only into data-plane code'], module: 'chunkserver', offset: 0x1234,
  file: '/src/crc32.c', line: 42, function: 'crc32_update', access: 'load', count: 4096, policyDisagreement: true,
  labelText: 'user data /data/in.bin bytes 0-4095',
};

describe('hoverText', () => {
  it('escapes Markdown and builds command URIs with JSON arguments', () => {
    assert.equal(escapeMarkdown('a*b_[c](d)'), 'a\\*b\\_\\[c\\]\\(d\\)');
    const uri = commandUri('planescope.openOrigin', { path: '/x y', start: 1 });
    assert.equal(uri, 'command:planescope.openOrigin?' + encodeURIComponent('[{"path":"/x y","start":1}]'));
  });

  it('shows plane, counts, executions, function, provenance with an origin link, and the site', () => {
    const md = buildHoverMarkdown({
      record,
      chains: [[
        { labelId: 7, text: 'message 3 from master', message: { peer: 'master', msg: 3 } },
        { labelId: 2, text: 'user data', file: { path: '/data/in.bin', start: 0, end: 4096 } },
      ]],
      sites: [site],
      openOriginCommand: 'planescope.openOrigin',
    });
    assert.match(md, /\*\*Planescope: data plane\*\* \(D\) · line 42/);
    assert.match(md, /3 data-plane and 1 control-plane instructions · executed 4,096 times/);
    assert.match(md, /Function: `crc32_update`/);
    assert.match(md, /Where its tainted data came from/);
    assert.match(md, /message 3 from master ← user data — `\/data\/in\.bin` bytes 0–4,096/);
    assert.ok(md.includes(commandUri('planescope.openOrigin', { path: '/data/in.bin', start: 0, end: 4096 })));
    assert.match(md, /Tainted pointer site\*\* #1 \(score 0\.93\): load ×4,096 in `crc32_update`/);
    assert.match(md, /disagree/);
    assert.match(md, /Why ranked: loaded value flows only into data\\-plane code/);
  });

  it('says stale or edited, and omits links without a command', () => {
    const stale = buildHoverMarkdown({ record: { ...record, plane: 'control', labels: [] }, staleReason: 'x changed', chains: [], sites: [] });
    assert.match(stale, /control plane\*\* \(C\)/);
    assert.match(stale, /Stale:\*\* x changed/);
    assert.doesNotMatch(stale, /came from/);
    const edited = buildHoverMarkdown({ record, edited: true, chains: [[{ labelId: 1, text: 'f', file: { path: '/d', start: 0, end: 1 } }]], sites: [] });
    assert.match(edited, /Edited:/);
    assert.doesNotMatch(edited, /command:/);
  });
});
