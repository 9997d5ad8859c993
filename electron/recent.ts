// Recently opened Dockerfiles and graphs, most recent first, kept in userData/recent.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const MAX = 10;

export class RecentFiles {
  private list: string[];
  constructor(private readonly file: string) {
    try {
      const raw: unknown = JSON.parse(readFileSync(file, 'utf8'));
      this.list = Array.isArray(raw) ? raw.filter((x): x is string => typeof x === 'string').slice(0, MAX) : [];
    } catch {
      this.list = [];
    }
  }
  all(): string[] {
    return [...this.list];
  }
  add(p: string): string[] {
    const abs = path.resolve(p);
    this.list = [abs, ...this.list.filter((x) => x !== abs)].slice(0, MAX);
    this.save();
    return this.all();
  }
  clear(): void {
    this.list = [];
    this.save();
  }
  private save(): void {
    mkdirSync(path.dirname(this.file), { recursive: true });
    writeFileSync(this.file, JSON.stringify(this.list, null, 2));
  }
}
