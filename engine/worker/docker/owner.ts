// Who made a container or image. Everything Kiln creates carries kiln=1; what a build makes also
// names its state root and its process (host and pid), so that an engine starting on a root can
// collect what a killed process on that root left behind — its step containers, snapshot images
// it never recorded, partial images of a load ahead — without touching what other roots, or a
// live process on this root, are using. One Docker Engine serves many roots (and may serve other
// hosts), so neither "labelled" nor "unknown to my records" alone means "mine and dead".
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type Dockerode from 'dockerode';

export const ROOT_LABEL = 'kiln.root';
export const OWNER_LABEL = 'kiln.owner';
export const PARTIAL_LABEL = 'kiln.partial';

export function rootId(root: string): string {
  return createHash('sha256').update(resolve(root)).digest('hex').slice(0, 16);
}

const self = () => `${hostname()}/${process.pid}`;

/** the labels of a container or image made by this process for `root` */
export function ownerLabels(root: string): Record<string, string> {
  return { kiln: '1', [ROOT_LABEL]: rootId(root), [OWNER_LABEL]: self() };
}

/** labels of a throwaway image that belongs to no root (a load ahead's partial image) */
export function partialLabels(): Record<string, string> {
  return { kiln: '1', [PARTIAL_LABEL]: '1', [OWNER_LABEL]: self() };
}

/** whether `owner` ("host/pid") is a process of this host that has ended */
export function ownerGone(owner: string | undefined): boolean {
  if (!owner) return false;
  const at = owner.lastIndexOf('/');
  if (owner.slice(0, at) !== hostname()) return false; // another host's process: not ours to judge
  const pid = Number(owner.slice(at + 1));
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    // EPERM: alive, another user's
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * What ended processes left on `root`: containers and images labelled with the root whose owner
 * is gone, and partial images whose owner is gone. Images may still be recorded (a snapshot a
 * finished build kept): the cache manager keeps those.
 */
export async function listLeftovers(docker: Dockerode, root: string): Promise<{ images: string[]; containers: string[] }> {
  const mine = `${ROOT_LABEL}=${rootId(root)}`;
  const [images, partials, containers] = await Promise.all([
    docker.listImages({ all: true, filters: { label: [mine] } }),
    docker.listImages({ all: true, filters: { label: [`${PARTIAL_LABEL}=1`] } }),
    docker.listContainers({ all: true, filters: { label: [mine] } }),
  ]);
  const gone = (labels: Record<string, string> | undefined | null) => ownerGone(labels?.[OWNER_LABEL]);
  return {
    images: [...new Set([...images, ...partials].filter((i) => gone(i.Labels)).map((i) => i.Id))],
    containers: containers.filter((c) => gone(c.Labels)).map((c) => c.Id),
  };
}
