"""A small front for the moto server that serves the AWS API calls moto lacks and
forwards everything else to moto unchanged. The harness points only the services that
need it (see MOTO_GAPS in scripts/infra/test.sh) at this front, in the provider override
file; the modules are not changed.

Served here, because moto answers them with 404:
  API Gateway v2 deployments: CreateDeployment, GetDeployment, GetDeployments,
  UpdateDeployment, DeleteDeployment (POST/GET/PATCH/DELETE /v2/apis/{apiId}/deployments...).
  A deployment is a snapshot AWS takes of routes and integrations; for an emulator an id,
  a description and DEPLOYED status are the whole observable state.

Completed here: API Gateway v2 stages. moto accepts a stage's deploymentId but does not
return it from CreateStage/GetStage/UpdateStage, so every plan would want to set it
again; the front remembers it and adds it to moto's answers.

Completed here: API Gateway (REST) UpdateAccount. On destroy, aws provider 6.x resets the
account's CloudWatch role with a patch operation that carries no value; moto reads a value
from every operation and answers 500, which the provider retries for minutes. The front
sends moto the equivalent `replace` with an empty value.

Completed here: S3 CreateBucket with tags. aws provider 6.x sends a new bucket's tags in
the CreateBucket request (CreateBucketConfiguration/Tags); moto 5.2.5 ignores them, so
every plan would want to add them again. The front forwards the request and then sets the
same tags with PutBucketTagging.

Completed here: SQS GetQueueAttributes (JSON protocol). moto returns a queue's
RedrivePolicy as JSON with spaces after the separators; the aws provider compares it with the
compact JSON it sent and plans a whitespace-only update on every plan. The front hands the
provider the policy in compact form, as SQS does.

Usage: python moto_gaps.py <listen-port> <moto-url>
"""

import datetime
import json
import random
import re
import string
import sys
import threading
import urllib.error
import urllib.request
import xml.etree.ElementTree as ElementTree
from xml.sax.saxutils import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEPLOYMENTS_PATH = re.compile(r"^/v2/apis/([^/]+)/deployments/?([^/?]*)")
STAGES_PATH = re.compile(r"^/v2/apis/([^/]+)/stages/?([^/?]*)")
_lock = threading.Lock()
_deployments = {}  # (api_id, deployment_id) -> deployment
_stage_deployments = {}  # (api_id, stage_name) -> deployment id


def _new_id():
    return "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(10))


