// The numbered migrations, bundled as text so the compiled binary carries them.
// Add a file NNN_name.sql and one line here; never edit a migration that has shipped.
import m001 from "./001_init.sql" with { type: "text" };

export const MIGRATIONS: Array<{ version: number; name: string; sql: string }> = [
  { version: 1, name: "init", sql: m001 },
];
