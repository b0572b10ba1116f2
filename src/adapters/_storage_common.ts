/**
 * The runtime-neutral parts of the adapters' file storages: one queue of
 * operations per storage, error mapping and temporary names.
 *
 * @module
 */
import { checkStorageName, type Storage, StorageError } from "../storage/storage.ts";

/**
 * Runs the operations of one storage one after another, so that an append
 * learns its offset before the next one writes, and a rename or truncate
 * never interleaves with an append.
 */
export class OpQueue {
  #tail: Promise<unknown> = Promise.resolve();

  /**
   * Runs `fn` after every operation queued before it.
   *
   * @param fn The operation.
   * @returns What `fn` returns.
   */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(fn, fn);
    this.#tail = next.catch(() => {});
    return next;
  }
}

let tempCounter = 0;

/**
 * A temporary file name beside `name`, unique in this process.
 *
 * @param name The file being replaced.
 * @returns A name starting with `.` and ending with `.tmp`.
 */
export function tempName(name: string): string {
  return `.${name}.${Date.now().toString(36)}-${(tempCounter++).toString(36)}.tmp`;
}

/**
 * Wraps a runtime error as a {@linkcode StorageError}.
 *
 * @param err The runtime error.
 * @param name The file concerned.
 * @param what The operation, as a verb phrase (`"read"`, `"append to"`).
 * @param notFound Whether the runtime said the file does not exist.
 * @returns The storage error.
 */
export function storageError(err: unknown, name: string, what: string, notFound: boolean): StorageError {
  if (err instanceof StorageError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return notFound
    ? new StorageError("not-found", name, `Cannot ${what} ${name}: no such file`, { cause: err })
    : new StorageError("io", name, `Cannot ${what} ${name}: ${detail}`, { cause: err });
}

/**
 * Checks the arguments of a range read.
 *
 * @param name The file.
 * @param offset Where to start.
 * @param length How many bytes.
 * @throws {StorageError} `out-of-range` unless both are integers >= 0.
 */
export function checkRange(name: string, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new StorageError("out-of-range", name, `Cannot read ${name}: offset and length must be integers >= 0`);
  }
}

/**
 * The error of a read that reached the end of the file early.
 *
 * @param name The file.
 * @param offset Where the read started.
 * @param length How many bytes were asked for.
 * @param end Where the file ends.
 * @returns The storage error.
 */
export function pastEnd(name: string, offset: number, length: number, end: number): StorageError {
  return new StorageError(
    "out-of-range",
    name,
    `Cannot read ${name}: ${length} bytes at ${offset} go past its end at ${end}`,
  );
}

/**
 * Checks a truncation length against the file's size.
 *
 * @param name The file.
 * @param length The new length.
 * @param size The current size.
 * @throws {StorageError} `out-of-range` unless `0 <= length <= size`.
 */
export function checkTruncate(name: string, length: number, size: number): void {
  if (!Number.isSafeInteger(length) || length < 0 || length > size) {
    throw new StorageError("out-of-range", name, `Cannot truncate ${name} to ${length} bytes: it holds ${size}`);
  }
}

/**
 * The file operations a runtime provides to {@linkcode FileStorage}. Each
 * may throw the runtime's own errors; `isNotFound` recognises a missing
 * file among them.
 */
export interface FileOps {
  /** Joins a directory and a file name. */
  join(dir: string, name: string): string;
  /** Creates a directory and its parents. */
  mkdirs(dir: string): Promise<void>;
  /** Reads a whole file. */
  readFile(path: string): Promise<Uint8Array>;
  /** Creates or truncates a file, writes `data` and syncs it to disk. */
  writeSynced(path: string, data: Uint8Array): Promise<void>;
  /** Appends `data` to a file (created if needed); resolves with the size before. */
  append(path: string, data: Uint8Array): Promise<number>;
  /** Reads up to `into.length` bytes at `offset`; resolves with how many (0 at the end). */
  readAt(path: string, into: Uint8Array, offset: number): Promise<number>;
  /** The size of a file. */
  size(path: string): Promise<number>;
  /** Shortens a file. */
  truncate(path: string, length: number): Promise<void>;
  /** Renames a file, replacing the target. */
  rename(from: string, to: string): Promise<void>;
  /** Deletes a file. */
  remove(path: string): Promise<void>;
  /** Whether an error says the file does not exist. */
  isNotFound(err: unknown): boolean;
}

