import { requestKey } from '../profile/merge';
import type { RecordedRequest } from '../profile/schema';

/**
 * The most frequent requests in bounded memory: the Space-Saving algorithm (Metwally et al.)
 * tracks `capacity` keys; a new key takes the place of the least counted one and inherits its
 * count, so heavy hitters stay however long the process runs and however many distinct URLs it sees.
 */
export class RequestSample {
  private readonly entries = new Map<string, RecordedRequest>();

  constructor(private readonly capacity: number) {}

  add(request: Omit<RecordedRequest, 'count'>): void {
    if (this.capacity <= 0) return;
    const key = requestKey(request);
    const known = this.entries.get(key);
    if (known) {
      known.count++;
      return;
    }
    let inherited = 0;
    if (this.entries.size >= this.capacity) {
      let minKey = '';
      let min = Infinity;
      for (const [k, e] of this.entries) if (e.count < min) [min, minKey] = [e.count, k];
      this.entries.delete(minKey);
      inherited = min;
    }
    this.entries.set(key, { ...request, count: inherited + 1 });
  }

  get size(): number {
    return this.entries.size;
  }

  /** The `limit` most frequent, most frequent first. */
  top(limit: number): RecordedRequest[] {
    return [...this.entries.values()].sort((a, b) => b.count - a.count || requestKey(a).localeCompare(requestKey(b))).slice(0, limit).map((e) => ({ ...e }));
  }
}
