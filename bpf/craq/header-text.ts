/** The text of a header in bpf/craq, for the unit tests that compare the TypeScript tables with it. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

export function craqHeaderText(file: string): string {
  return readFileSync(join(HERE, file), 'utf8');
}
