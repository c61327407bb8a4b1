// The world a function's module sees, besides the language itself. It runs
// once per VM, before the module. Host functions are named __outlet_* and are
// deleted from the global object here, so the module can reach them only
// through what this file exposes.
(() => {
  const log = globalThis.__outlet_log, fetchHost = globalThis.__outlet_fetch,
        timer = globalThis.__outlet_timer, untimer = globalThis.__outlet_untimer,
        random = globalThis.__outlet_random;
  for (const k of ["__outlet_log", "__outlet_fetch", "__outlet_timer", "__outlet_untimer", "__outlet_random"]) {
    delete globalThis[k];
  }

  const show = (v) => {
    if (typeof v === "string") return v;
    if (v instanceof Error) return v.stack ? `${v.name}: ${v.message}\n${v.stack}` : String(v);
    try {
      const s = JSON.stringify(v, (_, x) => typeof x === "bigint" ? `${x}n` : x);
      return s === undefined ? String(v) : s;
    } catch {
      return String(v);
    }
  };
  const line = (args) => args.map(show).join(" ");
  globalThis.console = Object.freeze({
    log: (...a) => log("log", line(a)),
    info: (...a) => log("info", line(a)),
    debug: (...a) => log("debug", line(a)),
    warn: (...a) => log("warn", line(a)),
    error: (...a) => log("error", line(a)),
  });

  // Timers run on the host's clock, within the invocation's time.
  const timers = new Map();
  let nextTimer = 1;
  const schedule = (fn, ms, args, repeat) => {
    if (typeof fn !== "function") throw new TypeError("the callback must be a function");
    const id = nextTimer++;
    const delay = Math.max(0, Number(ms) || 0);
    const refused = timer(id, delay);
    if (refused) throw new RangeError(refused);
    timers.set(id, { fn, args, repeat: repeat ? delay : -1 });
    return id;
  };
  globalThis.setTimeout = (fn, ms, ...args) => schedule(fn, ms, args, false);
  globalThis.setInterval = (fn, ms, ...args) => schedule(fn, ms, args, true);
  globalThis.clearTimeout = globalThis.clearInterval = (id) => {
    if (timers.delete(id)) untimer(id);
  };

  class Headers {
    #h = new Map();
    constructor(init) {
      if (init instanceof Headers) init.forEach((v, k) => this.set(k, v));
      else if (Array.isArray(init)) for (const [k, v] of init) this.append(k, v);
      else if (init) for (const k of Object.keys(init)) this.set(k, init[k]);
    }
    get(k) { return this.#h.get(String(k).toLowerCase()) ?? null; }
    set(k, v) { this.#h.set(String(k).toLowerCase(), String(v)); }
    append(k, v) { const key = String(k).toLowerCase(); const old = this.#h.get(key); this.#h.set(key, old === undefined ? String(v) : `${old}, ${v}`); }
    has(k) { return this.#h.has(String(k).toLowerCase()); }
    delete(k) { this.#h.delete(String(k).toLowerCase()); }
    forEach(fn) { for (const [k, v] of this.#h) fn(v, k, this); }
    *entries() { yield* this.#h.entries(); }
    *keys() { yield* this.#h.keys(); }
    *values() { yield* this.#h.values(); }
    [Symbol.iterator]() { return this.entries(); }
    toJSON() { return Object.fromEntries(this.#h); }
  }

  class Response {
    #body;
    constructor(body, init = {}) {
      this.#body = body == null ? "" : String(body);
      this.status = init.status ?? 200;
      this.statusText = init.statusText ?? "";
      this.headers = new Headers(init.headers);
      this.url = init.url ?? "";
      this.ok = this.status >= 200 && this.status < 300;
    }
    async text() { return this.#body; }
    async json() { return JSON.parse(this.#body); }
  }

  globalThis.Headers = Headers;
  globalThis.Response = Response;
  globalThis.fetch = async (input, init = {}) => {
    const req = {
      url: String(input?.url ?? input),
      method: String(init.method ?? "GET"),
      headers: new Headers(init.headers).toJSON(),
      body: init.body == null ? null : (typeof init.body === "string" ? init.body : JSON.stringify(init.body)),
    };
    const r = JSON.parse(fetchHost(JSON.stringify(req)));
    if (r.error !== undefined) throw new TypeError(`fetch failed: ${r.error}`);
    return new Response(r.body, { status: r.status, statusText: r.statusText, headers: r.headers, url: r.url });
  };

  const hex = (n) => random(n);
  globalThis.crypto = Object.freeze({
    randomUUID() {
      const h = hex(16).split("");
      h[12] = "4";
      h[16] = "89ab"[parseInt(h[16], 16) & 3];
      const s = h.join("");
      return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
    },
    getRandomValues(a) {
      const h = hex(a.byteLength);
      const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
      return a;
    },
  });

  // What the host calls. An invocation's state lives here until the next.
  let state;
  Object.defineProperty(globalThis, "__outlet", { value: Object.freeze({
    start(fn, input, ctx) {
      timers.clear();
      const st = state = { done: 0 };
      ctx = JSON.parse(ctx);
      Object.freeze(ctx.secrets);
      Object.freeze(ctx);
      Promise.resolve()
        .then(() => fn(JSON.parse(input), ctx))
        .then((v) => {
          const out = JSON.stringify(v === undefined ? null : v);
          if (out === undefined) {
            throw new TypeError(`the function returned a ${typeof v}, which JSON can't hold; return an object, an array, a string, a number, a boolean or null`);
          }
          return out;
        })
        .then((out) => { st.out = out; st.done = 1; },
              (e) => {
                // Out of memory while building the exception itself, the
                // engine throws null.
                st.null = e === null;
                st.name = String(e?.name ?? "Error");
                st.message = String(e?.message ?? e);
                st.stack = String(e?.stack ?? "");
                st.done = 2;
              });
    },
    fire(id) {
      const t = timers.get(id);
      if (!t) return;
      if (t.repeat < 0 || timer(id, t.repeat)) timers.delete(id);
      t.fn(...t.args);
    },
    state() { return state; },
  }) });
})();
