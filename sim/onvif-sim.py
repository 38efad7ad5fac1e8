#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""An ONVIF device simulator for Reel's tests (issue 15), Python 3 stdlib only.

- WS-Discovery responder: joins 239.255.255.250 on UDP 3702 and answers a
  Probe (for NetworkVideoTransmitter, or any type) with a ProbeMatch to the
  sender, RelatesTo its MessageID; XAddrs use --xaddr-host (default 0.0.0.0,
  which a client must rewrite to our address).
- Device service (/onvif/device_service): GetSystemDateAndTime (no
  credentials, our clock shifted by --skew-s), GetCapabilities, GetServices,
  GetDeviceInformation.
- Media service (/onvif/media_service): GetProfiles (main and sub, pointing
  at --rtsp-main / --rtsp-sub), GetStreamUri.
- Events service (/onvif/events_service): CreatePullPointSubscription,
  PullMessages (returns scripted motion from --motion, times in seconds after
  the first subscription), Renew, Unsubscribe on /onvif/subscription/N.
- WS-UsernameToken PasswordDigest checked on every call but the time
  (Created must be within 60 s of our shifted clock): a wrong password or a
  stale Created answers a SOAP fault ter:NotAuthorized (HTTP 400).
- Misbehaviour: --never-off (drop "off" notes), --refuse-renew-once, --slow-ms,
  --zero-hosts (service addresses on 0.0.0.0, as some cameras report).

