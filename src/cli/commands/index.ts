// Every `planescope` sub-command, in the order `planescope help` lists them.
import { Command } from '../command';
import { versionCommand } from './version';

export const commands: Command[] = [versionCommand];
