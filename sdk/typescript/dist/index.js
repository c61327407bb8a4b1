// Outlet's TypeScript SDK: `new Outlet({ url, key })` and its resource groups.
// Verifying the webhooks Outlet sends is in "@outlethq/outlet/webhooks".
export { Outlet } from "./outlet.js";
export { OutletError } from "./errors.js";
export { PageRequest } from "./page.js";
