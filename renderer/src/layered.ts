// A small layered (Sugiyama-style) layout for graphs too big for dagre to rank in the time an open
// may take. Dagre's crossing minimisation and coordinate assignment took 100–200 ms on the 49
// stage boxes of a BuildKit-sized Dockerfile; this takes a few. It ranks by longest path, pulls
// each item as close to its consumers as its inputs allow (as dagre's network simplex does), orders
// each rank by the barycentre of its neighbours over a few sweeps, and places each item level with
// the items that feed it.

export interface Item { id: string; w: number; h: number }
export interface Placed { w: number; h: number; at: Map<string, { x: number; y: number }> }

export function layered(items: Item[], edges: [string, string][], opts: { nodesep: number; ranksep: number; dir: 'LR' | 'TB' }): Placed {
  const index = new Map(items.map((it, i) => [it.id, i]));
  const preds = items.map(() => new Set<number>());
  const succs = items.map(() => new Set<number>());
  for (const [s, t] of edges) {
    const a = index.get(s), b = index.get(t);
    if (a === undefined || b === undefined || a === b) continue;
    succs[a]!.add(b);
    preds[b]!.add(a);
  }
  const topo = topoOrder(items.length, preds, succs);
  // ranks: longest path from the sources, then each item moved up to just before its first consumer
  const rank = new Array<number>(items.length).fill(0);
  for (const v of topo) for (const p of preds[v]!) rank[v] = Math.max(rank[v]!, rank[p]! + 1);
  for (let i = topo.length - 1; i >= 0; i--) {
    const v = topo[i]!;
    if (!succs[v]!.size) continue;
    let first = Infinity;
    for (const s of succs[v]!) first = Math.min(first, rank[s]!);
    if (first - 1 > rank[v]!) rank[v] = first - 1;
  }
  const layers: number[][] = [];
  for (let v = 0; v < items.length; v++) (layers[rank[v]!] ??= []).push(v);
  for (let r = 0; r < layers.length; r++) layers[r] ??= [];
  // order within ranks: barycentre of the neighbours' positions, sweeping down and up
  const pos = new Array<number>(items.length).fill(0);
  const renumber = () => layers.forEach((l) => l.forEach((v, i) => (pos[v] = i / Math.max(1, l.length))));
  renumber();
  for (let sweep = 0; sweep < 4; sweep++) {
    const down = sweep % 2 === 0;
    const order = down ? layers : [...layers].reverse();
    for (const layer of order) {
      const key = new Map<number, number>();
      for (const v of layer) {
        const ns = down ? preds[v]! : succs[v]!;
        let sum = 0;
        for (const n of ns) sum += pos[n]!;
        key.set(v, ns.size ? sum / ns.size : pos[v]!);
      }
      layer.sort((a, b) => key.get(a)! - key.get(b)! || pos[a]! - pos[b]!);
      layer.forEach((v, i) => (pos[v] = i / Math.max(1, layer.length)));
    }
  }
  // coordinates: ranks along the flow, items across it level with what feeds them
  const lr = opts.dir === 'LR';
  const along = (v: number) => (lr ? items[v]!.w : items[v]!.h);
  const across = (v: number) => (lr ? items[v]!.h : items[v]!.w);
  const start = new Array<number>(layers.length).fill(0);
  for (let r = 1; r < layers.length; r++) start[r] = start[r - 1]! + Math.max(0, ...layers[r - 1]!.map(along)) + opts.ranksep;
  const centre = new Array<number>(items.length).fill(0);
  const placeLayer = (layer: number[], want: (v: number) => number | undefined) => {
    let end = -Infinity;
    for (const v of layer) {
      const half = across(v) / 2;
      const min = end === -Infinity ? -Infinity : end + opts.nodesep + half;
      const w = want(v);
      const c = w === undefined ? (end === -Infinity ? half : min) : Math.max(w, min);
      centre[v] = c;
      end = c + half;
    }
  };
  const mean = (ns: Set<number>) => {
    if (!ns.size) return undefined;
    let s = 0;
    for (const n of ns) s += centre[n]!;
    return s / ns.size;
  };
  for (const layer of layers) placeLayer(layer, (v) => mean(preds[v]!));
  // sources sit level with what they feed, where that leaves room
  for (let r = layers.length - 1; r >= 0; r--) placeLayer(layers[r]!, (v) => (preds[v]!.size ? centre[v] : mean(succs[v]!) ?? centre[v]));
  let lo = Infinity, hi = -Infinity, end = 0;
  for (let v = 0; v < items.length; v++) {
    lo = Math.min(lo, centre[v]! - across(v) / 2);
    hi = Math.max(hi, centre[v]! + across(v) / 2);
    end = Math.max(end, start[rank[v]!]! + along(v));
  }
  const at = new Map<string, { x: number; y: number }>();
  for (let v = 0; v < items.length; v++) {
    const a = start[rank[v]!]!, c = centre[v]! - across(v) / 2 - lo;
    at.set(items[v]!.id, lr ? { x: a, y: c } : { x: c, y: a });
  }
  return lr ? { w: end, h: hi - lo, at } : { w: hi - lo, h: end, at };
}

/** Kahn's order, stable by input position; anything left on a cycle follows in input order */
function topoOrder(n: number, preds: Set<number>[], succs: Set<number>[]): number[] {
  const indeg = preds.map((p) => p.size);
  const out: number[] = [];
  const ready: number[] = [];
  for (let v = 0; v < n; v++) if (!indeg[v]) ready.push(v);
  const done = new Array<boolean>(n).fill(false);
  while (ready.length) {
    ready.sort((a, b) => a - b);
    const v = ready.shift()!;
    done[v] = true;
    out.push(v);
    for (const s of succs[v]!) if (--indeg[s]! === 0) ready.push(s);
  }
  for (let v = 0; v < n; v++) if (!done[v]) out.push(v);
  return out;
}
