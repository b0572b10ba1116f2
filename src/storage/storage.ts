/**
 * The storage seam: a flat directory of named files, the one thing the pool
 * (address book, bans) and the sync engine (block store) need to persist.
 * Runtime-neutral; each adapter provides a file-backed implementation and
 * {@linkcode MemoryStorage} serves tests and the simulator.
 *
 * @module
 */

/**
 * A flat directory of named byte files.
 *
 * Names are plain file names (`peers.json`, `blocks.dat`): no path
 * separators, no `..`. Every method rejects with a {@linkcode StorageError}
 * on failure.
 *
 * Contract:
 * - `read` returns the whole file, or `undefined` when it does not exist.
 * - `writeAtomic` replaces the file so that a reader (or a crash) sees the
 *   old content or the new, never a mix: write a temporary file, then rename.
 * - `append` adds bytes at the end (creating the file) and resolves with the
 *   offset they were written at, once the bytes are handed to the system.
 * - `readRange` returns exactly `length` bytes from `offset`, or rejects with
 *   `kind: "out-of-range"` when the file is shorter.
 * - `size` is the file's length, or `undefined` when it does not exist.
 * - `truncate` shortens the file to `length` bytes.
 * - `rename` moves a file to another name, replacing any file there (used to
 *   set a corrupt file aside).
 * - `remove` deletes a file; removing a missing file is not an error.
 */
export interface Storage {
  /**
   * Reads a whole file.
   *
   * @param name The file name.
   * @returns Its bytes, or `undefined` if it does not exist.
   */
  read(name: string): Promise<Uint8Array | undefined>;
  /**
   * Replaces a file atomically.
   *
   * @param name The file name.
   * @param data The new content.
   */
  writeAtomic(name: string, data: Uint8Array): Promise<void>;
  /**
   * Appends bytes at the end of a file, creating it if needed.
   *
   * @param name The file name.
   * @param data The bytes to add.
   * @returns The offset at which `data` starts.
   */
  append(name: string, data: Uint8Array): Promise<number>;
  /**
   * Reads part of a file.
   *
   * @param name The file name.
   * @param offset Where to start.
   * @param length How many bytes.
   * @returns Exactly `length` bytes.
   */
  readRange(name: string, offset: number, length: number): Promise<Uint8Array>;
  /**
   * The length of a file.
   *
   * @param name The file name.
   * @returns Its size in bytes, or `undefined` if it does not exist.
   */
  size(name: string): Promise<number | undefined>;
  /**
   * Shortens a file.
   *
   * @param name The file name.
   * @param length The new length (not more than the current one).
   */
  truncate(name: string, length: number): Promise<void>;
  /**
   * Renames a file, replacing any file with the new name.
   *
   * @param from The current name.
   * @param to The new name.
   */
  rename(from: string, to: string): Promise<void>;
  /**
   * Deletes a file; a missing file is not an error.
   *
   * @param name The file name.
   */
  remove(name: string): Promise<void>;
}

/**
 * Why a storage operation failed:
 * - `invalid-name`: the name is empty or holds a path separator or `..`.
 * - `not-found`: the file does not exist (for `readRange`, `truncate`, `rename`).
 * - `out-of-range`: a read or truncate beyond the end of the file.
 * - `io`: the system refused (permissions, disk full...); see `cause`.
 */
export type StorageErrorKind = "invalid-name" | "not-found" | "out-of-range" | "io";

/**
 * A storage operation failed.
 *
 * @example
 * ```ts
 * import { MemoryStorage, StorageError } from "@soter/peer";
 * const store = new MemoryStorage();
 * try {
 *   await store.readRange("blocks.dat", 0, 10);
 * } catch (err) {
 *   console.log(err instanceof StorageError && err.kind); // "not-found"
 * }
 * ```
 */
export class StorageError extends Error {
  /** What kind of failure this is. */
  readonly kind: StorageErrorKind;
  /** The file concerned. */
  readonly file: string;

  /**
   * Makes a storage error.
   *
   * @param kind What kind of failure this is.
   * @param file The file concerned.
   * @param message What happened and what to do.
   * @param options The underlying error, if any.
   */
  constructor(kind: StorageErrorKind, file: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StorageError";
    this.kind = kind;
    this.file = file;
  }
}

/**
 * Checks that a name is a plain file name.
 *
 * @param name The name to check.
 * @throws {StorageError} `invalid-name` if it is not.
 */
export function checkStorageName(name: string): void {
  if (name === "" || name === "." || name === ".." || /[/\\\0]/.test(name)) {
    throw new StorageError(
      "invalid-name",
      name,
      `Cannot use storage name ${JSON.stringify(name)}: use a plain file name without path separators`,
    );
  }
}
