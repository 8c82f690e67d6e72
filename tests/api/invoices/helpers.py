"""PUT for the invoice API tests."""


def put(client, path, json=None, **kw):
    """PUT with the token of an ``api(...)`` client and the If-Match of a GET just before."""
    return client.change("put", path, json, **kw)
