/**
 * The C headers of bpf/craq as text, and the parsers of bpf/common/header-text.ts, for the unit
 * tests that compare the TypeScript tables with them. Private to the tests here.
 */
import { headerReader } from '../common/header-text.js';

export type { EnumEntry } from '../common/header-text.js';
export { parseDefines, parseEnum, structNames } from '../common/header-text.js';

/** The text of a header in bpf/craq. */
export const craqHeaderText: (file: string) => string = headerReader(import.meta.url);
