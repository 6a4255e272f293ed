import { registryTests } from '@netaccel/errors/testing';
import { packetErrors } from '../errors.js';
import { bgpErrors } from '../bgp/errors.js';
import { craqWireErrors } from './errors.js';

registryTests(craqWireErrors, new URL('./README.md', import.meta.url), { area: 'CRAQWIRE', codes: 11, uniqueWith: [packetErrors, bgpErrors] });
