/**
 * `netaccel bpf …`: the ebpf-loader's objects, programs, attachments and maps. Two-word commands
 * are written with a dash (`map-get`) or as words (`map get`): `map` takes the sub-command as its
 * first argument. Keys and values are hex (`0x0100`, `hex:0100`) or typed little-endian fields
 * joined by commas (`u16:4789`, `u32:1,u32:2`); with `--typed`, map values are decoded (and
 * `map-put` values encoded from JSON) with the BTF of the map's object file, through the struct
 * codecs registered in @netaccel/bpf. Every call carries `x-netaccel-user: <user>(uid N)`, which
 * the loader writes into its audit lines.
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { LoaderClient, loaderV1 } from '@netaccel/rpc';
import type { Btf } from '@netaccel/bpf';
import type * as BpfLib from '@netaccel/bpf';
import type { LoaderService, RpcClient } from '@netaccel/rpc';
import type { Command, CommandContext, CommandGroup } from '../command.js';
import { withDaemon } from '../daemons.js';
import { NA_ERR_CLI_USAGE } from '../errors.js';

const { AttachMode, MapUpdateFlag } = loaderV1;

/** Attach modes by their CLI names (the loader's names). */
export const ATTACH_MODES: Readonly<Record<string, loaderV1.AttachMode>> = Object.freeze({
  'xdp-native': AttachMode.ATTACH_MODE_XDP_NATIVE,
  'xdp-generic': AttachMode.ATTACH_MODE_XDP_GENERIC,
  'tc-ingress': AttachMode.ATTACH_MODE_TC_INGRESS,
  'tc-egress': AttachMode.ATTACH_MODE_TC_EGRESS,
  'sk-skb-stream-parser': AttachMode.ATTACH_MODE_SK_SKB_STREAM_PARSER,
  'sk-skb-stream-verdict': AttachMode.ATTACH_MODE_SK_SKB_STREAM_VERDICT,
  'sk-skb-verdict': AttachMode.ATTACH_MODE_SK_SKB_VERDICT,
  'sk-msg-verdict': AttachMode.ATTACH_MODE_SK_MSG_VERDICT,
  sockops: AttachMode.ATTACH_MODE_SOCKOPS,
  'cgroup-ingress': AttachMode.ATTACH_MODE_CGROUP_INGRESS,
  'cgroup-egress': AttachMode.ATTACH_MODE_CGROUP_EGRESS,
  'cgroup-connect4': AttachMode.ATTACH_MODE_CGROUP_CONNECT4,
  'cgroup-connect6': AttachMode.ATTACH_MODE_CGROUP_CONNECT6,
});
const MODE_NAMES = new Map(Object.entries(ATTACH_MODES).map(([n, m]) => [m, n]));

const FIELD = /^(u8|u16|u32|u64|i8|i16|i32|i64):(-?(?:0x[0-9a-f]+|\d+))$/i;

/** Bytes from `0x…` / `hex:…` or typed little-endian fields `u16:4789,u32:1`; `what` names the argument. */
export function parseBytes(text: string, what: string): Buffer {
  const hex = /^(?:0x|hex:)([0-9a-f]*)$/i.exec(text);
  if (hex) {
    if (hex[1]!.length % 2 !== 0) throw NA_ERR_CLI_USAGE(`${what}: odd number of hex digits in ${text}`);
    return Buffer.from(hex[1]!, 'hex');
  }
  return Buffer.concat(text.split(',').map((field) => {
    const m = FIELD.exec(field.trim());
    if (!m) throw NA_ERR_CLI_USAGE(`${what}: expected hex (0x0100) or fields like u16:4789,u32:1, got ${JSON.stringify(field)}`);
    const type = m[1]!.toLowerCase();
    const bits = Number(type.slice(1));
    const signed = type.startsWith('i');
    const raw = m[2]!.startsWith('-') ? -BigInt(m[2]!.slice(1)) : BigInt(m[2]!);
    const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
    const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
    if (raw < min || raw > max) throw NA_ERR_CLI_USAGE(`${what}: ${field} is out of range ${min}..${max}`);
    const out = Buffer.alloc(bits / 8);
    let v = BigInt.asUintN(bits, raw);
    for (let i = 0; i < out.length; i++, v >>= 8n) out[i] = Number(v & 0xffn);
    return out;
  }));
}

