/**
 * The logger this package writes to: the subset of pino it uses (object first, message second,
 * child loggers). A pino logger fits as is; without one, nothing is logged.
 */
export interface RpcLogger {
  child(bindings: Record<string, unknown>): RpcLogger;
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const noop = (): void => undefined;

export const silentLogger: RpcLogger = Object.freeze({
  child: (): RpcLogger => silentLogger,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
});

/** The child logger of one module of this package: `{ component: 'rpc-server' }`. */
export function componentLogger(log: RpcLogger | undefined, component: string): RpcLogger {
  return (log ?? silentLogger).child({ component });
}
