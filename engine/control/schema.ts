// zod schemas for every message of the control API (./api.ts). Each transport validates what
// crosses it: the HTTP server parses request bodies, the HTTP client parses responses, the
// WebSocket both ways. The in-process transport validates requests too, so a bad call fails the
// same way everywhere.
import { z } from 'zod';

const location = z.object({
  file: z.string(),
  startLine: z.number(),
  endLine: z.number(),
  startColumn: z.number().optional(),
  endColumn: z.number().optional(),
  nodeId: z.string().optional(),
});

const warning = z.object({
  rule: z.string(),
  message: z.string(),
  location: location.optional(),
  url: z.string().optional(),
  error: z.boolean().optional(),
});

const stringMap = z.record(z.string(), z.string());

// Definitions are validated in depth by engine/llb/schema.ts (validateDefinition) inside the
// service; at the boundary only their outer shape is checked.
const definitionShape = z
  .object({ version: z.literal(1), vertices: z.array(z.any()), output: z.any() })
  .passthrough();

export const outputSpecSchema = z.object({ type: z.string().min(1), attrs: stringMap });
const cacheMode = (a: Record<string, string>) => a['mode'] === undefined || a['mode'] === 'min' || a['mode'] === 'max';
const cacheToSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('local'), attrs: stringMap.refine((a) => !!a['dest'], 'dest is required').refine(cacheMode, 'mode is min or max') }),
  z.object({ type: z.literal('registry'), attrs: stringMap.refine((a) => !!a['ref'], 'ref is required').refine(cacheMode, 'mode is min or max') }),
]);
const cacheFromSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('local'), attrs: stringMap.refine((a) => !!a['src'], 'src is required') }),
  z.object({ type: z.literal('registry'), attrs: stringMap.refine((a) => !!a['ref'], 'ref is required') }),
]);

export const solveInputSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('dockerfile'),
    dockerfile: z.string(),
    filename: z.string().optional(),
    context: z.string(),
    target: z.string().optional(),
    buildArgs: stringMap.optional(),
    buildContexts: stringMap.optional(),
  }),
  z.object({ kind: z.literal('graph'), document: z.unknown(), context: z.string().optional(), target: z.string().optional(), targets: z.array(z.string().min(1)).min(1).optional() }),
  z.object({
    kind: z.literal('definition'),
    definition: definitionShape,
    localDirs: stringMap.optional(),
    targets: z.array(z.object({ vertex: z.string().min(1), outputs: z.array(outputSpecSchema).optional(), imageConfig: z.any().optional(), noCache: z.boolean().optional(), cacheTo: z.array(cacheToSchema).optional() })).min(1).optional(),
  }),
]);

export const solveOptionsSchema = z.object({
  outputs: z.array(outputSpecSchema).optional(),
  noCache: z.boolean().optional(),
  noCacheFilter: z.array(z.string()).optional(),
  network: z.enum(['default', 'none', 'host']).optional(),
  secrets: stringMap.optional(),
  ssh: z.array(z.string()).optional(),
  allowInsecure: z.boolean().optional(),
  exportVertex: z.string().optional(),
  cacheFrom: z.array(cacheFromSchema).optional(),
  cacheTo: z.array(cacheToSchema).optional(),
  name: z.string().optional(),
});

export const solveRequestSchema = z.object({
  input: solveInputSchema,
  options: solveOptionsSchema.optional(),
  id: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/).optional(),
});

export const buildErrorSchema = z.object({
  message: z.string(),
  code: z.string().optional(),
  vertex: z.string().optional(),
  exitCode: z.number().optional(),
  logTail: z.array(z.string()).optional(),
  location: location.optional(),
  excerpt: z.string().optional(),
});

export const solveResponseSchema = z.object({
  id: z.string(),
  ok: z.boolean(),
  error: buildErrorSchema.optional(),
  exports: z.array(stringMap),
  warnings: z.array(warning),
  output: z.string().optional(),
  durationMs: z.number(),
});

export const progressEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('vertex'),
    jobId: z.string(),
    digest: z.string(),
    name: z.string(),
    inputs: z.array(z.string()),
    started: z.number().optional(),
    completed: z.number().optional(),
    cached: z.boolean().optional(),
    error: z.string().optional(),
  }),
  z.object({
    type: z.literal('status'),
    jobId: z.string(),
    vertex: z.string(),
    id: z.string(),
    current: z.number(),
    total: z.number().optional(),
    timestamp: z.number(),
  }),
  z.object({ type: z.literal('log'), jobId: z.string(), vertex: z.string(), stream: z.union([z.literal(1), z.literal(2)]), data: z.string(), timestamp: z.number() }),
]);

export const vertexRecordSchema = z.object({
  digest: z.string(),
  name: z.string(),
  inputs: z.array(z.string()),
  started: z.number().optional(),
  completed: z.number().optional(),
  cached: z.boolean().optional(),
  error: z.string().optional(),
  location: location.optional(),
});