/** `name=<bytes>` of `--global`, as LoadObject takes them. */
export function parseGlobals(values: readonly string[]): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i <= 0) throw NA_ERR_CLI_USAGE(`--global: expected name=<bytes> (drop_udp_port=u16:4789), got ${JSON.stringify(v)}`);
    out[v.slice(0, i)] = parseBytes(v.slice(i + 1), `--global ${v.slice(0, i)}`);
  }
  return out;
}

function caller(): Record<string, string> {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry
  }
  return { 'x-netaccel-user': `${user}(uid ${process.getuid?.() ?? '?'})` };
}

function args(ctx: CommandContext, n: number, usage: string): string[] {
  const a = ctx.positionals;
  if (a.length !== n || a.some((x) => x === '')) throw NA_ERR_CLI_USAGE(`expected ${usage}, got ${a.length} argument${a.length === 1 ? '' : 's'}`);
  return a;
}

function str(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.values[name];
  return typeof v === 'string' ? v : undefined;
}

function intOption(ctx: CommandContext, name: string, dflt: number, max = 0xffffffff): number {
  const v = str(ctx, name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > max) throw NA_ERR_CLI_USAGE(`--${name}: expected an integer 0..${max}, got ${v}`);
  return n;
}

function loader<T>(ctx: CommandContext, fn: (c: RpcClient<typeof LoaderService>) => Promise<T>): Promise<T> {
  return withDaemon('ebpf-loader', LoaderClient, ctx, fn);
}

function targetText(p: loaderV1.AttachPoint): string {
  const t = p.target;
  if (!t) return '-';
  if (t.$case === 'iface') return t.value.name || `ifindex ${t.value.ifindex}`;
  return t.value;
}

/** One program as `netaccel bpf programs --json` prints it. */
export function programJson(p: loaderV1.ProgramInfo) {
  return {
    id: p.id, name: p.name, type: p.typeName, kernelId: p.kernelId, objectId: p.objectId, objectSha256: p.objectSha256,
    attachments: p.attachPoints.map((a) => ({
      linkId: a.linkId, mode: MODE_NAMES.get(a.mode) ?? String(a.mode),
      interface: a.target?.$case === 'iface' ? a.target.value.name : undefined,
      ifindex: a.target?.$case === 'iface' ? a.target.value.ifindex : undefined,
      cgroup: a.target?.$case === 'cgroupPath' ? a.target.value : undefined,
      sockmap: a.target?.$case === 'sockmapId' ? a.target.value : undefined,
      priority: a.priority || undefined, pinPath: a.pinPath || undefined,
    })),
    runCount: p.runCount, runTimeNs: p.runTimeNs, statsEnabled: p.statsEnabled, pinPath: p.pinPath,
  };
}

/**
 * What `--typed` uses: @netaccel/bpf (Btf, mapBtfTypes, the structCodecs registry) with every
 * netaccel program's struct codecs registered (@netaccel/bpf-programs/codecs), so a VIP key reads
 * `{ address, port, protocol }`. Imported at run time only, when `--typed` is given, so the CLI
 * loads neither koffi nor the bindings for its other commands.
 */
async function typedViewLib(): Promise<typeof BpfLib> {
  const [bpf, programs] = await Promise.all([import('@netaccel/bpf'), import('@netaccel/bpf-programs/codecs')]);
  programs.registerProgramCodecs(bpf.structCodecs);
  return bpf;
}

