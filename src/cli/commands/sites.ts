// `planescope sites DB [--json] [--limit N]`: tainted pointer sites, ranked by the evidence that they
// hide data-plane work the pointer-insensitive policy missed.
import { Command, UserError } from '../command';
import { optionValue, parseArgs } from '../args';
import { openDatabaseForCli } from './report';

export const sitesCommand: Command = {
  name: 'sites',
  summary: 'tainted pointer sites ranked by the evidence that they hide data-plane work',
  help: `Usage: planescope sites APP.planes.db [--json] [--limit N]

Lists every load/store whose address was tainted, best first. The score adds up evidence:
how often the address was tainted; how much of the site's function is data plane; whether the
instructions after the access on its line are data plane; whether runs with the two pointer
policies (planegrind --pointer-policy) disagree on its function and line; how many accesses it
makes per tainted input byte. Each site lists its evidence in words.`,
  async run(args) {
    const parsed = parseArgs(args, { flags: ['json'], values: ['limit'] }, 'sites');
    const limitText = optionValue(parsed, 'limit');
    const limit = limitText === undefined ? Infinity : Number(limitText);
    if (!(limit > 0)) throw new UserError(`sites: --limit needs a positive number, not ${limitText}`, 2);
    const db = await openDatabaseForCli(parsed.positional[0], 'sites');
    try {
      const sites = db.sites().slice(0, limit);
      if (parsed.flags.has('json')) {
        console.log(JSON.stringify(sites, null, 2));
        return 0;
      }
      if (sites.length === 0) {
        console.log('No tainted pointer sites: no load or store in the runs had a tainted address.');
        return 0;
      }
      for (const s of sites) {
        const where = s.file ? `${s.file}:${s.line}` : `${s.module}+0x${s.offset.toString(16)}`;
        console.log(`#${s.rank}  score ${s.score.toFixed(2)}  ${s.access} in ${s.function} at ${where}${s.policyDisagreement ? '  [policies disagree]' : ''}`);
        for (const e of s.evidence) console.log(`      - ${e}`);
        if (s.labelText) console.log(`      address from: ${s.labelText}`);
      }
      return 0;
    } finally {
      db.close();
    }
  },
};
