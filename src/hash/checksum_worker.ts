/**
 * Frame checksums computed on another thread while the decoding thread goes
 * on: the seam the core defines, its shared-memory channel, and the loop
 * the other thread runs. Runtime-neutral (`SharedArrayBuffer` and
 * `Atomics`); the adapters start the thread (`startChecksumWorker`).
 *
 * @module
 */

/**
 * A thread that computes frame checksums (the first 4 bytes of a double
 * SHA-256, read as a little-endian int32) one payload at a time. The frame
 * decoder hands it the large payloads (see `FrameDecoder`'s
 * `checksumWorker`), decodes while it hashes, and compares the checksum
 * before it delivers anything; without one, it hashes in its own thread.
 */
export interface ChecksumWorker {
  /** The largest payload it takes, in bytes; larger ones are hashed by the caller. */
  readonly capacity: number;
  /**
   * Starts the checksum of `parts` concatenated (at most `capacity` bytes
   * in all). The bytes are copied before it returns. One checksum at a time:
   * `finish()` must be called before the next `start()`.
   */
  start(parts: readonly Uint8Array[]): void;
  /** Waits for the checksum started last and returns it. */
  finish(): number;
}

// The control words at the start of the shared memory, then the data.
const STATE = 0;
const LENGTH = 1;
const RESULT = 2;
const DATA = 16;
// States: a payload is posted, its checksum is ready, the thread must stop.
const POSTED = 1;
const READY = 2;
const STOP = 3;

/**
 * The decoding thread's side of a {@linkcode ChecksumWorker} over shared
 * memory (made by {@linkcode checksumMemory}, given to the other thread's
 * {@linkcode serveChecksums}). If the other thread does not answer within
 * `patienceMs`, the payload is hashed here by `fallback` and the thread is
 * not used again, so a dead thread costs time, never a wrong checksum.
 */
export class SharedChecksums implements ChecksumWorker {
  readonly capacity: number;
  #control: Int32Array;
  #data: Uint8Array;
  #fallback: (data: Uint8Array) => Uint8Array;
  #patienceMs: number;
  #busy = false;
  #dead = false;

  /**
   * @param memory Shared memory made by {@linkcode checksumMemory}.
   * @param fallback The double SHA-256 to use if the other thread stops answering.
   * @param patienceMs How long to wait for an answer before giving up on the other thread.
   */
  constructor(memory: SharedArrayBuffer, fallback: (data: Uint8Array) => Uint8Array, patienceMs = 10_000) {
    this.#control = new Int32Array(memory, 0, DATA / 4);
    this.#data = new Uint8Array(memory, DATA);
    this.capacity = this.#data.length;
    this.#fallback = fallback;
    this.#patienceMs = patienceMs;
  }

  start(parts: readonly Uint8Array[]): void {
    if (this.#busy) throw new Error("Cannot start a checksum: the one started before was not finished");
    this.#busy = true;
    let at = 0;
    for (const part of parts) {
      this.#data.set(part, at);
      at += part.length;
    }
    this.#control[LENGTH] = at;
    if (this.#dead) return;
    Atomics.store(this.#control, STATE, POSTED);
    Atomics.notify(this.#control, STATE);
  }

  finish(): number {
    if (!this.#busy) throw new Error("Cannot finish a checksum: none was started");
    this.#busy = false;
    const control = this.#control;
    const deadline = Date.now() + this.#patienceMs;
    while (!this.#dead && Atomics.load(control, STATE) === POSTED) {
      const left = deadline - Date.now();
      if (left <= 0) this.#dead = true;
      else Atomics.wait(control, STATE, POSTED, left);
    }
    // A copy: the hash may not take shared memory.
    return this.#dead ? checksumOf(this.#fallback(this.#data.slice(0, control[LENGTH]))) : control[RESULT]!;
  }

  /**
   * Tells the other thread to return from {@linkcode serveChecksums}; any
   * later checksum is computed by `fallback` in this thread.
   */
  stop(): void {
    this.#dead = true;
    Atomics.store(this.#control, STATE, STOP);
    Atomics.notify(this.#control, STATE);
  }
}

/**
 * Allocates the shared memory of a checksum channel.
 *
 * @param capacity The largest payload, in bytes.
 * @returns Memory for {@linkcode SharedChecksums} and {@linkcode serveChecksums}.
 */
export function checksumMemory(capacity: number): SharedArrayBuffer {
  return new SharedArrayBuffer(DATA + capacity);
}

/**
 * The other thread's side: waits for payloads posted in `memory` and
 * answers each with its checksum, until told to stop. Blocks its thread.
 *
 * @param memory The channel's shared memory.
 * @param doubleSha256 The hash to use.
 */
export function serveChecksums(memory: SharedArrayBuffer, doubleSha256: (data: Uint8Array) => Uint8Array): void {
  const control = new Int32Array(memory, 0, DATA / 4);
  const data = new Uint8Array(memory, DATA);
  for (;;) {
    let state = Atomics.load(control, STATE);
    while (state !== POSTED && state !== STOP) {
      Atomics.wait(control, STATE, state);
      state = Atomics.load(control, STATE);
    }
    if (state === STOP) return;
    control[RESULT] = checksumOf(doubleSha256(data.subarray(0, control[LENGTH])));
    Atomics.store(control, STATE, READY);
    Atomics.notify(control, STATE);
  }
}

function checksumOf(d: Uint8Array): number {
  return d[0]! | (d[1]! << 8) | (d[2]! << 16) | (d[3]! << 24);
}
