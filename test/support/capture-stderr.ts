// Keeps a copy of everything written to stderr (the appliance's logs, in-process) so a test can grep it.

/** Starts capturing into `lines` (stderr still gets everything); returns the function that stops it. */
export function captureStderr(lines: string[]): () => void {
  const realWrite = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    lines.push(String(chunk));
    return (realWrite as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  return () => {
    process.stderr.write = realWrite;
  };
}