/** Typed views: decoders for a map's key and value from the BTF of its object file. */
async function typedViews(ctx: CommandContext, mapId: string): Promise<{ key: (b: Buffer) => unknown; value: (b: Buffer) => unknown; encode: (json: unknown) => Buffer }> {
  const objectId = mapId.split('/')[0]!;
  const name = mapId.slice(objectId.length + 1);
  const { objects } = await loader(ctx, (c) => c.listObjects(loaderV1.ListObjectsRequest.create()));
  const object = objects.find((o) => o.id === objectId);
  if (!object) throw NA_ERR_CLI_USAGE(`${mapId}: no loaded object ${objectId}`);
  const bpf = await typedViewLib();
  let btf: Btf;
  try {
    btf = bpf.Btf.fromElf(readFileSync(object.path), object.path);
  } catch (err) {
    throw NA_ERR_CLI_USAGE(`--typed: reads the BTF of ${object.path}: ${(err as Error).message}`);
  }
  const types = bpf.mapBtfTypes(btf, name);
  const codec = (id: number | undefined) => (id === undefined ? undefined : bpf.structCodecs.codecFor(btf, id));
  const k = codec(types.key);
  const v = codec(types.value);
  return {
    key: (b) => (k ? k.decode(b) : b),
    value: (b) => (v ? v.decode(b) : b),
    encode: (json) => {
      if (!v) throw NA_ERR_CLI_USAGE(`--typed: map ${name} has no BTF value type; give the value as bytes`);
      try {
        return v.encode(json as never);
      } catch (err) {
        throw NA_ERR_CLI_USAGE(`--typed: a value of map ${name}: ${(err as Error).message}`);
      }
    },
  };
}

function entryJson(e: loaderV1.MapEntry, view?: { key: (b: Buffer) => unknown; value: (b: Buffer) => unknown }) {
  const key = view ? view.key(e.key) : e.key;
  if (e.perCpuValues.length > 0) return { key, perCpuValues: e.perCpuValues.map((v) => (view ? view.value(v) : v)) };
  return { key, value: view ? view.value(e.value) : e.value };
}

function show(v: unknown): string {
  if (Buffer.isBuffer(v)) return `0x${v.toString('hex')}`;
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : Buffer.isBuffer(x) ? `0x${x.toString('hex')}` : x));
}

const TYPED = { typed: { type: 'boolean', default: false, help: 'decode keys and values with the BTF of the map\'s object (map-put: the value as JSON)' } } as const;
const LIMIT = { type: 'string', value: 'n', help: 'at most this many entries (default: every entry)' } as const;
const FLAG = { type: 'string', default: 'any', value: 'any|noexist|exist', help: 'write always, only a new key, or only an existing key' } as const;

