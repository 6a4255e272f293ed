import { test } from 'vitest';
import assert from 'node:assert/strict';
import { GRPC_DEFAULTS, compileClientOptions, compileServerOptions } from './options.js';

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
