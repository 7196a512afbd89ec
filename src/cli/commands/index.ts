// Every `planescope` sub-command, in the order `planescope help` lists them.
import { Command } from '../command';
import { versionCommand } from './version';
import { reportCommand } from './report';
import { linesCommand } from './lines';
import { sitesCommand } from './sites';
import { bugsCommand } from './bugs';

export const commands: Command[] = [versionCommand, reportCommand, linesCommand, sitesCommand, bugsCommand];
