// Step failures carry what a user needs to fix them: the exit code, the command and the tail of
// its output (the solver adds the source location from the vertex metadata).

export class ExecError extends Error {
  override name = 'ExecError';
  constructor(
    readonly exitCode: number,
    readonly command: string[],
    readonly tail: string[],
  ) {
    super(`process "${command.join(' ')}" did not complete successfully: exit code: ${exitCode}` + (tail.length ? `\n${tail.join('\n')}` : ''));
  }
}

export class FileOpError extends Error {
  override name = 'FileOpError';
}

export class SourceError extends Error {
  override name = 'SourceError';
}

/** keeps the last `n` lines of a stream of chunks */
export class TailBuffer {
  private lines: string[] = [];
  private partial = '';
  constructor(private readonly n = 20) {}
  push(chunk: Buffer | string): void {
    const parts = (this.partial + chunk.toString()).split('\n');
    this.partial = parts.pop() ?? '';
    this.lines.push(...parts);
    if (this.lines.length > this.n) this.lines.splice(0, this.lines.length - this.n);
  }
  get(): string[] {
    const all = this.partial ? [...this.lines, this.partial] : [...this.lines];
    return all.slice(-this.n);
  }
}
