// A Docker Registry HTTP API v2 / OCI distribution client on fetch: auth (anonymous, basic,
// bearer from WWW-Authenticate), blob existence checks, cross-repo mount, monolithic and
// chunked uploads, manifests with exact media types, and retries with backoff on 5xx and
// connection resets. Used by the image/registry exporter and as a pull fallback.
import { createReadStream, promises as fs } from 'node:fs';
import { Readable } from 'node:stream';
import { sha256 } from '../llb/digest.js';
import { encodeAuth, resolveCredentials, type Credentials } from './credentials.js';
import { isInsecureHost, registryApiHost } from './reference.js';

export type BlobSource = { path: string } | { data: Buffer };
export type Progress = (e: { id: string; current: number; total?: number; message?: string }) => void;

export interface RegistryClientOptions {
  credentials?: Credentials | null; // null: anonymous only; undefined: look up the docker config
  /** who supplied `credentials`, for the hint when the registry rejects them (e.g. "the username and
   *  password given for this export"); unset: the docker config, fixed with `kiln login` */
  credentialsFrom?: string;
  insecure?: boolean;
  retries?: number;
  /** chunk size for chunked uploads; 0/undefined = monolithic PUT */
  chunkSize?: number;
  signal?: AbortSignal;
  onProgress?: Progress;
}

export class RegistryError extends Error {
  constructor(message: string, readonly status?: number) { super(message); this.name = 'RegistryError'; }
}

const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

type Body = () => Buffer | ReadableStream | undefined;

export class RegistryClient {
  readonly base: string;
  private tokens = new Map<string, string>();
  private basic?: string;
  private creds?: Credentials | null;
  private credsLoaded = false;
  /** counters for tests and progress: bytes of blob data sent, requests made */
  readonly stats = { requests: 0, blobBytesUploaded: 0, blobsSkipped: 0, blobsMounted: 0 };

  constructor(readonly registry: string, private o: RegistryClientOptions = {}) {
    const insecure = o.insecure ?? isInsecureHost(registry);
    this.base = `${insecure ? 'http' : 'https'}://${registryApiHost(registry)}`;
    if (o.credentials !== undefined) { this.creds = o.credentials; this.credsLoaded = true; }
  }

  private async credentials(): Promise<Credentials | null | undefined> {
    if (!this.credsLoaded) { this.creds = await resolveCredentials(this.registry); this.credsLoaded = true; }
    return this.creds;
  }

  private denied(status: number, repo: string, what: string, detail: string): RegistryError {
    const hint = status === 401 && this.o.credentialsFrom
      ? `credentials rejected — check ${this.o.credentialsFrom} (an account that can ${what})`
      : status === 401
      ? `authentication required or credentials rejected — run \`kiln login ${this.registry}\` (or docker login) with an account that can ${what}`
      : `access denied — the account lacks permission to ${what} ${repo}; check the repository name or run \`kiln login ${this.registry}\``;
    return new RegistryError(`registry ${this.registry}, repository ${repo}: ${status} ${detail ? `(${detail}) ` : ''}${hint}`, status);
  }

