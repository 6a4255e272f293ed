/**
 * TLS for TCP addresses: options are file paths (PEM), read once when the server or client is
 * created; a file that cannot be read is a NA_ERR_RPC_TLS_FILE naming the option and the path.
 * Unix sockets never use TLS: access is controlled by the socket's mode and group.
 */
import { readFileSync } from 'node:fs';
import { ServerCredentials, credentials } from '@grpc/grpc-js';
import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js';
import { errorMessage } from '@netaccel/errors';
import type { RpcAddress } from './address.js';
import { NA_ERR_RPC_INVALID_OPTIONS, NA_ERR_RPC_TLS_FILE, NA_ERR_RPC_TLS_REQUIRED } from './errors.js';

export interface ServerTlsOptions {
  /** The server's certificate chain (PEM file). */
  readonly cert: string;
  /** The server's private key (PEM file). */
  readonly key: string;
  /** CA bundle that client certificates must chain to (PEM file); required with clientAuth. */
  readonly ca?: string;
  /** Require and verify a client certificate (mutual TLS). Default false. */
  readonly clientAuth?: boolean;
}

export interface ClientTlsOptions {
  /** CA bundle the server's certificate must chain to (PEM file); the system roots without it. */
  readonly ca?: string;
  /** The client's certificate chain, for servers that require client auth (PEM file). */
  readonly cert?: string;
  /** The client's private key (PEM file); given together with cert. */
  readonly key?: string;
  /** Name to verify the server's certificate against, when it differs from the address's host. */
  readonly serverName?: string;
}

function readPem(field: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw NA_ERR_RPC_TLS_FILE.with({ cause: err, details: { field: `tls.${field}`, path } }, field, path, errorMessage(err));
  }
}

function checkTlsObject(tls: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (tls === null || typeof tls !== 'object' || Array.isArray(tls)) throw NA_ERR_RPC_INVALID_OPTIONS('tls', 'expected an object of PEM file paths');
  const obj = tls as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw NA_ERR_RPC_INVALID_OPTIONS(`tls.${key}`, `unknown option; expected one of ${allowed.join(', ')}`);
  }
  for (const key of ['ca', 'cert', 'key', 'serverName']) {
    const v = obj[key];
    if (v !== undefined && (typeof v !== 'string' || v.length === 0)) throw NA_ERR_RPC_INVALID_OPTIONS(`tls.${key}`, `expected a non-empty string, got ${JSON.stringify(v)}`);
  }
  return obj;
}

function refuseTlsOnUnix(address: RpcAddress, tls: unknown): void {
  if (address.kind === 'unix' && tls !== undefined) {
    throw NA_ERR_RPC_INVALID_OPTIONS('tls', `not used on Unix sockets (${address.path}): access is controlled by the socket's mode and group`);
  }
}

/** Credentials for a server on `address`. */
export function serverCredentials(address: RpcAddress, tls: ServerTlsOptions | undefined, allowInsecureTcp: boolean): ServerCredentials {
  refuseTlsOnUnix(address, tls);
  if (tls === undefined) {
    if (address.kind === 'tcp' && !allowInsecureTcp) throw NA_ERR_RPC_TLS_REQUIRED(address.display);
    return ServerCredentials.createInsecure();
  }
  const o = checkTlsObject(tls, ['cert', 'key', 'ca', 'clientAuth']);
  if (o.cert === undefined) throw NA_ERR_RPC_INVALID_OPTIONS('tls.cert', 'required: the server certificate (PEM file)');
  if (o.key === undefined) throw NA_ERR_RPC_INVALID_OPTIONS('tls.key', 'required: the server private key (PEM file)');
  if (o.clientAuth !== undefined && typeof o.clientAuth !== 'boolean') throw NA_ERR_RPC_INVALID_OPTIONS('tls.clientAuth', `expected a boolean, got ${JSON.stringify(o.clientAuth)}`);
  if (tls.clientAuth === true && tls.ca === undefined) throw NA_ERR_RPC_INVALID_OPTIONS('tls.ca', 'required with clientAuth: the CA that client certificates chain to');
  const ca = tls.ca === undefined ? null : readPem('ca', tls.ca);
  return ServerCredentials.createSsl(ca, [{ cert_chain: readPem('cert', tls.cert), private_key: readPem('key', tls.key) }], tls.clientAuth === true);
}

/** Credentials and channel options for a client of `address`. */
export function clientCredentials(
  address: RpcAddress,
  tls: ClientTlsOptions | undefined,
  allowInsecureTcp: boolean,
): { credentials: ChannelCredentials; channelOptions: ChannelOptions } {
  refuseTlsOnUnix(address, tls);
  if (tls === undefined) {
    if (address.kind === 'tcp' && !allowInsecureTcp) throw NA_ERR_RPC_TLS_REQUIRED(address.display);
    return { credentials: credentials.createInsecure(), channelOptions: {} };
  }
  checkTlsObject(tls, ['ca', 'cert', 'key', 'serverName']);
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw NA_ERR_RPC_INVALID_OPTIONS(tls.cert === undefined ? 'tls.cert' : 'tls.key', 'cert and key go together (client certificate)');
  }
  const ca = tls.ca === undefined ? null : readPem('ca', tls.ca);
  const key = tls.key === undefined ? null : readPem('key', tls.key);
  const cert = tls.cert === undefined ? null : readPem('cert', tls.cert);
  const channelOptions: ChannelOptions = {};
  if (tls.serverName !== undefined) {
    channelOptions['grpc.ssl_target_name_override'] = tls.serverName;
    channelOptions['grpc.default_authority'] = tls.serverName;
  }
  return { credentials: credentials.createSsl(ca, key, cert), channelOptions };
}
