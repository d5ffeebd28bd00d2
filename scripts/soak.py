#!/usr/bin/env python3
"""Soak and load test for diffusiond (issue 16): N concurrent clients for a given time against one daemon.

The clients send a mix of valid jobs (resize, upscale, generate and inpaint on the tiny fixture models),
cancels, abrupt disconnects mid-job, malformed and over-long lines and status/models.list polls. The script
asserts that
  - every request sent on a connection the client kept got exactly one terminal reply (a result or an error),
    no reply came twice, none came for an id nobody sent, and no notification followed a job's reply;
  - every valid job succeeded (or was refused as busy, counted) and its output file is complete;
  - the daemon never exited or restarted (the same pid throughout, `status.uptime_ms` only grows);
  - at every idle checkpoint (all clients paused, the daemon idle) the daemon's resident memory, open file
    descriptors and threads stay flat after warm-up: fds within FD_MARGIN of the first checkpoint (the end of
    warm-up), threads within THREAD_MARGIN of the most seen during warm-up, RSS within RSS_MARGIN_FRACTION
    (+ RSS_MARGIN_BYTES) of the first checkpoint.
It prints one line per checkpoint and a summary, writes the samples as JSON with --report, and exits non-zero
on any violation. Standard library only. Run by scripts/soak.sh MINUTES.
"""
import argparse
import base64
import json
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

FD_MARGIN = 2            # descriptors above the first idle checkpoint
THREAD_MARGIN = 2        # threads above the first idle checkpoint
RSS_MARGIN_FRACTION = 0.10
RSS_MARGIN_BYTES = 16 << 20
MAX_LINE_BYTES = 65536   # the daemon runs with this --max-line-bytes so over-long lines are cheap to send
JOB_TIMEOUT = 600.0

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "Fixtures")
SMALL_PNG = os.path.join(ROOT, "Tests", "DaemonTests", "Fixtures", "small.png")   # 16x12 RGBA
PHOTO32 = os.path.join(FIXTURES, "upscale", "photo32.png")
REAL_UPSCALERS = os.path.join(ROOT, "models", "realesrgan")   # installed by scripts/setup.sh


class Violation(Exception):
    pass


def png(width, height, pixel):
    """A greyscale 8-bit PNG whose pixel (x, y) is pixel(x, y); no third-party imaging library needed."""
    rows = b"".join(b"\x00" + bytes(pixel(x, y) for x in range(width)) for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        self.violations = []

    def count(self, key, n=1):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + n

    def violation(self, text):
        with self.lock:
            self.violations.append(text)
            if len(self.violations) <= 20:
                print("VIOLATION: " + text, file=sys.stderr, flush=True)


class Connection:
    """One client connection that accounts for every id it sends: exactly one terminal reply each."""

    def __init__(self, path, stats, name):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(JOB_TIMEOUT)
        self.sock.connect(path)
        self.stats = stats
        self.name = name
        self.buffer = b""
        self.next_id = 0
        self.pending = set()      # ids sent, not yet answered
        self.answered = set()     # ids answered (a second reply or a later notification is a violation)
        self.null_errors = 0      # error replies with id null (malformed lines)
        self.closed = False

    def new_id(self):
        self.next_id += 1
        return "%s-%d" % (self.name, self.next_id)

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, method, params=None):
        rid = self.new_id()
        message = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            message["params"] = params
        self.pending.add(rid)
        self.sock.sendall(json.dumps(message).encode() + b"\n")
        return rid

    def read_message(self, deadline):
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Violation("%s: no message within the time limit (pending %s)" % (self.name, sorted(self.pending)))
            self.sock.settimeout(remaining)
            data = self.sock.recv(1 << 16)
            if not data:
                self.closed = True
                return None
            self.buffer += data
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def account(self, message):
        """Checks one message against the ids this connection sent; returns the id it answers, if any."""
        if "method" in message and "id" not in message:
            nid = (message.get("params") or {}).get("id")
            if nid in self.answered:
                self.stats.violation("%s: notification %s after the reply to %r" % (self.name, message["method"], nid))
            return None
        rid = message.get("id")
        if "result" not in message and "error" not in message:
            self.stats.violation("%s: message neither reply nor notification: %r" % (self.name, message))
            return None
        if rid is None:
            self.null_errors += 1
            return None
        if rid in self.answered:
            self.stats.violation("%s: second reply to %r: %r" % (self.name, rid, message))
        elif rid not in self.pending:
            self.stats.violation("%s: reply to an id never sent: %r" % (self.name, message))
        else:
            self.pending.discard(rid)
            self.answered.add(rid)
        return rid

    def wait(self, ids, timeout=JOB_TIMEOUT, notify=None):
        """Reads until every id in `ids` is answered; returns their replies. `notify(message)` sees notifications."""
        deadline = time.monotonic() + timeout
        wanted, replies = set(ids), {}
        while wanted:
            message = self.read_message(deadline)
            if message is None:
                raise Violation("%s: connection closed with %s unanswered" % (self.name, sorted(wanted)))
            rid = self.account(message)
            if rid is None:
                if notify and "method" in message:
                    notify(message)
                continue
            if rid in wanted:
                wanted.discard(rid)
                replies[rid] = message
        return replies

    def call(self, method, params=None, timeout=JOB_TIMEOUT):
        rid = self.send(method, params)
        return self.wait([rid], timeout)[rid]

    def close(self, abrupt=False):
        if abrupt:
            # Nothing more is read: replies still owed are the daemon's to drop (the client is gone).
            self.pending.clear()
        self.sock.close()


