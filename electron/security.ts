// Electron's security checklist, as data and small predicates, so tests can assert each item.

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { WebPreferences } from './electron-types.js';

/**
 * The renderer's Content-Security-Policy. Scripts only from the app itself (no eval, no inline);
 * inline styles are allowed because React Flow positions nodes with style attributes. The
 * renderer reaches the engine only through window.kiln, so connect-src stays 'self'.
 */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Directives a <meta> CSP cannot carry (browsers ignore them there, with a console warning). */
const HEADER_ONLY = new Set(['frame-ancestors', 'report-uri', 'sandbox']);

/**
 * The same policy for renderer/index.html's <meta http-equiv="Content-Security-Policy">: the
 * packaged app loads the page with loadFile, and a header set in onHeadersReceived is not
 * guaranteed to reach file:// pages, so the page carries the policy itself (Electron's security
 * checklist recommends the meta tag there). A unit test keeps index.html equal to this.
 */
export const META_CSP = CSP.split('; ').filter((d) => !HEADER_ONLY.has(d.split(' ')[0]!)).join('; ');

export function webPreferences(preload: string): WebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    spellcheck: false,
  };
}

/**
 * Decides whether a URL is the app's own page: the packaged renderer (file:// under the renderer
 * directory) or the page `kiln serve` hands out (exact origin). Anything else — other files,
 * other origins, about:blank, devtools — is untrusted.
 */
export function trustedUrlPredicate(opts: { rendererDir?: string; origins?: string[] }): (url: string | undefined) => boolean {
  // pathToFileURL gets Windows drive letters and percent-encoding right; the trailing separator
  // keeps a sibling like dist/renderer-evil/ out.
  const dirUrl = opts.rendererDir ? pathToFileURL(path.resolve(opts.rendererDir) + path.sep).href : undefined;
  const origins = new Set((opts.origins ?? []).map((o) => new URL(o).origin));
  return (url) => {
    if (!url) return false;
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return false;
    }
    if (u.protocol === 'file:') {
      // URL parsing has already resolved any `..` segments, so a prefix test is exact.
      return dirUrl !== undefined && u.host === '' && `file://${u.pathname}`.startsWith(dirUrl);
    }
    if (u.protocol === 'http:' || u.protocol === 'https:') return origins.has(u.origin);
    return false;
  };
}

/** Adds the CSP to every response the session loads (file:// and http alike). */
export function withCsp(headers: Record<string, string[]> | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (k.toLowerCase() !== 'content-security-policy') out[k] = v;
  out['Content-Security-Policy'] = [CSP];
  return out;
}
