// The starter component; client-side routes fall back to index.html, so any path renders it.
import React, { useState } from "react";

export default function App() {
  const [count, setCount] = useState(0);
  return (
    <main>
      <h1>Hello from the Staxa Vite + React template</h1>
      <p>Path: {window.location.pathname}</p>
      <button onClick={() => setCount((c) => c + 1)}>clicked {count} times</button>
    </main>
  );
}
