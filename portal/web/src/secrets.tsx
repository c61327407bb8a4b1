// Secrets: values the customer's functions read as ctx.secrets.NAME. Their
// values are write-only: the page sends them and forgets them, and no answer
// of the API ever holds one.

import { useRef, useState } from "preact/hooks";
import { all, type TenantClient } from "./api";
import { Button, ConfirmButton, Empty, ErrorNote, Field, Loading, PageTitle, TableWrap, type TenantPageProps, Time, useAction, useLoad, usePortal } from "./ui";

export function SecretsPage({ t }: TenantPageProps) {
  const { canWrite } = usePortal();
  const secrets = useLoad(() => all(() => t.listSecrets(), 1), [t.id]);
  const [replacing, setReplacing] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const done = (name: string) => {
    setReplacing(null);
    setSaved(name);
    void secrets.reload();
  };
  return (
    <>
      <PageTitle>Secrets</PageTitle>
      <p class="lede">
        API keys and passwords your functions need, read as <code>ctx.secrets.NAME</code>. A value is sealed when you save it and never shown
        again, here or anywhere.
      </p>
      {saved && (
        <p class="note ok" role="status">
          Saved <code>{saved}</code>. Its value is not kept on this page.
        </p>
      )}
      <ErrorNote error={secrets.error} />
      {secrets.loading && !secrets.data && <Loading what="secrets" />}
      {secrets.data && secrets.data.length === 0 && <Empty>No secrets yet.</Empty>}
      {secrets.data && secrets.data.length > 0 && (
        <TableWrap label="Secrets">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Created</th>
              <th scope="col">Updated</th>
              {canWrite && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {secrets.data.map((s) => (
              <tr key={s.name}>
                <td>
                  <code>{s.name}</code>
                </td>
                <td>
                  <Time value={s.created_at} />
                </td>
                <td>
                  <Time value={s.updated_at} />
                </td>
                {canWrite && (
                  <td>
                    {replacing === s.name ? (
                      <SecretForm t={t} name={s.name} onDone={done} onCancel={() => setReplacing(null)} />
                    ) : (
                      <div class="actions">
                        <Button onClick={() => setReplacing(s.name)}>Replace</Button>
                        <ConfirmButton
                          label="Delete"
                          confirm={`Delete ${s.name}? Functions reading it get undefined.`}
                          onConfirm={async () => {
                            await t.deleteSecret(s.name);
                            await secrets.reload();
                          }}
                        />
                      </div>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </TableWrap>
      )}
      {canWrite && (
        <section class="card" aria-labelledby="new-secret">
          <h2 id="new-secret">Add a secret</h2>
          <SecretForm t={t} onDone={done} />
        </section>
      )}
    </>
  );
}

// The value lives only in the input element until it is sent; then the input
// is cleared. It is never held in component state, so it is never rendered.
function SecretForm({ t, name, onDone, onCancel }: { t: TenantClient; name?: string; onDone: (name: string) => void; onCancel?: () => void }) {
  const [newName, setNewName] = useState("");
  const value = useRef<HTMLInputElement>(null);
  const save = useAction(async () => {
    const n = (name ?? newName).trim();
    const input = value.current;
    if (!input) return;
    const v = input.value;
    try {
      await t.putSecret(n, v);
    } finally {
      input.value = "";
    }
    setNewName("");
    onDone(n);
  });
  return (
    <form
      class={name ? "inline-form" : "form"}
      autocomplete="off"
      onSubmit={(e) => {
        e.preventDefault();
        void save.run();
      }}
    >
      {!name && (
        <Field label="Name" hint="Letters, digits and _, starting with a letter: STRIPE_KEY.">
          {(id) => <input id={id} required pattern="[A-Za-z_][A-Za-z0-9_]*" value={newName} onInput={(e) => setNewName(e.currentTarget.value)} />}
        </Field>
      )}
      <Field label={name ? `New value for ${name}` : "Value"}>
        {(id) => <input id={id} ref={value} type="password" required autocomplete="new-password" spellcheck={false} />}
      </Field>
      <ErrorNote error={save.error} />
      <div class="actions">
        <Button type="submit" variant="primary" busy={save.busy}>
          {name ? "Replace" : "Save secret"}
        </Button>
        {onCancel && <Button onClick={onCancel}>Cancel</Button>}
      </div>
    </form>
  );
}
