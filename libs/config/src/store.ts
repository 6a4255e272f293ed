/**
 * The running configuration of a daemon. `reload()` builds a new configuration from the file and
 * the environment; a configuration with any problem is refused whole and the running one stays
 * exactly as it was (the same object). A good one replaces it in one assignment, and subscribers
 * hear (next, prev, changed paths). `watch()` reloads when the file's folder changes.
 */
import { watch as watchFs } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ConfigDefinition, ConfigOf } from './define.js';
import type { Env } from './env.js';
import { NA_ERR_CONFIG_WATCH } from './errors.js';
import { formatPath } from './format-issues.js';
import { loadConfig } from './load.js';
import { changedPaths } from './object-tree.js';

/** Called after a configuration replaced another; `changed` lists paths like `bgp.peers[1].holdTime`. */
export type ConfigListener<C> = (next: C, prev: C, changed: readonly string[]) => void;

export interface ConfigStoreOptions {
  /** The YAML file; none: defaults and environment only. */
  readonly file?: string;
  /** The environment to take overrides from, read again on every reload. Default `process.env`. */
  readonly env?: Env;
  /**
   * Called with the error when a listener throws (the other listeners still run and the new
   * configuration stays). Default: a process warning.
   */
  readonly onListenerError?: (err: unknown) => void;
}

export interface ReloadResult<C> {
  /** The configuration now running (the previous object when nothing changed). */
  readonly config: C;
  readonly previous: C;
  /** The paths that differ; empty when the new configuration equals the running one. */
  readonly changed: readonly string[];
}

export interface ReloadOptions<C> {
  /**
   * Applies a changed configuration to what runs, before it replaces the running one; called
   * only when something changed. When it throws (or rejects), the reload is refused as an
   * invalid configuration is: it rejects with that error, the running configuration stays and no
   * listener runs. So it checks everything before it changes anything.
   */
  readonly apply?: (next: C, prev: C, changed: readonly string[]) => void | Promise<void>;
}

export interface WatchOptions<C> {
  /** Quiet time after the last change before reloading, in ms. Default 100 ms. */
  readonly debounceMs?: number;
  /** Called with the error of a refused reload (or of the watcher); never thrown. */
  readonly onError: (err: unknown) => void;
  /** Called after each reload that was accepted, changed or not. */
  readonly onReload?: (result: ReloadResult<C>) => void;
}

export interface ConfigWatcher {
  /** Stops watching; no callback runs afterwards. */
  close(): void;
}

const DEFAULT_DEBOUNCE_MS = 100; // 100 ms: editors write a file in several steps

export class ConfigStore<D extends ConfigDefinition> {
  readonly definition: D;
  readonly file: string | undefined;
  private readonly env: Env | undefined;
  private readonly onListenerError: (err: unknown) => void;
  private config: ConfigOf<D>;
  private readonly listeners = new Set<ConfigListener<ConfigOf<D>>>();
  private readonly watchers = new Set<ConfigWatcher>();
  /** Reloads run one after another, so configurations are replaced in the order they were read. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(definition: D, config: ConfigOf<D>, options: ConfigStoreOptions) {
    this.definition = definition;
    this.file = options.file;
    this.env = options.env;
    this.config = config;
    this.onListenerError = options.onListenerError ?? ((err) => process.emitWarning(err instanceof Error ? err : String(err)));
  }

  /** Loads the configuration (throwing its errors, as `loadConfig` does) and holds it. */
  static async open<D extends ConfigDefinition>(definition: D, options: ConfigStoreOptions = {}): Promise<ConfigStore<D>> {
    const config = await loadConfig(definition, { file: options.file, env: options.env });
    return new ConfigStore(definition, config, options);
  }

  /** The running configuration (deep-frozen). */
  get current(): ConfigOf<D> {
    return this.config;
  }

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: ConfigListener<ConfigOf<D>>): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Reads the file and the environment again. Rejects with the loader's error or with the error
   * of `options.apply` (the running configuration unchanged, no listener called) or resolves with
   * what changed.
   */
  reload(options: ReloadOptions<ConfigOf<D>> = {}): Promise<ReloadResult<ConfigOf<D>>> {
    const run = this.queue.then(() => this.reloadNow(options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async reloadNow(options: ReloadOptions<ConfigOf<D>>): Promise<ReloadResult<ConfigOf<D>>> {
    const next = await loadConfig(this.definition, { file: this.file, env: this.env });
    const previous = this.config;
    const changed = changedPaths(previous, next).map(formatPath);
    if (changed.length === 0) return { config: previous, previous, changed };
    if (options.apply !== undefined) await options.apply(next, previous, changed);
    this.config = next;
    for (const listener of [...this.listeners]) {
      try {
        listener(next, previous, changed);
      } catch (err) {
        this.onListenerError(err);
      }
    }
    return { config: next, previous, changed };
  }

  /**
   * Reloads after changes in the file's folder (so editors' atomic renames and Kubernetes
   * ConfigMap updates are seen), once things have been quiet for `debounceMs`. Errors go to
   * `onError`. The watcher never keeps the process alive. Throws NA_ERR_CONFIG_WATCH when the
   * store has no file or the folder cannot be watched.
   */
  watch(options: WatchOptions<ConfigOf<D>>): ConfigWatcher {
    const { app } = this.definition;
    if (this.file === undefined) throw NA_ERR_CONFIG_WATCH(app, 'the store has no file');
    const dir = dirname(resolve(this.file));
    const debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    const report = (err: unknown): void => {
      if (!closed) options.onError(err);
    };
    const reload = (): void => {
      timer = undefined;
      this.reload().then(
        (result) => {
          if (!closed) options.onReload?.(result);
        },
        report,
      );
    };
    const schedule = (): void => {
      if (closed) return;
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(reload, debounceMs);
      timer.unref();
    };
    let fsWatcher: FSWatcher;
    try {
      fsWatcher = watchFs(dir, { persistent: false }, schedule);
    } catch (err) {
      throw NA_ERR_CONFIG_WATCH.with({ cause: err, details: { dir } }, app, (err as Error).message);
    }
    fsWatcher.on('error', (err) => report(NA_ERR_CONFIG_WATCH.with({ cause: err, details: { dir } }, app, err.message)));
    const handle: ConfigWatcher = {
      close: () => {
        if (closed) return;
        closed = true;
        if (timer !== undefined) clearTimeout(timer);
        fsWatcher.close();
        this.watchers.delete(handle);
      },
    };
    this.watchers.add(handle);
    return handle;
  }

  /** Stops every watcher and forgets the listeners. */
  close(): void {
    for (const w of [...this.watchers]) w.close();
    this.listeners.clear();
  }
}