const mapCommands: Record<string, Command> = {
  'map-get': {
    summary: 'read one map entry', args: '<map-id> <key>', options: TYPED,
    async run(ctx) {
      const [mapId, key] = args(ctx, 2, '<map-id> <key>');
      const view = ctx.values.typed === true ? await typedViews(ctx, mapId!) : undefined;
      const r = await loader(ctx, (c) => c.mapLookup(loaderV1.MapLookupRequest.create({ mapId, key: parseBytes(key!, 'key') })));
      const e = entryJson(r.entry!, view);
      ctx.out.result('perCpuValues' in e ? e.perCpuValues!.map((v, cpu) => `cpu ${cpu}: ${show(v)}`).join('\n') : show(e.value), e);
    },
  },
  'map-put': {
    summary: 'write one map entry', args: '<map-id> <key> <value>',
    options: { ...TYPED, flag: FLAG },
    async run(ctx) {
      const [mapId, key, value] = args(ctx, 3, '<map-id> <key> <value>');
      const flags: Record<string, loaderV1.MapUpdateFlag> = { any: MapUpdateFlag.MAP_UPDATE_FLAG_ANY, noexist: MapUpdateFlag.MAP_UPDATE_FLAG_NOEXIST, exist: MapUpdateFlag.MAP_UPDATE_FLAG_EXIST };
      const flag = flags[String(ctx.values.flag)];
      if (flag === undefined) throw NA_ERR_CLI_USAGE(`--flag: expected any, noexist or exist, got ${String(ctx.values.flag)}`);
      let bytes: Buffer;
      if (ctx.values.typed === true) {
        let json: unknown;
        try {
          json = JSON.parse(value!);
        } catch {
          throw NA_ERR_CLI_USAGE(`value: --typed takes JSON, got ${value}`);
        }
        bytes = (await typedViews(ctx, mapId!)).encode(json);
      } else bytes = parseBytes(value!, 'value');
      await loader(ctx, (c) => c.mapUpdate(loaderV1.MapUpdateRequest.create({ mapId, entry: { key: parseBytes(key!, 'key'), value: bytes, perCpuValues: [] }, flag }), { metadata: caller() }));
      ctx.out.result(`${mapId}: written`, { mapId, key: parseBytes(key!, 'key'), value: bytes });
    },
  },
  'map-delete': {
    summary: 'delete one map entry', args: '<map-id> <key>',
    async run(ctx) {
      const [mapId, key] = args(ctx, 2, '<map-id> <key>');
      await loader(ctx, (c) => c.mapDelete(loaderV1.MapDeleteRequest.create({ mapId, key: parseBytes(key!, 'key') }), { metadata: caller() }));
      ctx.out.result(`${mapId}: deleted`, { mapId, deleted: true });
    },
  },
  'map-dump': {
    summary: 'every entry of a map', args: '<map-id>', options: { ...TYPED, limit: LIMIT },
    async run(ctx) {
      const [mapId] = args(ctx, 1, '<map-id>');
      const limit = intOption(ctx, 'limit', 0);
      const view = ctx.values.typed === true ? await typedViews(ctx, mapId!) : undefined;
      const rows = await loader(ctx, async (c) => {
        const out: ReturnType<typeof entryJson>[] = [];
        for await (const e of c.mapDump(loaderV1.MapDumpRequest.create({ mapId, limit }), { deadlineMs: ctx.timeoutMs * 6 })) out.push(entryJson(e, view));
        return out;
      });
      ctx.out.table([
        { header: 'key', value: (r: (typeof rows)[number]) => show(r.key) },
        { header: 'value', value: (r) => ('perCpuValues' in r ? r.perCpuValues!.map(show).join(' | ') : show(r.value)) },
      ], rows, { mapId, entries: rows });
    },
  },
};

