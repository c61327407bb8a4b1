// A webhook receiver for Outlet, on plain node:http: it checks every
// request's Standard Webhooks signature and handles each event once, however
// often Outlet delivers it.
//
//   WEBHOOK_SECRET=whsec_… PORT=3001 node server.js
import http from "node:http";
import { Webhook, WebhookVerificationError } from "standardwebhooks";

const secret = process.env.WEBHOOK_SECRET;
if (!secret) {
  console.error("Set WEBHOOK_SECRET to the endpoint's whsec_… secret (the shop prints it).");
  process.exit(1);
}
const webhook = new Webhook(secret);
const host = process.env.HOST ?? "127.0.0.1";
const port = Number(process.env.PORT ?? 3001);
const maxBody = 1 << 20;

// Outlet sends an event again when it isn't sure it arrived (a timeout, a
// lost answer, a retry by hand), always with the same webhook-id. Remember
// the last ids handled and skip those: a Map keeps insertion order, so the
// oldest id is the first key. A real receiver keeps them in its database,
// next to what handling the event wrote.
const seen = new Map();
const maxSeen = 10_000;

function remember(id) {
  seen.set(id, true);
  if (seen.size > maxSeen) {
    seen.delete(seen.keys().next().value);
  }
}

// handle is where a real receiver does its work, on a verified event.
// Throwing answers 500, and Outlet tries again later.
function handle(id, event) {
  console.log(`handled ${event.type} ${id}: ${JSON.stringify(event.data)}`);
}

function answer(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

const server = http.createServer((req, res) => {
  if (req.url !== "/webhooks") {
    return answer(res, 404, { error: "not found: POST events to /webhooks" });
  }
  if (req.method !== "POST") {
    res.setHeader("allow", "POST");
    return answer(res, 405, { error: "only POST" });
  }
  const chunks = [];
  let size = 0;
  req.on("data", (chunk) => {
    size += chunk.length;
    if (size <= maxBody) {
      chunks.push(chunk);
    }
  });
  req.on("end", () => {
    if (size > maxBody) {
      return answer(res, 413, { error: "body too large" });
    }
    // Verify the raw bytes as they came: parsing and re-serialising JSON
    // would change them, and the signature with them.
    const body = Buffer.concat(chunks);
    let event;
    try {
      event = webhook.verify(body, req.headers);
    } catch (err) {
      // A bad signature won't get better: 4xx. (Outlet retries it all the
      // same, so a secret fixed here lets the retries through.)
      const reason = err instanceof WebhookVerificationError ? err.message : "not JSON";
      console.warn(`refused a request: ${reason}`);
      return answer(res, 400, { error: reason });
    }
    const id = req.headers["webhook-id"];
    if (seen.has(id)) {
      console.log(`duplicate ${id}: already handled`);
      return answer(res, 200, { duplicate: true });
    }
    try {
      handle(id, event);
    } catch (err) {
      console.error(`failed to handle ${id}: ${err}`);
      return answer(res, 500, { error: "try again later" });
    }
    remember(id);
    answer(res, 200, { received: true });
  });
});

server.listen(port, host, () => {
  const { address, port } = server.address();
  console.log(`listening on http://${address}:${port}/webhooks`);
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
