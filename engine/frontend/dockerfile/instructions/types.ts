// Typed Dockerfile instructions, after BuildKit's frontend/dockerfile/instructions package.
// Values are kept *unexpanded*: substitution needs the environment at dispatch time, which only
// the converter knows (ENV sees the env from before its own instruction).
import type { Node, Heredoc } from '../parser/ast.js';

export interface InstructionLocation {
  file: string;
  startLine: number;
  endLine: number;
  startColumn?: number;
  endColumn?: number;
}

interface Base {
  /** lower-cased instruction name */
  name: string;
  /** the keyword as written (for ConsistentInstructionCasing) */
  keyword: string;
  original: string;
  location: InstructionLocation;
  node: Node;
}

export interface KeyValue {
  key: string;
  value: string;
  /** written as `KEY value` (LegacyKeyValueFormat) */
  legacy: boolean;
}

export interface FromInstruction extends Base {
  kind: 'from';
  image: string;
  stageName?: string;
  /** `AS` keyword as written, for FromAsCasing */
  asKeyword?: string;
  platform?: string;
}
export interface ArgInstruction extends Base {
  kind: 'arg';
  args: { key: string; value?: string }[];
}
export interface EnvInstruction extends Base {
  kind: 'env';
  pairs: KeyValue[];
}
export interface LabelInstruction extends Base {
  kind: 'label';
  pairs: KeyValue[];
}
export interface MaintainerInstruction extends Base {
  kind: 'maintainer';
  maintainer: string;
}
export interface RunInstruction extends Base {
  kind: 'run';
  cmd: string[];
  /** shell form: the command line goes to the current SHELL */
  prependShell: boolean;
  mounts: string[];
  network?: string;
  security?: string;
  heredocs: Heredoc[];
}
export interface CmdInstruction extends Base {
  kind: 'cmd' | 'entrypoint';
  cmd: string[];
  prependShell: boolean;
}
export interface ShellInstruction extends Base {
  kind: 'shell';
  shell: string[];
}
export interface WorkdirInstruction extends Base {
  kind: 'workdir';
  path: string;
}
export interface UserInstruction extends Base {
  kind: 'user';
  user: string;
}
export interface ExposeInstruction extends Base {
  kind: 'expose';
  ports: string[];
}
export interface VolumeInstruction extends Base {
  kind: 'volume';
  volumes: string[];
}
export interface StopSignalInstruction extends Base {
  kind: 'stopsignal';
  signal: string;
}
export interface HealthcheckInstruction extends Base {
  kind: 'healthcheck';
  /** ["NONE"], ["CMD", ...] or ["CMD-SHELL", line] */
  test: string[];
  /** nanoseconds, as the image config stores them */
  interval?: number;
  timeout?: number;
  startPeriod?: number;
  startInterval?: number;
  retries?: number;
}
export interface OnbuildInstruction extends Base {
  kind: 'onbuild';
  expression: string;
}
export interface CopyInstruction extends Base {
  kind: 'copy' | 'add';
  sources: string[];
  dest: string;
  from?: string;
  chown?: string;
  chmod?: string;
  link: boolean;
  parents: boolean;
  exclude: string[];
  checksum?: string;
  keepGitDir?: boolean;
  unpack?: boolean;
  heredocs: Heredoc[];
}

export type Instruction =
  | FromInstruction
  | ArgInstruction
  | EnvInstruction
  | LabelInstruction
  | MaintainerInstruction
  | RunInstruction
  | CmdInstruction
  | ShellInstruction
  | WorkdirInstruction
  | UserInstruction
  | ExposeInstruction
  | VolumeInstruction
  | StopSignalInstruction
  | HealthcheckInstruction
  | OnbuildInstruction
  | CopyInstruction;

export interface Stage {
  /** lower-cased `AS` name, if any */
  name?: string;
  index: number;
  from: FromInstruction;
  commands: Instruction[];
}

export interface ParsedDockerfile {
  /** ARGs before the first FROM */
  metaArgs: ArgInstruction[];
  stages: Stage[];
  /** every instruction in order, for the checks */
  all: Instruction[];
}