class Soak:
    def __init__(self, args):
        self.args = args
        self.stats = Stats()
        self.work = tempfile.mkdtemp(prefix="diffusiond-soak-")
        self.socket_path = os.path.join(self.work, "d.sock")
        self.outputs = os.path.join(self.work, "out")
        os.mkdir(self.outputs)
        self.models = os.path.join(self.work, "models")
        self.pause = threading.Event()
        self.stop = threading.Event()
        self.parked = threading.Semaphore(0)
        self.samples = []
        self.checkpoints = []
        self.mask_b64 = base64.b64encode(png(16, 12, lambda x, y: 255 if 4 <= y < 8 and 5 <= x < 11 else 0)).decode()
        self.daemon = None
        self.pid = None
        self.last_uptime = -1
        self.real_upscaler = os.path.exists(os.path.join(REAL_UPSCALERS, "realesr-animevideov3-x4.param"))

    # -- setup -------------------------------------------------------------------------------------------------
    def prepare_models(self):
        os.makedirs(os.path.join(self.models, "upscalers"))
        os.symlink(os.path.join(FIXTURES, "sd", "sd1", "diffusers"), os.path.join(self.models, "tiny"))
        os.symlink(os.path.join(FIXTURES, "sd", "sd1-inpaint", "diffusers"), os.path.join(self.models, "tiny-inpaint"))
        os.symlink(os.path.join(FIXTURES, "upscale", "tiny_compact.pth"),
                   os.path.join(self.models, "upscalers", "tiny_compact.pth"))
        if self.real_upscaler:
            os.symlink(REAL_UPSCALERS, os.path.join(self.models, "realesrgan"))

    def start_daemon(self):
        log = open(os.path.join(self.work, "daemon.log"), "wb")
        self.daemon = subprocess.Popen(
            [os.path.join(self.args.bin, "diffusiond"), "serve", "--socket", self.socket_path, "--models", self.models,
             "--threads", "1", "--log-level", "warning", "--max-line-bytes", str(MAX_LINE_BYTES)],
            stdout=subprocess.DEVNULL, stderr=log)
        self.pid = self.daemon.pid
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.daemon.poll() is not None:
                raise Violation("diffusiond exited at start (status %s)" % self.daemon.returncode)
            try:
                c = Connection(self.socket_path, self.stats, "probe")
                c.call("ping", timeout=10)
                c.close()
                return
            except (OSError, Violation):
                time.sleep(0.1)
        raise Violation("diffusiond did not answer within 60 s")

    # -- the actions of one client -----------------------------------------------------------------------------
    def out_path(self, client, ext="png"):
        return os.path.join(self.outputs, "%s-%d.%s" % (client, random.randrange(1 << 30), ext))

    def valid_jobs(self, client):
        small = {"path": SMALL_PNG}
        jobs = [
            ("resize", {"image": small, "width": 24, "output": {"path": self.out_path(client)}}),
            ("resize", {"image": small, "width": 8, "kernel": "nearest", "output": {"format": "png"}}),
            ("upscale", {"image": small, "model": "tiny_compact", "tile": 16, "overlap": 4,
                         "output": {"path": self.out_path(client)}}),
            ("upscale", {"image": small, "model": "lanczos3", "scale": 2, "output": {"path": self.out_path(client, "tif")}}),
            ("generate", {"model": "tiny", "prompt": "a fox in the snow", "width": 16, "height": 16, "steps": 2,
                          "seed": random.randrange(1 << 31), "output": {"path": self.out_path(client)}}),
            ("inpaint", {"model": "tiny-inpaint", "image": small, "mask": {"base64": self.mask_b64}, "prompt": "a cat",
                         "steps": 2, "seed": 3, "output": {"path": self.out_path(client)}}),
            ("inpaint", {"image": small, "mask": {"base64": self.mask_b64}, "fill": "edge"}),
        ]
        if self.real_upscaler:
            jobs.append(("upscale", {"image": {"path": PHOTO32}, "model": "realesr-animevideov3", "tile": 16,
                                     "overlap": 4, "output": {"path": self.out_path(client, "jpg")}}))
        return jobs

    def long_job(self, client):
        """A job that takes a few seconds on the tiny model: something to cancel or walk away from."""
        return ("generate", {"model": "tiny", "prompt": "a long walk", "width": 64, "height": 64, "steps": 40,
                             "seed": 1, "output": {"path": self.out_path(client)}})

    def do_valid_job(self, conn, client):
        method, params = random.choice(self.valid_jobs(client))
        reply = conn.call(method, params)
        if "error" in reply:
            if reply["error"].get("code") == -32000:
                self.stats.count("busy")
                return
            self.stats.violation("%s %s failed: %r" % (method, json.dumps(params)[:200], reply["error"]))
            return
        self.stats.count("job:" + method)
        path = (params.get("output") or {}).get("path")
        if path:
            if not os.path.isfile(path) or os.path.getsize(path) == 0:
                self.stats.violation("%s: output %s missing or empty" % (method, path))
            else:
                os.unlink(path)

    def do_cancel(self, conn, client):
        method, params = self.long_job(client)
        started = threading.Event()
        job = conn.send(method, params)

        def notify(message):
            if message["method"] in ("started", "queued") and message["params"].get("id") == job:
                started.set()

        # Wait until the daemon has the job (queued or started), then cancel it; sometimes at once instead.
        if random.random() < 0.7:
            deadline = time.monotonic() + JOB_TIMEOUT
            while not started.is_set():
                message = conn.read_message(deadline)
                if message is None:
                    raise Violation("%s: closed before the job was queued" % conn.name)
                rid = conn.account(message)
                if rid is None and "method" in message:
                    notify(message)
                elif rid == job:
                    self.stats.violation("%s: job answered before it was cancelled: %r" % (conn.name, message))
                    return
        cancel = conn.send("cancel", {"id": job})
        replies = conn.wait([job, cancel])
        code = (replies[job].get("error") or {}).get("code")
        if code == -32800:
            self.stats.count("cancelled")
        elif "result" in replies[job]:
            self.stats.count("cancel-too-late")
        elif code == -32000:
            self.stats.count("busy")
        else:
            self.stats.violation("cancelled job: unexpected reply %r" % replies[job])
        if "error" in replies[cancel] and replies[cancel]["error"].get("code") != -32006:
            self.stats.violation("cancel: unexpected reply %r" % replies[cancel])

    def do_disconnect(self, client):
        """Sends a job on a fresh connection and drops the connection mid-job (or mid-line)."""
        conn = Connection(self.socket_path, self.stats, client + "-gone")
        kind = random.choice(["after-started", "after-send", "half-line", "shutdown-write"])
        if kind == "half-line":
            conn.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"resize","params":{"image":')
        else:
            method, params = self.long_job(client)
            job = conn.send(method, params)
            if kind == "after-started":
                deadline = time.monotonic() + JOB_TIMEOUT
                while True:
                    message = conn.read_message(deadline)
                    if message is None or message.get("method") == "started" or message.get("id") == job:
                        break
            elif kind == "shutdown-write":
                conn.sock.shutdown(socket.SHUT_WR)   # the protocol: closing the sending side cancels the jobs
        conn.close(abrupt=True)
        self.stats.count("disconnect:" + kind)

    MALFORMED = [
        b"this is not json\n",
        b'{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}\n',
        b'\xff\xfe{"jsonrpc":"2.0"}\n',
        b"[1,2,3]\n",
        b'{"jsonrpc":"2.0","method":"ping"}\n',
        b'{"jsonrpc":"2.0","id":1e999,"method":"ping"}\n',
        b"[" * 200 + b"]" * 200 + b"\n",
        b'{"jsonrpc":"2.0","id":"x","method":"ping","extra":1}\n',
        b'{"jsonrpc":"1.0","id":"x","method":"ping"}\n',
        b'"\x01"\n',
    ]

    def do_malformed(self, conn):
        """One malformed line, then a ping as a fence: exactly one error must come for the line (id null or "x")."""
        line = random.choice(self.MALFORMED)
        conn.send_raw(line)
        conn.pending.add("x")
        before = conn.null_errors
        fence = conn.send("ping")
        replies = conn.wait([fence], timeout=60)
        got_x = "x" in conn.answered
        conn.pending.discard("x")
        conn.answered.discard("x")
        errors = conn.null_errors - before + (1 if got_x else 0)
        if errors != 1 or "result" not in replies[fence]:
            self.stats.violation("malformed line %r: %d error replies (want 1), fence %r" % (line[:40], errors, replies[fence]))
        self.stats.count("malformed")

    def do_bad_params(self, conn):
        cases = [
            ("resize", {"image": {"path": SMALL_PNG}, "width": "wide"}, -32602),
            ("resize", {"image": {"path": "/nonexistent/soak.png"}, "width": 4}, -32001),
            ("resize", {"image": {"base64": base64.b64encode(b"not an image").decode()}, "width": 4}, -32002),
            ("generate", {"model": "no-such-model", "prompt": "x"}, -32602),
            ("no.such.method", {}, -32601),
            ("resize", {"image": {"path": SMALL_PNG}, "width": 4, "output": {"path": "relative.png"}}, -32005),
        ]
        method, params, code = random.choice(cases)
        reply = conn.call(method, params)
        if (reply.get("error") or {}).get("code") != code:
            self.stats.violation("%s %r: want error %d, got %r" % (method, params, code, reply))
        self.stats.count("bad-params")

    def do_long_line(self, client):
        """A line over --max-line-bytes: one -32009 (id null), then the daemon closes the connection."""
        conn = Connection(self.socket_path, self.stats, client + "-long")
        try:
            conn.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"p":"' + b"x" * MAX_LINE_BYTES)
        except (BrokenPipeError, ConnectionResetError):
            pass
        deadline = time.monotonic() + 60
        messages = []
        while True:
            try:
                message = conn.read_message(deadline)
            except ConnectionResetError:
                message = None
            if message is None:
                break
            messages.append(message)
        conn.close()
        codes = [(m.get("error") or {}).get("code") for m in messages]
        if codes != [-32009]:
            self.stats.violation("over-long line: want one -32009 then close, got %r" % messages)
        self.stats.count("long-line")

    def do_poll(self, conn):
        method = random.choice(["status", "models.list", "ping", "capabilities"])
        reply = conn.call(method, timeout=60)
        if "result" not in reply:
            self.stats.violation("%s failed: %r" % (method, reply))
        self.stats.count("poll:" + method)

    def client(self, index):
        name = "c%d" % index
        rng_actions = [("job", 30), ("poll", 20), ("cancel", 8), ("disconnect", 8), ("malformed", 10),
                       ("bad", 8), ("long", 3)]
        population = [a for a, w in rng_actions for _ in range(w)]
        conn = None
        try:
            while not self.stop.is_set():
                if self.pause.is_set():
                    if conn:
                        self.finish(conn)
                        conn = None
                    self.parked.release()
                    while self.pause.is_set() and not self.stop.is_set():
                        time.sleep(0.05)
                    continue
                if conn is None:
                    conn = Connection(self.socket_path, self.stats, name + "-%d" % random.randrange(1 << 20))
                action = random.choice(population)
                try:
                    if action == "job":
                        self.do_valid_job(conn, name)
                    elif action == "poll":
                        self.do_poll(conn)
                    elif action == "cancel":
                        self.do_cancel(conn, name)
                    elif action == "disconnect":
                        self.do_disconnect(name)
                    elif action == "malformed":
                        self.do_malformed(conn)
                    elif action == "bad":
                        self.do_bad_params(conn)
                    elif action == "long":
                        self.do_long_line(name)
                    self.stats.count("requests")
                except (Violation, OSError, ValueError) as error:
                    self.stats.violation("%s %s: %s" % (name, action, error))
                    conn = None
        finally:
            if conn:
                self.finish(conn)
            self.parked.release()

    def finish(self, conn):
        if conn.pending:
            self.stats.violation("%s: closed with unanswered ids %s" % (conn.name, sorted(conn.pending)))
        conn.close()

    # -- measurements ------------------------------------------------------------------------------------------
    def proc_sample(self):
        if self.daemon.poll() is not None:
            raise Violation("diffusiond exited (status %s): see %s/daemon.log" % (self.daemon.returncode, self.work))
        with open("/proc/%d/status" % self.pid) as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        rss = int(fields["VmRSS"].split()[0]) * 1024
        threads = int(fields["Threads"])
        fds = len(os.listdir("/proc/%d/fd" % self.pid))
        return {"t": round(time.monotonic() - self.start, 1), "rss": rss, "fds": fds, "threads": threads}

    def check_status(self, conn):
        status = conn.call("status", timeout=60)["result"]
        uptime = status["uptime_ms"]
        if uptime <= self.last_uptime:
            self.stats.violation("status.uptime_ms went back from %d to %d: the daemon restarted" % (self.last_uptime, uptime))
        self.last_uptime = uptime
        return status

    def checkpoint(self, monitor, label):
        """Pauses every client, waits for the daemon to go idle, samples it, and lets the clients go on."""
        self.pause.set()
        for _ in range(self.args.clients):
            self.parked.acquire()
        self.idle_sample(monitor, label, "daemon not idle after the clients paused")
        self.pause.clear()

    def idle_sample(self, monitor, label, stuck):
        """Waits until the daemon runs nothing, queues nothing and holds only the monitor's connection (or reports
        `stuck`), then records and prints a checkpoint sample."""
        deadline = time.monotonic() + JOB_TIMEOUT
        while True:
            status = self.check_status(monitor)
            if status.get("running") is None and status["queue_length"] == 0 and status["connections"] == 1:
                break
            if time.monotonic() > deadline:
                self.stats.violation("%s: %r" % (stuck, status))
                break
            time.sleep(0.2)
        time.sleep(0.5)
        sample = self.proc_sample()
        sample["label"] = label
        sample["requests"] = self.stats.counts.get("requests", 0)
        self.checkpoints.append(sample)
        print("checkpoint %-8s t=%6.1fs requests=%6d rss=%6.1f MB fds=%3d threads=%3d" % (
            label, sample["t"], sample["requests"], sample["rss"] / 1e6, sample["fds"], sample["threads"]), flush=True)

    def run(self):
        self.prepare_models()
        self.start_daemon()
        self.start = time.monotonic()
        total = self.args.minutes * 60.0
        warmup = min(30.0, total / 4)
        interval = max(15.0, (total - warmup) / 6)
        monitor = Connection(self.socket_path, self.stats, "monitor")
        self.check_status(monitor)
        threads = [threading.Thread(target=self.client, args=(i,), daemon=True) for i in range(self.args.clients)]
        for t in threads:
            t.start()
        next_checkpoint = warmup
        try:
            while time.monotonic() - self.start < total:
                self.samples.append(self.proc_sample())
                if time.monotonic() - self.start >= next_checkpoint:
                    self.checkpoint(monitor, "warm-up" if not self.checkpoints else "%dm%02ds" % divmod(int(time.monotonic() - self.start), 60))
                    next_checkpoint += interval
                time.sleep(2)
            self.stop.set()
            for t in threads:
                t.join(JOB_TIMEOUT)
            self.pause.clear()
            self.checkpoint_final(monitor)
        except Violation as error:
            self.stats.violation(str(error))
            self.stop.set()
        if self.daemon.poll() is None:
            if self.daemon.pid != self.pid:
                self.stats.violation("the daemon's pid changed")
            monitor.call("shutdown", timeout=60)
            monitor.close()
            try:
                status = self.daemon.wait(60)
                if status != 0:
                    self.stats.violation("diffusiond exited %d after shutdown" % status)
            except subprocess.TimeoutExpired:
                self.stats.violation("diffusiond did not exit within 60 s of shutdown")
                self.daemon.kill()
        return self.report()

    def checkpoint_final(self, monitor):
        # Every client has stopped: the same idle check once more, without the pause handshake.
        self.idle_sample(monitor, "end", "daemon not idle at the end")

    def report(self):
        if self.checkpoints:
            base = dict(self.checkpoints[0])
            # Idle threads come and go (the runtime parks and retires helpers): the baseline is the most seen
            # in warm-up, under load or idle, so only threads that accumulate count as growth.
            base["threads"] = max([base["threads"]] + [s["threads"] for s in self.samples if s["t"] <= base["t"]])
            rss_limit = base["rss"] * (1 + RSS_MARGIN_FRACTION) + RSS_MARGIN_BYTES
            for c in self.checkpoints[1:]:
                if c["fds"] > base["fds"] + FD_MARGIN:
                    self.stats.violation("open fds grew from %d to %d (%s)" % (base["fds"], c["fds"], c["label"]))
                if c["threads"] > base["threads"] + THREAD_MARGIN:
                    self.stats.violation("threads grew from %d to %d (%s)" % (base["threads"], c["threads"], c["label"]))
                if c["rss"] > rss_limit:
                    self.stats.violation("RSS grew from %.1f MB to %.1f MB (%s), over the %.1f MB margin" % (
                        base["rss"] / 1e6, c["rss"] / 1e6, c["label"], rss_limit / 1e6))
        peak = max(self.samples, key=lambda s: s["rss"]) if self.samples else None
        summary = {
            "minutes": self.args.minutes, "clients": self.args.clients, "pid": self.pid,
            "counts": dict(sorted(self.stats.counts.items())), "checkpoints": self.checkpoints,
            "peak_under_load": peak, "max_fds_under_load": max((s["fds"] for s in self.samples), default=None),
            "max_threads_under_load": max((s["threads"] for s in self.samples), default=None),
            "margins": {"fds": FD_MARGIN, "threads": THREAD_MARGIN, "rss_fraction": RSS_MARGIN_FRACTION,
                        "rss_bytes": RSS_MARGIN_BYTES},
            "violations": self.stats.violations,
        }
        if self.args.report:
            with open(self.args.report, "w") as f:
                json.dump(dict(summary, samples=self.samples), f, indent=1)
        print("counts: " + ", ".join("%s=%d" % kv for kv in summary["counts"].items()))
        if peak:
            print("under load: peak rss %.1f MB, max fds %d, max threads %d" % (
                peak["rss"] / 1e6, summary["max_fds_under_load"], summary["max_threads_under_load"]))
        leftovers = os.listdir(self.outputs)
        if leftovers:
            self.stats.violation("files left in the output folder: %s" % leftovers[:10])
        if self.stats.violations:
            print("soak: FAILED, %d violations (daemon log: %s/daemon.log)" % (len(self.stats.violations), self.work))
            return 1
        print("soak: passed (%d requests, daemon pid %d never restarted)" % (self.stats.counts.get("requests", 0), self.pid))
        shutil.rmtree(self.work, ignore_errors=True)
        return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, required=True)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--bin", required=True, help="folder holding the diffusiond executable")
    parser.add_argument("--report", help="write the counts, checkpoints and samples as JSON here")
    args = parser.parse_args()
    soak = Soak(args)
    try:
        sys.exit(soak.run())
    finally:
        if soak.daemon and soak.daemon.poll() is None:
            soak.daemon.kill()


if __name__ == "__main__":
    main()
