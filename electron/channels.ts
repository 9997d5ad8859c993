// IPC channel names shared by the main process (ipc.ts) and mirrored in preload.ts (a sandboxed
// preload cannot import project modules, so it keeps its own copy; a unit test keeps them equal).
import type { ControlAPI } from '../engine/control/api.js';

/** Every ControlAPI request/response method; `status` is a stream and has its own channels. */
export const API_METHODS = [
  'solve',
  'cancel',
  'historyList',
  'historyGet',
  'du',
  'prune',
  'workers',
  'info',
  'graph',
  'project',
] as const satisfies readonly Exclude<keyof ControlAPI, 'status'>[];

export type ApiMethod = (typeof API_METHODS)[number];

export const apiChannel = (m: ApiMethod): string => `kiln:api:${m}`;

export const STATUS_SUBSCRIBE = 'kiln:status:subscribe';
export const STATUS_UNSUBSCRIBE = 'kiln:status:unsubscribe';
/** main → renderer: `{ sub, event }` */
export const STATUS_EVENT = 'kiln:status:event';
/** main → renderer: `{ sub }` once the build ended */
export const STATUS_END = 'kiln:status:end';

/** Desktop-only calls (native dialogs, recent files, encrypted secrets). */
export const SHELL_METHODS = ['openFile', 'openDropped', 'saveFile', 'readFile', 'recent', 'encrypt', 'decrypt', 'editNative'] as const;
export type ShellMethod = (typeof SHELL_METHODS)[number];
export const shellChannel = (m: ShellMethod): string => `kiln:shell:${m}`;

/** main → renderer: a menu command, `{ command, path?, text? }` */
export const MENU_COMMAND = 'kiln:menu';
