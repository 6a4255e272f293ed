import { test, beforeAll, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { LoaderClient, LoaderService, MapLookupRequest } from './generated/netaccel/loader/v1/loader.js';
import { createRpcClient } from './client.js';
import { createRpcServer } from './server.js';
import { rpcService } from './handlers.js';
import { RpcError } from './status.js';
import { NA_ERR_RPC_INVALID_OPTIONS, NA_ERR_RPC_TLS_FILE, NA_ERR_RPC_UNAVAILABLE } from './errors.js';
import { fixtureLoader, newProbe, tempDir } from './test/fixtures.js';

// A CA, a server certificate for 127.0.0.1 / localhost, a client certificate, and a second,
// unrelated CA, made with the openssl CLI in a temporary directory.
let dir = '';
let cleanup = async (): Promise<void> => undefined;
const file = (name: string): string => join(dir, name);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(name: string): void {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`);
}

function makeLeaf(name: string, ca: string, ext: string): void {
  writeFileSync(file(`${name}.ext`), ext);
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${name}`,
    '-keyout', `${name}.key`, '-out', `${name}.csr`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial',
    '-days', '1', '-out', `${name}.crt`, '-extfile', `${name}.ext`);
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  makeCa('ca');
  makeCa('other-ca');
  makeLeaf('server', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  makeLeaf('client', 'ca', 'extendedKeyUsage=clientAuth\n');
});

afterAll(async () => {
  await cleanup();
});

const lookup = MapLookupRequest.create({ mapId: 'ok', key: Buffer.from([9]) });
const serverTls = () => ({ cert: file('server.crt'), key: file('server.key') });

test('TLS over TCP on 127.0.0.1 with a CA made for the test', async () => {
  const server = await createRpcServer({ address: '127.0.0.1:0', tls: serverTls(), services: [rpcService(LoaderService, fixtureLoader(newProbe()))] });
  try {
    assert.match(server.target, /^127\.0\.0\.1:\d+$/);
    const client = createRpcClient(LoaderClient, { address: server.target, tls: { ca: file('ca.crt') } });
    const res = await client.mapLookup(lookup);
    assert.deepEqual(res.entry?.key, Buffer.from([9]));
    client.close();

    const byName = createRpcClient(LoaderClient, { address: server.target, tls: { ca: file('ca.crt'), serverName: 'localhost' } });
    assert.ok((await byName.mapLookup(lookup)).entry);
    byName.close();
  } finally {
    await server.shutdown();
  }
});

test('a client that trusts another CA cannot connect: NA_ERR_RPC_UNAVAILABLE', async () => {
  const server = await createRpcServer({ address: '127.0.0.1:0', tls: serverTls(), services: [rpcService(LoaderService, fixtureLoader(newProbe()))] });
  try {
    const client = createRpcClient(LoaderClient, { address: server.target, tls: { ca: file('other-ca.crt') } });
    const err = await client.mapLookup(lookup, { deadlineMs: 3000 }).catch((e: unknown) => e);
    assert.ok(err instanceof RpcError, String(err));
    assert.equal(err.grpcCode, status.UNAVAILABLE);
    assert.equal(err.code, NA_ERR_RPC_UNAVAILABLE.code);
    assert.ok(err.message.includes(server.target));
    client.close();
  } finally {
    await server.shutdown();
  }
});

test('client auth: the server refuses a client without a certificate and accepts one from its CA', async () => {
  const server = await createRpcServer({
    address: '127.0.0.1:0',
    tls: { ...serverTls(), ca: file('ca.crt'), clientAuth: true },
    services: [rpcService(LoaderService, fixtureLoader(newProbe()))],
  });
  try {
    const anonymous = createRpcClient(LoaderClient, { address: server.target, tls: { ca: file('ca.crt') } });
    const err = await anonymous.mapLookup(lookup, { deadlineMs: 3000 }).catch((e: unknown) => e);
    assert.ok(err instanceof RpcError && err.grpcCode === status.UNAVAILABLE, String(err));
    anonymous.close();

    const known = createRpcClient(LoaderClient, { address: server.target, tls: { ca: file('ca.crt'), cert: file('client.crt'), key: file('client.key') } });
    assert.ok((await known.mapLookup(lookup)).entry);
    known.close();
  } finally {
    await server.shutdown();
  }
});

test('TLS options are checked: unreadable files and incomplete settings name the option', async () => {
  await assert.rejects(
    createRpcServer({ address: '127.0.0.1:0', tls: { cert: file('nope.crt'), key: file('server.key') }, services: [] }),
    (e: unknown) => NA_ERR_RPC_TLS_FILE.is(e) && e.message.startsWith(`tls.cert: cannot read ${file('nope.crt')}`),
  );
  await assert.rejects(
    createRpcServer({ address: '127.0.0.1:0', tls: { ...serverTls(), clientAuth: true }, services: [] }),
    (e: unknown) => NA_ERR_RPC_INVALID_OPTIONS.is(e) && e.message.startsWith('tls.ca: required with clientAuth'),
  );
  assert.throws(
    () => createRpcClient(LoaderClient, { address: '127.0.0.1:1', tls: { ca: file('ca.crt'), cert: file('client.crt') } }),
    (e: unknown) => NA_ERR_RPC_INVALID_OPTIONS.is(e) && e.message.startsWith('tls.key: cert and key go together'),
  );
});
