#!/usr/bin/env python3
"""A SIP phone over TLS for the end-to-end tests (SIPp here is built without TLS).

usage: sip_tls_phone.py HOST:PORT CAFILE USER PASSWORD RTP_PORT

Connects to the B2BUA's TLS listener (verifying its certificate against CAFILE), sends
OPTIONS (expects 200), REGISTERs USER with Digest (401, then 200), then waits on the same
connection for one INVITE: answers 180 and 200 with PCMA on RTP_PORT, takes the ACK, and
answers the BYE. Exit 0 when all of that happened in order; prints what went wrong otherwise.
"""
import hashlib
import os
import re
import socket
import ssl
import sys

host, port = sys.argv[1].rsplit(":", 1)
cafile, user, password, rtp_port = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
ctx = ssl.create_default_context(cafile=cafile)
raw = socket.create_connection((host, int(port)), timeout=20)
sock = ctx.wrap_socket(raw, server_hostname=host)
local = "%s:%d" % sock.getsockname()[:2]
buf = b""


def read_message():
    global buf
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            sys.exit("connection closed")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    text = head.decode().replace("\r\n", "\n")
    m = re.search(r"^(?:Content-Length|l)\s*:\s*(\d+)", text, re.I | re.M)
    n = int(m.group(1)) if m else 0
    while len(rest) < n:
        rest += sock.recv(65536)
    body, buf = rest[:n], rest[n:]
    return text, body.decode()


def header(text, name):
    m = re.search(r"^%s\s*:\s*(.*)$" % re.escape(name), text, re.I | re.M)
    return m.group(1).strip() if m else ""


def send(msg):
    sock.sendall(msg.replace("\n", "\r\n").encode())


def request(method, cseq, extra="", uri=None):
    uri = uri or "sip:%s" % sys.argv[1]
    branch = "z9hG4bK" + os.urandom(6).hex()
    send(
        "%s %s SIP/2.0\nVia: SIP/2.0/TLS %s;branch=%s\nMax-Forwards: 70\n"
        "From: <sip:%s@%s>;tag=tls1\nTo: <sip:%s@%s>\nCall-ID: tlsphone-%s@test\n"
        "CSeq: %d %s\n%sContent-Length: 0\n\n"
        % (method, uri, local, branch, user, sys.argv[1], user, sys.argv[1], method, cseq, method, extra)
    )
    while True:
        text, _ = read_message()
        if not text.startswith("SIP/2.0 1"):
            return text


def status(text):
    return int(text.split()[1])


r = request("OPTIONS", 1)
if status(r) != 200:
    sys.exit("OPTIONS: " + r.splitlines()[0])
contact = "Contact: <sip:%s@%s;transport=tls>\nExpires: 300\n" % (user, local)
r = request("REGISTER", 2, contact)
if status(r) != 401:
    sys.exit("first REGISTER: " + r.splitlines()[0])
ch = header(r, "WWW-Authenticate")
realm = re.search(r'realm="([^"]*)"', ch).group(1)
nonce = re.search(r'nonce="([^"]*)"', ch).group(1)
uri = "sip:%s" % sys.argv[1]
ha1 = hashlib.md5(("%s:%s:%s" % (user, realm, password)).encode()).hexdigest()
ha2 = hashlib.md5(("REGISTER:%s" % uri).encode()).hexdigest()
cnonce, nc = "0a4f113b", "00000001"
resp = hashlib.md5(("%s:%s:%s:%s:auth:%s" % (ha1, nonce, nc, cnonce, ha2)).encode()).hexdigest()
auth = (
    'Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", '
    'algorithm=MD5, qop=auth, nc=%s, cnonce="%s"\n' % (user, realm, nonce, uri, resp, nc, cnonce)
)
r = request("REGISTER", 3, contact + auth)
if status(r) != 200:
    sys.exit("REGISTER with credentials: " + r.splitlines()[0])
print("registered", flush=True)

# The call: an INVITE on this connection.
text, body = read_message()
if not text.startswith("INVITE "):
    sys.exit("expected INVITE, got " + text.splitlines()[0])
if "SIP/2.0/TLS" not in header(text, "Via"):
    sys.exit("INVITE's Via is not TLS: " + header(text, "Via"))


def answer(text, code, reason, sdp=""):
    lines = ["SIP/2.0 %d %s" % (code, reason)]
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        for m in re.finditer(r"^%s\s*:.*$" % name, text, re.I | re.M):
            v = m.group(0)
            if name == "To" and "tag=" not in v:
                v += ";tag=tlsans"
            lines.append(v)
    lines.append("Contact: <sip:%s@%s;transport=tls>" % (user, local))
    if sdp:
        lines.append("Content-Type: application/sdp")
    lines.append("Content-Length: %d" % len(sdp))
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n" + sdp).encode())


answer(text, 180, "Ringing")
sdp = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio %s RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
    % rtp_port
)
answer(text, 200, "OK", sdp)
text, _ = read_message()
if not text.startswith("ACK "):
    sys.exit("expected ACK, got " + text.splitlines()[0])
text, _ = read_message()
if not text.startswith("BYE "):
    sys.exit("expected BYE, got " + text.splitlines()[0])
answer(text, 200, "OK")
print("call done", flush=True)
