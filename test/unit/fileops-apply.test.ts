// FileOp actions on host directories (engine/worker/fileops), on real temp dirs as root: the
// resulting trees are read back with lstat (modes, owners, mtimes), contents and link targets.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FileAction, FileOp } from '../../engine/llb/ops.js';
import { applyFileActions, type SourceView } from '../../engine/worker/fileops/apply.js';
import { rootPath, scopedRel } from '../../engine/worker/fileops/rootpath.js';

const top = mkdtempSync(join(tmpdir(), 'kiln-fileops-'));
afterAll(() => rmSync(top, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string) => {
  const d = join(top, `${name}-${n++}`);
  mkdirSync(d, { recursive: true });
  return d;
};
const tmpDir = fresh('tmp');

/** write a tree: 'path' → text (a file), ending in '/' → dir, { link } → symlink */
function tree(root: string, spec: Record<string, string | { link: string }>): string {
  for (const [p, v] of Object.entries(spec)) {
    const abs = join(root, p);
    mkdirSync(p.endsWith('/') ? abs : dirname(abs), { recursive: true });
    if (p.endsWith('/')) continue;
    if (typeof v === 'string') writeFileSync(abs, v);
    else symlinkSync(v.link, abs);
  }
  return root;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const mode = (p: string) => lstatSync(p).mode & 0o7777;
const owner = (p: string) => ({ uid: lstatSync(p).uid, gid: lstatSync(p).gid });
const mtimeS = (p: string) => Math.floor(lstatSync(p).mtimeMs / 1000);
const T = 1_600_000_000;

async function apply(dest: string, actions: FileAction[], sources: (SourceView | undefined)[] = [], signal = new AbortController().signal): Promise<void> {
  const op: FileOp = { kind: 'file', base: 0, actions };
  await applyFileActions(op, dest, async (i) => sources[i], { signal, tmpDir });
}

/** a destination rootfs with users and groups to resolve names through */
function rootfs(): string {
  return tree(fresh('dest'), {
    'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\napp:x:1001:1002::/home/app:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n',
    'etc/group': 'root:x:0:\nstaff:x:50:\napp:x:1002:\n',
  });
}

describe('rootpath: symlinks resolve inside the root', () => {
  const root = tree(fresh('rp'), {
    'real/f': 'f',
    abs: { link: '/' },
    up: { link: '../../..' },
    deep: { link: 'real/../../../../real' },
    etc: { link: '/real' },
    loop1: { link: 'loop2' },
    loop2: { link: '/loop1' },
    'real/back': { link: '../abs/real' },
  });

  it('absolute and relative escapes stay at the root', () => {
    expect(scopedRel(root, '/abs')).toBe('');
    expect(scopedRel(root, '/abs/real/f')).toBe('real/f');
    expect(scopedRel(root, '/up/etc/passwd')).toBe('real/passwd');
    expect(scopedRel(root, '/deep/f')).toBe('real/f');
    expect(scopedRel(root, '/../../real/../..')).toBe('');
    expect(scopedRel(root, 'real/back/f')).toBe('real/f');
    expect(rootPath(root, '/up')).toBe(root);
  });

  it('the final component is followed only when asked; missing components are kept', () => {
    expect(scopedRel(root, '/etc', { followFinal: false })).toBe('etc');
    expect(scopedRel(root, '/etc')).toBe('real');
    expect(scopedRel(root, '/etc/new/deeper')).toBe('real/new/deeper');
  });

  it('loops are an error, not a hang', () => {
    expect(() => scopedRel(root, '/loop1/x')).toThrow(/too many levels of symbolic links/);
  });
});

describe('mkdir and mkfile', () => {
  it('mkdir -p: owner by name through the destination passwd, mode, timestamp, parents 0755 with the owner', async () => {
    const d = rootfs();
    await apply(d, [{ action: 'mkdir', path: '/srv/a/b', mode: 0o750, makeParents: true, owner: { user: 'app' }, timestamp: T }]);
    expect(mode(join(d, 'srv/a/b'))).toBe(0o750);
    expect(owner(join(d, 'srv/a/b'))).toEqual({ uid: 1001, gid: 1002 });
    for (const p of ['srv', 'srv/a']) {
      expect(mode(join(d, p))).toBe(0o755);
      expect(owner(join(d, p))).toEqual({ uid: 1001, gid: 1002 });
      expect(mtimeS(join(d, p))).toBe(T);
    }
    expect(mtimeS(join(d, 'srv/a/b'))).toBe(T);
  });

  it('mkdir: an existing directory keeps mode, owner and mtime; a missing parent without -p is an error', async () => {
    const d = tree(rootfs(), { 'tmp/': '' });
    chmodSync(join(d, 'tmp'), 0o1777);
    utimesSync(join(d, 'tmp'), T, T);
    await apply(d, [{ action: 'mkdir', path: '/tmp', mode: 0o755, makeParents: true, owner: { user: 'app' } }]);
    expect(mode(join(d, 'tmp'))).toBe(0o1777);
    expect(owner(join(d, 'tmp')).uid).toBe(0);
    expect(mtimeS(join(d, 'tmp'))).toBe(T);
    await expect(apply(d, [{ action: 'mkdir', path: '/no/such', mode: 0o755 }])).rejects.toThrow('mkdir /no/such: parent directory does not exist');
    await expect(apply(d, [{ action: 'mkdir', path: '/etc/passwd', mode: 0o755, makeParents: true }])).rejects.toThrow('mkdir /etc/passwd: not a directory');
    await apply(d, [{ action: 'mkdir', path: '/tmp/x', mode: 0o700, owner: { user: 42, group: 'staff' } }]);
    expect(owner(join(d, 'tmp/x'))).toEqual({ uid: 42, gid: 50 });
    expect(mode(join(d, 'tmp/x'))).toBe(0o700);
  });

  it('mkdir through a symlink that points out of the root lands inside it', async () => {
    const d = rootfs();
    const outside = fresh('outside');
    symlinkSync(outside, join(d, 'host'));
    symlinkSync('../../../../../..', join(d, 'up'));
    await apply(d, [
      { action: 'mkdir', path: '/host/made', mode: 0o755, makeParents: true },
      { action: 'mkdir', path: '/up/climbed', mode: 0o755, makeParents: true },
    ]);
    expect(existsSync(join(outside, 'made'))).toBe(false);
    expect(lstatSync(join(d, outside, 'made')).isDirectory()).toBe(true);
    expect(lstatSync(join(d, 'climbed')).isDirectory()).toBe(true);
  });

  it('mkfile: base64 data, exact mode (setuid survives the chown), numeric owner, timestamp, parents made', async () => {
    const d = rootfs();
    await apply(d, [
      { action: 'mkfile', path: '/f', mode: 0o4755, data: b64('hello'), owner: { user: 7, group: 8 }, timestamp: T },
      { action: 'mkfile', path: '/new/dir/g', mode: 0o600, data: '' },
    ]);
    expect(lstatSync(join(d, 'f')).isFile()).toBe(true);
    expect(readFileSync(join(d, 'f'), 'utf8')).toBe('hello');
    expect(mode(join(d, 'f'))).toBe(0o4755);
    expect(owner(join(d, 'f'))).toEqual({ uid: 7, gid: 8 });
    expect(mtimeS(join(d, 'f'))).toBe(T);
    expect(readFileSync(join(d, 'new/dir/g'), 'utf8')).toBe('');
    expect(mode(join(d, 'new/dir'))).toBe(0o755);
    expect(mode(join(d, 'new/dir/g'))).toBe(0o600);
  });

  it('mkfile writes through a symlink at its path as BuildKit does, but inside the root; a directory there is an error', async () => {
    const d = tree(rootfs(), { 'adir/': '' });
    const victim = join(fresh('victim'), 'v');
    writeFileSync(victim, 'untouched');
    symlinkSync(victim, join(d, 'f'));
    await apply(d, [{ action: 'mkfile', path: '/f', mode: 0o644, data: b64('inside') }]);
    expect(readlinkSync(join(d, 'f'))).toBe(victim);
    expect(readFileSync(victim, 'utf8')).toBe('untouched');
    expect(readFileSync(join(d, victim), 'utf8')).toBe('inside');
    await expect(apply(d, [{ action: 'mkfile', path: '/adir', mode: 0o644, data: '' }])).rejects.toThrow('mkfile /adir: is a directory');
  });
});

describe('rm', () => {
  it('removes files and trees; not found is an error unless allowed', async () => {
    const d = tree(rootfs(), { 'a/b/c': 'c', 'x.txt': 'x' });
    await apply(d, [{ action: 'rm', path: '/a' }, { action: 'rm', path: '/x.txt' }]);
    expect(existsSync(join(d, 'a'))).toBe(false);
    expect(existsSync(join(d, 'x.txt'))).toBe(false);
    await expect(apply(d, [{ action: 'rm', path: '/nope' }])).rejects.toThrow('rm /nope: /nope: not found');
    await apply(d, [{ action: 'rm', path: '/nope', allowNotFound: true }]);
    await expect(apply(d, [{ action: 'rm', path: '/' }])).rejects.toThrow('rm /: refusing to remove the root directory');
    expect(existsSync(join(d, 'etc/passwd'))).toBe(true);
  });

  it('wildcards remove every match; no match is not found', async () => {
    const d = tree(rootfs(), { 'logs/a.log': '', 'logs/b.log': '', 'logs/keep.txt': '' });
    await apply(d, [{ action: 'rm', path: '/logs/*.log', allowWildcard: true }]);
    expect(existsSync(join(d, 'logs/a.log'))).toBe(false);
    expect(existsSync(join(d, 'logs/b.log'))).toBe(false);
    expect(existsSync(join(d, 'logs/keep.txt'))).toBe(true);
    await expect(apply(d, [{ action: 'rm', path: '/logs/*.log', allowWildcard: true }])).rejects.toThrow('rm /logs/*.log: /logs/*.log: not found');
  });

  it('a symlink is removed, never its target, even one pointing out of the root', async () => {
    const d = rootfs();
    const outside = tree(fresh('outside'), { 'precious/f': 'keep' });
    symlinkSync(join(outside, 'precious'), join(d, 'link'));
    symlinkSync(outside, join(d, 'hostdir'));
    await apply(d, [{ action: 'rm', path: '/link' }, { action: 'rm', path: '/hostdir/precious', allowNotFound: true }]);
    expect(existsSync(join(d, 'link'))).toBe(false);
    expect(readFileSync(join(outside, 'precious/f'), 'utf8')).toBe('keep');
    expect(existsSync(join(d, 'hostdir'))).toBe(true);
  });
});

describe('copy', () => {
  /** a snapshot rootfs as a source: owners and modes set, mtimes in the past */
  function snapshot(): string {
    const s = tree(fresh('src'), { 'src/a/one.txt': '1', 'src/b/two.txt': '2', 'src/b/no.md': 'n', 'src/b/.hidden.txt': 'h', 'bin/tool': '#!/bin/sh\n', 'lib/real.so': 'so' });
    lchownSync(join(s, 'src/a/one.txt'), 42, 43);
    lchownSync(join(s, 'src/a'), 44, 45);
    chmodSync(join(s, 'bin/tool'), 0o750);
    symlinkSync('/lib/real.so', join(s, 'lib/link.so'));
    for (const p of ['src/a/one.txt', 'src/a', 'src', 'lib/link.so']) lutimesSync(join(s, p), T, T);
    return s;
  }

  it('from a snapshot: owners, modes and mtimes kept (directories too); symlinks copied as links', async () => {
    const s = snapshot();
    const d = rootfs();
    await apply(d, [
      { action: 'copy', src: 0, srcPath: '/src', destPath: '/out', createDestPath: true, dirCopyContents: false },
      { action: 'copy', src: 0, srcPath: '/lib/link.so', destPath: '/l.so', createDestPath: true },
      { action: 'copy', src: 0, srcPath: '/bin/tool', destPath: '/usr/bin/', createDestPath: true },
    ], [{ root: s, fromLocal: false }]);
    expect(owner(join(d, 'out/src/a/one.txt'))).toEqual({ uid: 42, gid: 43 });
    expect(owner(join(d, 'out/src/a'))).toEqual({ uid: 44, gid: 45 });
    expect(mtimeS(join(d, 'out/src/a/one.txt'))).toBe(T);
    expect(mtimeS(join(d, 'out/src/a'))).toBe(T);
    expect(mtimeS(join(d, 'out/src'))).toBe(T);
    expect(readlinkSync(join(d, 'l.so'))).toBe('/lib/real.so');
    expect(mtimeS(join(d, 'l.so'))).toBe(T);
    expect(mode(join(d, 'usr/bin/tool'))).toBe(0o750);
    expect(mode(join(d, 'usr/bin'))).toBe(0o755);
  });

  it('into directories the copy makes: setuid kept with or without a chown, a setgid parent does not give its group, a name written twice holds the last', async () => {
    const s = tree(fresh('src'), { 'app/suid': 's', 'app/plain': 'p', 'grp/inner.txt': 'i', 'one/x.txt': 'first', 'two/x.txt': 'second' });
    chmodSync(join(s, 'app/suid'), 0o4755);
    lchownSync(join(s, 'app/plain'), 42, 43);
    chmodSync(join(s, 'app/plain'), 0o640);
    chmodSync(join(s, 'grp'), 0o2775);
    lchownSync(join(s, 'grp'), 0, 50);
    const d = rootfs();
    await apply(d, [
      { action: 'copy', src: 0, srcPath: '/app', destPath: '/snap/', createDestPath: true },
      { action: 'copy', src: 0, srcPath: '/grp', destPath: '/g', createDestPath: true, dirCopyContents: false },
      { action: 'copy', src: 0, srcPath: '/*/x.txt', destPath: '/both/', allowWildcard: true, createDestPath: true },
    ], [{ root: s, fromLocal: false }]);
    expect(mode(join(d, 'snap/suid'))).toBe(0o4755);
    expect(owner(join(d, 'snap/plain'))).toEqual({ uid: 42, gid: 43 });
    expect(mode(join(d, 'snap/plain'))).toBe(0o640);
    expect(mode(join(d, 'g/grp'))).toBe(0o2775);
    expect(owner(join(d, 'g/grp'))).toEqual({ uid: 0, gid: 50 });
    // made inside a setgid dir, the file would take group 50; it keeps the source's 0
    expect(owner(join(d, 'g/grp/inner.txt'))).toEqual({ uid: 0, gid: 0 });
    expect(readFileSync(join(d, 'both/x.txt'), 'utf8')).toBe('second');
    // with a chown (which clears setuid) the mode is still the source's
    const c = rootfs();
    await apply(c, [{ action: 'copy', src: 0, srcPath: '/app', destPath: '/own/', createDestPath: true, owner: { user: 7, group: 8 } }], [{ root: s, fromLocal: false }]);
    expect(owner(join(c, 'own/suid'))).toEqual({ uid: 7, gid: 8 });
    expect(mode(join(c, 'own/suid'))).toBe(0o4755);
    // from a local context: owners become root, the mode is the file's own
    const l = rootfs();
    await apply(l, [{ action: 'copy', src: 0, srcPath: '/app', destPath: '/ctx/', createDestPath: true }], [{ root: s, fromLocal: true }]);
    expect(owner(join(l, 'ctx/plain'))).toEqual({ uid: 0, gid: 0 });
    expect(mode(join(l, 'ctx/plain'))).toBe(0o640);
    expect(mode(join(l, 'ctx/suid'))).toBe(0o4755);
  });

  it('wildcards flatten or keep parents; a star skips dotfiles; no match is not found unless allowed', async () => {
    const s = snapshot();
    const d = rootfs();
    await apply(d, [
      { action: 'copy', src: 0, srcPath: '/src/*/*.txt', destPath: '/flat/', allowWildcard: true, createDestPath: true },
      { action: 'copy', src: 0, srcPath: '/src/*/*.txt', destPath: '/tree/', allowWildcard: true, createDestPath: true, parents: true },
      { action: 'copy', src: 0, srcPath: '/*.none', destPath: '/empty/', allowWildcard: true, allowEmptyWildcard: true, createDestPath: true },
    ], [{ root: s, fromLocal: false }]);
    expect(readFileSync(join(d, 'flat/one.txt'), 'utf8')).toBe('1');
    expect(readFileSync(join(d, 'flat/two.txt'), 'utf8')).toBe('2');
    expect(existsSync(join(d, 'flat/no.md'))).toBe(false);
    expect(existsSync(join(d, 'flat/.hidden.txt'))).toBe(false);
    expect(readFileSync(join(d, 'tree/src/a/one.txt'), 'utf8')).toBe('1');
    expect(existsSync(join(d, 'empty'))).toBe(false);
    await expect(apply(d, [{ action: 'copy', src: 0, srcPath: '/*.none', destPath: '/x/', allowWildcard: true, createDestPath: true }], [{ root: s, fromLocal: false }])).rejects.toThrow('failed to compute cache key: "/*.none": not found');
  });

  it('include and exclude patterns; chown by user and group name; symbolic chmod; timestamp', async () => {
    const s = snapshot();
    const d = rootfs();
    await apply(d, [
      { action: 'copy', src: 0, srcPath: '/src/', destPath: '/inc', createDestPath: true, dirCopyContents: true, includePatterns: ['b/*.txt'], excludePatterns: ['**/.hidden*'] },
      { action: 'copy', src: 0, srcPath: '/src', destPath: '/own', createDestPath: true, dirCopyContents: true, owner: { user: 'app', group: 'staff' }, mode: 'u=rwX,go=rX', timestamp: T },
    ], [{ root: s, fromLocal: false }]);
    expect(readFileSync(join(d, 'inc/b/two.txt'), 'utf8')).toBe('2');
    expect(existsSync(join(d, 'inc/b/no.md'))).toBe(false);
    expect(existsSync(join(d, 'inc/b/.hidden.txt'))).toBe(false);
    expect(existsSync(join(d, 'inc/a'))).toBe(false);
    expect(owner(join(d, 'own/a/one.txt'))).toEqual({ uid: 1001, gid: 50 });
    expect(owner(join(d, 'own'))).toEqual({ uid: 1001, gid: 50 });
    expect(mode(join(d, 'own/a/one.txt'))).toBe(0o644);
    expect(mode(join(d, 'own/a'))).toBe(0o755);
    for (const p of ['own', 'own/a', 'own/a/one.txt', 'own/b/two.txt']) expect(mtimeS(join(d, p))).toBe(T);
  });

  it('an existing destination directory keeps its own mode and owner; a new contents-copy destination is 0755', async () => {
    const s = snapshot();
    chmodSync(join(s, 'src/a'), 0o700);
    const d = tree(rootfs(), { 'app/': '' });
    chmodSync(join(d, 'app'), 0o711);
    lchownSync(join(d, 'app'), 5, 6);
    await apply(d, [
      { action: 'copy', src: 0, srcPath: '/src/a', destPath: '/app', dirCopyContents: true },
      { action: 'copy', src: 0, srcPath: '/src/a', destPath: '/fresh', dirCopyContents: true, createDestPath: true },
    ], [{ root: s, fromLocal: false }]);
    expect(mode(join(d, 'app'))).toBe(0o711);
    expect(owner(join(d, 'app'))).toEqual({ uid: 5, gid: 6 });
    expect(readFileSync(join(d, 'app/one.txt'), 'utf8')).toBe('1');
    expect(mode(join(d, 'fresh'))).toBe(0o755);
  });

  it('without createDestPath a missing destination parent is an error', async () => {
    const s = snapshot();
    const d = rootfs();
    await expect(apply(d, [{ action: 'copy', src: 0, srcPath: '/bin/tool', destPath: '/no/such/tool' }], [{ root: s, fromLocal: false }])).rejects.toThrow('copy: destination parent /no/such does not exist');
  });

  it('followSymlinks follows a top-level link inside the source root only', async () => {
    const s = snapshot();
    symlinkSync('../../../../../../lib/real.so', join(s, 'escape'));
    const d = rootfs();
    await apply(d, [
      { action: 'copy', src: 0, srcPath: '/lib/link.so', destPath: '/followed', followSymlinks: true },
      { action: 'copy', src: 0, srcPath: '/escape', destPath: '/esc', followSymlinks: true },
    ], [{ root: s, fromLocal: false }]);
    expect(lstatSync(join(d, 'followed')).isFile()).toBe(true);
    expect(readFileSync(join(d, 'followed'), 'utf8')).toBe('so');
    expect(readFileSync(join(d, 'esc'), 'utf8')).toBe('so');
    symlinkSync('/etc/passwd', join(s, 'hostpasswd'));
    await expect(apply(d, [{ action: 'copy', src: 0, srcPath: '/hostpasswd', destPath: '/p', followSymlinks: true }], [{ root: s, fromLocal: false }])).rejects.toThrow(/not found/);
  });

  it('a local context: owners become root, .dockerignore excludes (with exceptions) are not in the context', async () => {
    const ctx = tree(fresh('ctx'), { 'app/main.js': 'm', 'app/secret.key': 'k', 'app/keep.key': 'kk', 'node_modules/x/i.js': 'x', 'README.md': 'r' });
    lchownSync(join(ctx, 'app/main.js'), 1234, 1234);
    const d = rootfs();
    await apply(d, [{ action: 'copy', src: 0, srcPath: '/', destPath: '/srv/', createDestPath: true, dirCopyContents: true, followSymlinks: true }], [{ root: ctx, fromLocal: true, excludePatterns: ['node_modules', '**/*.key', '!app/keep.key'] }]);
    expect(owner(join(d, 'srv/app/main.js'))).toEqual({ uid: 0, gid: 0 });
    expect(existsSync(join(d, 'srv/app/secret.key'))).toBe(false);
    expect(readFileSync(join(d, 'srv/app/keep.key'), 'utf8')).toBe('kk');
    expect(existsSync(join(d, 'srv/node_modules'))).toBe(false);
    expect(readFileSync(join(d, 'srv/README.md'), 'utf8')).toBe('r');
    await expect(apply(d, [{ action: 'copy', src: 0, srcPath: '/app/secret.key', destPath: '/k' }], [{ root: ctx, fromLocal: true, excludePatterns: ['**/*.key'] }])).rejects.toThrow('failed to compute cache key: "/app/secret.key": not found');
  });

  it('attemptUnpack: what the archive records wins over chown and chmod (the 20.10 oracle applies neither)', async () => {
    const ctx = fresh('ctx');
    const pkg = tree(fresh('pkg'), { 'pkg/a': 'a' });
    chmodSync(join(pkg, 'pkg/a'), 0o640);
    execFileSync('tar', ['--owner=3', '--group=4', '--numeric-owner', '-C', pkg, '-cjf', join(ctx, 'p.tar.bz2'), 'pkg']);
    const d = rootfs();
    await apply(d, [{ action: 'copy', src: 0, srcPath: '/p.tar.bz2', destPath: '/own/', attemptUnpack: true, createDestPath: true, owner: { user: 'app' }, mode: 0o700 }], [{ root: ctx, fromLocal: true }]);
    expect(owner(join(d, 'own/pkg/a'))).toEqual({ uid: 3, gid: 4 });
    expect(mode(join(d, 'own/pkg/a'))).toBe(0o640);
    expect(owner(join(d, 'own'))).toEqual({ uid: 1001, gid: 1002 });
  });

  it('attemptUnpack extracts a generated .tar.gz (owners, modes, links kept) and copies a non-archive as is', async () => {
    const ctx = fresh('ctx');
    const pkg = tree(fresh('pkg'), { 'pkg/sub/b.sh': 'b', 'pkg/a.txt': 'a' });
    chmodSync(join(pkg, 'pkg/sub/b.sh'), 0o755);
    symlinkSync('a.txt', join(pkg, 'pkg/link'));
    execFileSync('tar', ['--owner=7', '--group=9', '--numeric-owner', '-C', pkg, '-czf', join(ctx, 'pkg.tar.gz'), 'pkg']);
    writeFileSync(join(ctx, 'plain.gz'), 'not gzip');
    const d = rootfs();
    await apply(d, [
      { action: 'copy', src: 0, srcPath: '/pkg.tar.gz', destPath: '/opt/', attemptUnpack: true, createDestPath: true },
      { action: 'copy', src: 0, srcPath: '/plain.gz', destPath: '/raw/', attemptUnpack: true, createDestPath: true },
    ], [{ root: ctx, fromLocal: true }]);
    expect(readFileSync(join(d, 'opt/pkg/a.txt'), 'utf8')).toBe('a');
    expect(mode(join(d, 'opt/pkg/sub/b.sh'))).toBe(0o755);
    expect(owner(join(d, 'opt/pkg/a.txt'))).toEqual({ uid: 7, gid: 9 });
    expect(readlinkSync(join(d, 'opt/pkg/link'))).toBe('a.txt');
    expect(readFileSync(join(d, 'raw/plain.gz'), 'utf8')).toBe('not gzip');
  });

  it('hardlinks within the copied set stay hardlinks', async () => {
    const s = tree(fresh('src'), { 'h/a': 'same' });
    linkSync(join(s, 'h/a'), join(s, 'h/b'));
    const d = rootfs();
    await apply(d, [{ action: 'copy', src: 0, srcPath: '/h', destPath: '/h', createDestPath: true, dirCopyContents: true }], [{ root: s, fromLocal: false }]);
    expect(lstatSync(join(d, 'h/a')).ino).toBe(lstatSync(join(d, 'h/b')).ino);
    expect(lstatSync(join(d, 'h/a')).nlink).toBe(2);
  });

  it('top-level destination symlinks are followed inside the root (BuildKit), so nothing escapes it', async () => {
    const s = snapshot();
    const outside = tree(fresh('outside'), { 'target': 'outside' });
    const d = tree(rootfs(), { 'real/': '' });
    symlinkSync(join(outside, 'target'), join(d, 'file-link'));
    symlinkSync('/real', join(d, 'dir-link'));
    symlinkSync(outside, join(d, 'host'));
    symlinkSync('/nowhere', join(d, 'dangling'));
    await apply(d, [
      { action: 'copy', src: 0, srcPath: '/bin/tool', destPath: '/file-link' },
      { action: 'copy', src: 0, srcPath: '/bin/tool', destPath: '/dir-link' },
      { action: 'copy', src: 0, srcPath: '/bin/tool', destPath: '/dangling' },
      { action: 'copy', src: 0, srcPath: '/src/a', destPath: '/host/', createDestPath: true, dirCopyContents: true },
    ], [{ root: s, fromLocal: false }]);
    expect(readlinkSync(join(d, 'file-link'))).toBe(join(outside, 'target'));
    expect(readFileSync(join(outside, 'target'), 'utf8')).toBe('outside');
    expect(readFileSync(join(d, outside, 'target'), 'utf8')).toBe('#!/bin/sh\n');
    expect(readlinkSync(join(d, 'dir-link'))).toBe('/real');
    expect(readFileSync(join(d, 'real/tool'), 'utf8')).toBe('#!/bin/sh\n');
    expect(readFileSync(join(d, 'nowhere'), 'utf8')).toBe('#!/bin/sh\n');
    expect(existsSync(join(outside, 'one.txt'))).toBe(false);
    expect(readFileSync(join(d, outside, 'one.txt'), 'utf8')).toBe('1');
  });

  it('entries below the top replace a symlink in their place instead of following it', async () => {
    const s = tree(fresh('src'), { 'tree/f': 'new', 'tree/sub/s': 's' });
    symlinkSync('other', join(s, 'tree/link'));
    const d = tree(rootfs(), { 'real/f': 'orig', 'real/sub/': '' });
    mkdirSync(join(d, 'n'));
    symlinkSync('../real/f', join(d, 'n/f'));
    symlinkSync('/real/g', join(d, 'n/link'));
    symlinkSync('/real/sub', join(d, 'n/sub'));
    await apply(d, [{ action: 'copy', src: 0, srcPath: '/tree', destPath: '/n', dirCopyContents: true }], [{ root: s, fromLocal: false }]);
    expect(lstatSync(join(d, 'n/f')).isFile()).toBe(true);
    expect(readFileSync(join(d, 'n/f'), 'utf8')).toBe('new');
    expect(readFileSync(join(d, 'real/f'), 'utf8')).toBe('orig');
    expect(readlinkSync(join(d, 'n/link'))).toBe('other');
    expect(lstatSync(join(d, 'n/sub')).isDirectory()).toBe(true);
    expect(existsSync(join(d, 'real/sub/s'))).toBe(false);
  });

  it('scratch source: copying its root gives an empty directory; an aborted signal stops before writing', async () => {
    const d = rootfs();
    await apply(d, [{ action: 'copy', src: 0, srcPath: '/', destPath: '/empty', createDestPath: true, dirCopyContents: false }], [undefined]);
    expect(lstatSync(join(d, 'empty')).isDirectory()).toBe(true);
    const ac = new AbortController();
    ac.abort();
    await expect(apply(d, [{ action: 'mkfile', path: '/late', mode: 0o644, data: '' }], [], ac.signal)).rejects.toThrow();
    expect(existsSync(join(d, 'late'))).toBe(false);
  });
});

/** can this machine mount overlayfs (root, kernel support)? the runc worker's dest is such a mount */
function overlayWorks(): boolean {
  const d = fresh('probe');
  for (const x of ['l', 'u', 'w', 'm']) mkdirSync(join(d, x));
  const r = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${d}/l,upperdir=${d}/u,workdir=${d}/w`, `${d}/m`]);
  if (r.status !== 0) return false;
  spawnSync('umount', [`${d}/m`]);
  return true;
}

describe.skipIf(!overlayWorks())('on an overlayfs mount', () => {
  it('removing or replacing a lower entry leaves a whiteout or a replacing file in the upper dir; lower is untouched', async () => {
    const d = fresh('ovl');
    for (const x of ['u', 'w', 'm']) mkdirSync(join(d, x));
    const lower = tree(join(d, 'l'), { f: 'lower f', 'dir/x': 'x', 'keep/k': 'k' });
    const src = tree(fresh('src'), { new: 'new' });
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${d}/u,workdir=${d}/w`, `${d}/m`]);
    try {
      const m = join(d, 'm');
      await apply(m, [
        { action: 'rm', path: '/f' },
        { action: 'rm', path: '/dir' },
        { action: 'mkfile', path: '/dir', mode: 0o644, data: b64('new') },
        { action: 'copy', src: 0, srcPath: '/new', destPath: '/keep/' },
      ], [{ root: src, fromLocal: false }]);
      expect(existsSync(join(m, 'f'))).toBe(false);
      expect(readFileSync(join(m, 'dir'), 'utf8')).toBe('new');
      expect(readFileSync(join(m, 'keep/new'), 'utf8')).toBe('new');
      expect(readFileSync(join(m, 'keep/k'), 'utf8')).toBe('k');
      const wh = lstatSync(join(d, 'u/f'));
      expect(wh.isCharacterDevice() && wh.rdev === 0).toBe(true);
      expect(lstatSync(join(d, 'u/dir')).isFile()).toBe(true);
      expect(existsSync(join(d, 'u/keep/k'))).toBe(false);
      expect(readFileSync(join(lower, 'f'), 'utf8')).toBe('lower f');
      expect(readFileSync(join(lower, 'dir/x'), 'utf8')).toBe('x');
    } finally {
      execFileSync('umount', [join(d, 'm')]);
    }
  });
});
