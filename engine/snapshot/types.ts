// What a step's result *is*. For the Docker worker a snapshot is an image in the engine (a
// committed container or a pulled image); scratch is the empty filesystem.

export interface Snapshot {
  kind: 'image' | 'scratch';
  /** engine image id (sha256:…) for kind=image */
  imageId?: string;
}

export const SCRATCH_ID = 'scratch';
