// The build history's bounds on a real SQLite database: a vertex's log keeps its last
// LOG_CAP_BYTES (the head dropped, and the kept tail says so), and only the newest MAX_BUILDS
// builds are kept. A database from before the log_dropped column is migrated in place.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { HistoryStore, LOG_CAP_BYTES, MAX_BUILDS, truncatedMarker } from '../../engine/control/history.js';

let dir: string;
let db: Database.Database;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-history-'));
  db = new Database(path.join(dir, 'state.db'));
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const vertex = (jobId: string, digest: string) => ({ type: 'vertex' as const, jobId, digest, name: `RUN ${digest}`, inputs: [], started: 1 });
const log = (jobId: string, v: string, data: string) => ({ type: 'log' as const, jobId, vertex: v, stream: 1 as const, data, timestamp: 2 });

describe('history log cap', () => {
  it('keeps the last LOG_CAP_BYTES of a chatty step and marks the log as clipped', () => {
    const h = new HistoryStore(db);
    h.begin('b1', 'chatty');
    h.record('b1', vertex('b1', 'v1'));
    // 3 chunks of 40 KiB of numbered lines: 120 KiB in, the cap is 64 KiB
    const chunks: string[] = [];
    for (let c = 0; c < 3; c++) {
      let s = '';
      for (let i = 0; s.length < 40 * 1024; i++) s += `chunk ${c} line ${String(i).padStart(6, '0')}\n`;
      chunks.push(s);
      h.record('b1', log('b1', 'v1', s));
    }
    const all = chunks.join('');
    const kept = h.get('b1')!.logs!['v1']!;
    const dropped = Buffer.byteLength(all) - LOG_CAP_BYTES;
    expect(kept.startsWith(truncatedMarker(dropped))).toBe(true);
    const tail = kept.slice(truncatedMarker(dropped).length);
    expect(Buffer.byteLength(tail)).toBe(LOG_CAP_BYTES);
    expect(all.endsWith(tail)).toBe(true);
    expect(kept).toContain(chunks[2]!.split('\n').at(-2)!);
    expect(kept).not.toContain('chunk 0 line 000000');
    // a short log is stored whole, unmarked
    h.record('b1', vertex('b1', 'v2'));
    h.record('b1', log('b1', 'v2', 'short\n'));
    expect(h.get('b1')!.logs!['v2']).toBe('short\n');
  });

  it('never starts the kept tail inside a multi-byte character', () => {
    const h = new HistoryStore(db);
    h.begin('b2', 'utf8');
    h.record('b2', vertex('b2', 'v'));
    h.record('b2', log('b2', 'v', 'x' + 'é'.repeat(LOG_CAP_BYTES)));
    const kept = h.get('b2')!.logs!['v']!;
    const tail = kept.slice(kept.indexOf('\n') + 1);
    expect(tail).not.toContain('\uFFFD');
    expect(/^é+$/.test(tail)).toBe(true);
    expect(Buffer.byteLength(tail)).toBeLessThanOrEqual(LOG_CAP_BYTES);
  });

  it('adds the dropped-bytes column to a database written before it existed', () => {
    db.exec(`CREATE TABLE control_vertices (build_id TEXT NOT NULL, digest TEXT NOT NULL, name TEXT NOT NULL, inputs TEXT NOT NULL,
      started INTEGER, completed INTEGER, cached INTEGER, error TEXT, location TEXT, logs TEXT NOT NULL DEFAULT '', PRIMARY KEY (build_id, digest))`);
    db.prepare(`INSERT INTO control_vertices (build_id, digest, name, inputs, logs) VALUES ('old', 'v', 'RUN x', '[]', 'old log')`).run();
    const h = new HistoryStore(db);
    db.prepare(`INSERT INTO control_builds (id, name, created_at, status) VALUES ('old', 'old', 1, 'completed')`).run();
    expect(h.get('old')!.logs).toEqual({ v: 'old log' });
  });
});

describe('history cached marks', () => {
  it('a completion without a cache flag is an executed step; a cache hit stays cached', () => {
    const h = new HistoryStore(db);
    h.begin('c', 'marks');
    h.record('c', vertex('c', 'ran'));
    h.record('c', { ...vertex('c', 'ran'), completed: 5 });
    h.record('c', { ...vertex('c', 'hit'), cached: true, completed: 1 });
    h.record('c', { ...vertex('c', 'hit'), completed: 2 });
    h.record('c', vertex('c', 'pending'));
    const byDigest = new Map(h.get('c')!.vertices!.map((v) => [v.digest, v]));
    expect(byDigest.get('ran')).toMatchObject({ started: 1, completed: 5, cached: false });
    expect(byDigest.get('hit')?.cached).toBe(true);
    expect(byDigest.get('pending')?.cached).toBeUndefined();
  });
});

describe('history size', () => {
  it(`keeps the newest ${MAX_BUILDS} builds and drops the oldest with their vertices`, () => {
    const h = new HistoryStore(db);
    const n = MAX_BUILDS + 7;
    for (let i = 0; i < n; i++) {
      h.begin(`b${i}`, `build ${i}`, 1000 + i);
      h.record(`b${i}`, vertex(`b${i}`, 'v'));
      h.record(`b${i}`, log(`b${i}`, 'v', `out ${i}\n`));
      h.finish(`b${i}`, 'completed', undefined, 2000 + i);
    }
    const ids = h.list(10_000).map((e) => e.id);
    expect(ids).toHaveLength(MAX_BUILDS);
    expect(ids[0]).toBe(`b${n - 1}`);
    expect(ids.at(-1)).toBe(`b${n - MAX_BUILDS}`);
    for (let i = 0; i < 7; i++) expect(h.get(`b${i}`)).toBeUndefined();
    expect(h.get(`b${n - 1}`)!.logs).toEqual({ v: `out ${n - 1}\n` });
    const orphans = db.prepare(`SELECT COUNT(*) AS c FROM control_vertices WHERE build_id NOT IN (SELECT id FROM control_builds)`).get() as { c: number };
    expect(orphans.c).toBe(0);
  });

  it('takes a smaller cap from its options', () => {
    const h = new HistoryStore(db, { maxBuilds: 3 });
    for (let i = 0; i < 5; i++) h.begin(`s${i}`, 'x', 10 + i);
    expect(h.list().map((e) => e.id)).toEqual(['s4', 's3', 's2']);
  });
});
