/** @jsxImportSource preact */
// Account: the provider profile (name editable) and how this browser is signed in.
import { useEffect, useState } from "preact/hooks";
import { api, session } from "../api.ts";
import { useAction, useApi } from "../hooks.ts";
import { Button, ErrorNote, Field, Loading, When, txt } from "../components/ui.tsx";

interface Account {
  id: string;
  email: string;
  name: string | null;
  tenant_count?: number;
  created_at: string;
}

export function AccountPage() {
  const acct = useApi<Account>("/account");
  const [name, setName] = useState("");
  const [note, setNote] = useState("");
  useEffect(() => {
    if (acct.data) setName(acct.data.name ?? "");
  }, [acct.data]);
  const save = useAction(async () => {
    await api("PATCH", "/account", { name });
    setNote("Saved.");
    acct.reload();
  });
  const a = acct.data;
  return (
    <section>
      <h1>Account</h1>
      {!a && (acct.loading ? <Loading what="account" /> : <ErrorNote err={acct.error} />)}
      {a && (
        <>
          <div class="card">
            <dl class="props">
              <dt>Provider</dt>
              <dd>
                <code>{a.id}</code>
              </dd>
              <dt>Email</dt>
              <dd>{txt(a.email)}</dd>
              <dt>Tenants</dt>
              <dd>{txt(a.tenant_count)}</dd>
              <dt>Created</dt>
              <dd>
                <When at={a.created_at} />
              </dd>
              <dt>Signed in with</dt>
              <dd>{session.isApiKey ? "an API key" : `a dashboard session (${session.mode} mode)`}</dd>
            </dl>
          </div>
          <form
            class="card"
            onSubmit={(e) => {
              e.preventDefault();
              void save.run();
            }}
          >
            <h2>Profile</h2>
            <Field label="Display name" name="name" value={name} err={save.error} onValue={setName} />
            <ErrorNote err={save.error} fields={["name"]} />
            {note && !save.error && (
              <p class="note ok" role="status">
                {note}
              </p>
            )}
            <Button type="submit" kind="primary" busy={save.busy}>
              Save
            </Button>
          </form>
        </>
      )}
    </section>
  );
}
