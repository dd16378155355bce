// The React entry: renders the app into #root (the static heading is there for clients without JavaScript).
import React from "react";
import { createRoot } from "react-dom/client";
import App from "./App.jsx";

createRoot(document.getElementById("root")).render(<App />);