/**
 * A {@linkcode Storage} over the files of one directory, on a runtime's
 * {@linkcode FileOps}. The directory is created on the first write.
 * `writeAtomic` writes a temporary file, syncs it to disk and renames it
 * over the old one (a crash leaves the old content or the new); writes,
 * appends, truncations and renames run one at a time, so each append
 * learns the offset it was written at.
 */
export class FileStorage implements Storage {
  /** The directory. */
  readonly dir: string;
  readonly #ops: FileOps;
  readonly #queue = new OpQueue();
  #made = false;

  /**
   * Creates a storage over a directory.
   *
   * @param dir The directory (created on the first write).
   * @param ops The runtime's file operations.
   */
  constructor(dir: string, ops: FileOps) {
    this.dir = dir;
    this.#ops = ops;
  }

  #path(name: string): string {
    checkStorageName(name);
    return this.#ops.join(this.dir, name);
  }

  #error(err: unknown, name: string, what: string): StorageError {
    return storageError(err, name, what, this.#ops.isNotFound(err));
  }

  async #mkdir(name: string): Promise<void> {
    if (this.#made) return;
    try {
      await this.#ops.mkdirs(this.dir);
    } catch (err) {
      throw storageError(err, name, `create the directory ${this.dir} for`, false);
    }
    this.#made = true;
  }

  /** Reads a whole file; `undefined` if it does not exist. */
  async read(name: string): Promise<Uint8Array | undefined> {
    const p = this.#path(name);
    try {
      return await this.#ops.readFile(p);
    } catch (err) {
      if (this.#ops.isNotFound(err)) return undefined;
      throw this.#error(err, name, "read");
    }
  }

  /** Replaces a file: a synced temporary file renamed over it. */
  async writeAtomic(name: string, data: Uint8Array): Promise<void> {
    const p = this.#path(name);
    await this.#queue.run(async () => {
      await this.#mkdir(name);
      const tmp = this.#ops.join(this.dir, tempName(name));
      try {
        await this.#ops.writeSynced(tmp, data);
        await this.#ops.rename(tmp, p);
      } catch (err) {
        await this.#ops.remove(tmp).catch(() => {});
        throw storageError(err, name, "write", false);
      }
    });
  }

  /** Appends bytes and returns the offset they start at. */
  async append(name: string, data: Uint8Array): Promise<number> {
    const p = this.#path(name);
    return await this.#queue.run(async () => {
      await this.#mkdir(name);
      try {
        return await this.#ops.append(p, data);
      } catch (err) {
        throw storageError(err, name, "append to", false);
      }
    });
  }

  /** Reads exactly `length` bytes from `offset`. */
  async readRange(name: string, offset: number, length: number): Promise<Uint8Array> {
    const p = this.#path(name);
    checkRange(name, offset, length);
    return await this.#queue.run(async () => {
      try {
        const out = new Uint8Array(length);
        let done = 0;
        while (done < length) {
          const n = await this.#ops.readAt(p, out.subarray(done), offset + done);
          if (n === 0) throw pastEnd(name, offset, length, offset + done);
          done += n;
        }
        if (length === 0) await this.#ops.size(p);
        return out;
      } catch (err) {
        throw this.#error(err, name, "read");
      }
    });
  }

  /** The length of a file; `undefined` if it does not exist. */
  async size(name: string): Promise<number | undefined> {
    const p = this.#path(name);
    try {
      return await this.#ops.size(p);
    } catch (err) {
      if (this.#ops.isNotFound(err)) return undefined;
      throw this.#error(err, name, "inspect");
    }
  }

  /** Shortens a file to `length` bytes. */
  async truncate(name: string, length: number): Promise<void> {
    const p = this.#path(name);
    await this.#queue.run(async () => {
      try {
        checkTruncate(name, length, await this.#ops.size(p));
        await this.#ops.truncate(p, length);
      } catch (err) {
        throw this.#error(err, name, "truncate");
      }
    });
  }

  /** Renames a file, replacing any file with the new name. */
  async rename(from: string, to: string): Promise<void> {
    const a = this.#path(from);
    const b = this.#path(to);
    await this.#queue.run(async () => {
      try {
        await this.#ops.rename(a, b);
      } catch (err) {
        throw this.#error(err, from, "rename");
      }
    });
  }

  /** Deletes a file; a missing file is not an error. */
  async remove(name: string): Promise<void> {
    const p = this.#path(name);
    await this.#queue.run(async () => {
      try {
        await this.#ops.remove(p);
      } catch (err) {
        if (this.#ops.isNotFound(err)) return;
        throw this.#error(err, name, "remove");
      }
    });
  }
}
