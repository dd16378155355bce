/** @jsxImportSource preact */
// Placeholder page.
export function ApiKeysPage() {
  return <section><h1>api-keys</h1></section>;
}
