import { registryTests } from '@netaccel/errors/testing';
import { dataplaneErrors } from './errors.js';

registryTests(dataplaneErrors, new URL('../README.md', import.meta.url), { area: 'DATAPLANE', codes: 3 });
