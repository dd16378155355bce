// Text imports of bundled files (migrations, dashboard assets).
declare module "*.sql" {
  const text: string;
  export default text;
}
