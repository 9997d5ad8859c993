// exec: run a process in a container made from the rootfs snapshot, with the step's mounts, then
// commit the container's changes as the new snapshot. The container is removed whatever happens.
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import type { DefinitionVertex } from '../../llb/definition.js';
import { digestOf } from '../../llb/digest.js';
import type { ExecOp, Mount } from '../../llb/ops.js';
import type { CacheMap, Op, OpContext, Result } from '../../solver/types.js';
import { imageFor, imageResult, materialise, tarDir, type WorkerContext } from './context.js';
import { ExecError, TailBuffer } from './errors.js';
import { ownerLabels } from './owner.js';
import { CacheMounts } from './cachemounts.js';
import { removeMountStubs } from './stubs.js';

const BUSYBOX = '/bin/busybox';

type DockerMount = { Type: 'bind' | 'tmpfs'; Source?: string; Target: string; ReadOnly?: boolean; TmpfsOptions?: { SizeBytes?: number } };

export function execOp(w: WorkerContext, v: DefinitionVertex, cacheMounts: CacheMounts): Op {
  const op = v.op as ExecOp;
  return {
    async cacheMap(): Promise<CacheMap> {
      // Secrets and ssh sockets are session values: only their ids are in the op (and the key).
      // proxyEnv is left out, as BuildKit's ProxyEnv: a proxy change must not invalidate the step.
      const { proxyEnv: _proxy, ...keyed } = op;
      return { digest: digestOf(keyed), deps: v.inputs.map(() => ({})) };
    },
    async exec(ctx: OpContext, inputs: Result[]): Promise<Result[]> {
      return runExec(w, op, inputs, ctx, cacheMounts, v.metadata?.description);
    },
  };
}

