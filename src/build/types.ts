// Source fetching and build planning, used by the pipeline.

export interface CloneRequest {
  repoUrl: string;
  branch: string;
  commitSha?: string;
  /** Empty directory to clone into. */
  dir: string;
  /** Token for https auth (GitHub installation token); never persisted in .git/config. */
  token?: string;
  timeoutMs: number;
  onLog: (line: string) => void;
}

export interface Git {
  /** Clones and checks out; returns the commit actually checked out. */
  clone(req: CloneRequest): Promise<{ commitSha: string }>;
}

export interface BuildPlan {
  framework: string;
  /** Build context directory (absolute), inside the clone. */
  contextDir: string;
  /** Dockerfile path relative to contextDir. */
  dockerfile: string;
  /** Contents when generated (written into the context by the planner), else undefined. */
  generatedDockerfile?: string;
  port?: number;
  /** npm, pnpm, yarn or bun when detected from lockfiles. */
  packageManager?: string;
  /** Build args the generated Dockerfile declares (the package registry); none for a repository's own Dockerfile. */
  buildArgs?: Record<string, string>;
}

/** Base images used by generated Dockerfiles: settings, so tests can point them at local images. */
export interface BaseImages {
  node: string;
  bun: string;
  python: string;
  go: string;
  static: string;
  goRuntime: string;
}

/** Raised when a tree cannot be built; the message says what was looked for and how to fix it. */
export class BuildPlanError extends Error {
  /** The framework recognised before the refusal, recorded on the failed deployment. */
  constructor(
    message: string,
    readonly framework?: string,
  ) {
    super(message);
  }
}
