// The starter page; edit it and push to redeploy.
export default function Home() {
  return (
    <main>
      <h1>Hello from the Staxa Next.js Starter template</h1>
      <p>Edit pages/index.js and push to redeploy.</p>
    </main>
  );
}
