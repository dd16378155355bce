// Where a catalog template's repo is fetched from. The catalog's repo_url names the template (GET /templates shows
// it, and clients post it back as the reference does); the code is the source bundled in this binary, cloned from a
// local repo with no network. A copy that carries no bundled source fetches the catalog URL itself.
import catalog from "../../templates/catalog.json" with { type: "json" };
import { templateFiles } from "../templates-bundle.ts";
import { templateRepo } from "../build/template-repo.ts";

type Entry = { id: string; repo_url?: string; source_dir?: string };
const key = (url: string) =>
  url
    .trim()
    .toLowerCase()
    .replace(/\/+$/, "")
    .replace(/\.git$/, "");
const BY_URL = new Map((catalog as Entry[]).flatMap((e) => (e.repo_url && e.source_dir ? [[key(e.repo_url), e] as const] : [])));

/** The catalog template whose repo_url this is (with or without .git or a trailing slash), if any. */
export function catalogTemplateOf(repoUrl: string | null | undefined): { id: string; sourceDir: string } | undefined {
  const e = repoUrl ? BY_URL.get(key(repoUrl)) : undefined;
  return e ? { id: e.id, sourceDir: e.source_dir! } : undefined;
}

/** file:// of the local repo of a catalog template's bundled source (made on first use), else undefined. */
export async function templateCloneUrl(dataDir: string, repoUrl: string): Promise<string | undefined> {
  const t = catalogTemplateOf(repoUrl);
  const files = t && templateFiles(t.sourceDir);
  if (!t || !files) return undefined;
  return `file://${await templateRepo(dataDir, t.id, files)}`;
}
