export type { ErrorDefinition, ErrorFactory, ErrorKind, ErrorRegistry, NetaccelErrorOptions } from './errors.js';
export { NetaccelError, checkRegistry, defineError, errorMessage, isNetaccelError, undocumentedCodes } from './errors.js';
export type { Logger } from './logger.js';
export { isLogger, silentLogger } from './logger.js';