  private async authorize(www: string, scope: string): Promise<void> {
    const m = /^(\w+)\s*(.*)$/.exec(www);
    if (!m) throw new RegistryError(`registry ${this.registry}: unparseable WWW-Authenticate ${JSON.stringify(www)}`);
    const scheme = m[1]!.toLowerCase();
    const params: Record<string, string> = {};
    for (const p of m[2]!.matchAll(/(\w+)="([^"]*)"/g)) params[p[1]!] = p[2]!;
    const creds = await this.credentials();
    if (scheme === 'basic') {
      if (!creds || !('username' in creds)) throw new RegistryError('no credentials', 401);
      this.basic = 'Basic ' + encodeAuth(creds.username, creds.password);
      return;
    }
    if (scheme !== 'bearer' || !params.realm) throw new RegistryError(`registry ${this.registry}: unsupported auth ${scheme}`);
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', params.scope ?? scope);
    let res: Response;
    if (creds && 'identitytoken' in creds) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identitytoken, service: params.service ?? '', scope: params.scope ?? scope, client_id: 'kiln' });
      res = await fetch(params.realm, { method: 'POST', body: form, signal: this.o.signal });
    } else {
      const headers: Record<string, string> = {};
      if (creds) headers.authorization = 'Basic ' + encodeAuth(creds.username, creds.password);
      res = await fetch(url, { headers, signal: this.o.signal });
    }
    if (!res.ok) throw new RegistryError(`token ${res.status}`, res.status === 403 ? 403 : 401);
    const j = (await res.json()) as { token?: string; access_token?: string };
    this.tokens.set(scope, j.token ?? j.access_token ?? '');
  }

  /** one request with auth and retries; `body` is a factory so a retry can resend it */
  async request(method: string, pathOrUrl: string, opts: { repo: string; push?: boolean; headers?: Record<string, string>; body?: Body; ok?: number[] } ): Promise<Response> {
    const scope = `repository:${opts.repo}:${opts.push ? 'pull,push' : 'pull'}`;
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : this.base + pathOrUrl;
    const retries = this.o.retries ?? 4;
    let authTried = false;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { ...opts.headers };
      const tok = this.tokens.get(scope);
      if (tok) headers.authorization = `Bearer ${tok}`;
      else if (this.basic) headers.authorization = this.basic;
      let res: Response;
      try {
        this.stats.requests++;
        const body = opts.body?.();
        res = await fetch(url, { method, headers, body, signal: this.o.signal, redirect: 'follow', ...(body instanceof ReadableStream ? { duplex: 'half' } : {}) } as RequestInit);
      } catch (e) {
        if (this.o.signal?.aborted || attempt >= retries) throw new RegistryError(`registry ${this.registry}: ${method} ${new URL(url).pathname} failed: ${(e as Error).message}${(e as { cause?: Error }).cause ? ` (${(e as { cause: Error }).cause.message})` : ''}`);
        await backoff(attempt);
        continue;
      }
      if (res.status === 401 && !authTried) {
        authTried = true;
        const www = res.headers.get('www-authenticate');
        await res.body?.cancel();
        if (!www) throw this.denied(401, opts.repo, opts.push ? 'push' : 'pull', '');
        try { await this.authorize(www, scope); } catch (e) {
          const st = (e as RegistryError).status;
          if (st === 401 || st === 403) throw this.denied(st, opts.repo, opts.push ? 'push' : 'pull', (e as Error).message);
          throw e;
        }
        attempt--;
        continue;
      }
      if (res.status === 401 || res.status === 403) {
        const t = await res.text().catch(() => '');
        throw this.denied(res.status, opts.repo, opts.push ? 'push to' : 'pull from', errDetail(t));
      }
      if (res.status >= 500 && attempt < retries) { await res.body?.cancel(); await backoff(attempt); continue; }
      if (opts.ok && !opts.ok.includes(res.status)) {
        const t = await res.text().catch(() => '');
        throw new RegistryError(`registry ${this.registry}, repository ${opts.repo}: ${method} ${new URL(url).pathname} → ${res.status} ${errDetail(t)}`, res.status);
      }
      return res;
    }
  }

  async ping(): Promise<void> {
    const res = await fetch(this.base + '/v2/', { signal: this.o.signal });
    await res.body?.cancel();
    if (res.status !== 200 && res.status !== 401) throw new RegistryError(`registry ${this.registry}: /v2/ answered ${res.status}`);
  }

  async hasBlob(repo: string, digest: string, push = false): Promise<boolean> {
    const res = await this.request('HEAD', `/v2/${repo}/blobs/${digest}`, { repo, push, ok: [200, 404] });
    return res.status === 200;
  }

  /** Push a blob unless present; try a cross-repo mount from `mountFrom` first. Upload sessions restart on failure. */
  async pushBlob(repo: string, desc: { digest: string; size: number }, src: BlobSource, mountFrom?: string): Promise<'exists' | 'mounted' | 'uploaded'> {
    if (await this.hasBlob(repo, desc.digest, true)) { this.stats.blobsSkipped++; return 'exists'; }
    if (mountFrom && mountFrom !== repo) {
      const r = await this.request('POST', `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(desc.digest)}&from=${encodeURIComponent(mountFrom)}`, { repo, push: true, ok: [201, 202] });
      await r.body?.cancel();
      if (r.status === 201) { this.stats.blobsMounted++; return 'mounted'; }
    }
    const retries = this.o.retries ?? 4;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.upload(repo, desc, src);
        return 'uploaded';
      } catch (e) {
        // the blob may have landed even though the final response was lost
        if (await this.hasBlob(repo, desc.digest, true).catch(() => false)) return 'uploaded';
        if (attempt >= retries || (e as RegistryError).status === 401 || (e as RegistryError).status === 403) throw e;
        await backoff(attempt);
      }
    }
  }

  private async upload(repo: string, desc: { digest: string; size: number }, src: BlobSource): Promise<void> {
    const start = await this.request('POST', `/v2/${repo}/blobs/uploads/`, { repo, push: true, ok: [202] });
    await start.body?.cancel();
    let loc = this.abs(start.headers.get('location'));
    const id = desc.digest.slice(7, 19);
    const chunk = this.o.chunkSize ?? 0;
    const withDigest = (u: string): string => `${u}${u.includes('?') ? '&' : '?'}digest=${encodeURIComponent(desc.digest)}`;
    if (chunk > 0 && desc.size > chunk) {
      for (let off = 0; off < desc.size; off += chunk) {
        const end = Math.min(desc.size, off + chunk);
        const data = await readRange(src, off, end);
        const r = await this.request('PATCH', loc, {
          repo, push: true, ok: [202],
          headers: { 'content-type': 'application/octet-stream', 'content-range': `${off}-${end - 1}`, 'content-length': String(data.length) },
          body: () => data,
        });
        await r.body?.cancel();
        loc = this.abs(r.headers.get('location') ?? loc);
        this.stats.blobBytesUploaded += data.length;
        this.o.onProgress?.({ id, current: end, total: desc.size, message: 'pushing' });
      }
      const fin = await this.request('PUT', withDigest(loc), { repo, push: true, ok: [201, 204], headers: { 'content-length': '0' } });
      await fin.body?.cancel();
    } else {
      let sent = 0;
      const fin = await this.request('PUT', withDigest(loc), {
        repo, push: true, ok: [201, 204],
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(desc.size) },
        body: () => {
          sent = 0;
          if ('data' in src) return src.data;
          const rs = createReadStream(src.path);
          rs.on('data', (d) => { sent += (d as Buffer).length; this.o.onProgress?.({ id, current: sent, total: desc.size, message: 'pushing' }); });
          return Readable.toWeb(rs) as unknown as ReadableStream;
        },
      });
      await fin.body?.cancel();
      this.stats.blobBytesUploaded += desc.size;
      this.o.onProgress?.({ id, current: desc.size, total: desc.size, message: 'pushed' });
    }
  }

  private abs(loc: string | null): string {
    if (!loc) throw new RegistryError(`registry ${this.registry}: upload response without Location`);
    return new URL(loc, this.base).toString();
  }

  async putManifest(repo: string, ref: string, bytes: Buffer, mediaType: string): Promise<string> {
    const r = await this.request('PUT', `/v2/${repo}/manifests/${ref}`, { repo, push: true, ok: [200, 201, 202], headers: { 'content-type': mediaType }, body: () => bytes });
    await r.body?.cancel();
    return r.headers.get('docker-content-digest') ?? sha256(bytes);
  }

  async getManifest(repo: string, ref: string): Promise<{ bytes: Buffer; mediaType: string; digest: string }> {
    const r = await this.request('GET', `/v2/${repo}/manifests/${ref}`, { repo, ok: [200], headers: { accept: MANIFEST_ACCEPT } });
    const bytes = Buffer.from(await r.arrayBuffer());
    const mediaType = r.headers.get('content-type')?.split(';')[0] ?? (JSON.parse(bytes.toString()) as { mediaType?: string }).mediaType ?? '';
    return { bytes, mediaType, digest: sha256(bytes) };
  }

  private getBlobResponse(repo: string, digest: string): Promise<Response> {
    return this.request('GET', `/v2/${repo}/blobs/${digest}`, { repo, ok: [200] });
  }

  async getBlob(repo: string, digest: string): Promise<Buffer> {
    const b = Buffer.from(await (await this.getBlobResponse(repo, digest)).arrayBuffer());
    const got = sha256(b);
    if (got !== digest) throw new RegistryError(`registry ${this.registry}: blob ${digest} has digest ${got}`);
    return b;
  }

  async getBlobStream(repo: string, digest: string): Promise<Readable> {
    const r = await this.getBlobResponse(repo, digest);
    return Readable.fromWeb(r.body as import('node:stream/web').ReadableStream);
  }
}

function errDetail(t: string): string {
  try {
    const j = JSON.parse(t) as { errors?: Array<{ code?: string; message?: string }> };
    return (j.errors ?? []).map((e) => `${e.code}: ${e.message}`).join('; ');
  } catch { return t.slice(0, 200); }
}

function backoff(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
}

async function readRange(src: BlobSource, start: number, end: number): Promise<Buffer> {
  if ('data' in src) return src.data.subarray(start, end);
  const fh = await fs.open(src.path, 'r');
  try {
    const b = Buffer.alloc(end - start);
    await fh.read(b, 0, b.length, start);
    return b;
  } finally { await fh.close(); }
}
