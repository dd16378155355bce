/** @jsxImportSource preact */
// Placeholder page.
export function RegistriesPage() {
  return <section><h1>registries</h1></section>;
}
