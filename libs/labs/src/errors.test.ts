import { registryTests } from '@netaccel/errors/testing';
import { labsErrors } from './errors.js';

registryTests(labsErrors, new URL('../README.md', import.meta.url), { area: 'LAB' });
