"""The driver of scripts/scale_out.sh: two aidflow instances behind nginx, one killed
with SIGKILL and restarted under load. Run by scale_out.sh, which provides the database
(AIDFLOW__DATABASE__URL), an admin token (AIDFLOW_TOKEN), nginx on 127.0.0.1:18300 and a
work directory (AIDFLOW_WORK)."""

import http.server
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

NGINX = "http://127.0.0.1:18300"
PORTS = (18301, 18302)
TOKEN = os.environ["AIDFLOW_TOKEN"]
WORK = os.environ["AIDFLOW_WORK"]
CLIENTS = 8
CONVOYS_PER_CLIENT = 3
SECRET = "scale-out-signing-secret"
started = time.monotonic()


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def request(method, url, body=None, timeout=10):
    """(status, parsed body) or None when no answer came (refused, reset, timed out)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", f"Bearer {TOKEN}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            text = r.read()
            return r.status, json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        text = e.read()
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, text.decode(errors="replace")
    except (OSError, ValueError):
        return None


# --- the two instances -------------------------------------------------------------------

def spawn(port):
    env = dict(os.environ)
    env.update({
        "AIDFLOW__SERVER__PORT": str(port),
        "AIDFLOW__JOBS__ENABLED": "true",
        "AIDFLOW__JOBS__INTERVAL_SECONDS": "1",
        "AIDFLOW__WEBHOOKS__BACKOFF_BASE_SECONDS": "1",
    })
    log = open(os.path.join(WORK, f"serve-{port}.log"), "ab")
    return subprocess.Popen(["target/debug/aidflow", "serve"], env=env,
                            stdout=subprocess.DEVNULL, stderr=log)


def wait_ready(port, proc):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        r = request("GET", f"http://127.0.0.1:{port}/health/ready", timeout=2)
        if r and r[0] == 200:
            return
        if proc.poll() is not None:
            fail(f"instance on {port} exited with {proc.returncode}")
        time.sleep(0.05)
    fail(f"instance on {port} never became ready")


instances = {port: spawn(port) for port in PORTS}
for port, proc in instances.items():
    wait_ready(port, proc)


def stop_all():
    for proc in instances.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in instances.values():
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


# --- the webhook receiver ----------------------------------------------------------------

hits = []
hits_lock = threading.Lock()


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with hits_lock:
            hits.append((self.headers.get("X-Aidflow-Event"), json.loads(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=receiver.serve_forever, daemon=True).start()


def alert_id_of(payload):
    """The id of the alert a notification is about, wherever the payload nests it."""
    if isinstance(payload, dict):
        if "rule" in payload and "id" in payload:
            return payload["id"]
        for v in payload.values():
            found = alert_id_of(v)
            if found:
                return found
    return None


def opened():
    with hits_lock:
        return [alert_id_of(p) for (event, p) in hits if event == "alert.opened"]


def must(method, path, body=None, want=(200, 201)):
    r = request(method, NGINX + path, body)
    if not r or r[0] not in want:
        fail(f"{method} {path}: {r}")
    return r[1]


try:
    must("POST", "/api/v1/webhooks", {"url": f"http://127.0.0.1:{receiver.server_port}/hook",
                                     "secret": SECRET, "events": ["alert.opened"]})

    # A hold at KORNIDZOR longer than its max_dwell (12 h): convoy_held opens, once.
    now = datetime.now(timezone.utc)
    iso = lambda t: t.isoformat(timespec="seconds")
    held = must("POST", "/api/v1/convoys", {
        "id": str(uuid.uuid4()), "organization": "arm-gov", "reference": "SCALE-HOLD", "route": "lachin",
        "planned_departure": iso(now - timedelta(hours=20)), "expected_arrival": iso(now + timedelta(days=3)),
        "manifest": [{"commodity": "flour", "tonnes": "300"}]})
    for kind, checkpoint, hours in [("departed", None, 19), ("held", "KORNIDZOR", 13)]:
        body = {"id": str(uuid.uuid4()), "kind": kind, "observed_at": iso(now - timedelta(hours=hours))}
        if checkpoint:
            body["checkpoint"] = checkpoint
        must("POST", f"/api/v1/convoys/{held['id']}/events", body)
    deadline = time.monotonic() + 20
    while not opened() and time.monotonic() < deadline:
        time.sleep(0.1)
    if not opened():
        fail("the hold opened no alert")

    # Concurrent clients posting events through nginx, retrying with the same id and body.
    stop = threading.Event()
    acked = {}          # event id -> (convoy, kg)
    acked_lock = threading.Lock()
    tally = Counter()

    def send(path, body):
        while True:
            r = request("POST", NGINX + path, body)
            if r and r[0] in (200, 201):
                tally["replayed" if r[0] == 200 else "created"] += 1
                return r[1]
            if r and r[0] not in (502, 503, 504):
                fail(f"POST {path}: {r[0]} {r[1]} for {body}")
            tally["retried"] += 1
            time.sleep(0.05)

    def client(n):
        rng = random.Random(1300 + n)
        convoys = []
        for i in range(CONVOYS_PER_CLIENT):
            cid = str(uuid.uuid4())
            send("/api/v1/convoys", {
                "id": cid, "organization": "icrc", "reference": f"SCALE-{n}-{i}", "route": "lachin",
                "planned_departure": iso(now - timedelta(hours=2)), "expected_arrival": iso(now + timedelta(days=3)),
                "manifest": [{"commodity": "flour", "tonnes": "1000"}]})
            eid = str(uuid.uuid4())
            send(f"/api/v1/convoys/{cid}/events",
                 {"id": eid, "kind": "departed", "observed_at": iso(now - timedelta(hours=2))})
            with acked_lock:
                acked[eid] = (cid, 0)
            convoys.append(cid)
        k = 0
        while not stop.is_set() and k < 3 * 400:
            cid = convoys[k % len(convoys)]
            k += 1
            kg = rng.randint(1, 2000)
            eid = str(uuid.uuid4())
            minute = k // len(convoys)
            stored = send(f"/api/v1/convoys/{cid}/events", {
                "id": eid, "kind": "delivered",
                "observed_at": iso(now - timedelta(hours=1) + timedelta(seconds=minute)),
                "cargo": [{"commodity": "flour", "tonnes": f"{kg // 1000}.{kg % 1000:03d}"}]})
            if stored["id"] != eid:
                fail(f"stored {stored['id']} for {eid}")
            with acked_lock:
                acked[eid] = (cid, kg)

    # /health/ready through nginx, all along.
    probes = Counter()

    def probe():
        while not stop.is_set():
            r = request("GET", NGINX + "/health/ready", timeout=10)
            probes[r[0] if r else "no answer"] += 1
            time.sleep(0.05)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    threads.append(threading.Thread(target=probe))
    for t in threads:
        t.start()
    time.sleep(2)
    victim = PORTS[0]
    instances[victim].kill()      # SIGKILL
    instances[victim].wait()
    killed_at = time.monotonic()
    outage_probes_before = sum(probes.values())
    # During the outage: a convoy that misses its departure opens departure_missed, once.
    late = must("POST", "/api/v1/convoys", {
        "id": str(uuid.uuid4()), "organization": "arm-gov", "reference": "SCALE-LATE", "route": "lachin",
        "planned_departure": iso(now - timedelta(hours=3)), "expected_arrival": iso(now + timedelta(days=3)),
        "manifest": [{"commodity": "flour", "tonnes": "5"}]})
    time.sleep(4)
    outage_probes = sum(probes.values()) - outage_probes_before
    instances[victim] = spawn(victim)
    wait_ready(victim, instances[victim])
    outage = time.monotonic() - killed_at
    time.sleep(3)
    stop.set()
    for t in threads:
        t.join(timeout=30)

    # Nothing acknowledged lost or doubled.
    convoys = sorted({c for (c, _) in acked.values()})
    stored_ids = Counter()
    for cid in convoys:
        events = must("GET", f"/api/v1/convoys/{cid}/events")
        delivered = 0
        for e in events:
            stored_ids[e["id"]] += 1
            if e["id"] not in acked:
                fail(f"event {e['id']} is stored but was never acknowledged")
            if e["kind"] == "delivered":
                t = e["cargo"][0]["tonnes"]
                whole, frac = t.split(".")
                kg = int(whole) * 1000 + int(frac)
                if kg != acked[e["id"]][1]:
                    fail(f"event {e['id']} stored {t} t, sent {acked[e['id']][1]} kg")
                delivered += kg
        want = sum(kg for (c, kg) in acked.values() if c == cid)
        if delivered != want:
            fail(f"convoy {cid}: stored deliveries {delivered} kg, acknowledged {want} kg")
        total = must("GET", f"/api/v1/convoys/{cid}")["totals"]["delivered"]
        if total != f"{want // 1000}.{want % 1000:03d}":
            fail(f"convoy {cid}: delivered {total}, the sum of its deliveries is {want} kg")
    doubled = [i for i, n in stored_ids.items() if n > 1]
    if doubled or len(stored_ids) != len(acked):
        fail(f"{len(acked)} acknowledged, {len(stored_ids)} stored, doubled: {doubled[:5]}")

    # Every alert opened once, and notified once.
    deadline = time.monotonic() + 20
    while True:
        alerts = must("GET", "/api/v1/alerts?limit=500")["items"]
        if len(opened()) >= len(alerts) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    time.sleep(3)  # both instances keep evaluating and sending: nothing more may come
    alerts = must("GET", "/api/v1/alerts?limit=500")["items"]
    per_subject = Counter((a["rule"], a["subject"]) for a in alerts)
    if any(n > 1 for n in per_subject.values()):
        fail(f"an alert opened twice: {per_subject}")
    rules = {(a["rule"], a["subject"]) for a in alerts}
    for rule, subject in [("convoy_held", held["id"]), ("departure_missed", late["id"])]:
        if (rule, subject) not in rules:
            fail(f"no {rule} alert for {subject}: {sorted(rules)}")
    notified = Counter(opened())
    for a in alerts:
        if notified[a["id"]] != 1:
            fail(f"alert {a['rule']} {a['id']} was notified {notified[a['id']]} times")
    if sum(notified.values()) != len(alerts):
        fail(f"{sum(notified.values())} notifications for {len(alerts)} alerts")

    # The dead instance was taken out: through nginx, readiness never failed.
    if set(probes) != {200}:
        fail(f"/health/ready through nginx while an instance was down: {dict(probes)}")
    # nginx saw the instance die under it (refused or dropped connections) and went on.
    with open(os.path.join(WORK, "nginx", "error.log"), errors="replace") as f:
        upstream_errors = sum(1 for line in f if "upstream" in line)
    if upstream_errors == 0:
        fail("nginx logged no upstream failure: the kill did not hit the load")
    elapsed = time.monotonic() - started
    print(f"scale-out: {len(acked)} events on {len(convoys)} convoys acknowledged through nginx "
          f"({tally['created']} created, {tally['replayed']} replays, {tally['retried']} retries) "
          f"while instance {victim} was SIGKILLed and restarted ({outage:.1f} s down); "
          f"each stored once; {len(alerts)} alerts ({', '.join(sorted(Counter(a['rule'] for a in alerts)))}) "
          f"opened and notified once each; /health/ready through nginx {probes[200]}/{sum(probes.values())} "
          f"answers 200 ({outage_probes} during the outage), {upstream_errors} upstream failures in nginx's log, "
          f"each retried by nginx on the other instance; {elapsed:.0f} s")
finally:
    stop_all()
    receiver.shutdown()
