"""POSTs a body of N zero bytes the way a plain Python client does, and prints what it read as JSON.

Usage: post_body.py urllib|requests URL CONTENT_TYPE BYTES

Both clients write the whole body before they read the answer (no Expect: 100-continue), so a server
that answers early and closes gives them a reset instead of the answer. Prints
{"status": int, "content_type": str, "body": str} or {"error": "<exception class>: <message>"}.
"""
import json
import sys


def with_urllib(url, content_type, body):
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, res.headers.get("Content-Type", ""), res.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type", ""), err.read().decode()


def with_requests(url, content_type, body):
    import requests

    res = requests.post(url, data=body, headers={"Content-Type": content_type}, timeout=30)
    return res.status_code, res.headers.get("Content-Type", ""), res.text


def main():
    client, url, content_type, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    send = {"urllib": with_urllib, "requests": with_requests}[client]
    try:
        status, ctype, text = send(url, content_type, b"\0" * size)
        print(json.dumps({"status": status, "content_type": ctype, "body": text}))
    except Exception as err:  # the point of the script is to report what the client saw
        print(json.dumps({"error": f"{type(err).__name__}: {err}"}))


if __name__ == "__main__":
    main()
