// exec on runc: the rootfs is an overlay of the parent snapshot's layers with a fresh upper dir,
// the process runs under `runc run`, and the upper dir *is* the new snapshot: no container
// create/start/commit round trips through the engine (~0.1 s a step instead of ~0.6 s).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, rmdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { DefinitionVertex } from '../../llb/definition.js';
import type { ExecOp, Mount } from '../../llb/ops.js';
import type { Op, OpContext, Result } from '../../solver/types.js';
import { mountOverlay, unmount } from '../../snapshot/overlay/mount.js';
import { syscalls } from '../../snapshot/overlay/syscalls.js';
import { dirSize } from '../../snapshot/overlay/difftar.js';
import { ExecError, TailBuffer } from '../docker/errors.js';
import { lowersOf, overlayResult, snapshotOf, viewOf, type RuncContext } from './context.js';
import { tarSoon } from './layers.js';
import { runtimeSpec, type SpecMount } from './spec.js';
import { resolveUser } from './user.js';

type Cleanup = () => Promise<void> | void;

export function execOp(rc: RuncContext, v: DefinitionVertex, keyed: Op): Op {
  const op = v.op as ExecOp;
  return {
    // the cache map is the Docker worker's: the same step has the same key on either worker
    cacheMap: (ctx) => keyed.cacheMap(ctx),
    exec: (ctx, inputs) => runExec(rc, op, inputs, ctx),
  };
}

const inside = (rootfs: string, p: string) => join(rootfs, posix.normalize('/' + p));

function lexists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

async function runExec(rc: RuncContext, op: ExecOp, inputs: Result[], ctx: OpContext): Promise<Result[]> {
  ctx.signal.throwIfAborted();
  const parent = snapshotOf(op.rootfs >= 0 ? inputs[op.rootfs] : undefined);
  const lowers = await lowersOf(rc, parent);
  const layer = rc.store.create();
  const rootfs = rc.store.mountPoint(layer.id);
  const bundle = rc.store.bundleDir(layer.id);
  const cleanup: Cleanup[] = [];
  let committed = false;
  await mountOverlay(rc.store.root, rootfs, lowers, layer.relFs, layer.relWork);
  try {
    mkdirSync(bundle, { recursive: true, mode: 0o700 });
    const user = resolveUser(rootfs, op.user);
    const mounts: SpecMount[] = [];
    const outputs = new Map<number, string>();
    for (const m of op.mounts) {
      if (m.target === '/') continue; // the rootfs mount is the overlay itself
      const sm = await specMount(rc, m, inputs, ctx, bundle, cleanup, outputs);
      if (sm) mounts.push(sm);
    }
    mounts.push(...networkFiles(op, bundle));
    // Mount targets the rootfs lacks are created by runc in the upper dir; empty *file* stubs are
    // removed afterwards (BuildKit 0.8, the oracle, keeps the directory ones).
    const stubs = mounts.map((m) => posix.normalize('/' + m.destination)).filter((t) => !lexists(inside(rootfs, t)));
    const cwd = op.cwd || '/';
    if (!lexists(inside(rootfs, cwd))) mkdirSync(inside(rootfs, cwd), { recursive: true, mode: 0o755 });
    const env = [...op.env, ...(op.proxyEnv ?? []).filter((p) => !op.env.some((e) => e.split('=')[0] === p.split('=')[0]))];
    for (const se of op.secretEnv ?? []) {
      const val = ctx.session.secrets?.get(se.id);
      if (!val) {
        if (se.required) throw new Error(`secret ${se.id} not provided`);
        continue;
      }
      // the value lives only in the bundle's config.json (mode 0600, removed after the step)
      env.push(`${se.name}=${val.toString()}`);
    }
    const cid = `kiln-${process.pid}-${layer.id}`;
    const spec = runtimeSpec({ rootfs, args: op.args, env, cwd, user, network: op.network ?? 'default', insecure: op.security === 'insecure', mounts, cgroup: `/kiln/${cid}` });
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec), { mode: 0o600 });
    await runContainer(rc, cid, bundle, op, ctx);
    // writable mounts with an output are saved while they are still mounted
    const extra = new Map<number, Result>();
    for (const [i, dir] of outputs) extra.set(i, await outputLayer(rc, dir));
    for (const f of cleanup.splice(0).reverse()) await f();
    await unmount(rootfs);
    for (const t of stubs) {
      const p = inside(layer.fs, t);
      try {
        const st = lstatSync(p);
        if (st.isFile() && st.size === 0) unlinkSync(p);
      } catch {
        /* not created */
      }
    }
    const meta = rc.store.commit(layer.id, parent, dirSize(layer.fs));
    tarSoon(rc, meta);
    const results: Result[] = [overlayResult(meta)];
    committed = true;
    for (const [i, r] of extra) results[i] = r;
    return results;
  } finally {
    for (const f of cleanup.reverse()) await Promise.resolve(f()).catch(() => undefined);
    await unmount(rootfs).catch(() => undefined);
    try {
      rmdirSync(rootfs);
    } catch {
      /* still mounted: the next start's reconcile retries */
    }
    rmSync(bundle, { recursive: true, force: true });
    if (!committed) rc.store.discard(layer.id);
  }
}

