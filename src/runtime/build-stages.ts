// The results of a multi-stage build's earlier stages, read from the classic builder's log. Nothing refers to
// them once the build is over: untagged, they stay on disk as dangling images no tag removal ever reaches.
// Tagging them beside the final image lets retention remove them as it removes the image: by our own tags.

/** Follows the build log line by line; `stages()` gives the image id each earlier stage ended on. */
export class StageTracker {
  private readonly results: string[] = [];
  private base: string | undefined;
  private last: string | undefined;
  private started = false;

  line(text: string): void {
    if (/^Step \d+\/\d+ : FROM /i.test(text)) {
      // A stage that is only its FROM ends on its base image: someone else's, never ours to tag.
      if (this.started && this.last && this.last !== this.base) this.results.push(this.last);
      this.started = true;
      this.base = this.last = undefined;
      return;
    }
    const m = /^ ---> ([0-9a-f]{12,64})\s*$/.exec(text);
    if (!m) return;
    this.base ??= m[1];
    this.last = m[1];
  }

  /** Ids (as logged: usually 12 hex) of the stages before the last, without repeats and without the final image. */
  stages(finalId: string): string[] {
    const final = finalId.replace(/^sha256:/, "");
    return [...new Set(this.results)].filter((id) => !final.startsWith(id));
  }
}

/** The tag of stage `n` (1-based) of the build tagged `tag`: `<repo>:<deployment>-stage<n>`. */
export function stageTag(tag: string, n: number): string {
  return `${tag}-stage${n}`;
}

/** The tag a stage tag belongs to (itself for a final image's tag). */
export function ownerTag(ref: string): string {
  return ref.replace(/-stage\d+$/, "");
}
