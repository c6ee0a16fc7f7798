/**
 * The same items a number of passes over, as an iterator by hand rather than a generator: it
 * hands out one result object over and over, where a generator allocates one per item (a
 * flood of millions keeps the garbage collector busy for nothing). Its readers (transmit) read
 * each result before asking for the next.
 */
export class Replay<T> implements IterableIterator<T> {
  private readonly result: { done: false; value: T } = { done: false, value: undefined as never };
  private at = 0;

  constructor(
    private readonly items: readonly T[],
    private passes: number,
  ) {}

  [Symbol.iterator](): this {
    return this;
  }

  next(): IteratorResult<T> {
    if (this.passes <= 0 || this.items.length === 0) return { done: true, value: undefined };
    this.result.value = this.items[this.at]!;
    if (++this.at === this.items.length) {
      this.at = 0;
      this.passes--;
    }
    return this.result;
  }

  return(): IteratorResult<T> {
    this.passes = 0;
    return { done: true, value: undefined };
  }
}
