import { registryTests } from '@netaccel/errors/testing';
import { cliErrors } from './errors.js';

registryTests(cliErrors, new URL('../README.md', import.meta.url), { area: 'CLI' });
