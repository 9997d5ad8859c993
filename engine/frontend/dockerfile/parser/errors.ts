// Parse failures carry where they happened so the CLI and the editor can point at the line.

export interface ParseErrorLocation {
  file: string;
  /** 1-based inclusive */
  startLine: number;
  endLine: number;
  /** 0-based, in characters */
  startColumn: number;
  endColumn: number;
}

export class DockerfileParseError extends Error {
  override name = 'DockerfileParseError';
  /** the message without the location prefix */
  readonly reason: string;
  constructor(
    reason: string,
    readonly location: ParseErrorLocation,
  ) {
    super(`${location.file}:${location.startLine}:${location.startColumn + 1}: ${reason}`);
    this.reason = reason;
  }
}

/** An error from a line parser, before the parse loop attaches the location. */
export class LineParseError extends Error {
  override name = 'LineParseError';
}
