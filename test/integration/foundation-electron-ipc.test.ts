// The Electron transport against the real control service and Docker Engine: the main process
// (with a stand-in for the electron module, whose binary is not installed here, and no
// utilityProcess, so the service runs in-process) hosts
// engine/control/service.ts in-process, and the IPC handlers the preload calls answer from it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { InfoResponse, SolveResponse } from '../../engine/control/api.js';
import { STATUS_EVENT, apiChannel } from '../../electron/channels.js';
import type { ElectronMain, IpcMainInvokeEvent, WebContents } from '../../electron/electron-types.js';
import { createMainProcess, type MainProcess } from '../../electron/main.js';
import { BUSYBOX, DOCKER_HOST, describeWith } from '../helpers/env.js';

const repo = path.resolve(__dirname, '../..');
const rendererDir = path.join(repo, 'dist', 'renderer');
type Handler = (e: IpcMainInvokeEvent, ...a: unknown[]) => Promise<unknown>;

describeWith(['engine'], 'electron IPC → real control service', () => {
  const handlers = new Map<string, Handler>();
  const sent: Array<{ channel: string; payload: unknown }> = [];
  const sender = {
    id: 1,
    send: (channel: string, payload: unknown) => void sent.push({ channel, payload }),
    isDestroyed: () => false,
    on: () => sender,
  } as unknown as WebContents;
  const event: IpcMainInvokeEvent = { sender, senderFrame: { url: `file://${rendererDir}/index.html` } };
  let root = '';
  let ctx = '';
  let main: MainProcess;
  const saved = { root: process.env.KILN_ROOT, host: process.env.DOCKER_HOST };

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'kiln-ipc-root-'));
    ctx = mkdtempSync(path.join(tmpdir(), 'kiln-ipc-ctx-'));
    process.env.KILN_ROOT = root;
    process.env.DOCKER_HOST = DOCKER_HOST;
    const contents = { ...sender, session: { webRequest: { onHeadersReceived() {} }, setPermissionRequestHandler() {} }, setWindowOpenHandler() {} };
    const electron = {
      app: {
        whenReady: async () => {},
        requestSingleInstanceLock: () => true,
        quit() {},
        getPath: () => root,
        getVersion: () => '0.1.0',
        on() {
          return this;
        },
      },
      BrowserWindow: class {
        webContents = contents;
        async loadFile() {}
        async loadURL() {}
        once() {
          return this;
        }
        on() {
          return this;
        }
        isDestroyed() {
          return false;
        }
      },
      ipcMain: { handle: (c: string, h: Handler) => void handlers.set(c, h), removeHandler: (c: string) => void handlers.delete(c) },
      Menu: { buildFromTemplate: (t: unknown) => t, setApplicationMenu() {} },
      dialog: { showErrorBox() {} },
    } as unknown as ElectronMain;
    main = createMainProcess(electron, { rendererDir, argv: [] });
    await main.start();
  });

  afterAll(async () => {
    await main?.stop();
    for (const [k, v] of [['KILN_ROOT', saved.root], ['DOCKER_HOST', saved.host]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(root, { recursive: true, force: true });
    rmSync(ctx, { recursive: true, force: true });
  });

  it('info() over IPC reports the engine this machine runs', async () => {
    const info = (await handlers.get(apiChannel('info'))!(event)) as InfoResponse;
    expect(info.engine.ok).toBe(true);
    expect(info.engine.endpoint).toBe(DOCKER_HOST);
    expect(info.root).toBe(root);
  });

  it('solve() over IPC builds a Dockerfile and streams its progress to the window', async () => {
    const dockerfile = `FROM ${BUSYBOX}\nRUN echo kiln-ipc > /hello\n`;
    writeFileSync(path.join(ctx, 'Dockerfile'), dockerfile);
    const id = `ipc-${Date.now()}`;
    const sub = await handlers.get('kiln:status:subscribe')!(event, id);
    const res = (await handlers.get(apiChannel('solve'))!(event, {
      id,
      input: { kind: 'dockerfile', dockerfile, context: ctx },
    })) as SolveResponse;
    expect(res.error).toBeUndefined();
    expect(res.ok).toBe(true);
    expect(res.output).toMatch(/^sha256:[0-9a-f]{64}$/);
    const events = sent.filter((m) => m.channel === STATUS_EVENT && (m.payload as { sub: string }).sub === sub);
    expect(events.length).toBeGreaterThan(0);
    const names = events.map((m) => (m.payload as { event: { type: string; name?: string } }).event).filter((e) => e.type === 'vertex').map((e) => e.name);
    expect(names.some((n) => /RUN echo kiln-ipc/.test(n ?? ''))).toBe(true);
  });
});
