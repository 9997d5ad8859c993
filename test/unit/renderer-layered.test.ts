// The layered layout the editor uses for graphs too big for dagre's run (renderer/src/layered.ts):
// every edge flows forward, nothing overlaps, an input sits just before its first consumer, and a
// chain stays on one line.
import { describe, it, expect } from 'vitest';
import { layered } from '../../renderer/src/layered.js';

type Box = { x: number; y: number; w: number; h: number };
const overlap = (a: Box, b: Box) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

function boxes(items: { id: string; w: number; h: number }[], at: Map<string, { x: number; y: number }>): Map<string, Box> {
  return new Map(items.map((it) => [it.id, { ...at.get(it.id)!, w: it.w, h: it.h }]));
}

describe('layered layout', () => {
  // the shape of a BuildKit-sized Dockerfile's stages: a long FROM chain, stages fed from a few back, and bases used late
  const n = 49;
  const items = Array.from({ length: n }, (_, i) => ({ id: `s${i}`, w: 276, h: 200 + (i % 5) * 120 }));
  const edges: [string, string][] = [];
  for (let i = 1; i < n; i++) if (i % 7) edges.push([`s${i - 1}`, `s${i}`]);
  for (let i = 5; i < n; i += 3) edges.push([`s${i - 5}`, `s${i}`]);
  edges.push(['s0', 's0'], ['s7', 's40'], ['nope', 's3']);

  it('flows every edge forward, overlaps nothing, and reports a box holding everything', () => {
    const out = layered(items, edges, { nodesep: 40, ranksep: 56, dir: 'LR' });
    const b = boxes(items, out.at);
    expect(b.size).toBe(n);
    for (const [s, t] of edges) {
      if (s === t || !b.has(s)) continue;
      expect(b.get(s)!.x + b.get(s)!.w, `${s} → ${t}`).toBeLessThanOrEqual(b.get(t)!.x);
    }
    const all = [...b.entries()];
    for (let i = 0; i < all.length; i++) for (let j = i + 1; j < all.length; j++) expect(overlap(all[i]![1], all[j]![1]), `${all[i]![0]} overlaps ${all[j]![0]}`).toBe(false);
    for (const box of b.values()) {
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.y).toBeGreaterThanOrEqual(0);
      expect(box.x + box.w).toBeLessThanOrEqual(out.w + 1e-9);
      expect(box.y + box.h).toBeLessThanOrEqual(out.h + 1e-9);
    }
  });

  it('places an input just before its first consumer, not at the far left', () => {
    // a base used only by the last of a chain of five sits in the column before it
    const chain = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, w: 100, h: 50 }));
    const es: [string, string][] = [['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'e'], ['base', 'e']];
    const out = layered([...chain, { id: 'base', w: 100, h: 50 }], es, { nodesep: 10, ranksep: 20, dir: 'LR' });
    expect(out.at.get('base')!.x).toBe(out.at.get('d')!.x);
  });

  it('keeps a chain on one line, top to bottom when asked, and is deterministic', () => {
    const chain = Array.from({ length: 30 }, (_, i) => ({ id: `c${i}`, w: 240, h: 64 }));
    const es = chain.slice(1).map((c, i) => [chain[i]!.id, c.id] as [string, string]);
    const out = layered(chain, es, { nodesep: 28, ranksep: 28, dir: 'TB' });
    expect(new Set(chain.map((c) => out.at.get(c.id)!.x)).size).toBe(1);
    for (let i = 1; i < chain.length; i++) expect(out.at.get(chain[i]!.id)!.y).toBe(out.at.get(chain[i - 1]!.id)!.y + 64 + 28);
    expect(out.h).toBe(30 * 64 + 29 * 28);
    expect(layered(chain, es, { nodesep: 28, ranksep: 28, dir: 'TB' })).toEqual(out);
  });

  it('lays out a graph with a cycle without hanging, every item placed', () => {
    const out = layered([{ id: 'x', w: 10, h: 10 }, { id: 'y', w: 10, h: 10 }], [['x', 'y'], ['y', 'x']], { nodesep: 5, ranksep: 5, dir: 'LR' });
    expect([...out.at.keys()].sort()).toEqual(['x', 'y']);
  });
});
