"""A short session through a client generated from openapi/openapi.json.

CI generates the client with openapi-python-client (package
`agentgateway_client`) and runs this against a gateway it started. Run it
by hand the same way (see README.md, "Use it from a generated client"):

    python clients/python/smoke.py --origin https://127.0.0.1:8043 --ca certs/ca.crt

It signs agent 102 in, polls, goes busy, has a force-out with reason 256
refused (100-005), forces the agent out with reason 57, polls until
AgentOther_ShutdownService and checks that the session is then gone. In
dynamic mode it follows every Set-GUID it is handed. The Guid is the
document's `Guid` API-key security scheme: an AuthenticatedClient sends it
as the `Guid` header on every call (no prefix).
"""

import argparse
import ssl
import sys

from agentgateway_client import AuthenticatedClient, Client
from agentgateway_client.api.agentevent import get_agent_event
from agentgateway_client.api.onlineagent import force_logout_with_reason, get_agent_status, login, say_busy
from agentgateway_client.api.ops import get_readiness
from agentgateway_client.models import Event, EventFields, Retcode, SignInBody
from agentgateway_client.types import UNSET

AGENT = 102


class Session:
    """The agent's Guid, kept up to date from Set-GUID answers, and a client
    that sends it."""

    def __init__(self, client: Client, origin: str, ssl_context: ssl.SSLContext):
        self.client = client
        self.origin = origin
        self.ssl_context = ssl_context
        self.guid = ""
        self.rotations = 0
        self.authed: AuthenticatedClient | None = None

    def take_guid(self, response) -> None:
        header = response.headers.get("Set-GUID")
        if header is None:
            return
        if self.guid:
            self.rotations += 1
        self.guid = header.removeprefix("JSESSIONID=")
        # The security scheme: the Guid in the `Guid` header, without a prefix.
        self.authed = AuthenticatedClient(
            base_url=self.origin,
            token=self.guid,
            prefix="",
            auth_header_name="Guid",
            verify_ssl=self.ssl_context,
            timeout=30.0,
        )

    def poll(self) -> Event | None:
        response = get_agent_event.sync_detailed(AGENT, client=self.authed)
        self.take_guid(response)
        answer = response.parsed
        check(answer.retcode == Retcode.SUCCESS, f"poll: {answer}")
        return None if answer.event is UNSET else answer.event


def check(condition: bool, what: str) -> None:
    if not condition:
        sys.exit(f"FAILED: {what}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--origin", required=True, help="https://HOST:PORT of the gateway")
    parser.add_argument("--ca", required=True, help="CA certificate that signed the gateway's certificate")
    args = parser.parse_args()
    context = ssl.create_default_context(cafile=args.ca)
    client = Client(base_url=args.origin, verify_ssl=context, timeout=30.0)
    session = Session(client, args.origin, context)

    ready = get_readiness.sync(client=client)
    check(ready.retcode == Retcode.SUCCESS, f"readiness: {ready}")

    signed_in = login.sync_detailed(AGENT, client=client, body=SignInBody(password="Agent@123", phonenum="7102"))
    check(signed_in.parsed.retcode == Retcode.SUCCESS, f"sign-in: {signed_in.parsed}")
    session.take_guid(signed_in)
    check(session.guid.endswith(".AgentGateway0"), f"Set-GUID on sign-in: {session.guid!r}")
    print(f"signed in {AGENT}, login time {signed_in.parsed.result.login_time}")

    first = session.poll()
    check(first is not None and first.event_type == "AgentOther_InService", f"first event: {first}")
    check(first.content is None, f"AgentOther_InService has null content: {first.content!r}")

    busy = say_busy.sync(AGENT, client=session.authed, reason=201)
    check(busy.retcode == Retcode.SUCCESS, f"saybusy: {busy}")
    status = get_agent_status.sync(AGENT, client=session.authed)
    check(status.result.agent_state == 3, f"busy state: {status}")

    refused = force_logout_with_reason.sync(AGENT, 256, client=session.authed)
    check(refused.retcode == Retcode.SIGN_OUT_PARAMETER, f"reason 256 is refused: {refused}")
    print(f"reason 256 refused: {refused.retcode.value} {refused.message}")

    forced = force_logout_with_reason.sync(AGENT, 57, client=session.authed)
    check(forced.retcode == Retcode.SUCCESS, f"forcelogoutwithreason 57: {forced}")

    seen = []
    while not seen or seen[-1].event_type != "AgentOther_ShutdownService":
        event = session.poll()
        check(event is not None and len(seen) < 10, f"events after the force-out: {seen}")
        seen.append(event)
    print("events:", ", ".join(e.event_type for e in seen))
    busy_event = next(e for e in seen if e.event_type == "AgentState_SetNotReady_Success")
    check(isinstance(busy_event.content, EventFields), f"busy content is an object: {busy_event.content!r}")
    check(busy_event.content["reason"] == "201", f"busy reason: {busy_event.content!r}")
    shutdown = seen[-1].content
    check(isinstance(shutdown, EventFields) and shutdown["reason"] == "57", f"shutdown content: {shutdown!r}")

    gone = get_agent_event.sync(AGENT, client=session.authed)
    check(gone.retcode == Retcode.NOT_SIGNED_IN, f"the session is gone after its last event: {gone}")
    print(f"ok: {len(seen) + 1} polls, {session.rotations} Guid rotation(s) followed")


if __name__ == "__main__":
    main()
