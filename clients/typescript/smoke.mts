// A short session through a client generated from openapi/openapi.json with
// openapi-typescript (the types, schema.d.ts) and openapi-fetch (the calls).
//
// CI copies this file and tsconfig.json next to the generated schema.d.ts,
// type-checks them with strict tsc and runs the result against a gateway it
// started (see README.md, "A generated client"):
//
//   NODE_EXTRA_CA_CERTS=certs/ca.crt node smoke.mjs --origin https://127.0.0.1:8043
//
// It signs agent 103 in, polls, goes busy, has a force-out with reason 256
// refused (100-005), forces the agent out with reason 57, polls until
// AgentOther_ShutdownService and checks that the session is then gone. The
// Guid is the document's `Guid` security scheme: one middleware sends it on
// every call and follows every Set-GUID (dynamic mode).

import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Event = components["schemas"]["Event"];

const AGENT = 103;

function check(condition: boolean, what: string): asserts condition {
  if (!condition) {
    throw new Error(`FAILED: ${what}`);
  }
}

function option(name: string): string {
  const at = process.argv.indexOf(name);
  const value = at >= 0 ? process.argv[at + 1] : undefined;
  check(value !== undefined, `${name} is required`);
  return value;
}

/** The session's Guid, kept current from Set-GUID. */
const session = { guid: "", rotations: 0 };

/** The `Guid` security scheme, set once: sent on every call, followed on every answer. */
const guidScheme: Middleware = {
  onRequest({ request }) {
    if (session.guid !== "") {
      request.headers.set("Guid", session.guid);
    }
    return request;
  },
  onResponse({ response }) {
    const setGuid = response.headers.get("Set-GUID");
    if (setGuid !== null) {
      if (session.guid !== "") {
        session.rotations += 1;
      }
      session.guid = setGuid.replace(/^JSESSIONID=/, "");
    }
    return response;
  },
};

async function main(): Promise<void> {
  const client = createClient<paths>({ baseUrl: option("--origin") });
  client.use(guidScheme);
  const agentid = { path: { agentid: AGENT } };

  const ready = await client.GET("/readyz");
  check(ready.data?.retcode === "0", `readiness: ${JSON.stringify(ready.data)}`);

  const signedIn = await client.PUT("/agentgateway/resource/onlineagent/{agentid}", {
    params: agentid,
    body: { password: "Agent@123", phonenum: "7103" },
  });
  check(signedIn.data?.retcode === "0", `sign-in: ${JSON.stringify(signedIn.data)}`);
  check(session.guid.endsWith(".AgentGateway0"), `Set-GUID on sign-in: ${session.guid}`);
  console.log(`signed in ${AGENT}, login time ${signedIn.data.result?.loginTime}`);

  let polls = 0;
  const poll = async (): Promise<Event | undefined> => {
    polls += 1;
    const answer = await client.GET("/agentgateway/resource/agentevent/{agentid}", { params: agentid });
    check(answer.data?.retcode === "0", `poll: ${JSON.stringify(answer.data)}`);
    return answer.data.event;
  };

  const first = await poll();
  check(first?.eventType === "AgentOther_InService", `first event: ${JSON.stringify(first)}`);
  check(first.content === null, `AgentOther_InService has null content: ${JSON.stringify(first.content)}`);

  const busy = await client.POST("/agentgateway/resource/onlineagent/{agentid}/saybusy", {
    params: { ...agentid, query: { reason: 201 } },
  });
  check(busy.data?.retcode === "0", `saybusy: ${JSON.stringify(busy.data)}`);
  const status = await client.GET("/agentgateway/resource/onlineagent/{agentid}/agentstatus", { params: agentid });
  check(status.data?.result?.agentState === 3, `busy state: ${JSON.stringify(status.data)}`);

  const path = "/agentgateway/resource/onlineagent/{agentid}/forcelogoutwithreason/{reason}";
  const refused = await client.DELETE(path, { params: { path: { agentid: AGENT, reason: 256 } } });
  check(refused.data?.retcode === "100-005", `reason 256 is refused: ${JSON.stringify(refused.data)}`);
  console.log(`reason 256 refused: ${refused.data.retcode} ${refused.data.message}`);
  const forced = await client.DELETE(path, { params: { path: { agentid: AGENT, reason: 57 } } });
  check(forced.data?.retcode === "0", `forcelogoutwithreason 57: ${JSON.stringify(forced.data)}`);

  const seen: Event[] = [];
  while (seen.at(-1)?.eventType !== "AgentOther_ShutdownService") {
    const event = await poll();
    check(event !== undefined && seen.length < 10, `events after the force-out: ${JSON.stringify(seen)}`);
    seen.push(event);
  }
  console.log(`events: ${seen.map((e) => e.eventType).join(", ")}`);
  const busyEvent = seen.find((e) => e.eventType === "AgentState_SetNotReady_Success");
  const content = busyEvent?.content;
  check(typeof content === "object" && content !== null, `busy content is an object: ${JSON.stringify(content)}`);
  check(content["reason"] === "201", `busy reason: ${JSON.stringify(content)}`);
  const shutdown = seen.at(-1)?.content;
  check(typeof shutdown === "object" && shutdown?.["reason"] === "57", `shutdown content: ${JSON.stringify(shutdown)}`);

  const gone = await client.GET("/agentgateway/resource/agentevent/{agentid}", { params: agentid });
  check(gone.data?.retcode === "100-006", `the session is gone after its last event: ${JSON.stringify(gone.data)}`);
  console.log(`ok: ${polls + 1} polls, ${session.rotations} Guid rotation(s) followed`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
