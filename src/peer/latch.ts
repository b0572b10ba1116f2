/**
 * A value that settles once, whose promise is made only when asked for:
 * a peer nobody awaits holds no promise for its handshake or its end.
 *
 * @module
 */

/** A once-settled value with a lazily made promise. */
export class Latch<T> {
  #value: T | undefined;
  #set = false;
  #promise: Promise<T> | undefined;
  #resolve: ((value: T) => void) | undefined;

  /** A promise of the value (the same one every time). */
  get promise(): Promise<T> {
    if (this.#promise === undefined) {
      if (this.#set) {
        this.#promise = Promise.resolve(this.#value as T);
      } else {
        this.#promise = new Promise<T>((resolve) => {
          this.#resolve = resolve;
        });
      }
    }
    return this.#promise;
  }

  /**
   * Settles the value; later calls have no effect.
   *
   * @param value The value.
   */
  resolve(value: T): void {
    if (this.#set) return;
    this.#set = true;
    this.#value = value;
    this.#resolve?.(value);
    this.#resolve = undefined;
  }
}
