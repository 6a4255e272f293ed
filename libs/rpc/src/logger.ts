/**
 * The logger this package writes to: netaccel's one `Logger` (@netaccel/errors; a pino logger
 * fits as it is); without one, nothing is logged.
 */
import { silentLogger } from '@netaccel/errors';
import type { Logger } from '@netaccel/errors';

/** The child logger of one module of this package: `{ component: 'rpc-server' }`. */
export function componentLogger(log: Logger | undefined, component: string): Logger {
  return (log ?? silentLogger).child({ component });
}
