#!/usr/bin/python3
"""mock_openai.py — a mock OpenAI-compatible server for tests/unit/exec/test_backend_http.c.

Standard library only. Binds 127.0.0.1 on an ephemeral port and prints the port on stdout.
The first path segment picks the behaviour, so one server serves every case:
  /ok/v1/models               a model list
  /ok/v1/chat/completions     a stream written in pieces split at awkward places (inside
                              "data:", between CR and LF, inside UTF-8 sequences), a comment,
                              the finish chunk, the usage chunk and [DONE]; the request body
                              is checked and a 400 error is returned when it is wrong
  /auth/...                   like /ok but requires "Authorization: Bearer test-key"
  /err500/...                 status 500 with an {"error":{"message"}} body
  /html502/...                status 502 with a short text/html body (a proxy's error page)
  /stall/...                  one event, then silence
  /big/...                    an endless stream of content events
  /bad/...                    an event that is not JSON
  /trunc/...                  a stream that ends without [DONE]
  /many/...                   200 content events written slowly (for cancellation)
"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HTML502 = "<html>Bad Gateway</html>"

def chunk(content=None, finish=None, role=None):
    delta = {}
    if role is not None:
        delta["role"] = role
        delta["content"] = None
    if content is not None:
        delta["content"] = content
    return {"choices": [{"finish_reason": finish, "index": 0, "delta": delta}],
            "object": "chat.completion.chunk", "model": "mock"}

def event(obj, eol=b"\n"):
    return b"data: " + json.dumps(obj, ensure_ascii=False).encode() + eol + eol

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_json(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_html(self, status, text):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def start_stream(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

    def piece(self, data, pause=0.02):
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        if pause:
            time.sleep(pause)

    def end_stream(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def scenario(self):
        parts = self.path.split("/")
        return parts[1] if len(parts) > 1 else ""

    def do_GET(self):
        sc = self.scenario()
        if self.path.endswith("/models") and sc in ("ok", "auth"):
            if sc == "auth" and self.headers.get("Authorization") != "Bearer test-key":
                return self.send_json(401, {"error": {"message": "invalid api key"}})
            return self.send_json(200, {"object": "list", "data": [
                {"id": "mock-7b", "object": "model"}, {"id": "mock-0.5b", "object": "model"}]})
        if sc == "bad":
            return self.send_json(200, {"object": "list"})
        if sc == "html502":
            return self.send_html(502, HTML502)
        self.send_json(404, {"error": {"message": "no such path"}})

    def check_request(self):
        n = int(self.headers.get("Content-Length", "0"))
        try:
            req = json.loads(self.rfile.read(n))
        except ValueError:
            return "bad JSON"
        if req.get("stream") is not True:
            return "stream not true"
        if req.get("stream_options") != {"include_usage": True}:
            return "no include_usage"
        if req.get("model") != "mock-7b":
            return "wrong model %r" % req.get("model")
        msgs = req.get("messages")
        if not msgs or msgs[-1] != {"role": "user", "content": "Say hi"}:
            return "wrong messages %r" % msgs
        if req.get("max_tokens") != 16 or req.get("temperature") != 0.5:
            return "wrong sampling"
        if req.get("seed") != 18446744073709551615:
            return "wrong seed %r" % req.get("seed")
        return None

    def do_POST(self):
        sc = self.scenario()
        if sc in ("ok", "auth"):
            if sc == "auth" and self.headers.get("Authorization") != "Bearer test-key":
                return self.send_json(401, {"error": {"message": "invalid api key"}})
            problem = self.check_request()
            if problem:
                return self.send_json(400, {"error": {"message": problem}})
            return self.ok_stream()
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        if sc == "err500":
            return self.send_json(500, {"error": {"code": 500, "type": "server_error",
                                                  "message": "Failed to parse input"}})
        if sc == "html502":
            return self.send_html(502, HTML502)
        self.start_stream()
        if sc == "stall":
            self.piece(event(chunk(content="x")), 30)
        elif sc == "big":
            ev = event(chunk(content="y" * 1000))
            for _ in range(5000):
                self.piece(ev, 0)
        elif sc == "bad":
            self.piece(event(chunk(content="a")) + b"data: {not json\n\n")
            self.piece(b"data: [DONE]\n\n")
        elif sc == "trunc":
            self.piece(event(chunk(content="a")) + b"data: {\"choi")
        elif sc == "many":
            for i in range(200):
                self.piece(event(chunk(content="t%d " % i)), 0.01)
            self.piece(b"data: [DONE]\n\n")
        self.end_stream()

    def ok_stream(self):
        self.start_stream()
        stream = (event(chunk(role="assistant"), b"\r\n") +
                  b": keep-alive comment\n\n" +
                  event(chunk(content="Hello")) +
                  event(chunk(content=", w\u00f6rld"), b"\r\n") +
                  event(chunk(content=" \U0001F600!")) +
                  event(chunk(finish="length")) +
                  event({"choices": [], "object": "chat.completion.chunk",
                         "usage": {"completion_tokens": 4, "prompt_tokens": 19,
                                   "total_tokens": 23}, "timings": {"predicted_per_second": 61.5}},
                        b"\r\n") +
                  b"data: [DONE]\n\n")
        # awkward cut points: inside "data:", between CR and LF, inside multi-byte UTF-8
        cuts = {3, len(stream) - 3}
        for i in range(1, len(stream)):
            if stream[i - 1:i] == b"\r" or (stream[i] & 0xC0) == 0x80 or stream[i - 1:i + 1] == b"da":
                cuts.add(i)
        last = 0
        for c in sorted(cuts) + [len(stream)]:
            self.piece(stream[last:c], 0.005)
            last = c
        self.end_stream()

class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # the client hanging up mid-stream (cancel, limits, timeouts) is expected

def main():
    srv = Server(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    print(srv.server_address[1], flush=True)
    srv.serve_forever()

if __name__ == "__main__":
    main()
