/** Every command group of the CLI, in the order `netaccel --help` lists them. */
import type { CommandGroup } from '../command.js';
import { bgp } from './bgp.js';

export const groups: readonly CommandGroup[] = [bgp];