export const historyEntrySchema = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.number(),
  completedAt: z.number().optional(),
  status: z.enum(['running', 'completed', 'failed', 'canceled']),
  error: buildErrorSchema.optional(),
  vertices: z.array(vertexRecordSchema).optional(),
  logs: stringMap.optional(),
});

export const duRecordSchema = z.object({
  id: z.string(),
  key: z.string(),
  type: z.enum(['regular', 'source.local', 'exec.cachemount', 'source.git']),
  size: z.number(),
  createdAt: z.number(),
  lastUsedAt: z.number(),
  usageCount: z.number(),
  description: z.string().optional(),
});

export const duResponseSchema = z.object({ records: z.array(duRecordSchema), total: z.number(), byType: z.record(z.string(), z.number()), imageCopies: z.object({ count: z.number(), size: z.number() }).optional() });

export const pruneRequestSchema = z.object({
  all: z.boolean().optional(),
  keepStorage: z.number().nonnegative().optional(),
  keepDurationMs: z.number().nonnegative().optional(),
  filters: z.array(z.string()).optional(),
});

export const pruneResponseSchema = z.object({ removed: z.array(duRecordSchema), reclaimed: z.number() });

export const workerInfoSchema = z.object({
  id: z.string(),
  kind: z.string(),
  endpoint: z.string(),
  engineVersion: z.string().optional(),
  platforms: z.array(z.string()),
  ok: z.boolean(),
  error: z.string().optional(),
});

export const infoResponseSchema = z.object({
  version: z.string(),
  engine: z.object({ ok: z.boolean(), endpoint: z.string(), version: z.string().optional(), error: z.string().optional(), hint: z.string().optional() }),
  root: z.string(),
  service: z.object({ role: z.string(), pid: z.number().int() }).optional(),
});

export const graphResponseSchema = z.object({
  stages: z.array(z.object({ name: z.string(), index: z.number(), base: z.string(), dependsOn: z.array(z.string()) })),
  vertices: z.array(z.object({ digest: z.string(), name: z.string(), op: z.string(), inputs: z.array(z.string()), location: location.optional() })),
  warnings: z.array(warning),
});

export const projectRequestSchema = z.object({ path: z.string().min(1), targets: z.array(z.string().min(1)).optional() });

export const projectResponseSchema = z.object({
  file: z.string(),
  dir: z.string(),
  targets: z.array(
    z.object({
      name: z.string(),
      dockerfile: z.string(),
      dockerfilePath: z.string(),
      context: z.string(),
      target: z.string().optional(),
      args: stringMap,
      tags: z.array(z.string()),
      contexts: stringMap,
      dependsOn: z.array(z.string()),
    }),
  ),
});

const idSchema = z.object({ id: z.string().min(1) });

/**
 * Request/response schemas per method, as the HTTP transport carries them: `POST /api/<method>`
 * with the request object as the body, the response as the body of the reply.
 */
export const methodSchemas = {
  solve: { request: solveRequestSchema, response: solveResponseSchema },
  cancel: { request: idSchema, response: z.object({}).passthrough() },
  historyList: { request: z.object({}).passthrough(), response: z.array(historyEntrySchema) },
  historyGet: { request: idSchema, response: historyEntrySchema.nullable() },
  du: { request: z.object({}).passthrough(), response: duResponseSchema },
  prune: { request: pruneRequestSchema, response: pruneResponseSchema },
  workers: { request: z.object({}).passthrough(), response: z.array(workerInfoSchema) },
  info: { request: z.object({}).passthrough(), response: infoResponseSchema },
  graph: { request: solveInputSchema, response: graphResponseSchema },
  project: { request: projectRequestSchema, response: projectResponseSchema },
} as const;

export type RpcMethod = keyof typeof methodSchemas;
export const RPC_METHODS = Object.keys(methodSchemas) as RpcMethod[];

/** WebSocket messages for `status` (client → server, then server → client). */
export const wsClientMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('subscribe'), buildId: z.string().min(1) }),
  z.object({ type: z.literal('unsubscribe'), buildId: z.string().min(1) }),
]);

export const wsServerMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('event'), buildId: z.string(), event: progressEventSchema }),
  z.object({ type: z.literal('end'), buildId: z.string() }),
  z.object({ type: z.literal('error'), message: z.string(), buildId: z.string().optional() }),
]);

/** A zod failure as one readable line (path: message; …). */
export function formatZodError(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

export class ApiValidationError extends Error {
  readonly code = 'invalid_request';
  constructor(message: string) {
    super(message);
    this.name = 'ApiValidationError';
  }
}

export function parseOrThrow<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new ApiValidationError(`invalid ${what}: ${formatZodError(r.error)}`);
  return r.data;
}
