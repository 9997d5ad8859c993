// The renderer's one door to the engine. In Electron the preload exposes `window.kiln` (one method
// per ControlAPI method); in a browser we talk HTTP+WS to `kiln serve`. Callers cannot tell which.
import type { ControlAPI } from '../../../engine/control/api.js';
import { httpClient } from './http.js';

declare global {
  interface Window {
    kiln?: ControlAPI;
  }
}

let api: ControlAPI | undefined;

export function getApi(): ControlAPI {
  if (api) return api;
  if (typeof window !== 'undefined' && window.kiln) return (api = window.kiln);
  const token = new URLSearchParams(location.search).get('token') ?? '';
  return (api = httpClient(location.origin, token));
}

/** tests swap the transport */
export function setApi(a: ControlAPI | undefined): void {
  api = a;
}
