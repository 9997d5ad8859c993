// The Definition's wire schema. Definitions arrive from clients (CLI, HTTP, the renderer), so the
// engine validates them before loading: shape (zod, with the failing path in the message),
// topological order, and that every vertex digest matches its content — a vertex whose digest
// lies would poison the shared graph and the cache.
import { z } from 'zod';
import type { Definition } from './definition.js';
import { vertexDigest } from './vertex-digest.js';

export { vertexDigest };

const str = z.string();
const num = z.number();
const int = z.number().int();
const owner = z.object({ user: z.union([num, str]).optional(), group: z.union([num, str]).optional() }).strict();
const platform = z.object({ os: str, architecture: str, variant: str.optional() }).strict();

const sourceOp = z.object({ kind: z.literal('source'), identifier: str.min(1), attrs: z.record(str).optional(), platform: platform.optional() }).strict();

const mount = z.discriminatedUnion('type', [
  z.object({ type: z.literal('bind'), input: int, target: str, selector: str.optional(), readonly: z.boolean().optional(), output: int.optional() }).strict(),
  z
    .object({
      type: z.literal('cache'),
      target: str,
      id: str,
      sharing: z.enum(['shared', 'private', 'locked']),
      input: int.optional(),
      selector: str.optional(),
      readonly: z.boolean().optional(),
      uid: int.optional(),
      gid: int.optional(),
      mode: int.optional(),
    })
    .strict(),
  z.object({ type: z.literal('tmpfs'), target: str, size: num.optional() }).strict(),
  z.object({ type: z.literal('secret'), target: str, id: str, uid: int.optional(), gid: int.optional(), mode: int.optional(), required: z.boolean().optional() }).strict(),
  z.object({ type: z.literal('ssh'), target: str, id: str, uid: int.optional(), gid: int.optional(), mode: int.optional(), required: z.boolean().optional() }).strict(),
]);

const execOp = z
  .object({
    kind: z.literal('exec'),
    rootfs: int,
    args: z.array(str).min(1),
    env: z.array(str),
    cwd: str,
    user: str.optional(),
    network: z.enum(['default', 'none', 'host']).optional(),
    security: z.enum(['sandbox', 'insecure']).optional(),
    mounts: z.array(mount),
    secretEnv: z.array(z.object({ name: str, id: str, required: z.boolean().optional() }).strict()).optional(),
    extraHosts: z.array(str).optional(),
    proxyEnv: z.array(str).optional(),
  })
  .strict();

const fileAction = z.discriminatedUnion('action', [
  z.object({ action: z.literal('mkdir'), path: str, mode: int, makeParents: z.boolean().optional(), owner: owner.optional(), timestamp: num.optional() }).strict(),
  z.object({ action: z.literal('mkfile'), path: str, mode: int, data: str, owner: owner.optional(), timestamp: num.optional() }).strict(),
  z.object({ action: z.literal('rm'), path: str, allowNotFound: z.boolean().optional(), allowWildcard: z.boolean().optional() }).strict(),
  z
    .object({
      action: z.literal('copy'),
      src: int,
      srcPath: str,
      destPath: str,
      owner: owner.optional(),
      mode: z.union([int, str]).optional(),
      followSymlinks: z.boolean().optional(),
      dirCopyContents: z.boolean().optional(),
      createDestPath: z.boolean().optional(),
      allowWildcard: z.boolean().optional(),
      allowEmptyWildcard: z.boolean().optional(),
      attemptUnpack: z.boolean().optional(),
      includePatterns: z.array(str).optional(),
      excludePatterns: z.array(str).optional(),
      parents: z.boolean().optional(),
      timestamp: num.optional(),
    })
    .strict(),
]);

const fileOp = z.object({ kind: z.literal('file'), base: int, actions: z.array(fileAction).min(1) }).strict();
const mergeOp = z.object({ kind: z.literal('merge'), inputs: z.array(int).min(1) }).strict();
const diffOp = z.object({ kind: z.literal('diff'), lower: int, upper: int }).strict();
const op = z.discriminatedUnion('kind', [sourceOp, execOp, fileOp, mergeOp, diffOp]);

const location = z.object({ file: str, startLine: int, endLine: int, startColumn: int.optional(), endColumn: int.optional(), nodeId: str.optional() }).strict();
const metadata = z
  .object({ description: str.optional(), group: str.optional(), ignoreCache: z.boolean().optional(), location: z.array(location).optional(), progressName: str.optional() })
  .strict();

const digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 hex>');
const vertexInput = z.object({ digest, output: int.nonnegative().optional() }).strict();
const vertex = z.object({ digest, op, inputs: z.array(vertexInput), metadata: metadata.optional() }).strict();

export const definitionSchema = z
  .object({
    version: z.literal(1),
    vertices: z.array(vertex),
    output: vertexInput.nullable(),
    imageConfig: z.record(z.unknown()).optional(),
    warnings: z.array(z.object({ rule: str, message: str, location: location.optional(), url: str.optional(), error: z.boolean().optional() }).passthrough()).optional(),
  })
  .strict();

export class DefinitionError extends Error {
  constructor(
    message: string,
    readonly path: (string | number)[] = [],
  ) {
    super(message);
    this.name = 'DefinitionError';
  }
}

export function validateDefinition(x: unknown): Definition {
  const r = definitionSchema.safeParse(x);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : '(root)';
    throw new DefinitionError(`invalid definition at ${where}: ${issue.message}`, issue.path);
  }
  const def = r.data as unknown as Definition;
  const seen = new Set<string>();
  def.vertices.forEach((v, i) => {
    const want = vertexDigest(v.op, v.inputs);
    if (want !== v.digest) throw new DefinitionError(`invalid definition at vertices.${i}.digest: ${v.digest} does not match its content (${want})`, ['vertices', i, 'digest']);
    v.inputs.forEach((inp, j) => {
      if (!seen.has(inp.digest)) throw new DefinitionError(`invalid definition at vertices.${i}.inputs.${j}: ${inp.digest} is not an earlier vertex (vertices must be inputs first)`, ['vertices', i, 'inputs', j]);
    });
    checkIndexes(v.op, v.inputs.length, i);
    seen.add(v.digest);
  });
  if (def.output && !seen.has(def.output.digest)) throw new DefinitionError(`invalid definition at output: ${def.output.digest} is not a vertex`, ['output']);
  return def;
}

function checkIndexes(o: Definition['vertices'][number]['op'], n: number, i: number): void {
  const bad = (what: string, k: number) => {
    if (k < -1 || k >= n) throw new DefinitionError(`invalid definition at vertices.${i}.op: ${what} ${k} is not an input index (vertex has ${n} inputs)`, ['vertices', i, 'op']);
  };
  switch (o.kind) {
    case 'exec':
      bad('rootfs', o.rootfs);
      for (const m of o.mounts) if (m.type === 'bind' || (m.type === 'cache' && m.input !== undefined)) bad('mount input', m.input!);
      break;
    case 'file':
      bad('base', o.base);
      for (const a of o.actions) if (a.action === 'copy') bad('copy src', a.src);
      break;
    case 'merge':
      for (const k of o.inputs) bad('merge input', k);
      break;
    case 'diff':
      bad('lower', o.lower);
      bad('upper', o.upper);
      break;
    case 'source':
      break;
  }
}
