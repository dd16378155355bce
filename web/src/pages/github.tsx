/** @jsxImportSource preact */
// Placeholder page.
export function GithubPage() {
  return <section><h1>github</h1></section>;
}
