"""PUT for the invoice API tests."""
from tests.api.helpers import PREFIX


def put(client, path, json=None, **kw):
    """PUT with the token of an ``api(...)`` client (which only knows GET and POST)."""
    if json is not None:
        kw["json"] = json
    return client.client.put(PREFIX + path, headers=client.headers, **kw)
