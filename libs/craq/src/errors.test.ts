import { registryTests } from '@netaccel/errors/testing';
import { craqClientErrors } from './errors.js';

registryTests(craqClientErrors, new URL('../README.md', import.meta.url), { area: 'CRAQCLIENT' });
