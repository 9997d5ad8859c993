// What a step's result *is*. For the Docker worker a snapshot is an image in the engine (a
// committed container or a pulled image); scratch is the empty filesystem; a local context is a
// host directory that is read in place (no image is made for it). For the runc worker a snapshot
// is an overlay layer: a host directory of one step's changes on top of its parent snapshot
// (engine/snapshot/overlay).

export interface Snapshot {
  kind: 'image' | 'scratch' | 'local' | 'overlay';
  /** engine image id (sha256:…) for kind=image */
  imageId?: string;
  /** kind=local: absolute host directory of the context */
  dir?: string;
  /** kind=local: the filters the context was selected with */
  includePatterns?: string[];
  excludePatterns?: string[];
  /** kind=overlay: the layer id in the overlay store (its parent chain is in the layer's metadata) */
  layer?: string;
}

export const SCRATCH_ID = 'scratch';
