// The OCI runtime spec of one build step, in the shape BuildKit's runc executor gives its
// containers: Docker's default capabilities, hostname buildkitsandbox, /proc /dev /sys, a private
// network namespace unless network=host, and the step's own mounts on top.
import type { ProcessUser } from './user.js';

export interface SpecMount {
  destination: string;
  type: string;
  source: string;
  options?: string[];
}

const DEFAULT_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

// security=insecure: every capability the kernel may know, as Docker's --privileged
const ALL_CAPS = [
  ...DEFAULT_CAPS, 'CAP_DAC_READ_SEARCH', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_IPC_LOCK',
  'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT',
  'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_LEASE', 'CAP_AUDIT_CONTROL',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
];

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface StepSpec {
  rootfs: string;
  args: string[];
  env: string[];
  cwd: string;
  user: ProcessUser;
  network: 'none' | 'host' | 'default';
  insecure: boolean;
  mounts: SpecMount[];
  cgroup: string;
}

export function runtimeSpec(s: StepSpec): object {
  const caps = s.insecure ? ALL_CAPS : DEFAULT_CAPS;
  // LLB's env is exact; only a missing PATH gets the default, as BuildKit's executor does
  const env = s.env.some((e) => e.startsWith('PATH=')) ? s.env : [`PATH=${DEFAULT_PATH}`, ...s.env];
  const namespaces = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  // "default" is the engine's default network, a bridge on a normal Docker install; these
  // machines have none, so like the Docker worker with --bridge=none it gets only loopback.
  if (s.network !== 'host') namespaces.push({ type: 'network' });
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: s.user.uid, gid: s.user.gid, additionalGids: s.user.additionalGids },
      args: s.args,
      env,
      cwd: s.cwd || '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      noNewPrivileges: false,
    },
    root: { path: s.rootfs, readonly: false },
    hostname: 'buildkitsandbox',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', s.insecure ? 'rw' : 'ro'] },
      ...s.mounts,
    ],
    linux: {
      namespaces,
      cgroupsPath: s.cgroup,
      resources: { devices: s.insecure ? [{ allow: true, access: 'rwm' }] : [{ allow: false, access: 'rwm' }] },
      ...(s.insecure
        ? {}
        : {
            maskedPaths: ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
            readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
          }),
    },
  };
}
