/**
 * The C headers of bpf/sidecar as text, and the parsers of bpf/common/header-text.ts (enums,
 * #defines, byte arrays), for the unit tests that compare the TypeScript tables with their
 * source without a compiler. Private to the tests here.
 */
import { headerReader } from '../common/header-text.js';

export type { EnumEntry } from '../common/header-text.js';
export { parseByteArray, parseDefines, parseEnum, structNames } from '../common/header-text.js';

/** The text of a header in bpf/sidecar. */
export const headerText: (file: string) => string = headerReader(import.meta.url);
