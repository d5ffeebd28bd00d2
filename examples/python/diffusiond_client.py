#!/usr/bin/env python3
"""A dependency-free client for diffusiond (protocol v1: JSON-RPC 2.0, one JSON object per line, Unix socket).

Library use:

    from diffusiond_client import DiffusiondClient, DiffusiondError

    with DiffusiondClient("/run/user/1000/diffusiond/diffusiond.sock") as client:
        print(client.call("ping"))
        result = client.call(
            "resize",
            {"image": {"path": "/abs/in.png"}, "width": 256, "output": {"path": "/abs/out.png"}},
            on_notification=lambda method, params: print(method, params),
        )
        print(result["image"]["path"])

Command line (the usage example):

    python3 diffusiond_client.py --socket PATH ping
    python3 diffusiond_client.py --socket PATH resize '{"image": {"path": "/abs/in.png"}, "width": 64, "output": {"path": "/abs/out.png"}}'

Relative paths in params ("path" members) are resolved against the current folder before sending.
Prints notifications on stderr, the result as JSON on stdout; exits 1 when the daemon answers with an error.
"""
import argparse
import itertools
import json
import os
import socket
import sys


class DiffusiondError(Exception):
    """An error response: code, message and data as the daemon sent them (see protocol/README.md)."""

    def __init__(self, code, message, data=None):
        super().__init__("error %d: %s" % (code, message))
        self.code = code
        self.message = message
        self.data = data


def default_socket_path():
    if os.environ.get("DIFFUSIOND_SOCKET"):
        return os.environ["DIFFUSIOND_SOCKET"]
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime.startswith("/"):
        return os.path.join(runtime, "diffusiond", "diffusiond.sock")
    return "/tmp/diffusiond-%d/diffusiond.sock" % os.getuid()


def resolve_paths(value, base=None):
    """A copy of a params tree whose relative "path" members are absolute, against base (default: the current
    folder). The daemon refuses relative paths: they would resolve against its folder, not the caller's."""
    if isinstance(value, dict):
        return {key: (os.path.normpath(os.path.join(base or os.getcwd(), item))
                      if key == "path" and isinstance(item, str) and item and not os.path.isabs(item)
                      else resolve_paths(item, base))
                for key, item in value.items()}
    if isinstance(value, list):
        return [resolve_paths(item, base) for item in value]
    return value


class DiffusiondClient:
    """One connection. Not thread-safe: use one client per thread. Closing it cancels its unfinished jobs.
    Relative "path" members of params are made absolute against the current folder before sending
    (resolve_paths=False sends them as they are)."""

    def __init__(self, path=None, timeout=None, resolve_paths=True):
        self.resolve_paths = resolve_paths
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path or default_socket_path())
        self.reader = self.sock.makefile("rb")
        self.ids = itertools.count(1)

    def close(self):
        self.reader.close()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, method, params=None, request_id=None):
        """Sends a request without waiting; returns its id."""
        request_id = next(self.ids) if request_id is None else request_id
        params = params or {}
        if self.resolve_paths:
            params = resolve_paths(params)
        message = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        self.sock.sendall(json.dumps(message, separators=(",", ":"), allow_nan=False).encode("utf-8") + b"\n")
        return request_id

    def read_message(self):
        line = self.reader.readline()
        if not line:
            raise ConnectionError("the daemon closed the connection")
        return json.loads(line)

    def wait(self, request_id, on_notification=None):
        """Reads until the response to request_id; notifications go to on_notification(method, params)."""
        while True:
            message = self.read_message()
            if "method" in message:
                if on_notification is not None:
                    on_notification(message["method"], message.get("params", {}))
                continue
            if message.get("id") != request_id:
                # A response to another request sent on this connection (or an id-less error): surface it.
                if message.get("id") is None and "error" in message:
                    error = message["error"]
                    raise DiffusiondError(error["code"], error["message"], error.get("data"))
                continue
            if "error" in message:
                error = message["error"]
                raise DiffusiondError(error["code"], error["message"], error.get("data"))
            return message["result"]

    def call(self, method, params=None, on_notification=None):
        return self.wait(self.send(method, params), on_notification)

    def cancel(self, request_id):
        return self.call("cancel", {"id": request_id})


def main(argv=None):
    parser = argparse.ArgumentParser(description="Call a diffusiond method.")
    parser.add_argument("--socket", default=None, help="daemon socket (default: as diffusionctl)")
    parser.add_argument("method")
    parser.add_argument("params", nargs="?", default="{}", help="params as a JSON object")
    args = parser.parse_args(argv)

    def show(method, params):
        print("%s %s" % (method, json.dumps(params, sort_keys=True)), file=sys.stderr)

    try:
        with DiffusiondClient(args.socket) as client:
            result = client.call(args.method, json.loads(args.params), on_notification=show)
    except DiffusiondError as error:
        print("diffusiond: %s" % error, file=sys.stderr)
        if error.data is not None:
            print("  data: %s" % json.dumps(error.data, sort_keys=True), file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:
        print("diffusiond_client: %s" % error, file=sys.stderr)
        return 2
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