const commands: Record<string, Command> = {
  programs: {
    summary: 'programs with where they are attached, object hash and run counts', options: { object: { type: 'string', value: 'object-id', help: 'only the programs of this object (default: every program)' } },
    async run(ctx) {
      const r = await loader(ctx, (c) => c.listPrograms(loaderV1.ListProgramsRequest.create({ objectId: str(ctx, 'object') ?? '' })));
      ctx.out.table([
        { header: 'id', value: (p: loaderV1.ProgramInfo) => p.id },
        { header: 'type', value: (p) => p.typeName },
        { header: 'kernel id', value: (p) => p.kernelId, align: 'right' },
        { header: 'attached', value: (p) => p.attachPoints.map((a) => `${MODE_NAMES.get(a.mode) ?? a.mode} ${targetText(a)}${a.priority ? ` prio ${a.priority}` : ''} (${a.linkId})`).join(', ') },
        { header: 'object sha256', value: (p) => p.objectSha256.slice(0, 12) },
        { header: 'runs', value: (p) => (p.statsEnabled ? p.runCount : '-'), align: 'right' },
        { header: 'avg ns', value: (p) => (p.runCount > 0n ? p.runTimeNs / p.runCount : '-'), align: 'right' },
      ], r.programs, { programs: r.programs.map(programJson) });
    },
  },
  objects: {
    summary: 'loaded objects', options: { owner: { type: 'string', value: 'name', help: 'only the objects loaded by this owner (default: every object)' } },
    async run(ctx) {
      const r = await loader(ctx, (c) => c.listObjects(loaderV1.ListObjectsRequest.create({ owner: str(ctx, 'owner') ?? '' })));
      ctx.out.table([
        { header: 'id', value: (o: loaderV1.ObjectInfo) => o.id },
        { header: 'path', value: (o) => o.path },
        { header: 'sha256', value: (o) => o.sha256.slice(0, 12) },
        { header: 'owner', value: (o) => o.owner },
        { header: 'programs', value: (o) => o.programs.length, align: 'right' },
        { header: 'maps', value: (o) => o.maps.length, align: 'right' },
        { header: 'loaded', value: (o) => o.loadedAt?.toISOString() },
      ], r.objects, { objects: r.objects.map((o) => ({ ...o, programs: o.programs.map(programJson) })) });
    },
  },
  maps: {
    summary: 'maps and their geometry', options: { object: { type: 'string', value: 'object-id', help: 'only the maps of this object (default: every map)' } },
    async run(ctx) {
      const r = await loader(ctx, (c) => c.listMaps(loaderV1.ListMapsRequest.create({ objectId: str(ctx, 'object') ?? '' })));
      ctx.out.table([
        { header: 'id', value: (m: loaderV1.MapInfo) => m.id },
        { header: 'type', value: (m) => m.typeName },
        { header: 'key', value: (m) => m.keySize, align: 'right' },
        { header: 'value', value: (m) => m.valueSize, align: 'right' },
        { header: 'max entries', value: (m) => m.maxEntries, align: 'right' },
        { header: 'per cpu', value: (m) => (m.perCpu ? 'yes' : 'no') },
      ], r.maps, r);
    },
  },
  load: {
    summary: 'load an object from the loader\'s object directory', args: '<path>',
    options: {
      global: { type: 'string', multiple: true, value: 'name=bytes', help: 'set a const volatile global before load, e.g. drop_udp_port=u16:4789' },
      owner: { type: 'string', default: 'cli', value: 'name', help: 'who owns the object, shown by `bpf objects`' },
      sha256: { type: 'string', default: '', value: 'hex', help: 'refuse the file unless its sha256 is this (default: any)' },
    },
    async run(ctx) {
      const [path] = args(ctx, 1, '<path>');
      const g = ctx.values.global;
      const globals = parseGlobals(Array.isArray(g) ? g.map(String) : []);
      const r = await loader(ctx, (c) => c.loadObject(loaderV1.LoadObjectRequest.create({ path, owner: String(ctx.values.owner), globals, expectedSha256: String(ctx.values.sha256) }), { metadata: caller() }));
      const o = r.object!;
      ctx.out.result(`${r.alreadyLoaded ? 'already loaded' : 'loaded'} ${o.id} (sha256 ${o.sha256})\nprograms: ${o.programs.map((p) => p.id).join(', ')}\nmaps: ${o.maps.map((m) => m.id).join(', ')}`,
        { alreadyLoaded: r.alreadyLoaded, object: { ...o, programs: o.programs.map(programJson) } });
    },
  },
  unload: {
    summary: 'unload an object (--force detaches its programs first)', args: '<object-id>', options: { force: { type: 'boolean', default: false, help: 'detach its programs first' } },
    async run(ctx) {
      const [objectId] = args(ctx, 1, '<object-id>');
      const r = await loader(ctx, (c) => c.unloadObject(loaderV1.UnloadObjectRequest.create({ objectId, force: ctx.values.force === true }), { metadata: caller() }));
      ctx.out.result(`unloaded ${objectId}${r.detachedLinkIds.length > 0 ? `; detached ${r.detachedLinkIds.join(', ')}` : ''}`, r);
    },
  },
  attach: {
    summary: `attach a program: <mode> is ${Object.keys(ATTACH_MODES).join(', ')}; <target> an interface, cgroup path or sockmap id`,
    args: '<program-id> <mode> <target>', options: {
      priority: { type: 'string', value: 'n', help: 'TC priority 1..65535 (default: the kernel\'s)' },
      replace: { type: 'boolean', default: false, help: 'replace the program attached there now' },
    },
    async run(ctx) {
      const [programId, modeName, target] = args(ctx, 3, '<program-id> <mode> <target>');
      const mode = ATTACH_MODES[modeName!];
      if (mode === undefined) throw NA_ERR_CLI_USAGE(`<mode>: expected one of ${Object.keys(ATTACH_MODES).join(', ')}, got ${JSON.stringify(modeName)}`);
      let t: loaderV1.AttachPoint['target'];
      if (modeName!.startsWith('xdp') || modeName!.startsWith('tc')) {
        t = { $case: 'iface', value: /^\d+$/.test(target!) ? loaderV1.Interface.create({ ifindex: Number(target) }) : loaderV1.Interface.create({ name: target }) };
      } else if (modeName!.startsWith('sk-')) t = { $case: 'sockmapId', value: target! };
      else t = { $case: 'cgroupPath', value: target! };
      const point = loaderV1.AttachPoint.create({ mode, target: t, priority: intOption(ctx, 'priority', 0, 0xffff) });
      const r = await loader(ctx, (c) => c.attach(loaderV1.AttachRequest.create({ programId, point, replace: ctx.values.replace === true }), { metadata: caller() }));
      const p = r.point!;
      ctx.out.result(`attached ${programId} (${modeName} ${targetText(p)}${p.priority ? ` priority ${p.priority}` : ''}) as ${p.linkId}${p.pinPath ? `, pinned at ${p.pinPath}` : ''}`,
        { linkId: p.linkId, programId: p.programId, mode: modeName, target: targetText(p), priority: p.priority || undefined, pinPath: p.pinPath || undefined });
    },
  },
  detach: {
    summary: 'remove one attachment', args: '<link-id>',
    async run(ctx) {
      const [linkId] = args(ctx, 1, '<link-id>');
      await loader(ctx, (c) => c.detach(loaderV1.DetachRequest.create({ linkId }), { metadata: caller() }));
      ctx.out.result(`detached ${linkId}`, { linkId, detached: true });
    },
  },
  ...mapCommands,
  map: {
    summary: 'map get|put|delete|dump …: the map-* commands written as two words',
    args: '<get|put|delete|dump> …', options: { ...TYPED, flag: FLAG, limit: LIMIT },
    async run(ctx) {
      const [sub, ...rest] = ctx.positionals;
      const cmd = sub === undefined ? undefined : mapCommands[`map-${sub}`];
      if (!cmd) throw NA_ERR_CLI_USAGE(`map: expected get, put, delete or dump, got ${JSON.stringify(sub ?? '')}`);
      await cmd.run({ ...ctx, positionals: rest });
    },
  },
  'test-run': {
    summary: 'run a program on a packet (BPF_PROG_TEST_RUN)', args: '<program-id>',
    options: {
      data: { type: 'string', value: 'bytes', help: 'the packet, hex (0x…) or typed fields (default: empty)' },
      'data-file': { type: 'string', value: 'path', help: 'the packet from a file instead of --data' },
      repeat: { type: 'string', value: 'n', help: 'runs, for the time per run (default: 1)' },
    },
    async run(ctx) {
      const [programId] = args(ctx, 1, '<program-id>');
      const file = str(ctx, 'data-file');
      const data = file !== undefined ? readFileSync(file) : parseBytes(str(ctx, 'data') ?? '0x', '--data');
      const repeat = intOption(ctx, 'repeat', 1);
      const r = await loader(ctx, (c) => c.testRun(loaderV1.TestRunRequest.create({ programId, dataIn: data, repeat })));
      ctx.out.result(`retval ${r.retval}, ${r.durationNs} ns per run, ${r.dataOut.length} bytes out\n${r.dataOut.toString('hex')}`, r);
    },
  },
  stats: {
    summary: 'run counts and times of programs', args: '[program-id]',
    async run(ctx) {
      const r = await loader(ctx, (c) => c.programStats(loaderV1.ProgramStatsRequest.create({ programId: ctx.positionals[0] ?? '' })));
      ctx.out.table([
        { header: 'program', value: (s: loaderV1.ProgramStat) => s.programId },
        { header: 'runs', value: (s) => s.runCount, align: 'right' },
        { header: 'run ns', value: (s) => s.runTimeNs, align: 'right' },
        { header: 'recursion misses', value: (s) => s.recursionMisses, align: 'right' },
      ], r.stats, r);
    },
  },
};

export const bpf: CommandGroup = {
  name: 'bpf',
  summary: 'BPF objects, programs, attachments and maps of the ebpf-loader',
  daemon: 'ebpf-loader',
  commands,
};
