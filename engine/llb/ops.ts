// The low-level op graph's op kinds. An op refers to its inputs by index into the vertex's
// `inputs` list; the vertex's digest covers the op and its inputs' digests (a Merkle DAG).
// Everything here changes the result; what does not (descriptions, progress groups,
// ignore-cache) lives in VertexMetadata, outside the digest.

export type Platform = { os: string; architecture: string; variant?: string };

/** docker-image://ref, local://name, git://url#ref:subdir, https://… */
export interface SourceOp {
  kind: 'source';
  identifier: string;
  /** source-specific attributes: local include/exclude patterns, http checksum/filename/chmod, git keep-git-dir… */
  attrs?: Record<string, string>;
  platform?: Platform;
}

export type NetworkMode = 'default' | 'none' | 'host';

export type Mount =
  | {
      type: 'bind';
      /** index into the vertex inputs; -1 = scratch */
      input: number;
      target: string;
      /** path inside the input to mount */
      selector?: string;
      readonly?: boolean;
      /** index of this mount's output in the exec's outputs; absent = no output */
      output?: number;
    }
  | { type: 'cache'; target: string; id: string; sharing: 'shared' | 'private' | 'locked'; input?: number; selector?: string; readonly?: boolean; uid?: number; gid?: number; mode?: number }
  | { type: 'tmpfs'; target: string; size?: number }
  | { type: 'secret'; target: string; id: string; uid?: number; gid?: number; mode?: number; required?: boolean }
  | { type: 'ssh'; target: string; id: string; uid?: number; gid?: number; mode?: number; required?: boolean };

export interface ExecOp {
  kind: 'exec';
  /** the root filesystem: index into the vertex inputs (-1 = scratch) */
  rootfs: number;
  args: string[];
  env: string[];
  cwd: string;
  user?: string;
  network?: NetworkMode;
  security?: 'sandbox' | 'insecure';
  mounts: Mount[];
  /** env entries whose values are secrets: named here so they never reach a log or key */
  secretEnv?: { name: string; id: string; required?: boolean }[];
  /** extra /etc/hosts entries host:ip */
  extraHosts?: string[];
  /** proxy env (HTTP_PROXY …) for the process; like BuildKit's ProxyEnv, a worker's cacheMap leaves it out of the cache key */
  proxyEnv?: string[];
}

export type ChownOpt = { user?: number | string; group?: number | string };

export type FileAction =
  | { action: 'mkdir'; path: string; mode: number; makeParents?: boolean; owner?: ChownOpt; timestamp?: number }
  | { action: 'mkfile'; path: string; mode: number; data: string /* base64 */; owner?: ChownOpt; timestamp?: number }
  | { action: 'rm'; path: string; allowNotFound?: boolean; allowWildcard?: boolean }
  | {
      action: 'copy';
      /** index into the vertex inputs of the source filesystem */
      src: number;
      srcPath: string;
      destPath: string;
      owner?: ChownOpt;
      mode?: number | string;
      followSymlinks?: boolean;
      dirCopyContents?: boolean;
      createDestPath?: boolean;
      allowWildcard?: boolean;
      allowEmptyWildcard?: boolean;
      attemptUnpack?: boolean;
      includePatterns?: string[];
      excludePatterns?: string[];
      /** COPY --parents */
      parents?: boolean;
      timestamp?: number;
    };

export interface FileOp {
  kind: 'file';
  /** the filesystem the actions apply to: index into inputs, -1 = scratch */
  base: number;
  actions: FileAction[];
}

export interface MergeOp {
  kind: 'merge';
  /** indexes into inputs, lower first */
  inputs: number[];
}

/** Diff (upper minus lower) exists in BuildKit too; kept for COPY --link style results. */
export interface DiffOp {
  kind: 'diff';
  lower: number;
  upper: number;
}

export type Op = SourceOp | ExecOp | FileOp | MergeOp | DiffOp;
export type OpKind = Op['kind'];