Prints "READY port=N" on stdout when listening; --log FILE gets one JSON
line per request ({"op": ..., "auth": "ok"|"bad"|"none"}).
"""
import argparse
import base64
import hashlib
import http.server
import json
import socket
import socketserver
import struct
import sys
import threading
import time
import uuid
import xml.etree.ElementTree as ET

NS_S = "http://www.w3.org/2003/05/soap-envelope"
NS_WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
NS_WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
ENV = ('<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
       'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:trt="http://www.onvif.org/ver10/media/wsdl" '
       'xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:tev="http://www.onvif.org/ver10/events/wsdl" '
       'xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" xmlns:wsa="http://www.w3.org/2005/08/addressing" '
       'xmlns:ter="http://www.onvif.org/ver10/error" xmlns:tns1="http://www.onvif.org/ver10/topics">'
       '<s:Header/><s:Body>%s</s:Body></s:Envelope>')


def local(tag):
    return tag.rsplit('}', 1)[-1]


def iso(t):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(t))


def parse_iso(s):
    s = s.strip().rstrip('Z')
    frac = 0.0
    if '.' in s:
        s, f = s.split('.', 1)
        frac = float('0.' + ''.join(ch for ch in f if ch.isdigit()) or '0')
    import calendar
    return calendar.timegm(time.strptime(s, '%Y-%m-%dT%H:%M:%S')) + frac


class Device:
    def __init__(self, a):
        self.a = a
        self.lock = threading.Lock()
        self.script = []            # [(t, on)]
        for item in filter(None, (a.motion or '').split(',')):
            what, at = item.split('@')
            if what == 'off' and a.never_off:
                continue
            self.script.append((float(at), what == 'on'))
        self.first_sub = None
        self.delivered = 0
        self.subs = {}
        self.next_sub = 1
        self.renew_refused = False
        self.log = open(a.log, 'a', buffering=1) if a.log else None

    def now(self):
        return time.time() + self.a.skew_s

    def note(self, **kw):
        if self.log:
            self.log.write(json.dumps(kw) + '\n')

    def check_auth(self, root):
        tok = root.find('.//{%s}UsernameToken' % NS_WSSE)
        if tok is None:
            return 'none'
        user = tok.findtext('{%s}Username' % NS_WSSE) or ''
        pw = tok.find('{%s}Password' % NS_WSSE)
        nonce = tok.findtext('{%s}Nonce' % NS_WSSE) or ''
        created = tok.findtext('{%s}Created' % NS_WSU) or ''
        try:
            n = base64.b64decode(nonce)
            want = base64.b64encode(hashlib.sha1(n + created.encode() + self.a.password.encode()).digest()).decode()
            fresh = abs(parse_iso(created) - self.now()) <= 60
        except Exception:
            return 'bad'
        if user == self.a.user and pw is not None and (pw.text or '').strip() == want and fresh:
            return 'ok'
        return 'bad'


def fault(code, reason):
    return ('<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>%s</s:Value></s:Subcode></s:Code>'
            '<s:Reason><s:Text xml:lang="en">%s</s:Text></s:Reason></s:Fault>' % (code, reason))


def profile_xml(token, name, w, h, fps):
    return ('<trt:Profiles token="%s" fixed="true"><tt:Name>%s</tt:Name>'
            '<tt:VideoEncoderConfiguration token="vec_%s"><tt:Name>%s</tt:Name><tt:Encoding>H264</tt:Encoding>'
            '<tt:Resolution><tt:Width>%d</tt:Width><tt:Height>%d</tt:Height></tt:Resolution>'
            '<tt:RateControl><tt:FrameRateLimit>%d</tt:FrameRateLimit><tt:BitrateLimit>2048</tt:BitrateLimit>'
            '</tt:RateControl></tt:VideoEncoderConfiguration></trt:Profiles>' % (token, name, token, name, w, h, fps))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = (ENV % body).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/soap+xml; charset=utf-8')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        dev = self.server.dev
        n = int(self.headers.get('Content-Length') or 0)
        if n > 1 << 20:
            self.send_error(413)
            return
        raw = self.rfile.read(n)
        if dev.a.slow_ms:
            time.sleep(dev.a.slow_ms / 1000.0)
        try:
            root = ET.fromstring(raw)
            body = root.find('{%s}Body' % NS_S)
            op = local(body[0].tag)
        except Exception:
            self.reply(400, fault('ter:WellFormed', 'bad request'))
            return
        auth = dev.check_auth(root)
        dev.note(op=op, path=self.path, auth=auth)
        if op != 'GetSystemDateAndTime' and auth != 'ok':
            self.reply(400, fault('ter:NotAuthorized', 'Sender not Authorized'))
            return
        host = self.headers.get('Host') or '127.0.0.1'
        if dev.a.zero_hosts:   # as some cameras do: service addresses on 0.0.0.0
            host = '0.0.0.0:%d' % self.server.server_address[1]
        base = 'http://%s' % host
        h = getattr(self, 'op_' + op, None)
        if not h:
            self.reply(400, fault('ter:ActionNotSupported', op))
            return
        h(dev, body[0], base)

    # ---- device ----
    def op_GetSystemDateAndTime(self, dev, el, base):
        t = time.gmtime(dev.now())
        self.reply(200, '<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType>'
                   '<tt:DaylightSavings>false</tt:DaylightSavings><tt:UTCDateTime><tt:Time><tt:Hour>%d</tt:Hour>'
                   '<tt:Minute>%d</tt:Minute><tt:Second>%d</tt:Second></tt:Time><tt:Date><tt:Year>%d</tt:Year>'
                   '<tt:Month>%d</tt:Month><tt:Day>%d</tt:Day></tt:Date></tt:UTCDateTime></tds:SystemDateAndTime>'
                   '</tds:GetSystemDateAndTimeResponse>' % (t.tm_hour, t.tm_min, t.tm_sec, t.tm_year, t.tm_mon, t.tm_mday))

    def op_GetCapabilities(self, dev, el, base):
        self.reply(200, '<tds:GetCapabilitiesResponse><tds:Capabilities>'
                   '<tt:Device><tt:XAddr>%s/onvif/device_service</tt:XAddr></tt:Device>'
                   '<tt:Events><tt:XAddr>%s/onvif/events_service</tt:XAddr><tt:WSPullPointSupport>true'
                   '</tt:WSPullPointSupport></tt:Events>'
                   '<tt:Media><tt:XAddr>%s/onvif/media_service</tt:XAddr></tt:Media>'
                   '</tds:Capabilities></tds:GetCapabilitiesResponse>' % (base, base, base))

    def op_GetServices(self, dev, el, base):
        s = ''.join('<tds:Service><tds:Namespace>http://www.onvif.org/ver10/%s/wsdl</tds:Namespace>'
                    '<tds:XAddr>%s/onvif/%s_service</tds:XAddr><tds:Version><tt:Major>2</tt:Major><tt:Minor>60'
                    '</tt:Minor></tds:Version></tds:Service>' % (k, base, k) for k in ('device', 'media', 'events'))
        self.reply(200, '<tds:GetServicesResponse>%s</tds:GetServicesResponse>' % s)

    def op_GetDeviceInformation(self, dev, el, base):
        self.reply(200, '<tds:GetDeviceInformationResponse><tds:Manufacturer>Reel</tds:Manufacturer><tds:Model>%s'
                   '</tds:Model><tds:FirmwareVersion>1.0</tds:FirmwareVersion><tds:SerialNumber>SIM0001'
                   '</tds:SerialNumber><tds:HardwareId>%s</tds:HardwareId></tds:GetDeviceInformationResponse>'
                   % (dev.a.hardware, dev.a.hardware))

    # ---- media ----
    def op_GetProfiles(self, dev, el, base):
        p = profile_xml('main', 'mainStream', 1920, 1080, 25)
        if dev.a.rtsp_sub:
            p += profile_xml('sub', 'subStream', 640, 360, 10)
        self.reply(200, '<trt:GetProfilesResponse>%s</trt:GetProfilesResponse>' % p)

    def op_GetStreamUri(self, dev, el, base):
        tok = (el.findtext('.//{http://www.onvif.org/ver10/media/wsdl}ProfileToken') or '').strip()
        uri = {'main': dev.a.rtsp_main, 'sub': dev.a.rtsp_sub}.get(tok)
        if not uri:
            self.reply(400, fault('ter:InvalidArgVal', 'no such profile'))
            return
        self.reply(200, '<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>%s</tt:Uri><tt:InvalidAfterConnect>false'
                   '</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S'
                   '</tt:Timeout></trt:MediaUri></trt:GetStreamUriResponse>'
                   % uri.replace('&', '&amp;'))

    # ---- events ----
    def op_CreatePullPointSubscription(self, dev, el, base):
        with dev.lock:
            if dev.first_sub is None:
                dev.first_sub = time.time()
            sid = dev.next_sub
            dev.next_sub += 1
            dev.subs[sid] = time.time() + dev.a.term_s
        now = dev.now()
        self.reply(200, '<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference><wsa:Address>'
                   '%s/onvif/subscription/%d</wsa:Address></tev:SubscriptionReference><wsnt:CurrentTime>%s'
                   '</wsnt:CurrentTime><wsnt:TerminationTime>%s</wsnt:TerminationTime>'
                   '</tev:CreatePullPointSubscriptionResponse>' % (base, sid, iso(now), iso(now + dev.a.term_s)))

    def sub_id(self, dev):
        try:
            sid = int(self.path.rsplit('/', 1)[-1])
        except ValueError:
            return None
        with dev.lock:
            exp = dev.subs.get(sid)
        if exp is None or exp < time.time():
            return None
        return sid

    def op_PullMessages(self, dev, el, base):
        sid = self.sub_id(dev)
        if sid is None:
            self.reply(400, fault('ter:InvalidArgVal', 'no such subscription'))
            return
        t = (el.findtext('{http://www.onvif.org/ver10/events/wsdl}Timeout') or 'PT5S').strip()
        try:
            timeout = float(t[2:-1]) if t.startswith('PT') and t.endswith('S') else 5.0
        except ValueError:
            timeout = 5.0
        end = time.time() + min(timeout, 30)
        notes = []
        while True:
            with dev.lock:
                rel = time.time() - dev.first_sub
                while dev.delivered < len(dev.script) and dev.script[dev.delivered][0] <= rel:
                    notes.append(dev.script[dev.delivered])
                    dev.delivered += 1
            if notes or time.time() >= end:
                break
            time.sleep(0.05)
        now = dev.now()
        msgs = ''
        for i, (at, on) in enumerate(notes):
            if dev.a.topic == 'cell':
                topic, src, item = 'tns1:RuleEngine/CellMotionDetector/Motion', 'VideoSourceConfigurationToken', 'IsMotion'
            else:
                topic, src, item = 'tns1:VideoSource/MotionAlarm', 'Source', 'State'
            msgs += ('<wsnt:NotificationMessage><wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/'
                     'ConcreteSet">%s</wsnt:Topic><wsnt:Message><tt:Message UtcTime="%s" PropertyOperation="Changed">'
                     '<tt:Source><tt:SimpleItem Name="%s" Value="vs0"/></tt:Source><tt:Data>'
                     '<tt:SimpleItem Name="%s" Value="%s"/></tt:Data></tt:Message></wsnt:Message>'
                     '</wsnt:NotificationMessage>' % (topic, iso(now), src, item, 'true' if on else 'false'))
            dev.note(op='notify', on=on, at=at)
        self.reply(200, '<tev:PullMessagesResponse><tev:CurrentTime>%s</tev:CurrentTime><tev:TerminationTime>%s'
                   '</tev:TerminationTime>%s</tev:PullMessagesResponse>' % (iso(now), iso(now + dev.a.term_s), msgs))

    def op_Renew(self, dev, el, base):
        sid = self.sub_id(dev)
        if sid is None:
            self.reply(400, fault('ter:InvalidArgVal', 'no such subscription'))
            return
        if dev.a.refuse_renew_once and not dev.renew_refused:
            dev.renew_refused = True
            with dev.lock:
                dev.subs.pop(sid, None)
            dev.note(op='renew-refused')
            self.reply(400, fault('ter:InvalidArgVal', 'renew refused (simulated)'))
            return
        with dev.lock:
            dev.subs[sid] = time.time() + dev.a.term_s
        now = dev.now()
        self.reply(200, '<wsnt:RenewResponse><wsnt:TerminationTime>%s</wsnt:TerminationTime><wsnt:CurrentTime>%s'
                   '</wsnt:CurrentTime></wsnt:RenewResponse>' % (iso(now + dev.a.term_s), iso(now)))

    def op_Unsubscribe(self, dev, el, base):
        sid = self.sub_id(dev)
        with dev.lock:
            dev.subs.pop(sid, None)
        self.reply(200, '<wsnt:UnsubscribeResponse/>')


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def discovery(dev, http_port):
    a = dev.a
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('', 3702))
    mreq = struct.pack('4s4s', socket.inet_aton('239.255.255.250'), socket.inet_aton(a.mcast_if))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    urn = 'urn:uuid:%s' % uuid.uuid4()
    while True:
        data, peer = s.recvfrom(65535)
        try:
            root = ET.fromstring(data)
            body = root.find('{%s}Body' % NS_S)
            if local(body[0].tag) != 'Probe':
                continue
            types = ''.join(body[0].itertext())
            if types.strip() and 'NetworkVideoTransmitter' not in types:
                continue
            mid = ''
            for e in root.iter():
                if local(e.tag) == 'MessageID':
                    mid = (e.text or '').strip()
        except Exception:
            continue
        dev.note(op='Probe', peer=peer[0])
        reply = ('<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
                 'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
                 'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" '
                 'xmlns:dn="http://www.onvif.org/ver10/network/wsdl"><s:Header>'
                 '<a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</a:Action>'
                 '<a:MessageID>uuid:%s</a:MessageID><a:RelatesTo>%s</a:RelatesTo>'
                 '<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To></s:Header><s:Body>'
                 '<d:ProbeMatches><d:ProbeMatch><a:EndpointReference><a:Address>%s</a:Address></a:EndpointReference>'
                 '<d:Types>dn:NetworkVideoTransmitter</d:Types><d:Scopes>onvif://www.onvif.org/type/video_encoder '
                 'onvif://www.onvif.org/name/%s onvif://www.onvif.org/hardware/%s onvif://www.onvif.org/location/sim'
                 '</d:Scopes><d:XAddrs>http://%s:%d/onvif/device_service</d:XAddrs>'
                 '<d:MetadataVersion>1</d:MetadataVersion></d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>'
                 % (uuid.uuid4(), mid.replace('<', ''), urn, a.name.replace(' ', '%20'), a.hardware, a.xaddr_host,
                    http_port))
        s.sendto(reply.encode(), peer)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--bind', default='0.0.0.0')
    p.add_argument('--http-port', type=int, default=0)
    p.add_argument('--xaddr-host', default='0.0.0.0')
    p.add_argument('--no-discovery', action='store_true')
    p.add_argument('--mcast-if', default='0.0.0.0', help='interface address to join the group on')
    p.add_argument('--user', default='admin')
    p.add_argument('--password', default='secret')
    p.add_argument('--password-file')
    p.add_argument('--name', default='Reel Sim')
    p.add_argument('--hardware', default='REEL-SIM-1')
    p.add_argument('--rtsp-main', default='rtsp://127.0.0.1:8554/main')
    p.add_argument('--rtsp-sub', default='')
    p.add_argument('--motion', default='', help='e.g. on@3,off@6 (seconds after the first subscription)')
    p.add_argument('--topic', choices=('alarm', 'cell'), default='alarm')
    p.add_argument('--never-off', action='store_true')
    p.add_argument('--refuse-renew-once', action='store_true')
    p.add_argument('--slow-ms', type=int, default=0)
    p.add_argument('--skew-s', type=float, default=0.0, help='our clock minus the real one')
    p.add_argument('--term-s', type=int, default=60, help='subscription lifetime')
    p.add_argument('--zero-hosts', action='store_true', help='service addresses with host 0.0.0.0')
    p.add_argument('--log')
    a = p.parse_args()
    if a.password_file:
        a.password = open(a.password_file).read().strip()
    dev = Device(a)
    srv = Server((a.bind, a.http_port), Handler)
    srv.dev = dev
    port = srv.server_address[1]
    if not a.no_discovery:
        threading.Thread(target=discovery, args=(dev, port), daemon=True).start()
    print('READY port=%d' % port, flush=True)
    srv.serve_forever()


if __name__ == '__main__':
    main()
