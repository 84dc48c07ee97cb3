#!/usr/bin/env python3
"""Seed each fuzz target's corpus (tests/fuzz/corpus/<target>/) from the repository's own
examples: the compat-specs cases (request lines, headers, bodies), the SIPp scenarios' SDP,
and a few documents of each kind the specs describe. Run from anywhere; idempotent."""

import hashlib
import os
import re
import struct
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
ROOT = FUZZ.parent.parent
CORPUS = FUZZ / "corpus"


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


# Which byte `vendor_queries` reads as its parser pick, by path prefix.
PICKS = [
    ("/user/c", 0), ("/ipps/channelinfo", 2), ("/ipps/queueactive", 3), ("/pbxws.php", 4),
    ("/pbx/3pcc", 5), ("/api/v1/cdrs", 8), ("/api/v1/", 7),
]

for case in sorted((ROOT / "compat-specs").glob("*/cases/*.request")):
    raw = case.read_bytes()
    head, _, body = raw.partition(b"\n\n")
    lines = head.decode("utf-8", "replace").splitlines()
    if not lines:
        continue
    parts = lines[0].split(" ")
    if len(parts) < 2:
        continue
    target = parts[1]
    path, _, query = target.partition("?")
    vendor = case.parent.parent.name
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "authorization":
            put("auth_headers", v.strip())
    if vendor == "brekeke" and path.startswith("/pbx/services/") and body:
        put("soap", body)
    if vendor == "sipx":
        if body:
            put("sipx_bodies", body)
        if path.startswith("/callcontroller/"):
            put("sipx_bodies", path[len("/callcontroller/"):].encode() + b"\0" + query.encode())
    if vendor == "ozeki":
        put("vendor_queries", bytes([6]) + query.encode() + b"\0" + body)
        if body.lstrip().startswith(b"<"):
            put("ozeki_bodies", body)
    for prefix, pick in PICKS:
        if path.startswith(prefix):
            rest = query if pick not in (4, 7) else target[len(prefix):].lstrip("/")
            put("vendor_queries", bytes([pick]) + rest.encode() + b"\0" + body)
            break

# SDP offers and answers of the SIPp scenarios (with SIPp's keywords filled in).
for xml in sorted((ROOT / "loadtest" / "sipp").glob("*.xml")):
    for m in re.finditer(r"(v=0.*?)(?:\]\]>)", xml.read_text(), re.S):
        sdp = re.sub(r"\[[^\]]+\]", "127.0.0.1", m.group(1).strip())
        sdp = re.sub(r"127\.0\.0\.1(?=\s+RTP)", "4000", sdp)
        put("sdp", "\r\n".join(l.strip() for l in sdp.splitlines()) + "\r\n")
put("sdp", "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\n")

# OzML programs and Ozeki extension configs.
for doc in [
    '<?xml version="1.0"?><Response><Speak>Hello</Speak><Play>http://x/a.wav</Play>'
    '<UserInput Timeout="5" Repeat="2"><InitialCommands><Speak>Press 1</Speak></InitialCommands>'
    '<Inputs><Input Key="1"><Forward>4007</Forward></Input></Inputs></UserInput><Hangup/></Response>',
    '<Response><Route Destination="4009"/></Response>',
    '<Response><Record FinishedUrl="http://x/r" Duration="10"/><Call>4007</Call></Response>',
    '<Response><Speak><![CDATA[a & b]]></Speak></Response>',
]:
    put("ozeki_bodies", doc)

# Credentials.
for h in [
    "Basic ZGVtby1rZXk6ZGVtby1zZWNyZXQ=", "Bearer eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIn0.e30.x",
    'Digest username="4005", realm="demo", nonce="abc", uri="/callcontroller/4005/4007", '
    'response="0123456789abcdef0123456789abcdef", qop=auth, nc=00000001, cnonce="c", algorithm=MD5',
    'Digest username="a",realm="b",nonce="c",uri="/",response="d",algorithm=SHA-256',
]:
    put("auth_headers", h)

# CTI replies, then template \0 value.
for doc in [
    "<ipbx><route>4009</route><calleridname>VIP</calleridname><acc_code2>P7</acc_code2>"
    "<record>yes</record></ipbx>",
    '<?xml version="1.0"?>\n<IPBX><calleridnumber>unknown</calleridnumber><record/></IPBX>',
    "http://crm/?n=%%calleridname%%&e=%%exten%%&x=%%other%%\0Jane Doe & Co\n",
]:
    put("cti_reply", doc)

# RTP: length-prefixed packets (PCMU audio, an RFC 4733 event, padding, an extension).
def rtp(pt, seq, payload, marker=False, x=False, pad=0, cc=0):
    b0 = 0x80 | (0x10 if x else 0) | (0x20 if pad else 0) | cc
    h = struct.pack("!BBHII", b0, pt | (0x80 if marker else 0), seq, seq * 160, 0x1234)
    h += b"\0\0\0\1" * cc
    if x:
        h += struct.pack("!HH", 0xBEDE, 1) + b"\0\0\0\0"
    return h + payload + (b"\0" * (pad - 1) + bytes([pad]) if pad else b"")

pkts = [rtp(0, 1, b"\xff" * 160), rtp(101, 2, b"\x05\x0a\x00\xa0", marker=True),
        rtp(101, 3, b"\x05\x8a\x03\x20"), rtp(8, 4, b"\xd5" * 40, x=True, pad=4, cc=2)]
put("rtp", b"".join(bytes([min(len(p), 255)]) + p[:255] for p in pkts))
for p in pkts:
    put("rtp", p)

print({d.name: len(os.listdir(d)) for d in sorted(CORPUS.iterdir())})
