// The Dockerfile AST, shaped like BuildKit's parser.Node so that the conformance corpus's dumps
// can be compared directly, with positions added for the editor and error messages.

export interface Position {
  /** 1-based */
  line: number;
  /** 0-based, in characters */
  column: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export interface Heredoc {
  name: string;
  /** the body verbatim (with newlines; for <<- the tabs are still there: see chompHeredocContent) */
  content: string;
  /** false when the delimiter was quoted: no expansion inside */
  expand: boolean;
  /** <<- : leading tabs stripped */
  chomp: boolean;
  /** `3<<EOF`: the file descriptor the body is fed to (absent means stdin) */
  fileDescriptor?: number;
}

/**
 * One node. For an instruction, `value` is the lower-cased instruction name and `next` is the
 * linked list of its arguments (as BuildKit does); `original` is the source text of the whole
 * instruction (continuations joined).
 */
export interface Node {
  value: string;
  next?: Node;
  children: Node[];
  heredocs: Heredoc[];
  /** json: the arguments were in exec (JSON array) form */
  attributes: { json?: boolean };
  original: string;
  /** --flag=value strings, as written */
  flags: string[];
  /** comment lines directly above the instruction */
  prevComment: string[];
  /** 1-based inclusive line range of the instruction */
  startLine: number;
  endLine: number;
  /** column ranges of the instruction keyword, each flag and each argument token, when known */
  range?: Range;
  /** the instruction keyword alone */
  keywordRange?: Range;
  flagRanges?: Range[];
}

export interface ParseWarning {
  short: string;
  detail?: string;
  url?: string;
  location: Range;
}

export interface Directives {
  syntax?: string;
  escape: '\\' | '`';
  /** raw `# check=` value */
  check?: string;
}

export interface ParseResult {
  /** root node: children are the instructions */
  ast: Node;
  directives: Directives;
  warnings: ParseWarning[];
}
