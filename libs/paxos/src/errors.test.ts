import { registryTests } from '@netaccel/errors/testing';
import { paxosErrors } from './errors.js';

registryTests(paxosErrors, new URL('../README.md', import.meta.url), { area: 'PAXOS', codes: 11 });
