// The overlay snapshotter's system calls on the real kernel: the perl helper (syscalls.ts) and the
// mount(8)/umount(8)/getfattr fallback must behave the same — writable overlays put changes in
// the upper dir, read-only views refuse writes, opaque dirs are found, errors name the mount,
// and an idle helper does not keep a process alive.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountOverlay, unmount } from '../../engine/snapshot/overlay/mount.js';
import { opaqueDirs } from '../../engine/snapshot/overlay/difftar.js';
import { syscalls } from '../../engine/snapshot/overlay/syscalls.js';
import { findExecutable } from '../../engine/snapshot/overlay/which.js';

const canMount = process.getuid?.() === 0 && /\toverlay\n/.test(readFileSync('/proc/filesystems', 'utf8'));
const mounted = (dir: string) => readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === dir);

describe.skipIf(!canMount)('overlay system calls', () => {
  let root: string;
  let n = 0;
  const fresh = () => {
    const d = join(root, `t${n++}`);
    for (const s of ['lower', 'lower2', 'upper', 'work', 'mnt']) mkdirSync(join(d, s), { recursive: true });
    writeFileSync(join(d, 'lower', 'a.txt'), 'from lower');
    mkdirSync(join(d, 'lower', 'dir', 'sub'), { recursive: true });
    writeFileSync(join(d, 'lower', 'dir', 'sub', 'old'), 'old');
    writeFileSync(join(d, 'lower2', 'b.txt'), 'from lower2');
    return d;
  };

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'kiln-sys-'));
  });
  afterAll(() => {
    for (const l of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const m = l.split(' ')[1];
      if (m?.startsWith(root)) spawnSync('umount', ['-l', m]);
    }
    rmSync(root, { recursive: true, force: true });
  });

  it('has the helper on this machine (perl and a known syscall table)', () => {
    expect(findExecutable('perl')).toBeTruthy();
    expect(syscalls()).toBeDefined();
  });

  it('starts processes through the helper: output per stream in order, exit codes, signals, stdin empty', async () => {
    const sc = syscalls()!;
    const run = async (argv: string[]) => {
      const out: Record<number, Buffer[]> = { 1: [], 2: [] };
      const p = await sc.spawn(argv, (fd, d) => out[fd]!.push(d));
      expect(p.pid).toBeGreaterThan(0);
      const r = await p.exit;
      return { ...r, stdout: Buffer.concat(out[1]!).toString(), stderr: Buffer.concat(out[2]!).toString() };
    };
    // 200 kB crosses many pipe reads; the bytes arrive complete and in order
    const big = await run(['/bin/sh', '-c', 'seq 1 40000; echo err >&2; exit 3']);
    expect(big.stdout).toBe(Array.from({ length: 40000 }, (_, i) => i + 1).join('\n') + '\n');
    expect(big.stderr).toBe('err\n');
    expect(big).toMatchObject({ code: 3, signal: 0 });
    expect(await run(['/bin/sh', '-c', 'kill -TERM $$'])).toMatchObject({ signal: 15 });
    expect((await run(['/bin/sh', '-c', 'cat; echo done'])).stdout).toBe('done\n');
    const missing = await run(['/nonexistent/tool']);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toMatch(/cannot run \/nonexistent\/tool/);
    // many at once, some exiting immediately: every one is reaped and reported
    const many = await Promise.all(Array.from({ length: 30 }, (_, i) => run(['/bin/sh', '-c', `echo ${i}; exit ${i % 5}`])));
    many.forEach((r, i) => expect(r).toMatchObject({ code: i % 5, stdout: `${i}\n` }));
  });

  it('a writable overlay puts new files and whiteouts in the upper dir; unmount detaches it', async () => {
    const d = fresh();
    await mountOverlay(d, join(d, 'mnt'), ['lower2', 'lower'], 'upper', 'work');
    expect(mounted(join(d, 'mnt'))).toBe(true);
    expect(readFileSync(join(d, 'mnt', 'a.txt'), 'utf8')).toBe('from lower');
    expect(readFileSync(join(d, 'mnt', 'b.txt'), 'utf8')).toBe('from lower2');
    writeFileSync(join(d, 'mnt', 'new.txt'), 'new');
    rmSync(join(d, 'mnt', 'a.txt'));
    await unmount(join(d, 'mnt'));
    expect(mounted(join(d, 'mnt'))).toBe(false);
    expect(readFileSync(join(d, 'upper', 'new.txt'), 'utf8')).toBe('new');
    // a deleted lower file is a 0/0 character device in the upper dir
    const st = spawnSync('stat', ['-c', '%F %t:%T', join(d, 'upper', 'a.txt')], { encoding: 'utf8' }).stdout.trim();
    expect(st).toBe('character special file 0:0');
    expect(readFileSync(join(d, 'lower', 'a.txt'), 'utf8')).toBe('from lower');
  });

  it('a read-only view (one lower: a bind, two: an overlay) refuses writes', async () => {
    const d = fresh();
    for (const lowers of [['lower'], ['lower2', 'lower']]) {
      const target = join(d, `ro-${lowers.length}`);
      await mountOverlay(d, target, lowers);
      expect(readFileSync(join(target, 'a.txt'), 'utf8')).toBe('from lower');
      expect(() => writeFileSync(join(target, 'x'), 'x')).toThrow(/EROFS|read-only/);
      await unmount(target);
      expect(mounted(target)).toBe(false);
    }
    expect(existsSync(join(d, 'lower', 'x'))).toBe(false);
  });

  it('unmounting what is not mounted is not an error', async () => {
    const d = fresh();
    await expect(unmount(join(d, 'mnt'))).resolves.toBeUndefined();
  });

  it('a refused mount names the target and the reason', async () => {
    const d = fresh();
    await expect(mountOverlay(d, join(d, 'mnt'), ['no-such-lower', 'lower'], 'upper', 'work')).rejects.toThrow(/mnt.*(No such file|not found|ENOENT)/i);
    expect(mounted(join(d, 'mnt'))).toBe(false);
  });

  it('finds opaque dirs, the same set getfattr finds', async () => {
    const d = fresh();
    await mountOverlay(d, join(d, 'mnt'), ['lower'], 'upper', 'work');
    // a removed and re-made directory hides everything below it: overlayfs marks it opaque
    rmSync(join(d, 'mnt', 'dir'), { recursive: true });
    mkdirSync(join(d, 'mnt', 'dir'));
    mkdirSync(join(d, 'mnt', 'plain'));
    await unmount(join(d, 'mnt'));
    // the helper itself (a failed helper call would fall back to getfattr inside opaqueDirs)
    const found = await syscalls()!.opaqueDirs(join(d, 'upper'));
    expect([...found]).toEqual([join(d, 'upper', 'dir')]);
    expect([...(await opaqueDirs(join(d, 'upper')))]).toEqual([...found]);
    if (findExecutable('getfattr')) {
      const r = spawnSync('getfattr', ['-R', '-h', '--absolute-names', '-d', '-m', '^trusted\\.overlay\\.opaque$', join(d, 'upper')], { encoding: 'utf8' });
      const viaTool = r.stdout.split('\n').filter((l) => l.startsWith('# file: ')).map((l) => l.slice(8));
      expect(viaTool).toEqual([...found]);
    }
  });

  it('the fallback (KILN_NO_SYSCALL_HELPER=1: mount(8), umount(8), getfattr) gives the same results', () => {
    const d = fresh();
    const script = `
      import { mountOverlay, unmount } from ${JSON.stringify(join(process.cwd(), 'dist/engine/snapshot/overlay/mount.js'))};
      import { syscalls } from ${JSON.stringify(join(process.cwd(), 'dist/engine/snapshot/overlay/syscalls.js'))};
      import { writeFileSync } from 'node:fs';
      if (syscalls()) throw new Error('helper should be off');
      await mountOverlay(${JSON.stringify(d)}, ${JSON.stringify(join(d, 'mnt'))}, ['lower2', 'lower'], 'upper', 'work');
      writeFileSync(${JSON.stringify(join(d, 'mnt', 'via-tools'))}, 'ok');
      await unmount(${JSON.stringify(join(d, 'mnt'))});
      await unmount(${JSON.stringify(join(d, 'mnt'))});
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, KILN_NO_SYSCALL_HELPER: '1' }, timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(join(d, 'upper', 'via-tools'), 'utf8')).toBe('ok');
    expect(mounted(join(d, 'mnt'))).toBe(false);
  });

  it('an idle helper does not keep the process alive', () => {
    const d = fresh();
    const script = `
      import { mountOverlay, unmount } from ${JSON.stringify(join(process.cwd(), 'dist/engine/snapshot/overlay/mount.js'))};
      await mountOverlay(${JSON.stringify(d)}, ${JSON.stringify(join(d, 'mnt'))}, ['lower'], 'upper', 'work');
      await unmount(${JSON.stringify(join(d, 'mnt'))});
      console.log('done');
    `;
    // without the unref when idle, this process would wait on the helper's pipes until the timeout
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('done');
  });
});
