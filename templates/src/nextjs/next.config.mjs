// Standalone output: the deployed image holds only the traced server, not all of node_modules.
/** @type {import("next").NextConfig} */
const nextConfig = { output: "standalone" };
export default nextConfig;
