// The portal's entry: read the session the server wrote into the page, apply
// the platform's theme, and render the app — or say the session ended.

import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { Api } from "./api";
import { App, SessionEnded } from "./app";
import { readSession, type Session } from "./session";
import { applyTheme } from "./theme";
import "./styles.css";

// Timers longer than this fire at once in browsers (a signed 32-bit delay).
const MAX_TIMER_MS = 2 ** 31 - 1;

function Root({ session }: { session: Session | null }) {
  const [ended, setEnded] = useState(session === null);
  const api = useState(() => (session ? new Api(session.api, session.csrf, () => setEnded(true)) : null))[0];
  useEffect(() => {
    if (!session?.expires_at) return;
    const left = new Date(session.expires_at).getTime() - Date.now();
    if (Number.isNaN(left)) return;
    const id = window.setTimeout(() => setEnded(true), Math.max(0, Math.min(left, MAX_TIMER_MS)));
    return () => window.clearTimeout(id);
  }, [session]);
  if (ended || !session || !api) return <SessionEnded />;
  return <App session={session} api={api} />;
}

const session = readSession();
applyTheme(session?.theme ?? {});
render(<Root session={session} />, document.getElementById("app")!);