function runContainer(rc: RuncContext, cid: string, bundle: string, op: ExecOp, ctx: OpContext): Promise<void> {
  const tail = new TailBuffer(20);
  const onOutput = (fd: 1 | 2, d: Buffer) => {
    tail.push(d);
    ctx.progress.log(fd, d);
  };
  ctx.signal.throwIfAborted();
  let done = false;
  let retry: NodeJS.Timeout | undefined;
  const kill = () => spawnSync('runc', ['--root', rc.runcRoot, 'kill', cid, 'KILL'], { stdio: 'ignore' }).status === 0;
  const onAbort = () => {
    // a cancel while `runc run` is still creating the container finds nothing to kill yet, and
    // the step would then run to its end: kill again until the container is there (or runc is done)
    if (kill() || done) return;
    retry = setInterval(() => (done || kill()) && clearInterval(retry), 50);
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const settle = () => {
    done = true;
    clearInterval(retry);
    ctx.signal.removeEventListener('abort', onAbort);
  };
  const ended = (code: number | null, signal: number | null): void => {
    settle();
    // `runc run` deletes its container when the process exits; a kill may leave the record
    if (ctx.signal.aborted || code === null) spawnSync('runc', ['--root', rc.runcRoot, 'delete', '--force', cid], { stdio: 'ignore' });
    if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('cancelled');
    const exit = code ?? 128 + (signal || 9);
    if (exit !== 0) throw new ExecError(exit, op.args, tail.get());
  };
  const argv = ['runc', '--root', rc.runcRoot, 'run', '--bundle', bundle, cid];
  const sc = syscalls();
  if (sc) {
    // through the helper: Node's own spawn blocks the event loop until runc has exec'd
    return sc.spawn(argv, onOutput).then(
      (p) =>
        p.exit.then(
          (r) => ended(r.signal ? null : r.code, r.signal || null),
          (e: Error) => {
            // the helper died under a running step: the container may live on, so it goes
            spawnSync('runc', ['--root', rc.runcRoot, 'delete', '--force', cid], { stdio: 'ignore' });
            settle();
            throw new Error(`runc: ${e.message}`);
          },
        ),
      (e: Error) => {
        settle();
        throw new Error(`runc could not be started: ${e.message}`);
      },
    );
  }
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout.on('data', (d: Buffer) => onOutput(1, d));
    p.stderr.on('data', (d: Buffer) => onOutput(2, d));
    p.on('error', (e) => (settle(), reject(new Error(`runc could not be started: ${e.message}`))));
    p.on('close', (code, sig) => {
      try {
        ended(code, sig ? 9 : null);
        resolve();
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}

/** /etc/resolv.conf and /etc/hosts, as BuildKit's executor provides them */
function networkFiles(op: ExecOp, bundle: string): SpecMount[] {
  const resolv = join(bundle, 'resolv.conf');
  try {
    copyFileSync('/etc/resolv.conf', resolv);
  } catch {
    writeFileSync(resolv, '');
  }
  const hosts = join(bundle, 'hosts');
  const extra = (op.extraHosts ?? []).map((h) => {
    const i = h.lastIndexOf(':');
    return `${h.slice(i + 1)}\t${h.slice(0, i)}`;
  });
  writeFileSync(hosts, ['127.0.0.1\tlocalhost buildkitsandbox', '::1\tlocalhost ip6-localhost ip6-loopback', ...extra, ''].join('\n'));
  chmodSync(resolv, 0o644);
  chmodSync(hosts, 0o644);
  return [
    { destination: '/etc/resolv.conf', type: 'bind', source: resolv, options: ['rbind', 'ro'] },
    { destination: '/etc/hosts', type: 'bind', source: hosts, options: ['rbind', 'ro'] },
  ];
}

async function specMount(rc: RuncContext, m: Mount, inputs: Result[], ctx: OpContext, bundle: string, cleanup: Cleanup[], outputs: Map<number, string>): Promise<SpecMount | undefined> {
  switch (m.type) {
    case 'bind': {
      const view = await viewOf(rc, m.input >= 0 ? inputs[m.input] : undefined);
      cleanup.push(view.release);
      const src = m.selector ? join(view.dir, posix.normalize('/' + m.selector)) : view.dir;
      if (!lexists(src)) throw new Error(`bind mount source ${m.selector ?? '/'} does not exist`);
      if (m.readonly === false || (m.output !== undefined && m.readonly !== true)) {
        // rw bind: writes go to a private upper dir and are discarded (or become the mount's output)
        const tmp = rc.store.create();
        const target = rc.store.mountPoint('rw-' + tmp.id);
        if (lstatSync(src).isDirectory()) {
          await mountOverlay(rc.store.root, target, [src], tmp.relFs, tmp.relWork);
          cleanup.push(async () => {
            await unmount(target);
            rmdirSync(target);
            rc.store.discard(tmp.id);
          });
          if (m.output !== undefined) outputs.set(m.output, target);
          return { destination: m.target, type: 'bind', source: target, options: ['rbind', 'rw'] };
        }
        rc.store.discard(tmp.id);
        const copy = join(bundle, 'rw-' + randomBytes(4).toString('hex'));
        copyFileSync(src, copy);
        return { destination: m.target, type: 'bind', source: copy, options: ['rbind', 'rw'] };
      }
      return { destination: m.target, type: 'bind', source: src, options: ['rbind', 'ro'] };
    }
    case 'cache': {
      const { dir, release } = await rc.cacheMounts.acquire(m, ctx.signal);
      cleanup.push(release);
      if (m.input !== undefined && m.input >= 0 && readdirSync(dir).length === 0) {
        // --mount=type=cache,from=…: a new cache starts as a copy of that snapshot's path
        const view = await viewOf(rc, inputs[m.input]);
        try {
          const seed = join(view.dir, posix.normalize('/' + (m.selector ?? '/')));
          if (existsSync(seed)) {
            const r = spawnSync('cp', ['-a', seed + '/.', dir]);
            if (r.status !== 0) throw new Error(`seeding cache mount ${m.id}: ${r.stderr.toString().trim()}`);
          }
        } finally {
          await view.release();
        }
      }
      return { destination: m.target, type: 'bind', source: dir, options: ['rbind', m.readonly ? 'ro' : 'rw'] };
    }
    case 'tmpfs':
      return { destination: m.target, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', ...(m.size ? [`size=${m.size}`] : [])] };
    case 'secret': {
      const val = ctx.session.secrets?.get(m.id);
      if (!val) {
        if (m.required) throw new Error(`secret ${m.id} not provided`);
        return undefined; // optional and absent: nothing is mounted, as in BuildKit
      }
      const file = join(bundle, 'secret-' + randomBytes(6).toString('hex'));
      writeFileSync(file, val, { mode: 0o400 });
      chownSync(file, m.uid ?? 0, m.gid ?? 0);
      chmodSync(file, m.mode ?? 0o400);
      return { destination: m.target, type: 'bind', source: file, options: ['rbind', 'ro'] };
    }
    case 'ssh': {
      const sock = ctx.session.sshAgent;
      if (!sock) {
        if (m.required === false) return undefined;
        throw new Error(`ssh mount ${m.id}: no ssh agent in this session`);
      }
      return { destination: m.target, type: 'bind', source: sock, options: ['rbind', 'rw'] };
    }
  }
}

/** a writable mount's final content as a snapshot of its own (on scratch) */
async function outputLayer(rc: RuncContext, dir: string): Promise<Result> {
  const l = rc.store.create();
  const r = spawnSync('cp', ['-a', dir + '/.', l.fs]);
  if (r.status !== 0) {
    rc.store.discard(l.id);
    throw new Error(`saving mount output: ${r.stderr.toString().trim()}`);
  }
  return overlayResult(rc.store.commit(l.id, { kind: 'scratch' }, dirSize(l.fs)));
}
