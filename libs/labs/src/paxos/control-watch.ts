/**
 * A control file watched instead of polled (the replica runner's offloads file): an inotify watch
 * on the file itself, so a process that waits for it costs nothing while it does not change
 * (a `readFileSync` every 20 ms was ~7 % of a follower's CPU in bench/paxos). A watch on the
 * directory would wake for every other file written there (the lab's logs).
 *
 * Writers either rewrite the file in place (the lab scenario's writeFileSync: truncate, then
 * write, each an event) or replace it with a rename (bench/paxos' rig: the watched inode is gone,
 * so the watch is re-armed on the new file, then read). Every event reads the file; a read that
 * sees a partial write is followed by the event of the rest. While the path is missing (between
 * an unlink and a re-create) it is looked for every `retryMs`.
 */
import { readFileSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';

export interface ControlWatch {
  close(): void;
}

export interface ControlWatchOptions {
  /** While the file is missing, how often to look for it again (default 200 ms). */
  readonly retryMs?: number;
}

/**
 * Calls `onValue` with the file's trimmed text at once and after every change (or a re-created
 * file), never twice in a row with the same text; `undefined` text (missing file) is not passed.
 */
export function watchControlFile(path: string, onValue: (text: string) => void, opts: ControlWatchOptions = {}): ControlWatch {
  const retryMs = opts.retryMs ?? 200;
  let watcher: FSWatcher | undefined;
  let retry: NodeJS.Timeout | undefined;
  let closed = false;
  let last: string | undefined;

  const read = (): void => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8').trim();
    } catch {
      return; // gone: the watch's rename event re-arms
    }
    if (text === last) return;
    last = text;
    onValue(text);
  };

  const arm = (): void => {
    if (closed) return;
    watcher?.close();
    watcher = undefined;
    try {
      watcher = watch(path, { persistent: false }, (event) => {
        if (event === 'rename') queueMicrotask(arm); // replaced or removed: watch what is there now
        else read();
      });
      watcher.on('error', () => undefined); // the file removed under the watch: the rename event re-arms
    } catch {
      retry ??= setTimeout(() => {
        retry = undefined;
        arm();
      }, retryMs).unref();
      return;
    }
    read(); // what changed between the old watch and this one
  };

  arm();
  return {
    close() {
      closed = true;
      watcher?.close();
      if (retry !== undefined) clearTimeout(retry);
    },
  };
}
