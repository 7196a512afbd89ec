// Every `planescope` sub-command, in the order `planescope help` lists them.
import { Command } from '../command';
import { versionCommand } from './version';
import { runCommand } from './run';
import { dwarfCommand } from './dwarf';
import { classifyCommand } from './classify';
import { reportCommand } from './report';
import { linesCommand } from './lines';
import { sitesCommand } from './sites';
import { bugsCommand } from './bugs';
import { replayCommand } from './replay';
import { demoCommand } from './demo';

export const commands: Command[] = [versionCommand, runCommand, dwarfCommand, classifyCommand, reportCommand, linesCommand, sitesCommand, bugsCommand, replayCommand, demoCommand];
