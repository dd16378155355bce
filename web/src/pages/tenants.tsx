/** @jsxImportSource preact */
// Placeholder page.
export function TenantsPage() {
  return <section><h1>tenants</h1></section>;
}
