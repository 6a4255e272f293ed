/** End to end, ipip: see support.ts for the topology and what each test checks. */
import { modeSuite } from './support.js';

modeSuite('ipip');
