import { registryTests } from '@netaccel/errors/testing';
import { paxosWireErrors } from './errors.js';

registryTests(paxosWireErrors, new URL('./README.md', import.meta.url), { area: 'PAXOSWIRE', codes: 10 });
