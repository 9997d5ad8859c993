// Pull through the registry API: tag → manifest (an index resolves to the platform's
// manifest) → config → layer blobs. For the image source when the engine cannot pull itself.
import type { ImageConfig } from '../llb/image.js';
import { RegistryClient, type RegistryClientOptions } from './client.js';
import { parseReference } from './reference.js';

interface Desc { mediaType: string; digest: string; size: number; platform?: { os: string; architecture: string; variant?: string } }

export interface PulledManifest {
  registry: string; repository: string;
  digest: string; mediaType: string;
  config: ImageConfig; configDigest: string;
  layers: Desc[];
  client: RegistryClient;
}

export function defaultPlatform(): { os: string; architecture: string } {
  return { os: 'linux', architecture: process.arch === 'x64' ? 'amd64' : process.arch };
}

export async function resolveImageManifest(name: string, o: RegistryClientOptions & { platform?: { os: string; architecture: string; variant?: string } } = {}): Promise<PulledManifest> {
  const ref = parseReference(name);
  const client = new RegistryClient(ref.registry, o);
  const plat: { os: string; architecture: string; variant?: string } = o.platform ?? defaultPlatform();
  let m = await client.getManifest(ref.repository, ref.digest ?? ref.tag!);
  let j = JSON.parse(m.bytes.toString()) as { mediaType?: string; manifests?: Desc[]; config?: Desc; layers?: Desc[] };
  if (j.manifests) {
    const pick = j.manifests.find((d) => d.platform?.os === plat.os && d.platform.architecture === plat.architecture && (!plat.variant || d.platform.variant === plat.variant));
    if (!pick) throw new Error(`${name}: no manifest for ${plat.os}/${plat.architecture} (has ${j.manifests.map((d) => `${d.platform?.os}/${d.platform?.architecture}`).join(', ')})`);
    m = await client.getManifest(ref.repository, pick.digest);
    j = JSON.parse(m.bytes.toString()) as typeof j;
  }
  if (!j.config || !j.layers) throw new Error(`${name}: unsupported manifest ${m.mediaType}`);
  const config = JSON.parse((await client.getBlob(ref.repository, j.config.digest)).toString()) as ImageConfig;
  return { registry: ref.registry, repository: ref.repository, digest: m.digest, mediaType: m.mediaType, config, configDigest: j.config.digest, layers: j.layers, client };
}
