// "Start from an example": a tiny build that runs on busybox and exports an OCI tar.
export const EXAMPLE = {
  kind: 'kiln.graph',
  version: 1,
  name: 'example',
  nodes: [
    { id: 'base', kind: 'image', params: { ref: 'busybox:local' }, position: { x: 0, y: 0 } },
    { id: 'hello', kind: 'mkfile', params: { path: '/hello.txt', data: 'hello from kiln\n' }, position: { x: 0, y: 0 } },
    { id: 'run', kind: 'run', params: { command: 'cat /hello.txt > /greeting && echo built' }, position: { x: 0, y: 0 } },
    { id: 'cfg', kind: 'config', params: { cmd: ['cat', '/greeting'] }, position: { x: 0, y: 0 } },
    { id: 'oci', kind: 'export-oci', params: { dest: '/tmp/kiln-example.tar' }, position: { x: 0, y: 0 } },
  ],
  edges: [
    { id: 'e1', source: 'base', sourcePort: 'out', target: 'hello', targetPort: 'in' },
    { id: 'e2', source: 'hello', sourcePort: 'out', target: 'run', targetPort: 'in' },
    { id: 'e3', source: 'run', sourcePort: 'out', target: 'cfg', targetPort: 'in' },
    { id: 'e4', source: 'cfg', sourcePort: 'out', target: 'oci', targetPort: 'in' },
    { id: 'e5', source: 'cfg', sourcePort: 'config', target: 'oci', targetPort: 'config' },
  ],
  groups: [],
};
