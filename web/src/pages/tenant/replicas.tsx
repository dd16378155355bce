/** @jsxImportSource preact */
// The Replicas cell of the Services table: how many containers serve the service (of how many wanted) and a
// number to change it (PATCH, no rebuild). A service with volumes runs one: the appliance answers 400 and says so.
import { useState } from "preact/hooks";
import { api, seg } from "../../api.ts";
import { useAction } from "../../hooks.ts";
import { Button } from "../../components/ui.tsx";
/** What the cell reads of a service (GET …/services): its name, replicas wanted and serving. */
interface Scaled {
  name: string;
  replicas?: number;
  replicas_running?: number;
}

export function Replicas(p: { base: string; service: Scaled; onChanged: () => void }) {
  const s = p.service;
  const wanted = s.replicas ?? 1;
  const [n, setN] = useState(String(wanted));
  const scale = useAction(async () => {
    await api("PATCH", `${p.base}/services/${seg(s.name)}`, { replicas: Number(n) });
    p.onChanged();
  });
  const running = s.replicas_running ?? 0;
  return (
    <form
      class="replicas"
      aria-label={`Replicas of ${s.name}`}
      onSubmit={(e) => {
        e.preventDefault();
        void scale.run();
      }}
    >
      <span data-replicas-running={running} data-replicas-wanted={wanted}>
        {running === wanted ? `${wanted}` : `${running} of ${wanted}`}
      </span>{" "}
      <input
        type="number"
        min={1}
        max={10}
        name="replicas"
        aria-label={`Replicas of ${s.name}`}
        value={n}
        style="width:4.5em"
        onInput={(e) => setN((e.currentTarget as HTMLInputElement).value)}
      />{" "}
      <Button type="submit" class="btn small" busy={scale.busy} disabled={n === String(wanted)} aria-label={`Scale ${s.name}`}>
        Scale
      </Button>
      {scale.error && (
        <p class="field-error" role="alert">
          {scale.error.message}
        </p>
      )}
    </form>
  );
}
