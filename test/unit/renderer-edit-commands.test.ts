// renderer/src/editCommands.ts: the Electron Edit menu's commands act on the graph (zundo undo,
// node clipboard, selection) unless a text field has focus, where they go back to the main
// process as native actions. Node has no DOM: document.activeElement and window.kiln are stand-ins.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useEditor } from '../../renderer/src/store.js';
import { editMenuActions, editsText } from '../../renderer/src/editCommands.js';

const g = globalThis as unknown as { window?: unknown; document?: unknown };
let native: string[];
let focused: unknown;
const st = () => useEditor.getState();

beforeEach(() => {
  native = [];
  focused = { tagName: 'BODY' };
  g.window = { kiln: { shell: { editNative: async (a: string) => (native.push(a), true) } } };
  g.document = { get activeElement() { return focused; } };
  st().newDocument();
  useEditor.temporal.getState().clear();
});
afterEach(() => {
  delete g.window;
  delete g.document;
});

describe('Edit menu commands', () => {
  it('on the canvas: undo/redo the graph, copy/cut/paste nodes, select all', () => {
    const a = st().addNode('image', { ref: 'busybox:local' });
    const b = st().addNode('run', { command: 'true' });
    editMenuActions['edit-undo']!();
    expect(st().doc.nodes.map((n) => n.id)).toEqual([a]);
    editMenuActions['edit-redo']!();
    expect(st().doc.nodes.map((n) => n.id)).toEqual([a, b]);
    editMenuActions['edit-select-all']!();
    expect(st().selected).toEqual([a, b]);
    st().select([b]);
    editMenuActions['edit-cut']!();
    expect(st().doc.nodes.map((n) => n.id)).toEqual([a]);
    editMenuActions['edit-paste']!();
    expect(st().doc.nodes).toHaveLength(2);
    expect(st().doc.nodes[1]!.kind).toBe('run');
    editMenuActions['edit-copy']!();
    expect(st().clipboard.map((n) => n.kind)).toEqual(st().doc.nodes.filter((n) => st().selected.includes(n.id)).map((n) => n.kind));
    expect(native).toEqual([]);
  });

  it('in a text field: the native action, and the graph is untouched', () => {
    st().addNode('image', { ref: 'busybox:local' });
    const before = JSON.stringify(st().doc);
    focused = { tagName: 'INPUT', type: 'text' };
    for (const c of ['edit-undo', 'edit-redo', 'edit-cut', 'edit-copy', 'edit-paste', 'edit-select-all']) editMenuActions[c]!();
    expect(native).toEqual(['undo', 'redo', 'cut', 'copy', 'paste', 'selectAll']);
    expect(JSON.stringify(st().doc)).toBe(before);
  });

  it('knows which elements edit text', () => {
    expect(editsText({ tagName: 'TEXTAREA' } as Element)).toBe(true);
    expect(editsText({ tagName: 'INPUT', type: 'password' } as unknown as Element)).toBe(true);
    expect(editsText({ tagName: 'INPUT', type: 'checkbox' } as unknown as Element)).toBe(false);
    expect(editsText({ tagName: 'DIV', isContentEditable: true } as unknown as Element)).toBe(true);
    expect(editsText({ tagName: 'BUTTON' } as Element)).toBe(false);
    expect(editsText(null)).toBe(false);
  });
});
