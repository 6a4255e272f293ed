import { test } from 'vitest';
import assert from 'node:assert/strict';
import { CLIENT_DEFAULTS, GRPC_DEFAULTS, compileClientOptions, compileServerOptions } from './options.js';

test('servers and clients run with channelz off unless the caller asks for it', () => {
  assert.equal(GRPC_DEFAULTS['grpc.enable_channelz'], 0);
  const server = compileServerOptions({ address: 'unix:///tmp/x.sock', services: [] });
  const client = compileClientOptions({ address: 'unix:///tmp/x.sock' });
  assert.equal(server.grpcOptions['grpc.enable_channelz'], 0);
  assert.equal(client.grpcOptions['grpc.enable_channelz'], 0);
  const asked = compileClientOptions({ address: 'unix:///tmp/x.sock', grpcOptions: { 'grpc.enable_channelz': 1, 'grpc.max_receive_message_length': 1024 } });
  assert.deepEqual({ ...asked.grpcOptions }, { 'grpc.enable_channelz': 1, 'grpc.max_receive_message_length': 1024 });
  assert.equal(compileServerOptions({ address: 'unix:///tmp/x.sock', services: [], grpcOptions: { 'grpc.enable_channelz': 1 } }).grpcOptions['grpc.enable_channelz'], 1);
});

test('unary calls to a Unix socket default to the lean http2 transport, TCP to grpc-js; grpc-js is the opt-out', () => {
  assert.deepEqual({ ...CLIENT_DEFAULTS.unaryTransport }, { unix: 'http2', tcp: 'grpc-js' });
  assert.equal(compileClientOptions({ address: 'unix:///tmp/x.sock' }).unaryTransport, 'http2');
  assert.equal(compileClientOptions({ address: './x.sock' }).unaryTransport, 'http2');
  assert.equal(compileClientOptions({ address: '127.0.0.1:50051', allowInsecureTcp: true }).unaryTransport, 'grpc-js');
  assert.equal(compileClientOptions({ address: 'unix:///tmp/x.sock', unaryTransport: 'grpc-js' }).unaryTransport, 'grpc-js');
});