class Front(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    moto_url = ""

    def log_message(self, fmt, *args):  # quiet: the harness keeps moto's own log
        pass

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status, payload=None):
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", _new_id())
        self.end_headers()
        self.wfile.write(data)

    def _deployments(self, api_id, deployment_id, body):
        method = self.command
        with _lock:
            if method == "POST" and not deployment_id:
                params = json.loads(body or b"{}")
                dep = {
                    "deploymentId": _new_id(),
                    "deploymentStatus": "DEPLOYED",
                    "createdDate": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                    "autoDeployed": False,
                }
                if params.get("description") is not None:
                    dep["description"] = params["description"]
                _deployments[(api_id, dep["deploymentId"])] = dep
                return self._send(201, dep)
            if method == "GET" and not deployment_id:
                items = [d for (a, _), d in _deployments.items() if a == api_id]
                return self._send(200, {"items": items})
            dep = _deployments.get((api_id, deployment_id))
            if dep is None:
                return self._send(404, {"message": f"Invalid Deployment identifier specified {deployment_id}"})
            if method == "GET":
                return self._send(200, dep)
            if method == "PATCH":
                params = json.loads(body or b"{}")
                if "description" in params:
                    dep["description"] = params["description"]
                return self._send(200, dep)
            if method == "DELETE":
                del _deployments[(api_id, deployment_id)]
                return self._send(204)
        return self._send(405, {"message": f"{method} not supported on deployments"})

    def _stage_answer(self, api_id, stage_name, body, status, data):
        """Records a stage's deploymentId from the request and puts it in moto's answer."""
        try:
            params = json.loads(body) if body else {}
        except ValueError:
            params = {}
        name = stage_name or params.get("stageName", "")
        with _lock:
            if self.command == "DELETE":
                _stage_deployments.pop((api_id, name), None)
                return data
            if self.command in ("POST", "PATCH") and params.get("deploymentId") and status < 300:
                _stage_deployments[(api_id, name)] = params["deploymentId"]
            if status >= 300 or not data:
                return data
            try:
                answer = json.loads(data)
            except ValueError:
                return data
            stages = answer.get("items") if isinstance(answer.get("items"), list) else [answer]
            for stage in stages:
                known = _stage_deployments.get((api_id, stage.get("stageName", name)))
                if known and not stage.get("deploymentId"):
                    stage["deploymentId"] = known
            return json.dumps(answer).encode()

    def _forward(self, body):
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        req = urllib.request.Request(self.moto_url + self.path, data=body if body else None,
                                     headers=headers, method=self.command)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                status, resp_headers, data = resp.status, resp.getheaders(), resp.read()
        except urllib.error.HTTPError as err:
            status, resp_headers, data = err.code, err.headers.items(), err.read()
        path = self.path.split("?")[0]
        if (self.command == "PUT" and status == 200 and "?" not in self.path
                and path.count("/") == 1 and len(path) > 1):
            tags = self._create_bucket_tags(body)
            if tags:
                self._put_bucket_tags(path, tags)
        stage = STAGES_PATH.match(self.path)
        if stage:
            data = self._stage_answer(stage.group(1), stage.group(2), body, status, data)
        if status == 200 and self.headers.get("X-Amz-Target", "").endswith(".GetQueueAttributes"):
            data = self._compact_redrive(data)
        self.send_response(status)
        for key, value in resp_headers:
            if key.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _create_bucket_tags(self, body):
        """The tags of a CreateBucket request body, as (key, value) pairs."""
        if not body or b"Tag" not in body:
            return []
        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError:
            return []
        tags = []
        for element in root.iter():
            if element.tag.split("}")[-1] != "Tag":
                continue
            fields = {child.tag.split("}")[-1]: child.text or "" for child in element}
            if "Key" in fields:
                tags.append((fields["Key"], fields.get("Value", "")))
        return tags

    def _put_bucket_tags(self, bucket_path, tags):
        xml = "<Tagging><TagSet>" + "".join(
            f"<Tag><Key>{escape(key)}</Key><Value>{escape(value)}</Value></Tag>" for key, value in tags
        ) + "</TagSet></Tagging>"
        headers = {"Authorization": self.headers.get("Authorization", ""), "Content-Type": "application/xml"}
        req = urllib.request.Request(self.moto_url + bucket_path + "?tagging", data=xml.encode(),
                                     headers=headers, method="PUT")
        with urllib.request.urlopen(req, timeout=60) as resp:
            resp.read()

    @staticmethod
    def _compact_redrive(data):
        """RedrivePolicy and RedriveAllowPolicy as compact JSON, as SQS returns them."""
        try:
            answer = json.loads(data)
            attributes = answer.get("Attributes") or {}
            for key in ("RedrivePolicy", "RedriveAllowPolicy"):
                if isinstance(attributes.get(key), str):
                    attributes[key] = json.dumps(json.loads(attributes[key]), separators=(",", ":"))
            return json.dumps(answer).encode()
        except (ValueError, AttributeError):
            return data

    def _account_patch(self, body):
        """Turns value-less operations (a reset) into `replace` with an empty value."""
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            return body
        for op in params.get("patchOperations") or []:
            if "value" not in op:
                op["op"], op["value"] = "replace", ""
        return json.dumps(params).encode()

    def _handle(self):
        body = self._body()
        if self.command == "PATCH" and self.path.split("?")[0].rstrip("/") == "/account":
            body = self._account_patch(body)
        match = DEPLOYMENTS_PATH.match(self.path)
        if match:
            return self._deployments(match.group(1), match.group(2), body)
        return self._forward(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


def main():
    port, moto_url = int(sys.argv[1]), sys.argv[2].rstrip("/")
    Front.moto_url = moto_url
    server = ThreadingHTTPServer(("127.0.0.1", port), Front)
    print(f"moto front on http://127.0.0.1:{port} -> {moto_url}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
