// The Markdown of a classified line's hover: plane, counts, functions, the provenance chain of its tainted
// data with links to the origin, and tainted-pointer-site details. Pure; the extension adds the trust.
import type { LineRecord, ProvenanceStep, RankedSite } from './db/api';

/** Arguments of the command a provenance link runs (planescope.openOrigin). */
export interface OriginTarget {
  /** Recorded path of the user-data file (the extension remaps it). */
  path: string;
  /** Byte range [start, end) to select, when known. */
  start?: number;
  end?: number;
}

export interface HoverInput {
  record: LineRecord;
  /** The line's text changed in the editor since classification. */
  edited?: boolean;
  /** Why the whole file is stale, when it is. */
  staleReason?: string;
  /** Provenance chains, one per label of the line (outermost step first). */
  chains: ProvenanceStep[][];
  /** Pointer sites on this line. */
  sites: RankedSite[];
  /** Command id for provenance links; omitted: no links. */
  openOriginCommand?: string;
}

const MAX_CHAINS = 6;
const MAX_FUNCTIONS = 4;

/** Escapes Markdown syntax in plain text (file names, function names, provenance text). */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, '\\$&');
}

/** A `command:` URI with JSON arguments, as VS Code's trusted Markdown expects. */
export function commandUri(command: string, ...args: unknown[]): string {
  return `command:${command}?${encodeURIComponent(JSON.stringify(args))}`;
}

const PLANE_WORDS = { control: 'control plane', data: 'data plane', mixed: 'mixed (control and data plane)' } as const;

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

function stepMarkdown(step: ProvenanceStep, command: string | undefined): string {
  let text = escapeMarkdown(step.text);
  if (step.file) {
    const range = `bytes ${formatCount(step.file.start)}–${formatCount(step.file.end)}`;
    if (!step.text.includes(step.file.path)) text += ` — \`${step.file.path.replace(/`/g, "'")}\` ${range}`;
    if (command) {
      const target: OriginTarget = { path: step.file.path, start: step.file.start, end: step.file.end };
      text += ` [open origin](${commandUri(command, target)} "Open ${escapeMarkdown(step.file.path)} at ${range}")`;
    }
  } else if (step.message && !step.text.includes(step.message.peer)) {
    text += ` — message ${step.message.msg} from \`${step.message.peer.replace(/`/g, "'")}\``;
  }
  return text;
}

/** The hover body for one classified line. */
export function buildHoverMarkdown(input: HoverInput): string {
  const r = input.record;
  const out: string[] = [];
  out.push(`**Planescope: ${PLANE_WORDS[r.plane]}** (${r.plane === 'control' ? 'C' : r.plane === 'data' ? 'D' : 'M'}) · line ${r.line}`);
  out.push('');
  out.push(
    `${formatCount(r.dataInstructions)} data-plane and ${formatCount(r.controlInstructions)} control-plane instruction${
      r.dataInstructions + r.controlInstructions === 1 ? '' : 's'
    } · executed ${formatCount(r.executions)} time${r.executions === 1 ? '' : 's'}`,
  );
  if (r.functions.length) {
    const shown = r.functions.slice(0, MAX_FUNCTIONS).map((f) => `\`${f.replace(/`/g, "'")}\``);
    const more = r.functions.length > MAX_FUNCTIONS ? ` and ${r.functions.length - MAX_FUNCTIONS} more` : '';
    out.push('');
    out.push(`Function${r.functions.length === 1 ? '' : 's'}: ${shown.join(', ')}${more}`);
  }
  if (input.staleReason) {
    out.push('');
    out.push(`$(warning) **Stale:** ${escapeMarkdown(input.staleReason)}`);
  } else if (input.edited) {
    out.push('');
    out.push('$(warning) **Edited:** this line changed since it was classified; its plane may no longer apply.');
  }
  const chains = input.chains.filter((c) => c.length > 0);
  if (chains.length) {
    out.push('');
    out.push('**Where its tainted data came from**');
    out.push('');
    for (const chain of chains.slice(0, MAX_CHAINS)) {
      out.push(`- ${chain.map((s) => stepMarkdown(s, input.openOriginCommand)).join(' ← ')}`);
    }
    if (chains.length > MAX_CHAINS) out.push(`- … and ${chains.length - MAX_CHAINS} more labels`);
  }
  for (const s of input.sites) {
    out.push('');
    out.push(
      `**Tainted pointer site** #${s.rank} (score ${s.score.toFixed(2)}): ${s.access} ×${formatCount(s.count)} in \`${s.function.replace(/`/g, "'")}\`` +
        (s.policyDisagreement ? ' · $(git-compare) the pointer-sensitive and -insensitive runs disagree here' : ''),
    );
    if (s.labelText) out.push(`\n\nAddress derived from: ${escapeMarkdown(s.labelText)}`);
    if (s.evidence.length) out.push(`\n\nWhy ranked: ${s.evidence.map(escapeMarkdown).join('; ')}`);
  }
  return out.join('\n');
}
