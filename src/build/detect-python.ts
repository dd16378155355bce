// Python trees: requirements.txt, Pipfile or pyproject.toml; FastAPI, Flask and Django get their server command.
import { BuildPlanError } from "./types.ts";
import { shell, type Step } from "./command.ts";
import type { PythonApp } from "./detection.ts";
import type { Override } from "./override.ts";
import type { RepoTree } from "./tree.ts";

const PIP = ["pip", "install", "--no-cache-dir"];

/** True when the tree has a Python manifest. */
export function isPython(tree: RepoTree): boolean {
  return ["requirements.txt", "Pipfile", "pyproject.toml"].some((f) => tree.isFile(f));
}

/** Plans a Python tree. */
export function detectPython(tree: RepoTree, o: Override, procfileStart?: string): PythonApp {
  const deps = ["requirements.txt", "Pipfile", "pyproject.toml"]
    .map((f) => tree.read(f) ?? "")
    .join("\n")
    .toLowerCase();
  const has = (name: string) => new RegExp(`(^|[\\s"'\\[,])${name}([\\s<>=!~\\[\\];"',]|$)`, "m").test(deps);
  const { manifests, install } = installSteps(tree);
  const port = o.port ?? 8000;
  const explicit = o.start ?? procfileStart;
  const base = {
    kind: "python" as const,
    port,
    manifests,
    install: o.install ? [shell(o.install)] : install,
    build: o.build ? shell(o.build) : undefined,
  };

  if (tree.isFile("manage.py") || has("django")) {
    const project = tree.list().find((d) => tree.isFile(`${d}/wsgi.py`) && /^[A-Za-z_][A-Za-z0-9_]*$/.test(d));
    const start =
      explicit ??
      (has("gunicorn") && project
        ? `gunicorn ${project}.wsgi:application --bind 0.0.0.0:$PORT`
        : "python manage.py runserver 0.0.0.0:$PORT");
    return { ...base, framework: "django", start: shell(start) };
  }
  if (has("fastapi")) {
    const start =
      explicit ?? `uvicorn ${appModule(tree, ["main", "app", "app/main", "src/main"])}:app --host 0.0.0.0 --port $PORT`;
    const needsUvicorn = !explicit && !has("uvicorn") && !/fastapi\[(standard|all)/.test(deps);
    return {
      ...base,
      framework: "fastapi",
      install: needsUvicorn && !o.install ? [...base.install, [...PIP, "uvicorn"]] : base.install,
      start: shell(start),
    };
  }
  if (has("flask")) {
    const mod = appModule(tree, ["app", "main", "wsgi", "src/app"]);
    const start =
      explicit ??
      (has("gunicorn")
        ? `gunicorn --bind 0.0.0.0:$PORT ${mod}:app`
        : `python -m flask --app ${mod} run --host 0.0.0.0 --port $PORT`);
    return { ...base, framework: "flask", start: shell(start) };
  }
  const script = ["main.py", "app.py", "server.py"].find((f) => tree.isFile(f));
  if (explicit) return { ...base, framework: "python", start: shell(explicit) };
  if (script) return { ...base, framework: "python", start: ["python", script] };
  throw new BuildPlanError(
    'Python project found, but no start command: looked for Django (manage.py), FastAPI, Flask and main.py/app.py/server.py. Add a Procfile "web:" line or "start" in staxa.json.',
  );
}

// Copies only the manifests before installing when the install does not need the source.
function installSteps(tree: RepoTree): { manifests: string[]; install: Step[] } {
  if (tree.isFile("requirements.txt")) return { manifests: ["requirements.txt"], install: [[...PIP, "-r", "requirements.txt"]] };
  if (tree.isFile("Pipfile")) {
    const lock = tree.isFile("Pipfile.lock");
    return {
      manifests: ["Pipfile", ...(lock ? ["Pipfile.lock"] : [])],
      install: [
        [...PIP, "pipenv"],
        ["pipenv", "install", "--system", lock ? "--deploy" : "--skip-lock"],
      ],
    };
  }
  return { manifests: [], install: [[...PIP, "."]] };
}

// "app/main" -> "app.main" when app/main.py exists; the first candidate otherwise.
function appModule(tree: RepoTree, candidates: string[]): string {
  const found = candidates.find((c) => tree.isFile(`${c}.py`)) ?? candidates[0]!;
  return found.replace(/\//g, ".");
}
