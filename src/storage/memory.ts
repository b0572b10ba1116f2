/**
 * An in-memory {@linkcode Storage}, for tests, the simulator and
 * applications that persist nothing.
 *
 * @module
 */
import { checkStorageName, type Storage, StorageError } from "./storage.ts";

/**
 * A {@linkcode Storage} kept in memory. Every read returns a copy, so a
 * caller can never change what is stored by mutating a result.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from "@soter/peer";
 * const store = new MemoryStorage();
 * await store.append("log", new Uint8Array([1, 2]));
 * console.log(await store.append("log", new Uint8Array([3]))); // 2
 * console.log(await store.read("log")); // Uint8Array(3) [ 1, 2, 3 ]
 * ```
 */
export class MemoryStorage implements Storage {
  readonly #files = new Map<string, Uint8Array<ArrayBuffer>>();

  /** The names of the files held, sorted. */
  names(): string[] {
    return [...this.#files.keys()].sort();
  }

  /** Reads a whole file; `undefined` if it does not exist. */
  read(name: string): Promise<Uint8Array | undefined> {
    return this.#do(name, () => {
      const data = this.#files.get(name);
      return data === undefined ? undefined : data.slice();
    });
  }

  /** Replaces a file at once. */
  writeAtomic(name: string, data: Uint8Array): Promise<void> {
    return this.#do(name, () => {
      this.#files.set(name, Uint8Array.from(data));
    });
  }

  /** Appends bytes and returns the offset they start at. */
  append(name: string, data: Uint8Array): Promise<number> {
    return this.#do(name, () => {
      const old = this.#files.get(name) ?? new Uint8Array(0);
      const next = new Uint8Array(old.length + data.length);
      next.set(old, 0);
      next.set(data, old.length);
      this.#files.set(name, next);
      return old.length;
    });
  }

  /** Reads exactly `length` bytes from `offset`. */
  readRange(name: string, offset: number, length: number): Promise<Uint8Array> {
    return this.#do(name, () => {
      const data = this.#existing(name);
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
        throw new StorageError("out-of-range", name, `Cannot read ${name}: offset and length must be integers >= 0`);
      }
      if (offset + length > data.length) {
        throw new StorageError(
          "out-of-range",
          name,
          `Cannot read ${name}: ${length} bytes at ${offset} go past its end at ${data.length}`,
        );
      }
      return data.slice(offset, offset + length);
    });
  }

  /** The length of a file; `undefined` if it does not exist. */
  size(name: string): Promise<number | undefined> {
    return this.#do(name, () => this.#files.get(name)?.length);
  }

  /** Shortens a file to `length` bytes. */
  truncate(name: string, length: number): Promise<void> {
    return this.#do(name, () => {
      const data = this.#existing(name);
      if (!Number.isSafeInteger(length) || length < 0 || length > data.length) {
        throw new StorageError(
          "out-of-range",
          name,
          `Cannot truncate ${name} to ${length} bytes: it holds ${data.length}`,
        );
      }
      this.#files.set(name, data.slice(0, length));
    });
  }

  /** Renames a file, replacing any file with the new name. */
  rename(from: string, to: string): Promise<void> {
    return this.#do(from, () => {
      checkStorageName(to);
      const data = this.#existing(from);
      this.#files.delete(from);
      this.#files.set(to, data);
    });
  }

  /** Deletes a file; a missing file is not an error. */
  remove(name: string): Promise<void> {
    return this.#do(name, () => {
      this.#files.delete(name);
    });
  }

  #existing(name: string): Uint8Array<ArrayBuffer> {
    const data = this.#files.get(name);
    if (data === undefined) throw new StorageError("not-found", name, `Cannot use ${name}: no such file`);
    return data;
  }

  #do<T>(name: string, fn: () => T): Promise<T> {
    try {
      checkStorageName(name);
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  }
}
