"""The cost of event retention's listing query (src/store/syncer.c) on one
camera: DAYS days of 1-minute recordings and EVENTS motion events a day
(5..60 s), event_retain 30 days (DAYS), retain 7 days, rolls 5 s. Deletes
what a pass would (the steady state), then times a full pass's scan of the
event-retention zone and a pass between full passes (two start ranges).
Usage: bench/event_retention.py BUILD_DIR [DAYS] [EVENTS]"""
import os, sqlite3, random, subprocess, tempfile, time, re, sys
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
src = open(os.path.join(ROOT, "src", "store", "store_int.h")).read()
reel = os.path.join(sys.argv[1], "src", "reel", "reel")
tmp = tempfile.mkdtemp(prefix="reel-bench-evret-")
data = os.path.join(tmp, "d")
subprocess.run([reel, "-d", data, "init"], check=True, capture_output=True)
subprocess.run([reel, "-d", data, "camera", "add", "cam0", "rtsp://127.0.0.1:9/x", "--disabled"], check=True,
               capture_output=True)
sys.argv = sys.argv[1:]
def macro(name):
    m = re.search(r'#define ' + name + r'\(R(?:, NOW)?\)\s*\\\n((?:.*\\\n)*.*\n)', src)
    body = m.group(1)
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"|\b(R|NOW)\b', body)
    out = ''
    for lit, ident in parts:
        if lit: out += lit
        elif ident == 'R': out += 'r'
        elif ident == 'NOW': out += '?3'
    return out
LOCKED = macro('REEL__LOCKED_SQL').replace('"', '')
KEPT = macro('REEL__EVENT_KEPT_SQL')
db = sqlite3.connect(os.path.join(data, 'reel.db'))
cam = db.execute("SELECT id FROM camera").fetchone()[0]
M = 60 * 90000; D = 1440 * M
now = int(time.time()) * 90000
days = int(sys.argv[1]) if len(sys.argv) > 1 else 30
evday = int(sys.argv[2]) if len(sys.argv) > 2 else 500
random.seed(1)
t0 = now - days * D
with db:
    db.executemany("INSERT INTO recording (camera_id, start90k, wall_duration90k, media_duration90k, frames, bytes, dir_id, open) VALUES (?,?,?,?,1,1,1,0)",
                   [(cam, t0 + i * M, M, M) for i in range(days * 1440)])
    evs = []
    for d in range(days):
        for _ in range(evday):
            s = t0 + d * D + random.randrange(D)
            evs.append((cam, s, s + random.randint(5, 60) * 90000))
    db.executemany("INSERT INTO event (camera_id, kind, source, start90k, end90k) VALUES (?, 'motion', 'motion', ?, ?)", evs)
er, rs, pre, post = days * 86400, 7 * 86400, 5, 5
maxdur = db.execute("SELECT MAX(end90k - start90k) FROM event").fetchone()[0]
sql = ("SELECT id, bytes, start90k + wall_duration90k, start90k FROM recording r WHERE camera_id = ?1 "
       "AND (?2 < 0 OR dir_id = ?2) AND open = 0 AND frames > 0 AND start90k >= ?4 "
       "AND start90k < ?5 AND NOT " + LOCKED + " AND " + KEPT + " = ?8 ORDER BY start90k, id LIMIT 10000")
params = {'1': cam, '2': -1, '3': int(time.time() * 1e9), '4': -2**63, '5': 2**63 - 1, '6': 1, '7': now - er * 90000,
          '8': 0, '9': cam, '10': pre * 90000, '11': post * 90000, '12': maxdur, '13': now}
# steady state: the non-kept old recordings are gone already
ids = []
while True:
    batch = []
    for row in db.execute(sql, params):
        if row[2] < now - rs * 90000: batch.append(row[0])
        else: break
    if not batch: break
    ids += batch
    with db:
        db.executemany("DELETE FROM recording WHERE id = ?", [(i,) for i in batch])
left = db.execute("SELECT COUNT(*) FROM recording WHERE start90k + wall_duration90k < ?", (now - rs * 90000,)).fetchone()[0]
for _ in range(3):
    t = time.time(); n = 0
    pa = dict(params); pa['5'] = now - er * 90000; pa['12'] = maxdur + 20 * M
    for row in db.execute(sql, pa): n += 1
    pb = dict(params); pb['4'] = now - rs * 90000 - 70 * M; pb['12'] = maxdur + 20 * M
    for row in db.execute(sql, pb):
        n += 1
        if row[2] >= now - rs * 90000: break
    print(f"between full passes (two ranges): {1000*(time.time()-t):.1f} ms, {n} rows")
for _ in range(3):
    t = time.time(); n = 0
    for row in db.execute(sql, params):
        n += 1
        if row[2] >= now - rs * 90000: break
    print(f"{days} days, {evday} events/day: deleted {len(ids)} non-event old recordings, {left} event recordings older than 7 days left; one pass: {1000*(time.time()-t):.1f} ms")
subprocess.run(["rm", "-rf", tmp])
