import { registryTests } from '@netaccel/errors/testing';
import { configErrors } from './errors.js';

registryTests(configErrors, new URL('../README.md', import.meta.url), { area: 'CONFIG', atLeast: 7 });
