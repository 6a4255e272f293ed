/** Every command group of the CLI, in the order `netaccel --help` lists them. */
import type { CommandGroup } from '../command.js';
import { bgp } from './bgp.js';
import { bpf } from './bpf.js';
import { craqGroup } from './craq.js';
import { labGroup } from './lab.js';
import { lbGroup } from './lb.js';
import { paxosGroup } from './paxos.js';
import { sidecar } from './sidecar.js';

export const groups: readonly CommandGroup[] = [bpf, bgp, lbGroup, craqGroup, paxosGroup, sidecar, labGroup];
