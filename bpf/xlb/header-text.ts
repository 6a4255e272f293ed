/**
 * The C headers of bpf/xlb (`xlb_kern_user.h`, `xlb_consts.h`) as text, and the parsers of
 * bpf/common/header-text.ts, for the unit tests that compare the TypeScript tables
 * (constants.ts, drop-reasons.ts, codec.ts) with their source. Private to the tests here.
 */
import { headerReader } from '../common/header-text.js';

export type { EnumEntry } from '../common/header-text.js';
export { parseDefines, parseEnum, structNames } from '../common/header-text.js';

/** The text of a header in bpf/xlb. */
export const headerText: (file: string) => string = headerReader(import.meta.url);
