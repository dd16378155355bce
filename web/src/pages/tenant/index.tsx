/** @jsxImportSource preact */
// Placeholder page.
export function TenantPage(props: { id: string; tab: string }) {
  return <section><h1>{props.id}</h1><p>{props.tab}</p></section>;
}
