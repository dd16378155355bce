/** @jsxImportSource preact */
// Placeholder page.
export function AccountPage() {
  return <section><h1>account</h1></section>;
}
