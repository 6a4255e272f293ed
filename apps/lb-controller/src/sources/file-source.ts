/**
 * Desired state from a YAML file, reloaded when it changes. The folder is watched (so editors'
 * atomic renames and Kubernetes ConfigMap symlink swaps are seen) and the file is read again
 * once things have been quiet for `debounceMs`. A file with any problem is refused whole: the
 * running state stays until a good version is written.
 */
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { issueLine } from '@netaccel/config';
import type { ConfigIssue } from '@netaccel/config';
import { parseState } from '../desired-state.js';
import type { Logger } from '@netaccel/telemetry';
import type { SourceEvents, StateSource } from './source.js';

export interface FileSourceOptions {
  readonly file: string;
  readonly debounceMs?: number;
  readonly log: Logger;
}

export class FileSource implements StateSource {
  readonly kind = 'file';
  readonly #opts: FileSourceOptions;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastText: string | undefined;
  #events: SourceEvents | undefined;

  constructor(opts: FileSourceOptions) {
    this.#opts = opts;
  }

  async start(events: SourceEvents): Promise<void> {
    this.#events = events;
    await this.#load(true);
    const name = basename(this.#opts.file);
    this.#watcher = watch(dirname(this.#opts.file), { persistent: false }, (_event, changed) => {
      if (changed !== null && changed !== name && !String(changed).startsWith('..')) return;
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => void this.#load(false), this.#opts.debounceMs ?? 50);
    });
  }

  /** Reads and parses the file; the first load throws, later ones report and keep the state. */
  async #load(first: boolean): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.#opts.file, 'utf8');
    } catch (err) {
      if (first) throw err;
      this.#opts.log.warn({ err, file: this.#opts.file }, 'desired state file unreadable; the running state stays');
      this.#lastText = undefined; // the good text put back is news: it ends the refusal
      this.#events?.problem('state', err);
      return;
    }
    if (text === this.#lastText) return;
    try {
      const state = parseState(text, this.#opts.file);
      this.#lastText = text;
      this.#events?.state(state, this.#opts.file);
    } catch (err) {
      if (first) throw err;
      // One compact line: the code and the problems, no stack (the refusal is the file's, not ours).
      const e = err as { code?: string; details?: { issues?: unknown }; message?: string };
      const issues = Array.isArray(e.details?.issues) && e.details.issues.length > 0 ? (e.details.issues as ConfigIssue[]).map(issueLine) : undefined;
      this.#opts.log.warn({ file: this.#opts.file, code: e.code, problems: issues ?? e.message }, 'desired state refused; the running state stays');
      // Putting the last good text back (`cp services.good services.yaml`) must end the refusal,
      // so it cannot be skipped as unchanged.
      this.#lastText = undefined;
      this.#events?.problem('state', err);
    }
  }

  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#watcher?.close();
    this.#watcher = undefined;
  }
}
