#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes the seed corpora in fuzz/corpus/<target>/ (seed-* files; files the
fuzzers found are named otherwise and kept). Seeds are small real inputs:
RTSP replies and interleaved RTP captured from reel-sim serving the clips in
tests/data (H.264 and H.265, with and without Digest auth), the test clips
packetised here as RFC 6184/7798 packets (single NAL, STAP-A/AP, FU-A/FU),
RTP audio packets made here (AAC-hbr, G.711, Opus, and hostile ones), index
blobs, MP4 frame lists, and hand-written oddities in the spirit of
CAMERA-QUIRKS.md. Deterministic apart from what reel-sim randomises
(nonces, SSRC, first sequence number and timestamp).

usage: fuzz/make-seeds.py PATH/TO/reel-sim
"""
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
DATA = os.path.join(ROOT, "tests", "data")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def rec(b):
    """One length-prefixed record (fuzz.h)."""
    return struct.pack(">H", len(b)) + b


# ---------------------------------------------------------------- Annex-B

def nals(stream):
    out, i, n = [], 0, len(stream)
    starts = []
    while i + 3 <= n:
        if stream[i] == 0 and stream[i + 1] == 0 and stream[i + 2] == 1:
            starts.append(i + 3)
            i += 3
        else:
            i += 1
    for k, s in enumerate(starts):
        e = starts[k + 1] - 3 if k + 1 < len(starts) else n
        nal = stream[s:e].rstrip(b"\0")
        if nal:
            out.append(nal)
    return out


def aus(nal_list, h265):
    """Groups NALs into access units (a VCL NAL with first slice flag set
    after a VCL NAL starts a new one, as do parameter sets)."""
    res, cur, seen_vcl = [], [], False
    for nal in nal_list:
        if h265:
            t = (nal[0] >> 1) & 0x3f
            vcl = t < 32
            first = vcl and len(nal) > 2 and nal[2] & 0x80
            starts = t in (32, 33, 34, 35, 39)
        else:
            t = nal[0] & 0x1f
            vcl = 1 <= t <= 5
            first = vcl and len(nal) > 1 and nal[1] & 0x80
            starts = t in (6, 7, 8, 9)
        if seen_vcl and (starts or first):
            res.append(cur)
            cur, seen_vcl = [], False
        cur.append(nal)
        seen_vcl = seen_vcl or vcl
    if cur:
        res.append(cur)
    return res


def packetise(au_list, h265, mtu, aggregate, pt=96, seq=1000, ts=90000, ssrc=0x1234abcd):
    pkts = []
    for au in au_list:
        payloads = []
        small = []

        def flush_small():
            if not small:
                return
            if len(small) == 1 or not aggregate:
                payloads.extend(small)
            elif h265:
                payloads.append(bytes([48 << 1, 1]) + b"".join(struct.pack(">H", len(x)) + x for x in small))
            else:
                payloads.append(bytes([24]) + b"".join(struct.pack(">H", len(x)) + x for x in small))
            small.clear()

        for nal in au:
            if len(nal) <= mtu:
                if aggregate and sum(len(x) + 2 for x in small) + len(nal) + 3 > mtu:
                    flush_small()
                small.append(nal)
                continue
            flush_small()
            if h265:
                t = (nal[0] >> 1) & 0x3f
                hdr = bytes([(nal[0] & 0x81) | (49 << 1), nal[1]])
                body = nal[2:]
                step = mtu - 3
                for off in range(0, len(body), step):
                    fu = (0x80 if off == 0 else 0) | (0x40 if off + step >= len(body) else 0) | t
                    payloads.append(hdr + bytes([fu]) + body[off:off + step])
            else:
                ind = (nal[0] & 0xe0) | 28
                t = nal[0] & 0x1f
                body = nal[1:]
                step = mtu - 2
                for off in range(0, len(body), step):
                    fu = (0x80 if off == 0 else 0) | (0x40 if off + step >= len(body) else 0) | t
                    payloads.append(bytes([ind, fu]) + body[off:off + step])
        flush_small()
        for k, p in enumerate(payloads):
            m = 0x80 if k == len(payloads) - 1 else 0
            pkts.append(struct.pack(">BBHII", 0x80, m | pt, seq & 0xffff, ts & 0xffffffff, ssrc) + p)
            seq += 1
        ts += 3000
    return pkts


def depack_input(flags, pkts, sprop=None, cap=6000):
    b = bytes([flags])
    if sprop is not None:
        b += rec(sprop)
    for p in pkts:
        if len(b) + len(p) + 2 > cap:
            break
        b += rec(p)
    return b


# ---------------------------------------------------------------- RTSP capture

def rtsp_session(port, path, user=None, password=None, media_bytes=3000):
    """Runs OPTIONS/DESCRIBE/SETUP/PLAY against reel-sim over TCP; returns
    the list of raw replies (bytes) and the interleaved bytes after PLAY."""
    import hashlib
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    buf = b""
    replies = []
    cseq = [0]
    url = f"rtsp://127.0.0.1:{port}{path}"

    def read_reply():
        nonlocal buf
        while True:
            i = buf.find(b"\r\n\r\n")
            if buf.startswith(b"RTSP/") and i >= 0:
                head = buf[:i + 4]
                cl = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        cl = int(line.split(b":")[1])
                if len(buf) >= i + 4 + cl:
                    r = buf[:i + 4 + cl]
                    buf = buf[i + 4 + cl:]
                    return r
            if buf.startswith(b"$") and len(buf) >= 4:
                n = struct.unpack(">H", buf[2:4])[0]
                if len(buf) >= 4 + n:
                    buf = buf[4 + n:]
                    continue
            d = s.recv(65536)
            if not d:
                raise IOError("closed")
            buf += d

    auth = [None]

    def req(method, u, extra=""):
        cseq[0] += 1
        a = ""
        if auth[0]:
            realm, nonce = auth[0]
            ha1 = hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()
            ha2 = hashlib.md5(f"{method}:{u}".encode()).hexdigest()
            resp = hashlib.md5(f"{ha1}:{nonce}:{ha2}".encode()).hexdigest()
            a = (f'Authorization: Digest username="{user}", realm="{realm}", nonce="{nonce}", '
                 f'uri="{u}", response="{resp}"\r\n')
        s.sendall(f"{method} {u} RTSP/1.0\r\nCSeq: {cseq[0]}\r\nUser-Agent: Reel/0.1\r\n{a}{extra}\r\n".encode())
        r = read_reply()
        replies.append(r)
        if b" 401 " in r.split(b"\r\n")[0] and user and not auth[0]:
            line = [x for x in r.split(b"\r\n") if x.lower().startswith(b"www-authenticate")][0].decode()
            realm = line.split('realm="')[1].split('"')[0]
            nonce = line.split('nonce="')[1].split('"')[0]
            auth[0] = (realm, nonce)
            return req(method, u, extra)
        return r

    req("OPTIONS", url)
    req("DESCRIBE", url, "Accept: application/sdp\r\n")
    r = req("SETUP", url + "/trackID=0", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n")
    sess = [x for x in r.split(b"\r\n") if x.lower().startswith(b"session:")][0].split(b":", 1)[1]
    sess = sess.strip().split(b";")[0].decode()
    req("PLAY", url + "/", f"Session: {sess}\r\nRange: npt=0.000-\r\n")
    media = buf
    while len(media) < media_bytes:
        d = s.recv(65536)
        if not d:
            break
        media += d
    s.close()
    return replies, media


def interleaved_packets(media):
    pkts, i = [], 0
    while i + 4 <= len(media) and media[i] == 0x24:
        n = struct.unpack(">H", media[i + 2:i + 4])[0]
        if i + 4 + n > len(media):
            break
        if media[i + 1] == 0:
            pkts.append(media[i + 4:i + 4 + n])
        i += 4 + n
    return pkts


def capture(sim):
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for codec, clip in (("h264", "clip320x180.264"), ("h265", "clip320x180.265")):
            for auth in (False, True):
                ready = os.path.join(tmp, f"{codec}{auth}.ready")
                args = [sim, "--clip", os.path.join(DATA, clip), "--codec", codec, "--port", "0",
                        "--listen", "127.0.0.1", "--ready-file", ready]
                if auth:
                    args += ["--user", "admin", "--password", "secret"]
                p = subprocess.Popen(args, stderr=subprocess.DEVNULL)
                try:
                    for _ in range(100):
                        if os.path.exists(ready):
                            break
                        time.sleep(0.05)
                    port = int(open(ready).read().strip())
                    out[(codec, auth)] = rtsp_session(port, "/cam/0", "admin" if auth else None,
                                                      "secret" if auth else None)
                finally:
                    p.terminate()
                    p.wait()
    return out


# ---------------------------------------------------------------- hand-written

QUIRK_SDPS = {
    "no-o-line": "v=0\r\ns=Session\r\ns=Second\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\n"
                 "a=rtpmap:96 H264/90000\r\na=fmtp:96\r\na=control:track1\r\n",
    "fmtp-before-rtpmap": "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=x \r\nt=0 0\r\na=control:*\r\n"
                          "m=video 0 RTP/AVP 96\r\na=fmtp:96 packetization-mode=1;profile-level-id=000001;"
                          "sprop-parameter-sets=Z0IAKeKQFAe2AtwEBAaQeJEV,aM48gA==;\r\n"
                          "a=rtpmap:96 H264/90000\r\na=control:rtsp://10.0.0.1/av0_0/track0\r\n"
                          "m=audio 0 RTP/AVP 0\r\na=control:track2\r\n",
    "h265-sprops": "v=0\r\ns=-\r\nm=video 0 RTP/AVP 98\r\na=rtpmap:98 H265/90000\r\n"
                   "a=fmtp:98 sprop-vps=QAEMAf//AWAAAAMAkAAAAwAAAwBdlZgJ;sprop-sps=QgEBAWAAAAMAkAAAAwAAAwBdoAKAgC0WWVmkkyvAQEAAAAMAQAAABkI=;"
                   "sprop-pps=RAHBcrRiQA==\r\na=control:trackID=1\r\n",
    "h265-missing-pps": "v=0\r\ns=-\r\nm=video 0 RTP/AVP 98\r\na=rtpmap:98 H265/90000\r\n"
                        "a=fmtp:98 sprop-vps=QAEMAf//AWAAAAMAkAAAAwAAAwBdlZgJ;sprop-sps=QgEB\r\n",
    "sprop-annexb-garbage": "v=0\r\ns=-\r\nm=video 554 RTP/AVP 96 97\r\na=rtpmap:97 H264/90000\r\n"
                            "a=fmtp:97 sprop-parameter-sets=AAAAAWdCACk=,AAAAAWjOPIA=,!!!,;packetization-mode=0\r\n"
                            "m=application 0 RTP/AVP 107\r\na=rtpmap:107 vnd.onvif.metadata/90000\r\n",
    "audio-aac-hbr": "v=0\r\ns=-\r\na=control:*\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
                     "a=control:stream=0\r\nm=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/16000/1\r\n"
                     "a=fmtp:97 streamtype=5;profile-level-id=2;mode=AAC-hbr;config=1408;sizelength=13;"
                     "indexlength=3;indexdeltalength=3\r\na=control:stream=1\r\n",
    "audio-pcmu-pcma-static": "v=0\r\ns=-\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
                              "m=audio 0 RTP/AVP 8 0\r\na=control:trackID=2\r\n",
    "audio-opus": "v=0\r\ns=-\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H265/90000\r\n"
                  "m=audio 0 RTP/AVP 111\r\na=rtpmap:111 OPUS/48000/2\r\na=fmtp:111 sprop-stereo=1\r\n",
    "audio-latm": "v=0\r\ns=-\r\nm=audio 0 RTP/AVP 98\r\na=rtpmap:98 MP4A-LATM/16000/1\r\n"
                  "a=fmtp:98 profile-level-id=15;object=2;cpresent=0;config=400028103FC0\r\n",
    "audio-aac-bad": "v=0\r\ns=-\r\nm=audio 0 RTP/AVP 97 98\r\na=rtpmap:97 mpeg4-generic/48000/2\r\n"
                     "a=fmtp:97 mode=AAC-hbr;config=11;sizelength=99;indexlength=-1;indexdeltalength=3\r\n"
                     "a=rtpmap:98 mpeg4-generic/0/300\r\na=fmtp:98 mode=AAC-hbr;config=" + "ab" * 80 + "\r\n",
    "static-pt-and-long": "v=0\n s=x\nm=video 0 RTP/AVP 26\nm=video x RTP/AVP\nm=audio 0 RTP/AVP 0 8 97\n"
                          "a=rtpmap:97 MPEG4-GENERIC/16000/1\na=fmtp:97 streamtype=5;config=1408\n"
                          "a=tool:LIVE555 Streaming Media v2013.04.08\n",
}

QUIRK_AUTH = [
    'Digest realm="IP Camera(12345)", nonce="0a4f113b", stale="FALSE"',
    'Digest realm="Login to 3K", qop="auth", nonce="abc123", opaque="xyz", algorithm=SHA-256, '
    'Digest realm="Login to 3K", qop="auth", nonce="abc123", opaque="xyz", algorithm=MD5',
    'Basic realm="TP-LINK"',
    'Digest realm="a\\"b", nonce="n", qop="auth-int", algorithm=MD5-sess',
    'Digest realm="axis", nonce="00b5e1b7Y", stale=TRUE, qop="auth,auth-int"\nBasic realm="axis"',
    'Bearer realm="x", Digest realm=unquoted, nonce=tok, , ,',
]

QUIRK_TRANSPORT = [
    "RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=1A2B3C4D;mode=\"PLAY\"",
    "RTP/AVP;unicast;client_port=40000-40001;server_port=6970-6971;source=127.0.0.1;ssrc=0",
    "RTP/AVP;unicast;interleaved=2-3",
    "RTP/AVP;multicast;destination=239.0.0.1;port=5000-5001;ttl=1,RTP/AVP/TCP;interleaved=0-1",
    "url=rtsp://10.0.0.1/trackID=1;seq=0;rtptime=-1;, url=track2;seq=65535;rtptime=4294967295",
    "url=rtsp://x/a;seq=17;rtptime=123;",
    "12345678;timeout=60",
    "A1B2C3D4E5F6; timeout = 0",
]

QUIRK_URLS = [
    "rtsp://admin:p%40ss@192.168.1.20:554/Streaming/Channels/101?transportmode=unicast",
    "rtsp://rtsp://10.0.0.1/live",
    "rtsp://[fe80::1]:8554/cam/0",
    "RTSP://host.example/",
    "rtsp://user@host:0/x",
    "rtsp://h:65536/x",
    "rtsp://[::1/x",
    "10.0.0.1/av0_0/",
    "/av0_0",
    "*",
]

QUIRK_MSGS = [
    # RTCP before the PLAY reply, reply and frame in one segment, a request from the server
    b"$\x01\x00\x08\x80\xc8\x00\x06\x00\x00\x00\x01RTSP/1.0 200 OK\r\nCSeq: 4\r\nSession: 1234;timeout=60\r\n"
    b"RTP-Info: url=rtsp://127.0.0.1/cam/0/trackID=0;seq=1;rtptime=0\r\n\r\n"
    b"$\x00\x00\x0e\x80\xe0\x00\x01\x00\x00\x00\x00\x12\x34\x56\x78\x65\x88",
    b"GET_PARAMETER rtsp://127.0.0.1/ RTSP/1.0\r\nCSeq: 9\r\nContent-Length: 0\r\n\r\n"
    b"garbage\xff\xfe$\x07\x00\x04abcdRTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\n"
    b"WWW-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\nWWW-Authenticate: Basic realm=\"r\"\r\n"
    b"X-Folded: a\r\n  continued\r\n\r\n",
    b"RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Length: 99999999999999999999\r\n\r\n",
    b"RTSP/1.0 301 Moved\r\nCSeq: 1\r\nLocation: rtsp://10.0.0.2/other\r\n\r\n",
]


def index_blob(frames):
    def zz(v):
        return (v << 1) ^ (v >> 63) if v >= 0 else ((-v) << 1) - 1

    def varint(v):
        out = bytearray()
        while True:
            b = v & 0x7f
            v >>= 7
            out.append(b | (0x80 if v else 0))
            if not v:
                return bytes(out)
    out, pd, ps = bytearray(), 0, [0, 0]
    for size, dur, key in frames:
        k = 1 if key else 0
        out += varint(zz(dur - pd) << 1 | k)
        out += varint(zz(size - ps[k]))
        pd, ps[k] = dur, size
    return struct.pack(">H", len(frames)) + bytes(out)


def mp4_input(trim_s, trim_e, created, frames):
    b = struct.pack(">HHi", trim_s, trim_e, created)
    for size, dur, flags in frames:
        b += struct.pack(">I", size - 1)[1:] + struct.pack(">HB", dur, flags)
    return b


def recovery_rec(frames, open_=False, cam2=False, dir2=False, shape=3, amount=0, step=0, raw_index=None,
                 raw_content=None, o_frames=None, o_bytes=None, o_media=None):
    """One recording of a fuzz_recovery input (see read_rec in fuzz_recovery.c):
    frames are (size_byte, dur_byte) pairs; shape 0 exact/longer, 1 torn,
    2 absent/directory, 3 exact; amount 0-63 (x5 bytes)."""
    f = (open_ and 1) | (cam2 and 2) | (dir2 and 4) | (raw_index is not None and 8) | \
        (raw_content is not None and 16) | (o_bytes is not None and 32) | (o_media is not None and 64) | \
        (o_frames is not None and 128)
    out = bytes([f, (amount << 2 | shape) & 0xff, step, len(frames)])
    for a, b in frames:
        out += bytes([a, b])
        size = a + (0 if b & 1 else 40)
        if raw_content is not None or size < 5:
            out += (raw_content or b"")[:size].ljust(size, b"\0")
    if raw_index is not None:
        out += bytes([len(raw_index)]) + raw_index
    for v in (o_frames, o_bytes, o_media):
        if v is not None:
            out += struct.pack(">q", v)
    if shape == 0 and amount & 1:
        out += bytes(range(amount * 5 % 256))[: amount * 5].ljust(amount * 5, b"\xee")
    return out


def recovery_input(recs, dir2_row=False, dir2_ok=False, garbage=(), strays=False, stray_bytes=b""):
    """A whole fuzz_recovery input: header byte, recordings, garbage rows
    (flags, id), stray files (flags, id)."""
    h = (dir2_row and 1) | (dir2_ok and 2) | ((len(recs) - 1) << 2) | (len(garbage) << 5) | (strays and 128)
    out = bytes([h]) + b"".join(recs)
    for flags, rid in garbage:
        out += bytes([flags, rid])
    return out + stray_bytes


def recovery_seeds():
    gop = [(200, 60)] + [(60, 60)] * 7          # a key frame then P frames, 3000 ticks each
    put("recovery", "closed-clean", recovery_input([recovery_rec(gop), recovery_rec(gop, cam2=True)]))
    put("recovery", "open-unsynced-tail", recovery_input([recovery_rec(gop), recovery_rec(gop, open_=True, shape=0,
                                                                                          amount=21)]))
    put("recovery", "open-empty-spare", recovery_input([recovery_rec(gop), recovery_rec([], open_=True, shape=0,
                                                                                         amount=9)]))
    put("recovery", "torn-and-missing", recovery_input([recovery_rec(gop, shape=1, amount=3),
                                                        recovery_rec(gop, shape=2), recovery_rec(gop)]))
    put("recovery", "directory-in-place", recovery_input([recovery_rec(gop, shape=2, amount=1),
                                                          recovery_rec([], open_=True, shape=2, amount=1)]))
    put("recovery", "bad-index-and-sums", recovery_input([
        recovery_rec(gop, raw_index=b"\x80\x80\x00\x01\x02"), recovery_rec(gop, o_bytes=1 << 40),
        recovery_rec(gop, o_media=-5), recovery_rec(gop, o_frames=-1), recovery_rec(gop, o_frames=1 << 32),
        recovery_rec(gop, o_bytes=-100)]))
    put("recovery", "raw-content", recovery_input([recovery_rec([(3, 61), (9, 61)], raw_content=b"\0\0\0\5abcdefghijkl")]))
    put("recovery", "second-disk", recovery_input([recovery_rec(gop, dir2=True), recovery_rec(gop, dir2=True,
                                                   open_=True, shape=0, amount=5)], dir2_row=True, dir2_ok=True))
    put("recovery", "second-disk-unmounted", recovery_input([recovery_rec(gop, dir2=True, open_=True),
                                                             recovery_rec([], dir2=True, open_=True),
                                                             recovery_rec(gop)], dir2_row=True))
    put("recovery", "garbage-and-strays", recovery_input(
        [recovery_rec(gop), recovery_rec(gop, step=3)], garbage=[(4, 40), (0, 41), (6, 2)], strays=True,
        stray_bytes=bytes([4, 77, 6, 1, 8 | 2, 0])))


def rtp_pkt(pt, seq, ts, payload, marker=True, ssrc=0x51a0c0de):
    return struct.pack(">BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xffff, ts & 0xffffffff,
                       ssrc) + payload


def aac_hbr(aus, deltas=None, size_override=None):
    """RFC 3640 AAC-hbr payload: 16-bit AU headers (13-bit size, 3-bit
    index/delta) then the AUs."""
    hdr = b"".join(struct.pack(">H", ((size_override or len(a)) << 3) | ((deltas or [0] * len(aus))[i] & 7))
                   for i, a in enumerate(aus))
    return struct.pack(">H", 16 * len(aus)) + hdr + b"".join(aus)


def audio_seeds():
    """Seeds for depack_audio (flags byte, then records; see its header)."""
    au = lambda n, b: bytes((b + i) & 0xff for i in range(n))
    # AAC: single AUs, three in a packet, an index delta, a 1500-byte AU in three fragments
    pk = [rtp_pkt(96, 1, 0, aac_hbr([au(170, 1)])),
          rtp_pkt(96, 2, 1024, aac_hbr([au(10, 2), au(20, 3), au(5, 4)])),
          rtp_pkt(96, 3, 4096, aac_hbr([au(8, 5), au(8, 6)], deltas=[0, 1]))]
    big = au(1500, 7)
    pk += [rtp_pkt(96, 4, 8192, aac_hbr([big[:600]], size_override=1500), marker=False),
           rtp_pkt(96, 5, 8192, aac_hbr([big[600:1200]], size_override=1500), marker=False),
           rtp_pkt(96, 6, 8192, aac_hbr([big[1200:]], size_override=1500))]
    put("depack_audio", "aac-hbr", bytes([0x10]) + b"".join(rec(p) for p in pk))
    # AAC hostile: headers longer than the packet, zero sizes, a fragment over the cap, a gap
    pk = [rtp_pkt(96, 1, 0, b"\xff\xf0\x00\x50abc"),
          rtp_pkt(96, 2, 1024, aac_hbr([b"", b""])),
          rtp_pkt(96, 3, 2048, aac_hbr([au(300, 0)], size_override=4000), marker=False),
          rtp_pkt(96, 5, 2048, aac_hbr([au(300, 0)], size_override=4000)),
          rtp_pkt(96, 6, 3072, struct.pack(">H", 16 * 100) + bytes(200))]
    put("depack_audio", "aac-hostile-smallcap", bytes([0x14]) + b"".join(rec(p) for p in pk))
    # AAC with explicit field widths and an HE-AAC config, 48 kHz stereo (ASC 0x11 0x90)
    put("depack_audio", "aac-widths", bytes([0x38]) + rec(bytes([13, 3, 3, 0x11, 0x90])) +
        rec(rtp_pkt(96, 9, 0, aac_hbr([au(300, 9)]))))
    # G.711: 20 ms packets across the RTP timestamp wrap, a duplicate, an empty one
    for codec, flags, fill in (("pcmu", 0x01, 0xff), ("pcma", 0x02, 0xd5)):
        ts0 = 0xffffffff - 320 + 1
        pk = [rtp_pkt(96, 65534 + i, ts0 + 160 * i, bytes([fill]) * 160, marker=(i == 0)) for i in range(4)]
        pk += [pk[-1], rtp_pkt(96, 2, ts0 + 640, b"")]
        put("depack_audio", f"{codec}-wrap", bytes([flags]) + b"".join(rec(p) for p in pk))
    # Opus: 20 ms packets at 48 kHz, an SSRC change
    pk = [rtp_pkt(96, 100 + i, 960 * i, bytes([0xfc, 0xff, 0xfe])) for i in range(3)]
    pk.append(rtp_pkt(96, 7, 123456, bytes([0x78, 1, 2, 3]), ssrc=0x1234))
    put("depack_audio", "opus", bytes([0x33]) + b"".join(rec(p) for p in pk))
    # A client session with audio (TCP, flag bit 2): video and AAC audio SETUP, PLAY, frames on 0 and 2
    sdp = QUIRK_SDPS["audio-aac-hbr"].encode()
    replies = [b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER\r\n\r\n",
               b"RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Base: rtsp://127.0.0.1/cam/\r\n"
               b"Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n" % len(sdp) + sdp,
               b"RTSP/1.0 200 OK\r\nCSeq: 3\r\nSession: s1;timeout=60\r\n"
               b"Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n",
               b"RTSP/1.0 200 OK\r\nCSeq: 4\r\nSession: s1\r\nTransport: RTP/AVP/TCP;unicast;interleaved=2-3\r\n\r\n",
               b"RTSP/1.0 200 OK\r\nCSeq: 5\r\nSession: s1\r\n"
               b"RTP-Info: url=rtsp://127.0.0.1/cam/stream=0;seq=1,url=rtsp://127.0.0.1/cam/stream=1;seq=1\r\n\r\n"]
    a = rtp_pkt(97, 1, 0, aac_hbr([au(20, 1)]))
    frames = b"$\x02" + struct.pack(">H", len(a)) + a + b"$\x00\x00\x0c" + rtp_pkt(96, 1, 0, b"")
    put("rtsp_client", "audio-aac-tcp", bytes([4]) + b"".join(rec(r) for r in replies) + rec(frames))


def camera_body_seeds():
    """The camera configuration body (POST/PATCH /api/cameras): valid bodies
    of every field, and each way one is refused."""
    t = "camera_body"
    put(t, "add-minimal", '{"name":"front","url":"rtsp://192.0.2.10:554/stream1"}')
    put(t, "add-all", '{"name":"yard_2","url":"rtsps://cam.example/h264?ch=1","user":"viewer",'
        '"password":"s3cr\\u00e9t \\"x\\"","udp":true,"retain_bytes":1073741824,"retain_seconds":604800,'
        '"storage":2,"enabled":false}')
    put(t, "patch-some", '{"udp":false,"retain_seconds":0}')
    put(t, "bad-url-userinfo", '{"url":"rtsp://admin:pw@192.0.2.1/"}')
    put(t, "bad-url-scheme-space", '{"url":"http://a b/"}')
    put(t, "bad-name", '{"name":"../etc"}')
    put(t, "bad-user-colon", '{"user":"a:b","password":"\\u0000x"}')
    put(t, "bad-types", '{"udp":1,"retain_bytes":-1,"storage":1.5,"enabled":null}')
    put(t, "unknown-and-dup", '{"password":"pw","colour":"red","password":"pw2"}')
    put(t, "long-password", '{"password":"' + "p" * 300 + '"}')
    put(t, "not-object", '["name","url"]')
    put(t, "truncated", '{"name":"front","url":"rtsp://')


def grid_blob(secs):
    """A motion grid minute (src/motion/grid.h): secs = {second: {cell: level}}."""
    recs, allbits = b"", bytearray(32)
    for s in sorted(secs):
        bits = bytearray(32)
        for c in secs[s]:
            bits[c // 8] |= 1 << (c % 8)
            allbits[c // 8] |= 1 << (c % 8)
        recs += bytes([s]) + bytes(bits) + bytes(secs[s][c] for c in sorted(secs[s]))
    return bytes([1, len(secs)]) + bytes(allbits) + recs


def grid_seeds():
    """motion_grid: 32-byte region, min_cells, min_level, second, blob."""
    door = bytearray(32)
    for y in range(8, 16):
        door[(y * 16) // 8] |= 0x0f
    some = grid_blob({3: {16 * 9 + 1: 40, 16 * 9 + 2: 200}, 4: {16 * 10 + 2: 9}, 59: {255: 255}})
    put("motion_grid", "door-some", bytes(door) + bytes([1, 1, 3]) + some)
    put("motion_grid", "door-level", bytes(door) + bytes([2, 50, 4]) + some)
    full = grid_blob({s: {c: 1 + (s + c) % 255 for c in range(256)} for s in range(60)})
    put("motion_grid", "full-minute", b"\xff" * 32 + bytes([200, 100, 59]) + full)
    put("motion_grid", "bad-or", bytes(door) + bytes([1, 1, 3]) + some[:2] + b"\0" * 32 + some[34:])
    put("motion_grid", "truncated", bytes(door) + bytes([1, 1, 3]) + some[:-1])


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sim = sys.argv[1]
    caps = capture(sim)
    h264 = open(os.path.join(DATA, "clip320x180.264"), "rb").read()
    h265 = open(os.path.join(DATA, "clip320x180.265"), "rb").read()
    n264, n265 = nals(h264), nals(h265)
    a264, a265 = aus(n264, False), aus(n265, True)

    for (codec, auth), (replies, media) in caps.items():
        tag = f"{codec}{'-auth' if auth else ''}"
        stream = b"".join(replies) + media[:2000]
        put("rtsp_msg", f"sim-{tag}", stream)
        put("rtsp_client", f"sim-{tag}-tcp", bytes([2 if auth else 0]) +
            b"".join(rec(r) for r in replies) + rec(media[:1500]))
        put("rtsp_client", f"sim-{tag}-udp", bytes([3 if auth else 1]) + b"".join(rec(r) for r in replies))
        for r in replies:
            if b"application/sdp" in r:
                put("sdp", f"sim-{tag}", r[r.index(b"\r\n\r\n") + 4:])
            for line in r.split(b"\r\n"):
                k, _, v = line.partition(b":")
                v = v.strip()
                if k.lower() == b"www-authenticate":
                    put("rtsp_auth", f"sim-{tag}", v)
                if k.lower() in (b"transport", b"rtp-info", b"session"):
                    put("rtsp_transport", f"sim-{tag}-{k.lower().decode()}", v)
                if k.lower() == b"content-base":
                    put("rtsp_url", f"sim-{tag}", v)
        pkts = interleaved_packets(media)
        if pkts:
            put("rtp", f"sim-{tag}", pkts[0])
            if not auth:
                put(f"depack_{codec}", "sim", depack_input(4, pkts))

    for i, m in enumerate(QUIRK_MSGS):
        put("rtsp_msg", f"quirk-{i}", m)
        put("rtsp_client", f"quirk-{i}", b"\0" + rec(m))
    for k, v in QUIRK_SDPS.items():
        put("sdp", f"quirk-{k}", v)
    audio_seeds()
    for i, v in enumerate(QUIRK_AUTH):
        put("rtsp_auth", f"quirk-{i}", v)
    for i, v in enumerate(QUIRK_TRANSPORT):
        put("rtsp_transport", f"quirk-{i}", v)
    for i, v in enumerate(QUIRK_URLS):
        put("rtsp_url", f"quirk-{i}", v)
    put("rtp", "csrc-ext-pad", bytes([0xb1, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4,
                                      0xbe, 0xde, 0, 1, 1, 2, 3, 4, 0x65, 0x88, 0, 2]))

    # Depacketiser seeds: the clips packetised here (sim only does single NAL + FU).
    for codec, al, h265 in (("h264", a264, False), ("h265", a265, True)):
        ps = [n for n in al[0] if ((n[0] >> 1) & 0x3f if h265 else n[0] & 0x1f) in ((32, 33, 34) if h265 else (7, 8))]
        sprop = b"".join(b"\0\0\0\1" + n for n in ps)
        put(f"depack_{codec}", "stap-mtu1400", depack_input(4, packetise(al[:4], h265, 1400, True)))
        put(f"depack_{codec}", "fu-mtu200-sprop", depack_input(5, packetise(al[:3], h265, 200, False), sprop))
        put(f"depack_{codec}", "small-cap", depack_input(6, packetise(al[:3], h265, 600, True)))
        p = packetise(al[:4], h265, 300, True)
        # loss, duplicate, reorder and a foreign SSRC
        odd = [p[0], p[2], p[2], p[1]] + [x[:8] + b"\x99\x99\x99\x99" + x[12:] for x in p[3:6]] + p[6:]
        put(f"depack_{codec}", "loss-reorder-ssrc", depack_input(4, odd))
        # reordered inside blocks of 4 (each block reversed), with a reorder window of 4
        q = packetise(al[:3], h265, 200, False)
        shuffled = [x for k in range(0, len(q), 4) for x in reversed(q[k:k + 4])]
        put(f"depack_{codec}", "reorder-window4", depack_input(5 | 8 | 1 << 4, shuffled, sprop))
        put("codec", f"{codec}-params", bytes([1 if h265 else 0]) + sprop)
        put("codec", f"{codec}-first-au", bytes([1 if h265 else 0]) +
            b"".join(b"\0\0\0\1" + n for n in al[0])[:3000])

    grid_seeds()
    put("index", "empty", b"\0\0")
    put("index", "steady-30fps", index_blob([(5000 if i % 60 == 0 else 800 + i, 3000, i % 60 == 0)
                                             for i in range(120)]))
    put("index", "odd-durations", index_blob([(1, 0, True), (4294967295, 2147483647, False),
                                              (7, 1, True), (0, 3003, False)]))
    put("mp4", "one-seg", mp4_input(0, 0, 1700000000, [(5000, 3000, 1)] + [(800, 3000, 0)] * 29))
    put("mp4", "two-entries-trims", mp4_input(1500, 1000, -5, [(5000, 3000, 1), (700, 3000, 0),
                                                              (4000, 3003, 1 | 2 | 4), (600, 2997, 0),
                                                              (4000, 3000, 1 | 2 | 8), (100, 0, 0)]))
    recovery_seeds()
    camera_body_seeds()
    print("seeds written to", CORPUS)


if __name__ == "__main__":
    main()
