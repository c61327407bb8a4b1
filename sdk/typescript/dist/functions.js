/** A tenant's hosted functions (JavaScript, TypeScript or Wasm), run on events and at hooks. */
export class FunctionsService {
    #t;
    constructor(t) {
        this.#t = t;
    }
    /**
     * Stores a new version of the function, creating the function if needed,
     * and makes it active. Code that doesn't compile is refused with 422
     * (`invalid`), whose message gives the line and column.
     */
    deploy(tenant, name, version, opts) {
        const { wasm, ...rest } = version;
        const body = wasm === undefined ? rest : { ...rest, wasm: typeof wasm === "string" ? wasm : base64(wasm) };
        return this.#t.call("deployFunction", { path: { tenant, name }, body }, opts);
    }
    list(tenant, opts) {
        return this.#t.list("listFunctions", { path: { tenant } }, opts);
    }
    get(tenant, name, opts) {
        return this.#t.call("getFunction", { path: { tenant, name } }, opts);
    }
    /** Removes a function with its versions, deliveries and logs. */
    async delete(tenant, name, opts) {
        await this.#t.call("deleteFunction", { path: { tenant, name } }, opts);
    }
    /** Every version of the function, newest first, without their source. */
    versions(tenant, name, opts) {
        return this.#t.list("listFunctionVersions", { path: { tenant, name } }, opts);
    }
    /** One version with the source it was deployed with (none for Wasm). */
    version(tenant, name, version, opts) {
        return this.#t.call("getFunctionVersion", { path: { tenant, name, version } }, opts);
    }
    /** Makes an earlier version active again, and answers the function as it is now. */
    rollback(tenant, name, version, opts) {
        return this.#t.call("rollbackFunction", { path: { tenant, name }, body: { version } }, opts);
    }
    /**
     * Runs a version of the function once, as on an event (`event`) or at a
     * hook (`input`), with the tenant's secrets, and records nothing. A
     * function that fails answers with its `error` set, not with an OutletError.
     */
    test(tenant, name, run, opts) {
        return this.#t.call("testFunction", { path: { tenant, name }, body: run }, opts);
    }
    /**
     * The function's invocations with their console output, newest first; with
     * `after` (an invocation's id), those after it, oldest first.
     */
    logs(tenant, name, filter = {}, opts) {
        return this.#t.list("listFunctionLogs", { path: { tenant, name }, query: filter }, opts);
    }
    /**
     * TypeScript declarations for the tenant's functions: ctx with its secret
     * names, the sandbox's globals, and a type per event type and hook from the
     * catalog's schemas (what `outlet types` writes to files).
     */
    types(tenant, opts) {
        return this.#t.call("getFunctionTypes", { path: { tenant } }, opts);
    }
}
function base64(bytes) {
    let s = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
        s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    }
    return btoa(s);
}
/** The secrets a tenant's functions read as ctx.secrets; no call returns a value. */
export class SecretsService {
    #t;
    constructor(t) {
        this.#t = t;
    }
    /** Sets a secret, creating it if needed. */
    async put(tenant, name, value, opts) {
        await this.#t.call("putSecret", { path: { tenant, name }, body: { value } }, opts);
    }
    /** The tenant's secrets' names, without their values. */
    list(tenant, opts) {
        return this.#t.list("listSecrets", { path: { tenant } }, opts);
    }
    async delete(tenant, name, opts) {
        await this.#t.call("deleteSecret", { path: { tenant, name } }, opts);
    }
}
