import { registryTests } from '@netaccel/errors/testing';
import { sidecardErrors } from './errors.js';

registryTests(sidecardErrors, new URL('../README.md', import.meta.url), { area: 'SIDECARD' });
