/**
 * Unix socket files: before binding, create the directory and deal with a file left at the path
 * (a stale socket of a crashed daemon is removed; a socket someone listens on, or anything that
 * is not a socket, is refused); after binding, set the mode and group; on shutdown, remove the
 * file if it is still ours.
 */
import { chmod, chown, lstat, mkdir, readFile, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { errorMessage } from '@netaccel/errors';
import {
  NA_ERR_RPC_SOCKET_IN_USE,
  NA_ERR_RPC_SOCKET_PATH_TAKEN,
  NA_ERR_RPC_SOCKET_PERMISSIONS,
  NA_ERR_RPC_UNKNOWN_GROUP,
} from './errors.js';
import type { Logger } from '@netaccel/errors';

const GROUP_FILE = '/etc/group';

/** The gid of `group` (a number, a numeric string, or a name looked up in `groupFileText`). */
export function parseGroup(group: string | number, groupFileText: string, groupFile = GROUP_FILE): number {
  if (typeof group === 'number') return group;
  if (/^\d+$/.test(group)) return Number(group);
  for (const line of groupFileText.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  throw NA_ERR_RPC_UNKNOWN_GROUP(group, groupFile);
}

/** Resolves a group name through /etc/group (numbers need no lookup). */
export async function resolveGroup(group: string | number): Promise<number> {
  if (typeof group === 'number' || /^\d+$/.test(group)) return parseGroup(group, '');
  let text: string;
  try {
    text = await readFile(GROUP_FILE, 'utf8');
  } catch {
    text = '';
  }
  return parseGroup(group, text);
}

function codeOf(err: unknown): string | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

/** Connects to the socket: 'live' if someone accepts, 'stale' if refused, 'gone' if no file. */
export function probeSocket(path: string, timeoutMs: number): Promise<'live' | 'stale' | 'gone' | { error: string }> {
  return new Promise((resolve) => {
    const sock = connect({ path });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve('live'); // accepted nothing within the timeout, but the kernel queued us: a busy server
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.destroy();
      resolve('live');
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      const code = codeOf(err);
      if (code === 'ECONNREFUSED') resolve('stale');
      else if (code === 'ENOENT') resolve('gone');
      else resolve({ error: `${code ?? 'error'}: ${errorMessage(err)}` });
    });
  });
}

/**
 * Makes `path` bindable: creates its directory (mode `dirMode`) and removes a stale socket file.
 * Answers the directory if this call created it.
 */
export async function prepareSocketPath(path: string, dirMode: number, probeTimeoutMs: number, log: Logger): Promise<string | undefined> {
  const dir = dirname(path);
  let created: string | undefined;
  try {
    created = await mkdir(dir, { recursive: true, mode: dirMode });
    if (created !== undefined) await chmod(dir, dirMode); // whatever the umask took away
  } catch (err) {
    throw NA_ERR_RPC_SOCKET_PERMISSIONS.with({ cause: err }, 'create directory', dir, errorMessage(err));
  }
  let st;
  try {
    st = await lstat(path);
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return created;
    throw NA_ERR_RPC_SOCKET_PATH_TAKEN.with({ cause: err }, path, `cannot inspect it (${errorMessage(err)})`);
  }
  if (!st.isSocket()) throw NA_ERR_RPC_SOCKET_PATH_TAKEN(path, 'exists and is not a socket');
  const probe = await probeSocket(path, probeTimeoutMs);
  if (probe === 'live') throw NA_ERR_RPC_SOCKET_IN_USE(path);
  if (typeof probe === 'object') throw NA_ERR_RPC_SOCKET_PATH_TAKEN(path, `cannot tell whether a server listens on it (${probe.error})`);
  if (probe === 'stale') {
    try {
      await unlink(path);
    } catch (err) {
      if (codeOf(err) !== 'ENOENT') throw NA_ERR_RPC_SOCKET_PATH_TAKEN.with({ cause: err }, path, `stale socket cannot be removed (${errorMessage(err)})`);
    }
    log.warn({ path }, 'removed a stale socket file: no server was listening on it');
  }
  return created;
}

/** Sets the socket's mode and group (and its directory's group if we created it). Answers its inode. */
export async function secureSocket(path: string, mode: number, gid: number | undefined, createdDir: string | undefined): Promise<number> {
  const step = async (what: string, target: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      throw NA_ERR_RPC_SOCKET_PERMISSIONS.with({ cause: err, details: { path: target } }, what, target, errorMessage(err));
    }
  };
  await step(`chmod 0${mode.toString(8)}`, path, () => chmod(path, mode));
  if (gid !== undefined) {
    await step(`chown to group ${gid}`, path, () => chown(path, -1, gid));
    if (createdDir !== undefined) await step(`chown to group ${gid}`, dirname(path), () => chown(dirname(path), -1, gid));
  }
  return (await lstat(path)).ino;
}

/** Removes the socket file if it is still the one this server bound (same inode). */
export async function removeSocket(path: string, ino: number | undefined, log: Logger): Promise<void> {
  try {
    const st = await lstat(path);
    if (!st.isSocket() || (ino !== undefined && st.ino !== ino)) {
      log.warn({ path }, 'socket path now holds another file; left in place');
      return;
    }
    await unlink(path);
  } catch (err) {
    if (codeOf(err) !== 'ENOENT') log.warn({ path, err }, 'could not remove the socket file');
  }
}
