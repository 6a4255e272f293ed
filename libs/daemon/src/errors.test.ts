import { registryTests } from '@netaccel/errors/testing';
import { daemonErrors } from './errors.js';

registryTests(daemonErrors, new URL('../README.md', import.meta.url), { area: 'DAEMON', codes: 5 });
