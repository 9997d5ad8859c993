// The byte-progress vocabulary of a registry push, shared by the engine (which reports it) and
// its clients (which show it). Besides one status event per blob (id = the blob digest's first 12
// hex digits, as docker prints it), pushImage reports the whole push as one figure: status events
// with id `pushing <name>`, `current` bytes of `total`, where total is the sum of the image's blob
// sizes (layers + config) and current counts the bytes sent so far plus blobs the registry
// already had or mounted; it never decreases (a retried upload holds it still). The last event of
// a completed push has current === total.
// No Node imports: the renderer uses this module too.

export const PUSH_PROGRESS_PREFIX = 'pushing ';

export function pushProgressId(name: string): string {
  return `${PUSH_PROGRESS_PREFIX}${name}`;
}

/** the image name of a `pushing <name>` status id, else undefined */
export function pushProgressName(id: string): string | undefined {
  return id.startsWith(PUSH_PROGRESS_PREFIX) ? id.slice(PUSH_PROGRESS_PREFIX.length) : undefined;
}
