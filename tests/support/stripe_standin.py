"""A stand-in for the part of Stripe's HTTP API the stripe provider uses. TEST CODE ONLY.

Stripe cannot be reached from the machines the tests run on, so the tests start this
small HTTP server on loopback and point the official `stripe` library at it
(`stripe.api_base`, through the provider's `api_base` option / STRIPE_API_BASE). Nothing
in the shop depends on it. It answers as Stripe's API does (form-encoded requests, JSON
objects, `Idempotency-Key` honoured, errors as `{"error": {...}}`) for:

    POST /v1/payment_intents               GET  /v1/payment_intents/{id}
    POST /v1/payment_intents/{id}/cancel   POST /v1/refunds

and plays the customer and Stripe's side for the tests: `succeed(id)` (the card was
paid), `fail(id)`, and `event(...)` / `signed(...)`, which build a webhook event and
sign it exactly as Stripe does (header `Stripe-Signature: t=<unix time>,v1=<hex
HMAC-SHA256 of "<t>.<payload>" with the endpoint secret>`).
"""

import hashlib
import hmac
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from tests.support.answers import answer_json


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header Stripe sends with `payload`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _nested(pairs: list[tuple[str, str]]) -> dict:
    """Stripe's form encoding (metadata[order]=x) back into a dict."""
    out: dict = {}
    for key, value in pairs:
        if "[" in key:
            outer, inner = key.split("[", 1)
            out.setdefault(outer, {})[inner.rstrip("]")] = value
        else:
            out[key] = value
    return out


class StripeStandIn:
    def __init__(self, secret_key: str):
        self.secret_key = secret_key
        self.intents: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.idempotent: dict[str, tuple[int, dict]] = {}
        self.requests: list[tuple[str, str]] = []
        self.down = False  # True: every call answers 500 (Stripe in trouble)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def count(self, method: str, prefix: str) -> int:
        return sum(1 for m, path in self.requests if m == method and path.startswith(prefix))

    # --- the customer's and Stripe's side ----------------------------------------------------

    def succeed(self, intent_id: str) -> dict:
        with self._lock:
            intent = self.intents[intent_id]
            intent["status"] = "succeeded"
            intent["amount_received"] = intent["amount"]
            return dict(intent)

    def fail(self, intent_id: str) -> dict:
        with self._lock:
            intent = self.intents[intent_id]
            intent["status"] = "requires_payment_method"
            return dict(intent)

    def event(self, event_type: str, obj: dict, *, event_id: str | None = None) -> dict:
        return {
            "id": event_id or f"evt_{secrets.token_hex(12)}",
            "object": "event",
            "api_version": "2025-01-27.acacia",
            "created": int(time.time()),
            "livemode": False,
            "type": event_type,
            "data": {"object": obj},
        }

    def charge_refunded(self, intent_id: str) -> dict:
        """The charge of an intent, as charge.refunded carries it."""
        intent = self.intents[intent_id]
        return {
            "id": f"ch_{intent_id[3:]}",
            "object": "charge",
            "amount": intent["amount"],
            "amount_refunded": intent["amount_refunded"],
            "currency": intent["currency"],
            "payment_intent": intent_id,
            "refunded": intent["amount_refunded"] == intent["amount"],
        }

    @staticmethod
    def signed(event: dict, secret: str, timestamp: int | None = None) -> tuple[bytes, str]:
        payload = json.dumps(event).encode()
        return payload, sign(payload, secret, timestamp)

    # --- the API -------------------------------------------------------------------------------

    def _error(self, status: int, message: str, code: str = "") -> tuple[int, dict]:
        kind = "invalid_request_error" if status < 500 else "api_error"
        return status, {"error": {"type": kind, "message": message, "code": code}}

    def _create_intent(self, params: dict) -> tuple[int, dict]:
        try:
            amount = int(params["amount"])
        except (KeyError, ValueError):
            return self._error(400, "Missing required param: amount.", "parameter_missing")
        if amount < 1:
            return self._error(400, "Amount must be at least 1.", "amount_too_small")
        intent_id = f"pi_{secrets.token_hex(12)}"
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_received": 0,
            "amount_refunded": 0,  # (kept on the charge by Stripe; here for simplicity)
            "currency": params.get("currency", ""),
            "status": "requires_payment_method",
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(12)}",
            "metadata": params.get("metadata", {}),
            "livemode": False,
        }
        self.intents[intent_id] = intent
        return 200, dict(intent)

    def _cancel_intent(self, intent_id: str) -> tuple[int, dict]:
        intent = self.intents[intent_id]
        if intent["status"] in ("succeeded", "canceled"):
            return self._error(
                400,
                f"You cannot cancel this PaymentIntent because it has a status of "
                f"{intent['status']}.",
                "payment_intent_unexpected_state",
            )
        intent["status"] = "canceled"
        return 200, dict(intent)

    def _create_refund(self, params: dict) -> tuple[int, dict]:
        intent = self.intents.get(params.get("payment_intent", ""))
        if intent is None:
            return self._error(404, "No such payment_intent.", "resource_missing")
        if intent["status"] != "succeeded":
            return self._error(400, "This PaymentIntent has no successful charge to refund.")
        amount = int(params.get("amount", intent["amount_received"] - intent["amount_refunded"]))
        if amount < 1 or intent["amount_refunded"] + amount > intent["amount_received"]:
            return self._error(
                400,
                "Refund amount is greater than unrefunded amount on charge.",
                "amount_too_large",
            )
        intent["amount_refunded"] += amount
        refund = {
            "id": f"re_{secrets.token_hex(12)}",
            "object": "refund",
            "amount": amount,
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "status": "succeeded",
        }
        self.refunds[refund["id"]] = refund
        return 200, refund

    def dispatch(self, method: str, path: str, headers, body: bytes) -> tuple[int, dict]:
        self.requests.append((method, path))
        if self.down:
            return self._error(500, "Stripe is having trouble.")
        if headers.get("Authorization") != f"Bearer {self.secret_key}":
            return 401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key."}}
        params = _nested(parse_qsl(body.decode(), keep_blank_values=True))
        key = headers.get("Idempotency-Key")
        with self._lock:
            if method == "POST" and key and (method, path, key) in self.idempotent:
                return self.idempotent[(method, path, key)]
            parts = path.strip("/").split("/")
            if method == "POST" and parts == ["v1", "payment_intents"]:
                answer = self._create_intent(params)
            elif len(parts) == 3 and parts[:2] == ["v1", "payment_intents"] and method == "GET":
                intent = self.intents.get(parts[2])
                answer = (200, dict(intent)) if intent else self._error(404, "No such intent.")
            elif len(parts) == 4 and parts[3] == "cancel" and method == "POST":
                if parts[2] not in self.intents:
                    answer = self._error(404, "No such payment_intent.", "resource_missing")
                else:
                    answer = self._cancel_intent(parts[2])
            elif method == "POST" and parts == ["v1", "refunds"]:
                answer = self._create_refund(params)
            else:
                answer = self._error(404, f"Unrecognized request URL ({method}: {path}).")
            if method == "POST" and key:
                self.idempotent[(method, path, key)] = answer
            return answer

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, payload = standin.dispatch(
                    self.command, self.path.split("?")[0], self.headers, body
                )
                answer_json(
                    self,
                    json.dumps(payload).encode(),
                    status,
                    {"Request-Id": f"req_{secrets.token_hex(8)}"},
                )

            do_GET = do_POST = do_DELETE = _answer

            def log_message(self, *args):
                pass

        return Handler
