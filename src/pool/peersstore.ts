/**
 * Loading and saving the address book through the {@linkcode Storage}
 * seam: one file (`peers.json`), replaced atomically, a corrupt or foreign
 * file set aside under a new name and reported, never lost and never fatal.
 *
 * @module
 */
import type { Clock } from "../peer/clock.ts";
import type { Storage } from "../storage/storage.ts";
import { decodePeersFile, encodePeersFile, type PeersFile, PeersFileError } from "./peersjson.ts";

/**
 * What happened to the address book file, reported through the
 * `onEvent` option of {@linkcode AddrManager}:
 * - `loaded`: the file was read; `addresses` is how many it held.
 * - `set-aside`: the file was not a valid `peers.json` (`error` says why);
 *   it was renamed to `movedTo` (`undefined` if even that failed, in which
 *   case the book is not saved over it) and an empty book started.
 * - `load-failed`: the storage could not read the file; an empty book was
 *   started and the file is left alone (and not saved over).
 * - `saved`: the book was written with `addresses` addresses.
 * - `save-failed`: writing failed; the previous file is intact.
 */
export type AddrManagerEvent =
  | { type: "loaded"; file: string; addresses: number }
  | { type: "set-aside"; file: string; movedTo: string | undefined; error: PeersFileError }
  | { type: "load-failed"; file: string; error: unknown }
  | { type: "saved"; file: string; addresses: number }
  | { type: "save-failed"; file: string; error: unknown };

/**
 * The largest `peers.json` read: a full book (1,024 x 64 new and 64 x 256
 * tried addresses, each with its longest keys and 8 bucket entries) stays
 * well below it; anything larger is set aside unread.
 */
export const MAX_PEERS_FILE = 64 * 1024 * 1024;

/** The address book's file. */
export class PeersStore {
  readonly #storage: Storage;
  readonly #file: string;
  readonly #clock: Clock;
  readonly #emit: (event: AddrManagerEvent) => void;
  #queue: Promise<void> = Promise.resolve();
  /** Set when saving would overwrite a file we could neither read nor set aside. */
  #blocked: unknown = undefined;

  constructor(storage: Storage, file: string, clock: Clock, emit: (event: AddrManagerEvent) => void) {
    this.#storage = storage;
    this.#file = file;
    this.#clock = clock;
    this.#emit = (event) => {
      try {
        emit(event);
      } catch {
        // A throwing listener must not break loading or saving.
      }
    };
  }

  /** The name a bad file is moved to: `<file>.bad-<UTC time>`. */
  #badName(): string {
    const stamp = new Date(this.#clock.now()).toISOString().replace(/[:.]/g, "-");
    return `${this.#file}.bad-${stamp}`;
  }

  /**
   * Reads the file and hands its content to `apply`, in turn with saves: a
   * save asked for meanwhile runs after `apply`, so it never writes an
   * empty book over the file being loaded. A missing, unreadable or
   * invalid file (all reported) leaves `apply` uncalled.
   */
  load(apply: (file: PeersFile) => void): Promise<void> {
    const next = this.#queue.then(async () => {
      const file = await this.#read();
      if (file !== undefined) apply(file);
    });
    this.#queue = next.catch(() => {});
    return next;
  }

  async #read(): Promise<PeersFile | undefined> {
    let bytes: Uint8Array | undefined;
    try {
      const size = await this.#storage.size(this.#file);
      if (size === undefined) return undefined;
      // Never read a file no address book can fill into memory.
      if (size > MAX_PEERS_FILE) {
        const detail = `it holds ${size} bytes, more than a full address book (${MAX_PEERS_FILE})`;
        return await this.#reject(new PeersFileError("shape", this.#file, detail), undefined);
      }
      bytes = await this.#storage.read(this.#file);
    } catch (error) {
      this.#blocked = error;
      this.#emit({ type: "load-failed", file: this.#file, error });
      return undefined;
    }
    if (bytes === undefined) return undefined;
    try {
      const file = decodePeersFile(bytes, this.#file);
      this.#emit({ type: "loaded", file: this.#file, addresses: file.addresses.length });
      return file;
    } catch (err) {
      if (!(err instanceof PeersFileError)) throw err;
      return await this.#reject(err, bytes);
    }
  }

  /** Sets a bad file aside and reports it. */
  async #reject(error: PeersFileError, bytes: Uint8Array | undefined): Promise<undefined> {
    const movedTo = await this.#setAside(bytes);
    this.#emit({ type: "set-aside", file: this.#file, movedTo, error });
    return undefined;
  }

  async #setAside(bytes: Uint8Array | undefined): Promise<string | undefined> {
    const to = this.#badName();
    try {
      await this.#storage.rename(this.#file, to);
      return to;
    } catch (error) {
      // Keep a copy under the new name at least.
      try {
        if (bytes === undefined) throw error;
        await this.#storage.writeAtomic(to, bytes);
        return to;
      } catch (error) {
        this.#blocked = error;
        return undefined;
      }
    }
  }

  /**
   * Writes the file after any write in progress; `snapshot` is taken when
   * the write starts, so it holds the latest state.
   */
  save(snapshot: () => PeersFile): Promise<void> {
    const run = async () => {
      if (this.#blocked !== undefined) {
        throw new PeersFileError(
          "unreadable",
          this.#file,
          "not saving over a file that could not be read or set aside; move it away and restart",
          { cause: this.#blocked },
        );
      }
      const data = snapshot();
      await this.#storage.writeAtomic(this.#file, encodePeersFile(data));
      this.#emit({ type: "saved", file: this.#file, addresses: data.addresses.length });
    };
    const next = this.#queue.then(run).catch((error) => {
      this.#emit({ type: "save-failed", file: this.#file, error });
      throw error;
    });
    this.#queue = next.catch(() => {});
    return next;
  }
}
