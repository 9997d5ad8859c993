// Source identifiers by scheme. The Docker worker implements each source
// (engine/worker/docker/source-*.ts); this is the scheme-level vocabulary other modules share.
export { imageRefOf, registryHost } from '../worker/docker/source-image.js';
export { parseGitIdentifier, isGitIdentifier, type GitRef } from '../worker/docker/source-git.js';
export { localName } from '../worker/docker/source-local.js';

export type SourceScheme = 'docker-image' | 'local' | 'git' | 'http';

export function sourceScheme(identifier: string): SourceScheme | undefined {
  if (identifier.startsWith('docker-image://')) return 'docker-image';
  if (identifier.startsWith('local://')) return 'local';
  if (identifier.startsWith('git://') || /^https?:\/\/.*\.git(#.*)?$/.test(identifier) || identifier.startsWith('git@') || identifier.startsWith('ssh://')) return 'git';
  if (/^https?:\/\//.test(identifier)) return 'http';
  return undefined;
}
