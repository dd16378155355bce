/** @jsxImportSource preact */
// Placeholder page.
export function CreateTenantPage() {
  return <section><h1>tenant-create</h1></section>;
}
