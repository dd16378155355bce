// Types for the dev-only Prometheus text parser used by the metrics tests (the package ships none).
declare module "parse-prometheus-text-format" {
  const parse: (text: string) => unknown[];
  export default parse;
}
