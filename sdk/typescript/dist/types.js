// Names for the API's schemas, as the OpenAPI document defines them (see
// openapi.ts, generated from it, for every part of every operation).
export {};
