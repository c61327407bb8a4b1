import type { operations, paths } from "./openapi.js";
export type OperationId = keyof operations;
type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
type Route<K extends OperationId> = {
    [P in keyof paths]: {
        [M in Method]: paths[P][Lowercase<M>] extends operations[K] ? operations[K] extends paths[P][Lowercase<M>] ? readonly [M, P] : never : never;
    }[Method];
}[keyof paths];
/**
 * Every operation of the API with its method and path. Regenerating
 * openapi.ts from a document with another operation fails the build until it
 * is added here, and a test checks that every one is called by the client.
 */
export declare const routes: {
    readonly [K in OperationId]: Route<K>;
};
type Params<K extends OperationId> = operations[K]["parameters"];
/** The path parameters of an operation; never when it has none. */
export type PathParams<K extends OperationId> = NonNullable<Params<K>["path"]>;
/** The query parameters of an operation. */
export type Query<K extends OperationId> = NonNullable<Params<K>["query"]>;
/** The JSON request body of an operation; never when it takes none. */
export type Body<K extends OperationId> = NonNullable<operations[K]["requestBody"]> extends {
    content: {
        "application/json": infer B;
    };
} ? B : never;
type Responses<K extends OperationId> = operations[K]["responses"];
type Content<R> = R extends {
    content: infer C;
} ? C extends {
    "application/json": infer J;
} ? J : C extends {
    "text/plain": infer T;
} ? T : void : void;
/** What a successful call of an operation answers: its 2xx body, or void. */
export type Ok<K extends OperationId> = Content<Responses<K>[Extract<keyof Responses<K>, 200 | 201 | 202 | 204>]>;
/** The query of a list operation, where `since` and `before` may also be Dates. */
export type Filter<K extends OperationId> = {
    [P in keyof Query<K>]: P extends "since" | "before" ? Query<K>[P] | Date : Query<K>[P];
};
export {};
