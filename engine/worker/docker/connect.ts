// Reaching the Docker Engine the way the docker CLI does: DOCKER_HOST first (unix, tcp with
// optional TLS, ssh), then the current docker context, then the default socket. Resolution is a
// pure function of env + files so it can be unit-tested with a temp HOME.
import { createHash } from 'node:crypto';
import { Agent } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import type DockerodeT from 'dockerode';

// dockerode loads gRPC (for BuildKit sessions, which Kiln never opens) and docker-modem loads ssh2
// (only for ssh:// hosts) at require time: ~0.3 s of every CLI start. Both modules are replaced in
// the require cache by lazy stand-ins that load the real thing on first use.
const require = createRequire(import.meta.url);
function lazyModule(path: string): void {
  if (require.cache[path]) return;
  let real: ((...a: unknown[]) => unknown) | undefined;
  const lazy = function (this: unknown, ...a: unknown[]) {
    if (!real) {
      delete require.cache[path];
      real = require(path) as (...a: unknown[]) => unknown;
    }
    return real.apply(this, a);
  };
  require.cache[path] = { id: path, filename: path, loaded: true, exports: lazy } as unknown as NodeJS.Module;
}
const dockerodeMain = require.resolve('dockerode');
lazyModule(join(dirname(dockerodeMain), 'session.js'));
lazyModule(join(dirname(require.resolve('docker-modem', { paths: [dockerodeMain] })), 'ssh.js'));
const Dockerode = require('dockerode') as typeof DockerodeT;
type Dockerode = DockerodeT;

export const DEFAULT_SOCKET = 'unix:///var/run/docker.sock';
/** the private engine scripts/engine-up starts (npm test provisions it) */
export const KILN_ENGINE_SOCKET = 'unix:///run/docker-kiln.sock';

export interface Endpoint {
  /** the endpoint URL as the CLI would print it */
  host: string;
  /** where it came from: 'arg', 'DOCKER_HOST', 'context:<name>', 'kiln-engine' or 'default' */
  from: string;
  tls?: { verify: boolean; certPath?: string };
}

export interface ResolveEnv {
  env?: NodeJS.ProcessEnv;
  home?: string;
  /** injectable for tests */
  socketExists?: (path: string) => boolean;
}

function configDir(env: NodeJS.ProcessEnv, home: string): string {
  return env.DOCKER_CONFIG || join(home, '.docker');
}

/** the context endpoint named by DOCKER_CONTEXT or config.json's currentContext, if any */
function contextEndpoint(env: NodeJS.ProcessEnv, home: string): Endpoint | undefined {
  const dir = configDir(env, home);
  let name = env.DOCKER_CONTEXT;
  if (!name) {
    const cfgPath = join(dir, 'config.json');
    if (!existsSync(cfgPath)) return undefined;
    try {
      name = (JSON.parse(readFileSync(cfgPath, 'utf8')) as { currentContext?: string }).currentContext;
    } catch {
      return undefined;
    }
  }
  if (!name || name === 'default') return undefined;
  // The CLI stores a context's metadata under the sha256 hex of its name.
  const id = createHash('sha256').update(name).digest('hex');
  const metaPath = join(dir, 'contexts', 'meta', id, 'meta.json');
  if (!existsSync(metaPath)) throw new Error(`docker context "${name}" not found (${metaPath})`);
  const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as {
    Endpoints?: { docker?: { Host?: string; SkipTLSVerify?: boolean } };
  };
  const host = meta.Endpoints?.docker?.Host;
  if (!host) throw new Error(`docker context "${name}" has no docker endpoint`);
  const tlsDir = join(dir, 'contexts', 'tls', id, 'docker');
  const tls = existsSync(tlsDir) ? { verify: !meta.Endpoints?.docker?.SkipTLSVerify, certPath: tlsDir } : undefined;
  return { host, from: `context:${name}`, tls };
}

