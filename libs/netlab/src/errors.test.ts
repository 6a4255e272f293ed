import { registryTests } from '@netaccel/errors/testing';
import { netlabErrors } from './errors.js';

registryTests(netlabErrors, new URL('../README.md', import.meta.url), { area: 'NETLAB' });
