/** What the heap needs from an entry: its deadline, and a slot where the heap keeps its index. */
export interface HeapEntry {
  deadline: number;
  /** Position in the heap, -1 when not in it. Owned by the heap. */
  heapIndex: number;
}

/**
 * Min-heap by deadline. Each entry carries its own index, so removing or rescheduling one (an ack,
 * an extend) is O(log n) with no search and no stale entries left behind to skip later.
 */
export class DeadlineHeap<T extends HeapEntry> {
  readonly #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(entry: T, deadline: number): void {
    entry.deadline = deadline;
    entry.heapIndex = this.#items.push(entry) - 1;
    this.#up(entry.heapIndex);
  }

  update(entry: T, deadline: number): void {
    if (entry.heapIndex < 0) return;
    entry.deadline = deadline;
    this.#up(entry.heapIndex);
    this.#down(entry.heapIndex);
  }

  remove(entry: T): void {
    const i = entry.heapIndex;
    if (i < 0) return;
    entry.heapIndex = -1;
    const last = this.#items.pop();
    if (last === undefined || last === entry) return;
    this.#items[i] = last;
    last.heapIndex = i;
    this.#up(i);
    this.#down(last.heapIndex);
  }

  #up(i: number): void {
    const items = this.#items;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]!.deadline <= items[i]!.deadline) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const items = this.#items;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < items.length && items[left]!.deadline < items[least]!.deadline) least = left;
      if (right < items.length && items[right]!.deadline < items[least]!.deadline) least = right;
      if (least === i) return;
      this.#swap(i, least);
      i = least;
    }
  }

  #swap(a: number, b: number): void {
    const items = this.#items;
    const x = items[a]!;
    const y = items[b]!;
    items[a] = y;
    items[b] = x;
    x.heapIndex = b;
    y.heapIndex = a;
  }
}
