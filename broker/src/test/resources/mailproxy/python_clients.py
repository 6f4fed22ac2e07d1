"""Python's own mail clients (imaplib, smtplib) against Postern's mail proxy, for MailProxyIntegrationTests.

usage: python_clients.py COMMAND HOST PORT CA_FILE USER PASSWORD [MARKER or FILE]
Prints what it saw and exits 0 when every step worked; a refused step raises and exits non-zero.
"""
import imaplib
import smtplib
import ssl
import sys

command, host, port, cafile, user, password = sys.argv[1:7]
port = int(port)
context = ssl.create_default_context(cafile=cafile)

if command == "imap-starttls-login":
    imap = imaplib.IMAP4(host, port, timeout=15)
    print("capabilities before TLS:", " ".join(imap.capabilities))
    imap.starttls(ssl_context=context)
    typ, _ = imap.login(user, password)
    print("LOGIN", typ)
    typ, data = imap.select("INBOX")
    print("SELECT", typ, data[0].decode())
    imap.logout()
elif command == "imap-authenticate-plain":
    imap = imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=15)
    # imaplib sends AUTHENTICATE PLAIN alone and the response after the server's "+": no SASL-IR.
    typ, _ = imap.authenticate("PLAIN", lambda challenge: ("\0%s\0%s" % (user, password)).encode())
    print("AUTHENTICATE", typ)
    typ, data = imap.list()
    print("LIST", typ, [line.decode() for line in data])
    imap.logout()
elif command == "smtps-auth-login":
    marker = sys.argv[7]
    smtp = smtplib.SMTP_SSL(host, port, context=context, timeout=15)
    smtp.ehlo()
    smtp.user, smtp.password = user, password
    code, _ = smtp.auth("LOGIN", smtp.auth_login, initial_response_ok=False)
    print("AUTH LOGIN", code)
    message = "From: %s\r\nTo: bob@example.test\r\nSubject: %s\r\n\r\nsent through Postern's proxy by smtplib\r\n" % (user, marker)
    smtp.sendmail(user, ["bob@example.test"], message)
    smtp.quit()
elif command == "imap-starttls-fetch-sha256":
    # The first message of INBOX, byte for byte, as its SHA-256.
    import hashlib
    imap = imaplib.IMAP4(host, port, timeout=120)
    imap.starttls(ssl_context=context)
    imap.login(user, password)
    imap.select("INBOX", readonly=True)
    typ, data = imap.fetch("1", "(BODY.PEEK[])")
    print("FETCH", typ, "SHA256", hashlib.sha256(data[0][1]).hexdigest(), "BYTES", len(data[0][1]))
    imap.logout()
elif command == "smtp-starttls-send-file":
    path = sys.argv[7]
    smtp = smtplib.SMTP(host, port, timeout=120)
    smtp.starttls(context=context)
    code, _ = smtp.login(user, password)
    print("LOGIN", code)
    with open(path, "rb") as f:
        smtp.sendmail(user, ["bob@example.test"], f.read())
    smtp.quit()
else:
    sys.exit("unknown command " + command)
print("DONE")
