// Ranks tainted pointer sites by the evidence that they hide data-plane work the pointer-insensitive
// policy missed (paper §2.2.2, which did this review by hand). Each kind of evidence is a number in
// [0, 1] with a weight; the score is their weighted sum, and the evidence is kept in words.

export interface SiteEvidenceInput {
  /** Times the address was tainted, summed over runs and policies. */
  count: number;
  maxCount: number;
  access: 'load' | 'store';
  /** Dynamic executions of the site's function, and those of its data-plane instructions (primary policy). */
  functionExecutions: number;
  functionDataExecutions: number;
  functionName: string;
  /** Instructions on the same source line after the access: how many, and how many are data plane under
   * the sensitive policy (or the primary one when there are no sensitive runs). */
  afterOnLine: number;
  afterOnLineData: number;
  afterPolicy: 'sensitive' | 'insensitive';
  hasLine: boolean;
  /** Instructions of the site's function and line executed under both policies, and those control plane
   * under the insensitive policy but data plane under the sensitive one. undefined: no runs of both. */
  bothPolicies?: { executed: number; gained: number };
  /** Tainted bytes read by the runs in which the site appeared. */
  taintedBytesIn: number;
  /** Per run, tainted bytes written by the site's component(s) under each policy (when both ran): the
   * sensitive policy tainting more output means the missed flow reaches the program's output. */
  taintedOut?: { insensitive: number; sensitive: number };
}

export interface SiteEvidence {
  score: number;
  disagreement: boolean;
  evidence: string[];
}

export const SITE_WEIGHTS = {
  frequency: 1,
  dataFunction: 2,
  afterLoad: 1.5,
  policyGain: 1,
  perByte: 1.5,
  outputGain: 1,
};

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

function pct(x: number): string {
  return `${(100 * x).toFixed(x > 0 && x < 0.01 ? 2 : 0)}%`;
}

export function rankSite(s: SiteEvidenceInput): SiteEvidence {
  const evidence: string[] = [];
  let score = 0;

  const frequency = s.maxCount > 0 ? Math.log10(1 + s.count) / Math.log10(1 + s.maxCount) : 0;
  score += SITE_WEIGHTS.frequency * frequency;
  evidence.push(`address tainted ${s.count} time${s.count === 1 ? '' : 's'}`);

  // A function that already handles user-data values itself is a data-processing kernel; a load through a
  // data-derived pointer there is likely a table lookup computing on the data (CRC, S-boxes).
  const dataShare = s.functionExecutions > 0 ? s.functionDataExecutions / s.functionExecutions : 0;
  score += SITE_WEIGHTS.dataFunction * dataShare;
  if (s.functionExecutions > 0) {
    evidence.push(dataShare > 0
      ? `${pct(dataShare)} of ${s.functionName}'s executed instructions are data plane`
      : `${s.functionName} does no other data-plane work`);
  }

  if (s.hasLine && s.afterOnLine > 0) {
    const after = s.afterOnLineData / s.afterOnLine;
    score += SITE_WEIGHTS.afterLoad * after;
    evidence.push(`${s.afterOnLineData} of ${s.afterOnLine} instructions after the ${s.access} on its line are data plane (${s.afterPolicy} policy)`);
  } else if (!s.hasLine) {
    evidence.push('no source line (module without debug info)');
  }

  let disagreement = false;
  if (s.bothPolicies) {
    const { executed, gained } = s.bothPolicies;
    disagreement = gained > 0;
    const gain = executed > 0 ? gained / executed : 0;
    score += SITE_WEIGHTS.policyGain * gain;
    evidence.push(disagreement
      ? `policies disagree: ${gained} of ${executed} instructions of its function/line become data plane under the sensitive policy`
      : `policies agree on its function/line (${executed} instructions)`);
  }

  if (s.taintedBytesIn > 0) {
    const rate = s.count / s.taintedBytesIn;
    score += SITE_WEIGHTS.perByte * Math.min(1, rate);
    evidence.push(`${rate >= 0.01 ? rate.toFixed(2) : rate.toExponential(1)} accesses per tainted input byte${rate >= 0.5 ? ' (per-byte work)' : ''}`);
  }
  if (s.taintedOut) {
    const { insensitive, sensitive } = s.taintedOut;
    const gain = sensitive > insensitive ? (sensitive - insensitive) / sensitive : 0;
    score += SITE_WEIGHTS.outputGain * gain;
    if (gain > 0) evidence.push(`its program writes ${fmt(sensitive)} tainted bytes per run under the sensitive policy, ${fmt(insensitive)} under the insensitive one`);
  }
  return { score: Math.round(score * 1000) / 1000, disagreement, evidence };
}
