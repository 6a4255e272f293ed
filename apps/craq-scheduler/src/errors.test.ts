import { registryTests } from '@netaccel/errors/testing';
import { craqdErrors } from './errors.js';

registryTests(craqdErrors, new URL('../README.md', import.meta.url), { area: 'CRAQD' });
