import type { PageRequest } from "./page.js";
import type { Filter } from "./routes.js";
import type { RequestOptions, Transport } from "./transport.js";
import type { Deploy, Function, FunctionList, FunctionTypes, FunctionVersion, FunctionVersionList, InvocationList, SecretList, TestResult, TestRun } from "./types.js";
/** A new version of a function; `wasm` may be given as bytes, sent in base64. */
export type FunctionDeploy = Omit<Deploy, "wasm"> & {
    wasm?: string | Uint8Array | undefined;
};
/** A tenant's hosted functions (JavaScript, TypeScript or Wasm), run on events and at hooks. */
export declare class FunctionsService {
    #private;
    constructor(t: Transport);
    /**
     * Stores a new version of the function, creating the function if needed,
     * and makes it active. Code that doesn't compile is refused with 422
     * (`invalid`), whose message gives the line and column.
     */
    deploy(tenant: string, name: string, version: FunctionDeploy, opts?: RequestOptions): Promise<FunctionVersion>;
    list(tenant: string, opts?: RequestOptions): PageRequest<FunctionList>;
    get(tenant: string, name: string, opts?: RequestOptions): Promise<Function>;
    /** Removes a function with its versions, deliveries and logs. */
    delete(tenant: string, name: string, opts?: RequestOptions): Promise<void>;
    /** Every version of the function, newest first, without their source. */
    versions(tenant: string, name: string, opts?: RequestOptions): PageRequest<FunctionVersionList>;
    /** One version with the source it was deployed with (none for Wasm). */
    version(tenant: string, name: string, version: number, opts?: RequestOptions): Promise<FunctionVersion>;
    /** Makes an earlier version active again, and answers the function as it is now. */
    rollback(tenant: string, name: string, version: number, opts?: RequestOptions): Promise<Function>;
    /**
     * Runs a version of the function once, as on an event (`event`) or at a
     * hook (`input`), with the tenant's secrets, and records nothing. A
     * function that fails answers with its `error` set, not with an OutletError.
     */
    test(tenant: string, name: string, run: TestRun, opts?: RequestOptions): Promise<TestResult>;
    /**
     * The function's invocations with their console output, newest first; with
     * `after` (an invocation's id), those after it, oldest first.
     */
    logs(tenant: string, name: string, filter?: Filter<"listFunctionLogs">, opts?: RequestOptions): PageRequest<InvocationList>;
    /**
     * TypeScript declarations for the tenant's functions: ctx with its secret
     * names, the sandbox's globals, and a type per event type and hook from the
     * catalog's schemas (what `outlet types` writes to files).
     */
    types(tenant: string, opts?: RequestOptions): Promise<FunctionTypes>;
}
/** The secrets a tenant's functions read as ctx.secrets; no call returns a value. */
export declare class SecretsService {
    #private;
    constructor(t: Transport);
    /** Sets a secret, creating it if needed. */
    put(tenant: string, name: string, value: string, opts?: RequestOptions): Promise<void>;
    /** The tenant's secrets' names, without their values. */
    list(tenant: string, opts?: RequestOptions): PageRequest<SecretList>;
    delete(tenant: string, name: string, opts?: RequestOptions): Promise<void>;
}
