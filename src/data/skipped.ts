// Counts of the files a folder walk left out because their names are not images' (an .svg, a
// README, a .DS_Store), by extension, so a run can say what it did not read instead of dropping
// them without a word. Bounded by the number of distinct extensions, not of files.

const NONE = '(none)';

export interface SkippedCounts {
  total: number;
  /** Files per lower-case extension ('(none)' for names without one). */
  byExtension: Record<string, number>;
}

export class SkipTally {
  private readonly counts = new Map<string, number>();
  private count = 0;

  add(extension: string): void {
    const key = extension || NONE;
    this.count++;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  get total(): number {
    return this.count;
  }

  toJSON(): SkippedCounts {
    const sorted = [...this.counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    return { total: this.count, byExtension: Object.fromEntries(sorted) };
  }

  /** "2 .svg, 1 .txt, 1 without an extension", most common first. */
  describe(): string {
    return Object.entries(this.toJSON().byExtension)
      .map(([extension, n]) => `${n} ${extension === NONE ? 'without an extension' : extension}`)
      .join(', ');
  }
}
