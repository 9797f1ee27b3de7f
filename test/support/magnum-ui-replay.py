# magnum-ui's REST layer (test/vendor/magnum-ui: magnum_ui/api/rest/magnum.py and the
# magnum_ui/api/magnum.py it calls), run unchanged outside Horizon: what the dashboard's
# JavaScript asks of it comes in as JSON lines on stdin, one view call each
#   {"view": "Clusters", "method": "post", "kwargs": {...url args}, "data": <JSON body>, "query": {...}}
# and the view's answer goes out as one JSON line, as Horizon's rest_utils.ajax would send it
#   {"status": 201, "body": <JSON>, "location": "..."}.
# The views call python-magnumclient (first on PYTHONPATH: the vendored current source), which
# sends the real requests to the Magnum endpoint in MAGNUM_UI_ENDPOINT with the token in
# MAGNUM_UI_TOKEN, as Horizon's catalog and session would give them.
#
# Only Django and Horizon are stand-ins (below): settings without MAGNUM/OPENSTACK options (so
# the defaults apply, e.g. DEFAULT_API_VERSION), the catalog lookup, the ajax decorator.
import json
import os
import sys
import types
import traceback

ENDPOINT = os.environ["MAGNUM_UI_ENDPOINT"]
TOKEN = os.environ["MAGNUM_UI_TOKEN"]


def module(name, **attrs):
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    sys.modules[name] = m
    return m


# ---------------------------------------------------------------- Django stand-ins

class HttpResponse:
    def __init__(self, content="", status=200, content_type="application/json"):
        self.content = content
        self.status_code = status
        self.headers = {}


class HttpResponseNotFound(HttpResponse):
    def __init__(self, content=""):
        super().__init__(content, 404)


class View:
    pass


module("django")
module("django.conf", settings=types.SimpleNamespace())  # no MAGNUM_*/OPENSTACK_* settings
module("django.http", HttpResponse=HttpResponse, HttpResponseNotFound=HttpResponseNotFound)
module("django.views")
module("django.views.generic", View=View)

# ---------------------------------------------------------------- Horizon stand-ins


class ServiceCatalogException(Exception):
    pass


class BadRequest(Exception):
    http_status = 400


_memo = {}


def memoized(fn):
    # Horizon memoizes per argument (the Django request): one client per dashboard request
    def wrapper(*args):
        key = (fn, *map(id, args))
        if key not in _memo:
            _memo[key] = (args, fn(*args))  # args kept so their ids stay unique
        return _memo[key][1]
    return wrapper


def url_for(request, service_type):
    assert service_type == "container-infra", service_type
    return ENDPOINT


class CreatedResponse(HttpResponse):
    # Horizon's rest_utils.CreatedResponse: 201, Location, the JSON body
    def __init__(self, location, data=None):
        super().__init__(data, 201)
        self.headers["Location"] = location


def ajax(authenticated=True, data_required=False, json_encoder=None):
    # Horizon's rest_utils.ajax: JSON body → request.DATA, None → 204, an error's http_status
    def decorator(function):
        def wrapped(self, request, *args, **kw):
            request.DATA = request.body
            if data_required and not request.DATA:
                return HttpResponse("request requires JSON body", 400)
            try:
                data = function(self, request, *args, **kw)
                if isinstance(data, HttpResponse):
                    return data
                if data is None:
                    return HttpResponse("", 204)
                return HttpResponse(data, 200)
            except Exception as e:  # Horizon: http_status, code or status_code, else 500
                for attr in ("http_status", "code", "status_code"):
                    if isinstance(getattr(e, attr, None), int):
                        return HttpResponse(str(e), getattr(e, attr))
                return HttpResponse(str(e), 500)
        return wrapped
    return decorator


module("horizon")
module("horizon.exceptions", ServiceCatalogException=ServiceCatalogException, BadRequest=BadRequest)
module("horizon.utils")
module("horizon.utils.memoized", memoized=memoized)
module("openstack_dashboard")
module("openstack_dashboard.api")
module("openstack_dashboard.api.base", url_for=url_for)
module("openstack_dashboard.api.neutron")  # only the Networks view uses it, not replayed
module("openstack_dashboard.api.rest")
module("openstack_dashboard.api.rest.urls", register=lambda cls: cls)
module("openstack_dashboard.api.rest.utils", ajax=ajax, CreatedResponse=CreatedResponse)

# ---------------------------------------------------------------- python-magnumclient
#
# magnum-ui (its master, requiring python-magnumclient >= 4.9.0) and the client's master
# disagree in two places; released clients up to 4.11.0 have both, and send the same requests
# as the master does (its HTTPClient is unchanged since). The two are given back here:
#  - Client(input_auth_token=...) is 4.11.0's name for auth_token (master 3a584aa removed it);
#  - clusters.list(limit, marker, sort_key, sort_dir, detail) takes positional arguments
#    (master 9d2b5bd made it **kwargs only).
from magnumclient.v1 import client as magnum_client  # noqa: E402
from magnumclient.v1 import clusters as magnum_clusters  # noqa: E402

_Client = magnum_client.Client


class Client(_Client):
    def __init__(self, *args, input_auth_token=None, **kwargs):
        if input_auth_token:
            kwargs["auth_token"] = input_auth_token
        super().__init__(*args, **kwargs)


magnum_client.Client = Client
_list = magnum_clusters.ClusterManager.list


def _positional_list(self, limit=None, marker=None, sort_key=None, sort_dir=None, detail=False):
    return _list(self, limit=limit, marker=marker, sort_key=sort_key, sort_dir=sort_dir, detail=detail)


magnum_clusters.ClusterManager.list = _positional_list

from magnum_ui.api.rest import magnum as rest  # noqa: E402


class Request:
    def __init__(self, data, query):
        self.body = data
        self.GET = query
        self.user = types.SimpleNamespace(
            username=os.environ.get("MAGNUM_UI_USER", "demo"),
            tenant_id=os.environ.get("MAGNUM_UI_PROJECT", ""),
            token=types.SimpleNamespace(id=TOKEN),
        )


def call(line):
    req = json.loads(line)
    view = getattr(rest, req["view"])()
    request = Request(req.get("data"), req.get("query", {}))
    res = getattr(view, req["method"])(request, **req.get("kwargs", {}))
    out = {"status": res.status_code, "body": res.content}
    if "Location" in res.headers:
        out["location"] = res.headers["Location"]
    return out


for line in sys.stdin:
    if not line.strip():
        continue
    try:
        out = call(line)
    except Exception:  # a bug of the replay itself, not an answer of the view
        out = {"status": -1, "body": traceback.format_exc()}
    sys.stdout.write(json.dumps(out, default=str) + "\n")
    sys.stdout.flush()
