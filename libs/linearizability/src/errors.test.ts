import { registryTests } from '@netaccel/errors/testing';
import { linearizabilityErrors } from './errors.js';

registryTests(linearizabilityErrors, new URL('../README.md', import.meta.url), { area: 'LIN', codes: 2 });
