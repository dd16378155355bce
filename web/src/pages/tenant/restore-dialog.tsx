/** @jsxImportSource preact */
// The confirmation a restore needs: it replaces the service's data with the backup's, so it says so, names both,
// and only the explicit "Restore" button goes ahead (Escape or Cancel close it).
import { useEffect, useRef } from "preact/hooks";
import { Button, When } from "../../components/ui.tsx";

export interface RestoreTarget {
  id: string;
  service: string;
  method: string;
  created_at: string;
}

export function RestoreDialog(props: { backup: RestoreTarget; busy: boolean; onConfirm: () => void; onCancel: () => void }) {
  const cancel = useRef<HTMLButtonElement>(null);
  // Focus starts on Cancel: Enter right after opening must not replace data.
  useEffect(() => cancel.current?.focus(), []);
  const b = props.backup;
  return (
    <div
      class="card dialog"
      role="alertdialog"
      aria-modal="true"
      aria-labelledby="restore-title"
      aria-describedby="restore-desc"
      onKeyDown={(e) => e.key === "Escape" && props.onCancel()}
    >
      <h3 id="restore-title">Restore this backup?</h3>
      <p id="restore-desc">
        The data of service <strong>{b.service}</strong> is replaced by backup <code>{b.id}</code> of <When at={b.created_at} />.
        {b.method === "volume_tar"
          ? " The service is stopped while its volumes are rewritten, then started again."
          : " The database is reloaded from its dump while the service keeps running; changes made since the backup are lost."}
      </p>
      <Button kind="danger" busy={props.busy} onClick={props.onConfirm}>
        Restore
      </Button>{" "}
      <button type="button" class="btn plain" ref={cancel} onClick={props.onCancel}>
        Cancel
      </button>
    </div>
  );
}
