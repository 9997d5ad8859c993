// mount(2), umount2(2), the overlay opaque-marker scan and process starts, made by one long-lived
// perl process. Node has no API for the first three; spawning mount(8), umount(8) or getfattr
// costs ~7 ms a call, and a step makes two to six such calls. perl (Debian's perl-base, an
// essential package) can make raw system calls, so one helper serves them all over a pipe at
// ~0.1 ms a request. Process starts (runc) go through it too: Node's spawn blocks the event loop
// until the child has exec'd, 8-40 ms each when six steps start at once on a busy machine, so the
// sixth parallel step started ~170 ms after the first; a fork of the small perl process does not
// block Node at all.
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
// Started processes report as event lines: `E id out fd hex` and, once both pipes are closed and
// the process is reaped, `E id exit code signal`.
const SCRIPT = String.raw`
use strict; use POSIX (); use IO::Select; $| = 1;
my ($SYS_MOUNT, $SYS_UMOUNT, $SYS_LGETXATTR) = @ARGV;
my $sel = IO::Select->new(\*STDIN);
my (%pipes, %procs, %ids);
sub finish {
  my ($id) = @_;
  my $p = $procs{$id};
  return unless $p && $p->{open} == 0 && defined $p->{status};
  printf "E %s exit %d %d\n", $id, $p->{status} >> 8, $p->{status} & 127;
  delete $ids{$p->{pid}};
  delete $procs{$id};
}
# perl runs this between ops, never inside another print: the exit line is whole
$SIG{CHLD} = sub {
  while ((my $pid = waitpid(-1, POSIX::WNOHANG())) > 0) {
    my $id = $ids{$pid};
    next unless defined $id;
    $procs{$id}{status} = $?;
    finish($id);
  }
};
sub start {
  my ($id, @argv) = @_;
  pipe(my $or, my $ow) or return -1;
  pipe(my $er, my $ew) or return -1;
  # blocked until the pid is known, so a child that exits at once is not reaped unrecorded
  my $block = POSIX::SigSet->new(POSIX::SIGCHLD());
  POSIX::sigprocmask(POSIX::SIG_BLOCK(), $block);
  my $pid = fork();
  if (defined $pid && $pid == 0) {
    POSIX::sigprocmask(POSIX::SIG_UNBLOCK(), $block);
    $SIG{CHLD} = 'DEFAULT';
    open(STDIN, '<', '/dev/null'); open(STDOUT, '>&', $ow); open(STDERR, '>&', $ew);
    exec { $argv[0] } @argv;
    print STDERR "cannot run $argv[0]: $!\n";
    POSIX::_exit(127);
  }
  my $err = $!;
  if (defined $pid) {
    $procs{$id} = { pid => $pid, open => 2 };
    $ids{$pid} = $id;
    $pipes{fileno $or} = [$id, 1, $or];
    $pipes{fileno $er} = [$id, 2, $er];
    $sel->add($or, $er);
  }
  POSIX::sigprocmask(POSIX::SIG_UNBLOCK(), $block);
  $! = $err;
  return defined $pid ? $pid : -1;
}
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
sub request {
  my ($line) = @_;
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
  } elsif ($op eq 'spawn') {
    $r = start($id, @a);
    @res = ($r) if $r != -1;
  } else { $r = -1; $! = 22; }
  if ($r == -1) { printf "%s err %d %s\n", $id, $! + 0, unpack('H*', "$!"); }
  else { print join(' ', $id, 'ok', @res), "\n"; }
}
my $in = '';
while (1) {
  for my $h ($sel->can_read()) {
    my $buf;
    my $n = sysread($h, $buf, 65536);
    next if !defined $n && $! == POSIX::EINTR();
    if (fileno($h) == fileno(STDIN)) {
      exit 0 if !$n;
      $in .= $buf;
      while ((my $i = index($in, "\n")) >= 0) {
        my $line = substr($in, 0, $i);
        substr($in, 0, $i + 1) = '';
        request($line);
      }
      next;
    }
    my $p = $pipes{fileno $h};
    if ($n) { printf "E %s out %d %s\n", $p->[0], $p->[1], unpack('H*', $buf); next; }
    $sel->remove($h);
    delete $pipes{fileno $h};
    close $h;
    $procs{$p->[0]}{open}--;
    finish($p->[0]);
  }
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
  /**
   * Start `argv` (stdin /dev/null, stdout and stderr to `onOutput`). Resolves once it runs, with
   * its pid and its end: `code`, or `signal` when a signal killed it. A helper that dies while the
   * process runs rejects `exit` with an error without errno (the process may still be running).
   */
  spawn(argv: string[], onOutput: (fd: 1 | 2, data: Buffer) => void): Promise<SpawnedProcess>;
}

export interface SpawnedProcess {
  pid: number;
  exit: Promise<{ code: number; signal: number }>;
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
  private running = new Map<number, { onOutput: (fd: 1 | 2, data: Buffer) => void; resolve: (r: { code: number; signal: number }) => void; reject: (e: Error) => void }>();
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
      if (line.startsWith('E ')) return this.event(line);
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
    for (const r of this.running.values()) r.reject(e);
    this.running.clear();
  }

  private event(line: string): void {
    const [, id, kind, a, b] = line.split(' ');
    const r = this.running.get(Number(id));
    if (!r) return;
    if (kind === 'out') return r.onOutput(a === '2' ? 2 : 1, Buffer.from(b ?? '', 'hex'));
    this.running.delete(Number(id));
    this.idle();
    r.resolve({ code: Number(a), signal: Number(b) });
  }

  // the helper must not keep a finished CLI alive: hold it referenced only while a call is out
  private idle(): void {
    const p = this.p;
    if (!p) return;
    const busy = this.waiting.size > 0 || this.running.size > 0;
    for (const h of [p, p.stdin, p.stdout, p.stderr] as { ref(): void; unref(): void }[]) {
      if (busy) h.ref();
      else h.unref();
    }
  }

  private call(what: string, op: string, args: string[], id = ++this.next): Promise<string[]> {
    if (this.dead) return Promise.reject(this.dead);
    const p = this.start();
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

  async spawn(argv: string[], onOutput: (fd: 1 | 2, data: Buffer) => void): Promise<SpawnedProcess> {
    const id = ++this.next;
    // registered before the request: output may come before the reply is read
    let settle!: { resolve: (r: { code: number; signal: number }) => void; reject: (e: Error) => void };
    const exit = new Promise<{ code: number; signal: number }>((resolve, reject) => (settle = { resolve, reject }));
    this.running.set(id, { onOutput, ...settle });
    try {
      const [pid] = await this.call(`start ${argv[0]}`, 'spawn', argv, id);
      return { pid: Number(pid), exit };
    } catch (e) {
      this.running.delete(id);
      this.idle();
      exit.catch(() => undefined);
      throw e;
    }
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
