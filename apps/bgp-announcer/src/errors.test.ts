import { registryTests } from '@netaccel/errors/testing';
import { bgpdErrors } from './errors.js';

registryTests(bgpdErrors, new URL('../README.md', import.meta.url), { area: 'BGPD' });
