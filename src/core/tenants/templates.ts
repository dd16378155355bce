// The template catalog (templates/catalog.json, bundled into the binary): quick-start apps and services.
import catalog from "../../../templates/catalog.json" with { type: "json" };
import { NotFound } from "../../lib/errors.ts";

export interface Template {
  id: string;
  name: string;
  framework: string;
  description: string;
  /** Source templates are cloned from a repo; service templates (databases) run an image. */
  repo_url?: string;
  image?: string;
  default_env: Record<string, string>;
  default_port: number;
  /** Env vars the caller must supply (secrets have no default). */
  required_env?: string[];
  /** Named volumes for the service's data directory. */
  volumes?: Array<{ name: string; mount_path: string }>;
  command?: string[];
}

// source_dir (templates/src/<name>, the template's code in this repository) is not part of the reference's API shape.
type CatalogEntry = Template & { source_dir?: string };
const ENTRIES = catalog as CatalogEntry[];
const TEMPLATES: readonly Template[] = Object.freeze(ENTRIES.map(({ source_dir: _, ...t }) => t));
const BY_ID = new Map(TEMPLATES.map((t) => [t.id, t]));
const SOURCE_DIRS = new Map(ENTRIES.flatMap((t) => (t.source_dir ? [[t.id, t.source_dir] as const] : [])));

/** Every template, full detail, in catalog order. */
export function listTemplates(): readonly Template[] {
  return TEMPLATES;
}

/** One template; NotFound for an unknown id. */
export function getTemplate(id: string): Template {
  const t = BY_ID.get(id);
  if (!t) throw new NotFound("Template");
  return t;
}

/** A code template's source directory, relative to the repository root (deployable without GitHub); undefined for services. */
export function templateSourceDir(id: string): string | undefined {
  getTemplate(id);
  return SOURCE_DIRS.get(id);
}

/** A list item as the reference shows it: identity, framework, description and source. */
export function templateSummary(t: Template) {
  return {
    id: t.id,
    name: t.name,
    framework: t.framework,
    description: t.description,
    ...(t.repo_url ? { repo_url: t.repo_url } : { image: t.image }),
  };
}
