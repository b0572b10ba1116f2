/**
 * A binary min-heap: the sync's queue of blocks to request, lowest height
 * first.
 *
 * @module
 */

/** A min-heap ordered by a comparison function. */
export class Heap<T> {
  readonly #items: T[] = [];
  readonly #less: (a: T, b: T) => boolean;

  /**
   * Creates an empty heap.
   *
   * @param less Whether `a` comes before `b`.
   */
  constructor(less: (a: T, b: T) => boolean) {
    this.#less = less;
  }

  /** How many items it holds. */
  get size(): number {
    return this.#items.length;
  }

  /**
   * Adds an item.
   *
   * @param item The item.
   */
  push(item: T): void {
    const a = this.#items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (!this.#less(a[i]!, a[up]!)) break;
      [a[i], a[up]] = [a[up]!, a[i]!];
      i = up;
    }
  }

  /**
   * Takes the first item.
   *
   * @returns It, or `undefined` when empty.
   */
  pop(): T | undefined {
    const a = this.#items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.#less(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.#less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}