async function runExec(w: WorkerContext, op: ExecOp, inputs: Result[], ctx: OpContext, cacheMounts: CacheMounts, _desc?: string): Promise<Result[]> {
  ctx.signal.throwIfAborted();
  const image = await imageFor(w, op.rootfs >= 0 ? inputs[op.rootfs] : undefined);
  const mounts: DockerMount[] = [];
  const cleanup: (() => void)[] = [];
  /** writable bind mounts with an output index: their private copy becomes that output */
  const outputDirs = new Map<number, string>();
  // proxy variables reach the process but never its key or history
  const env = [...op.env, ...(op.proxyEnv ?? []).filter((p) => !op.env.some((e) => e.split('=')[0] === p.split('=')[0]))];
  try {
    for (const m of op.mounts) {
      if (m.target === '/') continue; // the rootfs mount is the container's own filesystem
      const dm = await dockerMount(w, m, inputs, ctx, cacheMounts, cleanup);
      mounts.push(dm);
      if (m.type === 'bind' && m.output !== undefined && dm.Source && !dm.ReadOnly) outputDirs.set(m.output, dm.Source);
    }
    let args = op.args;
    const secretEnv = (op.secretEnv ?? []).flatMap((se) => {
      const val = ctx.session.secrets?.get(se.id);
      if (!val) {
        if (se.required) throw new Error(`secret ${se.id} not provided`);
        return [];
      }
      return [{ name: se.name, val }];
    });
    if (secretEnv.length) {
      // Secret env values must never reach the container config (commit copies it into the
      // image's ContainerConfig): a 0400 file sourced by a busybox shell under /dev (a tmpfs, so
      // the mount points leave no trace in the layer) exports them, then execs the real command.
      if (!w.localEngine) throw new Error('secret env needs a local engine');
      const dir = join(w.root, 'secrets', randomBytes(12).toString('hex'));
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
      const q = (b: Buffer) => "'" + b.toString().replace(/'/g, "'\\''") + "'";
      writeFileSync(join(dir, 'env'), secretEnv.map((e) => `export ${e.name}=${q(e.val)}`).join('\n') + '\n', { mode: 0o444 });
      mounts.push({ Type: 'bind', Source: join(dir, 'env'), Target: '/dev/.kiln-secretenv', ReadOnly: true });
      mounts.push({ Type: 'bind', Source: BUSYBOX, Target: '/dev/.kiln/busybox', ReadOnly: true });
      args = ['/dev/.kiln/busybox', 'sh', '-c', '. /dev/.kiln-secretenv && exec "$@"', 'kiln-secretenv', ...op.args];
    }
    // Docker merges the image's Env into the container's; an LLB exec's env is exact. When the
    // snapshot carries keys the op does not set (e.g. a build arg committed by an earlier step),
    // start through `busybox env -i` so the process sees exactly op.env.
    const imgEnv = (await w.docker.getImage(image).inspect()).Config?.Env ?? [];
    const keys = new Set(env.map((e) => e.split('=')[0]));
    if (imgEnv.some((e) => !keys.has(e.split('=')[0])) && w.localEngine) {
      if (!mounts.some((m) => m.Target === '/dev/.kiln/busybox')) mounts.push({ Type: 'bind', Source: BUSYBOX, Target: '/dev/.kiln/busybox', ReadOnly: true });
      args = ['/dev/.kiln/busybox', 'env', '-i', ...env.filter((e) => !secretEnv.some((s) => e.startsWith(s.name + '='))), ...args];
    }
    const [entry, ...cmd] = args;
    if (!entry) throw new Error('exec op without args');
    const network = op.network ?? 'default';
    const c = await w.docker.createContainer({
      Image: image,
      Entrypoint: [entry],
      Cmd: cmd,
      Env: env,
      WorkingDir: op.cwd || '/',
      // what BuildKit's executor names every build container (steps may print it)
      Hostname: 'buildkitsandbox',
      User: op.user ?? '',
      Labels: ownerLabels(w.root),
      Tty: false,
      AttachStdout: true,
      AttachStderr: true,
      HostConfig: {
        NetworkMode: network === 'default' ? undefined : network,
        Mounts: mounts,
        ExtraHosts: op.extraHosts,
        Privileged: op.security === 'insecure',
        AutoRemove: false,
      } as Dockerode.HostConfig,
    });
    try {
      const results: Result[] = [imageResult(await runAndCommit(w, c, op, ctx))];
      for (const [i, dir] of outputDirs) {
        const base = (await w.images.scratchImage()).id;
        results[i] = imageResult(await w.images.applyTar(base, tarDir(dir) as unknown as NodeJS.ReadableStream));
      }
      return results;
    } finally {
      await w.images.removeContainer(c);
    }
  } finally {
    for (const f of cleanup.reverse()) f();
  }
}

/**
 * The container's exit. `next-exit` is asked for before the start, but dockerd may register the
 * wait only after a quick process has already exited — then it waits for an exit that never
 * comes. So the state is also looked at now and then; whichever answers first.
 */
async function exitOf(c: Dockerode.Container, waited: Promise<{ StatusCode: number }>): Promise<{ StatusCode: number }> {
  // a wait left behind ends with an error when the container is removed: not unhandled
  waited.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const polled = new Promise<{ StatusCode: number }>((resolve) => {
    const look = () =>
      void c.inspect().then(
        (i) => (i.State.Status === 'exited' || i.State.Status === 'dead' ? resolve({ StatusCode: i.State.ExitCode }) : (timer = setTimeout(look, 500))),
        () => (timer = setTimeout(look, 500)),
      );
    timer = setTimeout(look, 500);
  });
  try {
    return await Promise.race([waited, polled]);
  } finally {
    clearTimeout(timer);
  }
}

async function runAndCommit(w: WorkerContext, c: Dockerode.Container, op: ExecOp, ctx: OpContext): Promise<string> {
  const tail = new TailBuffer(20);
  const stream = (await c.attach({ stream: true, stdout: true, stderr: true })) as NodeJS.ReadWriteStream;
  const out = new PassThrough();
  const err = new PassThrough();
  out.on('data', (d: Buffer) => {
    tail.push(d);
    ctx.progress.log(1, d);
  });
  err.on('data', (d: Buffer) => {
    tail.push(d);
    ctx.progress.log(2, d);
  });
  w.docker.modem.demuxStream(stream, out, err);
  const ended = new Promise<void>((res) => {
    stream.on('end', res);
    stream.on('close', res);
    stream.on('error', () => res());
  });
  const onAbort = () => void c.kill().catch(() => undefined);
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const waited = c.wait({ condition: 'next-exit' }) as Promise<{ StatusCode: number }>;
    await c.start();
    // a cancel during the start found no running container to kill
    if (ctx.signal.aborted) onAbort();
    const { StatusCode } = await exitOf(c, waited);
    await Promise.race([ended, new Promise((r) => setTimeout(r, 2000))]);
    ctx.signal.throwIfAborted();
    if (StatusCode !== 0) throw new ExecError(StatusCode, op.args, tail.get());
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
  const targets = op.mounts.filter((m) => m.target !== '/').map((m) => m.target);
  if ((await removeMountStubs(c, targets, w.localEngine)) === 'unsupported') ctx.progress.log(2, 'kiln: mount-point stubs may remain in this layer (engine storage is not local overlay2)\n');
  return w.images.commit(c);
}

async function dockerMount(w: WorkerContext, m: Mount, inputs: Result[], ctx: OpContext, cacheMounts: CacheMounts, cleanup: (() => void)[]): Promise<DockerMount> {
  switch (m.type) {
    case 'bind': {
      const base = await materialise(w, m.input >= 0 ? inputs[m.input] : undefined);
      const src = m.selector ? join(base, posix.normalize('/' + m.selector)) : base;
      if (!existsSync(src)) throw new Error(`bind mount source ${m.selector ?? '/'} does not exist`);
      if (m.readonly === false || (m.output !== undefined && m.readonly !== true)) {
        // rw bind (RUN --mount=type=bind,rw): writes are allowed but discarded, so the step gets
        // a private copy; the shared view (or the client's context dir) is never written.
        const copy = join(w.root, 'tmp', 'rwbind-' + randomBytes(8).toString('hex'));
        mkdirSync(join(w.root, 'tmp'), { recursive: true });
        const r = spawnSync('cp', ['-a', src, copy]);
        if (r.status !== 0) throw new Error(`copying bind mount source: ${r.stderr.toString().trim()}`);
        cleanup.push(() => rmSync(copy, { recursive: true, force: true }));
        return { Type: 'bind', Source: copy, Target: m.target, ReadOnly: false };
      }
      // Mounts from other vertices are shared views: read-only so no step can change a snapshot
      // another step relies on.
      return { Type: 'bind', Source: src, Target: m.target, ReadOnly: true };
    }
    case 'cache': {
      const { dir, release } = await cacheMounts.acquire(m, ctx.signal);
      cleanup.push(release);
      if (m.input !== undefined && m.input >= 0 && readdirSync(dir).length === 0) {
        // --mount=type=cache,from=…: a new cache starts as a copy of that snapshot's path
        const seed = join(await materialise(w, inputs[m.input]), posix.normalize('/' + (m.selector ?? '/')));
        if (existsSync(seed)) {
          const r = spawnSync('cp', ['-a', seed + '/.', dir]);
          if (r.status !== 0) throw new Error(`seeding cache mount ${m.id}: ${r.stderr.toString().trim()}`);
        }
      }
      return { Type: 'bind', Source: dir, Target: m.target, ReadOnly: !!m.readonly };
    }
    case 'tmpfs':
      return { Type: 'tmpfs', Target: m.target, TmpfsOptions: m.size ? { SizeBytes: m.size } : undefined };
    case 'secret': {
      const val = ctx.session.secrets?.get(m.id);
      if (!val) {
        if (m.required) throw new Error(`secret ${m.id} not provided`);
        // Optional and absent: BuildKit mounts nothing; an empty tmpfs keeps the path harmless.
        return { Type: 'tmpfs', Target: m.target };
      }
      const dir = join(w.root, 'secrets', randomBytes(12).toString('hex'));
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const file = join(dir, 'secret');
      writeFileSync(file, val, { mode: 0o400 });
      chownSync(file, m.uid ?? 0, m.gid ?? 0);
      chmodSync(file, m.mode ?? 0o400);
      cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
      return { Type: 'bind', Source: file, Target: m.target, ReadOnly: true };
    }
    case 'ssh': {
      const sock = ctx.session.sshAgent;
      if (!sock) {
        if (m.required === false) return { Type: 'tmpfs', Target: posix.dirname(m.target) + '/.kiln-no-ssh' };
        throw new Error(`ssh mount ${m.id}: no ssh agent in this session`);
      }
      if (!w.localEngine) throw new Error(`ssh mount ${m.id}: the engine at ${w.endpoint} is not local, so the agent socket cannot be bind-mounted`);
      return { Type: 'bind', Source: sock, Target: m.target, ReadOnly: false };
    }
  }
}

export const cacheMountDirName = (id: string) => createHash('sha256').update(id).digest('hex').slice(0, 32);
