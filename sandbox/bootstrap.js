// The world a function's module sees, besides the language itself. It runs
// once per VM, before the module. Host functions are named __outlet_* and are
// deleted from the global object here, so the module can reach them only
// through what this file exposes.
//
// What the host calls (load, start, fire) is this script's value, which only
// the host holds: nothing of it is on the global object. An invocation's
// state lives in this closure, and its end is reported to the host through
// settle, a host function the module can't reach. The intrinsics used here
// are taken before the module runs, so a module that replaces JSON.stringify
// or Promise.prototype.then changes its own results, never how they are
// reported. The host checks the output is JSON all the same.
(() => {
  const log = globalThis.__outlet_log, fetchHost = globalThis.__outlet_fetch,
        timer = globalThis.__outlet_timer, untimer = globalThis.__outlet_untimer,
        random = globalThis.__outlet_random, settle = globalThis.__outlet_settle;
  for (const k of ["__outlet_log", "__outlet_fetch", "__outlet_timer", "__outlet_untimer", "__outlet_random", "__outlet_settle"]) {
    delete globalThis[k];
  }
  const stringify = JSON.stringify, parse = JSON.parse, freeze = Object.freeze;
  const PromiseCtor = Promise, then = Promise.prototype.then, resolve = Promise.resolve;
  const when = (p, ok, fail) => then.call(p, ok, fail);
  const StringCtor = String, isView = ArrayBuffer.isView;
  const charCodeAt = String.prototype.charCodeAt;

  const show = (v) => {
    if (typeof v === "string") return v;
    if (v instanceof Error) return v.stack ? `${v.name}: ${v.message}\n${v.stack}` : String(v);
    try {
      const s = stringify(v, (_, x) => typeof x === "bigint" ? `${x}n` : x);
      return s === undefined ? String(v) : s;
    } catch {
      return String(v);
    }
  };
  const line = (args) => args.map(show).join(" ");
  globalThis.console = freeze({
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
      body: init.body == null ? null : (typeof init.body === "string" ? init.body : stringify(init.body)),
    };
    const r = parse(fetchHost(stringify(req)));
    if (r.error !== undefined) throw new TypeError(`fetch failed: ${r.error}`);
    return new Response(r.body, { status: r.status, statusText: r.statusText, headers: r.headers, url: r.url });
  };

  // DOMException, as much of it as the Web APIs here throw.
  class DOMException extends Error {
    constructor(message = "", name = "Error") {
      super(message);
      Object.defineProperty(this, "name", { value: String(name), configurable: true, writable: true });
    }
    get code() { return { QuotaExceededError: 22, TypeMismatchError: 17 }[this.name] ?? 0; }
  }
  globalThis.DOMException = DOMException;

  // getRandomValues fills at most 65,536 bytes, as the Web Crypto spec says:
  // more is a QuotaExceededError, never a partly filled array.
  const maxRandomBytes = 65536;
  const integerArrays = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
    BigInt64Array, BigUint64Array];
  const randomBytes = (n) => {
    // The host answers one character per byte, code 0 to 255.
    const s = random(n);
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = charCodeAt.call(s, i);
    return b;
  };
  globalThis.crypto = freeze({
    randomUUID() {
      const b = randomBytes(16);
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    },
    getRandomValues(a) {
      if (!isView(a) || !integerArrays.some((T) => a instanceof T)) {
        throw new DOMException("getRandomValues takes an integer typed array (Uint8Array, Int32Array…)", "TypeMismatchError");
      }
      if (a.byteLength > maxRandomBytes) {
        throw new DOMException(`getRandomValues fills at most ${maxRandomBytes} bytes; this array has ${a.byteLength}`, "QuotaExceededError");
      }
      new Uint8Array(a.buffer, a.byteOffset, a.byteLength).set(randomBytes(a.byteLength));
      return a;
    },
  });

  // No code is made from strings once the module has loaded, as in
  // Cloudflare Workers: the host bounds how deep calls go by the frames of
  // the functions compiled when the module loaded, and code compiled later
  // would escape that bound. (eval, and the constructors of functions,
  // async functions, generators and async generators.)
  const refuse = function () {
    throw new EvalError("code can't be made from strings in an Outlet function: eval and new Function are off; write the code in the module");
  };
  globalThis.eval = refuse;
  for (const f of [function () {}, async function () {}, function* () {}, async function* () {}]) {
    const proto = Object.getPrototypeOf(f);
    Object.defineProperty(proto, "constructor", { value: refuse, writable: false, configurable: false });
  }
  Object.defineProperty(refuse, "prototype", { value: Function.prototype });
  globalThis.Function = refuse;

  // bind makes a plain function: the engine's own bound functions copy
  // their arguments onto its stack at every call, outside its memory limit.
  const apply = Reflect.apply, construct = Reflect.construct, defineProperty = Object.defineProperty;
  defineProperty(Function.prototype, "bind", { writable: true, configurable: true, value: function bind(thisArg, ...bound) {
    const target = this;
    if (typeof target !== "function") throw new TypeError("bind must be called on a function");
    const wrapper = function (...args) {
      return new.target ? construct(target, [...bound, ...args], new.target) : apply(target, thisArg, [...bound, ...args]);
    };
    defineProperty(wrapper, "name", { value: `bound ${target.name}` });
    defineProperty(wrapper, "length", { value: Math.max(0, (target.length | 0) - bound.length) });
    defineProperty(wrapper, "prototype", { value: target.prototype, writable: false });
    return wrapper;
  } });

  // A module loaded, its default export, or why it can't run.
  let handler, loadError;
  const failure = (e) => ({ name: StringCtor(e?.name ?? "Error"), message: StringCtor(e?.message ?? e), stack: StringCtor(e?.stack ?? "") });

  // The invocation running now; a stale one's late settlements are ignored.
  let current = 0;

  return freeze({
    load(name) {
      when(import(name), (m) => {
        if (typeof m.default === "function") handler = m.default;
        else if (m.default === undefined) loadError = { name: "TypeError", message: "the module has no default export: export default async function (event, ctx) { … }", stack: "" };
        else loadError = { name: "TypeError", message: "the module's default export must be a function: export default async function (event, ctx) { … }", stack: "" };
      }, (e) => { loadError = failure(e); });
    },
    // loaded answers "" once the module loaded, why it didn't as JSON, or
    // "pending" while its top-level code still waits.
    loaded() {
      if (handler) return "";
      if (loadError) return stringify(loadError);
      return "pending";
    },
    start(input, ctx) {
      timers.clear();
      const id = ++current;
      ctx = parse(ctx);
      freeze(ctx.secrets);
      freeze(ctx);
      const ok = (v) => {
        if (id !== current) return;
        let out;
        try {
          out = stringify(v === undefined ? null : v);
        } catch (e) {
          fail(e);
          return;
        }
        if (out === undefined) {
          fail(new TypeError(`the function returned a ${typeof v}, which JSON can't hold; return an object, an array, a string, a number, a boolean or null`));
          return;
        }
        settle(1, StringCtor(out), "", "", "", false);
      };
      const fail = (e) => {
        if (id !== current) return;
        // Out of memory while building the exception itself, the engine
        // throws null.
        const f = failure(e);
        settle(2, "", f.name, f.message, f.stack, e === null);
      };
      try {
        when(resolve.call(PromiseCtor, handler(parse(input), ctx)), ok, fail);
      } catch (e) {
        fail(e);
      }
    },
    fire(id) {
      const t = timers.get(id);
      if (!t) return;
      if (t.repeat < 0 || timer(id, t.repeat)) timers.delete(id);
      t.fn(...t.args);
    },
  });
})();
