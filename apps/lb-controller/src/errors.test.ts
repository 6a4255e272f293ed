import { registryTests } from '@netaccel/errors/testing';
import { lbErrors } from './errors.js';

registryTests(lbErrors, new URL('../README.md', import.meta.url), { area: 'LB' });