/** Which endpoint the CLI would use. */
export function resolveEndpoint(dockerHost?: string, opts: ResolveEnv = {}): Endpoint {
  const env = opts.env ?? process.env;
  const home = opts.home ?? env.HOME ?? homedir();
  const tlsFromEnv = (): Endpoint['tls'] => {
    const verify = !!env.DOCKER_TLS_VERIFY && env.DOCKER_TLS_VERIFY !== '0';
    if (!verify && !env.DOCKER_CERT_PATH) return undefined;
    return { verify, certPath: env.DOCKER_CERT_PATH || configDir(env, home) };
  };
  if (dockerHost) return { host: dockerHost, from: 'arg', tls: dockerHost.startsWith('tcp://') ? tlsFromEnv() : undefined };
  if (env.DOCKER_HOST) return { host: env.DOCKER_HOST, from: 'DOCKER_HOST', tls: env.DOCKER_HOST.startsWith('tcp://') ? tlsFromEnv() : undefined };
  const ctx = contextEndpoint(env, home);
  if (ctx) return ctx;
  // With no system Docker, fall back to the private engine that scripts/engine-up (and so
  // `npm test`) starts, so `npm start` after `npm test` finds it without any setting.
  const exists = opts.socketExists ?? existsSync;
  const sock = (u: string) => u.slice('unix://'.length);
  if (!exists(sock(DEFAULT_SOCKET)) && exists(sock(KILN_ENGINE_SOCKET))) return { host: KILN_ENGINE_SOCKET, from: 'kiln-engine' };
  return { host: DEFAULT_SOCKET, from: 'default' };
}

/** dockerode constructor options for an endpoint */
/**
 * The agent for a unix socket: as the global one (keep-alive), but with an empty TLS server name
 * given, so Node does not test the host for an IP address on the first request — that compiles
 * its IPv6 pattern, ≈12 ms of a CLI start.
 */
function unixAgent(): Agent {
  return new Agent({ keepAlive: true, servername: '' } as ConstructorParameters<typeof Agent>[0]);
}

export function dockerodeOptions(ep: Endpoint): DockerodeT.DockerOptions {
  const u = new URL(ep.host);
  switch (u.protocol) {
    case 'unix:':
      // docker-modem takes an agent; @types/dockerode does not list it
      return { socketPath: u.pathname, agent: unixAgent() } as DockerodeT.DockerOptions;
    case 'npipe:':
      return { socketPath: ep.host.replace(/^npipe:\/\//, '') };
    case 'tcp:':
    case 'http:':
    case 'https:': {
      const o: DockerodeT.DockerOptions = { host: u.hostname, port: u.port || (ep.tls ? 2376 : 2375) };
      if (ep.tls || u.protocol === 'https:') {
        o.protocol = 'https';
        const cp = ep.tls?.certPath;
        if (cp) {
          const read = (f: string) => (existsSync(join(cp, f)) ? readFileSync(join(cp, f)) : undefined);
          o.ca = read('ca.pem');
          o.cert = read('cert.pem');
          o.key = read('key.pem');
        }
      } else o.protocol = 'http';
      return o;
    }
    case 'ssh:':
      // dockerode (docker-modem) tunnels over ssh2 and runs `docker system dial-stdio` remotely.
      return {
        protocol: 'ssh',
        host: u.hostname,
        port: u.port || 22,
        username: u.username || undefined,
        sshOptions: { agent: process.env.SSH_AUTH_SOCK },
      } as DockerodeT.DockerOptions;
    default:
      throw new Error(`unsupported docker endpoint ${ep.host}`);
  }
}

/** true when the engine shares this machine's filesystem (bind mounts of host dirs work) */
export function isLocalEndpoint(ep: Endpoint): boolean {
  if (ep.host.startsWith('unix://') || ep.host.startsWith('npipe://')) return true;
  try {
    const h = new URL(ep.host).hostname;
    return h === '127.0.0.1' || h === 'localhost' || h === '::1' || h === '[::1]';
  } catch {
    return false;
  }
}

export function dockerFromEnv(dockerHost?: string, opts: ResolveEnv = {}): { docker: Dockerode; endpoint: string; resolved: Endpoint } {
  const resolved = resolveEndpoint(dockerHost, opts);
  return { docker: new Dockerode(dockerodeOptions(resolved)), endpoint: resolved.host, resolved };
}
