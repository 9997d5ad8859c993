// The graph document (*.kiln.json): a build drawn as nodes and typed edges. It is a frontend like the
// Dockerfile: graphToLLB turns it into a Definition. The zod schemas are the format's single truth;
// docs/GRAPH-FORMAT.md describes them for people.
import { z } from 'zod';

const str = z.string();
const kv = z.record(z.string());

const mountSchema = z.discriminatedUnion('type', [
  // a bind mount's filesystem arrives on the run node's `mount<i>` port (i = index in mounts)
  z.object({ type: z.literal('bind'), target: str.min(1), selector: str.optional(), readonly: z.boolean().optional() }),
  z.object({ type: z.literal('cache'), target: str.min(1), id: str.optional(), sharing: z.enum(['shared', 'private', 'locked']).optional() }),
  z.object({ type: z.literal('secret'), target: str.min(1), id: str.min(1), required: z.boolean().optional() }),
  z.object({ type: z.literal('tmpfs'), target: str.min(1), size: z.number().int().positive().optional() }),
]);
export type GraphMount = z.infer<typeof mountSchema>;

/** Parameters per node kind. */
export const paramSchemas = {
  image: z.object({ ref: str.min(1, 'an image reference is required'), platform: str.optional() }),
  local: z.object({ name: str.min(1).default('context'), include: z.array(str).optional(), exclude: z.array(str).optional() }),
  git: z.object({ url: str.min(1, 'a repository URL is required'), ref: str.optional(), subdir: str.optional(), keepGitDir: z.boolean().optional() }),
  http: z.object({ url: str.url('an http(s) URL is required'), filename: str.optional(), checksum: str.optional(), chmod: z.number().int().optional() }),
  scratch: z.object({}),
  run: z.object({
    command: str.min(1, 'a command is required'),
    /** true: run through /bin/sh -c (shell form); false: exec form, argv from `args` (else the command alone) */
    shell: z.boolean().default(true),
    args: z.array(str).optional(),
    env: kv.default({}),
    /** default: the image config's WorkingDir (as a Dockerfile RUN after WORKDIR) */
    workdir: str.optional(),
    user: str.optional(),
    network: z.enum(['default', 'none', 'host']).optional(),
    mounts: z.array(mountSchema).default([]),
  }),
  copy: z.object({
    src: z.union([str.min(1, 'a source path is required'), z.array(str.min(1)).min(1, 'a source path is required')]),
    dest: str.min(1, 'a destination path is required'),
    chown: str.optional(),
    chmod: str.regex(/^[0-7]{3,4}$/, 'chmod is an octal mode like 0755').optional(),
  }),
  mkdir: z.object({ path: str.min(1), mode: str.regex(/^[0-7]{3,4}$/).default('0755'), parents: z.boolean().default(true) }),
  mkfile: z.object({ path: str.min(1), data: str.default(''), mode: str.regex(/^[0-7]{3,4}$/).default('0644') }),
  rm: z.object({ path: str.min(1), allowNotFound: z.boolean().default(true) }),
  merge: z.object({}),
  config: z.object({
    entrypoint: z.array(str).optional(),
    cmd: z.array(str).optional(),
    env: kv.optional(),
    labels: kv.optional(),
    ports: z.array(str).optional(),
    user: str.optional(),
    workdir: str.optional(),
    /** a Dockerfile instruction with no graph parameters (ARG, SHELL, VOLUME, HEALTHCHECK…), kept verbatim */
    instruction: str.optional(),
  }),
  'export-docker': z.object({ name: str.min(1, 'an image name is required') }),
  // No password: a *.kiln.json is shared and committed. The editor remembers passwords per registry
  // host (encrypted with the OS keychain in Electron) and sends them with the run only; an old file's
  // `password` is dropped when it is parsed (zod strips keys the schema lacks).
  'export-registry': z.object({ name: str.min(1, 'an image name is required'), username: str.optional(), insecure: z.boolean().optional() }),
  'export-oci': z.object({ dest: str.min(1, 'a destination path is required') }),
  'export-docker-tar': z.object({ dest: str.min(1, 'a destination path is required'), name: str.optional() }),
  'export-rootfs': z.object({ dest: str.min(1, 'a destination path is required') }),
  'export-local': z.object({ dest: str.min(1, 'a destination folder is required') }),
} as const;

export type NodeKind = keyof typeof paramSchemas;

/** Parameters that must never be written into a document, by node kind. */
export const SECRET_PARAMS: Partial<Record<NodeKind, readonly string[]>> = { 'export-registry': ['password'] };

/** Where a (parsed or raw) document holds a secret parameter: `[{ nodeId, param }]`, empty when none. */
export function secretParams(doc: unknown): { nodeId: string; param: string }[] {
  const nodes = (doc as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(nodes)) return [];
  const found: { nodeId: string; param: string }[] = [];
  for (const n of nodes as { id?: unknown; kind?: unknown; params?: unknown }[]) {
    const params = n?.params && typeof n.params === 'object' ? (n.params as Record<string, unknown>) : undefined;
    for (const param of SECRET_PARAMS[n?.kind as NodeKind] ?? []) if (params?.[param] !== undefined) found.push({ nodeId: String(n.id), param });
  }
  return found;
}
export const NODE_KINDS = Object.keys(paramSchemas) as NodeKind[];
export type NodeParams<K extends NodeKind> = z.output<(typeof paramSchemas)[K]>;

export const nodeSchema = z.object({
  id: str.min(1),
  kind: z.enum(NODE_KINDS as [NodeKind, ...NodeKind[]]),
  params: z.record(z.unknown()).default({}),
  position: z.object({ x: z.number(), y: z.number() }).default({ x: 0, y: 0 }),
  /** Dockerfile origin, kept by dockerfileToGraph */
  location: z.object({ file: str, startLine: z.number(), endLine: z.number() }).optional(),
  label: str.optional(),
});

export const edgeSchema = z.object({
  id: str.min(1),
  source: str.min(1),
  sourcePort: str.default('out'),
  target: str.min(1),
  targetPort: str.min(1),
});

export const groupSchema = z.object({ id: str.min(1), name: str, nodes: z.array(str) });

export const documentSchema = z.object({
  kind: z.literal('kiln.graph'),
  version: z.literal(1),
  name: str.optional(),
  /** Dockerfile ARG lines before the first FROM, kept verbatim (dockerfileToGraph/graphToDockerfile) */
  metaArgs: z.array(str).optional(),
  nodes: z.array(nodeSchema),
  edges: z.array(edgeSchema).default([]),
  groups: z.array(groupSchema).default([]),
});

export type GraphNode = z.infer<typeof nodeSchema>;
export type GraphEdge = z.infer<typeof edgeSchema>;
export type GraphGroup = z.infer<typeof groupSchema>;
export type GraphDocument = z.infer<typeof documentSchema>;

export function emptyDocument(): GraphDocument {
  return { kind: 'kiln.graph', version: 1, nodes: [], edges: [], groups: [] };
}
