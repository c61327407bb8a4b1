// The function editor's page, loaded on demand (a chunk of its own: only
// function pages pay for it). For now it shows the function and its active
// source; the editor (CodeMirror 6, deploy, test, versions, logs) builds on
// this route.

import { Link } from "./router";
import { Code, ErrorNote, Loading, PageTitle, type TenantPageProps, Time, useLoad } from "./ui";

export default function FunctionEditor({ t, base, name }: TenantPageProps & { name: string }) {
  const fn = useLoad(() => t.getFunction(name), [t.id, name]);
  const src = useLoad(
    () => (fn.data ? t.getVersion(name, fn.data.active_version) : Promise.resolve(null)),
    [t.id, name, fn.data?.active_version],
  );
  if (fn.error) return <ErrorNote error={fn.error} />;
  if (!fn.data) return <Loading what="the function" />;
  const f = fn.data;
  return (
    <>
      <p class="crumbs">
        <Link to={`${base}functions`}>Functions</Link> /
      </p>
      <PageTitle>
        <code>{f.name}</code>
      </PageTitle>
      <dl class="facts">
        <dt>Runtime</dt>
        <dd>{f.runtime}</dd>
        <dt>Active version</dt>
        <dd>v{f.active_version}</dd>
        <dt>Updated</dt>
        <dd>
          <Time value={f.updated_at} />
        </dd>
      </dl>
      <ErrorNote error={src.error} />
      {src.data?.source != null && <Code label={`Source of ${f.name} v${f.active_version}`} text={src.data.source} />}
    </>
  );
}
