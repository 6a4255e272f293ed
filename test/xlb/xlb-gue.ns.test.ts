/** End to end, gue: see support.ts for the topology and what each test checks. */
import { modeSuite } from './support.js';

modeSuite('gue');
