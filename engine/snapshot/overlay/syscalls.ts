// mount(2), umount2(2) and the overlay opaque-marker scan, made by one long-lived perl process.
// Node has no API for these; spawning mount(8), umount(8) or getfattr costs ~7 ms a call, and a
// step makes two to six such calls. perl (Debian's perl-base, an essential package) can make raw
// system calls, so one helper serves them all over a pipe at ~0.1 ms a request.
// Where perl or a known syscall table is missing, `syscalls()` returns undefined and callers
// fall back to the tools.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { findExecutable } from './which.js';

// x86_64 and aarch64 numbers (asm/unistd.h): mount, umount2, lgetxattr
const TABLES: Record<string, [number, number, number]> = {
  x64: [165, 166, 192],
  arm64: [40, 39, 9],
};

// Requests and replies are one line each; every field is hex so paths may hold any byte but NUL.
const SCRIPT = String.raw`
use strict; $| = 1;
my ($SYS_MOUNT, $SYS_UMOUNT, $SYS_LGETXATTR) = @ARGV;
sub opaque {
  my ($dir, $out) = @_;
  opendir(my $dh, $dir) or return;
  my @names = grep { $_ ne '.' && $_ ne '..' } readdir($dh);
  closedir($dh);
  for my $n (@names) {
    my $p = "$dir/$n";
    next if -l $p || !-d _;
    my $buf = "\0" x 8;
    # syscall() may write to any string it is given: no literals (they are read-only)
    my $name = "trusted.overlay.opaque";
    my $len = syscall($SYS_LGETXATTR, $p, $name, $buf, 8);
    push @$out, unpack('H*', $p) if $len > 0 && substr($buf, 0, 1) eq 'y';
    opaque($p, $out);
  }
}
while (my $line = <STDIN>) {
  chomp $line;
  my ($id, $op, @a) = split / /, $line, -1;
  @a = map { pack('H*', $_) } @a;
  my $r = 0;
  my @res;
  if ($op eq 'mount') {
    my ($cwd, $src, $target, $fs, $flags, $data) = @a;
    if (!chdir($cwd)) { $r = -1; }
    else { $r = syscall($SYS_MOUNT, $src, $target, $fs, $flags + 0, length($data) ? $data : 0); }
  } elsif ($op eq 'umount') {
    my ($target, $flags) = @a;
    $r = syscall($SYS_UMOUNT, $target, $flags + 0);
  } elsif ($op eq 'opaque') {
    opaque($a[0], \@res);
  } else { $r = -1; $! = 22; }
  if ($r == -1) { printf "%s err %d %s\n", $id, $! + 0, unpack('H*', "$!"); }
  else { print join(' ', $id, 'ok', @res), "\n"; }
}
`;

export interface SyscallError extends Error {
  errno: number;
}

export interface Syscalls {
  mount(cwd: string, source: string, target: string, fstype: string, flags: number, data: string): Promise<void>;
  umount(target: string, flags: number): Promise<void>;
  /** directories under `dir` that carry overlayfs's opaque marker (absolute paths) */
  opaqueDirs(dir: string): Promise<Set<string>>;
}

export const MS_RDONLY = 1;
export const MS_REMOUNT = 32;
export const MS_BIND = 4096;
export const MNT_DETACH = 2;
export const EINVAL = 22;
export const ENOENT = 2;
export const EBUSY = 16;

const hex = (s: string) => Buffer.from(s).toString('hex');

class Helper implements Syscalls {
  private p: ChildProcessWithoutNullStreams | undefined;
  private next = 0;
  private waiting = new Map<number, { resolve: (f: string[]) => void; reject: (e: Error) => void; what: string }>();
  private dead: Error | undefined;
  private deaths = 0;

  constructor(private readonly table: [number, number, number]) {}

  private start(): ChildProcessWithoutNullStreams {
    if (this.p) return this.p;
    const p = spawn('perl', ['-e', SCRIPT, ...this.table.map(String)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    p.on('error', (e) => this.fail(p, e));
    p.on("exit", (code, sig) => this.fail(p, new Error(`syscall helper exited (${sig ?? code})${stderr ? ': ' + stderr.trim() : ''}`)));
    p.stdin.on('error', (e) => this.fail(p, e));
    p.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    createInterface({ input: p.stdout }).on('line', (line) => {
      const [id, status, ...rest] = line.split(' ');
      const w = this.waiting.get(Number(id));
      if (!w) return;
      this.waiting.delete(Number(id));
      this.idle();
      if (status === 'ok') return w.resolve(rest);
      const errno = Number(rest[0]);
      const msg = Buffer.from(rest[1] ?? '', 'hex').toString() || `errno ${errno}`;
      w.reject(Object.assign(new Error(`${w.what}: ${msg}`), { errno }));
    });
    this.p = p;
    return p;
  }

  // Pending calls fail without an errno, so callers retry them with the tools; the next call
  // starts a new helper, up to a few times (then the tools serve for good).
  private fail(p: ChildProcessWithoutNullStreams, e: Error): void {
    if (this.p !== p) return;
    if (++this.deaths >= 3) this.dead = e;
    this.p = undefined;
    p.kill();
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }

  // the helper must not keep a finished CLI alive: hold it referenced only while a call is out
  private idle(): void {
    const p = this.p;
    if (!p) return;
    const busy = this.waiting.size > 0;
    for (const h of [p, p.stdin, p.stdout, p.stderr] as { ref(): void; unref(): void }[]) {
      if (busy) h.ref();
      else h.unref();
    }
  }

  private call(what: string, op: string, args: string[]): Promise<string[]> {
    if (this.dead) return Promise.reject(this.dead);
    const p = this.start();
    const id = ++this.next;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, what });
      this.idle();
      p.stdin.write(`${id} ${op}${args.map((a) => ' ' + hex(a)).join('')}\n`);
    });
  }

  async mount(cwd: string, source: string, target: string, fstype: string, flags: number, data: string): Promise<void> {
    await this.call(`mount ${target}`, 'mount', [cwd, source, target, fstype, String(flags), data]);
  }

  async umount(target: string, flags: number): Promise<void> {
    await this.call(`umount ${target}`, 'umount', [target, String(flags)]);
  }

  async opaqueDirs(dir: string): Promise<Set<string>> {
    const out = await this.call(`scan ${dir}`, 'opaque', [dir]);
    return new Set(out.map((h) => Buffer.from(h, 'hex').toString()));
  }
}

let helper: Helper | null | undefined;

/** the helper, or undefined where it cannot run (then use mount(8), umount(8) and getfattr) */
export function syscalls(): Syscalls | undefined {
  if (helper === undefined) {
    const table = process.platform === 'linux' && process.env.KILN_NO_SYSCALL_HELPER !== '1' ? TABLES[process.arch] : undefined;
    helper = table && findExecutable('perl') ? new Helper(table) : null;
  }
  return helper ?? undefined;
}
