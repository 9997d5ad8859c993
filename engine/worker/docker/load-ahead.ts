// Loading an image's layers while the build still runs. dockerd applies a loaded archive's new
// layers one at a time, each in a process of its own (≈100 ms a layer here, however small), and
// only after the whole archive has arrived: a result of many steps waits seconds at export for
// layers that existed long before. A LoadAhead is offered each step result on the exported
// image's lineage as it completes and loads it as a partial image (its layers under a throwaway
// config), one load at a time, the newest offer next; the final load then leaves out the layers
// the engine already holds (dockerd finds them by chain id) and applies only the rest.
// Partial images are removed once the job is done with them; they are labelled kiln=1 and
// kiln.partial=1 so that a crash's leftovers can be found.
import type Dockerode from 'dockerode';
import type { LayerRef } from '../types.js';
import { loadImage } from './load.js';

import { partialLabels, PARTIAL_LABEL } from './owner.js';

export { PARTIAL_LABEL };
const START_DELAY_MS = 200;

export interface LoadAheadOptions {
  os?: string;
  architecture?: string;
}

export class LoadAhead {
  /** the chain loaded so far (diff ids, base first) */
  private loaded: string[] = [];
  private pending: Promise<LayerRef[]> | undefined;
  private inFlight: Promise<void> | undefined;
  private readonly partials = new Set<string>();
  private disposed = false;
  /** ends the start delay (the export is here, or the job is over) */
  private wake: (() => void) | undefined;

  constructor(
    private readonly docker: Dockerode,
    private readonly opts: LoadAheadOptions = {},
  ) {}

  /** a lineage result's layers: loaded after the load in flight, unless a newer offer comes first */
  offer(layers: Promise<LayerRef[]>): void {
    if (this.disposed) return;
    layers.catch(() => undefined);
    this.pending = layers;
    this.inFlight ??= this.drain().finally(() => (this.inFlight = undefined));
  }

  private async drain(): Promise<void> {
    // An idle loader waits a moment before it starts: steps that end in a quick burst (COPYs of
    // finished stages) reach the export first, and one load of them all beats a load ahead that
    // the export would have to wait for (each load is a process start in dockerd).
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, START_DELAY_MS);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.wake = undefined;
    while (this.pending && !this.disposed) {
      const next = this.pending;
      this.pending = undefined;
      let layers: LayerRef[];
      try {
        layers = await next;
      } catch {
        continue; // a result whose layers cannot be read is simply not loaded ahead
      }
      const diffIds = layers.map((l) => l.diffId);
      // nothing new (all in the engine, or a prefix of what is loaded)
      if (layers.every((l) => l.inEngine) || (diffIds.length <= this.loaded.length && diffIds.every((d, i) => this.loaded[i] === d))) continue;
      const config = {
        architecture: this.opts.architecture ?? 'amd64',
        os: this.opts.os ?? 'linux',
        config: { Labels: partialLabels() },
        rootfs: { type: 'layers', diff_ids: diffIds },
      };
      try {
        const held = this.heldOf(layers);
        // the next load (ahead, or the final one) finds dockerd's unpacker up: opened as this one starts
        const id = await loadImage(this.docker, layers, config, [], { skip: held, rewarm: true });
        this.partials.add(id);
        this.loaded = diffIds;
      } catch {
        /* the final load carries whatever did not load here */
      }
    }
  }

  /** how many leading layers of `layers` the loads so far put in the engine */
  private heldOf(layers: LayerRef[]): number {
    let n = 0;
    while (n < layers.length && n < this.loaded.length && layers[n]!.diffId === this.loaded[n]) n++;
    return n;
  }

  /**
   * For the final load of `layers`: waits for the load in flight (cheaper than sending its layers
   * again) and says how many leading layers the engine holds through the partial images.
   */
  async held(layers: LayerRef[]): Promise<number> {
    this.pending = undefined;
    this.wake?.();
    await this.inFlight;
    return this.heldOf(layers);
  }

  /** removes the partial images (their layers stay where a real image holds them) */
  async dispose(): Promise<void> {
    this.disposed = true;
    this.pending = undefined;
    this.wake?.();
    await this.inFlight;
    const ids = [...this.partials];
    this.partials.clear();
    await Promise.all(ids.map((id) => this.docker.getImage(id).remove({ force: true }).catch(() => undefined)));
  }
}
